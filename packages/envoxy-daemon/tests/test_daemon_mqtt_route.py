"""@on options of MQTT views (qos, shared, max_workers, ordered): checked when the app is
built, and the subscriptions they give."""

from typing import Any

import pytest

from envoxy.daemon.app import create_app
from envoxy.decorators import on
from envoxy.views import View
from envoxy.views.exceptions import InvalidViewError
from envoxy_testing.interpreter import run_python


def mqtt_view(endpoint: str = "devices/+/state", **options: Any) -> type[View]:
    @on(endpoint=endpoint, protocols=["mqtt"], server="local", **options)
    class Events(View):
        def on_event(self, data: Any, **meta: Any) -> None:
            pass

    return Events


def routes(*views: type[View]) -> list[Any]:
    return create_app({}, views=list(views)).mqtt_routes


def test_defaults_keep_the_former_subscription() -> None:
    (route,) = routes(mqtt_view())
    assert (route.qos, route.shared, route.max_workers, route.ordered) == (0, None, 1, False)
    assert route.topic_filter == "devices/+/state"
    assert route.is_shared is False


def test_options_give_a_shared_qos1_subscription() -> None:
    (route,) = routes(mqtt_view(qos=1, shared="workers", max_workers=8, ordered=True))
    assert (route.qos, route.max_workers, route.ordered) == (1, 8, True)
    assert route.topic_filter == "$share/workers/devices/+/state"
    assert route.endpoint == "devices/+/state"  # on_event still gets the declared endpoint
    assert route.is_shared is True


def test_a_share_endpoint_written_by_hand_is_shared() -> None:
    (route,) = routes(mqtt_view("$share/g/jobs/#"))
    assert route.is_shared is True
    assert route.topic_filter == "$share/g/jobs/#"


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"qos": 2}, "qos must be 0 or 1, not 2; use qos=1 and an idempotent handler"),
        ({"qos": "1"}, "qos must be 0 or 1"),
        ({"qos": True}, "qos must be 0 or 1"),
        ({"shared": ""}, "shared: a share group"),
        ({"shared": "a/b"}, "shared: a share group"),
        ({"shared": "g+"}, "shared: a share group"),
        ({"max_workers": 0}, "max_workers must be an integer from 1 to 256"),
        ({"max_workers": 1000}, "max_workers must be an integer from 1 to 256"),
        ({"max_workers": 2.5}, "max_workers must be an integer"),
        ({"ordered": "yes"}, "ordered must be True or False"),
    ],
)
def test_bad_options_are_startup_errors(options: dict[str, Any], message: str) -> None:
    with pytest.raises(InvalidViewError, match=message.replace("+", r"\+")):
        routes(mqtt_view(**options))


@pytest.mark.parametrize(
    ("endpoint", "options", "message"),
    [
        ("devices/#/state", {}, "'#' must be the last level"),
        ("$share/g/x", {"shared": "h"}, "shared already"),
    ],
)
def test_bad_endpoints_are_startup_errors(
    endpoint: str, options: dict[str, Any], message: str
) -> None:
    with pytest.raises(InvalidViewError, match=message):
        routes(mqtt_view(endpoint, **options))


def test_overlapping_shared_and_plain_views_of_one_key_are_refused() -> None:
    with pytest.raises(InvalidViewError, match=r"overlap on mqtt_servers\.local"):
        routes(mqtt_view("jobs/+", shared="g"), mqtt_view("jobs/#"))
    with pytest.raises(InvalidViewError, match="overlap"):
        routes(mqtt_view("jobs/+", shared="g"), mqtt_view("jobs/+", shared="h"))


def test_views_that_cannot_share_a_message_are_accepted() -> None:
    assert len(routes(mqtt_view("jobs/+", shared="g"), mqtt_view("other/#"))) == 2
    # the same subscription twice: one message, both views on the member that gets it
    assert len(routes(mqtt_view("jobs/+", shared="g"), mqtt_view("jobs/+", shared="g"))) == 2
    # plain views may overlap: every replica gets the message once, each view runs
    assert len(routes(mqtt_view("jobs/+"), mqtt_view("jobs/#"))) == 2


def test_an_app_without_mqtt_views_never_imports_the_mqtt_client() -> None:
    code = """
        import sys
        from envoxy.daemon.app import create_app
        create_app({}, views=[])
        print("envoxy.mqtt" in sys.modules)
    """
    assert run_python(code).stdout.strip() == "False"
