"""verify with the real CPU models, the real built-in tools and the real judge (MiniLM)."""

from __future__ import annotations

from pathlib import Path

import pytest
from _helpers import require
from _verify import HOLDOUT, PIPELINE, config

from rolecast.backends import fingerprints
from rolecast.profiles.roles import get_role
from rolecast.project import load_project
from rolecast.storage import ProfileStore, resolve_db_url
from rolecast.tools import open_tools
from rolecast.verify import RunPlan, run_plans

require("llama_cpp", "llamacpp")
pytestmark = pytest.mark.slow


def test_a_mixed_coalition_runs_judged_stored_and_a_rerun_generates_none(tmp_path: Path):
    project, _ = load_project(None)
    small, large = (c.name for c in project.candidates)
    assignment = {"planner": large, "caller": small, "extractor": small, "responder": large}
    coalition = config(
        assignment,
        max_steps=3,
        candidates={c.name: c for c in project.candidates},
        fingerprints=fingerprints(project.candidates),
        prompt_versions={r: get_role(r).prompt_version for r in PIPELINE},
    )
    case = next(c for c in HOLDOUT if len(c.steps) >= 1)
    plan = RunPlan(coalition, (case,))
    with (
        ProfileStore(resolve_db_url(str(tmp_path / "v.db"))) as store,
        open_tools("builtin") as tools,
    ):
        first = run_plans([plan], store, tools)
        (run,) = store.agent_runs()
        again = run_plans([plan], store, tools)
    assert (first.generated, first.faults, again.generated, again.reused) == (1, 0, 0, 1)
    assert run.case_id == case.id and run.assignment == assignment
    assert run.tokens_in > 0 and run.latency_s > 0 and run.n_steps >= 2
    assert set(run.verdict) >= {"planner_pass", "procedural", "success"}
    assert run.success == run.verdict["success"]
