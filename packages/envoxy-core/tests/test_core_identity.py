"""Process tags: per-process client ids within one replica."""

from collections.abc import Iterator

import pytest

from envoxy.utils.identity import process_tag, qualified_id, set_process_tag


@pytest.fixture(autouse=True)
def untagged() -> Iterator[None]:
    yield
    set_process_tag("")


def test_untagged_process_keeps_the_id() -> None:
    assert process_tag() == ""
    assert qualified_id("orders-pod-0") == "orders-pod-0"


def test_tagged_process_appends_its_tag() -> None:
    set_process_tag("w3")
    assert process_tag() == "w3"
    assert qualified_id("orders-pod-0") == "orders-pod-0-w3"


@pytest.mark.parametrize("bad", ["w 1", "w/1", "#", "wé", "w+"])
def test_tags_are_letters_digits_dash_underscore(bad: str) -> None:
    with pytest.raises(ValueError, match="process tag"):
        set_process_tag(bad)
    assert process_tag() == ""
