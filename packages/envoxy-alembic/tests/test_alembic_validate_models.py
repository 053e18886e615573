"""The JSON model validator: mandatory fields at the top level and in datums."""

import json
from pathlib import Path

import pytest

from envoxy.tools.validate_models import main

COMPLETE = {"id": "x", "created": "t", "updated": "t", "href": "/x"}


def test_valid_files_pass(tmp_path: Path) -> None:
    (tmp_path / "nested").mkdir()
    (tmp_path / "a.json").write_text(json.dumps({"fields": COMPLETE}))
    (tmp_path / "nested" / "b.json").write_text(json.dumps({"datums": [{"fields": COMPLETE}]}))
    (tmp_path / "c.json").write_text(json.dumps(["no fields here"]))

    assert main([str(tmp_path)]) == 0


def test_missing_top_level_fields_are_listed(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "model.json"
    path.write_text(json.dumps({"fields": {"id": "x", "created": "t"}}))

    assert main([str(tmp_path)]) == 3
    assert capsys.readouterr().out.strip() == f"{path}: missing fields: href, updated"


def test_missing_fields_in_datums_are_found(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "model.json"
    path.write_text(json.dumps({"datums": [{"fields": COMPLETE}, {"fields": {"id": "y"}}]}))

    assert main([str(tmp_path)]) == 3
    assert "missing fields: created, href, updated" in capsys.readouterr().out


def test_invalid_json_is_reported(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "bad.json"
    path.write_text("{not json")

    assert main([str(tmp_path)]) == 3
    assert capsys.readouterr().out.startswith(f"{path}: invalid JSON: ")


def test_missing_directory_exits_2(tmp_path: Path) -> None:
    assert main([str(tmp_path / "absent")]) == 2


def test_no_argument_exits_2() -> None:
    assert main([]) == 2
