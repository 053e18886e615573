"""10,000 QoS 0 publishes: ``mqttc.publish`` against raw paho-mqtt, same broker, one run.

Each side runs in its own fresh interpreter, ``ROUNDS`` times, alternating. A side
connects first (not timed), then publishes ``MESSAGES`` messages and waits until
the last one is written to the socket (paho's ``wait_for_publish`` on the last
message for raw paho, ``mqttc.flush`` for ours), so both measure the time to hand
every message to the network.

- **raw paho**: ``client.publish(topic, orjson.dumps(message))``, the same message.
- **raw paho, envelope-sized**: the same, with the message plus fixed ``headers`` and
  ``resource`` (what mqttc sends, without generating the headers): it separates
  the cost of the larger payload from mqttc's own work.
- **mqttc**: ``mqttc.publish(key, topic, message)``, with the Envoxy envelope
  (a copy of the message plus generated ``headers`` and ``resource``).
- **mqttc no_envelope**: ``mqttc.publish(..., no_envelope=True)``.

The broker is ``ENVOXY_TEST_MQTT_URL`` (default ``mqtt://127.0.0.1:1883``, the
Mosquitto of ``tools/services``). Goal: mqttc at least 0.9x raw paho.
"""

import os
import uuid
from urllib.parse import urlsplit

from harness import Throughput, config_env, print_table, run_rounds, workspace_python

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
if {sized}:
    message = {{**message, "resource": {topic!r}, "headers": {{
        "Accept": "application/json", "Accept-Charset": "utf-8",
        "Date": "2024-01-01T00:00:00.000+0000", "User-Agent": "Envoxy Server",
        "X-Cid": "00000000-0000-4000-8000-000000000000"}}}}
client.publish({topic!r}, orjson.dumps(message)).wait_for_publish(10)
start = time.perf_counter()
cpu_start = time.thread_time()
for _ in range({count}):
    info = client.publish({topic!r}, orjson.dumps(message))
info.wait_for_publish(60)
elapsed = time.perf_counter() - start
cpu = time.thread_time() - cpu_start
client.disconnect()
client.loop_stop()
print(json.dumps([elapsed, cpu]))
"""

_OURS = """
import json, time
from envoxy.mqtt import mqttc

message = {message!r}
assert mqttc.publish("bench", {topic!r}, message, no_envelope={no_envelope})
assert mqttc.flush("bench", 10)
start = time.perf_counter()
cpu_start = time.thread_time()
for _ in range({count}):
    mqttc.publish("bench", {topic!r}, message, no_envelope={no_envelope})
assert mqttc.flush("bench", 60)
elapsed = time.perf_counter() - start
cpu = time.thread_time() - cpu_start
mqttc.close()
print(json.dumps([elapsed, cpu]))
"""


def main() -> None:
    """Measure the three sides and print throughput and the ratio to raw paho."""
    url = os.environ.get("ENVOXY_TEST_MQTT_URL", "mqtt://127.0.0.1:1883")
    parts = urlsplit(url)
    topic = f"envoxy-bench/mqtt/{uuid.uuid4().hex[:8]}"
    scripts = {
        "raw paho": _raw_script(parts.hostname, parts.port, topic, sized=False),
        "raw paho, envelope-sized": _raw_script(parts.hostname, parts.port, topic, sized=True),
        "mqttc": _OURS.format(topic=topic, count=MESSAGES, message=_MESSAGE, no_envelope=False),
        "mqttc no_envelope": _OURS.format(
            topic=topic, count=MESSAGES, message=_MESSAGE, no_envelope=True
        ),
    }
    with config_env({"mqtt_servers": {"bench": {"bind": url}}}) as env:
        outputs = run_rounds(
            {side: (workspace_python(), code) for side, code in scripts.items()},
            ROUNDS,
            env=env,
            timeout=120,
        )
    sides = Throughput.of(outputs, MESSAGES)
    raw = sides["raw paho"]
    print_table(
        f"{MESSAGES:,} QoS 0 publishes, {ROUNDS} fresh interpreters per side ({url})",
        ["side", "median msgs/s", "best msgs/s", "caller CPU/msg", "vs raw (wall)", "vs raw (CPU)"],
        [
            [*measured.row(side, raw.median), f"{raw.cpu_us / measured.cpu_us:.2f}x"]
            for side, measured in sides.items()
        ],
    )
    rate = {side: measured.median for side, measured in sides.items()}
    same_bytes = rate["mqttc"] / rate["raw paho, envelope-sized"]
    plain = rate["mqttc no_envelope"] / rate["raw paho"]
    verdict = "meets" if min(same_bytes, plain) >= GOAL_RATIO else "MISSES"
    print(
        f"\nthroughput vs raw paho sending the same bytes: mqttc {same_bytes:.2f}x (envelope), "
        f"mqttc no_envelope {plain:.2f}x: {verdict} the {GOAL_RATIO}x goal.\n"
        f"mqttc with the envelope vs raw paho with the bare message: "
        f"{rate['mqttc'] / rate['raw paho']:.2f}x (the envelope is ~3.5x larger on the wire).\n"
        "Wall-clock rates swing with machine and broker load; the CPU column is steadier."
    )


def _raw_script(host: str | None, port: int | None, topic: str, *, sized: bool) -> str:
    return _RAW.format(
        host=host or "127.0.0.1",
        port=port or 1883,
        topic=topic,
        count=MESSAGES,
        message=_MESSAGE,
        sized=sized,
    )


if __name__ == "__main__":
    main()
