"""Table-name rules as functions: snake_case, plurals, prefixes, shortening, namespaces."""

import hashlib

import pytest

from envoxy.db.orm.constants import (
    AUX_TABLE_PREFIX,
    BASE_TABLE_PREFIX,
    prefix_for_namespace,
    read_namespace,
    sanitize_namespace,
)
from envoxy.db.orm.naming import (
    class_table_name,
    explicit_table_name,
    is_prefixed,
    pluralize,
    prefixed,
    sanitize_identifier,
    shorten,
    snake_case,
    unprefixed,
)


@pytest.mark.parametrize(
    ("class_name", "table"),
    [
        ("Product", "aux_products"),
        ("Category", "aux_categories"),
        ("Company", "aux_companies"),
        ("Person", "aux_people"),
        ("Child", "aux_children"),
        ("Sheep", "aux_sheep"),
        ("ProductCategory", "aux_product_categories"),
        ("HTTPLog", "aux_http_logs"),
        ("Address", "aux_addresses"),
        ("Day", "aux_days"),
        ("Box", "aux_boxes"),
        ("Knife", "aux_knives"),
        ("Potato", "aux_potatoes"),
        ("Mouse", "aux_mice"),
        ("Status", "aux_statuses"),
        ("Woman", "aux_women"),
    ],
)
def test_class_name_gives_prefixed_snake_case_plural(class_name: str, table: str) -> None:
    assert class_table_name(class_name, prefix="aux_") == table


def test_only_the_last_word_is_pluralised() -> None:
    assert class_table_name("PersonCategory", prefix="aux_") == "aux_person_categories"
    assert class_table_name("ChildPerson", prefix="aux_") == "aux_child_people"


@pytest.mark.parametrize(
    ("name", "snake"),
    [
        ("Product", "product"),
        ("ProductCategory", "product_category"),
        ("HTTPLog", "http_log"),
        ("OAuthToken", "o_auth_token"),
        ("Log2Entry", "log2_entry"),
        ("Already_Snake", "already_snake"),
    ],
)
def test_snake_case_splits_camel_case_words(name: str, snake: str) -> None:
    assert snake_case(name) == snake


def test_pluralize_caches_its_answers() -> None:
    pluralize.cache_clear()
    pluralize("widget")
    pluralize("widget")
    assert pluralize.cache_info().hits == 1


def test_explicit_name_is_lowercased_prefixed_and_not_pluralised() -> None:
    assert explicit_table_name("Users", prefix="aux_") == "aux_users"
    assert explicit_table_name("person", prefix="aux_") == "aux_person"
    assert explicit_table_name("aux_users", prefix="aux_shop_") == "aux_users"


def test_prefixed_is_idempotent() -> None:
    once = prefixed("orders")
    assert once == AUX_TABLE_PREFIX + "orders"
    assert prefixed(once) == once
    assert is_prefixed(once)
    assert not is_prefixed("orders")


def test_unprefixed_strips_only_the_base_prefix() -> None:
    assert unprefixed("aux_ns_products") == "ns_products"
    assert unprefixed("legacy") == "legacy"


def test_shorten_keeps_short_names() -> None:
    name = "x" * 63
    assert shorten(name) == name


def test_shorten_cuts_to_54_characters_and_a_sha1_suffix() -> None:
    name = "aux_" + "a_very_long_table_name_" * 4
    short = shorten(name)
    digest = hashlib.sha1(name.encode()).hexdigest()[:8]
    assert short == f"{name[:54]}_{digest}"
    assert len(short) == 63
    assert shorten(name) == short


def test_shorten_rejects_a_limit_without_room_for_the_hash() -> None:
    with pytest.raises(ValueError, match="limit must exceed 9"):
        shorten("x" * 20, limit=9)


def test_long_class_name_gives_a_63_character_table() -> None:
    table = class_table_name("A" + "VeryLongModelName" * 5)
    assert len(table) == 63
    assert table.startswith(AUX_TABLE_PREFIX)


def test_sanitize_identifier_lowercases_and_replaces_other_characters() -> None:
    assert sanitize_identifier("Idx-Products.Name") == "idx_products_name"


@pytest.mark.parametrize(
    ("raw", "clean"),
    [("My-Svc", "my_svc"), ("__shop__", "shop"), ("Ünï Cödé", "n__c_d"), ("", "")],
)
def test_namespace_is_sanitised(raw: str, clean: str) -> None:
    assert sanitize_namespace(raw) == clean


def test_namespace_gives_the_prefix() -> None:
    assert prefix_for_namespace("My-Svc") == "aux_my_svc_"
    assert prefix_for_namespace("") == BASE_TABLE_PREFIX
    assert prefix_for_namespace("---") == BASE_TABLE_PREFIX


def test_envoxy_namespace_variable_wins_over_the_generic_one() -> None:
    both = {"ENVOXY_SERVICE_NAMESPACE": "Billing", "SERVICE_NAMESPACE": "other"}
    assert read_namespace(both) == "billing"
    assert read_namespace({"SERVICE_NAMESPACE": "Other"}) == "other"
    assert read_namespace({}) == ""
