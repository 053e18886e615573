"""Unknown keys of envoxy.json: found with the known key they were meant to be."""

from envoxy.utils.config_keys import KnownKeys, UnknownKey, closest, unknown_keys

SECTIONS = [
    KnownKeys("log", frozenset({"level", "format"})),
    KnownKeys("cache", frozenset({"backend", "bind", "ttl", "key_prefix"})),
    KnownKeys("redis_servers", frozenset({"bind", "db", "ttl", "connect_timeout"}), True),
    KnownKeys("psql_servers", frozenset({"host", "port", "db"}), True),
]
TOP = {"debug", "modules", "packages", "task_modules"}


def test_a_top_level_slip_is_named_with_the_known_key() -> None:
    found = unknown_keys({"log_level": "WARNING", "redis_server": {}}, SECTIONS, TOP)
    assert found == [UnknownKey("log_level", "log"), UnknownKey("redis_server", "redis_servers")]
    assert found[0].message() == (
        "envoxy.json: unknown key 'log_level' is ignored; did you mean 'log'?"
    )


def test_custom_top_level_sections_are_left_alone() -> None:
    document = {"my_service": {"x": 1}, "features": [], "s3": {}, "jwt_secret": "x"}
    assert unknown_keys(document, SECTIONS, TOP) == []


def test_every_unknown_key_inside_a_known_section_is_reported() -> None:
    document = {
        "log": {"level": 3, "lvl": 4},
        "cache": {"ttl": 1, "tll": 2, "colour": "red"},
        "redis_servers": {"main": {"bind": "h:1", "connect_timeot": 1}, "other": {"db": 2}},
        "psql_servers": {"default": "main", "main": {"host": "h", "hots": "x"}},
    }
    assert unknown_keys(document, SECTIONS, TOP) == [
        UnknownKey("log.lvl", "level"),
        UnknownKey("cache.tll", "ttl"),
        UnknownKey("cache.colour", None),
        UnknownKey("redis_servers.main.connect_timeot", "connect_timeout"),
        UnknownKey("psql_servers.main.hots", "host"),
    ]
    assert UnknownKey("cache.colour", None).message() == (
        "envoxy.json: unknown key 'cache.colour' is ignored"
    )


def test_sections_of_another_type_are_not_walked() -> None:
    assert unknown_keys({"log": "INFO", "redis_servers": []}, SECTIONS, TOP) == []


def test_closest() -> None:
    assert closest("tll", {"ttl", "db"}) == "ttl"
    assert closest("zzz", {"ttl", "db"}) is None
