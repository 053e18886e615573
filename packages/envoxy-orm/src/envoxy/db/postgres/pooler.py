"""PostgreSQL behind a transaction pooler (PgBouncer ``pool_mode = transaction``).

A transaction pooler hands each *transaction* a server connection of its own choice:
what a client sets for its session (``SET``, the ``options`` startup parameter)
lands on a server connection that the next transaction, maybe another client's, gets.
PgBouncer refuses the ``options`` startup parameter outright. A ``psql_servers`` key
with ``"pooler": "transaction"`` therefore:

- sends no ``options`` at connect (a configured ``options`` is a configuration error);
- runs no session ``SET`` (``search_path`` included);
- applies ``statement_timeout``, ``search_path`` (and, for ``pgsqlc``, ``TimeZone`` and
  ``DateStyle``) with ``SET LOCAL`` inside every transaction: :func:`transaction_settings`
  gives the statements, sent in the same round trip as the first statement.

A statement PostgreSQL refuses inside a transaction block (``VACUUM``,
``CREATE DATABASE``, ``CREATE INDEX CONCURRENTLY``) cannot carry them: run those
through a key that points at the server itself. Importing this module imports no driver.
"""

from collections.abc import Mapping
from typing import Any

from envoxy.exceptions import ConfigError

__all__ = [
    "POOLER_MODES",
    "TRANSACTION",
    "pooler_mode",
    "reject_startup_options",
    "transaction_settings",
]

#: The pooler mode that changes how settings are applied.
TRANSACTION = "transaction"
#: Values of ``pooler``: ``transaction``, or ``none`` for a direct server (also a session
#: pooler, which keeps one server connection per client).
POOLER_MODES = frozenset({TRANSACTION, "session", "none"})


def pooler_mode(conf: Mapping[str, Any], where: str) -> str | None:
    """Return ``"transaction"`` when the entry sits behind a transaction pooler, else None.

    :raises ConfigError: ``pooler`` is not ``transaction``, ``session``, ``none`` or null
        (``statement`` pooling cannot run multi-statement transactions at all).
    """
    value = conf.get("pooler")
    if value is None or value is False or value == "":
        return None
    if value not in POOLER_MODES:
        raise ConfigError(
            f'{where}.pooler is {value!r}; use "transaction" behind PgBouncer\'s transaction '
            'pooling, or "session"/"none" (statement pooling cannot run transactions)'
        )
    return TRANSACTION if value == TRANSACTION else None


def reject_startup_options(options: Any, where: str) -> None:
    """Refuse libpq ``options`` for a key behind a transaction pooler.

    :raises ConfigError: ``options`` is set; the message says what to use instead.
    """
    if options:
        raise ConfigError(
            f'{where} has pooler "transaction" and libpq options {str(options)!r}: a '
            "transaction pooler refuses (PgBouncer) or leaks startup options. Set "
            "statement_timeout and schema as keys of the entry (they are applied per "
            "transaction), and other settings with ALTER ROLE ... SET on the server"
        )


def transaction_settings(
    statement_timeout: float | None,
    schema: str | None = None,
    session_defaults: Mapping[str, str] | None = None,
) -> str:
    """Return the ``SET LOCAL`` statements for the start of each transaction (``""`` if none).

    :param statement_timeout: seconds; None or 0 leaves the server's own setting.
    :param schema: the schema to put on the ``search_path``, quoted as an identifier.
    :param session_defaults: more settings, name -> value (e.g. ``{"TimeZone": "UTC"}``).
    :returns: ``"SET LOCAL a = ...; SET LOCAL b = ...; "``, ready to put before a
        statement. Sent with parameters, each ``%`` in it must be doubled (only a schema
        name can hold one).
    """
    statements = []
    if statement_timeout:
        statements.append(f"SET LOCAL statement_timeout = {round(statement_timeout * 1000)}")
    for name, value in (session_defaults or {}).items():
        statements.append(f"SET LOCAL {name} = {_literal(value)}")
    if schema:
        statements.append(f"SET LOCAL search_path = {_identifier(schema)}")
    return "".join(f"{statement}; " for statement in statements)


def _identifier(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _literal(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"
