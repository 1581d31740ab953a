"""`rolecast verify` as a library: held-out cases, targets, runs, the report.

The CLI (and the quickstart) parse their input, call :func:`check_request` before any
database exists, then :func:`verify` with an open store.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from rolecast.allocator import ProfileMatrix
from rolecast.backends import Backend, create_backend
from rolecast.errors import CaseError, ConfigError, RolecastError
from rolecast.export import CoalitionConfig, build_coalition_config
from rolecast.project import ProjectConfig
from rolecast.storage import ProfileStore
from rolecast.tools import ToolSet
from rolecast.tools.spec import ToolsSpec
from rolecast.types import Candidate, ToolCase
from rolecast.verify.calibration import CalibrationReport, calibrate, collect_points
from rolecast.verify.runner import AgentSession, Judge, Progress
from rolecast.verify.summary import VerifyReport, summarize
from rolecast.verify.targets import (
    PICK,
    Target,
    choose_targets,
    coalition_from_file,
    parse_coalition,
)

__all__ = [
    "VerifyRequest",
    "check_request",
    "holdout_cases",
    "project_calibration",
    "verify",
]


@dataclass(frozen=True)
class VerifyRequest:
    """What to verify, as the user asked for it (checked by :func:`check_request`)."""

    top_k: int = 3
    coalitions: tuple[str, ...] = ()
    """``planner=a,caller=b,...`` specs."""
    coalition_files: tuple[Path, ...] = ()
    holdout: int | None = None
    """How many held-out cases to run (all when None)."""
    budget_runs: int | None = None


def check_request(request: VerifyRequest, project: ProjectConfig) -> list[dict[str, str]]:
    """Validate the request against the project; the named coalitions' assignments.

    Touches no database, so bad input leaves nothing behind.

    Raises:
        ConfigError: a bad top-k, hold-out size or run budget, or a coalition that is
            malformed or names an unknown role or candidate.
    """
    if request.top_k < 0:
        raise ConfigError(f"--top-k {request.top_k}: give 0 or more coalitions")
    if request.holdout is not None and request.holdout < 1:
        raise ConfigError(f"--holdout {request.holdout}: run at least 1 held-out case")
    if request.budget_runs is not None and request.budget_runs < 1:
        raise ConfigError(
            f"--budget-runs {request.budget_runs}: give at least 1 end-to-end run "
            f"(or leave the option out to run every target on every held-out case)"
        )
    known = [c.name for c in project.candidates]
    named = [parse_coalition(text, project.pipeline, known) for text in request.coalitions]
    named += [
        coalition_from_file(path, project.pipeline, known) for path in request.coalition_files
    ]
    return named


def holdout_cases(
    project: ProjectConfig,
    holdout: Sequence[ToolCase],
    profiled: Sequence[ToolCase],
    store: ProfileStore | None,
    limit: int | None = None,
) -> tuple[list[ToolCase], list[str]]:
    """The held-out cases to run: none that was profiled, at most ``limit``; and notes.

    A case is taken as profiled when it is in the profiling subset (same id or same
    content) or when the store holds any step for its id (an earlier, larger profile).

    Raises:
        CaseError: no held-out case is left.
    """
    notes: list[str] = []
    ids = {case.id for case in profiled}
    hashes = {case.content_hash for case in profiled}
    clean = [c for c in holdout if c.id not in ids and c.content_hash not in hashes]
    if store is not None and clean:
        stored = {step.case_id for step in store.steps(case_ids=[c.id for c in clean])}
        if stored:
            notes.append(
                f"{len(stored)} held-out case(s) left out: the store has profiled steps for them"
            )
            clean = [c for c in clean if c.id not in stored]
    if not clean:
        raise CaseError(
            f"{project.cases}: no held-out case is left to verify on "
            f"({len(holdout)} held out, all of them profiled or none in the case set); "
            f"mark cases with split: holdout, or profile a smaller --subset"
        )
    if limit is not None and limit < len(clean):
        if project.cases == "builtin":
            from rolecast.suite import balanced_subset

            clean = balanced_subset(clean, limit)
        else:
            clean = clean[:limit]
    return clean, notes


def _config_for(
    target: Target,
    matrix: ProfileMatrix,
    project: ProjectConfig,
    store: ProfileStore,
    fingerprints: Mapping[str, str],
    tools: ToolsSpec | None,
) -> CoalitionConfig:
    from rolecast.workflow import roles_of

    config = build_coalition_config(
        target.evaluation,
        [],
        matrix,
        pipeline=list(project.pipeline),
        prompt_versions={r.name: r.prompt_version for r in roles_of(project)},
        budget=project.budget,
        cases=project.cases,
        database=store.url,
        fingerprints=dict(fingerprints),
        study=None,
        tools=tools,
    )
    return config


def verify(
    project: ProjectConfig,
    store: ProfileStore,
    matrix: ProfileMatrix,
    ranked: Sequence,
    fingerprints: Mapping[str, str],
    cases: Sequence[ToolCase],
    toolset: ToolSet,
    *,
    top_k: int = 3,
    named: Sequence[Mapping[str, str]] = (),
    surrogates: Mapping[str, ProfileMatrix] | None = None,
    judge_fn: Judge | None = None,
    backend_factory: Callable[[Candidate], Backend] = create_backend,
    progress: Progress | None = None,
    budget_runs: int | None = None,
) -> VerifyReport:
    """Run the targets on ``cases`` (reusing stored runs) and report.

    ``ranked`` is the search's ranking of coalitions (best first); ``cases`` the held-out
    cases from :func:`holdout_cases`. Without ``budget_runs`` every target runs every
    case; with it, :func:`rolecast.selection.budgeted_search` decides which coalition
    (of every feasible one, the best single model and the named ones) runs which case,
    and its pick is labelled ``pick`` and compared with the best single model.
    """
    targets = choose_targets(
        ranked, matrix, project.budget, top_k=top_k, named=named, surrogates=surrogates
    )
    configs = [_config_for(t, matrix, project, store, fingerprints, project.tools) for t in targets]
    session = AgentSession(store, toolset, judge_fn=judge_fn, backend_factory=backend_factory)
    with session:
        if budget_runs is None:
            total, done = len(targets) * len(cases), 0
            for config in configs:
                for case in cases:
                    session.get(config, case)
                    done += 1
                    if progress is not None:
                        progress("verify", done, total)
            pick_label = None
        else:
            more = [
                t
                for t in choose_targets(
                    ranked, matrix, project.budget, top_k=len(ranked), surrogates=surrogates
                )
                if t.label not in {known.label for known in targets}
            ]
            for t in more:
                t.labels = []
            targets += more
            configs += [
                _config_for(t, matrix, project, store, fingerprints, project.tools) for t in more
            ]
            pick_label = _budgeted(targets, configs, cases, session, budget_runs, top_k, progress)
        runs = []
        for config in configs:
            stored = session.stored(config)
            runs.append({c.id: stored[c.content_hash] for c in cases if c.content_hash in stored})
    if pick_label is not None:  # only the coalitions the budget ran, and the labelled ones
        kept = [i for i, t in enumerate(targets) if t.labels or runs[i]]
        targets, runs = [targets[i] for i in kept], [runs[i] for i in kept]
        for t in targets:
            if t.label == pick_label:
                t.labels.insert(0, PICK)
    report = summarize(targets, runs, [c.id for c in cases], surrogate=matrix.surrogate)
    outcome = session.outcome
    report.generated, report.reused = outcome.generated, outcome.reused
    report.rejudged, report.faults = outcome.rejudged, outcome.faults
    report.fault_messages = outcome.fault_messages
    if budget_runs is not None:
        report.notes.append(
            f"--budget-runs {budget_runs}: successive halving over cases among the "
            f"best-predicted of {len(configs)} coalition(s), the top {top_k} included "
            f"(rolecast.selection)"
        )
    return report


def _budgeted(
    targets: Sequence[Target],
    configs: Sequence[CoalitionConfig],
    cases: Sequence[ToolCase],
    session: AgentSession,
    budget_runs: int,
    top_k: int,
    progress: Progress | None,
) -> str:
    """Spend ``budget_runs`` end-to-end runs with :func:`rolecast.selection.budgeted_search`.

    Stored runs are reused (a rerun with the same budget generates none). Returns the
    pick's label.

    Raises:
        RolecastError: a run hit an infrastructure fault (runs stored so far are kept).
    """
    from rolecast.selection import budgeted_search, label

    by_label = {t.label: config for t, config in zip(targets, configs, strict=True)}
    by_id = {case.id: case for case in cases}
    used = 0

    def run(assignment: dict[str, str], case_id: str) -> bool:
        nonlocal used
        record = session.get(by_label[label(assignment)], by_id[case_id])
        if record is None:
            raise RolecastError(
                f"end-to-end run of {label(assignment)} on {case_id} hit an infrastructure "
                f"fault ({session.outcome.fault_messages[-1]}); the runs stored so far are "
                f"kept: run verify again when it is fixed"
            )
        used += 1
        if progress is not None:
            progress("verify (budget)", used, budget_runs)
        return record.success

    result = budgeted_search(
        [(t.assignment, t.evaluation.accuracy.mean) for t in targets],
        [case.id for case in cases],
        run,
        budget_runs,
        top_k=max(top_k, 1),
    )
    return label(result.best)


def project_calibration(
    store: ProfileStore,
    project: ProjectConfig,
    matrix: ProfileMatrix,
    fingerprints: Mapping[str, str],
) -> CalibrationReport | None:
    """Every surrogate's calibration over the stored runs of this project's coalitions.

    ``None`` when the store holds no end-to-end run the current profiles can predict.
    """
    from rolecast.verify.surrogates import surrogate_matrices
    from rolecast.workflow import roles_of

    runs = store.agent_runs()
    if not runs:
        return None
    points, skipped = collect_points(
        runs,
        surrogate_matrices(matrix, store),
        fingerprints,
        {r.name: r.prompt_version for r in roles_of(project)},
    )
    if not points:
        return None
    return calibrate(points, skipped_runs=skipped)
