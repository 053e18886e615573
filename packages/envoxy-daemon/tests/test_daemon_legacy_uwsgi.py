"""envoxy 0.7's ``uwsgi.opt`` keys and ``import uwsgi`` in view modules (in-process parts;
tests-integration/test_compat_07_service.py runs a 0.7-style service under envoxyd)."""

import sys

import pytest

from envoxy.daemon import legacy_uwsgi
from envoxy.daemon.legacy_uwsgi import bind, install_stand_in, legacy_options, publish_credentials

DOCUMENT = {"plugins": {"auth": "plugins"}, "mine": {"x": 1}}


@pytest.fixture(autouse=True)
def no_uwsgi(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delitem(sys.modules, "uwsgi", raising=False)
    monkeypatch.setattr(legacy_uwsgi, "_stand_in_opt", [None])


def test_legacy_options_hold_the_document_the_plugins_and_empty_credentials() -> None:
    options = legacy_options(DOCUMENT)
    assert options == {"conf_content": DOCUMENT, "plugins": {"auth": "plugins"}, "credentials": {}}
    assert legacy_options({"plugins": "not an object"})["plugins"] == {}


def test_the_stand_in_imports_and_serves_opt_before_uwsgi_runs() -> None:
    install_stand_in(legacy_options(DOCUMENT))
    import uwsgi

    assert uwsgi.opt["conf_content"]["mine"] == {"x": 1}
    with pytest.raises(AttributeError, match=r"uwsgi\.worker_id is not available while envoxyd"):
        uwsgi.worker_id()


def test_an_existing_uwsgi_module_is_kept() -> None:
    real = type(sys)("uwsgi")
    sys.modules["uwsgi"] = real
    assert install_stand_in(legacy_options(DOCUMENT)) is real
    assert not hasattr(real, "opt")


def test_bind_keeps_the_dict_a_view_module_imported_before_uwsgi_ran() -> None:
    module = install_stand_in(legacy_options(DOCUMENT))
    from uwsgi import opt as held  # what a 0.7 view module may do at its top

    # uWSGI then fills the same module (it looks "uwsgi" up in sys.modules) with its own opt
    module.__dict__["opt"] = {"http": b"127.0.0.1:8080"}
    bind(legacy_options(DOCUMENT))
    import uwsgi

    assert uwsgi.opt is held
    assert held["http"] == b"127.0.0.1:8080"
    assert held["conf_content"] is DOCUMENT
    publish_credentials({"access_token": "t"})
    assert held["credentials"] == {"access_token": "t"}


def test_bind_under_a_plain_uwsgi_adds_the_keys_to_its_opt() -> None:
    real = type(sys)("uwsgi")
    real.opt = {"module": b"envoxy.daemon.wsgi:load()"}
    sys.modules["uwsgi"] = real
    bind(legacy_options(DOCUMENT))
    assert real.opt["plugins"] == {"auth": "plugins"}
    assert real.opt["module"] == b"envoxy.daemon.wsgi:load()"


def test_publish_credentials_outside_uwsgi_does_nothing() -> None:
    publish_credentials({"access_token": "t"})
    assert "uwsgi" not in sys.modules
