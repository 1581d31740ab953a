"""The store's end-to-end agent runs, against every storage (SQLite file, PostgreSQL)."""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime

from test_storage import store, store_url  # noqa: F401 - the contract suite's fixtures

from rolecast.storage import AgentRunRecord, ProfileStore


def agent_run(case: str = "c1", key: str = "k1", success: bool = True) -> AgentRunRecord:
    return AgentRunRecord(
        coalition_key=key,
        case_hash=f"hash-{case}",
        case_id=case,
        assignment={"planner": "a", "responder": "b"},
        fingerprints={"planner": "fp-a", "responder": "fp-b"},
        prompt_versions={"planner": "p1", "responder": "r1"},
        success=success,
        verdict={"success": success, "answer_cosine": 0.75, "planner_pass": True},
        judge_version="j1",
        answer="16.09 km",
        calls=[["convert_units", {"value": 10, "from_unit": "mi", "to_unit": "km"}]],
        stopped="finish",
        n_steps=5,
        tokens_in=812,
        tokens_out=40,
        latency_s=3.25,
        tools="builtin",
        created_at=datetime(2026, 12, 2, 18, 0, tzinfo=UTC),
    )


def test_round_trip_of_every_field(store: ProfileStore) -> None:  # noqa: F811
    record = agent_run()
    assert store.add_agent_run(record)
    assert store.agent_runs() == [record]


def test_a_stored_key_is_never_written_twice(store: ProfileStore) -> None:  # noqa: F811
    assert store.add_agent_run(agent_run(success=True))
    assert not store.add_agent_run(dataclasses.replace(agent_run(), answer="other"))
    (stored,) = store.agent_runs()
    assert stored.answer == "16.09 km"
    assert store.add_agent_run(agent_run(key="k2"))  # another coalition, same case
    assert store.add_agent_run(agent_run(case="c2"))  # same coalition, another case
    assert len(store.agent_runs()) == 3


def test_filters_and_order(store: ProfileStore) -> None:  # noqa: F811
    for key, case in (("k1", "c1"), ("k2", "c1"), ("k1", "c2")):
        store.add_agent_run(agent_run(case, key))
    assert [(r.coalition_key, r.case_id) for r in store.agent_runs(coalition_keys=["k1"])] == [
        ("k1", "c1"),
        ("k1", "c2"),
    ]
    assert [r.coalition_key for r in store.agent_runs(case_hashes=["hash-c1"])] == ["k1", "k2"]
    assert store.agent_runs(coalition_keys=[]) == []


def test_rejudge_replaces_only_the_verdict(store: ProfileStore) -> None:  # noqa: F811
    store.add_agent_run(agent_run(success=True))
    store.rejudge_agent_run("k1", "hash-c1", {"success": False, "facts": 0.2}, "j2")
    (stored,) = store.agent_runs()
    assert not stored.success and stored.verdict == {"success": False, "facts": 0.2}
    assert stored.judge_version == "j2" and stored.answer == "16.09 km"


def test_runs_survive_reopening(store_url: str) -> None:  # noqa: F811
    with ProfileStore(store_url) as first:
        first.add_agent_run(agent_run())
    with ProfileStore(store_url) as second:
        assert second.agent_runs() == [agent_run()]
