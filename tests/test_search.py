"""Search: exact on small spaces, budgets as constraints, ties, Pareto front, resumable studies."""

from __future__ import annotations

import itertools
import warnings
from pathlib import Path

import optuna
import pytest
from _coalitions import candidate, matrix, role_stats

from rolecast.allocator import CoalitionEval, ProfileMatrix
from rolecast.errors import BudgetError
from rolecast.profiles.stats import wilson_interval
from rolecast.search import pareto_front, search
from rolecast.types import Budget, Prices

ROLES = ("planner", "caller", "responder")

# Three candidates on three roles, ten cases. c is perfect but needs 8 GB; a and b fit in
# 4 GB together. Among a and b: planner b (cases 0-8), caller a (0-8), responder b (0-8)
# pass cases 0-8 together: 0.9. No other a/b coalition reaches that.
OUTCOMES = {
    ("a", "planner"): "1111110000",
    ("b", "planner"): "1111111110",
    ("c", "planner"): "1111111111",
    ("a", "caller"): "1111111110",
    ("b", "caller"): "1111100000",
    ("c", "caller"): "1111111111",
    ("a", "responder"): "1111111000",
    ("b", "responder"): "1111111110",
    ("c", "responder"): "1111111111",
}
PER_HOUR = {"a": 3.6, "b": 7.2, "c": 36.0}  # USD per hour; every role takes 1 s per task


def three_by_three() -> ProfileMatrix:
    candidates = [
        candidate(name, memory_gb=gb, prices=Prices(per_hour=PER_HOUR[name]))
        for name, gb in (("a", 1.0), ("b", 2.0), ("c", 8.0))
    ]
    table = {key: role_stats(*key, outcomes, latency=1.0) for key, outcomes in OUTCOMES.items()}
    return matrix(table, candidates, ROLES)


def every_assignment(m: ProfileMatrix) -> list[dict[str, str]]:
    options = [sorted(m.options(role)) for role in m.roles]
    return [dict(zip(m.roles, combo, strict=True)) for combo in itertools.product(*options)]


def sqlite_url(tmp_path: Path, name: str = "study.db") -> str:
    return f"sqlite:///{tmp_path / name}"


# --- exact search on the hand-made matrix ----------------------------------------------------


def test_the_search_finds_the_true_best_and_ranks_the_feasible_ones() -> None:
    m = three_by_three()
    budget = Budget(gpu_memory_gb=4.0)

    result = search(m, budget, top_k=27)

    assert result.exact
    assert result.space_size == 27
    assert result.best.assignment == {"planner": "b", "caller": "a", "responder": "b"}
    assert result.best.accuracy == wilson_interval(9, 10)
    assert result.best.memory_gb == pytest.approx(3.0)
    # every coalition without c fits (2 ** 3), the 19 with c do not: top-27 lists the 8
    fitting = [a for a in every_assignment(m) if "c" not in a.values()]
    assert sorted(e.label for e in result.ranked) == sorted(
        m.evaluate(a, budget).label for a in fitting
    )
    best_by_hand = max(m.evaluate(a, budget).accuracy.mean for a in fitting)
    assert result.best.accuracy.mean == best_by_hand == pytest.approx(0.9)
    assert all(e.feasible for e in result.ranked)
    means = [e.accuracy.mean for e in result.ranked]
    assert means == sorted(means, reverse=True)


def test_top_k_is_cut_at_k() -> None:
    result = search(three_by_three(), Budget(gpu_memory_gb=4.0), top_k=3)
    assert len(result.ranked) == 3
    assert result.ranked[0].assignment == {"planner": "b", "caller": "a", "responder": "b"}


def test_without_a_budget_the_perfect_expensive_coalition_wins() -> None:
    result = search(three_by_three(), Budget())
    assert result.best.assignment == dict.fromkeys(ROLES, "c")
    assert result.best.accuracy.mean == 1.0


@pytest.mark.parametrize(
    ("budget", "binding", "cheapest"),
    [
        (
            Budget(gpu_memory_gb=0.1),
            "gpu_memory_gb=0.1 binds: the cheapest coalition "
            "(planner=a caller=a responder=a) needs 1 GB",
            "",
        ),
        (
            # 3 roles × 1 s × 3.6 USD/h = 0.003 USD per task = 3 USD per 1000 tasks
            Budget(gpu_memory_gb=100.0, cost_per_1k_tasks=2.0),
            "cost_per_1k_tasks=2 binds: the cheapest coalition "
            "(planner=a caller=a responder=a) needs 3 USD",
            "gpu_memory_gb",
        ),
        (
            Budget(latency_s=2.5),
            "latency_s=2.5 binds: the cheapest coalition "
            "(planner=a caller=a responder=a) needs 3 s",
            "",
        ),
    ],
)
def test_nothing_fits_names_the_binding_budget_and_the_cheapest_coalition(
    budget: Budget, binding: str, cheapest: str
) -> None:
    with pytest.raises(BudgetError) as excinfo:
        search(three_by_three(), budget)
    message = str(excinfo.value)
    assert message.startswith("no coalition fits the budget: ")
    assert binding in message
    if cheapest:  # a budget that does not bind is not blamed
        assert cheapest not in message


def test_budgets_that_each_fit_but_not_together_say_so() -> None:
    # a: small but slow-and-pricey; b: big but cheap. Memory ≤ 1.5 needs a, cost ≤ 2 needs b.
    m = matrix(
        {
            ("a", "planner"): role_stats("a", "planner", "11", latency=1.0),
            ("b", "planner"): role_stats("b", "planner", "11", latency=1.0),
        },
        [
            candidate("a", memory_gb=1.0, prices=Prices(per_hour=36.0)),
            candidate("b", memory_gb=2.0, prices=Prices(per_hour=3.6)),
        ],
    )
    with pytest.raises(BudgetError) as excinfo:
        search(m, Budget(gpu_memory_gb=1.5, cost_per_1k_tasks=2.0))
    message = str(excinfo.value)
    assert "each budget alone can be met, but no coalition meets all at once" in message
    # b overruns memory by a third; a overruns cost fivefold (10 USD per 1k against 2)
    assert "the closest (planner=b) exceeds gpu_memory_gb by 0.5" in message


def test_a_role_nobody_profiled_is_a_budget_error() -> None:
    m = ProfileMatrix(
        {("a", "planner"): role_stats("a", "planner", "1")},
        [candidate("a")],
        ["planner", "caller"],
        ["case-0"],
    )
    with pytest.raises(BudgetError, match=r"role 'caller'.*rolecast profile"):
        search(m, Budget())


# --- ties ----------------------------------------------------------------------------------


def test_identical_per_case_successes_are_reported_as_ties() -> None:
    # planners a and b pass the very same cases; the cheaper one is chosen, the other is a tie
    m = matrix(
        {("a", "planner"): "1101", ("b", "planner"): "1101", ("x", "caller"): "1111"},
        [candidate("a", memory_gb=1.0), candidate("b", memory_gb=2.0), candidate("x")],
    )
    result = search(m, Budget())
    assert result.best.assignment == {"planner": "a", "caller": "x"}
    assert [t.assignment for t in result.ties] == [{"planner": "b", "caller": "x"}]


def test_a_difference_on_one_of_five_cases_is_within_noise() -> None:
    m = matrix(
        {("a", "planner"): "11111", ("b", "planner"): "01111", ("x", "caller"): "11111"},
        [candidate("a"), candidate("b"), candidate("x")],
    )
    result = search(m, Budget())
    assert result.best.assignment["planner"] == "a"
    assert [t.assignment["planner"] for t in result.ties] == ["b"]


def test_a_clearly_better_coalition_on_many_cases_is_not_a_tie() -> None:
    # 40 cases: a passes all, b passes half
    m = matrix(
        {("a", "planner"): "1" * 40, ("b", "planner"): "10" * 20, ("x", "caller"): "1" * 40},
        [candidate("a"), candidate("b"), candidate("x")],
    )
    result = search(m, Budget())
    assert result.best.assignment["planner"] == "a"
    assert result.ties == []
    assert [e.assignment["planner"] for e in result.ranked] == ["a", "b"]


# --- Pareto front --------------------------------------------------------------------------


def dominates(a: CoalitionEval, b: CoalitionEval) -> bool:
    no_worse = (
        a.accuracy.mean >= b.accuracy.mean
        and a.cost_per_1k <= b.cost_per_1k
        and a.memory_gb <= b.memory_gb
    )
    better = (
        a.accuracy.mean > b.accuracy.mean
        or a.cost_per_1k < b.cost_per_1k
        or a.memory_gb < b.memory_gb
    )
    return no_worse and better


def test_the_pareto_front_holds_exactly_the_undominated_coalitions() -> None:
    result = search(three_by_three(), Budget(), top_k=27)
    front = {e.label for e in result.pareto}

    assert front
    for e in result.ranked:
        dominated = any(dominates(o, e) for o in result.ranked)
        assert (e.label in front) is not dominated, e.label
    # the perfect coalition and the cheapest one are both on it
    assert "planner=c caller=c responder=c" in front
    assert "planner=a caller=a responder=a" in front


def coalition(name: str, accuracy: int, cost: float, memory: float) -> CoalitionEval:
    return CoalitionEval(
        assignment={"planner": name},
        accuracy=wilson_interval(accuracy, 10),
        case_success=(),
        memory_gb=memory,
        cost_per_1k=cost,
        latency_s=0.0,
    )


def test_pareto_front_by_hand() -> None:
    best = coalition("best", 9, cost=5.0, memory=8.0)
    cheap = coalition("cheap", 6, cost=1.0, memory=1.0)
    small = coalition("small", 8, cost=3.0, memory=1.0)
    worse = coalition("worse", 7, cost=3.0, memory=2.0)  # small beats it on all three
    twin = coalition("twin", 6, cost=1.0, memory=1.0)  # equal to cheap: neither dominates
    front = pareto_front([worse, cheap, best, small, twin])
    assert [e.assignment["planner"] for e in front] == ["best", "small", "cheap", "twin"]


# --- the Optuna study ------------------------------------------------------------------------


def test_the_result_is_recorded_in_an_optuna_study_once(tmp_path: Path) -> None:
    url = sqlite_url(tmp_path)
    budget = Budget(gpu_memory_gb=4.0)
    first = search(three_by_three(), budget, storage=url, top_k=5)
    again = search(three_by_three(), budget, storage=url, top_k=5)

    assert again.study_name == first.study_name
    study = optuna.load_study(study_name=first.study_name, storage=url)
    listed = {e.label for e in first.ranked + first.pareto}
    assert len(study.trials) == len(listed)  # the second search added nothing
    by_label = {t.user_attrs["label"]: t for t in study.trials}
    assert set(by_label) == listed
    best = by_label[first.best.label]
    assert best.user_attrs["rank"] == 1
    assert best.values == pytest.approx(
        [first.best.accuracy.mean, first.best.cost_per_1k, first.best.memory_gb]
    )
    assert best.params == first.best.assignment
    assert study.user_attrs["exact"] is True
    # optuna's own Pareto front of the recorded trials is the search's front
    optuna_front = {t.user_attrs["label"] for t in study.best_trials}
    assert optuna_front == {e.label for e in first.pareto}


def test_the_study_name_changes_with_the_scores_budget_and_k() -> None:
    m = three_by_three()
    base = search(m, Budget(gpu_memory_gb=4.0)).study_name
    assert search(m, Budget(gpu_memory_gb=4.0)).study_name == base
    assert search(m, Budget(gpu_memory_gb=5.0)).study_name != base
    assert search(m, Budget(gpu_memory_gb=4.0), top_k=3).study_name != base
    # same candidates, cases and budget; one outcome differs: another study
    changed = dict(OUTCOMES)
    changed[("a", "planner")] = "1111110001"
    other = matrix(
        {key: role_stats(*key, o, latency=1.0) for key, o in changed.items()},
        list(m.candidates.values()),
        ROLES,
    )
    assert search(other, Budget(gpu_memory_gb=4.0)).study_name != base
    # a surrogate's probabilities: another study again
    scores = {key: m.case_scores(*key) * 0.9 for key in m.stats}
    assert (
        search(m.with_case_scores(scores, "scaled"), Budget(gpu_memory_gb=4.0)).study_name != base
    )


def test_search_raises_no_future_or_deprecation_warning(tmp_path: Path) -> None:
    # pytest's config ignores FutureWarning globally, so record every warning here
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        search(three_by_three(), Budget(gpu_memory_gb=4.0), storage=sqlite_url(tmp_path))
    assert [str(w.message) for w in caught if issubclass(w.category, Warning)] == []


def test_progress_ends_complete() -> None:
    seen: list[tuple[int, int]] = []
    search(three_by_three(), Budget(), progress=lambda done, total: seen.append((done, total)))
    assert seen[-1] == (1, 1)
    assert all(done <= total for done, total in seen)


def test_coalitions_tied_on_accuracy_are_ordered_by_partial_credit():
    """All coalitions at 0 accuracy: the one whose roles pass more of their steps leads."""
    import dataclasses

    def stats(name, role, outcomes, fraction):
        base = role_stats(name, role, outcomes)
        return dataclasses.replace(
            base, case_fraction=dict(zip(base.case_success, fraction, strict=True))
        )

    m = matrix(
        {
            ("a", "planner"): stats("a", "planner", "00", [0.5, 0.5]),
            ("b", "planner"): stats("b", "planner", "00", [0.0, 0.0]),
            ("a", "caller"): stats("a", "caller", "00", [0.0, 0.0]),
            ("b", "caller"): stats("b", "caller", "00", [0.5, 1.0]),
        },
        [candidate("a", 1.0), candidate("b", 1.0)],
    )
    result = search(m, Budget())
    assert result.best.accuracy.mean == 0.0
    assert result.best.assignment == {"planner": "a", "caller": "b"}
    assert result.best.partial_credit == pytest.approx((0.5 + 0.5 + 0.5 + 1.0) / 4)
