"""Worst-case client call times against uWSGI's harakiri, and envoxyd's startup warning."""

import logging
import math
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from envoxy.daemon.budget import check_harakiri, worst_cases
from envoxy.daemon.launcher import option_value

SAMPLE = Path(__file__).with_name("views_sample.py")

#: the 0.7 zmq settings: 4 attempts of 30 s and 3 pauses of 2 s, before any deadline
ZMQ_07 = {"host": "127.0.0.1", "port": 5555, "timeout": 30, "retries": 3, "deadline": 200}


def test_every_default_client_fits_under_the_default_harakiri() -> None:
    config = {
        "zmq_servers": {"core": {"host": "127.0.0.1", "port": 5555}},
        "redis_servers": {"default": {"bind": "127.0.0.1:6379"}},
        "couchdb_servers": {"main": {"bind": "http://127.0.0.1:5984"}},
        "mqtt_servers": {"default": {"bind": "mqtt://127.0.0.1:1883"}},
        "psql_servers": {"default": "main", "main": {"db": "app"}, "lite": {"url": "sqlite://"}},
    }
    budgets = {budget.name: budget.seconds for budget in worst_cases(config)}
    assert budgets == {
        "psql_servers.main": 5 + 0.5 + 0.5,
        "zmq_servers.core": 30.0,
        "redis_servers.default": 5 + 5 + 5 + 3 * 1.0,
        "couchdb_servers.main": 30 + 4 * 5 + 30,
        "mqtt_servers.default": 10.0,
    }
    assert check_harakiri(config, 90) == []


def test_a_client_past_harakiri_is_logged_with_its_numbers_and_fix(
    caplog: pytest.LogCaptureFixture, capfd: pytest.CaptureFixture[str]
) -> None:
    config = {
        "zmq_servers": {"core": ZMQ_07},
        "redis_servers": {"slow": {"bind": "127.0.0.1:6379", "socket_timeout": None}},
        "psql_servers": {"reports": {"db": "app", "timeout": 120}},
    }
    with caplog.at_level(logging.WARNING, logger="envoxy"):
        over = check_harakiri(config, 90)
    assert [budget.name for budget in over] == [
        "zmq_servers.core",
        "redis_servers.slow",
        "psql_servers.reports",
    ]
    assert over[0].seconds == 4 * 30 + 2 + 4 + 8
    assert math.isinf(over[1].seconds)
    text = caplog.text + capfd.readouterr().err  # Envoxy's handler may write directly
    assert "zmq_servers.core: a call can block for 134 s" in text
    assert "harakiri of 90 s" in text
    assert "Lower zmq_servers.core.deadline" in text
    assert "redis_servers.slow: a call can block for no limit" in text
    assert "psql_servers.reports: a call can block for 121 s" in text
    assert "Lower psql_servers.reports.timeout" in text


def test_no_harakiri_means_no_check_and_bad_settings_are_skipped() -> None:
    assert check_harakiri({"zmq_servers": {"core": ZMQ_07}}, 0) == []
    assert worst_cases({"zmq_servers": {"core": {"port": "x"}}, "redis_servers": "no"}) == []


@pytest.mark.parametrize(
    ("arguments", "value"),
    [
        (["--harakiri", "90"], "90"),
        (["--harakiri=30"], "30"),
        (["-t", "20", "--http", ":80"], "20"),
        (["--harakiri", "90", "--harakiri", "45"], "45"),
        (["--http", ":80"], None),
    ],
)
def test_option_value_reads_every_spelling(arguments: list[str], value: str | None) -> None:
    assert option_value(arguments, "harakiri") == value


@pytest.mark.integration
def test_envoxyd_warns_at_startup_when_a_client_outlives_harakiri(
    write_config: Callable[..., Path], start_envoxyd: Callable[..., Any]
) -> None:
    config = write_config({"modules": [str(SAMPLE)], "zmq_servers": {"core": ZMQ_07}})
    daemon = start_envoxyd("--harakiri", "60", "--processes", "1", "--set", f"conf={config}")
    log = daemon.log()
    assert "zmq_servers.core: a call can block for 134 s" in log
    assert "harakiri of 60 s" in log
    fitting = write_config({"modules": [str(SAMPLE)], "zmq_servers": {"core": ZMQ_07}}, "b.json")
    quiet = start_envoxyd("--harakiri", "200", "--processes", "1", "--set", f"conf={fitting}")
    assert "a call can block" not in quiet.log()


def test_envoxyd_logs_each_postgresql_keys_connection_budget_for_its_workers(
    caplog: pytest.LogCaptureFixture, capfd: pytest.CaptureFixture[str]
) -> None:
    from envoxy.daemon.connection_budget import log_connection_budgets

    config = {
        "psql_servers": {
            "default": "main",
            "main": {"db": "app"},
            "small": {"db": "app", "connection_budget": 10},
            "lite": {"url": "sqlite://"},
            "broken": {"db": "app", "pool_size": 0},
        }
    }
    with caplog.at_level(logging.INFO, logger="envoxy"):
        budgets = log_connection_budgets(config, 4)
    assert [(budget.where, budget.total) for budget in budgets] == [
        ("psql_servers.main", 50),
        ("psql_servers.small", 10),
    ]
    text = caplog.text + capfd.readouterr().err
    assert "psql_servers.main: at most 50 PostgreSQL connections per process" in text
    assert "200 for 4 workers" in text
    assert "psql_servers.small: at most 10 PostgreSQL connections per process" in text
    assert "40 for 4 workers" in text
