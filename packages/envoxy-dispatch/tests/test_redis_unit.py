"""Unit tests of envoxy.redis that need no server: settings, exports, import hygiene."""

import pytest

import envoxy.redis
from envoxy.exceptions import ConfigError
from envoxy.redis import RedisClient, RedisSettings, redisc
from envoxy.redis.dispatcher import Dispatcher
from envoxy_testing.exports import all_problems
from envoxy_testing.interpreter import run_python


def test_exports_match_all() -> None:
    assert all_problems("envoxy.redis", exact=True) == []
    assert {"redisc", "Dispatcher", "RedisClient"} <= set(envoxy.redis.__all__)


def test_redisc_is_the_dispatcher_class() -> None:
    assert redisc is Dispatcher


def test_settings_defaults() -> None:
    settings = RedisSettings.from_config("k", {})
    assert (settings.host, settings.port, settings.db, settings.ttl) == ("127.0.0.1", 6379, 1, 3600)
    assert (settings.connect_timeout, settings.socket_timeout) == (5.0, 5.0)
    assert settings.max_connections == 50


def test_bind_host_and_port_win_over_host_key() -> None:
    settings = RedisSettings.from_config(
        "k", {"bind": "redis.local:6380", "host": "ignored", "port": 1}
    )
    assert (settings.host, settings.port) == ("redis.local", 6380)


def test_bind_ipv6_in_brackets() -> None:
    settings = RedisSettings.from_config("k", {"bind": "[::1]:6390"})
    assert (settings.host, settings.port) == ("::1", 6390)


def test_numeric_strings_are_accepted() -> None:
    settings = RedisSettings.from_config(
        "k", {"port": "6381", "db": "3", "ttl": "60", "socket_timeout": "0.5"}
    )
    assert (settings.port, settings.db, settings.ttl, settings.socket_timeout) == (6381, 3, 60, 0.5)


def test_null_timeout_means_no_timeout() -> None:
    settings = RedisSettings.from_config("k", {"socket_timeout": None})
    assert settings.socket_timeout is None


@pytest.mark.parametrize(
    ("conf", "setting"),
    [
        ({"port": "not-a-port"}, "redis_servers.k.port"),
        ({"socket_timeout": 0}, "redis_servers.k.socket_timeout"),
        ({"ttl": -5}, "redis_servers.k.ttl"),
        ({"max_connections": 0}, "redis_servers.k.max_connections"),
    ],
)
def test_invalid_setting_names_the_setting(conf: dict[str, object], setting: str) -> None:
    with pytest.raises(ConfigError, match=setting.replace(".", r"\.")):
        RedisSettings.from_config("k", conf)


def test_close_without_use_is_idempotent() -> None:
    client = RedisClient()
    client.close()
    client.close()


def test_import_reads_no_config_and_imports_no_driver() -> None:
    code = (
        "import sys\n"
        "import envoxy.redis, envoxy.postgresql, envoxy.couchdb, envoxy.cache\n"
        "import envoxy.db.dispatcher\n"
        "loaded = [m for m in ('redis', 'psycopg2', 'httpx', 'sqlalchemy') if m in sys.modules]\n"
        "assert not loaded, loaded\n"
        "from envoxy.utils.config import Config\n"
        "print('ok')\n"
    )
    result = run_python(code, env={"ENVOXY_CONFIG": "/nonexistent/envoxy.json"})
    assert result.stdout.strip() == "ok"


def test_missing_redis_package_names_the_extra(tmp_path: object) -> None:
    code = (
        "import sys, json, tempfile, os\n"
        "sys.modules['redis'] = None\n"
        "path = os.path.join(tempfile.mkdtemp(), 'envoxy.json')\n"
        "open(path, 'w').write(json.dumps({'redis_servers': {'k': {'bind': '127.0.0.1:1'}}}))\n"
        "from envoxy.utils.config import Config\n"
        "Config.set_file_path(path)\n"
        "from envoxy.redis import redisc\n"
        "from envoxy.exceptions import MissingDependencyError\n"
        "try:\n"
        "    redisc.get('k', 'x')\n"
        "except MissingDependencyError as exc:\n"
        "    print(exc)\n"
    )
    assert "envoxy-dispatch[redis]" in run_python(code).stdout
