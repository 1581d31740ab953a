"""IBM-study metrics on ToolAlpaca eval_real from a profiled store, beside the published ones.

Run after ``bench/profile_benchmark.sh bench/projects/toolalpaca_real.yaml``:
    .venv/bin/python bench/toolalpaca_ibm.py [DB]
Teacher-forced: the planner sees the gold history, so "planner pass" is the exact gold
plan (every next action right, then finish); "slot filling" is the study's slot-filling
pass (``metrics.ibm_slot_filling_pass``: every gold call's arguments exact, a ``""`` value
counting as left out) over the caller's stored outputs; "procedural" is both on the same
case (one model playing both roles).
"""

from __future__ import annotations

import sys

from rolecast.backends import fingerprint
from rolecast.profiles.metrics import ibm_slot_filling_pass
from rolecast.profiles.roles import get_role, parse_json_object
from rolecast.profiles.stats import bootstrap_mean, wilson_interval
from rolecast.project import load_project
from rolecast.storage import ProfileStore, resolve_db_url
from rolecast.workflow import make_matrix, select_cases

PROJECT = "bench/projects/toolalpaca_real.yaml"
PUBLISHED_N = 114


def main() -> None:
    db = sys.argv[1] if len(sys.argv) > 1 else "bench/.results/toolalpaca_real.db"
    project, _ = load_project(PROJECT)
    selection = select_cases(project)
    cases = {case.id: case for case in selection.profile}
    caller = get_role("caller")
    with ProfileStore(resolve_db_url(db)) as store:
        matrix, _ = make_matrix(store, project, selection.profile)
        slots = {
            c.name: slot_filling(
                store.steps(
                    candidates=[c.name],
                    roles=["caller"],
                    fingerprints=[fingerprint(c)],
                    prompt_versions=[caller.prompt_version],
                ),
                cases,
            )
            for c in project.candidates
        }
    n = len(matrix.case_ids)
    print(f"cases profiled: {n} of {PUBLISHED_N} (skipped: {len(selection.loaded.skipped)})")
    for skipped in selection.loaded.skipped:
        print(f"  skipped {skipped}")
    print()
    # with cases skipped, a score over the study's 114 counts them as failures, as a
    # published score over 114 would
    partial = n < PUBLISHED_N
    columns = [
        "model",
        "planner pass",
        "slot filling",
        f"procedural (n={n})",
        *([f"procedural, study's n={PUBLISHED_N}"] if partial else []),
        "responder cosine",
        "responder ROUGE-L",
    ]
    print("| " + " | ".join(columns) + " |")
    print("|" + "---|" * len(columns))
    for name in matrix.candidates:
        planner = matrix.stats[(name, "planner")].case_success
        slot = slots[name]
        both = sum(planner[case] and slot[case] for case in matrix.case_ids)
        proc = wilson_interval(both, n)
        passed = round(proc.mean * proc.n)
        as_study = wilson_interval(passed, PUBLISHED_N)
        responder = matrix.stats[(name, "responder")].metric_estimates
        cells = [
            wilson_interval(sum(planner.values()), n),
            wilson_interval(sum(slot[case] for case in matrix.case_ids), n),
            proc,
            *([as_study] if partial else []),
            responder.get("cosine") or bootstrap_mean([]),
            responder.get("rouge_l") or bootstrap_mean([]),
        ]
        print(
            f"| {name} | "
            + " | ".join(f"{e.mean:.3f} [{e.low:.3f}, {e.high:.3f}]" for e in cells)
            + " |"
        )


def slot_filling(rows, cases) -> dict[str, bool]:
    """Per case: the IBM study's slot-filling pass over the caller's teacher-forced outputs."""
    by_case: dict[str, dict[int, str]] = {}
    for row in rows:
        if row.case_id in cases and row.case_hash == cases[row.case_id].content_hash:
            by_case.setdefault(row.case_id, {})[row.step_index] = row.output or ""
    passed = {}
    for case_id, case in cases.items():
        outputs = by_case.get(case_id, {})
        gold = [(step.tool, step.arguments) for step in case.steps]
        predicted = [
            (step.tool, parse_json_object(outputs.get(i, ""))) for i, step in enumerate(case.steps)
        ]
        passed[case_id] = ibm_slot_filling_pass(predicted, gold)
    return passed


if __name__ == "__main__":
    main()
