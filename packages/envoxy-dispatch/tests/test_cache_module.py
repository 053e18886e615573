"""Unit tests of envoxy.cache that need no server: lazy config, backends, the callable module."""

import importlib
import json
import pathlib
from collections.abc import Iterator

import pytest

from envoxy.cache import Cache, RedisCache
from envoxy.exceptions import ConfigError
from envoxy.utils.config import Config
from envoxy_testing.exports import all_problems
from envoxy_testing.interpreter import run_python


@pytest.fixture
def config_at(tmp_path: pathlib.Path) -> Iterator[pathlib.Path]:
    path = tmp_path / "envoxy.json"
    with pytest.MonkeyPatch.context() as patch:
        patch.delenv("ENVOXY_CONFIG", raising=False)
        previous = Config.file_path
        Config.set_file_path(path)
        yield path
        Config.set_file_path(previous)


def test_exports_match_all() -> None:
    module = importlib.import_module("envoxy.cache")
    assert set(module.__all__) == {"Cache", "RedisCache"}
    assert all_problems("envoxy.cache") == []
    assert (module.Cache, module.RedisCache) == (Cache, RedisCache)


def test_cache_reads_no_config_until_first_use(config_at: pathlib.Path) -> None:
    cache = Cache()  # the file does not exist yet: nothing is read
    with pytest.raises(ConfigError):
        _ = cache.redis


def test_other_backend_raises_not_implemented_at_first_use(config_at: pathlib.Path) -> None:
    config_at.write_text(json.dumps({"cache": {"backend": "memcached"}}))
    cache = Cache()
    with pytest.raises(NotImplementedError, match="memcached"):
        cache.get("/x", "get", {})


def test_redis_is_the_default_backend(config_at: pathlib.Path) -> None:
    config_at.write_text(json.dumps({"cache": {"bind": "127.0.0.1:6399", "key_prefix": "p"}}))
    backend = Cache().redis
    assert isinstance(backend, RedisCache)
    assert (backend.settings.port, backend.key_prefix, backend.ttl) == (6399, "p", 3600)


def test_caches_with_the_same_settings_share_one_backend() -> None:
    settings = {"backend": "redis", "bind": "127.0.0.1:6399"}
    assert Cache(settings).redis is Cache(dict(settings)).redis
    assert Cache(settings).redis is not Cache({**settings, "db": 5}).redis


def test_key_is_prefix_endpoint_method_and_base64_params() -> None:
    cache = RedisCache({"key_prefix": "svc"})
    # base64url of b'{"page":1}'
    assert cache.key("/v3/users", "get", {"page": 1}) == "svc:/v3/users:get:eyJwYWdlIjoxfQ=="


def test_default_key_prefix_is_envoxy() -> None:
    assert RedisCache({}).key("/a", "get", None).startswith("envoxy:/a:get:")


def test_invalid_cache_setting_names_it() -> None:
    with pytest.raises(ConfigError, match=r"cache\.port"):
        RedisCache({"port": "x"})


def test_calling_the_module_applies_the_daemon_decorator_and_warns_once() -> None:
    done = run_python(
        """
        import json, warnings
        import envoxy.cache
        from envoxy.decorators import cache as decorator
        with warnings.catch_warnings(record=True) as seen:
            warnings.simplefilter("always")
            first = envoxy.cache(ttl=60)  # line 7
            second = envoxy.cache(ttl=5)
        print(json.dumps({
            "decorates": [isinstance(first, decorator), isinstance(second, decorator)],
            "ttl": [first.ttl, second.ttl],
            "warnings": [[w.category.__name__, str(w.message), w.filename, w.lineno] for w in seen],
        }))
        """
    )

    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout) == {
        "decorates": [True, True],
        "ttl": [60, 5],
        "warnings": [
            [
                "DeprecationWarning",
                "calling the module envoxy.cache is deprecated since envoxy 1.1; use the "
                "decorator envoxy.decorators.cache (from envoxy.decorators import cache)",
                "<string>",
                7,
            ]
        ],
    }


def test_calling_the_module_without_the_daemon_names_it() -> None:
    done = run_python(
        """
        import warnings
        warnings.simplefilter("ignore", DeprecationWarning)
        import envoxy.cache
        from envoxy.exceptions import MissingDependencyError
        try:
            envoxy.cache(ttl=60)
        except MissingDependencyError as exc:
            print(exc)
        """,
        without=("envoxy-daemon", "envoxy"),
    )

    assert done.returncode == 0, done.stderr
    assert done.stdout.strip().endswith("which is not installed: pip install envoxy-daemon")


def test_missing_redis_package_names_the_extra() -> None:
    code = (
        "import sys\n"
        "sys.modules['redis'] = None\n"
        "from envoxy.cache import Cache\n"
        "from envoxy.exceptions import MissingDependencyError\n"
        "try:\n"
        "    Cache({'bind': '127.0.0.1:1'}).get('/x', 'get', {})\n"
        "except MissingDependencyError as exc:\n"
        "    print(exc)\n"
    )
    result = run_python(code, check=False)
    assert result.returncode == 0, result.stderr
    assert "envoxy-dispatch[redis]" in result.stdout
