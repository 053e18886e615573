"""No test takes a shared server away: ``tools/services stop|restart`` only on private places.

The shared servers of ``tools/services`` serve every test run on the machine, and may not
even belong to ``tools/services`` (then it refuses to restart them and a test relying on
it fails). A test that breaks a server uses ``private_postgres``/``private_redis``/
``private_mosquitto``. Two guards: this scan of the test tree, and the plugin's
``ENVOXY_SERVICES_PROTECT=1``, under which ``tools/services`` refuses to stop or restart a
server on its default port (``tests-integration/test_local_services.py``).
"""

import ast
import os
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parents[2]
TEST_TREES = ["packages/*/tests", "tests-integration", "services/*/tests", "testing/tests"]
BREAKING_COMMANDS = {"stop", "restart"}


def tree_files() -> list[Path]:
    files = [path for tree in TEST_TREES for path in REPO_ROOT.glob(f"{tree}/**/*.py")]
    return [*sorted(files), REPO_ROOT / "conftest.py"]


def shared_server_breakers(source: str) -> list[str]:
    """Calls that run ``tools/services stop|restart`` without an environment of their own.

    A call counts when one of its arguments (or an element of a list/tuple argument) is
    the string ``"stop"`` or ``"restart"`` and its source mentions ``services``. Passing
    ``env=`` (a private ``ENVOXY_SERVICES_DIR`` and ports) makes it acceptable here; the
    runtime guard still refuses default ports.
    """
    found = []
    for node in ast.walk(ast.parse(source)):
        if not isinstance(node, ast.Call):
            continue
        arguments: list[ast.expr] = []
        for argument in node.args:
            arguments += argument.elts if isinstance(argument, ast.List | ast.Tuple) else [argument]
        words = {
            argument.value
            for argument in arguments
            if isinstance(argument, ast.Constant) and isinstance(argument.value, str)
        }
        text = ast.get_source_segment(source, node) or ""
        if not words & BREAKING_COMMANDS or "services" not in text.lower():
            continue
        if not any(keyword.arg == "env" for keyword in node.keywords):
            found.append(f"line {node.lineno}: {text.splitlines()[0]}")
    return found


@pytest.mark.parametrize(
    "snippet",
    [
        'subprocess.run([str(REPO_ROOT / "tools" / "services"), "restart", "postgresql"])',
        'subprocess.run([str(services), "restart", "mosquitto"], check=True, timeout=120)',
        'run_services("restart", "redis")',
        'subprocess.run(["tools/services", "stop"], check=True)',
    ],
)
def test_the_scan_catches_the_restarts_that_broke_hermeticity(snippet: str) -> None:
    assert shared_server_breakers(snippet) != []


@pytest.mark.parametrize(
    "snippet",
    [
        'run_services("restart", "redis", env=private_services_env(tmp_path, redis=port))',
        'run_services("status")',
        "server.restart()",
        'client.stop("broker")',
    ],
)
def test_the_scan_lets_private_and_harmless_calls_pass(snippet: str) -> None:
    assert shared_server_breakers(snippet) == []


def test_no_test_stops_or_restarts_a_shared_server() -> None:
    offenders = {
        str(path.relative_to(REPO_ROOT)): found
        for path in tree_files()
        if (found := shared_server_breakers(path.read_text()))
    }
    assert offenders == {}, (
        "these tests stop or restart a shared server; start a private one instead "
        f"(private_postgres, private_redis, private_mosquitto; testing/README.md): {offenders}"
    )
    assert len(tree_files()) > 50  # the globs still find the test tree


def test_the_plugin_protects_the_shared_servers_for_the_session() -> None:
    assert os.environ.get("ENVOXY_SERVICES_PROTECT") == "1"
