"""A private PostgreSQL server that mirrors the shared one: role ``envoxy``, db ``envoxy_test``.

``initdb`` takes a few seconds, so the data directory is made once per session as a
template (:func:`make_template`) and each :class:`PrivatePostgres` copies it (a fraction
of a second). The server runs as the ``postgres`` system user when the tests run as root
(PostgreSQL refuses root), so its directory lives under the system temporary directory,
owned by that user. Settings favour start-up speed over durability (``fsync=off``).

Freezing reaches every backend: the postmaster and its forks share one process group,
so a frozen server stops answering on connections already open too.
"""

from __future__ import annotations

import glob
import os
import pwd
import re
import shutil
import signal
import subprocess
from collections.abc import Mapping
from pathlib import Path
from typing import Any, ClassVar

from envoxy_testing.network import free_port
from envoxy_testing.servers import ServerError, ServerProcess, ServerStartError

__all__ = ["EnvoxyRoleEndpoint", "PrivatePostgres", "make_template", "postgres_bindir"]

#: Role, password and database every private server has (as the shared server does).
ROLE = "envoxy"
PASSWORD = "envoxy"
DATABASE = "envoxy_test"
#: The superuser of a private server and its password.
SUPERUSER = "postgres"
SUPERUSER_PASSWORD = "postgres"
#: Settings for a fast, throw-away server. fsync=off only matters when the machine
#: crashes; commits stay synchronous, so a committed row survives ``kill()``.
FAST_SETTINGS: Mapping[str, str] = {
    "fsync": "off",
    "full_page_writes": "off",
    "wal_level": "minimal",
    "max_wal_senders": "0",
    "shared_buffers": "16MB",
    "max_connections": "100",
    "unix_socket_directories": "",
    "huge_pages": "off",
}


class EnvoxyRoleEndpoint:
    """The URLs and ``envoxy.json`` entry of role ``envoxy`` on ``envoxy_test`` at
    ``host:port`` (a private PostgreSQL, or a pooler in front of one)."""

    host: str
    port: int
    #: the SQLAlchemy URL scheme of :attr:`url`
    scheme: ClassVar[str] = "postgresql+psycopg2"

    @property
    def url(self) -> str:
        """SQLAlchemy URL as role ``envoxy`` on ``envoxy_test`` (like ``postgresql_url``)."""
        return f"{self.scheme}://{ROLE}:{PASSWORD}@{self.host}:{self.port}/{DATABASE}"

    @property
    def dsn(self) -> str:
        """libpq URL as role ``envoxy`` on ``envoxy_test``."""
        return f"postgresql://{ROLE}:{PASSWORD}@{self.host}:{self.port}/{DATABASE}"

    def client_config(self, **overrides: Any) -> dict[str, Any]:
        """A ``psql_servers`` entry of ``envoxy.json`` pointing here."""
        return {
            "host": self.host,
            "port": self.port,
            "db": DATABASE,
            "user": ROLE,
            "passwd": PASSWORD,
            **overrides,
        }


class PrivatePostgres(EnvoxyRoleEndpoint, ServerProcess):
    """A PostgreSQL server of its own, with role ``envoxy``/``envoxy`` and db ``envoxy_test``.

    Args:
        directory: Parent of the data directory; ``None`` makes one under the system
            temporary directory (as root it must be reachable by the ``postgres`` user).
        port: Port to listen on; ``None`` picks a free one.
        template: A data directory from :func:`make_template` to copy; ``None`` runs
            ``initdb`` (seconds).
        settings: More ``postgres -c`` settings, e.g. ``{"max_connections": "20"}``.
    """

    name = "postgresql"
    stop_signal = signal.SIGINT  # "fast" shutdown: sessions are ended, not waited for
    start_timeout: ClassVar[float] = 30.0

    role = ROLE
    password = PASSWORD
    database = DATABASE

    def __init__(
        self,
        directory: Path | None = None,
        *,
        port: int | None = None,
        template: Path | None = None,
        settings: Mapping[str, str] | None = None,
    ) -> None:
        super().__init__(directory, port=port)
        self.template = template
        self.settings = {**FAST_SETTINGS, **(settings or {})}
        self.data = self.directory / "data"
        _give_to_server_user(self.directory)

    # ------------------------------------------------------------------ URLs

    @property
    def admin_dsn(self) -> str:
        """libpq URL as the superuser on database ``postgres``."""
        return f"postgresql://{SUPERUSER}:{SUPERUSER_PASSWORD}@{self.host}:{self.port}/postgres"

    def connect(self, *, admin: bool = False, connect_timeout: int = 5) -> Any:
        """A new psycopg2 connection (autocommit) as ``envoxy``, or as the superuser."""
        import psycopg2

        connection = psycopg2.connect(
            self.admin_dsn if admin else self.dsn, connect_timeout=connect_timeout
        )
        connection.autocommit = True
        return connection

    def client_sessions(self, role: str = ROLE) -> int:
        """How many client sessions ``role`` has on the server right now."""
        connection = self.connect(admin=True)
        try:
            with connection.cursor() as cursor:
                cursor.execute(
                    "SELECT count(*) FROM pg_stat_activity "
                    "WHERE usename = %s AND backend_type = 'client backend'",
                    [role],
                )
                (count,) = cursor.fetchone()
        finally:
            connection.close()
        return int(count)

    def terminate_backends(self, role: str = ROLE) -> int:
        """``pg_terminate_backend`` every session of ``role``; return how many there were."""
        connection = self.connect(admin=True)
        try:
            with connection.cursor() as cursor:
                cursor.execute(
                    "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
                    "WHERE usename = %s AND pid <> pg_backend_pid()",
                    [role],
                )
                (count,) = cursor.fetchone()
        finally:
            connection.close()
        return int(count)

    # ------------------------------------------------------------------ hooks

    def prepare(self) -> None:
        if self.data.exists():
            return
        if self.template is None:
            _initdb(self.data)
            return
        # cp -a keeps the owner (the postgres user) and the 0700 mode PostgreSQL insists on.
        subprocess.run(
            ["cp", "-a", str(self.template), str(self.data)],
            check=True,
            capture_output=True,
            timeout=60,
        )

    def command(self) -> list[str]:
        settings = {**self.settings, "port": str(self.port), "listen_addresses": self.host}
        options = [item for key, value in settings.items() for item in ("-c", f"{key}={value}")]
        return [str(postgres_bindir() / "postgres"), "-D", str(self.data), *options]

    def popen_options(self) -> dict[str, Any]:
        return _as_server_user()

    def answers(self) -> bool:
        """``SELECT 1`` as the superuser succeeds (not just an open port)."""
        import psycopg2

        try:
            connection = psycopg2.connect(self.admin_dsn, connect_timeout=1)
        except psycopg2.OperationalError:
            return False
        try:
            with connection.cursor() as cursor:
                cursor.execute("SELECT 1")
                return bool(cursor.fetchone() == (1,))
        finally:
            connection.close()


def make_template(directory: Path | None = None) -> Path:
    """Make a data directory with role ``envoxy`` and db ``envoxy_test``; return its path.

    Runs ``initdb``, starts the server once to create the role and the database, and
    stops it cleanly, so copies start without recovery. The caller removes the parent
    directory when done (``shutil.rmtree(path.parent)``).
    """
    server = PrivatePostgres(directory, port=free_port())
    server._own_directory = False  # the template outlives the server that made it
    try:
        server.start()
        connection = server.connect(admin=True)
        try:
            with connection.cursor() as cursor:
                cursor.execute(f"CREATE ROLE {ROLE} LOGIN CREATEDB PASSWORD %s", [PASSWORD])
                cursor.execute(f"CREATE DATABASE {DATABASE} OWNER {ROLE}")
        finally:
            connection.close()
        server.stop()
    except BaseException:
        server.close()
        shutil.rmtree(server.directory, ignore_errors=True)
        raise
    return server.data


def postgres_bindir() -> Path:
    """The ``bin`` folder of the newest PostgreSQL under ``/usr/lib/postgresql`` (or on PATH).

    Raises:
        ServerError: No PostgreSQL server is installed.
    """
    candidates = glob.glob("/usr/lib/postgresql/*/bin/postgres")
    if candidates:
        newest = max(candidates, key=lambda path: _version_key(Path(path).parent.parent.name))
        return Path(newest).parent
    on_path = shutil.which("postgres")
    if on_path is not None:
        return Path(on_path).parent
    raise ServerError(
        "no PostgreSQL server found under /usr/lib/postgresql/*/bin or on PATH: "
        "run `tools/services install postgresql` (as root)"
    )


# ---------------------------------------------------------------------- helpers


def _initdb(data: Path) -> None:
    password_file = data.parent / "superuser-password"
    password_file.write_text(SUPERUSER_PASSWORD + "\n")
    _give_to_server_user(password_file)
    command = [
        str(postgres_bindir() / "initdb"),
        *("-D", str(data), "-U", SUPERUSER, f"--pwfile={password_file}"),
        *("--auth=scram-sha-256", "--encoding=UTF8", "--locale=C", "--no-sync"),
    ]
    result = subprocess.run(
        command,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
        cwd=data.parent,
        **_as_server_user(),
    )
    password_file.unlink()
    if result.returncode != 0:
        raise ServerStartError(f"initdb failed ({result.returncode}):\n{result.stderr[-2000:]}")


def _server_user() -> pwd.struct_passwd | None:
    """The user PostgreSQL runs as: ``postgres`` when we are root, else ourselves (None)."""
    if os.geteuid() != 0:
        return None
    try:
        return pwd.getpwnam("postgres")
    except KeyError:
        raise ServerError(
            "PostgreSQL refuses to run as root and there is no `postgres` user: "
            "run `tools/services install postgresql` (it creates one)"
        ) from None


def _as_server_user() -> dict[str, Any]:
    user = _server_user()
    if user is None:
        return {}
    return {"user": user.pw_uid, "group": user.pw_gid, "extra_groups": []}


def _give_to_server_user(path: Path) -> None:
    user = _server_user()
    if user is not None:
        os.chown(path, user.pw_uid, user.pw_gid)


def _version_key(version: str) -> tuple[int, ...]:
    return tuple(int(part) for part in re.findall(r"\d+", version))
