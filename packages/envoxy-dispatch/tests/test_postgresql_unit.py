"""Unit tests of envoxy.postgresql that need no server: settings, retry policy, formats."""

import datetime

import pytest

from envoxy.db.exceptions import DatabaseException
from envoxy.exceptions import ConfigError, TimeoutError
from envoxy.postgresql import (
    PostgresClient,
    PostgresSettings,
    QueryError,
    QueryTimeoutError,
    UnknownServerError,
    pgsqlc,
)
from envoxy.postgresql.dispatcher import Dispatcher
from envoxy.postgresql.typecasts import format_utc
from envoxy_testing.exports import all_problems
from envoxy_testing.interpreter import run_python


def test_exports_match_all() -> None:
    assert all_problems("envoxy.postgresql", exact=True) == []
    assert pgsqlc is Dispatcher


def test_unknown_server_error_is_both_database_and_config_error() -> None:
    assert issubclass(UnknownServerError, DatabaseException)
    assert issubclass(UnknownServerError, ConfigError)


def test_settings_from_fields() -> None:
    settings = PostgresSettings.from_config(
        "main", {"host": "db", "port": "5433", "db": "app", "user": "u", "passwd": "hunter2"}
    )
    kwargs = settings.connect_kwargs
    assert (kwargs["host"], kwargs["port"], kwargs["dbname"]) == ("db", 5433, "app")
    assert (kwargs["user"], kwargs["password"], kwargs["connect_timeout"]) == ("u", "hunter2", 5)
    assert "TimeZone=UTC" in kwargs["options"]
    assert (settings.max_conn, settings.conn_timeout) == (20, 5.0)
    assert "hunter2" not in repr(settings)


def test_settings_from_a_sqlalchemy_url_with_escaped_credentials() -> None:
    settings = PostgresSettings.from_config(
        "main", {"url": "postgresql+psycopg2://us%40er:p%3Ass@db.local:6543/app?sslmode=disable"}
    )
    kwargs = settings.connect_kwargs
    assert (kwargs["user"], kwargs["password"]) == ("us@er", "p:ss")
    assert (kwargs["host"], kwargs["port"], kwargs["dbname"]) == ("db.local", 6543, "app")
    assert kwargs["sslmode"] == "disable"


def test_dsn_is_an_alias_of_url() -> None:
    settings = PostgresSettings.from_config("main", {"dsn": "postgres://db/app"})
    assert settings.connect_kwargs["dbname"] == "app"


def test_non_postgresql_url_raises_database_exception() -> None:
    with pytest.raises(DatabaseException, match=r"psql_servers\.main\.url is a mysql"):
        PostgresSettings.from_config("main", {"url": "mysql://db/app"})


def test_statement_timeout_becomes_a_session_option() -> None:
    settings = PostgresSettings.from_config("main", {"statement_timeout": "1.5"})
    assert "statement_timeout=1500" in settings.connect_kwargs["options"]


def test_timeout_is_the_deadline_and_the_default_statement_timeout() -> None:
    settings = PostgresSettings.from_config("main", {"timeout": "2.4"})
    kwargs = settings.connect_kwargs
    assert settings.timeout == 2.4
    assert kwargs["connect_timeout"] == 2  # whole seconds, rounded
    assert "statement_timeout=2400" in kwargs["options"]
    assert kwargs["tcp_user_timeout"] == 2400
    assert (kwargs["keepalives"], kwargs["keepalives_idle"]) == (1, 15)
    assert (
        PostgresSettings.from_config("main", {"timeout": 0.3}).connect_kwargs["connect_timeout"]
        == 1
    )
    assert PostgresSettings.from_config("main", {}).timeout == 5.0


@pytest.mark.parametrize("timeout", [0, -1, "0"])
def test_a_timeout_that_is_not_positive_is_refused(timeout: object) -> None:
    with pytest.raises(DatabaseException, match=r"psql_servers\.main\.timeout must be a positive"):
        PostgresSettings.from_config("main", {"timeout": timeout})


def test_statement_timeout_zero_leaves_the_server_setting() -> None:
    settings = PostgresSettings.from_config("main", {"statement_timeout": 0})
    assert "statement_timeout" not in settings.connect_kwargs["options"]


def test_url_options_come_first_and_keep_their_statement_timeout() -> None:
    url = "postgresql://db/app?options=-c%20statement_timeout%3D60000&connect_timeout=9"
    kwargs = PostgresSettings.from_config("main", {"url": url}).connect_kwargs
    assert kwargs["options"].startswith("-c statement_timeout=60000 -c TimeZone=UTC")
    assert kwargs["options"].count("statement_timeout") == 1
    assert kwargs["connect_timeout"] == "9"  # the URL wins (a call's deadline still applies)
    explicit = {"url": url, "statement_timeout": 2}
    options = PostgresSettings.from_config("main", explicit).connect_kwargs["options"]
    assert options.endswith("-c statement_timeout=2000")  # the last -c wins


def test_query_timeout_error_is_a_query_error_and_a_timeout() -> None:
    error = QueryTimeoutError("slow", "57014")
    assert isinstance(error, QueryError)
    assert isinstance(error, TimeoutError)
    assert error.pgcode == "57014"


def test_invalid_number_names_the_setting() -> None:
    with pytest.raises(ConfigError, match=r"psql_servers\.main\.max_conn"):
        PostgresSettings.from_config("main", {"max_conn": "many"})


def test_format_utc_truncates_milliseconds_and_converts_to_utc() -> None:
    plus_two = datetime.timezone(datetime.timedelta(hours=2))
    moment = datetime.datetime(2024, 5, 1, 12, 30, 45, 999999, tzinfo=plus_two)
    assert format_utc(moment) == "2024-05-01T10:30:45.999+0000"
    assert format_utc(datetime.datetime(2024, 5, 1)) == "2024-05-01T00:00:00.000+0000"


def test_empty_sql_raises_before_reading_config() -> None:
    with pytest.raises(DatabaseException, match="Sql cannot be empty"):
        PostgresClient().query("main", "")


def test_missing_psycopg2_names_the_extra() -> None:
    code = (
        "import sys, json, tempfile, os\n"
        "sys.modules['psycopg2'] = None\n"
        "path = os.path.join(tempfile.mkdtemp(), 'envoxy.json')\n"
        "open(path, 'w').write(json.dumps({'psql_servers': {'k': {'host': '127.0.0.1'}}}))\n"
        "from envoxy.utils.config import Config\n"
        "Config.set_file_path(path)\n"
        "from envoxy.postgresql import pgsqlc\n"
        "from envoxy.exceptions import MissingDependencyError\n"
        "try:\n"
        "    pgsqlc.query('k', 'SELECT 1')\n"
        "except MissingDependencyError as exc:\n"
        "    print(exc)\n"
    )
    assert "envoxy-dispatch[postgres]" in run_python(code).stdout


def test_db_dispatcher_keeps_the_07_names() -> None:
    from envoxy.couchdb import couchdbc
    from envoxy.db.dispatcher import CouchDBDispatcher, PgDispatcher, RedisDBDispatcher
    from envoxy.redis import redisc

    assert (PgDispatcher, CouchDBDispatcher, RedisDBDispatcher) == (pgsqlc, couchdbc, redisc)


def test_hosts_and_target_session_attrs_become_libpq_lists() -> None:
    settings = PostgresSettings.from_config(
        "main",
        {"hosts": ["db-a:5432", "db-b", "[::1]:5434"], "port": 6000, "db": "app",
         "target_session_attrs": "read-write"},
    )  # fmt: skip
    kwargs = settings.connect_kwargs
    assert (kwargs["host"], kwargs["port"]) == ("db-a,db-b,::1", "5432,6000,5434")
    assert kwargs["target_session_attrs"] == "read-write"
    assert settings.describe() == "psql_servers.main (db-a:5432,db-b:6000,::1:5434/app)"
    url = "postgresql+psycopg2://u:p@/app?host=db-a:5432&host=db-b:5433&target_session_attrs=any"
    kwargs = PostgresSettings.from_config("main", {"url": url}).connect_kwargs
    assert (kwargs["host"], kwargs["port"], kwargs["dbname"]) == ("db-a,db-b", "5432,5433", "app")
    assert kwargs["target_session_attrs"] == "any"
    with pytest.raises(ConfigError, match="target_session_attrs"):
        PostgresSettings.from_config("main", {"hosts": ["a"], "target_session_attrs": "primary!"})
    with pytest.raises(ConfigError, match="both host and hosts"):
        PostgresSettings.from_config("main", {"host": "a", "hosts": ["b"]})
    with pytest.raises(ConfigError, match="non-empty list"):
        PostgresSettings.from_config("main", {"hosts": []})


def test_pooler_settings_send_no_options_and_set_each_transaction() -> None:
    settings = PostgresSettings.from_config(
        "main",
        {"db": "app", "pooler": "transaction", "schema": 'we"ird%', "timeout": 2,
         "statement_timeout": 1.5},
    )  # fmt: skip
    assert "options" not in settings.connect_kwargs
    assert settings.pooler == "transaction"
    assert settings.transaction_sql == (
        "SET LOCAL statement_timeout = 1500; SET LOCAL TimeZone = 'UTC'; "
        'SET LOCAL DateStyle = \'ISO\'; SET LOCAL search_path = "we""ird%"; '
    )
    plain = PostgresSettings.from_config("main", {"db": "app", "pooler": "none"})
    assert (plain.pooler, plain.transaction_sql) == (None, "")
    assert "statement_timeout=5000" in plain.connect_kwargs["options"]
    no_limit = PostgresSettings.from_config(
        "main", {"db": "app", "pooler": "transaction", "statement_timeout": 0}
    )
    assert "statement_timeout" not in no_limit.transaction_sql
