"""JSON encoders: orjson and the stdlib twin give the same output types."""

import datetime
import decimal
import enum
import json
import uuid

import pytest

from envoxy.utils.encoders import EnvoxyJsonEncoder, envoxy_json_dumps, envoxy_json_loads

CET = datetime.timezone(datetime.timedelta(hours=1))


class Colour(enum.Enum):
    RED = "red"


def both(value: object) -> list[object]:
    """Encode ``value`` with both encoders and decode the results."""
    return [
        json.loads(envoxy_json_dumps(value)),
        json.loads(json.dumps(value, cls=EnvoxyJsonEncoder)),
    ]


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (datetime.datetime(2025, 10, 28, 12, 34, 56, 789000), "2025-10-28T12:34:56.789+0000"),
        (datetime.datetime(2025, 12, 31, 23, 59, 59, 999999), "2025-12-31T23:59:59.999+0000"),
        (
            datetime.datetime(2025, 1, 1, 0, 30, 0, 1500, tzinfo=CET),
            "2024-12-31T23:30:00.001+0000",
        ),
        (
            datetime.datetime(2025, 1, 1, tzinfo=datetime.UTC),
            "2025-01-01T00:00:00.000+0000",
        ),
        (datetime.date(2025, 10, 28), "2025-10-28"),
        (datetime.time(13, 5, 7, 120000), "13:05:07.120000"),
        (datetime.time(13, 5, tzinfo=datetime.UTC), "13:05:00+00:00"),
        (decimal.Decimal("12.50"), 12.5),
        (decimal.Decimal("NaN"), None),
        (uuid.UUID("12345678-1234-5678-1234-567812345678"), "12345678-1234-5678-1234-567812345678"),
        (Colour.RED, "red"),
    ],
)
def test_scalar_conversions(value: object, expected: object) -> None:
    assert both(value) == [expected, expected]


def test_naive_datetime_counts_as_utc() -> None:
    naive = datetime.datetime(2025, 6, 1, 8, 0)
    aware = naive.replace(tzinfo=datetime.UTC)
    assert envoxy_json_dumps(naive) == envoxy_json_dumps(aware) == b'"2025-06-01T08:00:00.000+0000"'


def test_sets_and_dict_views_become_arrays() -> None:
    mapping = {"a": 1, "b": 2}
    value = {
        "set": {3},
        "frozen": frozenset({4}),
        "keys": mapping.keys(),
        "values": mapping.values(),
        "items": mapping.items(),
    }
    expected = {
        "set": [3],
        "frozen": [4],
        "keys": ["a", "b"],
        "values": [1, 2],
        "items": [["a", 1], ["b", 2]],
    }
    assert both(value) == [expected, expected]


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (2**64 - 1, 2**64 - 1),
        (2**64, str(2**64)),
        (-(2**63), -(2**63)),
        (-(2**63) - 1, str(-(2**63) - 1)),
        (
            {"outer": [1, {"inner": (2**70, 5)}], "set": {2**65}},
            {"outer": [1, {"inner": [str(2**70), 5]}], "set": [str(2**65)]},
        ),
    ],
)
def test_ints_beyond_64_bits_become_strings_also_nested(value: object, expected: object) -> None:
    assert both(value) == [expected, expected]


def test_big_int_keeps_other_conversions() -> None:
    value = {"when": datetime.datetime(2025, 1, 1), "id": 10**30}
    expected = {"when": "2025-01-01T00:00:00.000+0000", "id": str(10**30)}
    assert both(value) == [expected, expected]


@pytest.mark.parametrize("value", [object(), {"nested": [b"bytes"]}, {1 + 2j}, Exception("x")])
def test_unsupported_type_raises_type_error(value: object) -> None:
    with pytest.raises(TypeError, match="is not JSON serializable"):
        envoxy_json_dumps(value)
    with pytest.raises(TypeError, match="is not JSON serializable"):
        json.dumps(value, cls=EnvoxyJsonEncoder)


def test_dumps_returns_bytes_and_loads_round_trips() -> None:
    encoded = envoxy_json_dumps({"name": "café", "n": [1, 2.5, None, True]})
    assert isinstance(encoded, bytes)
    assert envoxy_json_loads(encoded) == {"name": "café", "n": [1, 2.5, None, True]}
    assert envoxy_json_loads(encoded.decode()) == envoxy_json_loads(encoded)


def test_loads_rejects_invalid_json_with_position() -> None:
    with pytest.raises(json.JSONDecodeError) as caught:
        envoxy_json_loads(b'{"a": }')
    assert (caught.value.lineno, caught.value.colno) == (1, 7)
