"""Regenerate ``envoxy/db/orm/_plural_exceptions.py`` from the installed inflect.

For a single lowercase word, inflect's ``plural_noun`` departs from the regular
English rule only when the word is one of the entries of its whole-word tables
(irregular nouns, pronouns, ``*_complete`` lists), when one of the entries of its
suffix tables (``*_bysize`` and the lists they are built from) ends the word, or
when the word ends in one of the endings its code tests directly
(``CODE_ENDINGS``). ``envoxy.db.orm.naming`` uses the two generated sets to answer
every other word without importing inflect, whose import takes seconds, and asks
inflect itself about the rest.

Run after upgrading inflect::

    .venv/bin/python packages/envoxy-orm/scripts/generate_plural_exceptions.py

``test_orm_plurals.py`` fails when the shipped sets miss an entry of the installed
inflect.
"""

import pathlib
import re
import sys
from collections.abc import Iterator

__all__ = ["CODE_ENDINGS", "TARGET", "collect_exceptions", "main", "render"]

#: The generated module.
TARGET = (
    pathlib.Path(__file__).resolve().parents[1]
    / "src"
    / "envoxy"
    / "db"
    / "orm"
    / "_plural_exceptions.py"
)

#: Endings that inflect's ``_plnoun`` tests in code rather than in its tables.
CODE_ENDINGS = frozenset(
    {
        "quy", "person", "man", "mouse", "louse", "goose", "tooth", "foot", "taco", "die",
        "ceps", "zoon", "cis", "sis", "xis", "trix", "eau", "ieu", "ynx", "inx", "anx",
        "elf", "alf", "olf", "eaf", "nife", "life", "wife", "arf",
    }
)  # fmt: skip

#: Tables inflect matches against the whole (last) word only.
_WHOLE_WORD_TABLES = frozenset(
    {"pl_pron_nom", "pl_pron_acc", "pl_sb_uninflected_caps", "pl_sb_uninflected_herd"}
)
#: Tables used only for phrases with a preposition (they need whitespace).
_PHRASE_TABLES = frozenset({"pl_pron_acc_keys_bysize"})
_TABLE_PREFIXES = ("pl_sb_", "pl_pron_")
_WORD = re.compile(r"[a-z]+")
_WILDCARD_PREFIX = re.compile(r"^(?:\[a-z\])?\.\*")


def collect_exceptions() -> tuple[frozenset[str], frozenset[str]]:
    """Return ``(whole_words, suffixes)`` read from the installed inflect's noun tables.

    ``suffixes`` includes ``CODE_ENDINGS``.

    Raises:
        ValueError: a table entry is neither a word, a phrase nor a ``.*suffix`` pattern,
            so this generator needs updating for the installed inflect.
    """
    import inflect

    whole_words: set[str] = set()
    suffixes: set[str] = set(CODE_ENDINGS)
    for name, table in vars(inflect).items():
        if not name.startswith(_TABLE_PREFIXES) or name in _PHRASE_TABLES:
            continue
        if not isinstance(table, dict | set | frozenset | list | tuple):
            continue  # strings here are regular expressions built from the lists
        whole = name in _WHOLE_WORD_TABLES or name.endswith("_complete")
        whole = whole or name.startswith("pl_sb_irregular")
        target = whole_words if whole else suffixes
        for entry in _strings(table):
            for alternative in entry.split("|"):
                _add_entry(target, name, alternative)
    return frozenset(whole_words - suffixes), frozenset(suffixes)


def render(whole_words: frozenset[str], suffixes: frozenset[str]) -> str:
    """Return the source of ``_plural_exceptions.py`` holding both sets."""
    from importlib.metadata import version

    lines = [
        f'"""Words inflect {version("inflect")} pluralises irregularly (generated, do not edit).',
        "",
        "``WHOLE_WORDS`` are irregular as whole words; a word ending in one of",
        "``SUFFIXES`` may be irregular. Regenerate with",
        "packages/envoxy-orm/scripts/generate_plural_exceptions.py.",
        '"""',
        "",
        '__all__ = ["SUFFIXES", "WHOLE_WORDS"]',
        "",
    ]
    for name, words in (("WHOLE_WORDS", whole_words), ("SUFFIXES", suffixes)):
        lines += [f"{name} = frozenset(", "    {"]
        lines += [f'        "{word}",' for word in sorted(words)]
        lines += ["    }", ")", ""]
    return "\n".join(lines)


def main() -> None:
    """Write the generated module."""
    TARGET.write_text(render(*collect_exceptions()), encoding="utf-8")
    print(f"wrote {TARGET}", file=sys.stderr)


def _add_entry(target: set[str], table_name: str, entry: str) -> None:
    word = _WILDCARD_PREFIX.sub("", entry.lower())
    if _WORD.fullmatch(word):
        target.add(word)
    elif " " not in word and "-" not in word:  # a phrase never ends a single word
        raise ValueError(f"inflect table {table_name} has an unexpected entry {entry!r}")


def _strings(table: object) -> Iterator[str]:
    if isinstance(table, str):
        yield table
    elif isinstance(table, dict):
        for key, value in table.items():
            yield from _strings(key)
            yield from _strings(value)
    elif isinstance(table, set | frozenset | list | tuple):
        for item in table:
            yield from _strings(item)


if __name__ == "__main__":
    main()
