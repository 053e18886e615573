"""Singleton and SingletonPerThread: one instance per class (or thread), even under races."""

import queue
import threading

import pytest

from envoxy.utils.singleton import Singleton, SingletonPerThread
from envoxy_testing.threads import all_at_once


def test_hundred_threads_racing_get_one_instance() -> None:
    created: list[object] = []

    class Client(Singleton):
        def __init__(self) -> None:
            created.append(self)

    seen = all_at_once(lambda _: Client.instance(), 100)
    assert len(created) == 1
    assert len(seen) == 100
    assert all(instance is created[0] for instance in seen)


def test_each_subclass_has_its_own_instance() -> None:
    class Base(Singleton):
        pass

    class Child(Base):
        pass

    assert Base.instance() is Base.instance()
    assert Child.instance() is not Base.instance()
    assert type(Child.instance()) is Child


def test_arguments_are_used_only_the_first_time() -> None:
    class Named(Singleton):
        def __init__(self, name: str) -> None:
            self.name = name

    assert Named.instance("first").name == "first"
    assert Named.instance("second").name == "first"


@pytest.mark.filterwarnings("ignore:Singleton.instance_with_queue:DeprecationWarning")
def test_instance_with_queue_passes_the_queue() -> None:
    class Worker(Singleton):
        def __init__(self, jobs: queue.Queue[int]) -> None:
            self.jobs = jobs

    jobs: queue.Queue[int] = queue.Queue()
    assert Worker.instance_with_queue(jobs).jobs is jobs


def test_discard_instance_lets_the_next_call_build_a_new_one() -> None:
    class Pool(Singleton):
        pass

    first = Pool.instance()
    assert Pool.discard_instance() is first
    assert Pool.discard_instance() is None
    assert Pool.instance() is not first


def test_per_thread_singleton_gives_one_instance_per_thread() -> None:
    class Session(SingletonPerThread):
        pass

    main = Session.instance()
    assert Session.instance() is main
    others: list[Session] = []

    def in_thread() -> None:
        others.append(Session.instance())
        others.append(Session.instance())

    thread = threading.Thread(target=in_thread)
    thread.start()
    thread.join()
    assert others[0] is others[1]
    assert others[0] is not main
