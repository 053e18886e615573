"""Check an old import path kept as a deprecated alias, in a fresh interpreter.

A ``DeprecationWarning`` is given once per process, so each check runs its own
interpreter (:func:`~envoxy_testing.interpreter.run_python`)::

    assert_old_path_works(
        "envoxy.views.views:View", "envoxy.views.base:View",
        "envoxy.views.views.View is deprecated since envoxy 1.0; use envoxy.views.base.View",
    )
"""

from __future__ import annotations

import json

from envoxy_testing.interpreter import run_python

__all__ = ["assert_old_path_works"]


def assert_old_path_works(old_path: str, served: str, message: str) -> None:
    """Assert that ``from OLD import NAME``, done twice, gives the object at ``served``
    both times and warns exactly once, at the first import's line, with ``message``.

    :param old_path: ``"old.module:NAME"``.
    :param served: ``"module:attribute"`` of the object the old path must give.
    :param message: the text of the one ``DeprecationWarning``.
    :raises AssertionError: the interpreter failed, the object differs, or the warnings do.
    """
    (old, name), (module, attribute) = old_path.split(":"), served.split(":")
    done = run_python(
        f"""
        import importlib, json, warnings
        with warnings.catch_warnings(record=True) as seen:
            warnings.simplefilter("always")
            from {old} import {name} as value  # line 5
            from {old} import {name} as again
        target = getattr(importlib.import_module({module!r}), {attribute!r})
        print(json.dumps({{
            "same": value is target and again is target,
            "warnings": [[w.category.__name__, str(w.message), w.filename, w.lineno]
                         for w in seen],
        }}))
        """
    )
    assert json.loads(done.stdout) == {
        "same": True,
        "warnings": [["DeprecationWarning", message, "<string>", 5]],
    }
