"""The scheduled job: incremental, one JSON line, coalition rewritten atomically."""

from __future__ import annotations

import json
import sys

import pytest

from rolecast.cli import main
from rolecast.export import load_coalition

PROJECT = """
cases: builtin
subset: 5
pipeline: [planner, caller, extractor]
budget: {gpu_memory_gb: 1.0}
candidates:
  - {name: a, backend: scripted, model: a, memory_gb: 0.3, options: {}}
  - {name: b, backend: scripted, model: b, memory_gb: 0.4}
"""


def run(monkeypatch, capsys, *args):
    monkeypatch.setattr(sys, "argv", ["rolecast", *args])
    with pytest.raises(SystemExit) as info:
        main()
    out, err = capsys.readouterr()
    return info.value.code, out, err


def test_reprofile_twice_generates_nothing_the_second_time(tmp_path, monkeypatch, capsys):
    project = tmp_path / "project.yaml"
    project.write_text(PROJECT)
    out = tmp_path / "coalition.yaml"
    code, stdout, err = run(monkeypatch, capsys, "reprofile", "-c", str(project), "-o", str(out))
    assert code == 0, err
    first = json.loads(stdout.strip().splitlines()[-1])
    assert first["generated"] > 0 and first["reused"] == 0
    assert set(first["best"]) == {"planner", "caller", "extractor"}
    assert 0 <= first["accuracy"]["low"] <= first["accuracy"]["mean"] <= first["accuracy"]["high"]
    before = out.read_text()
    first_expected = load_coalition(out).expected
    assert load_coalition(out).roles["planner"].candidate in {"a", "b"}
    code, stdout, err = run(monkeypatch, capsys, "reprofile", "-c", str(project), "-o", str(out))
    assert code == 0, err
    second = json.loads(stdout.strip().splitlines()[-1])
    assert second["generated"] == 0 and second["reused"] == first["generated"]
    assert second["best"] == first["best"] and second["accuracy"] == first["accuracy"]
    assert load_coalition(out).expected == first_expected
    assert before.split("created_at")[0] == out.read_text().split("created_at")[0]


def test_reprofile_keeps_the_old_coalition_when_nothing_fits(tmp_path, monkeypatch, capsys):
    project = tmp_path / "project.yaml"
    project.write_text(PROJECT)
    out = tmp_path / "coalition.yaml"
    assert run(monkeypatch, capsys, "reprofile", "-c", str(project), "-o", str(out))[0] == 0
    before = out.read_text()
    project.write_text(PROJECT.replace("gpu_memory_gb: 1.0", "gpu_memory_gb: 0.1"))
    code, _, err = run(monkeypatch, capsys, "reprofile", "-c", str(project), "-o", str(out))
    assert code == 2 and "gpu_memory_gb=0.1 binds" in err
    assert out.read_text() == before


def test_drift_exit_codes_and_the_stored_report(tmp_path, monkeypatch, capsys):
    """0 unchanged, 3 when another coalition is chosen; the report is in the summary and
    stored with the run."""
    project = tmp_path / "project.yaml"
    project.write_text(PROJECT)
    out = tmp_path / "coalition.yaml"
    code, stdout, err = run(monkeypatch, capsys, "reprofile", "-c", str(project), "-o", str(out))
    assert code == 0, err  # the first scheduled run has nothing to compare with
    first = json.loads(stdout.strip().splitlines()[-1])
    assert first["status"] == "unchanged" and first["drift"]["previous_run"] is None

    code, stdout, err = run(monkeypatch, capsys, "reprofile", "-c", str(project), "-o", str(out))
    assert code == 0, err
    second = json.loads(stdout.strip().splitlines()[-1])
    drift = second["drift"]
    assert drift["previous_run"] == first["run"] and not drift["coalition_changed"]
    assert drift["moved"] == [] and drift["refingerprinted"] == []

    # only b remains: the coalition must change, and a's pairs are reported as removed
    line_a = "  - {name: a, backend: scripted, model: a, memory_gb: 0.3, options: {}}\n"
    project.write_text(PROJECT.replace(line_a, ""))
    assert "name: a" not in project.read_text()
    code, stdout, err = run(monkeypatch, capsys, "reprofile", "-c", str(project), "-o", str(out))
    assert code == 3, err
    third = json.loads(stdout.strip().splitlines()[-1])
    assert third["status"] == "changed" and third["drift"]["coalition_changed"]
    assert set(third["best"].values()) == {"b"}
    assert third["drift"]["coalition_after"] == third["best"]
    assert ["planner", "a"] in third["drift"]["removed"]
    assert load_coalition(out).roles["planner"].candidate == "b"

    from rolecast.storage import ProfileStore, resolve_db_url

    with ProfileStore(resolve_db_url(None)) as store:
        stored = store.runs(1, label="reprofile")[0].report
    assert stored is not None and stored["drift"] == third["drift"]
