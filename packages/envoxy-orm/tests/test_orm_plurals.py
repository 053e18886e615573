"""The inflect-free plural path agrees with inflect, and cold imports skip inflect."""

import importlib.util
import pathlib
from types import ModuleType

import inflect
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from envoxy.db.orm import _plural_exceptions
from envoxy.db.orm.naming import _regular_plural, pluralize
from envoxy_testing.interpreter import run_python

GENERATOR = (
    pathlib.Path(__file__).resolve().parents[1] / "scripts" / "generate_plural_exceptions.py"
)
ENGINE = inflect.engine()
NOUNS = """
    account address alert alias analysis apple appendix axis bacterium baggage batch beach
    bench bias bison book box brand brush bus business cactus calf campus canvas car category
    chassis cherry child church city class company country crisis criterion currency customer
    datum day deer device diagnosis dish donkey echo elf entry equipment event fax fish foot
    fox gas goose guy half hero history index information invoice item job key kiss knife leaf
    life log loaf man match matrix message metric money monkey mouse news note octopus order ox
    payment person phenomenon photo piano plan policy potato price product quiz radio record
    region report role rule salmon schedule series session setting sheep shelf species status
    stimulus story studio tag task tax thesis thief tomato token tooth toy transaction user
    valley vertex video wife wolf woman zero
""".split()  # noqa: SIM905


def load_generator() -> ModuleType:
    spec = importlib.util.spec_from_file_location("generate_plural_exceptions", GENERATOR)
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.mark.parametrize("noun", NOUNS)
def test_pluralize_matches_inflect(noun: str) -> None:
    assert pluralize(noun) == ENGINE.plural_noun(noun)


@settings(max_examples=500, deadline=None)
@given(st.text(alphabet="abcdefghijklmnopqrstuvwxyz", min_size=1, max_size=12))
def test_regular_path_never_disagrees_with_inflect(word: str) -> None:
    answer = _regular_plural(word)
    assert answer is None or answer == ENGINE.plural_noun(word)


@pytest.mark.parametrize("word", sorted(_plural_exceptions.WHOLE_WORDS)[:400:7])
def test_irregular_whole_words_are_left_to_inflect(word: str) -> None:
    assert _regular_plural(word) is None


def test_regular_path_answers_common_model_nouns_itself() -> None:
    nouns = ("product", "order", "user", "category", "token", "day")
    assert [_regular_plural(noun) for noun in nouns] == [
        "products",
        "orders",
        "users",
        "categories",
        "tokens",
        "days",
    ]


def test_shipped_exceptions_cover_the_installed_inflect() -> None:
    whole_words, suffixes = load_generator().collect_exceptions()
    assert suffixes <= _plural_exceptions.SUFFIXES, "rerun scripts/generate_plural_exceptions.py"
    missing = whole_words - _plural_exceptions.WHOLE_WORDS - _plural_exceptions.SUFFIXES
    assert not missing, "rerun scripts/generate_plural_exceptions.py"


def test_generated_module_is_what_the_generator_writes() -> None:
    generator = load_generator()
    expected = generator.render(*generator.collect_exceptions())
    assert pathlib.Path(_plural_exceptions.__file__).read_text(encoding="utf-8") == expected


def test_defining_a_regular_model_does_not_import_inflect() -> None:
    code = (
        "import sys\n"
        "from sqlalchemy import String\n"
        "from sqlalchemy.orm import Mapped, mapped_column\n"
        "from envoxy.db.orm import EnvoxyBase\n"
        "class ProductCategory(EnvoxyBase):\n"
        "    name: Mapped[str] = mapped_column(String(50), index=True)\n"
        "assert ProductCategory.__tablename__ == 'aux_product_categories'\n"
        "print('inflect' in sys.modules)\n"
    )
    assert run_python(code).stdout.strip() == "False"
