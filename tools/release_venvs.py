"""Clean-venv checks: install the built wheels in fresh virtual environments and import them.

Scenarios (``CLEAN_VENV_SCENARIOS``): ``envoxy-orm`` installed alone imports
``envoxy.db.orm`` and brings none of the web or messaging libraries;
``envoxy-dispatch[redis]`` brings no SQLAlchemy; ``envoxy-daemon`` alone serves
without the ORM and Alembic, and ``envoxy-cli create-project`` names envoxy-alembic
(exit 4); the meta-package ``envoxy`` installs everything and ``from envoxy import
mqttc, ...`` works while ``import envoxy`` stays light. Our distributions come only from the
local wheels (pip's install report proves it), third-party ones from the index.
"""

import concurrent.futures
import hashlib
import json
import pathlib
import shutil
import subprocess
import sys
from collections.abc import Sequence
from dataclasses import asdict, dataclass

from packaging.utils import canonicalize_name
from release_wheels import DISTRIBUTIONS, META, ReleaseError, sibling_requirements

__all__ = ["CLEAN_VENV_SCENARIOS", "Scenario", "clean_venv_checks"]

REPO_ROOT = pathlib.Path(__file__).resolve().parents[1]

_WEB_AND_MESSAGING = ("werkzeug", "flask", "paho", "zmq", "redis", "celery", "uwsgi", "pyuwsgi")


@dataclass(frozen=True)
class Scenario:
    """One clean virtual environment: the distribution it installs and what must hold after.

    Attributes:
        dist: the distribution installed (its siblings come from the local wheels too).
        extras: the extras of ``dist`` installed with it.
        imports: modules that must import.
        names: attributes of ``envoxy`` that must resolve (``from envoxy import name``).
        light_modules: modules that ``import envoxy`` alone must not import.
        absent_distributions: distributions that must not be installed.
        absent_modules: top-level modules that must not be importable.
        commands: (command line, exit status, text its output must hold), each run in
            an empty folder with the venv's ``bin`` first on ``PATH``.
    """

    dist: str
    extras: tuple[str, ...] = ()
    imports: tuple[str, ...] = ()
    names: tuple[str, ...] = ()
    light_modules: tuple[str, ...] = ()
    absent_distributions: tuple[str, ...] = ()
    absent_modules: tuple[str, ...] = ()
    commands: tuple[tuple[str, int, str], ...] = ()


#: What each clean virtual environment installs and proves (see clean_venv_checks).
CLEAN_VENV_SCENARIOS: dict[str, Scenario] = {
    "orm-alone": Scenario(
        dist="envoxy-orm",
        imports=("envoxy.db.orm",),
        absent_distributions=(
            *("werkzeug", "flask", "paho-mqtt", "pyzmq", "redis", "celery", "uwsgi", "pyuwsgi"),
            "psycopg2-binary",  # only with the [postgres] extra
        ),
        absent_modules=(*_WEB_AND_MESSAGING, "psycopg2"),
    ),
    "dispatch-redis": Scenario(
        dist="envoxy-dispatch",
        extras=("redis",),
        imports=("envoxy.redis", "envoxy.cache", "envoxy.mqtt", "envoxy.zeromq"),
        # the ORM (and SQLAlchemy) come only with the [postgres] extra
        absent_distributions=("envoxy-orm", "sqlalchemy", "psycopg2-binary", "envoxy-daemon"),
        absent_modules=("sqlalchemy", "psycopg2", "werkzeug"),
        commands=(
            # pgsqlc needs the [postgres] extra: importing it says so, without a traceback
            (
                'python -c "import sys; sys.excepthook = lambda kind, error, tb: '
                '(print(kind.__name__, error), sys.exit(3)); import envoxy.postgresql"',
                3,
                "MissingDependencyError envoxy.db.postgres.options is not installed; "
                "install it with `pip install 'envoxy-dispatch[postgres]'`",
            ),
        ),
    ),
    "daemon-alone": Scenario(
        dist="envoxy-daemon",
        imports=("envoxy.daemon.app", "envoxy.decorators", "envoxy.auth.credentials"),
        absent_distributions=("envoxy-orm", "envoxy-alembic", "sqlalchemy", "alembic"),
        absent_modules=("sqlalchemy", "alembic"),
        commands=(
            ("envoxy-cli create-project demo", 4, "pip install envoxy-alembic"),
            ("envoxyd --version", 0, "envoxy-daemon"),
        ),
    ),
    "meta": Scenario(
        dist=META,
        names=(
            "mqttc",
            "redisc",
            "pgsqlc",
            "couchdbc",
            "zmqc",
            "celeryc",
            "Response",
            "View",
            "on",
        ),
        light_modules=("sqlalchemy", *_WEB_AND_MESSAGING),
    ),
}


def clean_venv_checks(
    wheels: dict[str, pathlib.Path],
    dist_dir: pathlib.Path,
    venv_dir: pathlib.Path,
    *,
    fresh: bool = False,
) -> None:
    """Install each scenario's wheel in a fresh venv (Python 3.12) and run its import checks.

    Our distributions come only from ``dist_dir`` (pip's report proves it), third-party
    ones from the package index. A venv is reused while the wheels it was made from
    keep their hashes, unless ``fresh``.

    Args:
        wheels: distribution name -> its wheel in ``dist_dir``.
        dist_dir: folder given to pip as ``--find-links``.
        venv_dir: parent of the scenario venvs.
        fresh: always rebuild the venvs.

    Raises:
        ReleaseError: an install failed or a scenario's checks found problems (all listed).
    """
    base_python = _find_python()
    with concurrent.futures.ThreadPoolExecutor(max_workers=len(CLEAN_VENV_SCENARIOS)) as pool:
        futures = [
            pool.submit(
                _prove_scenario, scenario, spec, base_python, wheels, dist_dir, venv_dir, fresh
            )
            for scenario, spec in CLEAN_VENV_SCENARIOS.items()
        ]
    problems = [problem for future in futures for problem in future.result()]
    if problems:
        raise ReleaseError("clean-venv checks failed:\n  - " + "\n  - ".join(problems))


def _prove_scenario(
    scenario: str,
    spec: Scenario,
    base_python: str,
    wheels: dict[str, pathlib.Path],
    dist_dir: pathlib.Path,
    venv_dir: pathlib.Path,
    fresh: bool,
) -> list[str]:
    venv = venv_dir / scenario
    needed = _sibling_closure(spec.dist, spec.extras, wheels)
    stamp = {
        "python": base_python,
        "wheels": {wheels[name].name: _sha256(wheels[name]) for name in sorted(needed)},
    }
    stamp_file = venv / "envoxy-wheels.json"
    if not fresh and stamp_file.exists() and json.loads(stamp_file.read_text()) == stamp:
        print(f"{scenario}: reusing {venv} (wheels unchanged)", flush=True)
        found: list[str] = []
    else:
        found = _install(scenario, venv, base_python, wheels, spec, dist_dir)
        if not found:
            stamp_file.write_text(json.dumps(stamp, indent=2))
    checked = subprocess.run(
        [str(venv / "bin" / "python"), "-I", "-c", _VENV_CHECK_SCRIPT, json.dumps(asdict(spec))],
        capture_output=True,
        text=True,
        check=False,
    )
    try:
        found += json.loads(checked.stdout.strip().splitlines()[-1])
    except (ValueError, IndexError):
        found.append(f"the check script crashed:\n{checked.stdout}{checked.stderr}")
    print(f"{scenario}: {'FAILED' if found else 'ok'} ({spec.dist} from {dist_dir})", flush=True)
    return [f"{scenario}: {problem}" for problem in found]


def _install(
    scenario: str,
    venv: pathlib.Path,
    base_python: str,
    wheels: dict[str, pathlib.Path],
    spec: Scenario,
    dist_dir: pathlib.Path,
) -> list[str]:
    dist = spec.dist
    extras = f"[{','.join(spec.extras)}]" if spec.extras else ""
    shutil.rmtree(venv, ignore_errors=True)
    _run([base_python, "-m", "venv", "--without-pip", str(venv)], f"creating {venv}")
    report = venv / "pip-report.json"
    pip = [sys.executable, "-m", "pip", "--python", str(venv / "bin" / "python")]
    print(f"{scenario}: installing {wheels[dist].name} into {venv} ...", flush=True)
    _run(
        [
            *pip,
            "install",
            "--quiet",
            "--no-compile",
            "--find-links",
            str(dist_dir),
            "--report",
            str(report),
            f"{wheels[dist]}{extras}",
        ],
        f"installing {dist} in {venv}",
    )
    _run([*pip, "check"], f"pip check in {venv}")
    problems = []
    for item in json.loads(report.read_text())["install"]:
        name = canonicalize_name(item["metadata"]["name"])
        url = item["download_info"]["url"]
        if name in DISTRIBUTIONS and url != wheels[name].as_uri():
            problems.append(f"pip installed {name} from {url}, not {wheels[name]}")
    return problems


def _sibling_closure(
    dist: str, extras: tuple[str, ...], wheels: dict[str, pathlib.Path]
) -> set[str]:
    needed: set[str] = set()
    pending: list[tuple[str, frozenset[str]]] = [(dist, frozenset(extras))]
    while pending:
        name, wanted = pending.pop()
        if name in needed:
            continue
        needed.add(name)
        for requirement in sibling_requirements(wheels[name]):
            marker = requirement.marker
            if marker is None or any(marker.evaluate({"extra": extra}) for extra in {"", *wanted}):
                pending.append((canonicalize_name(requirement.name), frozenset(requirement.extras)))
    return needed


def _sha256(path: pathlib.Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _find_python() -> str:
    completed = subprocess.run(
        [str(REPO_ROOT / "tools" / "find-python")], capture_output=True, text=True, check=False
    )
    if completed.returncode != 0:
        raise ReleaseError(completed.stderr.strip() or "tools/find-python found no Python 3.12")
    return completed.stdout.strip()


#: Runs inside a clean venv with ``-I``; prints a JSON list of problems on its last line.
_VENV_CHECK_SCRIPT = """
import importlib, importlib.metadata, importlib.util, json, os, re, shlex, subprocess, sys
import tempfile
spec = json.loads(sys.argv[1])
problems = []
if spec["names"] or spec["light_modules"]:
    envoxy = importlib.import_module("envoxy")
    problems += [
        f"import envoxy imported {name}" for name in spec["light_modules"] if name in sys.modules
    ]
    for name in spec["names"]:
        try:
            getattr(envoxy, name)
        except Exception as exc:
            problems.append(f"from envoxy import {name} fails: {type(exc).__name__}: {exc}")
for module in spec["imports"]:
    try:
        importlib.import_module(module)
    except Exception as exc:
        problems.append(f"import {module} fails: {type(exc).__name__}: {exc}")
installed = {
    re.sub(r"[-_.]+", "-", dist.metadata["Name"]).lower()
    for dist in importlib.metadata.distributions()
}
problems += [
    f"{name} is installed, but {spec['dist']} must not pull it in"
    for name in spec["absent_distributions"] if name in installed
]
problems += [
    f"module {name} is importable, but {spec['dist']} must not provide it"
    for name in spec["absent_modules"] if importlib.util.find_spec(name) is not None
]
path = os.pathsep.join([os.path.dirname(sys.executable), os.environ.get("PATH", "")])
for command, status, text in spec["commands"]:
    with tempfile.TemporaryDirectory() as folder:
        done = subprocess.run(shlex.split(command), cwd=folder, env={**os.environ, "PATH": path},
                              capture_output=True, text=True, timeout=120)
    output = done.stdout + done.stderr
    if done.returncode != status or text not in output or "Traceback" in output:
        problems.append(f"{command} exited {done.returncode} (expected {status}, output "
                        f"holding {text!r}, no traceback): {output[-400:]}")
print(json.dumps(problems))
"""


def _run(command: Sequence[str], what: str) -> None:
    completed = subprocess.run(command, capture_output=True, text=True, check=False)
    if completed.returncode != 0:
        output = (completed.stdout + completed.stderr).strip()
        raise ReleaseError(f"{what} failed (`{' '.join(command)}`):\n{output}")
