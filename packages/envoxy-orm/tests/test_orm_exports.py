"""Public API: ``__all__`` of every module, helpers, and what importing pulls in."""

import pytest
from sqlalchemy import TextClause

import envoxy.db.orm
from envoxy_testing.exports import all_problems
from envoxy_testing.interpreter import run_python

MODULES = [
    "envoxy.db.orm",
    "envoxy.db.orm.base",
    "envoxy.db.orm.constants",
    "envoxy.db.orm.conventions",
    "envoxy.db.orm.drivers",
    "envoxy.db.orm.foreign_keys",
    "envoxy.db.orm.helpers",
    "envoxy.db.orm.listeners",
    "envoxy.db.orm.manager",
    "envoxy.db.orm.mixin",
    "envoxy.db.orm.naming",
    "envoxy.db.orm.schema",
    "envoxy.db.orm.session",
    "envoxy.db.orm.sqltypes",
    "envoxy.db.helpers",
]


@pytest.mark.parametrize("name", MODULES)
def test_all_lists_exactly_the_public_names(name: str) -> None:
    assert all_problems(name) == []


def test_package_exports_the_spec_names() -> None:
    expected = {
        "EnvoxyBase",
        "EnvoxyMixin",
        "EnvoxyMeta",
        "metadata",
        "register_envoxy_listeners",
        "schema",
        "sqltypes",
        "session",
        "helpers",
    }
    assert expected <= set(envoxy.db.orm.__all__)
    assert envoxy.db.orm.metadata is envoxy.db.orm.EnvoxyBase.metadata
    assert envoxy.db.orm.session_scope is envoxy.db.orm.session.session_scope
    with pytest.raises(AttributeError, match="no attribute 'missing'"):
        _ = envoxy.db.orm.missing  # type: ignore[attr-defined]


def test_schema_and_sqltypes_re_exports() -> None:
    from sqlalchemy import Numeric
    from sqlalchemy.dialects.postgresql import ARRAY, JSONB, UUID

    from envoxy.db.orm import schema, sqltypes

    assert (sqltypes.UUID, sqltypes.JSONB, sqltypes.ARRAY) == (UUID, JSONB, ARRAY)
    assert sqltypes.Decimal is Numeric
    assert schema.prefixed(schema.prefixed("tags")) == schema.prefixed("tags")
    assert schema.ForeignKey("users.id").target_fullname == schema.prefixed("users") + ".id"


def test_to_sa_text_turns_pyformat_into_named_parameters() -> None:
    from envoxy.db.helpers import to_sa_text as reexported
    from envoxy.db.orm.helpers import to_sa_text

    clause = to_sa_text("SELECT * FROM t WHERE a = %(a)s AND b = %(b_2)s AND c = '%'")
    assert isinstance(clause, TextClause)
    assert clause.text == "SELECT * FROM t WHERE a = :a AND b = :b_2 AND c = '%'"
    assert set(clause._bindparams) == {"a", "b_2"}
    assert reexported is to_sa_text


def test_importing_the_orm_pulls_in_nothing_web_or_messaging() -> None:
    forbidden = ("werkzeug", "flask", "paho", "zmq", "redis", "celery", "uwsgi", "inflect")
    code = (
        "import sys\n"
        "import envoxy.db.orm\n"
        "from envoxy.db.orm import session, schema, sqltypes, helpers\n"
        f"print(sorted(m for m in sys.modules if m.split('.')[0] in {forbidden!r}))\n"
    )
    assert run_python(code).stdout.strip() == "[]"
