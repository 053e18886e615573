"""``EnvoxySessionManager``: one engine, a session factory, and safe session lifecycles."""

import functools
import inspect
import logging
import os
import threading
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from typing import Any

from sqlalchemy import URL, create_engine, make_url
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session, sessionmaker

from envoxy.db.orm.drivers import normalize_url

__all__ = [
    "DEFAULT_ENGINE_OPTIONS",
    "DEFAULT_SESSION_OPTIONS",
    "EnvoxySessionManager",
    "engine_options",
]

#: Engine options applied unless given (those the dialect's pool lacks are dropped).
DEFAULT_ENGINE_OPTIONS: Mapping[str, Any] = {
    "pool_pre_ping": True,
    "pool_size": 20,
    "max_overflow": 10,
    "pool_timeout": 30,
    "pool_recycle": 1800,
}
#: Session options applied unless given.
DEFAULT_SESSION_OPTIONS: Mapping[str, Any] = {"expire_on_commit": False}

#: ``create_engine`` pool options and the pool constructor argument each becomes.
_POOL_ARGUMENTS = {
    "pool_pre_ping": "pre_ping",
    "pool_size": "pool_size",
    "max_overflow": "max_overflow",
    "pool_timeout": "timeout",
    "pool_recycle": "recycle",
}

logger = logging.getLogger("envoxy.db.orm")


class EnvoxySessionManager:
    """An engine plus a session factory, with commit/rollback handled for you.

    Example::

        manager = EnvoxySessionManager(url="sqlite:///service.db")
        with manager.session_scope() as session:
            session.add(Product(name="pen"))

    The manager is fork-safe: in a forked child the first use drops the pooled
    connections inherited from the parent (``engine.dispose(close=False)``) and
    opens new ones.

    :param url: a SQLAlchemy URL (string or ``URL``); ignored when ``engine`` is given.
        A PostgreSQL URL without a driver gets the installed one (:func:`normalize_url`).
    :param engine: an engine built elsewhere.
    :param engine_kwargs: ``create_engine`` options over :data:`DEFAULT_ENGINE_OPTIONS`;
        pool options the dialect's pool does not take (SQLite's in-memory pool,
        ``NullPool``) are dropped.
    :param session_kwargs: ``sessionmaker`` options over :data:`DEFAULT_SESSION_OPTIONS`.
    :raises ValueError: neither ``url`` nor ``engine`` is given.
    :raises MissingDependencyError: a PostgreSQL URL and no driver installed.
    """

    def __init__(
        self,
        url: str | URL | None = None,
        engine: Engine | None = None,
        engine_kwargs: Mapping[str, Any] | None = None,
        session_kwargs: Mapping[str, Any] | None = None,
    ) -> None:
        if engine is None:
            if not url:
                raise ValueError(
                    "EnvoxySessionManager needs a url (e.g. 'sqlite:///service.db') or an engine"
                )
            url = normalize_url(url)
            engine = create_engine(url, **engine_options(url, engine_kwargs))
        self._engine = engine
        self._pid = os.getpid()
        self._fork_lock = threading.Lock()
        self._sessionmaker = sessionmaker(
            bind=engine, **{**DEFAULT_SESSION_OPTIONS, **(session_kwargs or {})}
        )

    @property
    def engine(self) -> Engine:
        """The engine; in a forked child its inherited connections are dropped first."""
        if self._pid != os.getpid():
            self._after_fork()
        return self._engine

    def create_session(self) -> Session:
        """Return a new ``Session``; the caller commits and closes it."""
        if self._pid != os.getpid():
            self._after_fork()
        return self._sessionmaker()

    @contextmanager
    def session_scope(self) -> Iterator[Session]:
        """Yield a session; commit when the block ends, roll back if it raises, always close."""
        session = self.create_session()
        try:
            yield session
            session.commit()
        except BaseException:
            session.rollback()
            raise
        finally:
            session.close()

    def transactional[**P, R](self) -> Callable[[Callable[P, R]], Callable[P, R]]:
        """Return a decorator running the function inside :meth:`session_scope`.

        The function receives the session as ``session=`` unless the caller passes a
        ``Session`` as ``session`` itself (then no new transaction is opened)::

            @manager.transactional()
            def rename(product_id: str, name: str, session: Session) -> None: ...
        """

        def decorator(function: Callable[P, R]) -> Callable[P, R]:
            @functools.wraps(function)
            def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
                if isinstance(kwargs.get("session"), Session):
                    return function(*args, **kwargs)
                with self.session_scope() as session:
                    kwargs["session"] = session
                    return function(*args, **kwargs)

            return wrapper

        return decorator

    def dispose(self) -> None:
        """Close the pooled connections of the engine (it can still be used afterwards)."""
        self._engine.dispose()

    def _after_fork(self) -> None:
        with self._fork_lock:
            if self._pid != os.getpid():
                # The parent still owns these sockets: forget them without closing.
                self._engine.dispose(close=False)
                self._pid = os.getpid()


def engine_options(url: str | URL, overrides: Mapping[str, Any] | None = None) -> dict[str, Any]:
    """Return :data:`DEFAULT_ENGINE_OPTIONS` with ``overrides``, minus pool options the pool lacks.

    :param url: the database URL (its dialect decides the pool class).
    :param overrides: options given by the caller.
    """
    options = {**DEFAULT_ENGINE_OPTIONS, **(overrides or {})}
    parsed = make_url(url)
    dialect: Any = parsed.get_dialect()
    pool_class = options.get("poolclass") or dialect.get_pool_class(parsed)
    accepted = {
        name
        for cls in pool_class.__mro__
        if "__init__" in vars(cls)
        for name in inspect.signature(vars(cls)["__init__"]).parameters
    }
    for option, argument in _POOL_ARGUMENTS.items():
        if option in options and argument not in accepted:
            logger.debug("%s is not an option of %s; dropped", option, pool_class.__name__)
            del options[option]
    return options
