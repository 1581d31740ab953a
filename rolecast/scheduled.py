"""The scheduled re-profile behind `rolecast reprofile` (cron, systemd timer, CronJob).

One run: profile what changed (everything else is reused), search again, compare with the
previous scheduled run of the same project (:mod:`rolecast.drift`), store that report
with the run, and rewrite the coalition file only when all of it succeeded.

Exit codes, for the scheduler (``docs/scheduling.md``):

* 0 (:data:`EXIT_UNCHANGED`): done; the chosen coalition is the same as last time (or
  this is the project's first scheduled run).
* 3 (:data:`EXIT_COALITION_CHANGED`): done, and another coalition was chosen.
* 2: bad input (project, cases, model files) or nothing fits the budget; fix and rerun.
* 4: an infrastructure fault (a model server down, slow, failing, refusing the key):
  nothing faulted was stored, the coalition was not rewritten; retry later.
* 130 / 143: interrupted (SIGINT / SIGTERM); what was stored is kept.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from rolecast.drift import DriftReport, Snapshot, compare, snapshot
from rolecast.errors import InfrastructureError
from rolecast.export import write_coalition
from rolecast.profiles.profiler import ProfileOutcome, profile
from rolecast.project import DEFAULT_CONFIG, ProjectConfig
from rolecast.search import SearchResult, search
from rolecast.storage import ProfileStore
from rolecast.workflow import CaseSelection, coalition_from_search, make_matrix, roles_of

__all__ = [
    "EXIT_COALITION_CHANGED",
    "EXIT_UNCHANGED",
    "LABEL",
    "ReprofileResult",
    "project_key",
    "reprofile",
]

EXIT_UNCHANGED = 0
EXIT_COALITION_CHANGED = 3
LABEL = "reprofile"
"""The run label of scheduled re-profiles; drift compares runs with this label."""


@dataclass(frozen=True)
class ReprofileResult:
    """What one scheduled run did and concluded."""

    outcome: ProfileOutcome
    search: SearchResult
    drift: DriftReport
    coalition: Path | None

    @property
    def exit_code(self) -> int:
        """0 unchanged (or first run), 3 when the chosen coalition changed."""
        return EXIT_COALITION_CHANGED if self.drift.coalition_changed else EXIT_UNCHANGED


def project_key(where: str) -> str:
    """What identifies "the same project" across runs: its file's absolute path."""
    return where if where == DEFAULT_CONFIG else str(Path(where).expanduser().resolve())


def reprofile(
    project: ProjectConfig,
    where: str,
    selection: CaseSelection,
    store: ProfileStore,
    *,
    out: Path | None = None,
    study_storage: Any = None,
) -> ReprofileResult:
    """Profile, search, compare with the previous run, store the report, write ``out``.

    Raises:
        InfrastructureError: A model server faulted; the run is ``failed``, nothing faulted
            was stored and ``out`` is untouched.
        BudgetError: Nothing fits the budget; ``out`` is untouched.
    """
    key = project_key(where)
    outcome = profile(
        selection.profile,
        project.candidates,
        roles_of(project),
        store,
        label=LABEL,
        config={"project": key},
    )
    matrix, fingerprints = make_matrix(store, project, selection.profile)
    result = search(matrix, project.budget, storage=study_storage)
    current = snapshot(outcome.run_id, matrix, result.best.assignment, fingerprints)
    drift = compare(previous_snapshot(store, key, outcome.run_id), current)
    store.set_run_report(outcome.run_id, {"snapshot": current.to_json(), "drift": drift.to_json()})
    if out is not None:
        write_coalition(coalition_from_search(result, matrix, project, store, fingerprints), out)
    return ReprofileResult(outcome=outcome, search=result, drift=drift, coalition=out)


def previous_snapshot(store: ProfileStore, key: str, before: int) -> Snapshot | None:
    """The snapshot of the latest earlier scheduled run of this project that concluded."""
    while True:  # newest first, a page at a time: a years-old job has thousands of runs
        page = store.runs(50, label=LABEL, with_report=True, before=before)
        for run in page:
            if run.config.get("project") == key and run.report and "snapshot" in run.report:
                return Snapshot.from_json(run.report["snapshot"])
        if len(page) < 50:
            return None
        before = page[-1].id


def fault_summary(error: InfrastructureError) -> dict[str, Any]:
    """The JSON summary fields of a run that failed on infrastructure faults."""
    outcome: ProfileOutcome | None = getattr(error, "outcome", None)
    if outcome is None:
        return {"status": "failed", "error": str(error)}
    return {
        "status": "failed",
        "run": outcome.run_id,
        "generated": outcome.generated,
        "reused": outcome.reused,
        "generation_errors": outcome.errors,
        "faults": [
            {
                "candidate": fault.candidate,
                "where": fault.where,
                "fault": fault.fault,
                "error": fault.error,
                "not_profiled": fault.not_profiled,
            }
            for fault in outcome.faults
        ],
    }
