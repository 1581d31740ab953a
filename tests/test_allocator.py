"""The coalition model: per-case accuracy, memory, cost, and reading profiles from the store."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path

import pytest
from _coalitions import candidate, matrix, role_stats

from rolecast.allocator import ProfileMatrix, candidate_memory
from rolecast.errors import RolecastError
from rolecast.profiles.roles import Role, get_role
from rolecast.profiles.stats import wilson_interval
from rolecast.search import search
from rolecast.storage import ProfileStore, StepRecord
from rolecast.types import Budget, Candidate, GoldStep, Prices, Tool, ToolCase

# --- accuracy: the per-case AND over every role's steps ------------------------------------


def test_accuracy_is_the_mean_of_per_case_and_not_the_product_of_role_rates() -> None:
    # planner and caller each pass 2 of 3 cases, but never on the same two cases but one
    m = matrix(
        {("a", "planner"): "110", ("b", "caller"): "011"},
        [candidate("a"), candidate("b")],
    )
    result = m.evaluate({"planner": "a", "caller": "b"}, Budget())

    assert result.case_success == (0.0, 1.0, 0.0)
    assert result.accuracy == wilson_interval(1, 3)
    assert result.accuracy.mean == pytest.approx(1 / 3)
    product = m.stats[("a", "planner")].step_rate.mean * m.stats[("b", "caller")].step_rate.mean
    assert product == pytest.approx(4 / 9)  # what a product of averages would wrongly say


def test_correlated_failures_on_hard_cases_are_not_double_counted() -> None:
    # both roles fail on the same hard case: the coalition loses one case, not two
    m = matrix({("a", "planner"): "110", ("a", "caller"): "110"}, [candidate("a")])
    result = m.evaluate({"planner": "a", "caller": "a"}, Budget())

    assert result.case_success == (1.0, 1.0, 0.0)
    assert result.accuracy.mean == pytest.approx(2 / 3)  # a product would say 4/9
    assert result.accuracy.n == 3


# --- memory and cost -----------------------------------------------------------------------


def test_a_candidate_playing_several_roles_is_loaded_once() -> None:
    m = matrix(
        {("a", "planner"): "1", ("a", "caller"): "1", ("b", "responder"): "1"},
        [candidate("a", memory_gb=2.5), candidate("b", memory_gb=4.0)],
    )
    assignment = {"planner": "a", "caller": "a", "responder": "b"}

    assert m.coalition_memory_gb(assignment) == pytest.approx(6.5)  # not 2.5 + 2.5 + 4.0
    assert m.evaluate(assignment, Budget()).memory_gb == pytest.approx(6.5)
    assert m.coalition_memory_gb({"planner": "a", "caller": "a"}) == pytest.approx(2.5)


def test_candidate_memory_prefers_the_measured_value_over_the_estimate() -> None:
    measured = candidate_memory(candidate("a", memory_gb=3.25))
    assert (measured.total_gb, measured.source) == (3.25, "measured")

    # no measurement: 1e9 parameters × 2 bytes (fp16) + 1.0 GB overhead of an unknown backend
    estimated = candidate_memory(
        Candidate(name="e", backend="scripted", model="scripted/e", n_params=1_000_000_000)
    )
    assert (estimated.total_gb, estimated.source) == (pytest.approx(3.0), "params")


def test_cost_per_1k_tasks_from_tokens_prices_and_machine_time() -> None:
    priced = candidate("api", prices=Prices(input_per_mtok=0.5, output_per_mtok=1.5, per_hour=3.6))
    local = candidate("gpu", prices=Prices(per_hour=7.2))
    m = matrix(
        {
            ("api", "planner"): role_stats(
                "api", "planner", "1", tokens_in=1000, tokens_out=200, latency=2.0
            ),
            ("gpu", "caller"): role_stats(
                "gpu", "caller", "1", tokens_in=400, tokens_out=50, latency=0.5
            ),
        },
        [priced, local],
    )
    assignment = {"planner": "api", "caller": "gpu"}

    # planner per task: 1000×0.5/1e6 + 200×1.5/1e6 + 2.0 s × 3.6/3600 = 0.0005 + 0.0003 + 0.002
    # caller per task: tokens are free; 0.5 s × 7.2/3600 = 0.001
    assert m.cost_per_1k(assignment) == pytest.approx(1000 * (0.0028 + 0.001))
    assert m.latency_s(assignment) == pytest.approx(2.5)
    result = m.evaluate(assignment, Budget())
    assert result.cost_per_1k == pytest.approx(3.8)
    assert result.latency_s == pytest.approx(2.5)


def test_violations_say_how_far_over_each_budget() -> None:
    m = matrix(
        {
            ("a", "planner"): role_stats("a", "planner", "1", latency=1.0),
            ("b", "caller"): role_stats("b", "caller", "1", latency=3.0),
        },
        [candidate("a", memory_gb=2.0, prices=Prices(per_hour=3.6)), candidate("b", memory_gb=3.0)],
    )
    assignment = {"planner": "a", "caller": "b"}
    # memory 5.0 GB; cost 1.0 s × 3.6/3600 × 1000 = 1.0 USD; latency 4.0 s
    over = m.evaluate(assignment, Budget(gpu_memory_gb=4.0, cost_per_1k_tasks=2.0, latency_s=5.0))
    assert over.violations == pytest.approx(
        {"gpu_memory_gb": 1.0, "cost_per_1k_tasks": -1.0, "latency_s": -1.0}
    )
    assert not over.feasible
    assert m.evaluate(assignment, Budget(gpu_memory_gb=5.0)).feasible  # exactly at the limit
    assert m.evaluate(assignment, Budget()).violations == {}


# --- reading profiles from a real SQLite store ---------------------------------------------

SEARCH = Tool(
    name="search",
    description="Search the catalogue.",
    parameters={"type": "object", "properties": {"q": {"type": "string"}}},
)
HOURS = Tool(
    name="hours",
    description="Opening hours of a shop.",
    parameters={"type": "object", "properties": {"shop": {"type": "string"}}},
)
PRICED = {"items": [{"name": "lamp", "price": 30, "sku": "L-1", "stock": 4}]}


def tool_case(case_id: str, *, evidence: bool, answer: str | None) -> ToolCase:
    steps = [GoldStep(tool="hours", arguments={"shop": "north"}, observation={"open": "9-17"})]
    if evidence:
        steps.insert(
            0,
            GoldStep(
                tool="search", arguments={"q": "lamp"}, observation=PRICED, evidence=["items.price"]
            ),
        )
    return ToolCase(
        id=case_id,
        instruction=f"question {case_id}",
        tools=[SEARCH, HOURS],
        steps=steps,
        answer=answer,
    )


# with-evidence: search (needs extraction) then hours, and a gold answer
# plain: hours only, a gold answer; no-answer: hours only, no gold answer
CASES = [
    tool_case("with-evidence", evidence=True, answer="The lamp costs 30 and the shop opens at 9."),
    tool_case("plain", evidence=False, answer="It opens at 9."),
    tool_case("no-answer", evidence=False, answer=None),
]
ROLE_NAMES = ("planner", "caller", "extractor", "responder")
ROLES = [get_role(name) for name in ROLE_NAMES]
CASES_IDS = [case.id for case in CASES]


def steps_for(
    name: str,
    role: Role,
    cases: Iterable[ToolCase],
    *,
    fingerprint: str | None = None,
    fail: Iterable[str] = (),
    tokens_in: int = 0,
    tokens_out: int = 0,
    latency_s: float = 0.0,
    prompt_version: str | None = None,
) -> Iterator[StepRecord]:
    """One stored step for every step ``role.steps(case)`` makes; cases in ``fail`` fail."""
    failing = set(fail)
    for case in cases:
        for step in role.steps(case):
            yield StepRecord(
                candidate=name,
                fingerprint=fingerprint or f"fp-{name}",
                role=role.name,
                prompt_version=prompt_version or role.prompt_version,
                case_id=case.id,
                case_hash=case.content_hash,
                step_index=step.index,
                success=case.id not in failing,
                score=float(case.id not in failing),
                tokens_in=tokens_in,
                tokens_out=tokens_out,
                latency_s=latency_s,
            )


def imported(records: Iterable[StepRecord], file: str = "results.csv") -> Iterator[StepRecord]:
    """The same outcomes as ``rolecast import`` would store them: keyed by case id."""
    for r in records:
        yield StepRecord(
            candidate=r.candidate,
            fingerprint=f"import:{r.candidate}",
            role=r.role,
            prompt_version="import",
            case_id=r.case_id,
            case_hash=f"id:{r.case_id}",
            step_index=r.step_index,
            success=r.success,
            score=r.score,
            tokens_in=r.tokens_in,
            tokens_out=r.tokens_out,
            latency_s=r.latency_s,
            source=f"import:{file}",
        )


@pytest.fixture
def store(tmp_path: Path) -> Iterator[ProfileStore]:
    with ProfileStore(f"sqlite:///{tmp_path / 'profiles.db'}") as opened:
        yield opened


def fingerprints(*names: str) -> dict[str, str]:
    return {name: f"fp-{name}" for name in names}


def test_steps_per_role_on_the_hand_made_cases() -> None:
    # what the tests below rely on: which roles have steps on which case
    counts = {role.name: [len(role.steps(case)) for case in CASES] for role in ROLES}
    assert counts == {
        "planner": [3, 2, 2],  # one per gold call, plus finish
        "caller": [2, 1, 1],
        "extractor": [1, 0, 0],  # only the step with evidence
        "responder": [1, 1, 0],  # only where there is a gold answer
    }


def test_a_role_without_steps_on_a_case_succeeds_there_vacuously(store: ProfileStore) -> None:
    m_model = candidate("m")
    for role in ROLES:
        fail = ["with-evidence"] if role.name == "extractor" else []
        store.add_steps(steps_for("m", role, CASES, fail=fail))

    m = ProfileMatrix.from_store(store, CASES, [m_model], ROLES, fingerprints("m"))

    assert m.stats[("m", "extractor")].case_success == {
        "with-evidence": False,
        "plain": True,  # no evidence: nothing to extract
        "no-answer": True,
    }
    assert m.stats[("m", "extractor")].step_rate.n == 1
    assert m.stats[("m", "responder")].case_success["no-answer"] is True
    result = m.evaluate(dict.fromkeys(ROLE_NAMES, "m"), Budget())
    assert result.case_success == (0.0, 1.0, 1.0)
    assert result.accuracy.mean == pytest.approx(2 / 3)


def test_from_store_reads_per_case_results_tokens_and_latency(store: ProfileStore) -> None:
    planner = get_role("planner")
    store.add_steps(
        steps_for("m", planner, CASES, fail=["plain"], tokens_in=100, tokens_out=10, latency_s=0.5)
    )
    m = ProfileMatrix.from_store(store, CASES, [candidate("m")], [planner], fingerprints("m"))

    stats = m.stats[("m", "planner")]
    assert stats.case_success == {"with-evidence": True, "plain": False, "no-answer": True}
    assert stats.step_rate == wilson_interval(5, 7)  # 3 + 2 + 2 steps, the 2 of plain fail
    # 7 steps over 3 cases
    assert stats.tokens_in_per_case == pytest.approx(700 / 3)
    assert stats.tokens_out_per_case == pytest.approx(70 / 3)
    assert stats.latency_per_case == pytest.approx(3.5 / 3)
    assert stats.source == "rolecast"
    assert m.case_ids == ("with-evidence", "plain", "no-answer")
    assert m.options("planner") == ["m"]


def test_steps_of_another_model_prompt_or_case_content_are_not_used(
    store: ProfileStore,
) -> None:
    planner = get_role("planner")
    edited = [c.model_copy(update={"instruction": c.instruction + "!"}) for c in CASES]
    store.add_steps(steps_for("m", planner, CASES))  # the current ones: all succeed
    # stale rows that all fail: other weights/settings, an older prompt, older case content
    store.add_steps(steps_for("m", planner, CASES, fingerprint="fp-old", fail=CASES_IDS))
    store.add_steps(steps_for("m", planner, CASES, prompt_version="planner-old", fail=CASES_IDS))
    store.add_steps(steps_for("m", planner, edited, fail=CASES_IDS))

    m = ProfileMatrix.from_store(store, CASES, [candidate("m")], [planner], fingerprints("m"))

    assert set(m.stats[("m", "planner")].case_success.values()) == {True}
    assert m.stats[("m", "planner")].step_rate.n == 7


STALE: dict[str, Callable[[Role], Iterable[StepRecord]]] = {
    "other-fingerprint": lambda role: steps_for("m", role, CASES, fingerprint="fp-other"),
    "other-prompt": lambda role: steps_for("m", role, CASES, prompt_version="planner-old.s1"),
    "case-content-changed": lambda role: steps_for(
        "m", role, [c.model_copy(update={"answer": "changed"}) for c in CASES]
    ),
    "one-step-missing": lambda role: list(steps_for("m", role, CASES))[1:],
}


@pytest.mark.parametrize(
    ("stored", "missing"),
    [
        ("other-fingerprint", 7),
        ("other-prompt", 7),
        ("case-content-changed", 7),
        ("one-step-missing", 1),
    ],
)
def test_missing_steps_raise_and_say_to_run_profile(
    store: ProfileStore, stored: str, missing: int
) -> None:
    planner = get_role("planner")
    store.add_steps(STALE[stored](planner))

    with pytest.raises(RolecastError) as excinfo:
        ProfileMatrix.from_store(store, CASES, [candidate("m")], [planner], fingerprints("m"))
    message = str(excinfo.value)
    assert "run `rolecast profile`" in message
    assert "'m'" in message and "'planner'" in message
    assert f"{missing} step(s)" in message


def test_imported_rows_stand_in_for_a_candidate_without_native_rows(
    store: ProfileStore,
) -> None:
    planner = get_role("planner")
    store.add_steps(imported(steps_for("ext", planner, CASES, fail=["plain"], tokens_in=50)))

    m = ProfileMatrix.from_store(store, CASES, [candidate("ext")], [planner], fingerprints("ext"))

    stats = m.stats[("ext", "planner")]
    assert stats.source == "import"
    assert stats.case_success == {"with-evidence": True, "plain": False, "no-answer": True}
    assert stats.tokens_in_per_case == pytest.approx(350 / 3)


def test_native_rows_win_over_imported_ones(store: ProfileStore) -> None:
    planner = get_role("planner")
    store.add_steps(steps_for("m", planner, CASES))
    store.add_steps(imported(steps_for("m", planner, CASES, fail=CASES_IDS)))

    m = ProfileMatrix.from_store(store, CASES, [candidate("m")], [planner], fingerprints("m"))

    assert m.stats[("m", "planner")].source == "rolecast"
    assert set(m.stats[("m", "planner")].case_success.values()) == {True}


def test_imported_rows_missing_a_case_raise(store: ProfileStore) -> None:
    planner = get_role("planner")
    rows = [r for r in steps_for("ext", planner, CASES) if r.case_id != "plain"]
    store.add_steps(imported(rows))

    with pytest.raises(RolecastError, match="run `rolecast profile`"):
        ProfileMatrix.from_store(store, CASES, [candidate("ext")], [planner], fingerprints("ext"))


def test_imported_rows_per_step_must_cover_every_step_of_the_case(store: ProfileStore) -> None:
    planner = get_role("planner")
    assert len(planner.steps(CASES[0])) == 3  # with-evidence: search, hours, finish
    rows = [
        r for r in steps_for("ext", planner, CASES)
        if not (r.case_id == "with-evidence" and r.step_index == 1)
    ]  # fmt: skip
    store.add_steps(imported(rows))

    with pytest.raises(RolecastError, match=r"'ext' on role 'planner': 1 step\(s\)"):
        ProfileMatrix.from_store(store, CASES, [candidate("ext")], [planner], fingerprints("ext"))


def test_one_imported_row_per_case_is_a_per_case_outcome(store: ProfileStore) -> None:
    planner = get_role("planner")
    rows = [r for r in steps_for("ext", planner, CASES, fail=["plain"]) if r.step_index == 0]
    store.add_steps(imported(rows))

    m = ProfileMatrix.from_store(store, CASES, [candidate("ext")], [planner], fingerprints("ext"))

    stats = m.stats[("ext", "planner")]
    assert stats.case_success == {"with-evidence": True, "plain": False, "no-answer": True}
    assert stats.step_rate.n == 3


def test_cases_no_role_is_scored_on_are_left_out(store: ProfileStore) -> None:
    caller = get_role("caller")
    no_call = CASES[0].model_copy(update={"id": "no-call", "steps": [], "answer": None})
    assert caller.steps(no_call) == []
    store.add_steps(steps_for("m", caller, CASES, fail=["plain"]))

    m = ProfileMatrix.from_store(
        store, [*CASES, no_call], [candidate("m")], [caller], fingerprints("m")
    )

    assert m.case_ids == tuple(CASES_IDS)  # not counted as a vacuous success
    assert m.evaluate({"caller": "m"}, Budget()).accuracy.mean == pytest.approx(2 / 3)


def test_a_metric_is_averaged_over_the_steps_that_record_it(store: ProfileStore) -> None:
    planner = get_role("planner")
    rows = []
    for r in steps_for("m", planner, CASES):
        finish = r.step_index == len(planner.steps(next(c for c in CASES if c.id == r.case_id))) - 1
        metrics = {"next_action": 1.0, "plan_acc": 1.0} | ({} if finish else {"act_em": 0.0})
        rows.append(dataclasses.replace(r, metrics=metrics))
    store.add_steps(rows)

    m = ProfileMatrix.from_store(store, CASES, [candidate("m")], [planner], fingerprints("m"))

    estimates = m.stats[("m", "planner")].metric_estimates
    n_steps = sum(len(planner.steps(c)) for c in CASES)
    assert estimates["plan_acc"].n == n_steps
    assert estimates["act_em"].n == n_steps - len(CASES)  # not on the finish steps
    assert estimates["act_em"].mean == 0.0  # the finish steps do not count as hits or misses


# which cases each candidate fails, per role: chosen so that the best coalition is mixed
OUTCOMES: dict[tuple[str, str], list[str]] = {
    ("a", "planner"): [],
    ("a", "caller"): ["no-answer"],
    ("a", "extractor"): ["with-evidence"],
    ("a", "responder"): ["plain"],
    ("b", "planner"): ["no-answer"],
    ("b", "caller"): [],
    ("b", "extractor"): [],
    ("b", "responder"): ["with-evidence", "plain"],
}


def fill(store: ProfileStore, name: str, *, as_import: bool) -> None:
    tokens = {"a": 30, "b": 70}[name]
    for role in ROLES:
        records = steps_for(
            name, role, CASES, fail=OUTCOMES[(name, role.name)], tokens_in=tokens, latency_s=0.1
        )
        store.add_steps(imported(records) if as_import else records)


def test_an_imported_results_set_searches_exactly_like_native_rows(tmp_path: Path) -> None:
    candidates = [
        candidate("a", memory_gb=1.0, prices=Prices(input_per_mtok=1.0)),
        candidate("b", memory_gb=2.0, prices=Prices(input_per_mtok=2.0)),
    ]
    results = []
    for label, import_b in (("native", False), ("imported", True)):
        with ProfileStore(f"sqlite:///{tmp_path / (label + '.db')}") as store:
            fill(store, "a", as_import=False)
            fill(store, "b", as_import=import_b)
            m = ProfileMatrix.from_store(store, CASES, candidates, ROLES, fingerprints("a", "b"))
        assert m.stats[("b", "caller")].source == ("import" if import_b else "rolecast")
        results.append(search(m, Budget()))

    native, via_import = results
    # hand-computed: plain always fails (neither responder passes it); with-evidence needs
    # extractor=b and responder=a; no-answer needs planner=a and caller=b. One coalition
    # passes both, 2 of 3 cases.
    assert native.best.assignment == {
        "planner": "a",
        "caller": "b",
        "extractor": "b",
        "responder": "a",
    }
    assert native.best.case_success == (1.0, 0.0, 1.0)
    assert via_import.best == native.best
    assert [e.assignment for e in via_import.ranked] == [e.assignment for e in native.ranked]
    assert [e.accuracy for e in via_import.ranked] == [e.accuracy for e in native.ranked]
    assert [e.cost_per_1k for e in via_import.ranked] == pytest.approx(
        [e.cost_per_1k for e in native.ranked]
    )
