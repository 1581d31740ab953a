"""Imports that say what was observed, checked against the project, shown and exported honestly."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import yaml
from _helpers import cli

from rolecast.allocator.surrogate import apply_surrogate
from rolecast.errors import ConfigError
from rolecast.export import IMPORTED_TOOLS
from rolecast.profiles.imports import NOT_OBSERVED, check_names, observation, read_results
from rolecast.project import load_project
from rolecast.storage import ProfileStore, StepRecord, resolve_db_url
from rolecast.types import Budget
from rolecast.workflow import make_matrix, select_cases

PROJECT = """
cases: builtin
subset: 3
pipeline: [planner, caller]
candidates:
  - {name: x-a, backend: imported, model: x-a, memory_gb: 0.3}
  - {name: x-b, backend: imported, model: x-b, memory_gb: 0.5}
"""


@pytest.fixture
def project(tmp_path: Path) -> Path:
    path = tmp_path / "project.yaml"
    path.write_text(PROJECT)
    return path


def case_ids(monkeypatch, capsys, project: Path) -> list[str]:
    code, out, err = cli(monkeypatch, capsys, "cases", "-c", str(project), "--format", "json")
    assert code == 0, err
    ids = json.loads(out)["case_ids"]
    assert set(ids["profiled"]) <= set(ids["all"]) and set(ids["holdout"]) <= set(ids["all"])
    assert not set(ids["profiled"]) & set(ids["holdout"])
    return ids["profiled"]


def write_results(path: Path, ids: list[str]) -> Path:
    c0, c1, c2 = ids
    rows = [
        "candidate,role,case_id,score,success,observed,given",
        f"x-a,planner,{c0},1,,,",
        f"x-a,planner,{c1},1,,,",
        f"x-a,planner,{c2},0,,,",
        f"x-a,caller,{c0},1,,,planner",
        f"x-a,caller,{c1},0,,,planner",
        f"x-a,caller,{c2},0,,,planner",  # its own plan failed: says nothing about the caller
        f"x-b,planner,{c0},0,,,",
        f"x-b,planner,{c1},0,,,",
        f"x-b,planner,{c2},0,,,",
        f"x-b,caller,{c0},,,false,",  # not observed: no score needed
        f"x-b,caller,{c1},1,,,",
        f"x-b,caller,{c2},1,,,",
    ]
    path.write_text("\n".join(rows) + "\n")
    return path


def test_rows_say_what_was_observed(tmp_path: Path) -> None:
    path = tmp_path / "r.csv"
    path.write_text(
        "candidate,role,case_id,score,observed,given\n"
        "a,caller,k1,,false,\n"
        "a,caller,k2,0.2,,planner\n"
        "a,caller,k3,,,\n"  # observed (default) without a score
        "a,planner,k4,1,,planner\n"  # conditional on its own role
        "a,planner,k5,1,maybe,\n"
    )
    records, skipped = read_results(path)

    by_case = {r.case_id: r for r in records}
    assert observation(by_case["k1"]) == (False, None)
    assert by_case["k1"].output == NOT_OBSERVED and not by_case["k1"].success
    assert observation(by_case["k2"]) == (True, "planner")
    assert [s.record for s in skipped] == ["r.csv:4", "r.csv:5", "r.csv:6"]
    assert "score" in skipped[0].reason
    assert "own role" in skipped[1].reason
    assert "observed" in skipped[2].reason


def test_unobserved_and_conditional_cells_are_missing_not_failures(
    tmp_path: Path, monkeypatch, capsys, project: Path
) -> None:
    ids = case_ids(monkeypatch, capsys, project)
    results = write_results(tmp_path / "results.csv", ids)
    db = tmp_path / "r.db"
    code, _, err = cli(
        monkeypatch, capsys, "import", str(results), "-c", str(project), "--db", str(db)
    )
    assert code == 0, err

    config, _ = load_project(project)
    with ProfileStore(resolve_db_url(str(db))) as store:
        matrix, _ = make_matrix(store, config, select_cases(config).profile, "observed")
    c0, _c1, c2 = matrix.case_ids
    a_caller = matrix.stats[("x-a", "caller")]
    assert a_caller.case_observed == {c2: False}
    assert matrix.stats[("x-b", "caller")].case_observed == {c0: False}
    # observed surrogate: an unobserved cell takes the role's observed rate, not 0
    assert matrix.case_scores("x-a", "caller") == pytest.approx([1.0, 0.0, 0.5])
    assert matrix.case_scores("x-b", "caller") == pytest.approx([1.0, 1.0, 1.0])
    assert a_caller.step_rate.n == 2  # the unobserved step is not counted

    irt = apply_surrogate(matrix, "irt")
    for key in matrix.stats:
        assert np.all((irt.case_scores(*key) > 0) & (irt.case_scores(*key) < 1))
    # the 0/1 product is 0 for every coalition; the item-response model still ranks them
    planner_a = irt.evaluate({"planner": "x-a", "caller": "x-b"}, Budget()).accuracy
    planner_b = irt.evaluate({"planner": "x-b", "caller": "x-b"}, Budget()).accuracy
    assert planner_a.mean > planner_b.mean


def test_import_names_every_unknown_candidate_and_case_and_writes_nothing(
    tmp_path: Path, monkeypatch, capsys, project: Path
) -> None:
    ids = case_ids(monkeypatch, capsys, project)
    results = tmp_path / "results.csv"
    results.write_text(
        "candidate,role,case_id,score\n"
        f"x-a,planner,{ids[0]},1\n"
        f"x-c,planner,{ids[0]},1\n"
        "x-a,planner,builtin/nope-1,1\n"
        "x-d,caller,builtin/nope-2,0\n"
    )
    db = tmp_path / "r.db"
    code, _out, err = cli(
        monkeypatch, capsys, "import", str(results), "-c", str(project), "--db", str(db)
    )

    assert code == 2
    assert len(err.strip().splitlines()) == 1
    for name in ("x-c", "x-d", "builtin/nope-1", "builtin/nope-2"):
        assert name in err
    assert not db.exists()


def test_show_prints_a_dash_for_a_metric_never_measured(
    tmp_path: Path, monkeypatch, capsys, project: Path
) -> None:
    ids = case_ids(monkeypatch, capsys, project)
    db = tmp_path / "r.db"
    cli(monkeypatch, capsys, "import", str(write_results(tmp_path / "r.csv", ids)), "--db", str(db))
    code, out, err = cli(monkeypatch, capsys, "show", "-c", str(project), "--db", str(db))
    assert code == 0, err
    assert "plan_acc —" in out  # imported rows carry no Plan ACC: not "plan_acc 0.00"
    assert "0.00" not in out.split("plan_acc", 1)[1].split("\n", 1)[0]

    code, out, err = cli(monkeypatch, capsys, "report", "-c", str(project), "--db", str(db))
    assert code == 0, err


def test_a_coalition_from_imported_results_claims_no_tools_or_prompts(
    tmp_path: Path, monkeypatch, capsys, project: Path
) -> None:
    ids = case_ids(monkeypatch, capsys, project)
    db = tmp_path / "r.db"
    cli(monkeypatch, capsys, "import", str(write_results(tmp_path / "r.csv", ids)), "--db", str(db))
    out_path = tmp_path / "coalition.yaml"
    code, _, err = cli(
        monkeypatch, capsys, "export", "-c", str(project), "--db", str(db), "-o", str(out_path)
    )
    assert code == 0, err
    config = yaml.safe_load(out_path.read_text())
    assert config["tools"] == IMPORTED_TOOLS.model_dump(mode="json")
    assert config["tools"] == [{"kind": "unknown", "reason": "imported results"}]
    assert {r["prompt_version"] for r in config["roles"].values()} == {"import"}


def test_bad_surrogate_name_is_one_line(monkeypatch, capsys, project: Path, tmp_path: Path) -> None:
    db = tmp_path / "none.db"
    code, _, err = cli(
        monkeypatch, capsys, "search", "-c", str(project), "--db", str(db), "--surrogate", "magic"
    )
    assert code == 2
    assert "observed, irt" in err and len(err.strip().splitlines()) == 1
    assert not db.exists()


def test_check_names_passes_known_names_and_names_unknown_ones() -> None:
    record = StepRecord("a", "import:a", "planner", "import", "z", "id:z", 0, True, 1.0)
    check_names([record], ["a"], ["z"])
    with pytest.raises(ConfigError, match="unknown case id"):
        check_names([record], ["a"], ["k"])
