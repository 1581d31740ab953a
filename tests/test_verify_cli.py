"""`rolecast verify` and the report's calibration through the CLI, with scripted candidates.

Scripted candidates with nothing queued answer every request with an error: a model's
unusable output, so every step and every end-to-end run is a measured failure. That is
enough to check the bookkeeping and the output; the real models run in the slow test.
"""

from __future__ import annotations

import json
from pathlib import Path

from _helpers import cli
from test_cli_errors import assert_nothing_written, assert_one_line_error, write_project


def _profiled(tmp_path: Path, monkeypatch, capsys) -> Path:
    project = write_project(tmp_path)
    code, _, err = cli(monkeypatch, capsys, "profile", "-c", str(project), "--no-progress")
    assert code == 0, err
    return project


def test_verify_runs_the_targets_and_a_rerun_generates_nothing(tmp_path, monkeypatch, capsys):
    project = _profiled(tmp_path, monkeypatch, capsys)
    args = ("verify", "-c", str(project), "--holdout", "3", "--format", "json", "--top-k", "2")
    code, out, err = cli(
        monkeypatch, capsys, *args, "--coalition", "planner=b,caller=a,responder=b"
    )
    assert code == 0, err
    report = json.loads(out)
    assert len(report["holdout_cases"]) == 3
    labels = [label for c in report["coalitions"] for label in c["labels"]]
    assert report["coalitions"][0]["labels"][0] == "top-1"
    assert sorted(labels) == ["best single model", "named", "top-1", "top-2"]
    n = len(report["coalitions"])
    assert report["runs"]["generated"] == 3 * n and report["runs"]["reused"] == 0
    for c in report["coalitions"]:
        assert c["measured"]["n"] == 3 and c["measured"]["method"] == "wilson"
        assert c["measured"]["mean"] == 0.0 and c["measured"]["high"] > 0  # Wilson at 0/3
        assert set(c["predicted_by_surrogate"]) >= {"observed"}
    comparison = report["comparison"]
    assert comparison["within_noise"] and comparison["difference"]["method"] == "paired-bootstrap"
    code, out, _ = cli(monkeypatch, capsys, *args, "--coalition", "planner=b,caller=a,responder=b")
    again = json.loads(out)
    assert code == 0 and again["runs"]["generated"] == 0 and again["runs"]["reused"] == 3 * n
    assert again["coalitions"] == report["coalitions"]


def test_the_table_and_the_report_calibration(tmp_path, monkeypatch, capsys):
    project = _profiled(tmp_path, monkeypatch, capsys)
    code, out, err = cli(
        monkeypatch,
        capsys,
        "verify",
        "-c",
        str(project),
        "--holdout",
        "2",
        "--top-k",
        "1",
        "--no-progress",
    )
    assert code == 0, err
    assert "Predicted vs measured" in out and "pick vs best single model" in out
    assert "agent runs generated" in out
    png = tmp_path / "cal.png"
    code, out, err = cli(
        monkeypatch,
        capsys,
        "report",
        "-c",
        str(project),
        "--format",
        "json",
        "--calibration-png",
        str(png),
    )
    assert code == 0, err
    data = json.loads(out)
    assert data["rows"] and data["calibration"]["n_runs"] >= 2
    assert data["calibration"]["surrogates"]["observed"]["mae"]["n"] >= 1
    assert png.read_bytes()[:4] == b"\x89PNG"


def test_a_coalition_naming_an_unknown_candidate(tmp_path, monkeypatch, capsys):
    project = write_project(tmp_path)
    code, _, err = cli(
        monkeypatch,
        capsys,
        "verify",
        "-c",
        str(project),
        "--coalition",
        "planner=a,caller=zz,responder=b",
    )
    assert code == 2
    assert_one_line_error(code, err, "unknown candidate", "zz", "a, b")
    assert_nothing_written(tmp_path, "project.yaml")


def test_a_coalition_missing_a_role(tmp_path, monkeypatch, capsys):
    project = write_project(tmp_path)
    code, _, err = cli(
        monkeypatch, capsys, "verify", "-c", str(project), "--coalition", "planner=a,caller=b"
    )
    assert_one_line_error(code, err, "no candidate for role", "responder")
    assert code == 2
    assert_nothing_written(tmp_path, "project.yaml")


def test_no_held_out_case_left(tmp_path, monkeypatch, capsys):
    cases = tmp_path / "cases.jsonl"
    case = {"instruction": "Say hi.", "tools": [], "steps": [], "answer": "hi"}
    cases.write_text("".join(json.dumps({"id": f"c{i}", **case}) + "\n" for i in range(3)))
    project = tmp_path / "project.yaml"
    project.write_text(
        f"cases: {cases}\npipeline: [planner, caller, responder]\ncandidates:\n"
        "  - {name: a, backend: scripted, model: a, memory_gb: 0.1}\n"
    )
    code, _, err = cli(monkeypatch, capsys, "verify", "-c", str(project))
    assert code == 2
    assert_one_line_error(code, err, "no held-out case", "split: holdout")
    assert_nothing_written(tmp_path, "cases.jsonl", "project.yaml")


def test_verify_before_any_profile_creates_no_database(tmp_path, monkeypatch, capsys):
    project = write_project(tmp_path)
    code, _, err = cli(monkeypatch, capsys, "verify", "-c", str(project))
    assert code == 2
    assert_one_line_error(code, err, "no profile database", "rolecast profile")
    assert_nothing_written(tmp_path, "project.yaml")


def test_bad_holdout_and_format(tmp_path, monkeypatch, capsys):
    project = write_project(tmp_path)
    code, _, err = cli(monkeypatch, capsys, "verify", "-c", str(project), "--holdout", "0")
    assert_one_line_error(code, err, "--holdout 0")
    code, _, err = cli(monkeypatch, capsys, "verify", "-c", str(project), "--format", "yaml")
    assert_one_line_error(code, err, "--format 'yaml'")
    assert_nothing_written(tmp_path, "project.yaml")


def test_budget_runs_zero(tmp_path, monkeypatch, capsys):
    project = write_project(tmp_path)
    code, _, err = cli(monkeypatch, capsys, "verify", "-c", str(project), "--budget-runs", "0")
    assert code == 2
    assert_one_line_error(code, err, "--budget-runs 0", "at least 1")
    assert_nothing_written(tmp_path, "project.yaml")


def test_budget_runs_spends_the_budget_and_a_rerun_generates_nothing(tmp_path, monkeypatch, capsys):
    project = _profiled(tmp_path, monkeypatch, capsys)
    args = (
        "verify",
        "-c",
        str(project),
        "--budget-runs",
        "7",
        "--top-k",
        "2",
        "--format",
        "json",
        "--holdout",
        "4",
    )
    code, out, err = cli(monkeypatch, capsys, *args)
    assert code == 0, err
    report = json.loads(out)
    assert report["runs"]["generated"] == 7 and report["runs"]["reused"] == 0
    assert sum(c["measured"]["n"] for c in report["coalitions"]) == 7
    picks = [c for c in report["coalitions"] if "pick" in c["labels"]]
    assert len(picks) == 1 and picks[0]["measured"]["n"] >= 1
    assert report["comparison"]["pick"] == " ".join(
        f"{r}={n}" for r, n in picks[0]["assignment"].items()
    )
    code, out, _ = cli(monkeypatch, capsys, *args)
    again = json.loads(out)
    assert again["runs"]["generated"] == 0 and again["runs"]["reused"] == 7
    assert again["coalitions"] == report["coalitions"]


def test_a_coalition_file_is_verified_under_its_assignment(tmp_path, monkeypatch, capsys):
    project = _profiled(tmp_path, monkeypatch, capsys)
    exported = tmp_path / "c.yaml"
    code, _, err = cli(monkeypatch, capsys, "export", "-c", str(project), "-o", str(exported))
    assert code == 0, err
    code, out, err = cli(
        monkeypatch,
        capsys,
        "verify",
        "-c",
        str(project),
        "--holdout",
        "1",
        "--top-k",
        "0",
        "--coalition-file",
        str(exported),
        "--format",
        "json",
    )
    assert code == 0, err
    named = [c for c in json.loads(out)["coalitions"] if "named" in c["labels"]]
    assert len(named) == 1 and named[0]["measured"]["n"] == 1


def test_held_out_cases_with_stored_steps_are_left_out(tmp_path):
    from rolecast.project import load_project
    from rolecast.storage import ProfileStore, StepRecord, resolve_db_url
    from rolecast.verify import holdout_cases
    from rolecast.workflow import select_cases

    project, _ = load_project(write_project(tmp_path))
    selection = select_cases(project)
    profiled = selection.holdout[0]
    with ProfileStore(resolve_db_url(str(tmp_path / "s.db"))) as store:
        store.add_step(
            StepRecord(
                candidate="a",
                fingerprint="f",
                role="planner",
                prompt_version="p",
                case_id=profiled.id,
                case_hash=profiled.content_hash,
                step_index=0,
                success=True,
                score=1.0,
            )
        )
        cases, notes = holdout_cases(project, selection.holdout, selection.profile, store)
    assert profiled.id not in {c.id for c in cases}
    assert len(cases) == len(selection.holdout) - 1 and "left out" in notes[0]
