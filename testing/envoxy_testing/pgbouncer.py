"""A private PgBouncer in front of a :class:`~envoxy_testing.postgres.PrivatePostgres`.

::

    server = private_postgres()
    bouncer = private_pgbouncer(server)                 # pool_mode transaction by default
    bouncer.client_config(pooler="transaction")         # a psql_servers entry via the bouncer
    bouncer.admin("SHOW POOLS")                         # the admin console, rows as dicts
    bouncer.server_connections()                        # server connections it holds now

Clients log in as ``envoxy``/``envoxy`` (SCRAM, from a ``userlist.txt``); the bouncer
logs in to PostgreSQL with the same credentials. ``envoxy`` is also an admin of the
console (database ``pgbouncer``). PgBouncer refuses to run as root, so as root it
runs as the ``postgres`` system user, like the server. Startup parameters it does
not know (``options`` among them) are refused, as a default PgBouncer does.
"""

from __future__ import annotations

import signal
from collections.abc import Mapping
from pathlib import Path
from typing import Any, ClassVar

from envoxy_testing.postgres import (
    DATABASE,
    PASSWORD,
    ROLE,
    EnvoxyRoleEndpoint,
    PrivatePostgres,
    _as_server_user,
    _give_to_server_user,
)
from envoxy_testing.servers import ServerProcess, find_binary

__all__ = ["PrivatePgBouncer"]


class PrivatePgBouncer(EnvoxyRoleEndpoint, ServerProcess):
    """``pgbouncer`` forwarding database ``envoxy_test`` to ``server``.

    Args:
        server: The PostgreSQL behind it (its host and port are read at each start).
        directory: Where config and log go; ``None`` makes one the ``postgres`` user can
            read (as root).
        port: Port to listen on; ``None`` picks a free one.
        pool_mode: ``transaction`` (default), ``session`` or ``statement``.
        pool_size: Server connections per user and database (``default_pool_size``).
        settings: More ``[pgbouncer]`` settings, e.g. ``{"max_client_conn": "50"}``.
    """

    name = "pgbouncer"
    stop_signal = signal.SIGTERM  # immediate shutdown: clients are disconnected
    start_timeout: ClassVar[float] = 20.0

    def __init__(
        self,
        server: PrivatePostgres,
        directory: Path | None = None,
        *,
        port: int | None = None,
        pool_mode: str = "transaction",
        pool_size: int = 5,
        settings: Mapping[str, str] | None = None,
    ) -> None:
        super().__init__(directory, port=port)
        _give_to_server_user(self.directory)
        self.server = server
        self.pool_mode = pool_mode
        self.pool_size = pool_size
        self.settings = dict(settings or {})
        self.config_path = self.directory / "pgbouncer.ini"
        self.userlist_path = self.directory / "userlist.txt"

    def connect(self, *, connect_timeout: int = 5, **kwargs: Any) -> Any:
        """A new psycopg2 connection (autocommit) through the bouncer."""
        import psycopg2

        connection = psycopg2.connect(self.dsn, connect_timeout=connect_timeout, **kwargs)
        connection.autocommit = True
        return connection

    def admin(self, command: str) -> list[dict[str, Any]]:
        """Run one admin console command (``SHOW POOLS``, ``RECONNECT``...); rows as dicts."""
        import psycopg2

        connection = psycopg2.connect(
            f"postgresql://{ROLE}:{PASSWORD}@{self.host}:{self.port}/pgbouncer", connect_timeout=5
        )
        connection.autocommit = True  # the console takes no transactions
        try:
            with connection.cursor() as cursor:
                cursor.execute(command)
                if cursor.description is None:
                    return []
                names = [column[0] for column in cursor.description]
                return [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]
        finally:
            connection.close()

    def server_connections(self, database: str = DATABASE) -> int:
        """Server connections the bouncer holds to ``database`` now (``SHOW SERVERS``)."""
        return sum(1 for row in self.admin("SHOW SERVERS") if row.get("database") == database)

    # ------------------------------------------------------------------ hooks

    def prepare(self) -> None:
        self.userlist_path.write_text(f'"{ROLE}" "{PASSWORD}"\n')
        _give_to_server_user(self.userlist_path)

    def command(self) -> list[str]:
        backend = f"host={self.server.host} port={self.server.port}"
        settings = {
            "listen_addr": self.host,
            "listen_port": str(self.port),
            "unix_socket_dir": "",
            "auth_type": "scram-sha-256",
            "auth_file": str(self.userlist_path),
            "admin_users": ROLE,
            "stats_users": ROLE,
            "pool_mode": self.pool_mode,
            "default_pool_size": str(self.pool_size),
            "max_client_conn": "500",
            "server_login_retry": "1",
            "server_connect_timeout": "3",
            "pidfile": "",
            "logfile": "",
            **self.settings,
        }
        lines = [
            "[databases]",
            f"{DATABASE} = {backend} dbname={DATABASE}",
            f"postgres = {backend} dbname=postgres",
            "",
            "[pgbouncer]",
            *(f"{key} = {value}" for key, value in settings.items()),
            "",
        ]
        self.config_path.write_text("\n".join(lines))
        _give_to_server_user(self.config_path)
        return [find_binary("pgbouncer", "postgresql"), str(self.config_path)]

    def popen_options(self) -> dict[str, Any]:
        return _as_server_user()

    def answers(self) -> bool:
        """``SELECT 1`` through the bouncer succeeds (the whole path to PostgreSQL)."""
        import psycopg2

        try:
            connection = psycopg2.connect(self.dsn, connect_timeout=1)
        except psycopg2.OperationalError:
            return False
        try:
            with connection.cursor() as cursor:
                cursor.execute("SELECT 1")
                return bool(cursor.fetchone() == (1,))
        except psycopg2.Error:
            return False
        finally:
            connection.close()
