"""The retry policy of ZeroMQ requests: how many attempts, how far apart, on which errors."""

import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any, TypeVar

from envoxy.zeromq.errors import ZmqAttemptError
from envoxy.zeromq.settings import DEFAULT_RETRIES, DEFAULT_RETRY_DELAY

__all__ = ["RetryPolicy"]

T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    """Run a call again when it fails with one of ``retry_on``.

    :param retries: attempts after the first one (0 = try once).
    :param delay: seconds before the first retry.
    :param backoff: factor applied to the delay after each retry (1 = constant).
    :param max_delay: cap of the delay, in seconds.
    :param retry_on: the error types that are retried; others propagate at once.

    The defaults are the ZeroMQ ones: 3 retries, 2 s apart. Tests shorten the
    delay with ``zmq_servers.<key>.retry_delay`` or ``ZmqClient(retry_delay=...)``.
    """

    retries: int = DEFAULT_RETRIES
    delay: float = DEFAULT_RETRY_DELAY
    backoff: float = 1.0
    max_delay: float = 30.0
    retry_on: tuple[type[BaseException], ...] = (ZmqAttemptError,)

    def delays(self) -> Iterator[float]:
        """Yield the delay before each retry, ``retries`` values in all."""
        delay = self.delay
        for _ in range(self.retries):
            yield min(delay, self.max_delay)
            delay *= self.backoff

    def call(
        self,
        attempt: Callable[..., T],
        *args: Any,
        on_retry: Callable[[int, BaseException, float], None] | None = None,
    ) -> T:
        """Return ``attempt(*args)``, calling it again after each retryable failure.

        :param attempt: the call to make; it must clean up after itself when it fails.
        :param args: its positional arguments.
        :param on_retry: called as ``(attempt_number, error, delay)`` before each wait.
        :raises: the last error once the retries are spent, or any non-retryable error.
        """
        try:
            return attempt(*args)
        except self.retry_on as exc:
            failure: BaseException = exc
        number = 1
        for delay in self.delays():
            if on_retry is not None:
                on_retry(number, failure, delay)
            if delay > 0:
                time.sleep(delay)
            number += 1
            try:
                return attempt(*args)
            except self.retry_on as exc:
                failure = exc
        raise failure
