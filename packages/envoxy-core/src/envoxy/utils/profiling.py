"""Quick cProfile helpers (kept from the original envoxy): decorator, context, call.

Each prints the ``top`` entries sorted by ``type`` (a :mod:`pstats` sort key such as
``"cumulative"`` or ``"tottime"``) to ``stream`` (default: standard output).
"""

import contextlib
import functools
from collections.abc import Callable, Iterator
from typing import IO, Any

__all__ = ["profile_func", "profiled_context", "profiled_decorator"]


def profiled_decorator[**P, R](
    func: Callable[P, R], top: int = 10, type: str = "cumulative", stream: IO[str] | None = None
) -> Callable[P, R]:
    """Wrap ``func`` so that every call is profiled and its statistics printed.

    :param func: the function to profile.
    :param top: how many entries to print.
    :param type: the :mod:`pstats` sort key.
    :param stream: where to print (default: standard output).
    """

    @functools.wraps(func)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        with profiled_context(top=top, type=type, stream=stream):
            return func(*args, **kwargs)

    return wrapper


@contextlib.contextmanager
def profiled_context(
    top: int = 10, type: str = "cumulative", stream: IO[str] | None = None
) -> Iterator[None]:
    """Profile the ``with`` block and print its statistics when it ends (even on error).

    :param top: how many entries to print.
    :param type: the :mod:`pstats` sort key.
    :param stream: where to print (default: standard output).
    """
    import cProfile
    import pstats

    profiler = cProfile.Profile()
    profiler.enable()
    try:
        yield
    finally:
        profiler.disable()
        pstats.Stats(profiler, stream=stream).sort_stats(type).print_stats(top)


def profile_func(func: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
    """Call ``func(*args, **kwargs)`` under the profiler and return its result.

    ``pf_top`` (default 10) and ``pf_type`` (default ``"cumulative"``) in ``kwargs`` set
    :func:`profiled_context`'s ``top`` and ``type``; they are not passed to ``func``.
    """
    top = kwargs.pop("pf_top", 10)
    sort_key = kwargs.pop("pf_type", "cumulative")
    with profiled_context(top=top, type=sort_key):
        return func(*args, **kwargs)
