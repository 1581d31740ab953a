"""`rolecast reprofile`: the scheduled job (cron, CI, a Kubernetes CronJob).

Profiles what changed (new models, prompts or cases; everything else is reused), searches
again, rewrites the coalition atomically only when the search succeeds, and prints one
JSON summary line for the job's log. Exit codes: 0 done, 2 bad input or nothing fits.
"""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path
from typing import Annotated

import typer

from rolecast.cli._common import ConfigOption, DbOption, SubsetOption, open_store


def reprofile(
    config: ConfigOption = None,
    db: DbOption = None,
    subset: SubsetOption = None,
    out: Annotated[
        Path | None, typer.Option("--out", "-o", help="Rewrite this coalition.yaml after search.")
    ] = None,
    study_db: Annotated[
        str | None, typer.Option("--study-db", envvar="ROLECAST_STUDY_DB", help="Optuna storage.")
    ] = None,
) -> None:
    """Incremental re-profile + search (+ export) with a JSON summary, for scheduled jobs."""
    from rolecast.backends import fingerprints as model_fingerprints
    from rolecast.export import write_coalition
    from rolecast.profiles.profiler import profile
    from rolecast.project import load_project
    from rolecast.search import search, study_storage
    from rolecast.workflow import coalition_from_search, make_matrix, roles_of, select_cases

    started = time.perf_counter()
    project, where = load_project(config)
    selection = select_cases(project, subset)
    model_fingerprints(project.candidates)  # a missing model fails before any store exists
    with open_store(db) as store:
        storage = study_storage(study_db) if study_db else None  # fails before profiling
        outcome = profile(
            selection.profile, project.candidates, roles_of(project), store, label="reprofile"
        )
        matrix, fingerprints = make_matrix(store, project, selection.profile)
        result = search(matrix, project.budget, storage=storage)
        if out is not None:
            config_out = coalition_from_search(result, matrix, project, store, fingerprints)
            write_coalition(config_out, out)
        summary = {
            "project": where,
            "database": store.url,
            "run": outcome.run_id,
            "generated": outcome.generated,
            "reused": outcome.reused,
            "generation_errors": outcome.errors,
            "skipped_cases": len(selection.loaded.skipped),
            "best": result.best.assignment,
            "accuracy": {
                "mean": result.best.accuracy.mean,
                "low": result.best.accuracy.low,
                "high": result.best.accuracy.high,
                "n": result.best.accuracy.n,
            },
            "ties": len(result.ties),
            "coalition": str(out) if out else None,
            "seconds": round(time.perf_counter() - started, 1),
        }
    sys.stdout.write(json.dumps(summary) + "\n")
