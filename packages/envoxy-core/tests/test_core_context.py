"""The request context: hostile incoming ids, traceparent parsing, binding per thread."""

import asyncio
import os
import threading
from collections.abc import Callable

import pytest

from envoxy.utils.context import (
    MAX_REQUEST_ID_LENGTH,
    RequestContext,
    bind,
    bound,
    context_from_headers,
    current,
    current_request_id,
    new_request_id,
    parse_traceparent,
    request_id_from,
    reset,
    safe_request_id,
)
from envoxy_testing.forking import FORKS, c_fork, in_child

TRACEPARENT = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"


@pytest.mark.parametrize(
    "value",
    [
        "abc",
        "6f1c2f1e-0b7e-4c1a-9d4e-3c2b1a0f9e8d",
        "Root=1-5759e988-bd862e3fe1be46a994272793",
        "a" * MAX_REQUEST_ID_LENGTH,
        "svc.name:42/x+y@z_1",
        b"bytes-id",
    ],
)
def test_safe_ids_are_kept(value: str | bytes) -> None:
    expected = value.decode() if isinstance(value, bytes) else value
    assert safe_request_id(value) == expected


@pytest.mark.parametrize(
    "value",
    [
        "",
        "a" * (MAX_REQUEST_ID_LENGTH + 1),
        "x" * 10_240,
        "abc\r\nSet-Cookie: a=b",
        "abc\n",
        'quo"te',
        "back\\slash",
        "with space",
        "nul\x00",
        "caf\u00e9",
        "semi;colon",
        "<script>",
        None,
        42,
        ["abc"],
    ],
)
def test_hostile_ids_are_refused(value: object) -> None:
    assert safe_request_id(value) is None


def test_hostile_id_gets_a_new_one() -> None:
    context = request_id_from("evil\r\nX-Injected: 1")
    assert context.request_id != "evil\r\nX-Injected: 1"
    assert safe_request_id(context.request_id) == context.request_id
    assert len(context.request_id) == 36


def test_precedence_request_id_then_cid_then_trace_id() -> None:
    assert request_id_from("rid", "cid", TRACEPARENT) == RequestContext("rid", TRACEPARENT)
    assert request_id_from(None, "cid", TRACEPARENT).request_id == "cid"
    assert request_id_from("bad id", "cid").request_id == "cid"
    assert request_id_from(None, None, TRACEPARENT).request_id == (
        "4bf92f3577b34da6a3ce929d0e0e4736"
    )
    fresh = request_id_from()
    assert fresh.traceparent is None
    assert len(fresh.request_id) == 36


@pytest.mark.parametrize(
    "value",
    [
        "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7",  # no flags
        "00-4BF92F3577B34DA6A3CE929D0E0E4736-00f067aa0ba902b7-01",  # upper case
        "00-00000000000000000000000000000000-00f067aa0ba902b7-01",  # zero trace id
        "00-4bf92f3577b34da6a3ce929d0e0e4736-0000000000000000-01",  # zero parent id
        "ff-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",  # version ff
        "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01-extra",  # 00 + more
        "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01\r\nX: y",
        "0" * 10_000,
        "",
    ],
)
def test_malformed_traceparent_is_dropped(value: str) -> None:
    assert parse_traceparent(value) is None
    assert request_id_from(None, None, value).traceparent is None


def test_traceparent_of_a_later_version_keeps_the_ids() -> None:
    parsed = parse_traceparent("01-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01-more")
    assert parsed is not None
    assert parsed.header() == TRACEPARENT.replace("-01", "-01", 1)
    assert parsed.trace_id == "4bf92f3577b34da6a3ce929d0e0e4736"


def test_context_from_envelope_headers_any_case() -> None:
    assert context_from_headers({"x-request-id": "a1", "X-Cid": "c1"}).request_id == "a1"
    assert context_from_headers({"X-Cid": "c1"}).request_id == "c1"
    assert context_from_headers({"TraceParent": TRACEPARENT}).traceparent == TRACEPARENT
    assert len(context_from_headers(None).request_id) == 36
    assert len(context_from_headers({"X-Request-ID": "x" * 500}).request_id) == 36


def test_new_ids_are_uuid4_and_distinct() -> None:
    import uuid

    ids = {new_request_id() for _ in range(1000)}
    assert len(ids) == 1000
    for value in ids:
        parsed = uuid.UUID(value)
        assert (parsed.version, parsed.variant) == (4, uuid.RFC_4122)
        assert str(parsed) == value  # lower case, dashes where a UUID has them


def test_every_random_digit_of_an_id_varies() -> None:
    """Each of the 30 random hex digits comes from its own random bits: none is fixed,
    none is shared by the ids of one batch."""
    ids = [new_request_id() for _ in range(3000)]
    fixed = {8, 13, 14, 18, 19, 23}  # dashes, the version digit, the variant digit
    for index in set(range(36)) - fixed:
        assert len({value[index] for value in ids}) == 16, index
    assert {value[19] for value in ids} == {"8"}


@pytest.mark.parametrize("fork", list(FORKS.values()), ids=list(FORKS))
def test_a_forked_child_never_hands_out_its_parents_ids(fork: Callable[[], int]) -> None:
    """After os.fork, or after a C fork whose child calls ``logs.after_fork`` first (as
    envoxyd's post-fork hook does)."""
    from envoxy.utils.logs import after_fork

    def child_ids() -> list[str]:
        if fork is c_fork:
            after_fork()
        return [new_request_id() for _ in range(200)]

    new_request_id()  # the parent now holds a batch of ids made but not handed out
    child = in_child(child_ids, fork)
    parent = [new_request_id() for _ in range(200)]
    assert not set(child) & set(parent)
    assert len(set(child)) == 200


def test_ids_from_many_threads_are_all_different() -> None:
    found: list[list[str]] = []

    def make() -> None:
        found.append([new_request_id() for _ in range(500)])

    threads = [threading.Thread(target=make) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    every = [value for values in found for value in values]
    assert len(every) == len(set(every)) == 4000


def test_bind_reset_and_bound() -> None:
    assert current() is None
    token = bind(RequestContext("one"))
    try:
        assert current_request_id() == "one"
        with bound(RequestContext("two")):
            assert current_request_id() == "two"
        assert current_request_id() == "one"
    finally:
        reset(token)
    assert current_request_id() is None


def test_each_thread_and_task_has_its_own_context() -> None:
    seen: dict[str, str | None] = {}
    barrier = threading.Barrier(2)

    def worker(name: str) -> None:
        with bound(RequestContext(name)):
            barrier.wait(5)
            seen[name] = current_request_id()

    threads = [threading.Thread(target=worker, args=(name,)) for name in ("a", "b")]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(5)
    assert seen == {"a": "a", "b": "b"}

    async def task(name: str) -> str | None:
        with bound(RequestContext(name)):
            await asyncio.sleep(0.01)
            return current_request_id()

    async def both() -> list[str | None]:
        return list(await asyncio.gather(task("x"), task("y")))

    assert asyncio.run(both()) == ["x", "y"]


def test_new_ids_cost_no_system_call_each(monkeypatch: pytest.MonkeyPatch) -> None:
    """The batch's owner is compared with the cached pid, not os.getpid (a system call
    per request under envoxyd)."""
    from envoxy.utils import process

    calls: list[int] = []
    real = os.getpid

    def counting() -> int:
        calls.append(1)
        return real()

    process.forget_process()
    monkeypatch.setattr(process.os, "getpid", counting)
    monkeypatch.setattr(os, "getpid", counting)
    ids = {new_request_id() for _ in range(500)}
    assert len(ids) == 500
    assert len(calls) == 1
