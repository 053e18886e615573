"""Envoxy's log lines captured in a test: a stream that remembers each ``write``, the
handler flushed (batched lines included), the JSON lines parsed."""

import io
import json
import logging
from typing import Any

from envoxy.utils.log_setup import configure_logging

__all__ = ["Recorder", "capture", "entries", "flush"]


class Recorder(io.StringIO):
    """A stream that remembers each ``write`` call (to check how lines were grouped)."""

    def __init__(self) -> None:
        super().__init__()
        self.writes: list[str] = []

    def write(self, text: str) -> int:
        self.writes.append(text)
        return super().write(text)


def capture(level: int = 6, log_format: str = "json") -> Recorder:
    """Send Envoxy's lines at ``level`` in ``log_format`` to a new :class:`Recorder`."""
    stream = Recorder()
    configure_logging(level, log_format, stream=stream, force=True)
    return stream


def flush() -> None:
    """Write the lines Envoxy's handlers hold in their batches."""
    for handler in logging.getLogger("envoxy").handlers:
        handler.flush()


def entries(stream: io.StringIO) -> list[dict[str, Any]]:
    """The JSON lines written to ``stream``, parsed."""
    return [json.loads(line) for line in stream.getvalue().splitlines()]
