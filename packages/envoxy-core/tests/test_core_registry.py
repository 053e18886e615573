"""ClientRegistry: one client per key and process, built once, rebuilt after any fork."""

import os
from collections.abc import Callable

import pytest

from envoxy.utils.registry import ClientRegistry
from envoxy_testing.forking import FORKS, in_child
from envoxy_testing.threads import all_at_once


class Pool:
    def __init__(self, key: str) -> None:
        self.key = key
        self.pid = os.getpid()
        self.closed = 0


def make_registry() -> tuple[ClientRegistry[Pool], list[str], list[Pool]]:
    built: list[str] = []
    closed: list[Pool] = []

    def build(key: str) -> Pool:
        built.append(key)
        return Pool(key)

    def close(pool: Pool) -> None:
        pool.closed += 1
        closed.append(pool)

    return ClientRegistry(build, close), built, closed


def test_builds_once_per_key_even_under_concurrent_first_calls() -> None:
    registry, built, _ = make_registry()
    seen = all_at_once(lambda _: registry.get("main"), 8)
    assert built == ["main"]
    assert len({id(pool) for pool in seen}) == 1
    assert registry.get("other").key == "other"
    assert sorted(registry) == ["main", "other"]


def test_a_failed_build_stores_nothing() -> None:
    attempts: list[int] = []

    def build(key: str) -> Pool:
        attempts.append(1)
        if len(attempts) == 1:
            raise OSError("down")
        return Pool(key)

    registry: ClientRegistry[Pool] = ClientRegistry(build, lambda pool: None)
    with pytest.raises(OSError, match="down"):
        registry.get("main")
    assert registry.peek("main") is None
    assert registry.get("main").key == "main"


def test_close_is_idempotent_and_the_next_get_builds_again() -> None:
    registry, built, closed = make_registry()
    first = registry.get("main")
    registry.close()
    registry.close()
    assert closed == [first]
    assert first.closed == 1
    assert registry.peek("main") is None
    assert registry.get("main") is not first
    assert built == ["main", "main"]


def test_discard_closes_one_key() -> None:
    registry, _, closed = make_registry()
    main, other = registry.get("main"), registry.get("other")
    registry.discard("main")
    registry.discard("missing")
    assert closed == [main]
    assert registry.peek("other") is other


@pytest.mark.parametrize("fork", FORKS.values(), ids=FORKS.keys())
def test_a_forked_child_builds_its_own_and_never_closes_the_parents(
    fork: Callable[[], int],
) -> None:
    registry, _, closed = make_registry()
    parent_pool = registry.get("main")

    def in_the_child() -> list[bool]:
        child_pool = registry.get("main")
        seen_before_build = registry.peek("other")
        registry.close()
        return [
            child_pool is not parent_pool,
            child_pool.pid == os.getpid(),
            seen_before_build is None,
            parent_pool.closed == 0,
            closed == [child_pool],
        ]

    assert in_child(in_the_child, fork) == [True, True, True, True, True]
    assert registry.get("main") is parent_pool  # the parent's pool is untouched
    assert parent_pool.closed == 0
