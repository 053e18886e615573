"""The shared retry policy: full-jitter backoff, attempts, deadline."""

import time
from collections.abc import Iterator

import pytest

from envoxy.utils.retry import Backoff, RetryPolicy


def test_backoff_ceilings_double_up_to_the_cap() -> None:
    backoff = Backoff(base=0.5, cap=3.0)
    assert [backoff.ceiling(n) for n in (1, 2, 3, 4, 5)] == [0.5, 1.0, 2.0, 3.0, 3.0]
    assert backoff.worst_case(3) == 3.5


def test_full_jitter_draws_below_the_ceiling_and_varies() -> None:
    backoff = Backoff(base=1.0, cap=8.0)
    draws = [backoff.delay(3) for _ in range(200)]
    assert all(0.0 <= draw <= 4.0 for draw in draws)
    assert len(set(draws)) > 150  # not a constant: processes spread their retries
    assert min(draws) < 1.0
    assert max(draws) > 3.0
    assert Backoff(base=1.0, cap=8.0, jitter=False).delay(3) == 4.0


def test_retries_listed_errors_then_reraises_the_last() -> None:
    pauses: list[float] = []
    calls: list[int] = []
    policy = RetryPolicy(3, Backoff(base=0.1, cap=0.15), (OSError,), pauses.append)

    def failing() -> None:
        calls.append(1)
        raise OSError(f"down {len(calls)}")

    with pytest.raises(OSError, match="down 3"):
        policy.call(failing)
    assert len(calls) == 3
    assert len(pauses) == 2
    assert 0 <= pauses[0] <= 0.1
    assert 0 <= pauses[1] <= 0.15


def test_returns_on_success_and_skips_unlisted_errors() -> None:
    outcomes: Iterator[Exception | str] = iter([OSError("once"), "ok"])

    def flaky() -> str:
        outcome = next(outcomes)
        if isinstance(outcome, Exception):
            raise outcome
        return outcome

    policy = RetryPolicy(3, Backoff(), (OSError,), lambda _seconds: None)
    assert policy.call(flaky) == "ok"
    calls: list[int] = []

    def buggy() -> None:
        calls.append(1)
        raise KeyError("bug")

    with pytest.raises(KeyError):
        policy.call(buggy)
    assert calls == [1]


def test_on_retry_sees_each_failure_and_pause() -> None:
    seen: list[tuple[int, str, float]] = []
    policy = RetryPolicy(3, Backoff(base=0, cap=0), (OSError,))

    def failing() -> None:
        raise OSError("x")

    with pytest.raises(OSError):
        policy.call(failing, on_retry=lambda n, error, pause: seen.append((n, str(error), pause)))
    assert seen == [(1, "x", 0.0), (2, "x", 0.0)]


def test_deadline_stops_retrying_before_a_pause_would_pass_it() -> None:
    calls: list[float] = []
    policy = RetryPolicy(100, Backoff(base=0.05, cap=0.05, jitter=False), (OSError,))

    def failing() -> None:
        calls.append(time.monotonic())
        raise OSError("down")

    started = time.monotonic()
    with pytest.raises(OSError):
        policy.call(failing, deadline=started + 0.3)
    elapsed = time.monotonic() - started
    assert elapsed < 0.3
    assert 3 <= len(calls) <= 6


def test_deadline_already_passed_means_one_attempt() -> None:
    calls: list[int] = []

    def failing() -> None:
        calls.append(1)
        raise OSError("down")

    policy = RetryPolicy(5, Backoff(base=0, cap=0), (OSError,))
    with pytest.raises(OSError):
        policy.call(failing, deadline=time.monotonic() - 1)
    assert calls == [1]


def test_needs_one_attempt_and_non_negative_backoff() -> None:
    with pytest.raises(ValueError, match="attempts"):
        RetryPolicy(0, Backoff(), (OSError,))
    with pytest.raises(ValueError, match="backoff"):
        Backoff(base=-1)


def test_worst_case_adds_every_attempt_and_pause_ceiling() -> None:
    policy = RetryPolicy(4, Backoff(base=2, cap=2), (OSError,))
    assert policy.worst_case(30) == 4 * 30 + 3 * 2
