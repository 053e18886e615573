"""Run the side-by-side benchmarks: ``tools/bench/run.py [topic ...]``.

Each ``tools/bench/bench_<topic>.py`` defines ``main() -> None``. With no topic
every benchmark runs, in name order; ``--list`` prints the topics. A benchmark
that fails is reported and the others still run; the exit status is 1 then.
"""

import argparse
import importlib.util
import pathlib
import sys
import time
import traceback
import types
from collections.abc import Sequence

__all__ = ["discover", "main"]

BENCH_DIR = pathlib.Path(__file__).resolve().parent


def discover() -> dict[str, pathlib.Path]:
    """Return topic name -> path of every ``bench_<topic>.py`` beside this file."""
    return {path.stem.removeprefix("bench_"): path for path in sorted(BENCH_DIR.glob("bench_*.py"))}


def main(argv: Sequence[str] | None = None) -> int:
    """Run the benchmarks named in ``argv`` (all when none) and return the exit status."""
    available = discover()
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "topics", nargs="*", help=f"topics to run (default all): {', '.join(available)}"
    )
    parser.add_argument("--list", action="store_true", help="print the topics and exit")
    options = parser.parse_args(argv)
    if options.list:
        print("\n".join(available))
        return 0
    unknown = [topic for topic in options.topics if topic not in available]
    if unknown:
        parser.error(f"unknown topic(s) {', '.join(unknown)}; known: {', '.join(available)}")
    failed: list[str] = []
    for topic in options.topics or list(available):
        print(f"=== {topic} ===", flush=True)
        started = time.perf_counter()
        try:
            _load(topic, available[topic]).main()
        except Exception:
            traceback.print_exc()
            failed.append(topic)
        print(f"({topic}: {time.perf_counter() - started:.1f} s)\n", flush=True)
    if failed:
        print(f"failed: {', '.join(failed)}", file=sys.stderr)
        return 1
    return 0


def _load(topic: str, path: pathlib.Path) -> types.ModuleType:
    if str(BENCH_DIR) not in sys.path:
        sys.path.insert(0, str(BENCH_DIR))
    spec = importlib.util.spec_from_file_location(f"bench_{topic}", path)
    if spec is None or spec.loader is None:
        raise ImportError(f"cannot load benchmark {path}")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    if not callable(getattr(module, "main", None)):
        raise AttributeError(f"{path} defines no main() function")
    return module


if __name__ == "__main__":
    sys.exit(main())
