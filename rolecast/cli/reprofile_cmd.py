"""`rolecast reprofile`: the scheduled job (cron, a systemd timer, a Kubernetes CronJob).

Profiles what changed (new models, prompts or cases; everything else is reused), searches
again, compares with the previous scheduled run of the project (which scores moved beyond
their intervals, whether the coalition changed), rewrites the coalition atomically only
when everything succeeded, and prints one JSON summary line for the job's log.

Exit codes: 0 unchanged, 3 the coalition changed, 2 bad input or nothing fits, 4 an
infrastructure fault (retry later); see :mod:`rolecast.scheduled` and docs/scheduling.md.
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
    """Incremental re-profile + search (+ export) + drift report, for scheduled jobs.

    Exit 0: coalition unchanged; 3: it changed; 2: bad input; 4: a model server faulted.
    """
    from rolecast.backends import fingerprints as model_fingerprints
    from rolecast.errors import InfrastructureError
    from rolecast.project import load_project
    from rolecast.scheduled import fault_summary
    from rolecast.scheduled import reprofile as run_reprofile
    from rolecast.search import study_storage
    from rolecast.storage import discard_new_sqlite_on_failure
    from rolecast.workflow import select_cases

    started = time.perf_counter()
    project, where = load_project(config)
    selection = select_cases(project, subset)
    model_fingerprints(project.candidates)  # a bad model file fails before any store exists
    with open_store(db) as store, discard_new_sqlite_on_failure(study_db):
        storage = study_storage(study_db) if study_db else None  # fails before profiling
        base = {"project": where, "database": store.url}
        try:
            result = run_reprofile(project, where, selection, store, out=out, study_storage=storage)
        except InfrastructureError as exc:
            summary = {**base, **fault_summary(exc)}
            summary["seconds"] = round(time.perf_counter() - started, 1)
            sys.stdout.write(json.dumps(summary) + "\n")
            raise
        best = result.search.best
        summary = {
            **base,
            "status": "changed" if result.drift.coalition_changed else "unchanged",
            "run": result.outcome.run_id,
            "generated": result.outcome.generated,
            "reused": result.outcome.reused,
            "generation_errors": result.outcome.errors,
            "skipped_cases": len(selection.loaded.skipped),
            "best": best.assignment,
            "accuracy": {
                "mean": best.accuracy.mean,
                "low": best.accuracy.low,
                "high": best.accuracy.high,
                "n": best.accuracy.n,
            },
            "ties": len(result.search.ties),
            "drift": result.drift.to_json(),
            "coalition": str(out) if out else None,
            "seconds": round(time.perf_counter() - started, 1),
        }
    sys.stdout.write(json.dumps(summary) + "\n")
    if result.exit_code:
        raise typer.Exit(result.exit_code)
