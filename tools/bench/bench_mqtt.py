"""10,000 QoS 0 publishes: ``mqttc.publish`` against raw paho-mqtt, same broker, one run.

Each side runs in its own fresh interpreter, ``ROUNDS`` times, alternating. A side
connects first (not timed), then publishes ``MESSAGES`` messages and waits until
the last one is written to the socket (paho's ``wait_for_publish`` on the last
message for raw paho, ``mqttc.flush`` for ours), so both measure the time to hand
every message to the network.

- **raw paho**: ``client.publish(topic, orjson.dumps(message))``, the same message.
- **mqttc**: ``mqttc.publish(key, topic, message)``, with the Envoxy envelope
  (a copy of the message plus generated ``headers`` and ``resource``).
- **mqttc no_envelope**: ``mqttc.publish(..., no_envelope=True)``.

The broker is ``ENVOXY_TEST_MQTT_URL`` (default ``mqtt://127.0.0.1:1883``, the
Mosquitto of ``tools/services``). Goal: mqttc at least 0.9x raw paho.
"""

import json
import os
import statistics
import tempfile
import textwrap
import uuid
from urllib.parse import urlsplit

from harness import print_table, run_script, workspace_python

__all__ = ["GOAL_RATIO", "MESSAGES", "ROUNDS", "main"]

#: Messages published per round.
MESSAGES = 10_000
#: Fresh-interpreter rounds per side.
ROUNDS = 5
#: mqttc throughput / raw paho throughput we aim for.
GOAL_RATIO = 0.9

_MESSAGE = {"device": "lamp-42", "state": "on", "level": 73, "tags": ["kitchen", "ceiling"]}

_RAW = """
import json, threading, time
import orjson
import paho.mqtt.client as paho

connected = threading.Event()
client = paho.Client(paho.CallbackAPIVersion.VERSION2)
client.on_connect = lambda *args: connected.set()
client.connect({host!r}, {port})
client.loop_start()
assert connected.wait(10), "no connection"
message = {message!r}
client.publish({topic!r}, orjson.dumps(message)).wait_for_publish(10)
start = time.perf_counter()
for _ in range({count}):
    info = client.publish({topic!r}, orjson.dumps(message))
info.wait_for_publish(60)
elapsed = time.perf_counter() - start
client.disconnect()
client.loop_stop()
print(json.dumps({{"elapsed": elapsed}}))
"""

_OURS = """
import json, time
from envoxy.mqtt import mqttc

message = {message!r}
assert mqttc.publish("bench", {topic!r}, message, no_envelope={no_envelope})
assert mqttc.flush("bench", 10)
start = time.perf_counter()
for _ in range({count}):
    mqttc.publish("bench", {topic!r}, message, no_envelope={no_envelope})
assert mqttc.flush("bench", 60)
elapsed = time.perf_counter() - start
mqttc.close()
print(json.dumps({{"elapsed": elapsed}}))
"""


def main() -> None:
    """Measure the three sides and print throughput and the ratio to raw paho."""
    url = os.environ.get("ENVOXY_TEST_MQTT_URL", "mqtt://127.0.0.1:1883")
    parts = urlsplit(url)
    topic = f"envoxy-bench/mqtt/{uuid.uuid4().hex[:8]}"
    with tempfile.TemporaryDirectory() as directory:
        config = os.path.join(directory, "envoxy.json")
        with open(config, "w") as handle:
            json.dump({"mqtt_servers": {"bench": {"bind": url}}, "log": {"level": 3}}, handle)
        scripts = {
            "raw paho": _RAW.format(
                host=parts.hostname,
                port=parts.port or 1883,
                topic=topic,
                count=MESSAGES,
                message=_MESSAGE,
            ),
            "mqttc": _OURS.format(topic=topic, count=MESSAGES, message=_MESSAGE, no_envelope=False),
            "mqttc no_envelope": _OURS.format(
                topic=topic, count=MESSAGES, message=_MESSAGE, no_envelope=True
            ),
        }
        samples: dict[str, list[float]] = {side: [] for side in scripts}
        for _ in range(ROUNDS):
            for side, code in scripts.items():
                output = run_script(
                    workspace_python(), textwrap.dedent(code), env={"ENVOXY_CONFIG": config}
                )
                samples[side].append(MESSAGES / json.loads(output.splitlines()[-1])["elapsed"])
    raw = statistics.median(samples["raw paho"])
    rows = []
    for side, rates in samples.items():
        median = statistics.median(rates)
        rows.append([side, f"{median:,.0f}", f"{max(rates):,.0f}", f"{median / raw:.2f}x"])
    print_table(
        f"{MESSAGES:,} QoS 0 publishes, {ROUNDS} fresh interpreters per side ({url})",
        ["side", "median msgs/s", "best msgs/s", "vs raw paho (median)"],
        rows,
    )
    ours = statistics.median(samples["mqttc"]) / raw
    verdict = "meets" if ours >= GOAL_RATIO else "MISSES"
    print(f"\nmqttc.publish reaches {ours:.2f}x raw paho: {verdict} the {GOAL_RATIO}x goal")


if __name__ == "__main__":
    main()
