"""The five static facades share one shape: the process-wide client's own bound methods."""

import inspect

import pytest

from envoxy.couchdb import couchdbc
from envoxy.mqtt import mqttc
from envoxy.postgresql import pgsqlc
from envoxy.redis import redisc
from envoxy.utils.facade import ClientFacade
from envoxy.zeromq import ZmqClient, zmqc

FACADES = {"redisc": redisc, "couchdbc": couchdbc, "pgsqlc": pgsqlc, "mqttc": mqttc, "zmqc": zmqc}


@pytest.mark.parametrize("facade", FACADES.values(), ids=FACADES.keys())
def test_each_facade_forwards_to_its_process_wide_client(
    facade: type[ClientFacade[object]],
) -> None:
    client = facade.instance()
    forwarded = {
        name: value
        for name, value in vars(facade).items()
        if isinstance(value, staticmethod) and getattr(value.__func__, "__self__", None) is client
    }
    assert "close" in forwarded
    for name in forwarded:
        method = getattr(facade, name)
        assert method == getattr(client, name), name
        assert method.__doc__, name  # help() and IDEs show the client's docstring
        assert inspect.signature(method) == inspect.signature(getattr(client, name))


def test_facade_signatures_are_the_documented_ones() -> None:
    assert str(inspect.signature(redisc.set)) == (
        "(server_key: str, key: str, value: Any, ttl: float | None = None) -> bool"
    )
    assert list(inspect.signature(zmqc.get).parameters) == [
        "server_key",
        "url",
        "params",
        "payload",
        "headers",
        "future",
    ]
    assert zmqc.delete.__doc__ == "Send a DELETE (performative 3)."
    assert list(inspect.signature(mqttc.publish).parameters) == [
        "server_key",
        "topic",
        "message",
        "no_envelope",
        "qos",
        "retain",
    ]


def test_zmq_client_verbs_are_built_once_per_client() -> None:
    client = ZmqClient({})
    assert client.get is client.get
    assert ZmqClient().get is not client.get
    assert str(inspect.signature(client.head)).startswith("(server_key: str, url: str")
