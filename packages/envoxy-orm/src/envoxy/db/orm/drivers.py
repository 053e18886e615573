"""Pick the installed PostgreSQL driver for a URL that names none.

SQLAlchemy 2.1 maps a bare ``postgresql://`` URL to psycopg 3, which Envoxy does not
install (``envoxy-orm[postgres]`` brings psycopg2, as pgsqlc uses), and it no longer
knows the ``postgres://`` spelling many hosting platforms hand out. Every engine
Envoxy creates (``EnvoxySessionManager``, ``get_manager``/``pgsqlc.session()``,
``envoxy-alembic``) passes its URL through :func:`normalize_url` first::

    normalize_url("postgres://app@db/app")   # postgresql+psycopg2://app@db/app
"""

from collections.abc import Callable
from importlib.util import find_spec

from sqlalchemy import URL, make_url

from envoxy.exceptions import MissingDependencyError

__all__ = ["POSTGRES_DRIVERS", "POSTGRES_EXTRA", "module_available", "normalize_url"]

#: What to install for a PostgreSQL driver.
POSTGRES_EXTRA = "envoxy-orm[postgres]"
#: Drivers tried for a driverless URL, first installed wins: (SQLAlchemy driver, module).
POSTGRES_DRIVERS = (("psycopg2", "psycopg2"), ("psycopg", "psycopg"))

_POSTGRES_BACKENDS = frozenset({"postgresql", "postgres"})


def module_available(name: str) -> bool:
    """Return whether top-level module ``name`` can be imported, without importing it."""
    try:
        return find_spec(name) is not None
    except (ImportError, ValueError):
        return False


def normalize_url(
    url: str | URL, *, is_importable: Callable[[str], bool] = module_available
) -> URL:
    """Return ``url`` with a PostgreSQL driver that is installed; other URLs unchanged.

    ``postgresql://`` and ``postgres://`` without a driver become
    ``postgresql+psycopg2://`` when psycopg2 is installed, else ``postgresql+psycopg://``
    when psycopg 3 is. ``postgres+<driver>://`` becomes ``postgresql+<driver>://``.
    Credentials, host, database and query options are kept.

    :param url: a SQLAlchemy URL, as a string or ``URL``.
    :param is_importable: probe for a module name (tests inject their own).
    :raises MissingDependencyError: a driverless PostgreSQL URL and neither driver is
        installed, or ``+psycopg2`` is named and psycopg2 is not installed; the message
        says ``pip install "envoxy-orm[postgres]"``.
    :raises sqlalchemy.exc.ArgumentError: ``url`` is not a SQLAlchemy URL.
    """
    parsed = make_url(url)
    backend, _, driver = parsed.drivername.partition("+")
    if backend not in _POSTGRES_BACKENDS:
        return parsed
    if not driver:
        driver = next((name for name, module in POSTGRES_DRIVERS if is_importable(module)), "")
        if not driver:
            raise MissingDependencyError(
                f"{backend}:// URLs need a PostgreSQL driver and neither psycopg2 nor psycopg "
                f'is installed; install one with `pip install "{POSTGRES_EXTRA}"`',
                name="psycopg2",
            )
    elif driver == "psycopg2" and not is_importable("psycopg2"):
        raise MissingDependencyError(
            f"{backend}+psycopg2:// URLs need psycopg2; install it with "
            f'`pip install "{POSTGRES_EXTRA}"`',
            name="psycopg2",
        )
    return parsed.set(drivername=f"postgresql+{driver}")
