"""``@throttle``: run a function at most once per period (kept from the original envoxy)."""

import functools
import threading
import time
from collections.abc import Callable

__all__ = ["throttle"]


def throttle[**P, R](
    duration: float = 1, *, on_throttling: Callable[[], object] | None = None
) -> Callable[[Callable[P, R]], Callable[P, R | None]]:
    """Decorate a function so that it runs at most once every ``duration`` seconds.

    A call inside the period does not run the function: it calls ``on_throttling()``
    (when given) and returns ``None``. The period is measured with a monotonic clock
    and shared by every caller (thread-safe).

    ::

        @throttle(5)
        def report(status: str) -> None: ...

    :param duration: the period in seconds.
    :param on_throttling: called instead of the function during the period.
    """

    def decorator(func: Callable[P, R]) -> Callable[P, R | None]:
        lock = threading.Lock()
        last_run: list[float | None] = [None]

        @functools.wraps(func)
        def wrapper(*args: P.args, **kwargs: P.kwargs) -> R | None:
            now = time.monotonic()
            with lock:
                previous = last_run[0]
                allowed = previous is None or now >= previous + duration
                if allowed:
                    last_run[0] = now
            if allowed:
                return func(*args, **kwargs)
            if on_throttling is not None:
                on_throttling()
            return None

        return wrapper

    return decorator
