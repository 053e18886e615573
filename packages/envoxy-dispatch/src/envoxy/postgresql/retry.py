"""A small retry policy object: attempts, a capped exponential backoff, the errors to retry.

Used for connecting to PostgreSQL; no other code of ``pgsqlc`` loops on failures.
"""

import time
from collections.abc import Callable
from dataclasses import dataclass

__all__ = ["ExponentialBackoff", "RetryPolicy"]


@dataclass(frozen=True, slots=True)
class ExponentialBackoff:
    """Delays of ``base * 2**n`` seconds, never more than ``cap``.

    :param base: the first delay, in seconds.
    :param cap: the longest delay, in seconds.
    """

    base: float = 0.2
    cap: float = 2.0

    def delay(self, failures: int) -> float:
        """Return the pause after ``failures`` consecutive failures (1 for the first)."""
        return float(min(self.cap, self.base * 2 ** max(0, failures - 1)))


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    """Run a call up to ``attempts`` times while it raises one of ``retry_on``.

    :param attempts: total tries, at least 1.
    :param backoff: the pause between tries.
    :param retry_on: exception types worth another try; any other propagates at once.
    :param sleep: the pause function (``time.sleep``).
    """

    attempts: int
    backoff: ExponentialBackoff
    retry_on: tuple[type[BaseException], ...]
    sleep: Callable[[float], None] = time.sleep

    def __post_init__(self) -> None:
        if self.attempts < 1:
            raise ValueError(f"attempts must be at least 1, not {self.attempts}")

    def call[T](self, operation: Callable[[], T]) -> T:
        """Return ``operation()``, retrying the listed errors.

        :raises BaseException: the last error once every attempt failed (the caller
            wraps it, knowing :attr:`attempts`), or any unlisted error at once.
        """
        failures = 0
        while True:
            try:
                return operation()
            except self.retry_on:
                failures += 1
                if failures >= self.attempts:
                    raise
                self.sleep(self.backoff.delay(failures))
