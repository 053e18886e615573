"""Table names: snake_case class names with the last word in the plural, prefixed.

``Product`` gives ``aux_products``, ``ProductCategory`` ``aux_product_categories``,
``Person`` ``aux_people`` and ``HTTPLog`` ``aux_http_logs``. Plurals come from
inflect. Importing inflect takes seconds, so the regular cases are answered from
``_plural_exceptions`` (inflect's own tables of irregular nouns, generated from it)
and inflect is imported only for a word that one of those tables could concern.
"""

import functools
import hashlib
import re
from typing import TYPE_CHECKING, Any

from envoxy.db.orm.constants import AUX_TABLE_PREFIX, BASE_TABLE_PREFIX, MAX_IDENTIFIER_LENGTH

if TYPE_CHECKING:
    import inflect

__all__ = [
    "class_table_name",
    "explicit_table_name",
    "is_prefixed",
    "pluralize",
    "prefixed",
    "sanitize_identifier",
    "shorten",
    "snake_case",
    "unprefixed",
]

_WORD_BOUNDARY = re.compile(r"(?<=[a-z0-9])(?=[A-Z])|(?<=[A-Z])(?=[A-Z][a-z])")
_NOT_IDENTIFIER = re.compile(r"[^a-z0-9_]")
_REPEATED_UNDERSCORE = re.compile(r"__+")
_HASH_LENGTH = 8


def snake_case(name: str) -> str:
    """Return a CamelCase class name in snake_case (``HTTPLog`` gives ``http_log``).

    :param name: a class name.
    """
    words = _WORD_BOUNDARY.sub("_", name).lower()
    return _REPEATED_UNDERSCORE.sub("_", words).strip("_")


@functools.cache
def pluralize(word: str) -> str:
    """Return the English plural of one lowercase noun (``category`` gives ``categories``).

    Regular nouns are answered without importing inflect; the others ask inflect.

    :param word: a single word without spaces.
    """
    return _regular_plural(word) or _inflect_engine().plural_noun(word) or word


def class_table_name(class_name: str, prefix: str = AUX_TABLE_PREFIX) -> str:
    """Return the table of a model class that names none: prefix + snake_case, last word plural.

    :param class_name: the model class's ``__name__``.
    :param prefix: the table prefix (default: the active ``AUX_TABLE_PREFIX``).
    """
    words = snake_case(class_name).split("_")
    words[-1] = pluralize(words[-1])
    return shorten(prefix + "_".join(words))


def explicit_table_name(name: str, prefix: str = AUX_TABLE_PREFIX) -> str:
    """Return the table for an explicit ``__tablename__``: lowercased, prefixed once, shortened.

    :param name: the name as written in the class body (``"users"`` gives ``aux_users``).
    :param prefix: the table prefix (default: the active ``AUX_TABLE_PREFIX``).
    """
    return shorten(prefixed(name.lower(), prefix))


def is_prefixed(name: str) -> bool:
    """Return whether ``name`` already starts with ``aux_``."""
    return name.startswith(BASE_TABLE_PREFIX)


def prefixed(name: str, prefix: str = AUX_TABLE_PREFIX) -> str:
    """Return ``name`` with the table prefix, unless it already starts with ``aux_`` (idempotent).

    :param name: a table name.
    :param prefix: the table prefix (default: the active ``AUX_TABLE_PREFIX``).
    """
    return name if is_prefixed(name) else prefix + name


def unprefixed(name: str) -> str:
    """Return ``name`` without a leading ``aux_`` (``aux_ns_products`` gives ``ns_products``)."""
    return name.removeprefix(BASE_TABLE_PREFIX)


def sanitize_identifier(name: str) -> str:
    """Return ``name`` lowercased with every character outside ``[a-z0-9_]`` replaced by ``_``."""
    return _NOT_IDENTIFIER.sub("_", name.lower())


def shorten(name: str, limit: int = MAX_IDENTIFIER_LENGTH) -> str:
    """Return ``name`` if it fits in ``limit`` characters, else a stable shortened form.

    The shortened form is the first ``limit - 9`` characters, ``_`` and the first
    8 hex digits of the SHA-1 of the whole name (54 + 1 + 8 for PostgreSQL's 63).

    :param name: an identifier.
    :param limit: the longest allowed length.
    :raises ValueError: ``limit`` leaves no room for the hash.
    """
    if len(name) <= limit:
        return name
    if limit <= _HASH_LENGTH + 1:
        raise ValueError(f"limit must exceed {_HASH_LENGTH + 1} characters, got {limit}")
    digest = hashlib.sha1(name.encode(), usedforsecurity=False).hexdigest()[:_HASH_LENGTH]
    return f"{name[: limit - _HASH_LENGTH - 1]}_{digest}"


def _regular_plural(word: str) -> str | None:
    """Return the plural when inflect would apply the regular rule, else ``None``."""
    from envoxy.db.orm._plural_exceptions import SUFFIXES, WHOLE_WORDS

    if len(word) < 2 or not (word.isascii() and word.isalpha() and word.islower()):
        return None
    if word in WHOLE_WORDS or any(word[start:] in SUFFIXES for start in range(len(word))):
        return None
    if word[-1] in "sxzhof" or word.endswith(("fe", "ze")):
        return None  # sibilants, -f/-fe and -o have exceptions inflect knows
    if word[-1] == "y":
        return word + "s" if word[-2] in "aeiou" else word[:-1] + "ies"
    return word + "s"


@functools.cache
def _inflect_engine() -> "inflect.engine":
    import inflect

    engine: Any = inflect.engine()
    return engine
