"""``ENVOXY_SERVICE_NAMESPACE`` (read at import) in fresh interpreters."""

import json

import pytest

from envoxy_testing.interpreter import run_python

SCRIPT = """
import json
from sqlalchemy import ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column
from envoxy.db.orm import EnvoxyBase, schema
from envoxy.db.orm.constants import AUX_TABLE_PREFIX

class User(EnvoxyBase):
    __tablename__ = "users"

class ProductCategory(EnvoxyBase):
    name: Mapped[str] = mapped_column(String(20), index=True)
    owner_id: Mapped[str] = mapped_column(ForeignKey("users.id"))

class Kept(EnvoxyBase):
    __tablename__ = "aux_kept"

class Legacy(EnvoxyBase):
    __exception_tablename__ = "legacy"

table = ProductCategory.__table__
print(json.dumps({
    "prefix": AUX_TABLE_PREFIX,
    "tables": sorted(EnvoxyBase.metadata.tables),
    "names": sorted(str(c.name) for c in [*table.indexes, *table.constraints]),
    "fk_target": next(iter(table.foreign_keys)).target_fullname,
    "schema_table": schema.Table("tags", EnvoxyBase.metadata).name,
}))
"""


def run(**variables: str) -> dict[str, object]:
    outcome: dict[str, object] = json.loads(run_python(SCRIPT, env=variables).stdout)
    return outcome


def test_namespace_prefixes_tables_foreign_keys_and_names() -> None:
    outcome = run(ENVOXY_SERVICE_NAMESPACE="My-Svc")
    assert outcome["prefix"] == "aux_my_svc_"
    assert outcome["tables"] == [
        "aux_kept",
        "aux_my_svc_product_categories",
        "aux_my_svc_users",
        "legacy",
    ]
    assert outcome["fk_target"] == "aux_my_svc_users.id"
    assert outcome["schema_table"] == "aux_my_svc_tags"
    assert outcome["names"] == [
        "fk_my_svc_product_categories_owner_id_to_my_svc_users",
        "idx_my_svc_product_categories_name",
        "pk_my_svc_product_categories",
    ]


def test_generic_variable_is_the_fallback() -> None:
    assert run(SERVICE_NAMESPACE="billing")["prefix"] == "aux_billing_"
    both = run(ENVOXY_SERVICE_NAMESPACE="first", SERVICE_NAMESPACE="second")
    assert both["prefix"] == "aux_first_"


@pytest.mark.parametrize("value", ["", "___"])
def test_empty_namespace_gives_the_base_prefix(value: str) -> None:
    outcome = run(ENVOXY_SERVICE_NAMESPACE=value)
    assert outcome["prefix"] == "aux_"
    assert "aux_product_categories" in outcome["tables"]  # type: ignore[operator]
