"""Old import paths that still work: renamed modules (1.1) and 0.7 paths that 1.0 renamed.

Each runs in a fresh interpreter (a warning is given once per process): ``from OLD import
NAME`` gives the same object as the new path and warns once, at that line, with a
DeprecationWarning naming the new path. docs/MIGRATING.md lists them.
"""

import json

import pytest

from envoxy_testing.deprecation import assert_old_path_works
from envoxy_testing.interpreter import run_python

#: "old.module:name", "new.module:name", version that deprecated the old path
OLD_PATHS = [
    # modules renamed so that every module of exceptions is exceptions.py
    ("envoxy.zeromq.errors:ZmqTimeoutError", "envoxy.zeromq.exceptions:ZmqTimeoutError", "1.1"),
    (
        "envoxy.tools.alembic.errors:NoModelsError",
        "envoxy.tools.alembic.exceptions:NoModelsError",
        "1.1",
    ),
    (
        "envoxy.daemon.scaffold.errors:ScaffoldError",
        "envoxy.daemon.scaffold.exceptions:ScaffoldError",
        "1.1",
    ),
    ("envoxy.views.errors:error_response", "envoxy.views.error_responses:error_response", "1.1"),
    # 0.7 paths that 1.0 renamed
    (
        "envoxy.tools.validate_models:validate_model_file",
        "envoxy.tools.validate_models:check_file",
        "1.0",
    ),
    (
        "envoxy.tools.validate_models:REQUIRED",
        "envoxy.tools.validate_models:REQUIRED_FIELDS",
        "1.0",
    ),
    ("envoxy.views.views:View", "envoxy.views.base:View", "1.0"),
    (
        "envoxy.auth.backends:authenticate_container",
        "envoxy.auth.credentials:authenticate_container",
        "1.0",
    ),
    ("envoxy.auth.backends:get_auth_module", "envoxy.auth.plugin:auth_class", "1.0"),
    ("envoxy.auth.backends:get_topic", "envoxy.views.routing:topic_of", "1.0"),
    ("envoxy.db.orm.meta:EnvoxyMeta", "envoxy.db.orm.base:EnvoxyMeta", "1.0"),
]


@pytest.mark.parametrize(("old_path", "new_path", "since"), OLD_PATHS)
def test_old_path_gives_the_new_object_and_warns_once_at_the_import(
    old_path: str, new_path: str, since: str
) -> None:
    old, new = old_path.replace(":", "."), new_path.replace(":", ".")
    message = f"{old} is deprecated since envoxy {since}; use {new}"
    assert_old_path_works(old_path, new_path, message)


def test_0_7_helpers_behave_as_they_did() -> None:
    done = run_python(
        """
        import json, pathlib, tempfile, warnings
        warnings.simplefilter("ignore", DeprecationWarning)
        from envoxy.auth.backends import get_topic
        from envoxy.tools.validate_models import validate_model_file
        folder = pathlib.Path(tempfile.mkdtemp())
        fields = {"id": 1, "created": 0, "updated": 0, "href": ""}
        (folder / "ok.json").write_text(json.dumps({"fields": fields}))
        (folder / "bad.json").write_text('{"datums": [{"fields": {"id": 1}}]}')
        print(json.dumps([get_topic("/v3/items/{item_id:int}/{ref:uuid}"),
                          validate_model_file(folder / "ok.json"),
                          len(validate_model_file(folder / "bad.json"))]))
        """
    )

    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout) == ["/v3/items/{item_id}/{ref}", [], 1]
