"""ClientFacade: static methods that are the process-wide client's bound methods."""

import inspect

import pytest

from envoxy.utils.facade import ClientFacade


class Greeter:
    def hello(self, name: str, punctuation: str = "!") -> str:
        """Say hello to ``name``."""
        return f"hello {name}{punctuation}"


_default = Greeter()


class GreeterFacade(ClientFacade[Greeter], client=_default):
    hello = staticmethod(_default.hello)


def test_a_facade_call_is_the_client_call() -> None:
    assert GreeterFacade.hello("ada") == "hello ada!"
    assert GreeterFacade.instance() is _default
    assert GreeterFacade.hello.__doc__ == "Say hello to ``name``."
    signature = "(name: str, punctuation: str = '!') -> str"
    assert str(inspect.signature(GreeterFacade.hello)) == signature


def test_forwarding_to_another_object_is_refused() -> None:
    other = Greeter()
    with pytest.raises(TypeError, match=r"Wrong\.hello forwards to another object"):

        class Wrong(ClientFacade[Greeter], client=_default):
            hello = staticmethod(other.hello)
