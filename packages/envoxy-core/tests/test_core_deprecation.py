"""envoxy.utils.deprecation: one warning per old name, pointing at the caller's line."""

import sys
import types
import warnings

import pytest

from envoxy.utils import deprecation
from envoxy.utils.deprecation import deprecated_aliases, warn_deprecated


@pytest.fixture(autouse=True)
def fresh_registry(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(deprecation, "_warned", set())


def _old_api() -> int:
    warn_deprecated("old_api()", "new_api()")
    return 1


def test_warns_once_per_name_with_the_replacement_and_the_callers_line() -> None:
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        _old_api()
        line = sys._getframe().f_lineno - 1
        _old_api()
    assert len(caught) == 1
    warning = caught[0]
    assert warning.category is DeprecationWarning
    assert str(warning.message) == "old_api() is deprecated since envoxy 1.0; use new_api()"
    assert warning.filename == __file__
    assert warning.lineno == line


def test_an_alias_resolves_to_the_new_object_and_warns_at_the_import() -> None:
    module = types.ModuleType("envoxy_test_old_module")
    module.__getattr__ = deprecated_aliases(  # type: ignore[method-assign]
        module.__name__, {"OldJoin": ("os.path", "join")}
    )
    sys.modules[module.__name__] = module
    try:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            from envoxy_test_old_module import OldJoin  # type: ignore[import-not-found]

            line = sys._getframe().f_lineno - 2
        import os.path

        assert OldJoin is os.path.join
        assert [str(w.message) for w in caught] == [
            "envoxy_test_old_module.OldJoin is deprecated since envoxy 1.0; use os.path.join"
        ]
        assert caught[0].filename == __file__
        assert caught[0].lineno == line
        with pytest.raises(AttributeError, match="no attribute 'Missing'"):
            module.Missing  # noqa: B018
    finally:
        del sys.modules[module.__name__]


def test_a_moved_module_serves_the_new_modules_public_names_and_warns() -> None:
    module = types.ModuleType("envoxy_test_moved_module")
    module.__getattr__ = deprecation.moved_module(  # type: ignore[method-assign]
        module.__name__, "envoxy.utils.deprecation", since="1.1"
    )
    sys.modules[module.__name__] = module
    try:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            from envoxy_test_moved_module import warn_deprecated as old  # type: ignore[import-not-found]

            line = sys._getframe().f_lineno - 2
        assert old is warn_deprecated
        assert [(str(w.message), w.filename, w.lineno) for w in caught] == [
            (
                "envoxy_test_moved_module.warn_deprecated is deprecated since envoxy 1.1; "
                "use envoxy.utils.deprecation.warn_deprecated",
                __file__,
                line,
            )
        ]
        with pytest.raises(AttributeError, match="no attribute '_lock'"):
            module._lock  # noqa: B018  (private names of the new module are not served)
    finally:
        del sys.modules[module.__name__]


def test_a_stand_in_alias_names_the_replacement_to_use() -> None:
    module = types.ModuleType("envoxy_test_stand_in")
    module.__getattr__ = deprecated_aliases(  # type: ignore[method-assign]
        module.__name__, {"OldSep": ("os", "sep", "pathlib.Path")}
    )
    sys.modules[module.__name__] = module
    try:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            from envoxy_test_stand_in import OldSep  # type: ignore[import-not-found]
        import os

        assert OldSep == os.sep
        assert [str(w.message) for w in caught] == [
            "envoxy_test_stand_in.OldSep is deprecated since envoxy 1.0; use pathlib.Path"
        ]
    finally:
        del sys.modules[module.__name__]
