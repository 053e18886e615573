"""celeryc configuration from envoxy.json (no broker needed)."""

import json
import math
import pathlib
import ssl
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from envoxy.celery import celeryc
from envoxy.celery.settings import build_settings, publish_worst_case
from envoxy.exceptions import ConfigError
from envoxy.utils.config import Config
from envoxy_testing.interpreter import run_python

Configure = Callable[[dict[str, Any]], pathlib.Path]


@pytest.fixture
def configure(tmp_path: pathlib.Path) -> Iterator[Configure]:
    previous = Config.file_path

    def write(document: dict[str, Any]) -> pathlib.Path:
        path = tmp_path / "envoxy.json"
        path.write_text(json.dumps(document))
        Config.set_file_path(path)
        return path

    yield write
    Config.set_file_path(previous)


def test_no_broker_raises_config_error_naming_both_sources(configure: Configure) -> None:
    configure({"redis_servers": {"cache": {"bind": "127.0.0.1:6379"}}})
    with pytest.raises(ConfigError, match=r"amqp_servers.*redis_servers\.celery"):
        build_settings()
    with pytest.raises(ConfigError, match="needs a broker"):
        celeryc.initialize()


def test_amqp_broker_escapes_credentials_and_vhost(configure: Configure) -> None:
    configure(
        {
            "amqp_servers": {
                "main": {"host": "rabbit", "user": "svc@x", "passwd": "p:a/s#s", "vhost": "/"},
                "other": {"host": "ignored"},
            },
            "redis_servers": {"celery": {"bind": "10.0.0.2:6380", "db": 4}},
        }
    )
    settings = build_settings()
    assert settings["broker_url"] == "amqp://svc%40x:p%3Aa%2Fs%23s@rabbit:5672/%2F"
    assert settings["result_backend"] == "redis://10.0.0.2:6380/4"
    assert "broker_use_ssl" not in settings
    assert build_settings("other")["broker_url"] == "amqp://ignored:5672/%2F"
    with pytest.raises(ConfigError, match=r"amqp_servers.*'missing'"):
        build_settings("missing")


def test_amqps_when_cert_path_is_set(configure: Configure) -> None:
    configure({"amqp_servers": {"tls": {"host": "rabbit", "cert_path": "/etc/ca.pem"}}})
    settings = build_settings()
    assert settings["broker_url"] == "amqps://rabbit:5671/%2F"
    assert settings["broker_use_ssl"] == {"ca_certs": "/etc/ca.pem", "cert_reqs": ssl.CERT_REQUIRED}


def test_redis_celery_is_the_broker_fallback_with_timeouts(configure: Configure) -> None:
    configure(
        {
            "redis_servers": {
                "celery": {"host": "r", "port": "6390", "passwd": "s3cr:t", "socket_timeout": 2}
            }
        }
    )
    settings = build_settings()
    assert settings["broker_url"] == "redis://:s3cr%3At@r:6390/1"
    assert settings["result_backend"] == settings["broker_url"]
    assert settings["broker_transport_options"] == {
        "socket_timeout": 2.0,
        "socket_connect_timeout": 5.0,
    }
    assert settings["redis_socket_timeout"] == 2.0


def test_task_modules_packages_and_default_queue(
    configure: Configure, tmp_path: pathlib.Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    package = tmp_path / "celery_probe_pkg"
    package.mkdir()
    (package / "__init__.py").write_text("")
    (package / "tasks.py").write_text("")
    (tmp_path / "celery_probe_bare").mkdir()
    (tmp_path / "celery_probe_bare" / "__init__.py").write_text("")
    monkeypatch.syspath_prepend(str(tmp_path))
    configure(
        {
            "redis_servers": {"celery": {"bind": "127.0.0.1:6379"}},
            "task_modules": ["my.tasks"],
            "packages": ["celery_probe_pkg", "celery_probe_bare"],
            "default_task_queue": "jobs",
        }
    )
    settings = build_settings()
    assert settings["include"] == [
        "my.tasks",
        "celery_probe_pkg",
        "celery_probe_pkg.tasks",
        "celery_probe_bare",
    ]
    assert settings["task_routes"] == {
        f"{module}.*": {"queue": "jobs"} for module in settings["include"]
    }


def test_mongodb_celery_configures_celerybeat_mongo(configure: Configure) -> None:
    configure(
        {
            "redis_servers": {"celery": {"bind": "127.0.0.1:6379"}},
            "mongodb_servers": {
                "celery": {"user": "u", "passwd": "p@ss", "host": "m", "port": 27017, "db": "beat"}
            },
        }
    )
    settings = build_settings()
    assert settings["mongodb_scheduler_db"] == "beat"
    assert settings["mongodb_scheduler_url"] == "mongodb://u:p%40ss@m:27017/beat"


def test_initialize_reconfigures_the_app_from_the_current_file(configure: Configure) -> None:
    configure({"redis_servers": {"celery": {"bind": "127.0.0.1:6391", "db": 3}}})
    app = celeryc.initialize()
    assert app.conf.broker_url == "redis://127.0.0.1:6391/3"
    configure({"amqp_servers": {"q": {"host": "rabbit", "port": 5673}}})
    assert celeryc.initialize() is app
    assert app.conf.broker_url == "amqp://rabbit:5673/%2F"
    assert celeryc.app is app


def test_importing_envoxy_celery_imports_no_celery_and_reads_no_config() -> None:
    code = (
        "import sys, threading, envoxy.celery\n"
        "from envoxy.celery import celeryc\n"
        "from envoxy.utils.config import Config\n"
        "assert 'celery' not in sys.modules, 'celery imported'\n"
        "assert Config._data is None, 'config read'\n"
        "app = envoxy.celery.app\n"
        "assert celeryc.app is app\n"
        "assert Config._data is None, 'config read when the app was created'\n"
        "assert threading.active_count() == 1\n"
        "try:\n"
        "    app.conf.broker_url\n"
        "except Exception as exc:\n"
        "    print(type(exc).__name__, exc)\n"
    )
    done = run_python(code, env={"ENVOXY_CONFIG": "/nonexistent/envoxy.json"})
    assert done.stdout.startswith("ConfigError")
    assert "/nonexistent/envoxy.json" in done.stdout


def test_redis_celery_is_read_as_redisc_reads_it(configure: Configure) -> None:
    # one parser for redis_servers.celery: bind with IPv6, null = no timeout, named errors
    configure({"redis_servers": {"celery": {"bind": "[::1]:6390", "socket_timeout": None}}})
    settings = build_settings()
    assert settings["broker_url"] == "redis://[::1]:6390/1"
    assert settings["broker_transport_options"]["socket_timeout"] is None
    assert publish_worst_case({"socket_timeout": None}) == math.inf
    assert publish_worst_case({"connect_timeout": 1, "socket_timeout": "2"}) == 1 + 2 * 2
    configure({"redis_servers": {"celery": {"bind": "h:port"}}})
    with pytest.raises(ConfigError, match=r"redis_servers\.celery\.bind port"):
        build_settings()


def test_redis_shapes_reach_kombu_and_the_result_backend(configure: Configure) -> None:
    sentinel = {
        "sentinels": ["s1:26379", "[::1]:26380"],
        "service_name": "main",
        "sentinel_passwd": "sp",
        "passwd": "p@ss",
        "db": 2,
    }
    configure({"redis_servers": {"celery": sentinel}})
    settings = build_settings()
    assert (
        settings["broker_url"] == "sentinel://:p%40ss@s1:26379/2;sentinel://:p%40ss@[::1]:26380/2"
    )
    assert settings["result_backend"] == settings["broker_url"]
    options = settings["broker_transport_options"]
    assert options["master_name"] == "main"
    assert options["sentinel_kwargs"]["password"] == "sp"
    assert settings["result_backend_transport_options"]["master_name"] == "main"

    tls = {
        "url": "rediss://r:6380/0",
        "ca_cert": "/ca.pem",
        "client_cert": "/c",
        "client_key": "/k",
    }
    configure({"redis_servers": {"celery": tls}})
    settings = build_settings()
    assert settings["broker_url"] == settings["result_backend"] == "rediss://r:6380/0"
    expected = {
        "ssl_cert_reqs": ssl.CERT_REQUIRED,
        "ssl_ca_certs": "/ca.pem",
        "ssl_certfile": "/c",
        "ssl_keyfile": "/k",
    }
    assert settings["broker_use_ssl"] == settings["redis_backend_use_ssl"] == expected

    configure({"redis_servers": {"celery": {"bind": "r:6380", "tls": True, "db": 4}}})
    assert build_settings()["broker_url"] == "rediss://r:6380/4"

    configure({"redis_servers": {"celery": {"cluster": True, "bind": "r:7000"}}})
    with pytest.raises(ConfigError, match="do not speak Redis Cluster"):
        build_settings()


def test_initialize_again_drops_settings_and_the_backend_of_the_former_broker(
    configure: Configure,
) -> None:
    sentinel = {"sentinels": ["127.0.0.1:1"], "service_name": "main"}
    configure({"redis_servers": {"celery": sentinel}})
    try:
        app = celeryc.initialize()
        assert app.conf.result_backend_transport_options["master_name"] == "main"
        assert type(app.backend).__name__ == "SentinelBackend"
        configure({"redis_servers": {"celery": {"bind": "127.0.0.1:1", "db": 5}}})
        app = celeryc.initialize()
        assert app.conf.result_backend_transport_options == {}  # Celery's default again
        assert "master_name" not in app.conf.broker_transport_options
        assert type(app.backend).__name__ == "RedisBackend"
        assert app.conf.result_backend == "redis://127.0.0.1:1/5"
    finally:
        celeryc.close()
