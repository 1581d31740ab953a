"""IBM-study metrics on ToolAlpaca eval_real from a profiled store, beside the published ones.

Run after ``bench/profile_benchmark.sh bench/projects/toolalpaca_real.yaml``:
    .venv/bin/python bench/toolalpaca_ibm.py [DB]
Teacher-forced: the planner sees the gold history, so "planner pass" is the exact gold
plan (every next action right, then finish); "slot filling" is every gold call's
arguments exact; "procedural" is both on the same case (one model playing both roles).
"""

from __future__ import annotations

import sys

from rolecast.profiles.stats import bootstrap_mean, wilson_interval
from rolecast.project import load_project
from rolecast.storage import ProfileStore, resolve_db_url
from rolecast.types import Budget
from rolecast.workflow import make_matrix, select_cases

PROJECT = "bench/projects/toolalpaca_real.yaml"
PUBLISHED_N = 114


def main() -> None:
    db = sys.argv[1] if len(sys.argv) > 1 else "bench/.results/toolalpaca_real.db"
    project, _ = load_project(PROJECT)
    selection = select_cases(project)
    with ProfileStore(resolve_db_url(db)) as store:
        matrix, _ = make_matrix(store, project, selection.profile)
    n = len(matrix.case_ids)
    print(f"cases profiled: {n} of {PUBLISHED_N} (skipped: {len(selection.loaded.skipped)})")
    for skipped in selection.loaded.skipped:
        print(f"  skipped {skipped}")
    print()
    columns = [
        "model",
        "planner pass",
        "slot filling",
        f"procedural (n={n})",
        f"procedural, study's n={PUBLISHED_N}",
        "responder cosine",
        "responder ROUGE-L",
    ]
    print("| " + " | ".join(columns) + " |")
    print("|---|---|---|---|---|---|---|")
    for name in matrix.candidates:
        planner = matrix.stats[(name, "planner")].case_success
        caller = matrix.stats[(name, "caller")].case_success
        proc = matrix.evaluate({"planner": name, "caller": name}, Budget()).accuracy
        passed = round(proc.mean * proc.n)
        as_study = wilson_interval(passed, PUBLISHED_N)
        responder = matrix.stats[(name, "responder")].metric_estimates
        cells = [
            wilson_interval(sum(planner.values()), n),
            wilson_interval(sum(caller.values()), n),
            proc,
            as_study,
            responder.get("cosine") or bootstrap_mean([]),
            responder.get("rouge_l") or bootstrap_mean([]),
        ]
        print(
            f"| {name} | "
            + " | ".join(f"{e.mean:.3f} [{e.low:.3f}, {e.high:.3f}]" for e in cells)
            + " |"
        )


if __name__ == "__main__":
    main()
