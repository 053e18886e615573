"""Date helpers: the API format, truncation (never rounding) and the standard formats."""

import datetime
import re

import pytest

from envoxy.utils.datetime import (
    Format,
    Now,
    api_format,
    coerce_datetime,
    format_api,
    format_iso,
    format_rfc1123,
    format_strftime,
    format_unix,
)

LAST_MICROSECOND = datetime.datetime(2025, 12, 31, 23, 59, 59, 999999, tzinfo=datetime.UTC)

# Now and Format are deprecated (tests/test_core_legacy.py): here only what they return
pytestmark = pytest.mark.filterwarnings(
    "ignore:envoxy.utils.datetime.(Now|Format):DeprecationWarning"
)


def test_now_formats() -> None:
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d", Now.log_format())
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}\+0000", Now.api_format())
    assert isinstance(Now.timestamp(), int)


def test_to_datetime_reads_the_api_format_or_returns_none() -> None:
    assert Now.to_datetime("2025-10-28T12:34:56.789+0000") == datetime.datetime(
        2025, 10, 28, 12, 34, 56, 789000
    )
    assert Now.to_datetime("yesterday") is None


def test_api_format_truncates_milliseconds() -> None:
    assert format_api(LAST_MICROSECOND) == "2025-12-31T23:59:59.999+0000"
    assert Format.api_format(LAST_MICROSECOND) == "2025-12-31T23:59:59.999+0000"


def test_api_format_converts_to_utc_and_takes_dates() -> None:
    lisbon_summer = datetime.datetime(
        2025, 7, 1, 1, 0, tzinfo=datetime.timezone(datetime.timedelta(hours=1))
    )
    assert Format.api_format(lisbon_summer) == "2025-07-01T00:00:00.000+0000"
    assert Format.api_format(datetime.date(2025, 10, 28)) == "2025-10-28T00:00:00.000+0000"


@pytest.mark.parametrize(
    ("fractional", "expected"),
    [
        (3, "2025-12-31T23:59:59.999Z"),
        (6, "2025-12-31T23:59:59.999999Z"),
        (1, "2025-12-31T23:59:59.9Z"),
        (0, "2025-12-31T23:59:59Z"),
        (None, "2025-12-31T23:59:59.999999Z"),
        (9, "2025-12-31T23:59:59.999999Z"),
    ],
)
def test_iso_truncates_fractions(fractional: int | None, expected: str) -> None:
    assert format_iso(LAST_MICROSECOND, fractional=fractional) == expected


def test_iso_with_output_zone() -> None:
    moment = datetime.datetime(2025, 10, 28, 12, 0, tzinfo=datetime.UTC)
    assert format_iso(moment, tz="Europe/Lisbon") == "2025-10-28T12:00:00.000Z"
    assert format_iso(moment, tz="Asia/Kolkata", fractional=0) == "2025-10-28T17:30:00+05:30"
    assert format_iso(moment, tz="America/New_York", fractional=0) == "2025-10-28T08:00:00-04:00"


def test_rfc1123() -> None:
    assert format_rfc1123(LAST_MICROSECOND) == "Wed, 31 Dec 2025 23:59:59 GMT"
    assert Format.rfc1123("2025-10-28T12:34:56+01:00") == "Tue, 28 Oct 2025 11:34:56 GMT"


def test_unix_truncates() -> None:
    assert format_unix(LAST_MICROSECOND) == 1767225599
    assert format_unix(LAST_MICROSECOND, ms=True) == 1767225599999
    assert format_unix(LAST_MICROSECOND, as_int=False) == pytest.approx(1767225599.999999)
    assert Format.unix("1970-01-01T00:00:01.5Z", ms=True) == 1500


def test_strftime_and_custom() -> None:
    assert format_strftime(LAST_MICROSECOND, "%Y/%m/%d") == "2025/12/31"
    assert Format.custom(LAST_MICROSECOND, fmt="%H:%M", tz="Asia/Tokyo") == "08:59"


def test_coerce_datetime() -> None:
    assert coerce_datetime(None) is None
    assert coerce_datetime("2025-10-28T12:00:00Z") == datetime.datetime(
        2025, 10, 28, 12, tzinfo=datetime.UTC
    )
    naive = coerce_datetime("2025-10-28T12:00:00", assume_tz="Europe/Lisbon")
    assert naive is not None
    assert naive.utcoffset() == datetime.timedelta(0)
    assert coerce_datetime("2025-10-28T12:00:00.123+0000") is not None
    with pytest.raises(ValueError, match="not an ISO 8601"):
        coerce_datetime("not a date")
    with pytest.raises(TypeError, match="got int"):
        coerce_datetime(12)  # type: ignore[arg-type]


def test_parse_returns_aware_datetime() -> None:
    assert Format.parse(datetime.date(2025, 1, 2)).tzinfo is datetime.UTC


def test_api_format_styles() -> None:
    assert api_format(LAST_MICROSECOND) == "2025-12-31T23:59:59.999Z"
    assert api_format(LAST_MICROSECOND, style="unix", unix_ms=True) == 1767225599999
    assert api_format(LAST_MICROSECOND, style="rfc1123") == "Wed, 31 Dec 2025 23:59:59 GMT"
    assert api_format(LAST_MICROSECOND, style="strftime", fmt="%Y") == "2025"
    assert api_format("2025-01-01", as_object=True) == datetime.datetime(
        2025, 1, 1, tzinfo=datetime.UTC
    )
    with pytest.raises(ValueError, match="style must be"):
        api_format(style="epoch")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="needs fmt"):
        api_format(style="strftime")


def test_join_api_is_the_one_layout_of_the_api_format() -> None:
    from envoxy.utils.datetime import API_FORMAT, format_api, join_api

    text = join_api("2025-10-28", "23:59:59", "999")
    assert text == "2025-10-28T23:59:59.999+0000"
    moment = datetime.datetime(2025, 10, 28, 23, 59, 59, 999999)
    assert format_api(moment) == text
    assert datetime.datetime.strptime(text, API_FORMAT) == moment.replace(microsecond=999000)
