"""Each public module's ``__all__`` names exist, and imports have no side effects."""

import pytest

from envoxy_testing.exports import all_problems
from envoxy_testing.interpreter import run_python

MODULES = [
    "envoxy.views",
    "envoxy.views.base",
    "envoxy.views.containers",
    "envoxy.views.request",
    "envoxy.views.routing",
    "envoxy.views.error_responses",
    "envoxy.views.exceptions",
    "envoxy.decorators",
    "envoxy.auth",
    "envoxy.auth.credentials",
    "envoxy.auth.plugin",
    "envoxy.auth.exceptions",
    "envoxy.daemon",
    "envoxy.daemon.app",
    "envoxy.daemon.boot",
    "envoxy.daemon.cli",
    "envoxy.daemon.cors",
    "envoxy.daemon.credentials",
    "envoxy.daemon.exceptions",
    "envoxy.daemon.health",
    "envoxy.daemon.launcher",
    "envoxy.daemon.loader",
    "envoxy.daemon.mqtt",
    "envoxy.daemon.proxy",
    "envoxy.daemon.reqlog",
    "envoxy.daemon.runtime",
    "envoxy.daemon.service",
    "envoxy.daemon.settings",
    "envoxy.daemon.wsgi",
]


#: Public names a module leaves out of ``__all__`` today; each wants a fix in the source
#: (list it, or make it private), then its entry goes.
NOT_YET_LISTED = {"envoxy.daemon.launcher": {"version_text"}}


@pytest.mark.parametrize("name", MODULES)
def test_all_lists_the_public_names(name: str) -> None:
    # ``application`` of envoxy.daemon.wsgi is built on first access, inside uWSGI.
    problems = all_problems(name, lazy={"application"}, ignore=NOT_YET_LISTED.get(name, ()))
    assert problems == []


def test_meta_package_names_resolve() -> None:
    from envoxy import View, auth_anonymous_allowed, auth_required, authenticate, log_event, on
    from envoxy.views.containers import Response

    assert View.__module__ == "envoxy.views.base"
    assert Response.__module__ == "envoxy.views.containers"
    assert all(callable(item) for item in (on, auth_required, auth_anonymous_allowed, log_event))
    assert authenticate.__name__ == "authenticate_container"


def test_importing_every_module_starts_no_thread_and_imports_no_uwsgi() -> None:
    code = (
        "import importlib, sys, threading\n"
        f"for name in {MODULES!r}: importlib.import_module(name)\n"
        "assert threading.active_count() == 1, threading.enumerate()\n"
        "assert 'uwsgi' not in sys.modules and 'pyuwsgi' not in sys.modules\n"
        "assert 'httpx' not in sys.modules and 'redis' not in sys.modules\n"
        "import logging\n"
        "assert not logging.getLogger('envoxy').handlers\n"
    )
    run_python(code)
