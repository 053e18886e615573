"""Unit tests of the Mango translation of couchdbc.find (SPEC 5.3)."""

import copy

import pytest

from envoxy.couchdb import CouchDBError, couchdbc, find_body, split_db
from envoxy.couchdb.dispatcher import Dispatcher
from envoxy.db.exceptions import DatabaseException
from envoxy_testing.exports import all_problems


def test_exports_match_all() -> None:
    assert all_problems("envoxy.couchdb", exact=True) == []
    assert couchdbc is Dispatcher


def test_couchdb_error_is_a_database_exception_with_status_and_reason() -> None:
    error = CouchDBError("boom", status=409, reason="Document update conflict.")
    assert isinstance(error, DatabaseException)
    assert (error.status, error.reason) == (409, "Document update conflict.")


@pytest.mark.parametrize("operator", ["eq", "ne", "gt", "gte", "lt", "lte", "in", "nin"])
def test_operator_suffix_becomes_a_mango_operator(operator: str) -> None:
    body = find_body(params={f"age__{operator}": 5})
    assert body == {"selector": {"age": {f"${operator}": 5}}}


def test_plain_keys_are_equality() -> None:
    assert find_body(params={"name": "ada", "kind": {"$regex": "^a"}}) == {
        "selector": {"name": "ada", "kind": {"$regex": "^a"}}
    }


def test_several_operators_on_one_field_merge() -> None:
    body = find_body(params={"age__gte": 18, "age__lt": 65, "name__ne": "bob"})
    assert body["selector"] == {"age": {"$gte": 18, "$lt": 65}, "name": {"$ne": "bob"}}


def test_equality_and_operators_on_one_field_merge_as_eq() -> None:
    body = find_body(params={"age": 30, "age__ne": 31})
    assert body["selector"] == {"age": {"$eq": 30, "$ne": 31}}


def test_unknown_suffix_is_kept_as_a_field_name() -> None:
    assert find_body(params={"a__b": 1})["selector"] == {"a__b": 1}


def test_nested_double_underscore_field_keeps_its_prefix() -> None:
    assert find_body(params={"meta__size__gt": 2})["selector"] == {"meta__size": {"$gt": 2}}


def test_paging_keys_map_to_limit_skip_and_sort() -> None:
    body = find_body(
        params={"page_size": 10, "page_start_index": 20, "order_by": ["-age", "+name", "id"]}
    )
    assert body == {
        "selector": {},
        "limit": 10,
        "skip": 20,
        "sort": [{"age": "desc"}, {"name": "asc"}, {"id": "asc"}],
    }


def test_order_by_string_is_one_field() -> None:
    assert find_body(params={"order_by": "-created"})["sort"] == [{"created": "desc"}]


def test_fields_are_sent() -> None:
    assert find_body(fields=["_id", "name"])["fields"] == ["_id", "name"]
    assert "fields" not in find_body()


def test_params_are_not_modified() -> None:
    params = {"age__gt": 1, "age__lt": 9, "page_size": 3, "order_by": ["-age"]}
    before = copy.deepcopy(params)
    find_body(fields=["a"], params=params)
    assert params == before


@pytest.mark.parametrize(
    "params", [{"page_size": -1}, {"page_start_index": "x"}, {"order_by": [3]}]
)
def test_bad_paging_values_raise_value_error(params: dict[str, object]) -> None:
    with pytest.raises(ValueError):
        find_body(params=params)


def test_db_splits_at_the_first_dot() -> None:
    assert split_db("main.users.v2") == ("main", "users.v2")


@pytest.mark.parametrize("db", ["nodot", ".users", "main.", ""])
def test_db_without_key_and_database_raises_value_error(db: str) -> None:
    with pytest.raises(ValueError, match=r"<server key>\.<database>"):
        split_db(db)


def test_find_with_a_db_without_dot_raises_before_any_config_read() -> None:
    with pytest.raises(ValueError):
        couchdbc.find("nodot")
