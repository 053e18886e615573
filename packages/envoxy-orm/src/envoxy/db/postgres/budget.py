"""How many PostgreSQL connections one process may open to one ``psql_servers`` key.

A key has two pools in a process: ``pgsqlc``'s (``max_conn``) and the SQLAlchemy
engine of ``pgsqlc.session()``/``envoxy.db.orm`` (``pool_size`` + ``max_overflow``).
Each opens connections only when used, and each enforces its own maximum, so the
process never holds more than their sum: the key's **connection budget**. With the
defaults that is 20 + 20 + 10 = 50 per process; an ``envoxyd`` with 5 workers may
then hold 250 connections per key, and N replicas N times that.

``connection_budget`` (a key of the entry) states the budget and enforces it: the
three maxima must fit in it (else :class:`~envoxy.exceptions.ConfigError` when either
client starts), and those not given are derived from it in the defaults' proportions
(``"connection_budget": 10`` gives ``max_conn`` 4, ``pool_size`` 4 and
``max_overflow`` 2). ``envoxyd`` logs every key's budget, per worker and per instance, at startup.
Importing this module imports no driver.
"""

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from envoxy.exceptions import ConfigError
from envoxy.utils.conversions import as_int

__all__ = ["DEFAULTS", "ConnectionBudget", "connection_budget"]

#: Pool maxima when neither they nor ``connection_budget`` are set (pgsqlc, then the ORM).
DEFAULTS: Mapping[str, int] = {"max_conn": 20, "pool_size": 20, "max_overflow": 10}
# The least each part may be: a pool of 0 would be unbounded (SQLAlchemy) or useless.
_MINIMUM = {"max_conn": 1, "pool_size": 1, "max_overflow": 0}


@dataclass(frozen=True, slots=True)
class ConnectionBudget:
    """The pool maxima of one key and their sum.

    :param where: ``"psql_servers.<key>"``.
    :param max_conn: ``pgsqlc``'s pool size.
    :param pool_size: the ORM engine's pool size.
    :param max_overflow: the ORM engine's connections past ``pool_size``.
    :param declared: the ``connection_budget`` setting, None when not set.
    """

    where: str
    max_conn: int
    pool_size: int
    max_overflow: int
    declared: int | None = None

    @property
    def total(self) -> int:
        """Most connections one process holds to the key: the three maxima together."""
        return self.max_conn + self.pool_size + self.max_overflow

    def describe(self, workers: int = 1) -> str:
        """Say the budget for a log line, per process and for ``workers`` processes."""
        parts = (
            f"pgsqlc max_conn {self.max_conn} + ORM pool_size {self.pool_size} "
            f"+ max_overflow {self.max_overflow}"
        )
        text = f"{self.where}: at most {self.total} PostgreSQL connections per process ({parts})"
        if workers > 1:
            text += f", {self.total * workers} for {workers} workers"
        return text


def connection_budget(conf: Mapping[str, Any], where: str) -> ConnectionBudget:
    """Return the budget of a ``psql_servers`` entry (see the module doc).

    :raises ConfigError: a value is not a whole number or is below its minimum, or the
        maxima do not fit in ``connection_budget``; the message names the numbers.
    """
    given = {
        name: as_int(conf[name], f"{where}.{name}")
        for name in DEFAULTS
        if conf.get(name) is not None
    }
    for name, value in given.items():
        if value < _MINIMUM[name]:
            raise ConfigError(
                f"{where}.{name} must be at least {_MINIMUM[name]}, not {value}: every pool "
                "needs a bound (the connection budget of the key counts on it)"
            )
    declared = conf.get("connection_budget")
    if declared is None:
        return ConnectionBudget(where, **{**DEFAULTS, **given})
    budget = as_int(declared, f"{where}.connection_budget")
    missing = [name for name in DEFAULTS if name not in given]
    room = budget - sum(given.values())
    if room < sum(_MINIMUM[name] for name in missing):
        raise ConfigError(
            f"{where}: {_sum_text(given, missing)} exceed connection_budget {budget}; "
            "lower max_conn/pool_size/max_overflow or raise connection_budget"
        )
    derived = dict(given)
    weight = sum(DEFAULTS[name] for name in missing)
    for name in missing:
        derived[name] = max(_MINIMUM[name], room * DEFAULTS[name] // weight)
    if missing:  # what the rounding left goes to the first derived pool
        derived[missing[0]] += budget - sum(derived.values())
    return ConnectionBudget(where, declared=budget, **derived)


def _sum_text(given: Mapping[str, int], missing: list[str]) -> str:
    parts = [f"{name} {value}" for name, value in given.items()]
    parts += [f"{name} at least {_MINIMUM[name]}" for name in missing]
    return " + ".join(parts)
