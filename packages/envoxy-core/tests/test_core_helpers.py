"""require(), LRUCache, throttle, profiling and the shared exceptions."""

import io
import pickle
import sys
import time
from pathlib import Path

import pytest

from envoxy.db.exceptions import DatabaseException
from envoxy.exceptions import (
    ConfigError,
    EnvoxyError,
    MissingDependencyError,
    ValidationException,
)
from envoxy.utils.cache import LRUCache
from envoxy.utils.imports import require
from envoxy.utils.profiling import profile_func, profiled_context, profiled_decorator
from envoxy.utils.throttle import throttle


def test_require_returns_the_module() -> None:
    assert require("json.decoder", "stdlib") is sys.modules["json.decoder"]


def test_require_missing_module_names_what_to_install() -> None:
    with pytest.raises(MissingDependencyError) as caught:
        require("envoxy_core_test_absent.client", "envoxy-dispatch[mqtt]")
    assert "pip install 'envoxy-dispatch[mqtt]'" in str(caught.value)
    assert isinstance(caught.value, ImportError)
    assert isinstance(caught.value.__cause__, ModuleNotFoundError)


def test_require_does_not_hide_a_broken_installed_module(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "envoxy_core_test_broken.py").write_text("import envoxy_core_test_not_there\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    with pytest.raises(ModuleNotFoundError) as caught:
        require("envoxy_core_test_broken", "something")
    assert not isinstance(caught.value, MissingDependencyError)
    assert caught.value.name == "envoxy_core_test_not_there"


@pytest.mark.filterwarnings("ignore:LRUCache.get:DeprecationWarning")
def test_lru_cache_miss_returns_minus_one_and_evicts_least_recent() -> None:
    cache = LRUCache(2)
    assert cache.get("absent") == -1
    cache.set("a", 1)
    cache.set("b", 2)
    assert cache.get("a") == 1
    cache.set("c", 3)
    assert cache.get("b") == -1
    assert cache.get("a") == 1
    assert cache.get("c") == 3
    cache.set("a", 10)
    assert cache.get("a") == 10
    assert len(cache) == 2


def test_lru_cache_rejects_zero_capacity() -> None:
    with pytest.raises(ValueError, match="at least 1"):
        LRUCache(0)


def test_throttle_runs_once_per_period() -> None:
    calls: list[int] = []
    throttled: list[int] = []

    @throttle(duration=60, on_throttling=lambda: throttled.append(1))
    def work(value: int) -> int:
        calls.append(value)
        return value * 2

    assert work(1) == 2
    assert work(2) is None
    assert calls == [1]
    assert throttled == [1]


def test_throttle_allows_a_call_after_the_period() -> None:
    calls: list[int] = []

    @throttle(0.05)
    def work() -> None:
        calls.append(1)

    work()
    deadline = time.monotonic() + 5
    while len(calls) < 2 and time.monotonic() < deadline:
        work()
    assert len(calls) == 2


def test_profiled_decorator_prints_statistics_and_returns_result() -> None:
    stream = io.StringIO()

    def add(a: int, b: int) -> int:
        return a + b

    assert profiled_decorator(add, top=3, stream=stream)(2, 3) == 5
    assert "function calls" in stream.getvalue()


def test_profiled_context_and_profile_func(capsys: pytest.CaptureFixture[str]) -> None:
    stream = io.StringIO()
    with profiled_context(top=1, type="tottime", stream=stream):
        sorted(range(100))
    assert "function calls" in stream.getvalue()
    assert profile_func(max, 3, 9, pf_top=1) == 9
    assert "function calls" in capsys.readouterr().out


def test_validation_exception_keeps_message_code_status_and_kwargs() -> None:
    error = ValidationException("name is required", code=1001, status="422", field="name")
    assert str(error) == "name is required"
    assert error.args == ("name is required",)
    assert (error.code, error.status) == (1001, 422)
    assert error.kwargs == {"code": 1001, "status": "422", "field": "name"}
    assert isinstance(error, EnvoxyError)


def test_validation_exception_defaults() -> None:
    error = ValidationException("bad")
    assert (error.code, error.status, error.kwargs) == (0, 500, {})
    assert str(ValidationException()) == ""


def test_validation_exception_survives_pickling() -> None:
    error = ValidationException("too long", code=7, status=400, limit=10)
    copy = pickle.loads(pickle.dumps(error))
    assert type(copy) is ValidationException
    assert str(copy) == "too long"
    assert (copy.code, copy.status, copy.kwargs) == (
        7,
        400,
        {"code": 7, "status": 400, "limit": 10},
    )


def test_exception_hierarchy() -> None:
    assert issubclass(ConfigError, ValueError)
    assert issubclass(ConfigError, EnvoxyError)
    assert issubclass(MissingDependencyError, ImportError)
    assert issubclass(DatabaseException, EnvoxyError)
