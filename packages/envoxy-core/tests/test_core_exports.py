"""House rules for envoxy-core: ``__all__`` lists the public names, imports do nothing."""

import importlib
import json
import textwrap
from pathlib import Path

import pytest

from envoxy_testing.exports import all_problems, modules_under
from envoxy_testing.interpreter import run_python

SOURCE_ROOT = Path(__file__).resolve().parents[1] / "src"


def core_modules() -> list[str]:
    """Every module envoxy-core ships, as dotted names."""
    return modules_under(SOURCE_ROOT)


def test_core_modules_are_found() -> None:
    modules = core_modules()
    assert "envoxy.utils.config" in modules
    assert "envoxy.db.exceptions" in modules
    assert "envoxy" not in modules  # no __init__.py at the namespace level
    assert "envoxy.db" not in modules


@pytest.mark.parametrize("module_name", [name for name in core_modules() if name != "envoxy.utils"])
def test_all_lists_exactly_the_public_names(module_name: str) -> None:
    assert all_problems(module_name, constants=True) == []


def test_public_names_have_docstrings() -> None:
    missing = []
    for module_name in core_modules():
        module = importlib.import_module(module_name)
        if not module.__doc__:
            missing.append(module_name)
        for name in getattr(module, "__all__", []):
            value = getattr(module, name)
            defined_here = getattr(value, "__module__", None) == module_name
            if callable(value) and defined_here and not value.__doc__:
                missing.append(f"{module_name}.{name}")
    assert missing == []


def test_importing_every_core_module_has_no_side_effects(tmp_path: Path) -> None:
    broken = tmp_path / "envoxy.json"
    broken.write_text("{ this would raise if read")
    script = textwrap.dedent(
        f"""
        import importlib, json, logging, sys, threading
        events = []
        def audit(event, args):
            if event == "open" and str(args[0]).endswith(".json"):
                events.append(("open", str(args[0])))
            elif event.startswith("socket."):
                events.append((event, ""))
        sys.addaudithook(audit)
        threads_before = threading.active_count()
        for name in {core_modules()!r}:
            importlib.import_module(name)
        loggers = [logging.getLogger()] + [
            logger for logger in logging.Logger.manager.loggerDict.values()
            if isinstance(logger, logging.Logger)
        ]
        print(json.dumps({{
            "handlers": sum(len(logger.handlers) for logger in loggers),
            "threads": threading.active_count() - threads_before,
            "events": events,
            "heavy": sorted(set(sys.modules) & {{"orjson", "uwsgi", "zoneinfo", "cProfile"}}),
        }}))
        """
    )
    completed = run_python(script, env={"ENVOXY_CONFIG": str(broken)})
    assert completed.stderr == ""
    report = json.loads(completed.stdout)
    assert report["handlers"] == 0
    assert report["threads"] == 0
    assert report["events"] == []
    assert report["heavy"] == ["orjson"]  # only envoxy.utils.encoders needs it


def test_config_and_logs_import_without_orjson() -> None:
    script = (
        "import sys, envoxy.utils.config, envoxy.utils.logs; "
        "print(sorted(set(sys.modules) & {'orjson', 'zoneinfo', 'socket', 'multiprocessing'}))"
    )
    assert run_python(script).stdout.strip() == "[]"
