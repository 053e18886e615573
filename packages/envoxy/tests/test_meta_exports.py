"""The meta-package ``envoxy``: a side-effect-free import and lazy re-exports of the public API.

Each import-time property is checked in a fresh interpreter, so what other tests
of the session imported cannot hide a regression.
"""

import json
import pathlib
import sys
from importlib.metadata import version

import pytest

import envoxy
import envoxy.constants
from envoxy_testing.interpreter import run_python

#: The public API of SPEC.md §7 besides the constants of ``envoxy.constants``.
DOCUMENTED_NAMES = {
    *("mqttc", "redisc", "pgsqlc", "couchdbc", "zmqc", "celeryc"),
    *("Response", "View", "on", "auth_required", "auth_anonymous_allowed", "cache", "log_event"),
    *("log", "Log", "Config", "Cache", "Watchdog", "authenticate"),
    *("constants", "__version__", "alembic_config_path"),
}
#: Third-party libraries that ``import envoxy`` must leave unimported.
HEAVY_MODULES = (
    *("sqlalchemy", "alembic", "werkzeug", "flask", "redis", "paho", "zmq", "celery", "kombu"),
    *("uwsgi", "pyuwsgi", "psycopg2", "httpx", "orjson"),
)


def output_of(code: str, cwd: pathlib.Path, env: dict[str, str] | None = None) -> str:
    """Stdout of ``code`` run in a fresh workspace interpreter from ``cwd`` (fails on error)."""
    return run_python(code, cwd=cwd, env=env, inherit_env=True).stdout


def test_import_prints_nothing(tmp_path: pathlib.Path) -> None:
    completed = run_python(
        "import envoxy",
        cwd=tmp_path,
        env={"VIRTUAL_ENV": str(pathlib.Path(sys.prefix))},
        inherit_env=True,
        check=False,
    )

    assert (completed.returncode, completed.stdout, completed.stderr) == (0, "", "")


def test_import_leaves_sys_path_alone(tmp_path: pathlib.Path) -> None:
    output = output_of(
        """
        import json, sys
        before = list(sys.path)
        import envoxy
        print(json.dumps([before, sys.path]))
        """,
        tmp_path,
        env={"VIRTUAL_ENV": str(pathlib.Path(sys.prefix))},
    )

    before, after = json.loads(output)
    assert after == before


def test_import_opens_no_socket_starts_no_thread_and_reads_no_config(
    tmp_path: pathlib.Path,
) -> None:
    config = tmp_path / "envoxy.json"
    config.write_text('{"redis_servers": {"default": {"bind": "127.0.0.1:6379"}}}')
    output = output_of(
        """
        import json, sys, threading
        events = []
        watched = ("socket.", "_thread.start", "subprocess.", "os.system", "os.fork")
        def audit(event, args):
            if event.startswith(watched):
                events.append(event)
            elif event == "open" and str(args[0]).endswith(".json"):
                events.append(f"open {args[0]}")
        sys.addaudithook(audit)
        threads = threading.active_count()
        import envoxy
        print(json.dumps({"events": events, "new_threads": threading.active_count() - threads}))
        """,
        tmp_path,
        env={"ENVOXY_CONFIG": str(config)},
    )

    assert json.loads(output) == {"events": [], "new_threads": 0}


def test_import_loads_no_heavy_library_and_adds_no_log_handler(tmp_path: pathlib.Path) -> None:
    output = output_of(
        """
        import json, logging, sys
        import envoxy
        print(json.dumps({
            "modules": sorted({name.split(".")[0] for name in sys.modules}),
            "handlers": [
                repr(handler)
                for name in ("", "envoxy")
                for handler in logging.getLogger(name).handlers
            ],
        }))
        """,
        tmp_path,
    )

    loaded = json.loads(output)
    assert sorted(set(HEAVY_MODULES) & set(loaded["modules"])) == []
    assert loaded["handlers"] == []


def test_all_is_the_documented_api_and_the_public_constants() -> None:
    expected = DOCUMENTED_NAMES | set(envoxy.constants.__all__)

    assert sorted(envoxy.__all__) == sorted(expected)
    assert len(envoxy.__all__) == len(set(envoxy.__all__))


def test_star_import_binds_exactly_all(tmp_path: pathlib.Path) -> None:
    output = output_of(
        """
        import json
        namespace = {}
        exec("from envoxy import *", namespace)
        import envoxy
        print(json.dumps([sorted(set(namespace) - {"__builtins__"}), sorted(envoxy.__all__)]))
        """,
        tmp_path,
    )

    bound, public = json.loads(output)
    assert bound == public


def test_every_public_name_resolves() -> None:
    unresolved = {}
    for name in envoxy.__all__:
        try:
            getattr(envoxy, name)
        except Exception as exc:  # report them all, not just the first
            unresolved[name] = f"{type(exc).__name__}: {exc}"

    assert unresolved == {}


def test_dir_lists_every_public_name() -> None:
    assert set(envoxy.__all__) <= set(dir(envoxy))


def test_lazy_name_is_imported_on_first_use_and_cached(tmp_path: pathlib.Path) -> None:
    output = output_of(
        """
        import json, sys
        import envoxy
        before = ("Config" in vars(envoxy), "envoxy.utils.config" in sys.modules)
        first = envoxy.Config
        from envoxy.utils.config import Config
        print(json.dumps({
            "before": before,
            "cached": vars(envoxy).get("Config") is first,
            "same_object": first is Config and envoxy.Config is first,
        }))
        """,
        tmp_path,
    )

    assert json.loads(output) == {"before": [False, False], "cached": True, "same_object": True}


def test_constants_are_bound_eagerly_from_envoxy_constants() -> None:
    assert envoxy.constants is sys.modules["envoxy.constants"]
    assert vars(envoxy)["SERVER_NAME"] == envoxy.constants.SERVER_NAME
    assert envoxy.Performative is envoxy.constants.Performative


def test_unknown_name_raises_attribute_error() -> None:
    with pytest.raises(AttributeError, match="module 'envoxy' has no attribute 'chsqlc'"):
        _ = envoxy.chsqlc


def test_from_import_of_unknown_name_raises_import_error() -> None:
    with pytest.raises(ImportError, match="cannot import name 'nothing_here'"):
        exec("from envoxy import nothing_here", {})


@pytest.mark.parametrize(
    ("name", "hidden_module", "install"),
    [
        ("mqttc", "envoxy.mqtt", "pip install 'envoxy-dispatch[mqtt]'"),
        ("redisc", "envoxy.redis", "pip install 'envoxy-dispatch[redis]'"),
        ("View", "envoxy.views", "pip install 'envoxy-daemon'"),
        ("alembic_config_path", "envoxy.tools.alembic", "pip install 'envoxy-alembic'"),
        ("cache", "envoxy.decorators", "pip install 'envoxy-daemon'"),
    ],
)
def test_name_of_a_missing_distribution_raises_missing_dependency_error(
    tmp_path: pathlib.Path, name: str, hidden_module: str, install: str
) -> None:
    output = output_of(
        f"""
        import json, sys
        sys.modules[{hidden_module!r}] = None  # as if its distribution were not installed
        import envoxy
        from envoxy.exceptions import MissingDependencyError
        try:
            getattr(envoxy, {name!r})
        except MissingDependencyError as exc:
            print(json.dumps({{"message": str(exc), "name": exc.name, "import": isinstance(
                exc, ImportError)}}))
        """,
        tmp_path,
    )

    error = json.loads(output)
    distribution = install.split("'")[1].split("[")[0]
    assert error["message"].startswith(f"envoxy.{name} needs {distribution}, which is not")
    assert error["message"].endswith(install)
    assert error["name"] == hidden_module
    assert error["import"] is True


def test_sibling_missing_a_module_raises_missing_dependency_error(tmp_path: pathlib.Path) -> None:
    stale = tmp_path / "stale" / "envoxy" / "auth"
    stale.mkdir(parents=True)
    (stale / "__init__.py").write_text("import envoxy.utils.removed_in_this_version\n")
    output = output_of(
        f"""
        import sys
        sys.path.insert(0, {str(tmp_path / "stale")!r})  # a stale envoxy.auth, found first
        import envoxy
        from envoxy.exceptions import MissingDependencyError
        try:
            envoxy.authenticate
        except MissingDependencyError as exc:
            print(exc)
        """,
        tmp_path,
    )

    assert output.strip() == (
        "envoxy.authenticate imports envoxy.utils.removed_in_this_version, which the installed "
        "Envoxy distributions lack (their versions are out of step): pip install --upgrade envoxy"
    )


@pytest.mark.parametrize("package_first", [True, False])
def test_cache_is_the_package_and_the_decorator_whatever_the_import_order(
    tmp_path: pathlib.Path, package_first: bool
) -> None:
    first, second = "import envoxy.cache", "from envoxy import cache"
    output = output_of(
        f"""
        import json, sys, warnings
        {first if package_first else second}
        {second if package_first else first}
        import envoxy
        import envoxy.decorators
        package = sys.modules["envoxy.cache"]
        with warnings.catch_warnings(record=True) as seen:
            warnings.simplefilter("always")
            decorates = [
                isinstance(envoxy.cache(ttl=5), envoxy.decorators.cache),
                isinstance(cache(ttl=5), envoxy.decorators.cache),
            ]
        print(json.dumps({{
            "attribute_is_package": envoxy.cache is package,
            "name_is_decorator": cache is envoxy.decorators.cache,
            "has_cache_class": hasattr(envoxy.cache, "Cache"),
            "decorates": decorates,
            "deprecations": sum(w.category is DeprecationWarning for w in seen),
        }}))
        """,
        tmp_path,
    )

    # ``from envoxy import cache`` gives the decorator unless the package was imported
    # first (Python then binds the package): calling the package still decorates, warning once
    assert json.loads(output) == {
        "attribute_is_package": True,
        "name_is_decorator": not package_first,
        "has_cache_class": True,
        "decorates": [True, True],
        "deprecations": 1,
    }


def test_version_is_the_installed_distribution_version() -> None:
    assert isinstance(envoxy.__version__, str)
    assert envoxy.__version__ == version("envoxy")


def test_deprecated_constants_still_resolve_with_a_warning(tmp_path: pathlib.Path) -> None:
    output = output_of(
        """
        import json, warnings
        import envoxy
        with warnings.catch_warnings(record=True) as seen:
            warnings.simplefilter("always")
            port = envoxy.REDIS_DEFAULT_PORT
        try:
            envoxy.NOT_A_CONSTANT
        except AttributeError as exc:
            missing = str(exc)
        print(json.dumps([port, [str(w.message) for w in seen], missing,
                          "REDIS_DEFAULT_PORT" in envoxy.__all__]))
        """,
        tmp_path,
    )

    port, seen, missing, exported = json.loads(output)
    assert (port, exported) == ("6379", False)
    assert seen == [
        "envoxy.constants.REDIS_DEFAULT_PORT is deprecated since envoxy 1.1; "
        "use envoxy.redis.settings.DEFAULT_PORT"
    ]
    assert missing == "module 'envoxy' has no attribute 'NOT_A_CONSTANT'"
