"""One retry policy for every client: capped exponential backoff with full jitter,
bounded by an optional overall deadline.

Full jitter (each pause drawn uniformly from ``[0, min(cap, base * 2**n)]``) spreads
the retries of many processes that failed at the same moment, so a server that comes
back is not hit by all of them at once. A deadline bounds the whole call: no pause
runs past it and no attempt starts after it, so a caller's worst case is known in
advance (``envoxyd`` compares it with uWSGI's ``harakiri``).

Usage::

    policy = RetryPolicy(attempts=4, backoff=Backoff(base=0.5, cap=4), retry_on=(OSError,))
    policy.call(connect, deadline=time.monotonic() + 30)
"""

import random
import time
from collections.abc import Callable
from dataclasses import dataclass

__all__ = ["Backoff", "RetryPolicy"]


@dataclass(frozen=True, slots=True)
class Backoff:
    """Pauses of ``base * 2**(n-1)`` seconds after the n-th failure, never more than
    ``cap``; with ``jitter`` (the default) each pause is drawn uniformly below that.

    :param base: the ceiling of the first pause, in seconds (0 retries at once).
    :param cap: the longest pause, in seconds.
    :param jitter: draw each pause in ``[0, ceiling]`` ("full jitter").
    """

    base: float = 0.2
    cap: float = 2.0
    jitter: bool = True

    def __post_init__(self) -> None:
        if self.base < 0 or self.cap < 0:
            raise ValueError(f"backoff base and cap must be 0 or more, not {self.base}/{self.cap}")

    def ceiling(self, failures: int) -> float:
        """Return the longest pause after ``failures`` consecutive failures (1 for the first)."""
        return float(min(self.cap, self.base * 2 ** max(0, failures - 1)))

    def delay(self, failures: int) -> float:
        """Return the pause after ``failures`` consecutive failures (1 for the first)."""
        ceiling = self.ceiling(failures)
        return random.uniform(0.0, ceiling) if self.jitter else ceiling

    def worst_case(self, retries: int) -> float:
        """Return the longest total of the pauses of ``retries`` retries."""
        return sum(self.ceiling(failures) for failures in range(1, retries + 1))


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    """Run a call up to ``attempts`` times while it raises one of ``retry_on``.

    :param attempts: total tries, at least 1.
    :param backoff: the pause between tries.
    :param retry_on: exception types worth another try; any other propagates at once.
    :param sleep: the pause function (``time.sleep``; tests pass a recorder).
    :param clock: the monotonic clock the deadline is read on.
    """

    attempts: int
    backoff: Backoff
    retry_on: tuple[type[BaseException], ...]
    sleep: Callable[[float], None] = time.sleep
    clock: Callable[[], float] = time.monotonic

    def __post_init__(self) -> None:
        if self.attempts < 1:
            raise ValueError(f"attempts must be at least 1, not {self.attempts}")

    def call[T](
        self,
        operation: Callable[[], T],
        *,
        deadline: float | None = None,
        on_retry: Callable[[int, BaseException, float], None] | None = None,
    ) -> T:
        """Return ``operation()``, retrying the listed errors.

        :param operation: the call; it must clean up after itself when it fails and
            bound its own wait by ``deadline`` (the policy cannot interrupt it).
        :param deadline: a :attr:`clock` time after which no pause runs and no
            attempt starts; ``None`` for no overall limit.
        :param on_retry: called as ``(failures, error, pause)`` before each pause.
        :raises BaseException: the last error once the attempts are spent or the next
            pause would end past ``deadline`` (the caller wraps it, knowing
            :attr:`attempts`), or any unlisted error at once.
        """
        failures = 0
        while True:
            try:
                return operation()
            except self.retry_on as exc:
                failures += 1
                if failures >= self.attempts:
                    raise
                pause = self.backoff.delay(failures)
                if deadline is not None and self.clock() + pause >= deadline:
                    raise
                if on_retry is not None:
                    on_retry(failures, exc, pause)
                if pause > 0:
                    self.sleep(pause)

    def worst_case(self, attempt_seconds: float) -> float:
        """Return the longest a call can take when each attempt takes ``attempt_seconds``
        (every attempt failing, every pause at its ceiling), ignoring any deadline."""
        return self.attempts * attempt_seconds + self.backoff.worst_case(self.attempts - 1)
