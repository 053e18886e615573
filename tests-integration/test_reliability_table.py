"""tools/reliability_table.py renders the fault records as the table of docs/RELIABILITY.md."""

import importlib.util
import json
from pathlib import Path

import pytest

from envoxy_testing.reliability import RESULTS_ENV, record

TOOL = Path(__file__).resolve().parents[1] / "tools" / "reliability_table.py"


def test_records_render_in_client_order_and_pipes_are_escaped(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv(RESULTS_ENV, str(tmp_path))
    record("zmqc", "path frozen", "fails | 503", "test_z", fail=1.234, recover=0.5)
    record("redisc", "SIGSTOP", "fails", "test_r", fail=1.0)
    assert json.loads((tmp_path / "zmqc--path_frozen.json").read_text())["seconds"] == {
        "fail": 1.23,
        "recover": 0.5,
    }
    spec = importlib.util.spec_from_file_location("reliability_table", TOOL)
    assert spec is not None
    assert spec.loader is not None
    tool = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(tool)
    assert tool.main(["--results", str(tmp_path)]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[2].startswith("| redisc | SIGSTOP | fails | - |")
    assert lines[3] == "| zmqc | path frozen | fails / 503 | 0.50 s | `test_z` |"
    assert tool.main(["--results", str(tmp_path / "empty")]) == 1
