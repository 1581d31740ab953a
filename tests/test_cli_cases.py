"""`rolecast cases`: what a case source loads, skips and holds out, without running a model."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from _helpers import cli

DATA = Path(__file__).resolve().parents[2] / "shared" / "data"


def project(tmp_path: Path, cases: str) -> Path:
    path = tmp_path / "project.yaml"
    path.write_text(
        f"cases: {json.dumps(cases)}\npipeline: [planner, caller, responder]\n"
        "candidates: [{name: a, backend: scripted, model: a}]\n"
    )
    return path


def test_builtin_suite_summary(monkeypatch, capsys) -> None:
    code, out, _ = cli(monkeypatch, capsys, "cases", "--format", "json", "--strict")
    assert code == 0
    summary = json.loads(out)
    assert (summary["loaded"], summary["profile"], summary["holdout"]) == (64, 48, 16)
    assert summary["profiled"] == 12  # the embedded default's subset
    assert (summary["no_tool"], summary["multi_step"]) == (8, 22)
    assert summary["one_step"] == 64 - 8 - 22
    assert summary["skipped"] == []


@pytest.mark.skipif(not (DATA / "toolalpaca").is_dir(), reason="needs ../shared/data")
def test_truncated_benchmark_file_is_reported_and_the_rest_counted(
    tmp_path, monkeypatch, capsys
) -> None:
    text = (DATA / "toolalpaca" / "eval_real.json").read_text(encoding="utf-8")
    (tmp_path / "eval_real.json").write_text(text[: len(text) // 2], encoding="utf-8")
    config = project(tmp_path, f"toolalpaca:{tmp_path / 'eval_real.json'}")
    code, out, _ = cli(monkeypatch, capsys, "cases", "-c", str(config))
    assert code == 0
    skipped = [line for line in out.splitlines() if line.startswith("skipped ")]
    assert any(line.startswith("skipped eval_real.json: API #") for line in skipped)
    assert "case(s) loaded" in out.splitlines()[-1]
    code, out, _ = cli(monkeypatch, capsys, "cases", "-c", str(config), "--format", "json")
    summary = json.loads(out)
    assert 0 < summary["loaded"] < 104
    assert any("malformed JSON" in s["reason"] for s in summary["skipped"])
    code, _, _ = cli(monkeypatch, capsys, "cases", "-c", str(config), "--strict")
    assert code == 1


def test_unknown_format_is_a_one_line_error(monkeypatch, capsys) -> None:
    code, _, err = cli(monkeypatch, capsys, "cases", "--format", "yaml")
    assert code == 2
    assert err.strip().splitlines() == ["error: --format 'yaml': choose text or json"]
