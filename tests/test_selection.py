"""Budgeted end-to-end search: it spends the budget it is given and finds a clear best."""

from __future__ import annotations

import numpy as np
import pytest

from rolecast.errors import RolecastError
from rolecast.selection import MIN_FIRST_CASES, budgeted_search, label


def world(seed: int, true_acc: dict[str, float], n_cases: int = 60):
    """A run function with one fixed outcome per (coalition, case), drawn from ``true_acc``."""
    rng = np.random.default_rng(seed)
    draws = {name: rng.random(n_cases) < acc for name, acc in true_acc.items()}
    cases = [f"h{i}" for i in range(n_cases)]
    calls: list[tuple[str, str]] = []

    def run(assignment: dict[str, str], case_id: str) -> bool:
        calls.append((assignment["planner"], case_id))
        return bool(draws[assignment["planner"]][cases.index(case_id)])

    return cases, run, calls


def coalitions(predicted: dict[str, float]):
    return [({"planner": name}, value) for name, value in predicted.items()]


def test_budget_below_one_is_rejected() -> None:
    cases, run, calls = world(0, {"a": 0.5})
    for bad in (0, -3):
        with pytest.raises(RolecastError, match="at least 1 run"):
            budgeted_search(coalitions({"a": 0.5}), cases, run, bad)
    assert calls == []


def test_no_coalition_or_case_or_bad_prediction_is_an_error() -> None:
    cases, run, _ = world(0, {"a": 0.5})
    with pytest.raises(RolecastError, match="no coalition"):
        budgeted_search([], cases, run, 5)
    with pytest.raises(RolecastError, match="held-out"):
        budgeted_search(coalitions({"a": 0.5}), [], run, 5)
    with pytest.raises(RolecastError, match="not in"):
        budgeted_search(coalitions({"a": 1.5}), cases, run, 5)


@pytest.mark.parametrize("strategy", ["halving", "thompson"])
def test_spends_exactly_the_budget_and_never_reruns_a_case(strategy: str) -> None:
    true_acc = {"a": 0.3, "b": 0.5, "c": 0.7, "d": 0.4}
    cases, run, calls = world(1, true_acc)
    predicted = coalitions({"a": 0.6, "b": 0.5, "c": 0.4, "d": 0.3})
    result = budgeted_search(predicted, cases, run, 50, strategy=strategy)

    assert result.runs_used == len(calls) == len(result.history) == len(result.picks) == 50
    assert len(set(calls)) == len(calls)
    # the top-3 predictions run first, on the same cases
    first = calls[:3]
    assert [name for name, _ in first] == ["a", "b", "c"]
    assert len({case for _, case in first}) == 1


@pytest.mark.parametrize("strategy", ["halving", "thompson"])
def test_stops_when_every_coalition_has_run_every_case(strategy: str) -> None:
    cases, run, calls = world(2, {"a": 0.5, "b": 0.6}, n_cases=5)
    result = budgeted_search(coalitions({"a": 0.5, "b": 0.5}), cases, run, 100, strategy=strategy)
    assert result.runs_used == 10 and len(set(calls)) == 10


@pytest.mark.parametrize("strategy", ["halving", "thompson"])
@pytest.mark.parametrize("seed", range(5))
def test_finds_a_clear_best_that_the_surrogate_ranks_fourth(seed: int, strategy: str) -> None:
    # the prediction is wrong about the order; the true best is 25 points ahead
    true_acc = {"a": 0.35, "b": 0.4, "c": 0.3, "d": 0.75, "e": 0.2}
    predicted = {"a": 0.6, "b": 0.55, "c": 0.5, "d": 0.45, "e": 0.1}
    cases, run, calls = world(seed, true_acc, n_cases=80)
    # 160 runs: successive halving's pool of 4 (two rungs, 16 cases each first) includes d
    result = budgeted_search(coalitions(predicted), cases, run, 160, seed=seed, strategy=strategy)

    assert result.best == {"planner": "d"}
    assert label(result.best) == result.picks[-1]
    # and spends little on the coalition that is clearly bad in prediction and in truth
    assert sum(name == "e" for name, _ in calls) < 15


def test_halving_keeps_the_better_measured_half() -> None:
    # 8 coalitions fit the budget's first rung; the measured best survives every rung
    true_acc = {
        name: acc
        for name, acc in zip("abcdefgh", [0.2, 0.3, 0.9, 0.2, 0.3, 0.2, 0.3, 0.2], strict=True)
    }
    cases, run, calls = world(3, true_acc, n_cases=100)
    predicted = coalitions(
        dict(zip("abcdefgh", [0.8, 0.7, 0.6, 0.5, 0.4, 0.3, 0.2, 0.1], strict=True))
    )
    result = budgeted_search(predicted, cases, run, 400, strategy="halving")

    assert result.best == {"planner": "c"}
    assert result.pool == 8 and "successive halving" in result.description
    runs = {name: sum(n == name for n, _ in calls) for name in "abcdefgh"}
    assert runs["c"] == max(runs.values())
    assert min(runs.values()) >= MIN_FIRST_CASES  # the first rung ran every one of them


def test_unknown_strategy_is_an_error() -> None:
    cases, run, _ = world(0, {"a": 0.5})
    with pytest.raises(RolecastError, match="halving or thompson"):
        budgeted_search(coalitions({"a": 0.5}), cases, run, 5, strategy="grid")


def test_halving_pick_compares_survivors_on_the_cases_they_all_ran() -> None:
    # a always succeeds, b and c never; the surrogate ranks a last, so within each case
    # b runs first: the pick must not follow whichever survivor ran one case more
    cases, run, _ = world(4, {"a": 1.0, "b": 0.0, "c": 0.0}, n_cases=30)
    predicted = coalitions({"b": 0.8, "c": 0.7, "a": 0.6})
    result = budgeted_search(predicted, cases, run, 60, strategy="halving")

    assert result.picks[:2] == ["planner=b", "planner=b"]  # no case in common yet: prediction
    assert set(result.picks[2:]) == {"planner=a"}  # from a's first run on, a leads
