"""${VAR} interpolation and the numeric/boolean converters."""

import pytest

from envoxy.exceptions import ConfigError
from envoxy.utils.config import as_bool, as_float, as_int
from envoxy.utils.interpolation import expand, interpolate

ENV = {"HOST": "db", "EMPTY": "", "PORT": "5432"}


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("${HOST}", "db"),
        ("postgresql://${HOST}:${PORT}/app", "postgresql://db:5432/app"),
        ("${MISSING:-fallback}", "fallback"),
        ("${EMPTY:-fallback}", "fallback"),
        ("${EMPTY}", ""),
        ("${HOST:-unused}", "db"),
        ("${MISSING:-}", ""),
        ("$${HOST}", "${HOST}"),
        ("cost: $5 and $$ and $HOST", "cost: $5 and $$ and $HOST"),
        ("no references", "no references"),
        ("${PORT}", "5432"),
    ],
)
def test_expand(text: str, expected: str) -> None:
    assert expand(text, ENV) == expected


def test_unset_variable_without_default_raises_naming_it() -> None:
    with pytest.raises(ConfigError, match=r"environment variable MISSING is not set.*MISSING:-"):
        expand("x-${MISSING}", ENV)


@pytest.mark.parametrize("text", ["${1ABC}", "${HOST", "${}", "${A B}"])
def test_invalid_reference_raises(text: str) -> None:
    with pytest.raises(ConfigError, match="does not start a valid variable reference"):
        expand(text, ENV)


def test_invalid_reference_error_gives_the_position_but_never_the_value() -> None:
    with pytest.raises(ConfigError) as caught:
        expand("hunter2${oops", ENV, where="conf.json: redis_servers.default.passwd")
    message = str(caught.value)
    assert "hunter2" not in message
    assert "oops" not in message
    assert message.startswith(
        "the '${' at character 8 of conf.json: redis_servers.default.passwd does not start"
    )


def test_interpolate_walks_dicts_and_lists_and_keeps_other_types() -> None:
    value = {"a": ["${HOST}", 1, None, True, {"b": "${PORT}"}], "${HOST}": 2.5}
    assert interpolate(value, ENV) == {"a": ["db", 1, None, True, {"b": "5432"}], "${HOST}": 2.5}


def test_interpolate_does_not_change_its_input() -> None:
    value = {"a": ["${HOST}"]}
    interpolate(value, ENV)
    assert value == {"a": ["${HOST}"]}


def test_interpolate_error_names_the_location() -> None:
    with pytest.raises(ConfigError, match=r"NOPE is not set \(in conf\.json: servers\.main\[1\]\)"):
        interpolate({"servers": {"main": ["ok", "${NOPE}"]}}, ENV, where="conf.json")


@pytest.mark.parametrize(
    ("value", "expected"), [(5, 5), ("5432", 5432), (" 7 ", 7), (3.0, 3), ("-1", -1)]
)
def test_as_int_accepts_numbers_and_numeric_strings(value: object, expected: int) -> None:
    assert as_int(value, "port") == expected


@pytest.mark.parametrize("value", ["abc", "5.5", 5.5, True, None, [], ""])
def test_as_int_rejects_other_values_naming_the_setting(value: object) -> None:
    with pytest.raises(ConfigError, match=r"setting servers\.main\.port must be an integer"):
        as_int(value, "servers.main.port")


@pytest.mark.parametrize(("value", "expected"), [(1, 1.0), ("2.5", 2.5), (0.25, 0.25)])
def test_as_float_accepts_numbers_and_numeric_strings(value: object, expected: float) -> None:
    assert as_float(value, "timeout") == expected


@pytest.mark.parametrize("value", ["soon", "nan", "inf", False, None])
def test_as_float_rejects_other_values(value: object) -> None:
    with pytest.raises(ConfigError, match="setting timeout must be a"):
        as_float(value, "timeout")


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (True, True),
        (False, False),
        (1, True),
        (0, False),
        ("true", True),
        (" Yes ", True),
        ("on", True),
        ("1", True),
        ("FALSE", False),
        ("no", False),
        ("off", False),
        ("0", False),
    ],
)
def test_as_bool(value: object, expected: bool) -> None:
    assert as_bool(value, "enable_cors") is expected


def test_converter_errors_never_show_a_secret_value() -> None:
    with pytest.raises(ConfigError) as caught:
        as_int("hunter2", "credentials.client_secret")
    assert "hunter2" not in str(caught.value)
    assert "credentials.client_secret" in str(caught.value)
    with pytest.raises(ConfigError) as caught:
        as_int("user:hunter2@db", "redis_servers.default.port")
    assert "hunter2" not in str(caught.value)
    assert "'***@db'" in str(caught.value)


@pytest.mark.parametrize("value", ["maybe", 2, None, ""])
def test_as_bool_rejects_other_values(value: object) -> None:
    with pytest.raises(ConfigError, match="setting enable_cors must be a boolean"):
        as_bool(value, "enable_cors")
