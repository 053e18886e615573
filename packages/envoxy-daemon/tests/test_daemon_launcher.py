"""The envoxyd command line: defaults, help, version and startup errors (one line, non-zero)."""

import subprocess
import sys
from pathlib import Path

import pytest

from envoxy.daemon.launcher import parse_args, uwsgi_arguments

ENVOXYD = Path(sys.executable).with_name("envoxyd")
SAMPLE = Path(__file__).with_name("views_sample.py")


def run(*arguments: str, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(ENVOXYD), *arguments],
        capture_output=True,
        text=True,
        timeout=60,
        cwd=cwd,
        env={"PATH": "/usr/bin:/bin"},
    )


def test_defaults_are_added_and_a_given_flag_replaces_its_default() -> None:
    options = parse_args(["--http", ":8080", "-p", "2", "--harakiri=30", "--set", "conf=a.json"])
    arguments = uwsgi_arguments(options, http_bind=None, grace=30)
    assert arguments.count("--processes") == 0
    assert "--harakiri" not in arguments
    for flag in ("--master", "--enable-threads", "--die-on-term", "--need-app", "--vacuum"):
        assert flag in arguments
    assert arguments[arguments.index("--threads") + 1] == "8"
    assert arguments[arguments.index("--buffer-size") + 1] == "65535"
    assert "--disable-logging" in arguments
    module = arguments.index("--module")
    assert arguments[module + 1] == "envoxy.daemon.wsgi:load()"
    assert "--mule=envoxy.daemon.service:run" in arguments
    assert options.conf == "a.json"


def test_the_router_gets_chunked_input_and_a_headers_timeout() -> None:
    router = uwsgi_arguments(parse_args(["--http", ":8080"]), http_bind=None, grace=30)
    assert "--http-chunked-input" in router
    assert router[router.index("--http-headers-timeout") + 1] == "10"
    workers = uwsgi_arguments(parse_args(["--http-socket", ":8080"]), http_bind=None, grace=30)
    assert "--http-chunked-input" not in workers
    assert "--http-headers-timeout" not in workers
    given = parse_args(["--http", ":8080", "--http-headers-timeout", "3"])
    assert uwsgi_arguments(given, http_bind=None, grace=30).count("--http-headers-timeout") == 1


def test_one_chunk_may_be_as_large_as_max_body_size() -> None:
    arguments = uwsgi_arguments(parse_args([]), http_bind=":1", grace=1, max_body_size=1000)
    assert arguments[arguments.index("--chunked-input-limit") + 1] == "1064"
    assert "--chunked-input-limit" not in uwsgi_arguments(parse_args([]), http_bind=":1", grace=1)


def test_set_placeholders_are_parsed_in_every_spelling() -> None:
    assert parse_args(["--set=mode=test"]).mode == "test"
    assert parse_args(["-S", "conf=/x.json"]).conf == "/x.json"


def test_boot_http_bind_is_used_without_a_socket_flag() -> None:
    arguments = uwsgi_arguments(parse_args([]), http_bind=":9000", grace=5)
    assert arguments[arguments.index("--http-socket") + 1] == ":9000"
    assert arguments[arguments.index("--worker-reload-mercy") + 1] == "5"


def test_help_explains_envoxy_options() -> None:
    result = run("--help")
    assert result.returncode == 0
    assert "--set conf=PATH" in result.stdout
    assert "--set mode=test" in result.stdout
    assert "--processes 4 --threads 8 --buffer-size 65535" in result.stdout


def test_version_prints_both_versions() -> None:
    result = run("--version")
    assert result.returncode == 0
    assert result.stdout.startswith("envoxy-daemon 1.")
    assert "(uWSGI 2.0." in result.stdout


def one_error_line(result: subprocess.CompletedProcess[str]) -> str:
    lines = [line for line in result.stderr.splitlines() if line.startswith("envoxyd:")]
    assert len(lines) == 1, result.stderr
    return lines[0]


def test_missing_conf_is_a_usage_error_naming_set_conf() -> None:
    result = run("--http-socket", "127.0.0.1:0")
    assert result.returncode == 2
    assert "--set conf=PATH" in one_error_line(result)


def test_missing_file_names_the_path(tmp_path: Path) -> None:
    missing = tmp_path / "nowhere.json"
    result = run("--http-socket", "127.0.0.1:0", "--set", f"conf={missing}")
    assert result.returncode == 1
    assert str(missing) in one_error_line(result)


@pytest.mark.parametrize(
    ("config", "expected"),
    [
        ('{"modules": ["v.py"], "packages": ["p"]}', "both 'modules' and 'packages'"),
        ('{"modules": ["broken.py"]}', "cannot import views module 'broken.py'"),
        ('{"modules": ["badtype.py"]}', "unknown URL type 'money'"),
        ('{"modules": ["dup.py"]}', "duplicate route GET"),
        ('{"packages": ["no_such_package_xyz"]}', "no_such_package_xyz.loader"),
        ('{"modules": ["v.py"', "invalid JSON at line 1"),
    ],
)
def test_startup_errors_exit_non_zero_with_one_line(
    tmp_path: Path, config: str, expected: str
) -> None:
    (tmp_path / "envoxy.json").write_text(config)
    (tmp_path / "broken.py").write_text("import no_such_module_xyz\n")
    (tmp_path / "badtype.py").write_text(
        "from envoxy.decorators import on\nfrom envoxy.views import View\n"
        "@on(endpoint='/p/{price:money}')\nclass P(View):\n"
        "    def get(self, request, **kw):\n        return {}\n__loader__ = [P]\n"
    )
    (tmp_path / "dup.py").write_text(
        "from envoxy.decorators import on\nfrom envoxy.views import View\n"
        "@on(endpoint='/d')\nclass A(View):\n    def get(self, request, **kw):\n        return {}\n"
        "@on(endpoint='/d')\nclass B(View):\n    def get(self, request, **kw):\n        return {}\n"
        "__loader__ = [A, B]\n"
    )
    result = run("--http-socket", "127.0.0.1:0", "--set", "conf=envoxy.json", cwd=tmp_path)
    assert result.returncode != 0
    assert expected in one_error_line(result)
    assert "Traceback" not in result.stderr
