"""verify on the embedded default: predicted (each surrogate) vs measured, pick vs one model.

Profiles the embedded default's 12-case subset with the two CPU models (reusing a
database's stored steps), searches, runs the top-3 coalitions and the best single model
as agents with the built-in tools on every held-out case (16, none profiled), then
reports each surrogate's calibration against the stored end-to-end runs.

Usage (niced, in the background; ~20-30 min on 2 cores from an empty database):
    nice -n 10 .venv/bin/python bench/verify_builtin.py --db /tmp/verify-bench.db \
        --out /tmp/verify-bench [--top-k 3] [--holdout N] [--subset N]

Writes OUT/verify.json, OUT/calibration.json, OUT/calibration.png and prints markdown.
A second run against the same database generates 0 agent runs.
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--db", required=True, help="profile database (SQLite path or URL)")
    parser.add_argument("--out", required=True, type=Path, help="folder for the results")
    parser.add_argument("--top-k", type=int, default=3)
    parser.add_argument("--holdout", type=int, default=None, help="held-out cases (all: 16)")
    parser.add_argument("--subset", type=int, default=None, help="profiled cases (default 12)")
    args = parser.parse_args()

    from rolecast.backends import fingerprints as model_fingerprints
    from rolecast.profiles.profiler import profile
    from rolecast.project import load_project
    from rolecast.search import search
    from rolecast.storage import ProfileStore, resolve_db_url
    from rolecast.tools import open_tools
    from rolecast.verify import holdout_cases, verify
    from rolecast.verify.calibration import render_markdown
    from rolecast.verify.flow import project_calibration
    from rolecast.verify.plot import write_calibration_png
    from rolecast.verify.surrogates import surrogate_matrices
    from rolecast.workflow import make_matrix, roles_of, select_cases

    args.out.mkdir(parents=True, exist_ok=True)
    project, _ = load_project(None)
    selection = select_cases(project, args.subset)
    model_fingerprints(project.candidates)
    timings: dict[str, float] = {}
    with ProfileStore(resolve_db_url(args.db)) as store, open_tools("builtin") as tools:
        start = time.perf_counter()
        outcome = profile(
            selection.profile, project.candidates, roles_of(project), store, label="bench-verify"
        )
        timings["profile_s"] = time.perf_counter() - start
        matrix, fingerprints = make_matrix(store, project, selection.profile)
        surrogates = surrogate_matrices(matrix, store)
        result = search(matrix, project.budget)
        cases, notes = holdout_cases(
            project, selection.holdout, selection.profile, store, args.holdout
        )
        start = time.perf_counter()
        report = verify(
            project,
            store,
            matrix,
            result.ranked,
            fingerprints,
            cases,
            tools,
            top_k=args.top_k,
            surrogates=surrogates,
        )
        timings["verify_s"] = time.perf_counter() - start
        report.notes.extend(notes)
        calibration = project_calibration(store, project, matrix, fingerprints)
    (args.out / "verify.json").write_text(report.to_json())
    print(
        f"profile: generated {outcome.generated} step(s), reused {outcome.reused}; "
        f"{timings['profile_s']:.0f} s"
    )
    print(
        f"verify: {len(cases)} held-out case(s); agent runs generated {report.generated}, "
        f"reused {report.reused}, faults {report.faults}; {timings['verify_s']:.0f} s"
    )
    names = list(surrogates)
    print()
    print(
        "| coalition | as | "
        + " | ".join(f"predicted ({n})" for n in names)
        + " | measured [95% CI] | n |"
    )
    print("|---|---|" + "---|" * (len(names) + 2))
    for m in report.coalitions:
        t, e = m.target, m.measured
        preds = " | ".join(f"{t.predicted_by.get(n, float('nan')):.3g}" for n in names)
        print(
            f"| {t.label} | {', '.join(t.labels)} | {preds} | "
            f"{e.mean:.3f} [{e.low:.3f}, {e.high:.3f}] | {e.n} |"
        )
    if report.comparison is not None:
        print(f"\npick vs best single model: {report.comparison.verdict}")
    if calibration is not None:
        (args.out / "calibration.json").write_text(calibration.to_json())
        write_calibration_png(calibration, args.out / "calibration.png")
        print("\n" + render_markdown(calibration))
    (args.out / "timings.json").write_text(json.dumps(timings, indent=2))


if __name__ == "__main__":
    main()
