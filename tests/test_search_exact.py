"""The exact search against brute-force enumeration on many random matrices.

Every coalition is enumerated here with itertools.product and its figures computed from
the test's own raw numbers (outcome strings or probability arrays, integer memory, costs
in exact binary fractions), so the expected top-k, ties and Pareto front owe nothing to
the branch and bound under test. Budgets are drawn so that they bind.
"""

from __future__ import annotations

import itertools
import math

import numpy as np
import pytest
from _coalitions import candidate, matrix, role_stats

from rolecast.allocator import ProfileMatrix
from rolecast.allocator.placement import place
from rolecast.errors import BudgetError
from rolecast.profiles.stats import is_tie
from rolecast.search import search
from rolecast.search.diagnose import closest
from rolecast.search.space import Space
from rolecast.types import Budget, Prices

ROLE_NAMES = ("planner", "caller", "extractor", "responder")


class Drawn:
    """A random profile matrix and the raw numbers it was built from."""

    def __init__(self, seed: int, probabilistic: bool = False) -> None:
        rng = np.random.default_rng(seed)
        self.rng = rng
        self.roles = ROLE_NAMES[: int(rng.integers(1, 5))]
        n_models = int(rng.integers(2, 6))
        self.names = [f"m{i}" for i in range(n_models)]
        self.n_cases = int(rng.integers(3, 14))
        self.memory = {name: float(rng.integers(1, 9)) for name in self.names}
        table = {}
        self.scores: dict[tuple[str, str], np.ndarray] = {}
        self.latency: dict[tuple[str, str], float] = {}
        for role in self.roles:
            # each role has a random subset of the models (at least one)
            offered = [n for n in self.names if rng.random() < 0.8] or [self.names[0]]
            for name in offered:
                skill = rng.uniform(0.2, 1.0)
                outcomes = "".join(
                    "1" if rng.random() < skill else "0" for _ in range(self.n_cases)
                )
                # eighths of a second at 3600 USD/h: cost per 1k tasks is exactly 125 × that
                latency = float(rng.integers(0, 9)) / 8
                table[(name, role)] = role_stats(name, role, outcomes, latency=latency)
                self.scores[(name, role)] = np.array([float(c) for c in outcomes])
                self.latency[(name, role)] = latency
        candidates = [
            candidate(n, memory_gb=self.memory[n], prices=Prices(per_hour=3600.0))
            for n in self.names
        ]
        m = matrix(table, candidates, list(self.roles))
        if probabilistic:
            self.scores = {key: rng.random(self.n_cases) for key in self.scores}
            m = m.with_case_scores(self.scores, "random")
        self.matrix: ProfileMatrix = m

    def options(self, role: str) -> list[str]:
        return sorted(n for (n, r) in self.scores if r == role)

    def every(self) -> list[dict[str, str]]:
        combos = itertools.product(*(self.options(r) for r in self.roles))
        return [dict(zip(self.roles, combo, strict=True)) for combo in combos]

    def figures(self, a: dict[str, str]) -> tuple[float, float, float, float, float]:
        """accuracy, partial credit, cost per 1k, memory, latency: from the raw numbers."""
        product = np.ones(self.n_cases)
        for role, name in a.items():
            product = product * self.scores[(name, role)]
        accuracy = float(product.sum()) / self.n_cases
        # role_stats leaves case_fraction empty: a role's credit is its 0/1 outcome
        credit = sum(
            float(self.matrix.stats[(name, role)].case_success[c])
            for role, name in a.items()
            for c in self.matrix.case_ids
        ) / (self.n_cases * len(a))
        latency = sum(self.latency[(name, role)] for role, name in a.items())
        memory = sum(self.memory[name] for name in set(a.values()))
        return accuracy, credit, 1000 * latency, memory, latency

    def budget(self, gpus: bool = False) -> Budget:
        """Limits between the cheapest and the dearest coalition, so that they bind."""
        rng = self.rng
        every = [self.figures(a) for a in self.every()]
        costs = sorted(f[2] for f in every)
        memories = sorted(f[3] for f in every)
        fields: dict[str, object] = {}
        if rng.random() < 0.8 and costs[-1] > 0:
            fields["cost_per_1k_tasks"] = max(float(rng.choice(costs)), 1.0)
        if rng.random() < 0.8:
            fields["gpu_memory_gb"] = float(rng.choice(memories))
        if rng.random() < 0.3:
            fields["latency_s"] = max(float(rng.choice([f[4] for f in every])), 0.125)
        if gpus:
            fields["gpus"] = [
                float(g) for g in rng.choice([6, 8, 10], size=int(rng.integers(1, 3)))
            ]
        return Budget(**fields)  # type: ignore[arg-type]

    def feasible(self, a: dict[str, str], budget: Budget) -> bool:
        _, _, cost, memory, latency = self.figures(a)
        if budget.cost_per_1k_tasks is not None and cost > budget.cost_per_1k_tasks:
            return False
        if budget.gpu_memory_gb is not None and memory > budget.gpu_memory_gb:
            return False
        if budget.latency_s is not None and latency > budget.latency_s:
            return False
        if budget.gpus:
            models = {n: self.matrix.memory(n) for n in dict.fromkeys(a.values())}
            return place(models, budget.gpus) is not None
        return True


def label(a: dict[str, str]) -> str:
    return " ".join(f"{r}={n}" for r, n in a.items())


def brute_force(d: Drawn, budget: Budget, k: int):
    rows = [(a, d.figures(a)) for a in d.every() if d.feasible(a, budget)]
    ranked = sorted(rows, key=lambda r: (-r[1][0], -r[1][1], r[1][2], r[1][3], label(r[0])))
    front = [
        a
        for a, (acc, _, cost, mem, _) in rows
        if not any(
            o[0] >= acc
            and o[2] <= cost
            and o[3] <= mem
            and (o[0] > acc or o[2] < cost or o[3] < mem)
            for _, o in rows
        )
    ]
    return ranked[:k], front


def check(d: Drawn, budget: Budget, k: int) -> None:
    ranked, front = brute_force(d, budget, k)
    if not ranked:
        with pytest.raises(BudgetError, match="no coalition fits the budget"):
            search(d.matrix, budget, top_k=k)
        return
    result = search(d.matrix, budget, top_k=k)
    assert [e.label for e in result.ranked] == [label(a) for a, _ in ranked]
    for e, (_, fig) in zip(result.ranked, ranked, strict=True):
        assert e.accuracy.mean == pytest.approx(fig[0], abs=1e-12)
        assert e.cost_per_1k == pytest.approx(fig[2])
        assert e.memory_gb == pytest.approx(fig[3])
    assert sorted(e.label for e in result.pareto) == sorted(label(a) for a in front)
    best = result.ranked[0]
    expected_ties = [
        e.label for e in result.ranked[1:] if is_tie(best.case_success, e.case_success)
    ]
    assert [e.label for e in result.ties] == expected_ties


@pytest.mark.parametrize("seed", range(120))
def test_observed_outcomes_match_brute_force(seed: int) -> None:
    d = Drawn(seed)
    check(d, d.budget(), k=int(d.rng.integers(1, 12)))


@pytest.mark.parametrize("seed", range(60))
def test_probabilities_match_brute_force(seed: int) -> None:
    d = Drawn(1000 + seed, probabilistic=True)
    check(d, d.budget(), k=int(d.rng.integers(1, 12)))


@pytest.mark.parametrize("seed", range(40))
def test_gpu_packing_matches_brute_force(seed: int) -> None:
    d = Drawn(2000 + seed)
    check(d, d.budget(gpus=True), k=int(d.rng.integers(1, 8)))


def test_many_exact_ties_are_ordered_by_name() -> None:
    # four identical planners and two identical callers: 8 coalitions, all equal figures
    table = {(n, "planner"): "1010" for n in ("d", "b", "a", "c")}
    table |= {(n, "caller"): "1110" for n in ("y", "x")}
    cands = [candidate(n, memory_gb=1.0) for n in "abcdxy"]
    result = search(matrix(table, cands), Budget(), top_k=5)
    labels = [e.label for e in result.ranked]
    assert labels == [
        "planner=a caller=x",
        "planner=a caller=y",
        "planner=b caller=x",
        "planner=b caller=y",
        "planner=c caller=x",
    ]
    assert [e.label for e in result.ties] == labels[1:]  # same cases: tied with the best
    assert len(result.pareto) == 8  # equal on all three: none dominates another


@pytest.mark.parametrize("seed", range(40))
def test_the_closest_coalition_minimises_the_worst_relative_overrun(seed: int) -> None:
    d = Drawn(3000 + seed)
    every = [d.figures(a) for a in d.every()]
    budget = Budget(
        cost_per_1k_tasks=max(min(f[2] for f in every), 1.0),
        gpu_memory_gb=min(f[3] for f in every),
    )

    def overrun(a: dict[str, str]) -> float:
        _, _, cost, memory, _ = d.figures(a)
        assert budget.cost_per_1k_tasks is not None and budget.gpu_memory_gb is not None
        return max(cost / budget.cost_per_1k_tasks - 1, memory / budget.gpu_memory_gb - 1)

    space = Space.from_matrix(d.matrix)
    choice, worst = closest(space, budget)
    assert worst == pytest.approx(min(overrun(a) for a in d.every()))
    assert overrun(space.assignment(choice)) == pytest.approx(worst)
    assert not math.isinf(worst)
