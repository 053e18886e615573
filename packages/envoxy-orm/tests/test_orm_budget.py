"""The connection budget of a psql_servers key: pgsqlc and ORM pool maxima together."""

import pytest

from envoxy.db.postgres.budget import ConnectionBudget, connection_budget
from envoxy.exceptions import ConfigError

pytestmark = pytest.mark.unit


def test_without_a_budget_the_defaults_add_up_to_50_per_process() -> None:
    budget = connection_budget({}, "psql_servers.main")
    assert (budget.max_conn, budget.pool_size, budget.max_overflow) == (20, 20, 10)
    assert budget.total == 50
    assert budget.declared is None
    assert budget.describe(5) == (
        "psql_servers.main: at most 50 PostgreSQL connections per process (pgsqlc max_conn "
        "20 + ORM pool_size 20 + max_overflow 10), 250 for 5 workers"
    )


@pytest.mark.parametrize(
    ("conf", "expected"),
    [
        ({"connection_budget": 10}, (4, 4, 2)),
        ({"connection_budget": "50"}, (20, 20, 10)),
        ({"connection_budget": 3}, (2, 1, 0)),
        ({"connection_budget": 2}, (1, 1, 0)),
        ({"connection_budget": 20, "max_conn": 15}, (15, 4, 1)),
        ({"connection_budget": 7, "max_overflow": 0}, (4, 3, 0)),
        ({"connection_budget": 12, "max_conn": 2, "pool_size": 5, "max_overflow": 5}, (2, 5, 5)),
    ],
)
def test_a_budget_derives_the_pools_not_given_and_they_fill_it(
    conf: dict[str, object], expected: tuple[int, int, int]
) -> None:
    budget = connection_budget(conf, "psql_servers.main")
    assert (budget.max_conn, budget.pool_size, budget.max_overflow) == expected
    assert budget.total == int(str(conf["connection_budget"]))


@pytest.mark.parametrize(
    ("conf", "message"),
    [
        ({"connection_budget": 20, "max_conn": 20}, "max_conn 20 .* exceed connection_budget 20"),
        ({"connection_budget": 1}, "exceed connection_budget 1"),
        (
            {"connection_budget": 30, "max_conn": 10, "pool_size": 15, "max_overflow": 10},
            "max_conn 10 \\+ pool_size 15 \\+ max_overflow 10 exceed connection_budget 30",
        ),
        ({"pool_size": 0}, "pool_size must be at least 1"),
        ({"max_overflow": -1}, "max_overflow must be at least 0"),
        ({"connection_budget": "many"}, "connection_budget"),
    ],
)
def test_pools_that_do_not_fit_or_are_unbounded_are_refused(
    conf: dict[str, object], message: str
) -> None:
    with pytest.raises(ConfigError, match=message):
        connection_budget(conf, "psql_servers.main")


def test_budget_is_a_value() -> None:
    assert ConnectionBudget("x", 1, 2, 3).total == 6
