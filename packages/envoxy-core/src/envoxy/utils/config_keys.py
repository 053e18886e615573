"""Find the keys of ``envoxy.json`` that nothing reads, and the known key each was meant to be.

Each part of Envoxy declares what it reads as data (a :class:`KnownKeys` per section,
built from its settings class's ``KEYS``); :func:`unknown_keys` walks a parsed file
against them. ``envoxyd`` logs one warning per finding at startup, in the master::

    envoxy.json: unknown key 'log_level' is ignored; did you mean 'log'?

Services keep their own top-level sections (0.7 services read custom sections from
``conf_content``), so at the top level only a key that looks like a slip of a known one
is reported: close in spelling (``redis_server``), or a known key with a suffix
(``log_level``, ``cache_ttl``). Inside a known section every unknown key is reported.
"""

import difflib
from collections.abc import Collection, Iterable, Mapping
from dataclasses import dataclass
from typing import Any

__all__ = [
    "SUGGESTION_CUTOFF",
    "TOP_LEVEL_CUTOFF",
    "KnownKeys",
    "UnknownKey",
    "closest",
    "unknown_keys",
]

#: How alike (difflib ratio) an unknown key must be to a known one to be suggested.
SUGGESTION_CUTOFF = 0.6
#: How alike an unknown top-level key must be to a known one to be reported at all.
TOP_LEVEL_CUTOFF = 0.8


@dataclass(frozen=True, slots=True)
class KnownKeys:
    """The keys Envoxy reads in one section of ``envoxy.json``.

    :param section: the top-level key, e.g. ``"cache"`` or ``"redis_servers"``.
    :param keys: the keys read inside it.
    :param per_server: the section maps server keys to objects holding ``keys``
        (``redis_servers.<key>.<name>``); entries that are not objects (such as
        ``psql_servers.default``) are skipped.
    """

    section: str
    keys: frozenset[str]
    per_server: bool = False


@dataclass(frozen=True, slots=True)
class UnknownKey:
    """A key nothing reads: its dotted path and the closest known key, if any."""

    path: str
    suggestion: str | None

    def message(self) -> str:
        """Return the warning line naming the key and the closest known one."""
        hint = f"; did you mean {self.suggestion!r}?" if self.suggestion else ""
        return f"envoxy.json: unknown key {self.path!r} is ignored{hint}"


def unknown_keys(
    document: Mapping[str, Any], sections: Iterable[KnownKeys], top_level: Collection[str]
) -> list[UnknownKey]:
    """Return the keys of ``document`` that nothing reads, in file order.

    :param document: the parsed ``envoxy.json``.
    :param sections: what is read inside each known section.
    :param top_level: every top-level key read (the sections' names are added).
    """
    known_sections = {known.section: known for known in sections}
    top = set(top_level) | set(known_sections)
    found: list[UnknownKey] = []
    for name, value in document.items():
        if name not in top:
            suggestion = _top_level_slip(name, top)
            if suggestion is not None:
                found.append(UnknownKey(name, suggestion))
            continue
        known = known_sections.get(name)
        if known is None or not isinstance(value, Mapping):
            continue
        objects = value.items() if known.per_server else [(None, value)]
        for server, entry in objects:
            if not isinstance(entry, Mapping):
                continue
            prefix = name if server is None else f"{name}.{server}"
            found.extend(
                UnknownKey(f"{prefix}.{key}", closest(key, known.keys))
                for key in entry
                if key not in known.keys
            )
    return found


def closest(name: str, known: Iterable[str], cutoff: float = SUGGESTION_CUTOFF) -> str | None:
    """Return the known key most like ``name`` (difflib), or None when none is close."""
    matches = difflib.get_close_matches(str(name), sorted(known), n=1, cutoff=cutoff)
    return matches[0] if matches else None


def _top_level_slip(name: str, known: Collection[str]) -> str | None:
    """Return the known key ``name`` was probably meant to be, or None for a custom section."""
    candidates = [key for key in known if not key.startswith("$")]
    for key in sorted(candidates, key=len, reverse=True):
        if name.lower().startswith(f"{key}_") or name.lower().startswith(f"{key}."):
            return key
    return closest(name.lower(), candidates, TOP_LEVEL_CUTOFF)
