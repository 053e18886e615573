"""Config: path precedence, caching, interpolation, errors and server lookup."""

import json
import subprocess
import sys
import types
from pathlib import Path

import pytest

from envoxy.exceptions import ConfigError
from envoxy.utils.config import CONFIG_ENV_VAR, Config, Configuration
from envoxy_testing.threads import all_at_once

_OPENED: list[tuple[str, str]] = []


def _record_open(event: str, args: tuple[object, ...]) -> None:
    if event == "open" and isinstance(args[0], str) and args[0].endswith("envoxy.json"):
        _OPENED.append((args[0], str(args[1])))


sys.addaudithook(_record_open)


@pytest.fixture(autouse=True)
def _no_config_env(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(CONFIG_ENV_VAR, raising=False)
    monkeypatch.delitem(sys.modules, "uwsgi", raising=False)


def write_config(directory: Path, content: object, name: str = "envoxy.json") -> Path:
    path = directory / name
    path.write_text(content if isinstance(content, str) else json.dumps(content))
    return path


def opens_of(path: Path) -> int:
    """How many times ``path`` was opened for reading since the test began."""
    return _OPENED.count((str(path), "r"))


def test_get_returns_top_level_section(tmp_path: Path) -> None:
    config = Configuration(write_config(tmp_path, {"log": {"level": 7}, "modules": ["a"]}))
    assert config.get("log") == {"level": 7}
    assert config.get("modules") == ["a"]


def test_get_missing_section_returns_a_new_empty_dict(tmp_path: Path) -> None:
    config = Configuration(write_config(tmp_path, {"log": {}}))
    first = config.get("absent")
    first["polluted"] = True
    assert config.get("absent") == {}


def test_get_without_any_file_returns_empty_dict() -> None:
    config = Configuration()
    assert config.file_path is None
    assert config.get("log") == {}
    assert config.plugins() == {}


def test_document_is_the_whole_interpolated_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("ENVOXY_TEST_DB_PASSWORD", "s3cret")
    config = Configuration(
        write_config(
            tmp_path,
            {"mine": {"x": 1}, "psql_servers": {"a": {"passwd": "${ENVOXY_TEST_DB_PASSWORD}"}}},
        )
    )
    document = config.document()
    assert document == {"mine": {"x": 1}, "psql_servers": {"a": {"passwd": "s3cret"}}}
    assert config.get("mine") is document["mine"]
    assert Configuration().document() == {}


def test_plugins_is_the_plugins_section(tmp_path: Path) -> None:
    config = Configuration(write_config(tmp_path, {"plugins": {"auth": "my_auth"}}))
    assert config.plugins() == {"auth": "my_auth"}


def test_file_is_parsed_once_until_reload(tmp_path: Path) -> None:
    path = write_config(tmp_path, {"a": 1})
    config = Configuration(path)
    for _ in range(5):
        assert config.get("a") == 1
    assert opens_of(path) == 1
    path.write_text(json.dumps({"a": 2}))
    assert config.get("a") == 1
    config.reload()
    assert config.get("a") == 2
    assert opens_of(path) == 2


def test_set_file_path_drops_the_cache(tmp_path: Path) -> None:
    first = write_config(tmp_path, {"a": 1}, "first-envoxy.json")
    second = write_config(tmp_path, {"a": 2}, "second-envoxy.json")
    config = Configuration(first)
    assert config.get("a") == 1
    config.set_file_path(second)
    assert config.file_path == str(second)
    assert config.get("a") == 2


def test_concurrent_first_use_parses_once(tmp_path: Path) -> None:
    path = write_config(tmp_path, {"section": {"key": "value"}})
    config = Configuration(path)
    results = all_at_once(lambda _: config.get("section"), 50)
    assert results == [{"key": "value"}] * 50
    assert opens_of(path) == 1


def test_environment_variable_wins_over_set_file_path(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    explicit = write_config(tmp_path, {"source": "explicit"}, "explicit-envoxy.json")
    from_env = write_config(tmp_path, {"source": "env"}, "env-envoxy.json")
    config = Configuration(explicit)
    monkeypatch.setenv(CONFIG_ENV_VAR, str(from_env))
    assert config.file_path == str(from_env)
    assert config.get("source") == "env"


def test_the_daemon_path_wins_over_environment_and_set_file_path(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    explicit = write_config(tmp_path, {"source": "explicit"}, "explicit-envoxy.json")
    from_env = write_config(tmp_path, {"source": "env"}, "env-envoxy.json")
    from_daemon = write_config(tmp_path, {"source": "daemon"}, "daemon-envoxy.json")
    config = Configuration(explicit)
    monkeypatch.setenv(CONFIG_ENV_VAR, str(from_env))
    assert config.get("source") == "env"
    config.set_daemon_path(from_daemon)
    assert config.file_path == str(from_daemon)
    assert config.get("source") == "daemon"
    config.set_daemon_path(None)
    assert config.get("source") == "env"


def test_uwsgi_conf_option_wins_over_environment(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from_uwsgi = write_config(tmp_path, {"source": "uwsgi"}, "uwsgi-envoxy.json")
    from_env = write_config(tmp_path, {"source": "env"}, "env-envoxy.json")
    monkeypatch.setenv(CONFIG_ENV_VAR, str(from_env))
    # The uwsgi module only exists inside a uWSGI process: stand in for it.
    fake_uwsgi = types.SimpleNamespace(opt={"conf": str(from_uwsgi).encode()})
    monkeypatch.setitem(sys.modules, "uwsgi", fake_uwsgi)
    config = Configuration()
    assert config.file_path == str(from_uwsgi)
    assert config.get("source") == "uwsgi"


def test_uwsgi_without_conf_option_falls_back_to_environment(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from_env = write_config(tmp_path, {"source": "env"})
    monkeypatch.setenv(CONFIG_ENV_VAR, str(from_env))
    monkeypatch.setitem(sys.modules, "uwsgi", types.SimpleNamespace(opt={}))
    assert Configuration().get("source") == "env"


def test_file_path_can_be_assigned(tmp_path: Path) -> None:
    path = write_config(tmp_path, {"a": 1})
    config = Configuration()
    config.file_path = str(path)
    assert config.get("a") == 1


def test_malformed_json_names_file_line_and_column(tmp_path: Path) -> None:
    path = write_config(tmp_path, '{\n  "log": {"level": 6},\n  "modules" ["x"]\n}\n')
    with pytest.raises(ConfigError) as caught:
        Configuration(path).get("log")
    message = str(caught.value)
    assert str(path) in message
    assert "line 3" in message
    assert "column 13" in message


def test_missing_file_names_the_path(tmp_path: Path) -> None:
    path = tmp_path / "nowhere" / "envoxy.json"
    with pytest.raises(ConfigError, match=str(path).replace(".", r"\.")):
        Configuration(path).get("log")


def test_directory_instead_of_file_is_a_config_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="cannot read"):
        Configuration(tmp_path).get("log")


@pytest.mark.parametrize("document", ["[1, 2]", '"text"', "42", "null"])
def test_top_level_that_is_not_an_object_is_rejected(tmp_path: Path, document: str) -> None:
    path = write_config(tmp_path, document)
    with pytest.raises(ConfigError, match="top level must be a JSON object"):
        Configuration(path).get("log")


def test_utf8_byte_order_mark_is_accepted(tmp_path: Path) -> None:
    path = tmp_path / "envoxy.json"
    path.write_bytes(b'\xef\xbb\xbf{"a": "\xc3\xa9"}')
    assert Configuration(path).get("a") == "é"


def test_strings_are_interpolated_recursively(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("ENVOXY_TEST_DB_HOST", "db.internal")
    monkeypatch.setenv("ENVOXY_TEST_DB_PASS", "s3cret")
    monkeypatch.delenv("ENVOXY_TEST_DB_PORT", raising=False)
    path = write_config(
        tmp_path,
        {
            "psql_servers": {
                "default": {
                    "host": "${ENVOXY_TEST_DB_HOST}",
                    "port": "${ENVOXY_TEST_DB_PORT:-5432}",
                    "passwd": "${ENVOXY_TEST_DB_PASS}",
                    "max_conn": 20,
                }
            },
            "modules": ["${ENVOXY_TEST_DB_HOST}/views.py", "$${ENVOXY_TEST_DB_HOST}"],
        },
    )
    config = Configuration(path)
    assert config.server("psql_servers", "default") == {
        "host": "db.internal",
        "port": "5432",
        "passwd": "s3cret",
        "max_conn": 20,
    }
    assert config.get("modules") == ["db.internal/views.py", "${ENVOXY_TEST_DB_HOST}"]


def test_unset_variable_without_default_names_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("ENVOXY_TEST_UNSET_VARIABLE", raising=False)
    servers = {"default": {"passwd": "${ENVOXY_TEST_UNSET_VARIABLE}"}}
    path = write_config(tmp_path, {"redis_servers": servers})
    with pytest.raises(ConfigError) as caught:
        Configuration(path).get("redis_servers")
    message = str(caught.value)
    assert "ENVOXY_TEST_UNSET_VARIABLE" in message
    assert "redis_servers.default.passwd" in message
    assert str(path) in message


@pytest.mark.parametrize(
    "password",
    ["MARKER-pa${ss-SECRET", "MARKER${", "${MARKER-SECRET}", "MARKER-${}", "$${MARKER${"],
)
def test_a_stray_reference_in_a_password_is_never_printed(tmp_path: Path, password: str) -> None:
    servers = {"default": {"host": "db", "password": password}}
    path = write_config(tmp_path, {"psql_servers": servers})
    with pytest.raises(ConfigError) as caught:
        Configuration(path).get("psql_servers")
    message = str(caught.value)
    assert "MARKER" not in message
    assert "SECRET" not in message
    assert "psql_servers.default.password" in message
    assert "not a valid variable reference" in message or "does not start" in message
    assert "not shown" in message


def test_server_returns_the_entry(tmp_path: Path) -> None:
    path = write_config(
        tmp_path, {"redis_servers": {"default": {"bind": "127.0.0.1:6379"}, "cache": {}}}
    )
    assert Configuration(path).server("redis_servers", "cache") == {}


def test_server_without_key_uses_the_default_entry(tmp_path: Path) -> None:
    path = write_config(
        tmp_path,
        {"psql_servers": {"default": "analytics", "main": {"db": "a"}, "analytics": {"db": "b"}}},
    )
    config = Configuration(path)
    assert config.server("psql_servers") == {"db": "b"}


def test_server_without_key_or_default_uses_the_first_entry(tmp_path: Path) -> None:
    path = write_config(tmp_path, {"mqtt_servers": {"first": {"bind": "x"}, "second": {}}})
    assert Configuration(path).server("mqtt_servers") == {"bind": "x"}


def test_unknown_server_key_names_section_key_and_known_keys(tmp_path: Path) -> None:
    path = write_config(tmp_path, {"redis_servers": {"default": {}, "sessions": {}}})
    with pytest.raises(ConfigError) as caught:
        Configuration(path).server("redis_servers", "cache")
    message = str(caught.value)
    assert "'redis_servers'" in message
    assert "'cache'" in message
    assert "default, sessions" in message


def test_server_in_missing_section_is_a_config_error(tmp_path: Path) -> None:
    path = write_config(tmp_path, {})
    with pytest.raises(ConfigError, match=r"no server key 'default'.*known keys: \(none\)"):
        Configuration(path).server("zmq_servers", "default")


def test_server_entry_that_is_not_an_object_is_rejected(tmp_path: Path) -> None:
    path = write_config(tmp_path, {"couchdb_servers": {"main": "http://x"}})
    with pytest.raises(ConfigError, match="must be an object"):
        Configuration(path).server("couchdb_servers", "main")


def test_credentials_come_from_the_registered_provider() -> None:
    config = Configuration()
    assert config.get_credentials() == {}
    config.set_credentials_provider(lambda: {"client_id": "abc", "access_token": "t"})
    assert config.get_credentials() == {"client_id": "abc", "access_token": "t"}
    config.set_credentials_provider(None)
    assert config.get_credentials() == {}


def test_shared_config_uses_set_file_path(tmp_path: Path) -> None:
    path = write_config(tmp_path, {"shared": {"ok": True}})
    previous = Config.file_path
    Config.set_file_path(path)
    try:
        assert Config.get("shared") == {"ok": True}
        assert Config.file_path == str(path)
    finally:
        Config.set_file_path(previous)


def test_config_reads_nothing_until_first_use(tmp_path: Path) -> None:
    path = write_config(tmp_path, "{ not json")
    config = Configuration(path)
    assert config.file_path == str(path)
    assert opens_of(path) == 0
    with pytest.raises(ConfigError, match="invalid JSON at line 1, column 3"):
        config.load()
    assert opens_of(path) == 1


def test_set_conf_wins_inside_a_real_uwsgi_process(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    pytest.importorskip("pyuwsgi", reason="pyuwsgi comes with envoxy-daemon")
    from_uwsgi = write_config(tmp_path, {"source": "uwsgi"}, "uwsgi-envoxy.json")
    from_env = write_config(tmp_path, {"source": "env"}, "env-envoxy.json")
    probe = tmp_path / "probe.py"
    probe.write_text(
        "from envoxy.utils.config import Config\n"
        "print('RESULT', Config.file_path, Config.get('source'), flush=True)\n"
    )
    monkeypatch.setenv(CONFIG_ENV_VAR, str(from_env))
    arguments = ["--set", f"conf={from_uwsgi}", "--pyrun", str(probe), "--disable-logging"]
    completed = subprocess.run(
        [sys.executable, "-c", f"import pyuwsgi; pyuwsgi.run({arguments!r})"],
        capture_output=True,
        text=True,
        timeout=60,
        cwd=tmp_path,
    )
    output = completed.stdout + completed.stderr  # uWSGI may send stdout to its log
    results = [line for line in output.splitlines() if line.startswith("RESULT")]
    assert results == [f"RESULT {from_uwsgi} uwsgi"], output
