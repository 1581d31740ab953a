"""How well each surrogate predicts end-to-end accuracy, over every stored agent run.

For each coalition with stored runs, the surrogate's prediction (mean over the profiled
cases of the product of the roles' case scores) is set against its measured accuracy on
the held-out cases it ran. Per surrogate:

* mean absolute error and bias (predicted minus measured) over coalitions, and the
  Spearman rank correlation between predicted and measured (does it order coalitions
  right?), each with a percentile bootstrap interval that resamples held-out cases (the
  source of the measurement noise; coalitions run on the same case stay paired);
* a reliability table: runs binned by their predicted probability, each bin's mean
  prediction against its measured success rate (Wilson interval).

Which surrogate is better is read from these numbers, never chosen by taste.
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from rolecast.allocator import ProfileMatrix
from rolecast.profiles.stats import Estimate, wilson_interval
from rolecast.storage import AgentRunRecord
from rolecast.verify.targets import predicted_accuracy

__all__ = [
    "Bin",
    "CalibrationReport",
    "CoalitionPoint",
    "SurrogateCalibration",
    "calibrate",
    "collect_points",
    "render_markdown",
    "spearman",
]

DEFAULT_BINS = 5
"""Equal-width bins of predicted probability in the reliability table."""


@dataclass(frozen=True)
class CoalitionPoint:
    """One coalition's predictions (per surrogate) and its stored end-to-end outcomes."""

    label: str
    assignment: dict[str, str]
    predicted: dict[str, float]
    outcomes: dict[str, bool]
    """held-out case id -> solved end to end."""

    @property
    def measured(self) -> float:
        """The share of its runs that succeeded."""
        return sum(self.outcomes.values()) / len(self.outcomes) if self.outcomes else 0.0


@dataclass(frozen=True)
class Bin:
    """Runs whose prediction falls in ``[low, high)`` (the last bin includes 1)."""

    low: float
    high: float
    n: int
    mean_predicted: float
    measured: Estimate


@dataclass(frozen=True)
class SurrogateCalibration:
    """One surrogate against the stored runs."""

    surrogate: str
    mae: Estimate
    bias: Estimate
    spearman: Estimate | None
    """None when it is undefined: fewer than 3 coalitions, or all predictions (or all
    measurements) equal."""
    bins: list[Bin]


@dataclass
class CalibrationReport:
    """Every surrogate's calibration over the same coalitions and runs."""

    points: list[CoalitionPoint]
    surrogates: dict[str, SurrogateCalibration]
    n_runs: int
    skipped_runs: int = 0
    """Stored runs whose coalition the current profiles cannot predict (another model
    file, prompt version or pipeline)."""
    notes: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        """A JSON-able dict (report ``--format json``, the HTML report)."""
        return {
            "n_runs": self.n_runs,
            "skipped_runs": self.skipped_runs,
            "coalitions": [
                {
                    "label": p.label,
                    "assignment": p.assignment,
                    "predicted": p.predicted,
                    "measured": _est(wilson_interval(sum(p.outcomes.values()), len(p.outcomes))),
                }
                for p in self.points
            ],
            "surrogates": {
                name: {
                    "mae": _est(c.mae),
                    "bias": _est(c.bias),
                    "spearman": None if c.spearman is None else _est(c.spearman),
                    "bins": [
                        {
                            "low": b.low,
                            "high": b.high,
                            "n": b.n,
                            "mean_predicted": b.mean_predicted,
                            "measured": _est(b.measured),
                        }
                        for b in c.bins
                    ],
                }
                for name, c in self.surrogates.items()
            },
            "notes": list(self.notes),
        }

    def to_json(self) -> str:
        """The report as indented JSON."""
        return json.dumps(self.to_dict(), indent=2)


def _est(e: Estimate) -> dict[str, Any]:
    return {"mean": e.mean, "low": e.low, "high": e.high, "n": e.n, "method": e.method}


def collect_points(
    runs: Sequence[AgentRunRecord],
    surrogates: Mapping[str, ProfileMatrix],
    fingerprints: Mapping[str, str],
    prompt_versions: Mapping[str, str],
) -> tuple[list[CoalitionPoint], int]:
    """Group stored runs by coalition and predict each with every surrogate.

    A run counts only when its coalition is the one the current profiles describe: the
    same roles as the matrices, and per role the candidate's current fingerprint and the
    role's current prompt version. Returns the points and how many runs were skipped.
    """
    matrix = next(iter(surrogates.values()))
    groups: dict[str, list[AgentRunRecord]] = {}
    skipped = 0
    for run in runs:
        roles_match = set(run.assignment) == set(matrix.roles)
        current = roles_match and all(
            fingerprints.get(name) == run.fingerprints.get(role)
            and prompt_versions.get(role) == run.prompt_versions.get(role)
            and (name, role) in matrix.stats
            for role, name in run.assignment.items()
        )
        if not current:
            skipped += 1
            continue
        groups.setdefault(run.coalition_key, []).append(run)
    points = []
    for group in groups.values():
        assignment = {role: group[0].assignment[role] for role in matrix.roles}
        points.append(
            CoalitionPoint(
                label=" ".join(f"{r}={n}" for r, n in assignment.items()),
                assignment=assignment,
                predicted={
                    name: predicted_accuracy(m, assignment) for name, m in surrogates.items()
                },
                outcomes={run.case_id: run.success for run in group},
            )
        )
    points.sort(key=lambda p: p.label)
    return points, skipped


def _ranks(values: np.ndarray) -> np.ndarray:
    """Ranks 1..n with ties given their average rank."""
    order = np.argsort(values, kind="mergesort")
    ranks = np.empty(len(values))
    sorted_values = values[order]
    start = 0
    for end in range(1, len(values) + 1):
        if end == len(values) or sorted_values[end] != sorted_values[start]:
            ranks[order[start:end]] = (start + end + 1) / 2  # mean of ranks start+1..end
            start = end
    return ranks


def spearman(x: Sequence[float] | np.ndarray, y: Sequence[float] | np.ndarray) -> float:
    """Spearman's rank correlation (average ranks for ties); NaN when undefined."""
    a, b = np.asarray(x, dtype=float), np.asarray(y, dtype=float)
    if len(a) != len(b):
        raise ValueError(f"spearman needs pairs, got {len(a)} and {len(b)} values")
    if len(a) < 2:
        return math.nan
    ra, rb = _ranks(a), _ranks(b)
    ra, rb = ra - ra.mean(), rb - rb.mean()
    denominator = math.sqrt(float((ra * ra).sum() * (rb * rb).sum()))
    return float((ra * rb).sum() / denominator) if denominator else math.nan


def _metrics(predicted: np.ndarray, measured: np.ndarray) -> tuple[float, float, float]:
    errors = predicted - measured
    rho = spearman(predicted, measured) if len(predicted) >= 3 else math.nan
    return float(np.abs(errors).mean()), float(errors.mean()), rho


def _bins(points: Sequence[CoalitionPoint], surrogate: str, n_bins: int) -> list[Bin]:
    edges = np.linspace(0.0, 1.0, n_bins + 1)
    pairs = [(p.predicted[surrogate], ok) for p in points for ok in p.outcomes.values()]
    out = []
    for i in range(n_bins):
        low, high = round(float(edges[i]), 6), round(float(edges[i + 1]), 6)
        last = i == n_bins - 1
        members = [(q, ok) for q, ok in pairs if low <= q < high or (last and q == high)]
        if not members:
            continue
        out.append(
            Bin(
                low=low,
                high=high,
                n=len(members),
                mean_predicted=sum(q for q, _ in members) / len(members),
                measured=wilson_interval(sum(ok for _, ok in members), len(members)),
            )
        )
    return out


def calibrate(
    points: Sequence[CoalitionPoint],
    *,
    n_bins: int = DEFAULT_BINS,
    n_resamples: int = 2000,
    seed: int = 0,
    skipped_runs: int = 0,
) -> CalibrationReport:
    """Calibration of every surrogate the points carry predictions of.

    The bootstrap resamples held-out case ids with replacement; each coalition's measured
    accuracy is recomputed over the drawn cases it ran (with multiplicity), and a
    coalition with none of them drawn sits that resample out.
    """
    points = [p for p in points if p.outcomes]
    names = list(dict.fromkeys(name for p in points for name in p.predicted))
    case_ids = sorted({cid for p in points for cid in p.outcomes})
    index = {cid: i for i, cid in enumerate(case_ids)}
    # outcome matrix: coalition x case, NaN where the coalition did not run the case
    grid = np.full((len(points), len(case_ids)), np.nan)
    for row, point in enumerate(points):
        for cid, ok in point.outcomes.items():
            grid[row, index[cid]] = float(ok)
    rng = np.random.default_rng(seed)
    draws = [rng.integers(0, len(case_ids), size=len(case_ids)) for _ in range(n_resamples)]
    resampled_measured = []
    for draw in draws:
        sample = grid[:, draw]
        counts = (~np.isnan(sample)).sum(axis=1)
        with np.errstate(invalid="ignore"):
            resampled_measured.append(np.nansum(sample, axis=1) / np.where(counts, counts, 1))
        resampled_measured[-1][counts == 0] = np.nan
    measured = np.array([p.measured for p in points])
    result: dict[str, SurrogateCalibration] = {}
    for name in names:
        predicted = np.array([p.predicted.get(name, math.nan) for p in points])
        mae, bias, rho = _metrics(predicted, measured)
        boot: list[tuple[float, float, float]] = []
        for m in resampled_measured:
            keep = ~np.isnan(m)
            if keep.sum() >= 1:
                boot.append(_metrics(predicted[keep], m[keep]))
        samples = np.array(boot) if boot else np.full((1, 3), math.nan)
        result[name] = SurrogateCalibration(
            surrogate=name,
            mae=_interval(mae, samples[:, 0], len(points)),
            bias=_interval(bias, samples[:, 1], len(points)),
            spearman=None if math.isnan(rho) else _interval(rho, samples[:, 2], len(points)),
            bins=_bins(points, name, n_bins),
        )
    return CalibrationReport(
        points=list(points),
        surrogates=result,
        n_runs=sum(len(p.outcomes) for p in points),
        skipped_runs=skipped_runs,
    )


def _interval(value: float, samples: np.ndarray, n: int) -> Estimate:
    finite = samples[np.isfinite(samples)]
    if len(finite) == 0:
        return Estimate(value, value, value, n, "bootstrap")
    low, high = np.quantile(finite, [0.025, 0.975])
    return Estimate(value, float(low), float(high), n, "bootstrap")


def render_markdown(report: CalibrationReport) -> str:
    """Markdown: per surrogate MAE, bias, Spearman; per coalition; per predicted-probability bin."""

    def cell(e: Estimate | None, signed: bool = False) -> str:
        if e is None:
            return "—"
        f = "+.3f" if signed else ".3f"
        return f"{e.mean:{f}} [{e.low:{f}}, {e.high:{f}}]"

    names = list(report.surrogates)
    lines = [
        f"Calibration over {report.n_runs} stored end-to-end run(s) of "
        f"{len(report.points)} coalition(s)"
        + (
            f" ({report.skipped_runs} run(s) of other profiles skipped)"
            if report.skipped_runs
            else ""
        ),
        "",
        "| surrogate | MAE [95% CI] | bias (pred − meas) | Spearman ρ |",
        "|---|---|---|---|",
    ]
    for name in names:
        c = report.surrogates[name]
        lines.append(
            f"| {name} | {cell(c.mae)} | {cell(c.bias, True)} | {cell(c.spearman, True)} |"
        )
    lines += [
        "",
        "| coalition | "
        + " | ".join(f"predicted ({n})" for n in names)
        + " | measured [95% CI] | n |",
        "|---|" + "---|" * (len(names) + 2),
    ]
    for p in report.points:
        e = wilson_interval(sum(p.outcomes.values()), len(p.outcomes))
        preds = " | ".join(f"{p.predicted.get(n, math.nan):.3f}" for n in names)
        lines.append(f"| {p.label} | {preds} | {cell(e)} | {e.n} |")
    for name in names:
        lines += [
            "",
            f"Reliability ({name}): runs binned by predicted probability",
            "",
            "| bin | n | mean predicted | measured [95% CI] |",
            "|---|---|---|---|",
        ]
        for b in report.surrogates[name].bins:
            lines.append(
                f"| [{b.low:.1f}, {b.high:.1f}{']' if b.high == 1 else ')'} | {b.n} | "
                f"{b.mean_predicted:.3f} | {cell(b.measured)} |"
            )
    return "\n".join(lines)
