"""Spend a budget of end-to-end runs where it tells the coalitions apart.

The surrogate ranks every coalition cheaply but is biased: roles are profiled with
teacher forcing, so a caller never sees its own planner's mistakes. End-to-end runs are
the truth but expensive. :func:`budgeted_search` decides which coalition to run on which
held-out case next:

1. every coalition starts with a Beta prior centred on its predicted accuracy, worth
   ``prior_strength`` runs (the surrogate's opinion, weighed like a few cases);
2. the surrogate's exact top-k are run first, on the same first cases (paired);
3. then top-two Thompson sampling (Russo 2016), a best-arm identification rule: draw an
   accuracy for every coalition from its posterior, run the best draw's coalition, or
   half of the time the best draw of a redraw that differs from it (the challenger), on
   the next held-out case that coalition has not run. A coalition outside the top-k is
   run as soon as its posterior can beat the leaders.

Every coalition runs the cases in one shuffled order, so any two are compared on the
same cases. The pick is the coalition with the highest posterior mean among those run.
The run function is injected: ``rolecast verify`` passes the real agent, the benchmark
(``bench/verify_sim.py``) a simulated ground truth.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np

from rolecast.errors import RolecastError
from rolecast.profiles.stats import Estimate, wilson_interval

__all__ = ["BudgetedResult", "CoalitionRuns", "RunFn", "budgeted_search", "label"]

RunFn = Callable[[dict[str, str], str], bool]
"""``run(assignment, case_id) -> success`` of one end-to-end agent run."""


def label(assignment: Mapping[str, str]) -> str:
    """``planner=a caller=b ...``."""
    return " ".join(f"{role}={name}" for role, name in assignment.items())


@dataclass
class CoalitionRuns:
    """One coalition's prior and the end-to-end runs spent on it."""

    assignment: dict[str, str]
    predicted: float
    outcomes: dict[str, bool] = field(default_factory=dict)
    """case id -> success, in the order run."""

    @property
    def measured(self) -> Estimate:
        """Measured accuracy over the cases run, with a Wilson interval."""
        return wilson_interval(sum(self.outcomes.values()), len(self.outcomes))


@dataclass(frozen=True)
class BudgetedResult:
    """The pick, every coalition's runs, and the pick after each run (for benchmarks)."""

    best: dict[str, str]
    coalitions: list[CoalitionRuns]
    runs_used: int
    history: list[tuple[str, str, bool]]
    """(coalition label, case id, success) in the order run."""
    picks: list[str]
    """The label of the pick after each run."""
    strategy: str = "halving"
    pool: int = 0
    """How many coalitions the strategy considered (successive halving: its first rung)."""

    @property
    def description(self) -> str:
        """One line saying how the runs were spent, for reports."""
        if self.strategy == "halving":
            return (
                f"successive halving over cases among the {self.pool} best-predicted "
                f"coalition(s), {self.runs_used} end-to-end run(s)"
            )
        return (
            f"top-two Thompson sampling over {self.pool} coalition(s) seeded with the "
            f"top-k, {self.runs_used} end-to-end run(s)"
        )


def budgeted_search(
    coalitions: Sequence[tuple[Mapping[str, str], float]],
    case_ids: Sequence[str],
    run: RunFn,
    budget_runs: int,
    *,
    top_k: int = 3,
    seed_cases: int | None = None,
    prior_strength: float = 4.0,
    seed: int = 0,
    strategy: str = "halving",
) -> BudgetedResult:
    """Find the coalition with the best measured accuracy within ``budget_runs`` runs.

    Args:
        coalitions: every coalition that may be run (within the budgets) with its
            predicted accuracy in [0, 1]; the ``top_k`` highest predictions seed the search.
        case_ids: the held-out cases (never profiled); each coalition runs each at most once.
        run: one end-to-end run of a coalition on a case; True when it solved the case.
        budget_runs: how many runs may be spent in all.
        top_k: how many of the best predictions run first.
        seed_cases: cases each top-k coalition runs before sampling starts (default: a
            quarter of the budget shared among them, at least 1).
        prior_strength: how many runs the surrogate's prediction is worth.
        seed: seeds the case order and the sampler.
        strategy: ``halving`` (successive halving over the best predictions) or
            ``thompson`` (top-two Thompson sampling over every coalition).

    Raises:
        RolecastError: ``budget_runs`` < 1, no coalition, no case, or a prediction
            outside [0, 1].
    """
    if budget_runs < 1:
        raise RolecastError(f"the end-to-end budget must be at least 1 run, got {budget_runs}")
    if not coalitions:
        raise RolecastError("no coalition to verify")
    if not case_ids:
        raise RolecastError("no held-out case to run coalitions on")
    if top_k < 1 or prior_strength <= 0:
        raise RolecastError("top_k must be at least 1 and prior_strength positive")
    arms: list[CoalitionRuns] = []
    seen: set[str] = set()
    for assignment, predicted in sorted(coalitions, key=lambda item: -item[1]):
        if not 0.0 <= predicted <= 1.0:
            raise RolecastError(
                f"predicted accuracy {predicted} of {label(assignment)} is not in [0, 1]"
            )
        if label(assignment) not in seen:
            seen.add(label(assignment))
            arms.append(CoalitionRuns(dict(assignment), float(predicted)))
    rng = np.random.default_rng(seed)
    order = [case_ids[i] for i in rng.permutation(len(case_ids))]
    state = _State(arms, order, prior_strength, run)
    k = min(top_k, len(arms))
    if strategy == "halving":
        _successive_halving(state, budget_runs, k)
    elif strategy == "thompson":
        per_seed = (
            seed_cases if seed_cases is not None else max(1, min(10, budget_runs // (10 * k)))
        )
        for depth in range(min(per_seed, len(order))):  # the top-k, case by case (paired)
            for index in range(k):
                if state.used < budget_runs and len(arms[index].outcomes) == depth:
                    state.step(index)
        while state.used < budget_runs:
            chosen = state.choose(rng)
            if chosen is None:  # every coalition has run every case
                break
            state.step(chosen)
    else:
        raise RolecastError(f"unknown strategy {strategy!r}; choose halving or thompson")
    return BudgetedResult(
        best=dict(arms[state.pick()].assignment),
        coalitions=arms,
        runs_used=state.used,
        history=state.history,
        picks=state.picks,
        strategy=strategy,
        pool=len(state.survivors_first) if strategy == "halving" else len(arms),
    )


MIN_FIRST_CASES = 16
"""Successive halving's first rung runs each coalition on at least this many cases.

16 rather than 8: a pool half as large whose first cut rests on twice the cases. On the
simulated ground truth (``bench/verify_sim.py``, tuning seeds 100-159, not the reported
ones) it reached the true best as often (45 vs 46 of 60 worlds at 1000 runs) and settled
on it sooner (median 279 vs 411 runs).
"""


def _successive_halving(state: _State, budget: int, top_k: int) -> None:
    """Successive halving over cases among the best predictions (Jamieson & Talwalkar 2016).

    The pool is the ``m`` best predictions, ``m`` a power of two (at least ``top_k``) as
    large as lets the first rung give each ``MIN_FIRST_CASES`` cases: a rung runs every
    survivor on the next cases (paired), then keeps the better half by measured
    accuracy (ties: the better prediction); each rung spends about the same number of
    runs, so survivors run on twice as many cases. Runs left at the end go to the last
    two survivors, alternately. The pick at any moment is the survivor with the most
    successes on the cases every survivor has run (paired), not the one that happens to
    have run one case more.
    """
    n_arms, n_cases = len(state.arms), len(state.order)
    pool = 1
    while pool * 2 <= n_arms and _rungs(pool * 2) * pool * 2 * MIN_FIRST_CASES <= budget:
        pool *= 2
    pool = max(pool, min(top_k, n_arms))
    per_rung = budget // max(1, _rungs(pool))
    survivors = list(range(pool))
    state.survivors = state.survivors_first = survivors
    depth = 0
    while True:
        depth = min(n_cases, max(depth + 1, depth + per_rung // len(survivors)))
        for position in range(depth):  # case by case, so a budget cut leaves them paired
            for index in survivors:
                if state.used < budget and len(state.arms[index].outcomes) == position:
                    state.step(index)
        if len(survivors) <= 2 or state.used >= budget or depth >= n_cases:
            break
        common = state.common_depth(survivors)
        survivors = sorted(survivors, key=lambda i: state.rank_on(i, common))
        survivors = survivors[: max(2, len(survivors) // 2)]
        state.survivors = survivors
    while state.used < budget:  # what is left: the finalists on more cases
        open_ = [i for i in survivors if len(state.arms[i].outcomes) < n_cases]
        if not open_:
            break
        state.step(min(open_, key=lambda i: len(state.arms[i].outcomes)))


def _rungs(pool: int) -> int:
    """Rungs of successive halving on ``pool`` coalitions (down to two finalists)."""
    return max(1, int(np.ceil(np.log2(pool))))


class _State:
    """Beta posteriors of the coalitions and the bookkeeping of runs."""

    def __init__(
        self, arms: list[CoalitionRuns], order: list[str], strength: float, run: RunFn
    ) -> None:
        self.arms, self.order, self.run = arms, order, run
        self.wins: list[list[int]] = [[0] for _ in arms]
        """Per coalition: successes on its first n cases, n = 0, 1, ... (cumulative)."""
        prior = np.clip([arm.predicted for arm in arms], 0.01, 0.99)
        self.alpha = prior * strength
        self.beta = (1 - prior) * strength
        self.used = 0
        self.history: list[tuple[str, str, bool]] = []
        self.picks: list[str] = []
        self.survivors: list[int] | None = None
        self.survivors_first: list[int] = []

    def step(self, index: int) -> None:
        arm = self.arms[index]
        case = self.order[len(arm.outcomes)]
        ok = bool(self.run(dict(arm.assignment), case))
        arm.outcomes[case] = ok
        self.wins[index].append(self.wins[index][-1] + ok)
        self.alpha[index] += ok
        self.beta[index] += not ok
        self.used += 1
        self.history.append((label(arm.assignment), case, ok))
        self.picks.append(label(self.arms[self.pick()].assignment))

    def open(self) -> np.ndarray:
        return np.array([len(arm.outcomes) < len(self.order) for arm in self.arms])

    def choose(self, rng: np.random.Generator) -> int | None:
        """Top-two Thompson sampling over the coalitions with cases left."""
        available = self.open()
        if not available.any():
            return None
        draw = np.where(available, rng.beta(self.alpha, self.beta), -1.0)
        leader = int(np.argmax(draw))
        if rng.random() < 0.5 or available.sum() == 1:
            return leader
        for _ in range(100):
            redraw = np.where(available, rng.beta(self.alpha, self.beta), -1.0)
            challenger = int(np.argmax(redraw))
            if challenger != leader:
                return challenger
        draw[leader] = -1.0
        return int(np.argmax(draw))

    def common_depth(self, indices: Sequence[int]) -> int:
        """How many cases (of the shared order) every coalition in ``indices`` has run."""
        return min(len(self.arms[i].outcomes) for i in indices)

    def rank_on(self, index: int, cases: int) -> tuple[int, float]:
        """Sort key, best first: successes on the first ``cases`` cases, then prediction."""
        return (-self.wins[index][cases], -self.arms[index].predicted)

    def pick(self) -> int:
        """The current pick.

        Successive halving: the survivor with the most successes on the cases all the
        survivors have run (ties: the better prediction); comparing on the same cases keeps
        the pick from following whichever survivor ran last. Thompson sampling: the
        coalition run most (the sampler runs its leader half of the time; a rarely run
        coalition's lucky streak is no pick), ties by posterior mean.
        """
        if self.survivors is not None:
            common = self.common_depth(self.survivors)
            return min(self.survivors, key=lambda i: self.rank_on(i, common))
        runs = np.array([len(arm.outcomes) for arm in self.arms])
        mean = self.alpha / (self.alpha + self.beta)
        return int(np.lexsort((-mean, -runs))[0])
