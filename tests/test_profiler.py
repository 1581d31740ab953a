"""Profiler bookkeeping with a scripted backend: reuse, failures, odd outputs, resume."""

from __future__ import annotations

import pytest
from _helpers import minimal_gguf

from rolecast.backends import ChatResult, Fault, fingerprint
from rolecast.backends.scripted import ScriptedBackend
from rolecast.errors import InfrastructureError
from rolecast.profiles.profiler import profile
from rolecast.profiles.roles import CallerRole, PlannerRole, ResponderRole
from rolecast.storage import ProfileStore, resolve_db_url
from rolecast.suite import build_suite, default_subset
from rolecast.types import Candidate

CASES = default_subset(build_suite(), 6)


def candidate(name: str = "scripted-a", **extra) -> Candidate:
    return Candidate(name=name, backend="scripted", model=name, memory_gb=0.1, **extra)


class Factory:
    """Creates scripted backends that answer every planner step correctly."""

    def __init__(self, responder=None):
        self.created: list[ScriptedBackend] = []
        self.responder = responder or (lambda request: '{"action": "finish"}')

    def __call__(self, cand: Candidate) -> ScriptedBackend:
        backend = ScriptedBackend(cand, responder=self.responder)
        self.created.append(backend)
        return backend


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def store(request, tmp_path):
    """The profiler's bookkeeping on every storage: a SQLite file and PostgreSQL."""
    if request.param == "postgres":
        url = request.getfixturevalue("postgres_url")
    else:
        url = resolve_db_url(str(tmp_path / "p.db"))
    with ProfileStore(url) as s:
        yield s


def expected_steps(role, cases):
    return sum(len(role.steps(c)) for c in cases)


def test_every_step_is_stored_with_tokens_and_latency(store):
    factory = Factory()
    outcome = profile(CASES, [candidate()], [PlannerRole()], store, backend_factory=factory)
    n = expected_steps(PlannerRole(), CASES)
    assert outcome.generated == n and outcome.reused == 0
    rows = store.steps(candidates=["scripted-a"])
    assert len(rows) == n
    assert all(r.tokens_in > 0 and r.run_id == outcome.run_id for r in rows)
    # "finish" is right exactly on the final planner step of each case
    assert sum(r.success for r in rows) == len(CASES)
    assert factory.created[0].closed


def test_second_run_generates_nothing_and_loads_no_model(store):
    roles = [PlannerRole(), CallerRole()]
    profile(CASES, [candidate()], roles, store, backend_factory=Factory())
    factory = Factory()
    outcome = profile(CASES, [candidate()], roles, store, backend_factory=factory)
    assert outcome.generated == 0
    assert outcome.reused == sum(expected_steps(r, CASES) for r in roles)
    assert factory.created == []  # every step cached: the model is never loaded
    assert store.latest_run().n_reused == outcome.reused


def test_changed_decoding_setting_invalidates_the_cache(store):
    profile(CASES, [candidate()], [PlannerRole()], store, backend_factory=Factory())
    other = candidate(temperature=0.7)
    assert fingerprint(other) != fingerprint(candidate())
    outcome = profile(CASES, [other], [PlannerRole()], store, backend_factory=Factory())
    assert outcome.generated == expected_steps(PlannerRole(), CASES)


def test_options_that_shape_the_output_are_part_of_the_fingerprint(tmp_path):
    weights = tmp_path / "model.gguf"
    weights.write_bytes(minimal_gguf())  # only its hash enters the fingerprint
    base = Candidate(name="local", backend="llamacpp", model=str(weights))
    assert fingerprint(base) == fingerprint(base.model_copy(update={"options": {}}))

    def llama(**options):
        return fingerprint(base.model_copy(update={"options": options}))

    # how llama.cpp splits a prompt changes its numbers; thread count and cache size do not
    assert llama(n_batch=64) != fingerprint(base)
    assert llama(n_threads=7, prefix_cache_size=4) == fingerprint(base)
    served = Candidate(name="served", backend="http", model="m", base_url="http://h:1/v1")

    def http(**options):
        return fingerprint(served.model_copy(update={"options": options}))

    assert http(json_mode="json_object") != fingerprint(served)
    assert http(concurrency=8, timeout_s=5) == fingerprint(served)


def test_generation_errors_and_garbage_are_scored_failures(store):
    outputs = iter([ChatResult(text="", error="boom"), "garbage", '{"action": 42}'])

    def responder(request):
        return next(outputs, '{"action": "finish"}')

    outcome = profile(
        CASES[:1], [candidate()], [PlannerRole()], store, backend_factory=Factory(responder)
    )
    rows = store.steps(candidates=["scripted-a"])
    assert outcome.errors == 1
    first = min(rows, key=lambda r: r.step_index)
    assert first.error == "boom" and not first.success and first.score == 0.0


def test_a_killed_run_resumes_where_it_stopped(store):
    calls = {"n": 0}

    def dies_after_five(request):
        calls["n"] += 1
        if calls["n"] > 5:
            raise KeyboardInterrupt
        return '{"action": "finish"}'

    with pytest.raises(KeyboardInterrupt):
        profile(
            CASES,
            [candidate()],
            [PlannerRole()],
            store,
            backend_factory=Factory(dies_after_five),
        )  # the default batch of a sequential backend is 1: every step committed at once
    assert len(store.steps()) == 5
    assert store.latest_run().status == "interrupted"
    outcome = profile(CASES, [candidate()], [PlannerRole()], store, backend_factory=Factory())
    assert outcome.reused == 5
    assert outcome.generated == expected_steps(PlannerRole(), CASES) - 5


def test_responder_uses_similarity_without_loading_minilm(store, monkeypatch):
    role = ResponderRole(similarity=lambda a, b: 1.0)
    outcome = profile(
        CASES, [candidate()], [role], store, backend_factory=Factory(lambda r: "done")
    )
    assert outcome.generated == expected_steps(role, CASES)
    # the injected similarity is the recorded cosine; the pass itself is the fact check
    assert all(r.metrics["cosine"] == 1.0 for r in store.steps())


def test_a_fault_is_never_stored_and_stops_only_that_candidate(store):
    calls = {"n": 0}

    def fails_after_three(request):
        calls["n"] += 1
        if calls["n"] > 3:
            return ChatResult(text="", error="ConnectError: refused", fault=Fault.CONNECT)
        return '{"action": "finish"}'

    broken = candidate("scripted-broken", base_url="http://user:pw@10.0.0.9:8000/v1")
    n = expected_steps(PlannerRole(), CASES)
    failing, working = Factory(fails_after_three), Factory()

    def factory(cand):
        return (failing if cand.name == "scripted-broken" else working)(cand)

    with pytest.raises(InfrastructureError) as info:
        profile(CASES, [broken, candidate()], [PlannerRole()], store, backend_factory=factory)
    message = str(info.value)
    assert "candidate scripted-broken at http://10.0.0.9:8000/v1: connect fault" in message
    assert "pw" not in message and f"{n - 3} step(s) not profiled" in message
    assert info.value.exit_code == 4
    assert len(store.steps(candidates=["scripted-broken"])) == 3  # what succeeded is kept
    assert len(store.steps(candidates=["scripted-a"])) == n  # the other candidate ran
    assert store.latest_run().status == "failed"
    assert calls["n"] == 4  # one faulted request, then that server is asked nothing more

    outcome = profile(CASES, [broken], [PlannerRole()], store, backend_factory=Factory())
    assert (outcome.generated, outcome.reused) == (n - 3, 3)
