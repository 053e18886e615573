"""10,000 ZeroMQ request/reply round trips: ``zmqc.get`` against a raw pyzmq REQ socket.

Both sides talk to the same REP peer, a separate process that answers every
request with the same small JSON reply in the "Zapata" framing ``[b"", json]``.
Each side runs in its own fresh interpreter, ``ROUNDS`` times, alternating; the
first request (connection set-up) is not timed.

- **raw pyzmq**: one REQ socket; per call ``send_multipart([b"", orjson.dumps(request)])``
  of a prepared request dict, then ``orjson.loads`` of the reply's last frame.
- **zmqc.get**: ``zmqc.get(key, url, params=...)``: builds the envelope with fresh
  headers, borrows a pooled socket, applies the per-attempt timeout, cleans the reply.

Goal: zmqc at least 0.9x raw pyzmq.
"""

import os
import subprocess
import textwrap

from harness import REPO_ROOT, Throughput, config_env, print_table, run_rounds, workspace_python

__all__ = ["GOAL_RATIO", "ROUNDS", "ROUND_TRIPS", "main"]

#: Round trips per round.
ROUND_TRIPS = 10_000
#: Fresh-interpreter rounds per side.
ROUNDS = 5
#: zmqc throughput / raw pyzmq throughput we aim for.
GOAL_RATIO = 0.9

_PEER = """
import sys
import zmq

context = zmq.Context()
socket = context.socket(zmq.REP)
port = socket.bind_to_random_port("tcp://127.0.0.1")
print(port, flush=True)
reply = [b"", b'{"status":200,"resource":"/v3/bench","payload":{"elements":[1,2,3]}}']
while True:
    socket.recv_multipart()
    socket.send_multipart(reply)
"""

_RAW = """
import json, time
import orjson
import zmq

context = zmq.Context()
socket = context.socket(zmq.REQ)
socket.linger = 0
socket.connect("tcp://127.0.0.1:{port}")
request = {{
    "resource": "/v3/bench",
    "headers": {{"Accept": "application/json", "Accept-Charset": "utf-8",
                "Date": "2024-01-01T00:00:00.000+0000", "User-Agent": "Envoxy Server",
                "X-Cid": "00000000-0000-4000-8000-000000000000"}},
    "params": {{"page": 1}},
    "payload": None,
    "performative": 0,
}}

def call():
    socket.send_multipart([b"", orjson.dumps(request)])
    return orjson.loads(socket.recv_multipart()[-1])

call()
start = time.perf_counter()
cpu_start = time.thread_time()
for _ in range({count}):
    call()
elapsed = time.perf_counter() - start
cpu = time.thread_time() - cpu_start
socket.close()
context.term()
print(json.dumps([elapsed, cpu]))
"""

_OURS = """
import json, time
from envoxy.zeromq import zmqc

zmqc.get("bench", "/v3/bench", params={{"page": 1}})
start = time.perf_counter()
cpu_start = time.thread_time()
for _ in range({count}):
    zmqc.get("bench", "/v3/bench", params={{"page": 1}})
elapsed = time.perf_counter() - start
cpu = time.thread_time() - cpu_start
zmqc.close()
print(json.dumps([elapsed, cpu]))
"""


def main() -> None:
    """Start the peer, measure both sides, print throughput and the ratio to raw pyzmq."""
    peer = subprocess.Popen(
        [os.fspath(workspace_python()), "-P", "-c", textwrap.dedent(_PEER)],
        cwd=REPO_ROOT,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert peer.stdout is not None
        port = int(peer.stdout.readline())
        scripts = {
            "raw pyzmq": _RAW.format(port=port, count=ROUND_TRIPS),
            "zmqc.get": _OURS.format(count=ROUND_TRIPS),
        }
        config = {"zmq_servers": {"bench": {"host": "127.0.0.1", "port": port}}}
        with config_env(config) as env:
            outputs = run_rounds(
                {side: (workspace_python(), code) for side, code in scripts.items()},
                ROUNDS,
                env=env,
                timeout=120,
            )
    finally:
        peer.kill()
        peer.wait()
    sides = Throughput.of(outputs, ROUND_TRIPS)
    raw, ours = sides["raw pyzmq"], sides["zmqc.get"]
    print_table(
        f"{ROUND_TRIPS:,} request/reply round trips, {ROUNDS} fresh interpreters per side",
        [
            "side",
            "median calls/s",
            "best calls/s",
            "caller CPU/call",
            "vs raw (wall)",
            "vs raw (CPU)",
        ],
        [
            [*measured.row(side, raw.median), f"{raw.cpu_us / measured.cpu_us:.2f}x"]
            for side, measured in sides.items()
        ],
    )
    wall = ours.median / raw.median
    thread = raw.cpu_us / ours.cpu_us
    verdict = "meets" if wall >= GOAL_RATIO else "MISSES"
    print(
        f"\nzmqc.get reaches {wall:.2f}x raw pyzmq in throughput ({verdict} the "
        f"{GOAL_RATIO}x goal) and {thread:.2f}x in CPU time of the calling thread.\n"
        "Wall-clock rates swing with machine load; the CPU column is steadier."
    )


if __name__ == "__main__":
    main()
