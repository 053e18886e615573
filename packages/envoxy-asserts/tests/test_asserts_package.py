"""The envoxy.asserts package: its exports, its imports and its typing marker."""

import inspect
import json
import pathlib

import envoxy.asserts as asserts
from envoxy_testing.exports import all_problems
from envoxy_testing.interpreter import run_python

#: Modules a request validator must not drag in: the web stack and the clients.
FORBIDDEN_PREFIXES = (
    "envoxy.views",
    "envoxy.daemon",
    "envoxy.decorators",
    "envoxy.auth",
    "envoxy.db",
    "envoxy.redis",
    "envoxy.mqtt",
    "envoxy.postgresql",
    "envoxy.couchdb",
    "envoxy.zeromq",
    "envoxy.celery",
    "envoxy.cache",
    "werkzeug",
    "flask",
    "uwsgi",
    "pyuwsgi",
    "requests",
    "httpx",
    "sqlalchemy",
    "redis",
    "paho",
    "zmq",
    "celery",
    "psycopg2",
)


def test_all_lists_exactly_the_public_names() -> None:
    assert all_problems("envoxy.asserts", exact=True) == []


def test_every_name_in_all_is_documented() -> None:
    for name in asserts.__all__:
        value = getattr(asserts, name)
        if callable(value):
            assert value.__doc__, f"{name} has no docstring"


def test_all_has_every_validator_of_the_original_and_its_reply_variant() -> None:
    validators = [
        "assertz_mandatory",
        "assertz_string",
        "assertz_integer",
        "assertz_float",
        "assertz_timestamp",
        "assertz_boolean",
        "assertz_array",
        "assertz_array_even_empty",
        "assertz_dict",
        "assertz_json",
        "assertz_complex",
        "assertz_uuid",
        "assertz_utf8",
        "assertz_ascii",
        "assertz_regex",
        "assertz_hash",
        "assertz_token",
        "assertz_uri",
        "assertz_url",
        "assertz_email",
        "assertz_phone",
        "assertz_location",
        "assertz_intersects",
        "assertz_unauthorized",
        "assertz_valid_values",
    ]
    expected = {"assertz", "assertz_reply", "assertz_call"}
    expected |= set(validators) | {f"{name}_reply" for name in validators}
    assert expected <= set(asserts.__all__)


def test_value_validators_have_one_signature_and_their_own_names() -> None:
    expected = [
        ("_element", inspect.Parameter.empty),
        ("key", None),
        ("_error_code", asserts.INVALID_TYPE_ERROR_CODE),
        ("_status_code", asserts.DEFAULT_STATUS_CODE),
        ("reply", False),
    ]
    validators = [
        getattr(asserts, name)
        for name in asserts.__all__
        if name.startswith("assertz_") and not name.endswith("_reply")
    ]
    value_validators = [
        validator
        for validator in validators
        if next(iter(inspect.signature(validator).parameters)) == "_element"
    ]
    assert len(value_validators) == 20
    for validator in value_validators:
        parameters = inspect.signature(validator).parameters.values()
        assert [(p.name, p.default) for p in parameters] == expected, validator.__name__
        # tracebacks and profilers name the validator, not the code that builds it
        assert validator.__code__.co_name == validator.__qualname__ == validator.__name__
        assert validator.__module__.startswith("envoxy.asserts._")


def test_import_pulls_in_nothing_from_the_web_stack() -> None:
    code = "import json, sys\nimport envoxy.asserts\nprint(json.dumps(sorted(sys.modules)))\n"
    completed = run_python(code)
    loaded = json.loads(completed.stdout)
    offending = [
        module
        for module in loaded
        if any(module == prefix or module.startswith(prefix + ".") for prefix in FORBIDDEN_PREFIXES)
    ]
    assert offending == []
    assert completed.stderr == ""


def test_import_starts_no_thread_and_adds_no_log_handler() -> None:
    code = (
        "import logging, threading\n"
        "import envoxy.asserts\n"
        "print(threading.active_count(), len(logging.getLogger().handlers),"
        " len(logging.getLogger('envoxy').handlers))\n"
    )
    assert run_python(code).stdout.split() == ["1", "0", "0"]


def test_package_ships_py_typed() -> None:
    assert (pathlib.Path(asserts.__file__).parent / "py.typed").is_file()
