"""A budget no coalition can meet is reported before the stored steps are read.

`rolecast search` checks the memory budget against the candidates alone, and bounds cost
and latency with one aggregate query; the message must be the one the search on the full
matrix gives, and the steps are read whenever the bounds cannot settle it.
"""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pytest
from _helpers import cli

from rolecast.errors import BudgetError
from rolecast.project import load_project
from rolecast.search import search
from rolecast.storage import ProfileStore, StepRecord, resolve_db_url
from rolecast.workflow import budget_misfit, make_matrix, select_cases

ROLES = ("planner", "caller", "responder")
MEMORY = {"a": 1.0, "b": 2.0, "c": 8.0}
PER_HOUR = {"a": 3.6, "b": 7.2, "c": 36.0}
#: seconds per step (one step per role and case)
LATENCY = {"a": 1.0, "b": 0.6, "c": 2.0}
N_CASES = 6


@pytest.fixture
def imported(tmp_path: Path, monkeypatch, capsys) -> tuple[Path, Path]:
    """(project file, database) of three imported candidates on six one-step cases."""
    cases = tmp_path / "cases.jsonl"
    with cases.open("w") as handle:
        for i in range(N_CASES):
            case = {
                "id": f"case-{i}", "instruction": f"look up item {i}",
                "tools": [{"name": "lookup", "description": "find an item",
                           "parameters": {"type": "object",
                                          "properties": {"id": {"type": "integer"}}}}],
                "steps": [{"tool": "lookup", "arguments": {"id": i},
                           "observation": {"price": i}, "evidence": ["price"]}],
                "answer": f"item {i} costs {i}",
            }  # fmt: skip
            handle.write(json.dumps(case) + "\n")
    results = tmp_path / "results.csv"
    with results.open("w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["candidate", "role", "case_id", "score", "tokens_in", "latency_s"])
        for name in MEMORY:
            for role in ROLES:
                for i in range(N_CASES):
                    score = 1.0 if (i + len(role) + ord(name)) % 3 else 0.0
                    writer.writerow([name, role, f"case-{i}", score, 100, LATENCY[name]])
    db = tmp_path / "profiles.db"
    code, _, err = cli(monkeypatch, capsys, "import", str(results), "--db", str(db))
    assert code == 0, err
    project = tmp_path / "project.yaml"
    lines = [f"cases: {cases}", f"pipeline: [{', '.join(ROLES)}]", "candidates:"]
    for name, gb in MEMORY.items():
        lines.append(
            f"  - {{name: {name}, backend: imported, model: {name}, memory_gb: {gb}, "
            f"prices: {{per_hour: {PER_HOUR[name]}, input_per_mtok: 1.0}}}}"
        )
    project.write_text("\n".join(lines) + "\n")
    return project, db


def full_search_message(project: Path, db: Path, overrides: dict[str, object]) -> str | None:
    """What the search on every stored step says (None: something fits)."""
    config, _ = load_project(project)
    config = config.model_copy(update={"budget": config.budget.model_copy(update=overrides)})
    with ProfileStore(resolve_db_url(str(db))) as store:
        matrix, _ = make_matrix(store, config, select_cases(config).profile, "observed")
    try:
        search(matrix, config.budget)
    except BudgetError as exc:
        return str(exc)
    return None


@pytest.mark.parametrize(
    ("args", "overrides", "reads_steps"),
    [
        (["--gpu-memory-gb", "0.5"], {"gpu_memory_gb": 0.5}, False),
        # cost does not bind even at its bound (a's coalition: 3.3 USD per 1k tasks)
        (["--gpu-memory-gb", "0.5", "--cost-per-1k", "50"],
         {"gpu_memory_gb": 0.5, "cost_per_1k_tasks": 50.0}, False),
        # cost binds too: only the steps can say by how much, so they are read
        (["--gpu-memory-gb", "0.5", "--cost-per-1k", "1"],
         {"gpu_memory_gb": 0.5, "cost_per_1k_tasks": 1.0}, True),
        (["--gpus", "1"], {"gpus": [1.0]}, False),  # 90% of 1 GB: even a does not fit
        (["--gpu-memory-gb", "3"], {"gpu_memory_gb": 3.0}, True),  # a and b fit: search
    ],
)  # fmt: skip
def test_the_message_is_the_full_searchs_and_steps_are_read_only_when_needed(
    imported, monkeypatch, capsys, args, overrides, reads_steps
):
    project, db = imported
    expected = full_search_message(project, db, overrides)
    reads: list[object] = []
    original = ProfileStore.step_outcomes

    def counted(self, **kwargs):
        reads.append(kwargs)
        return original(self, **kwargs)

    monkeypatch.setattr(ProfileStore, "step_outcomes", counted)
    code, out, err = cli(
        monkeypatch, capsys, "search", "-c", str(project), "--db", str(db),
        "--surrogate", "observed", "--format", "json", "--no-progress", *args,
    )  # fmt: skip
    assert bool(reads) == reads_steps
    if expected is None:
        assert code == 0, err
        assert json.loads(out)["best"]["memory_gb"] <= 3.0
    else:
        assert code == 2
        assert err == f"error: {expected}\n"


def test_a_bound_that_might_bind_leaves_the_decision_to_the_steps(imported) -> None:
    """Between the true cheapest cost and its bound, only the steps can tell: None."""
    project, db = imported
    config, _ = load_project(project)
    # per role a costs 1.0 (1 s at 3.6 USD/h) + 0.1 (100 tokens at 1 USD/M) per 1k tasks,
    # b 1.2 + 0.1, c 20 + 0.1: the cheapest coalition (all a) needs 3.3 USD
    budget = {"gpu_memory_gb": 0.5, "cost_per_1k_tasks": 3.4}
    config = config.model_copy(update={"budget": config.budget.model_copy(update=budget)})
    cases = select_cases(config).profile
    memory_only = full_search_message(project, db, budget)
    assert memory_only is not None and "cost_per_1k_tasks" not in memory_only
    with ProfileStore(resolve_db_url(str(db))) as store:
        assert budget_misfit(store, config, cases) == memory_only
        # a step of a's planner from an old model file: the matrix ignores it, the bound
        # (every step of the pair) counts it, and a's planner is then over 1.3 (b's)
        store.add_step(
            StepRecord(
                candidate="a", fingerprint="fp-old", role="planner", prompt_version="v0",
                case_id="case-0", case_hash="old", step_index=0, success=True, score=1.0,
                latency_s=1000.0,
            )
        )  # fmt: skip
        assert budget_misfit(store, config, cases) is None  # the bound needs 3.5 > 3.4
    assert full_search_message(project, db, budget) == memory_only


def test_an_impossible_memory_budget_is_reported_before_missing_steps(
    imported, monkeypatch, capsys
):
    """No coalition of these candidates fits, so profiling more would not help."""
    project, db = imported
    text = project.read_text() + (
        "  - {name: d, backend: imported, model: d, memory_gb: 4.0}\n"  # never profiled
    )
    project.write_text(text)
    code, _, err = cli(
        monkeypatch, capsys, "search", "-c", str(project), "--db", str(db), "--no-progress"
    )
    assert code == 2 and "step(s) are not profiled" in err  # no memory budget: the steps
    code, _, err = cli(
        monkeypatch, capsys, "search", "-c", str(project), "--db", str(db),
        "--gpu-memory-gb", "0.5", "--no-progress",
    )  # fmt: skip
    assert code == 2
    assert err == (
        "error: no coalition fits the budget: gpu_memory_gb=0.5 binds: the cheapest "
        "coalition (planner=a caller=a responder=a) needs 1 GB\n"
    )
