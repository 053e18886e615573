"""The PostgreSQL connections an ``envoxyd`` instance may hold, logged at startup.

Every worker process has, per ``psql_servers`` key, a ``pgsqlc`` pool and an ORM
engine pool; their maxima together are the key's connection budget
(:mod:`envoxy.db.postgres.budget`). At startup ``envoxyd`` logs, for each key, that budget
per worker and for all its workers, so the sum over replicas can be checked against
PostgreSQL's ``max_connections`` or a pooler's ``max_client_conn`` (docs/SCALING.md).
"""

from collections.abc import Mapping
from typing import Any

from envoxy.utils.logs import log

__all__ = ["log_connection_budgets"]


def log_connection_budgets(config: Mapping[str, Any], workers: int) -> list[Any]:
    """Log the connection budget of every PostgreSQL key for ``workers`` processes.

    A key whose settings are invalid, or that is not PostgreSQL, is skipped here: its
    first call reports what is wrong.

    :param config: the parsed ``envoxy.json`` (only ``psql_servers`` is read).
    :param workers: uWSGI's ``--processes``.
    :returns: the :class:`~envoxy.db.postgres.budget.ConnectionBudget` of each key logged.
    """
    servers = config.get("psql_servers")
    if not isinstance(servers, Mapping):
        return []
    try:  # envoxy-orm comes with envoxy-daemon[postgres]; without it nothing is pooled
        from envoxy.db.postgres.budget import connection_budget
    except ImportError:
        return []

    budgets = []
    for key, conf in servers.items():
        if not isinstance(conf, Mapping):
            continue
        url = str(conf.get("url") or conf.get("dsn") or "")
        if url and not url.startswith(("postgresql", "postgres:", "postgres+")):
            continue  # another database, through SQLAlchemy only
        try:
            budget = connection_budget(conf, f"psql_servers.{key}")
        except Exception as exc:
            log.debug(f"no connection budget for psql_servers.{key}: {exc}")
            continue
        budgets.append(budget)
        log.info(budget.describe(max(1, workers)))
    return budgets
