"""Fixtures of the envoxy-core tests."""

from collections.abc import Iterator

import pytest

from envoxy.utils.config import Config
from envoxy.utils.log_setup import FORMAT_ENV_VAR, LEVEL_ENV_VAR, reset_logging


@pytest.fixture
def clean_logging(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Logging as a fresh process has it, before and after the test: no level or format
    variable, no configuration file, Envoxy's handlers reset."""
    monkeypatch.delenv(LEVEL_ENV_VAR, raising=False)
    monkeypatch.delenv(FORMAT_ENV_VAR, raising=False)
    monkeypatch.delenv("ENVOXY_CONFIG", raising=False)
    previous_path = Config.file_path
    Config.set_file_path(None)
    reset_logging()
    yield
    reset_logging()
    Config.set_file_path(previous_path)
