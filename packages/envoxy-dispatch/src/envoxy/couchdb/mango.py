"""Translate ``couchdbc.find`` arguments into a Mango ``_find`` request body.

``params`` keys ``field__op`` (op in :data:`OPERATORS`) become ``{"field": {"$op": v}}``;
several operators on one field merge into one object; any other key is equality
(``{"field": v}``; with operators too, it becomes their ``$eq``). ``page_size``,
``page_start_index`` and ``order_by`` become ``limit``, ``skip`` and ``sort``.
"""

from collections.abc import Iterable, Mapping, Sequence
from typing import Any

__all__ = ["OPERATORS", "PAGING_KEYS", "find_body"]

#: The operator suffixes ``find`` understands.
OPERATORS = frozenset({"eq", "ne", "gt", "gte", "lt", "lte", "in", "nin"})
#: ``params`` keys that control paging and order, not the selector.
PAGING_KEYS = frozenset({"page_size", "page_start_index", "order_by"})


def find_body(
    fields: Sequence[str] | None = None, params: Mapping[str, Any] | None = None
) -> dict[str, Any]:
    """Return the ``_find`` body for ``fields`` and ``params``; ``params`` is not modified.

    :param fields: the document fields to return, or None for whole documents.
    :param params: filters and paging, e.g. ``{"age__gte": 18, "page_size": 10}``.
    :raises ValueError: ``order_by`` is not a string or a list of strings, or a paging
        value is not a non-negative integer.
    """
    params = params or {}
    equal: dict[str, Any] = {}
    operators: dict[str, dict[str, Any]] = {}
    for key, value in params.items():
        if key in PAGING_KEYS:
            continue
        field, separator, operator = key.rpartition("__")
        if separator and field and operator in OPERATORS:
            operators.setdefault(field, {})[f"${operator}"] = value
        else:
            equal[key] = value
    selector: dict[str, Any] = dict(equal)
    for field, conditions in operators.items():
        if field in equal:
            selector[field] = {"$eq": equal[field], **conditions}
        else:
            selector[field] = conditions
    body: dict[str, Any] = {"selector": selector}
    if fields is not None:
        body["fields"] = list(fields)
    if params.get("page_size") is not None:
        body["limit"] = _count(params["page_size"], "page_size")
    if params.get("page_start_index") is not None:
        body["skip"] = _count(params["page_start_index"], "page_start_index")
    if params.get("order_by"):
        body["sort"] = _sort(params["order_by"])
    return body


def _count(value: Any, name: str) -> int:
    try:
        number = int(value)
    except (TypeError, ValueError):
        number = -1
    if isinstance(value, bool) or number < 0:
        raise ValueError(f"{name} must be a non-negative integer, not {value!r}")
    return number


def _sort(order_by: Any) -> list[dict[str, str]]:
    names: Iterable[Any] = [order_by] if isinstance(order_by, str) else order_by
    if not isinstance(names, Iterable):
        raise ValueError(f"order_by must be a field name or a list of them, not {order_by!r}")
    sort: list[dict[str, str]] = []
    for name in names:
        if not isinstance(name, str) or not name.lstrip("+-"):
            raise ValueError(f"order_by entries must be field names, not {name!r}")
        if name.startswith("-"):
            sort.append({name[1:]: "desc"})
        else:
            sort.append({name.removeprefix("+"): "asc"})
    return sort
