"""Import a service's model modules and collect the metadata Alembic compares against."""

from __future__ import annotations

import importlib
import os
import sys
from collections.abc import Iterable

from sqlalchemy import MetaData

from envoxy.db.orm import EnvoxyBase
from envoxy.tools.alembic.exceptions import ModelImportError

__all__ = ["load_target_metadata"]


def load_target_metadata(modules: Iterable[str], paths: Iterable[str] = ()) -> list[MetaData]:
    """Import ``modules`` and return ``EnvoxyBase.metadata`` plus any other ``metadata``.

    The working directory and ``paths`` are put on ``sys.path`` first.

    :raises ModelImportError: a module failed to import; the message names it.
    """
    for path in (os.getcwd(), *paths):
        if path not in sys.path:
            sys.path.insert(0, path)
    targets: list[MetaData] = [EnvoxyBase.metadata]
    for name in modules:
        try:
            module = importlib.import_module(name)
        except Exception as exc:
            raise ModelImportError(
                f"cannot import SERVICE_MODELS module {name!r}: {type(exc).__name__}: {exc}"
            ) from exc
        metadata = getattr(module, "metadata", None)
        if isinstance(metadata, MetaData) and all(metadata is not m for m in targets):
            targets.append(metadata)
    return targets
