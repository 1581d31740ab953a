"""Which coalitions to verify: the search's top-k, the best single model, the user's own.

A target is an assignment (role -> candidate) with what the surrogate predicted for it.
The best single model is one candidate playing every role, the best by prediction among
those coalitions (ordered as the search orders: accuracy, partial credit, cost, memory):
it is the baseline a mixed coalition has to beat to be worth serving several models.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from rolecast.allocator.coalition import CoalitionEval, ProfileMatrix
from rolecast.errors import ConfigError
from rolecast.types import Budget

__all__ = [
    "BEST_SINGLE",
    "PICK",
    "Target",
    "best_single_model",
    "choose_targets",
    "coalition_from_file",
    "parse_coalition",
    "predicted_accuracy",
]

BEST_SINGLE = "best single model"
"""The label of the single-model baseline."""
PICK = "pick"
"""The label of the budgeted search's pick (``--budget-runs``)."""


@dataclass
class Target:
    """One coalition to run end to end, and why it is run (its labels)."""

    assignment: dict[str, str]
    evaluation: CoalitionEval
    labels: list[str] = field(default_factory=list)
    predicted_by: dict[str, float] = field(default_factory=dict)
    """Predicted accuracy per surrogate (``observed``, ``irt``, ...): mean over profiled
    cases of the product over roles of :meth:`ProfileMatrix.case_scores`."""

    @property
    def label(self) -> str:
        """``planner=a caller=b ...``."""
        return " ".join(f"{role}={name}" for role, name in self.assignment.items())


def predicted_accuracy(matrix: ProfileMatrix, assignment: Mapping[str, str]) -> float:
    """The surrogate's prediction: mean over cases of the product of the roles' scores."""
    if not matrix.case_ids:
        return 0.0
    product = np.ones(len(matrix.case_ids))
    for role, name in assignment.items():
        product = product * matrix.case_scores(name, role)
    return float(product.mean())


def _order(evaluation: CoalitionEval) -> tuple[float, float, float, float, str]:
    """The search's ranking key: accuracy, then partial credit, cost, memory, label."""
    return (
        -evaluation.accuracy.mean,
        -evaluation.partial_credit,
        evaluation.cost_per_1k,
        evaluation.memory_gb,
        evaluation.label,
    )


def best_single_model(matrix: ProfileMatrix, budget: Budget) -> CoalitionEval | None:
    """The best coalition of one candidate in every role (``None`` if none is profiled).

    Budgets are not applied: the baseline is what one model alone would do.
    """
    singles = [
        matrix.evaluate({role: name for role in matrix.roles}, budget)
        for name in matrix.candidates
        if all((name, role) in matrix.stats for role in matrix.roles)
    ]
    return min(singles, key=_order) if singles else None


def parse_coalition(text: str, roles: Sequence[str], known: Sequence[str]) -> dict[str, str]:
    """``planner=a,caller=b,...`` -> role -> candidate, every pipeline role named once.

    Raises:
        ConfigError: a malformed pair, a role outside the pipeline, a role missing or
            named twice, or a candidate the project does not have.
    """
    assignment: dict[str, str] = {}
    for part in (p.strip() for p in text.split(",")):
        role, sep, name = part.partition("=")
        role, name = role.strip(), name.strip()
        if not sep or not role or not name:
            raise ConfigError(
                f"--coalition {text!r}: {part!r} is not ROLE=CANDIDATE; "
                f"write e.g. {','.join(f'{r}=NAME' for r in roles)}"
            )
        if role in assignment:
            raise ConfigError(f"--coalition {text!r}: role {role!r} is named twice")
        assignment[role] = name
    return _checked(assignment, roles, known, f"--coalition {text!r}")


def coalition_from_file(path: Path, roles: Sequence[str], known: Sequence[str]) -> dict[str, str]:
    """The role -> candidate assignment of a ``coalition.yaml`` (checked against the project).

    The coalition runs with the project's candidates of those names, so its numbers are
    comparable with the others'.
    """
    from rolecast.export import load_coalition

    config = load_coalition(path)
    assignment = {role: config.roles[role].candidate for role in config.pipeline}
    return _checked(assignment, roles, known, str(path))


def _checked(
    assignment: dict[str, str], roles: Sequence[str], known: Sequence[str], where: str
) -> dict[str, str]:
    extra = [role for role in assignment if role not in roles]
    if extra:
        raise ConfigError(
            f"{where}: role(s) {', '.join(extra)} are not in the project's pipeline {list(roles)}"
        )
    missing = [role for role in roles if role not in assignment]
    if missing:
        raise ConfigError(f"{where}: no candidate for role(s) {', '.join(missing)}")
    unknown = sorted({name for name in assignment.values() if name not in known})
    if unknown:
        raise ConfigError(
            f"{where}: unknown candidate(s) {', '.join(unknown)}; the project has "
            f"{', '.join(known)}"
        )
    return {role: assignment[role] for role in roles}


def choose_targets(
    ranked: Sequence[CoalitionEval],
    matrix: ProfileMatrix,
    budget: Budget,
    *,
    top_k: int = 3,
    named: Sequence[Mapping[str, str]] = (),
    surrogates: Mapping[str, ProfileMatrix] | None = None,
) -> list[Target]:
    """The coalitions to verify, each once, in order: top-k, best single model, named.

    ``ranked`` is the search's ranking (best first). ``surrogates`` maps a surrogate's
    name to a matrix whose case scores it fills; each target gets every one's prediction.
    """
    targets: dict[tuple[str, ...], Target] = {}

    def add(evaluation: CoalitionEval, label: str) -> None:
        key = tuple(evaluation.assignment[role] for role in matrix.roles)
        if key not in targets:
            targets[key] = Target(dict(evaluation.assignment), evaluation)
        if label not in targets[key].labels:
            targets[key].labels.append(label)

    for rank, evaluation in enumerate(ranked[:top_k], start=1):
        add(evaluation, f"top-{rank}")
    single = best_single_model(matrix, budget)
    if single is not None:
        add(single, BEST_SINGLE)
    for assignment in named:
        add(matrix.evaluate(dict(assignment), budget), "named")
    for target in targets.values():
        for name, surrogate in (surrogates or {"observed": matrix}).items():
            target.predicted_by[name] = predicted_accuracy(surrogate, target.assignment)
    return list(targets.values())
