"""Build and check the Envoxy distributions: the pre-publish steps of the release workflow.

Run with the workspace interpreter (``.venv/bin/python tools/release.py ...``)::

    build <dist> | build-all        sdist and wheel of packages/<dist> into dist/
    check <dist> | check-all        twine check, wheel contents and metadata
    clean-venv-checks               install the wheels in fresh venvs and import them
    tag-check <dist>-v<version>     the tag names a distribution at its pyproject version
    bump <dist> <part>              hatch version <part> in packages/<dist>

``--root`` points at another checkout (tests use a copy), ``--dist-dir`` at
another output folder. Every failure prints what is wrong and exits with 1.
"""

import argparse
import concurrent.futures
import pathlib
import shutil
import subprocess
import sys
import tomllib
from collections.abc import Sequence

from packaging.version import InvalidVersion, Version
from release_venvs import clean_venv_checks
from release_wheels import DISTRIBUTIONS, OWNED_IMPORT_PATHS, ReleaseError, wheel_problems

__all__ = [
    "DISTRIBUTIONS",
    "OWNED_IMPORT_PATHS",
    "REPO_ROOT",
    "ReleaseError",
    "build",
    "check",
    "clean_venv_checks",
    "find_artifacts",
    "main",
    "read_version",
    "tag_check",
    "wheel_problems",
]

#: Root of the workspace checkout this script belongs to.
REPO_ROOT = pathlib.Path(__file__).resolve().parents[1]


def read_version(dist: str, root: pathlib.Path = REPO_ROOT) -> str:
    """Return the static ``[project] version`` of ``packages/<dist>/pyproject.toml``.

    Raises:
        ReleaseError: ``dist`` is not a distribution of the workspace, or has no static version.
    """
    pyproject = _package_dir(dist, root) / "pyproject.toml"
    project = tomllib.loads(pyproject.read_text(encoding="utf-8")).get("project", {})
    version = project.get("version")
    if not isinstance(version, str):
        raise ReleaseError(f"{pyproject} has no static [project] version; set one")
    return version


def build(
    dist: str, dist_dir: pathlib.Path, *, root: pathlib.Path = REPO_ROOT, isolated: bool = False
) -> list[pathlib.Path]:
    """Build the sdist and, from it, the wheel of ``dist`` into ``dist_dir``.

    Args:
        dist: distribution name, e.g. ``"envoxy-orm"``.
        dist_dir: output folder, created when missing.
        root: workspace checkout holding ``packages/``.
        isolated: build in an isolated environment (fetches hatchling) instead of this venv.

    Raises:
        ReleaseError: the build failed; its output is in the message.
    """
    package_dir = _package_dir(dist, root)
    command = [sys.executable, "-m", "build", "--outdir", str(dist_dir), str(package_dir)]
    if not isolated:
        command.insert(3, "--no-isolation")
    _run(command, f"building {dist}")
    return find_artifacts(dist, dist_dir, read_version(dist, root))


def find_artifacts(dist: str, dist_dir: pathlib.Path, version: str) -> list[pathlib.Path]:
    """Return ``[sdist, wheel]`` of ``dist`` at ``version`` in ``dist_dir``.

    Raises:
        ReleaseError: one of them is missing (build it first).
    """
    stem = f"{dist.replace('-', '_')}-{version}"
    sdists = sorted(dist_dir.glob(f"{stem}.tar.gz"))
    wheels = sorted(dist_dir.glob(f"{stem}-*.whl"))
    if not sdists or not wheels:
        raise ReleaseError(
            f"no sdist and wheel of {dist} {version} in {dist_dir}: "
            f"run `tools/release.py build {dist}` first"
        )
    return [sdists[-1], wheels[-1]]


def check(dist: str, dist_dir: pathlib.Path, *, root: pathlib.Path = REPO_ROOT) -> None:
    """Run ``twine check --strict`` and :func:`wheel_problems` on the built ``dist``.

    Raises:
        ReleaseError: listing every problem found.
    """
    version = read_version(dist, root)
    sdist, wheel = find_artifacts(dist, dist_dir, version)
    problems = wheel_problems(dist, wheel, version)
    twine = subprocess.run(
        [sys.executable, "-m", "twine", "check", "--strict", str(sdist), str(wheel)],
        capture_output=True,
        text=True,
        check=False,
    )
    if twine.returncode != 0:
        problems.append(f"twine check failed:\n{twine.stdout}{twine.stderr}".rstrip())
    if problems:
        listing = "\n  - ".join(problems)
        raise ReleaseError(f"{wheel.name} fails its checks:\n  - {listing}")


def tag_check(tag: str, *, root: pathlib.Path = REPO_ROOT) -> tuple[str, str]:
    """Check that ``tag`` (``<dist>-v<version>``, ``refs/tags/`` allowed) matches pyproject.

    Returns:
        The distribution and version the tag names.

    Raises:
        ReleaseError: the tag is malformed, names no distribution, or its version differs.
    """
    name = tag.removeprefix("refs/tags/")
    dist, separator, version = name.rpartition("-v")
    if not separator or dist not in DISTRIBUTIONS:
        raise ReleaseError(
            f"tag {tag!r} is not <dist>-v<version> with <dist> one of {', '.join(DISTRIBUTIONS)}"
        )
    try:
        Version(version)
    except InvalidVersion as exc:
        raise ReleaseError(f"tag {tag!r}: {version!r} is not a PEP 440 version") from exc
    expected = read_version(dist, root)
    if Version(version) != Version(expected) or version != expected:
        raise ReleaseError(
            f"tag {tag!r} says {dist} {version} but packages/{dist}/pyproject.toml says "
            f"{expected}: bump the version (tools/release.py bump {dist} ...) or retag"
        )
    return dist, version


def main(argv: Sequence[str] | None = None) -> int:
    """Command-line entry point; returns the exit status."""
    parser = _parser()
    options = parser.parse_args(argv)
    root = options.root.resolve()
    dist_dir = (options.dist_dir or root / "dist").resolve()
    try:
        return int(options.handler(options, root, dist_dir) or 0)
    except ReleaseError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="tools/release.py", description=__doc__.split("\n")[0])
    parser.add_argument("--root", type=pathlib.Path, default=REPO_ROOT, help="workspace checkout")
    parser.add_argument("--dist-dir", type=pathlib.Path, help="output folder (default <root>/dist)")
    commands = parser.add_subparsers(required=True, metavar="command")

    def add(name: str, handler: object, help_text: str) -> argparse.ArgumentParser:
        command = commands.add_parser(name, help=help_text, description=help_text)
        command.set_defaults(handler=handler)
        return command

    for name in ("build", "build-all"):
        command = add(name, _cmd_build, "build sdists and wheels")
        if name == "build":
            command.add_argument("dist", choices=DISTRIBUTIONS)
        command.add_argument("--isolated", action="store_true", help="isolated build env")
    add("check", _cmd_check, "twine check and wheel-content check").add_argument(
        "dist", choices=DISTRIBUTIONS
    )
    add("check-all", _cmd_check, "check every distribution")
    venvs = add("clean-venv-checks", _cmd_clean_venvs, "install the wheels in clean venvs")
    venvs.add_argument("--venv-dir", type=pathlib.Path, help="default <root>/.venv-checks")
    venvs.add_argument("--fresh", action="store_true", help="rebuild the venvs even if unchanged")
    add("tag-check", _cmd_tag_check, "check a <dist>-v<version> tag").add_argument("tag")
    bump = add("bump", _cmd_bump, "bump a version with `hatch version`")
    bump.add_argument("dist", choices=DISTRIBUTIONS)
    bump.add_argument("part", help="major, minor, patch, a pre-release part or a version")
    return parser


def _cmd_build(options: argparse.Namespace, root: pathlib.Path, dist_dir: pathlib.Path) -> int:
    dists = [options.dist] if getattr(options, "dist", None) else list(DISTRIBUTIONS)
    with concurrent.futures.ThreadPoolExecutor(max_workers=4) as pool:
        futures = {
            dist: pool.submit(build, dist, dist_dir, root=root, isolated=options.isolated)
            for dist in dists
        }
    errors = []
    for dist, future in futures.items():
        try:
            print("built", *(path.name for path in future.result()))
        except ReleaseError as exc:
            errors.append(f"{dist}: {exc}")
    if errors:
        raise ReleaseError("\n".join(errors))
    return 0


def _cmd_check(options: argparse.Namespace, root: pathlib.Path, dist_dir: pathlib.Path) -> int:
    dists = [options.dist] if getattr(options, "dist", None) else list(DISTRIBUTIONS)
    errors = []
    for dist in dists:
        try:
            check(dist, dist_dir, root=root)
            print(f"ok: {dist} {read_version(dist, root)}")
        except ReleaseError as exc:
            errors.append(str(exc))
    if errors:
        raise ReleaseError("\n".join(errors))
    return 0


def _cmd_clean_venvs(
    options: argparse.Namespace, root: pathlib.Path, dist_dir: pathlib.Path
) -> int:
    venv_dir = (options.venv_dir or root / ".venv-checks").resolve()
    wheels = {
        dist: find_artifacts(dist, dist_dir, read_version(dist, root))[1] for dist in DISTRIBUTIONS
    }
    clean_venv_checks(wheels, dist_dir, venv_dir, fresh=options.fresh)
    return 0


def _cmd_tag_check(options: argparse.Namespace, root: pathlib.Path, dist_dir: pathlib.Path) -> int:
    dist, version = tag_check(options.tag, root=root)
    print(f"ok: tag {options.tag} is {dist} {version}")
    return 0


def _cmd_bump(options: argparse.Namespace, root: pathlib.Path, dist_dir: pathlib.Path) -> int:
    before = read_version(options.dist, root)
    beside_python = pathlib.Path(sys.executable).with_name("hatch")
    hatch = str(beside_python) if beside_python.exists() else shutil.which("hatch")
    if hatch is None:
        raise ReleaseError("hatch is not installed: pip install 'hatch>=1.18,<2'")
    _run(
        [hatch, "version", options.part],
        f"bumping {options.dist}",
        cwd=_package_dir(options.dist, root),
    )
    after = read_version(options.dist, root)
    print(
        f"{options.dist}: {before} -> {after}; add a CHANGELOG entry, commit, then tag "
        f"{options.dist}-v{after}"
    )
    return 0


def _package_dir(dist: str, root: pathlib.Path) -> pathlib.Path:
    if dist not in DISTRIBUTIONS:
        raise ReleaseError(f"unknown distribution {dist!r}; known: {', '.join(DISTRIBUTIONS)}")
    return root / "packages" / dist


def _run(command: Sequence[str], what: str, *, cwd: pathlib.Path | None = None) -> None:
    completed = subprocess.run(command, capture_output=True, text=True, check=False, cwd=cwd)
    if completed.returncode != 0:
        output = (completed.stdout + completed.stderr).strip()
        raise ReleaseError(f"{what} failed (`{' '.join(command)}`):\n{output}")


if __name__ == "__main__":
    sys.exit(main())
