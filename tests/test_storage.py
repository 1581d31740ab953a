"""The profile store contract, run against every storage (SQLite file, PostgreSQL)."""

from __future__ import annotations

import dataclasses
import os
import random
import signal
import socket
import sqlite3
import subprocess
import sys
import threading
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from rolecast.errors import StorageError
from rolecast.storage import ProfileStore, RunRecord, StepKey, StepRecord, resolve_db_url
from rolecast.storage.store import mask_url

REPO = Path(__file__).resolve().parents[1]
STORAGE_MODES = ["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)]


@pytest.fixture(params=STORAGE_MODES)
def store_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """A URL to an empty database of each storage kind."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'profiles.db'}"
    return request.getfixturevalue("postgres_url")


@pytest.fixture
def store(store_url: str) -> Iterator[ProfileStore]:
    with ProfileStore(store_url) as opened:
        yield opened


@pytest.fixture
def sqlite_path(tmp_path: Path) -> Path:
    return tmp_path / "profiles.db"


def step(
    case_id: str = "case-1",
    step_index: int = 0,
    *,
    candidate: str = "gemma3-270m",
    role: str = "planner",
    fingerprint: str = "fp-gemma",
    prompt_version: str = "v1",
    score: float = 0.5,
    **fields: object,
) -> StepRecord:
    return StepRecord(
        candidate=candidate,
        fingerprint=fingerprint,
        role=role,
        prompt_version=prompt_version,
        case_id=case_id,
        case_hash=f"hash-{case_id}",
        step_index=step_index,
        success=score >= 0.5,
        score=score,
        **fields,  # type: ignore[arg-type]
    )


def assert_one_line_without(message: str, secret: str) -> None:
    assert "\n" not in message
    assert secret not in message
    assert "ROLECAST_DB" in message


# -- the contract, for every storage -----------------------------------------------------


class TestContract:
    def test_round_trip_of_every_field(self, store: ProfileStore) -> None:
        run_id = store.start_run("profile", {"roles": ["planner"], "seed": 7, "nested": {"a": 1}})
        record = StepRecord(
            candidate="qwen2.5-0.5b",
            fingerprint="sha256:abc|temp=0",
            role="caller",
            prompt_version="caller-v3",
            case_id="weather/03",
            case_hash="5f0e",
            step_index=2,
            success=False,
            score=0.1 + 0.2,
            metrics={"args_valid": 1.0, "name_match": 0.0, "latency_ratio": 1e-9},
            output='{"tool": "get_weather", "city": "Zürich"}\n— ünïcødé ✓' + "x" * 50_000,
            error="json: trailing comma",
            tokens_in=1234,
            tokens_out=56,
            latency_s=1.25,
            source="import:bfcl",
            run_id=run_id,
            created_at=datetime(2024, 5, 6, 7, 8, 9, 123456, tzinfo=timezone(timedelta(hours=2))),
        )
        store.add_step(record)

        (got,) = store.steps()
        assert got == record
        assert got.created_at is not None
        assert got.created_at.utcoffset() == timedelta(0)
        assert got.created_at == datetime(2024, 5, 6, 5, 8, 9, 123456, tzinfo=UTC)
        assert store.get_step(record.key) == record

    def test_defaults_round_trip_and_created_at_is_filled(self, store: ProfileStore) -> None:
        record = step()
        before = datetime.now(UTC)
        store.add_step(record)
        (got,) = store.steps()
        assert got.created_at is not None
        assert before - timedelta(seconds=5) <= got.created_at <= datetime.now(UTC)
        assert dataclasses.replace(got, created_at=None) == record
        assert got.metrics == {} and got.error is None and got.run_id is None

    def test_naive_created_at_is_taken_as_utc(self, store: ProfileStore) -> None:
        store.add_step(step(created_at=datetime(2024, 1, 2, 3, 4, 5)))
        (got,) = store.steps()
        assert got.created_at == datetime(2024, 1, 2, 3, 4, 5, tzinfo=UTC)

    def test_returns_frozen_records(self, store: ProfileStore) -> None:
        store.add_step(step())
        store.start_run("r", {})
        (got,) = store.steps()
        assert type(got) is StepRecord
        assert type(store.latest_run()) is RunRecord
        with pytest.raises(dataclasses.FrozenInstanceError):
            got.score = 1.0  # type: ignore[misc]

    def test_add_step_replaces_a_stored_key(self, store: ProfileStore) -> None:
        store.add_step(step(score=0.2, output="old", error="boom", metrics={"a": 0.0}))
        newer = step(score=0.9, output="new", error=None, metrics={"b": 1.0}, tokens_out=9)
        store.add_step(newer)

        (got,) = store.steps()
        assert dataclasses.replace(got, created_at=None) == newer
        assert store.candidates() == [("gemma3-270m", "planner", 1)]

    def test_add_steps_is_bulk_upsert_and_last_duplicate_wins(self, store: ProfileStore) -> None:
        store.add_step(step("a", score=0.1))
        written = store.add_steps(
            iter([step("a", score=0.7), step("b"), step("b", score=0.8), step("c")])
        )
        assert written == 3
        scores = {s.case_id: s.score for s in store.steps()}
        assert scores == {"a": 0.7, "b": 0.8, "c": 0.5}
        assert store.add_steps([]) == 0

    def test_existing_keys_is_scoped_to_fingerprint_role_and_prompt(
        self, store: ProfileStore
    ) -> None:
        store.add_steps(
            [
                step("a", 0),
                step("a", 1),
                step("b", 0),
                step("c", 0, role="caller"),
                step("d", 0, fingerprint="fp-other"),
                step("e", 0, prompt_version="v2"),
            ]
        )
        assert store.existing_keys("fp-gemma", "planner", "v1") == {
            ("hash-a", 0),
            ("hash-a", 1),
            ("hash-b", 0),
        }
        assert store.existing_keys("fp-gemma", "caller", "v1") == {("hash-c", 0)}
        assert store.existing_keys("fp-none", "planner", "v1") == set()
        # the same in one query for several models, grouped by (fingerprint, role, prompt)
        assert store.existing_keys_many(["fp-gemma", "fp-other", "fp-none"]) == {
            ("fp-gemma", "planner", "v1"): {("hash-a", 0), ("hash-a", 1), ("hash-b", 0)},
            ("fp-gemma", "caller", "v1"): {("hash-c", 0)},
            ("fp-gemma", "planner", "v2"): {("hash-e", 0)},
            ("fp-other", "planner", "v1"): {("hash-d", 0)},
        }
        assert store.existing_keys_many([]) == {}

    def test_get_step_misses_return_none(self, store: ProfileStore) -> None:
        store.add_step(step())
        assert store.get_step(StepKey("fp-gemma", "planner", "v1", "hash-case-1", 1)) is None
        assert store.get_step(StepKey("fp-gemma", "planner", "v1", "hash-case-1", 0)) is not None

    def test_steps_filters_and_order(self, store: ProfileStore) -> None:
        records = [
            step("c2", 1, candidate="b-model", role="caller", fingerprint="fp-b"),
            step("c1", 0, candidate="b-model", role="caller", fingerprint="fp-b"),
            step("c2", 0, candidate="b-model", role="caller", fingerprint="fp-b"),
            step("c1", 0, candidate="a-model", role="responder", source="import"),
            step("c1", 0, candidate="a-model", role="caller", prompt_version="v2"),
            step("c1", 1, candidate="a-model", role="caller", prompt_version="v2"),
        ]
        store.add_steps(records)

        def ids(found: list[StepRecord]) -> list[tuple[str, str, str, int]]:
            return [(s.candidate, s.role, s.case_id, s.step_index) for s in found]

        assert ids(store.steps()) == [
            ("a-model", "caller", "c1", 0),
            ("a-model", "caller", "c1", 1),
            ("a-model", "responder", "c1", 0),
            ("b-model", "caller", "c1", 0),
            ("b-model", "caller", "c2", 0),
            ("b-model", "caller", "c2", 1),
        ]
        assert len(store.steps(candidates=["b-model"])) == 3
        assert len(store.steps(candidates="b-model")) == 3  # a bare string is one name
        assert len(store.steps(roles=["caller"])) == 5
        assert len(store.steps(roles=["caller", "responder"])) == 6
        assert len(store.steps(fingerprints=["fp-b"])) == 3
        assert len(store.steps(prompt_versions=["v2"])) == 2
        assert ids(store.steps(case_ids=["c2"])) == [
            ("b-model", "caller", "c2", 0),
            ("b-model", "caller", "c2", 1),
        ]
        assert ids(store.steps(source="import")) == [("a-model", "responder", "c1", 0)]
        assert ids(store.steps(candidates=["a-model"], roles=["caller"], case_ids=["c1"])) == [
            ("a-model", "caller", "c1", 0),
            ("a-model", "caller", "c1", 1),
        ]
        assert store.steps(candidates=[]) == []
        assert store.steps(candidates=["nobody"]) == []

    def test_candidates_summary(self, store: ProfileStore) -> None:
        store.add_steps(
            [
                step("a", candidate="m2", role="caller"),
                step("b", candidate="m2", role="caller"),
                step("a", candidate="m1", role="planner", fingerprint="fp-1"),
            ]
        )
        assert store.candidates() == [("m1", "planner", 1), ("m2", "caller", 2)]

    def test_step_outcomes_are_the_steps_light(self, store: ProfileStore) -> None:
        """The same rows as steps(), in its order, with what aggregation reads of each."""
        run_id = store.start_run("profile", {})
        records = [
            step("c2", 1, candidate="a", role="caller", tokens_in=7, latency_s=0.25,
                 metrics={"arg_f1": 0.5, "valid_json": 1.0}, output="model text", run_id=run_id),
            step("c1", 0, candidate="a", role="caller", score=0.0, metrics={"arg_f1": 0.0},
                 error="no JSON", tokens_out=3),
            step("c2", 0, candidate="a", role="caller", metrics={"arg_f1": 0.5, "valid_json": 1.0}),
            step("c1", 0, candidate="a", role="planner", fingerprint="import:a",
                 source="import:r.csv", output="given caller", latency_s=1.5),
            step("c3", 0, candidate="a", role="planner", fingerprint="import:a",
                 source="import:r.csv", output="not observed"),
            step("c1", 0, candidate="b", role="caller", fingerprint="fp-b"),
            step("c1", 0, candidate="c", role="caller", fingerprint="fp-c"),
        ]  # fmt: skip
        store.add_steps(records)
        light = store.step_outcomes(candidates=["a", "b"], roles=["caller", "planner"])
        full = store.steps(candidates=["a", "b"], roles=["caller", "planner"])
        assert len(light) == len(full) == 6
        for got, want in zip(light, full, strict=True):
            assert got.candidate == want.candidate and got.role == want.role
            assert (got.fingerprint, got.prompt_version) == (want.fingerprint, want.prompt_version)
            assert (got.case_id, got.case_hash, got.step_index) == (
                want.case_id, want.case_hash, want.step_index
            )  # fmt: skip
            assert got.success is want.success
            assert dict(got.metrics) == want.metrics
            assert (got.tokens_in, got.tokens_out, got.latency_s) == (
                want.tokens_in, want.tokens_out, want.latency_s
            )  # fmt: skip
            assert (got.source, got.run_id) == (want.source, want.run_id)
            # an imported step's observation is kept; a model's own output is not read
            assert got.output == (want.output if want.source.startswith("import") else "")
        assert [r.output for r in light if r.source != "rolecast"] == [
            "given caller", "not observed"
        ]  # fmt: skip
        with pytest.raises(TypeError):
            light[0].metrics["arg_f1"] = 1.0  # type: ignore[index]
        assert store.step_outcomes(candidates=["a"], roles=[]) == []
        assert store.step_outcomes(candidates=["nobody"], roles=["caller"]) == []

    def test_step_totals_sum_every_step_of_a_pair(self, store: ProfileStore) -> None:
        store.add_steps(
            [
                step("c1", 0, candidate="a", role="caller", tokens_in=10, tokens_out=2,
                     latency_s=0.5),
                step("c1", 1, candidate="a", role="caller", tokens_in=5, latency_s=0.25),
                step("c1", 0, candidate="a", role="caller", prompt_version="v0", tokens_in=1,
                     latency_s=4.0),  # another prompt: counted too (an upper bound)
                step("c1", 0, candidate="a", role="planner", tokens_out=9),
                step("c1", 0, candidate="b", role="caller", fingerprint="fp-b", tokens_in=3),
            ]
        )  # fmt: skip
        totals = store.step_totals(candidates=["a", "b", "nobody"], roles=["caller"])
        assert totals == {("a", "caller"): (16, 2, 4.75), ("b", "caller"): (3, 0, 0.0)}
        assert store.step_totals(candidates=["a"], roles=["planner"]) == {
            ("a", "planner"): (0, 9, 0.0)
        }

    def test_runs_newest_first_with_limit_and_finish(self, store: ProfileStore) -> None:
        assert store.latest_run() is None
        assert store.runs() == []
        first = store.start_run("first", {"k": [1, 2], "nested": {"x": None}})
        second = store.start_run("second", {})
        third = store.start_run("third", {})
        store.finish_run(second, n_generated=10, n_reused=3, status="interrupted")

        assert [r.id for r in store.runs()] == [third, second, first]
        assert [r.label for r in store.runs(limit=2)] == ["third", "second"]
        latest = store.latest_run()
        assert latest is not None and latest.id == third
        assert latest.status == "running" and latest.finished_at is None
        assert latest.n_generated == 0 and latest.n_reused == 0

        finished = store.runs()[1]
        assert finished.status == "interrupted"
        assert (finished.n_generated, finished.n_reused) == (10, 3)
        assert finished.finished_at is not None and finished.finished_at >= finished.started_at
        assert finished.started_at.utcoffset() == timedelta(0)
        assert store.runs()[2].config == {"k": [1, 2], "nested": {"x": None}}

        store.finish_run(first, n_generated=1, n_reused=0)
        assert store.runs()[2].status == "done"

    def test_finish_unknown_run_is_an_error(self, store: ProfileStore) -> None:
        with pytest.raises(StorageError, match="no run with id 999"):
            store.finish_run(999, n_generated=0, n_reused=0)

    def test_step_of_unknown_run_is_an_error(self, store: ProfileStore) -> None:
        with pytest.raises(StorageError) as info:
            store.add_step(step(run_id=424242))
        assert "\n" not in str(info.value)
        assert store.steps() == []

    def test_steps_survive_reopening(self, store_url: str) -> None:
        with ProfileStore(store_url) as first:
            run_id = first.start_run("r", {})
            first.add_steps([step("a"), step("b")])
        with ProfileStore(store_url) as second:
            assert [s.case_id for s in second.steps()] == ["a", "b"]
            run = second.latest_run()
            assert run == RunRecord(
                run_id, "r", run.started_at, None, "running", 0, 0, {},
                pid=os.getpid(), host=socket.gethostname(), heartbeat_at=run.heartbeat_at,
            )  # fmt: skip
            assert run.heartbeat_at is not None and run.heartbeat_at >= run.started_at

    def test_killed_run_loses_no_stored_step(self, store_url: str) -> None:
        script = """
import os, signal, sys
from rolecast.storage import ProfileStore, StepRecord
store = ProfileStore(sys.argv[1])
run = store.start_run("doomed", {})
for i in range(5):
    store.add_step(StepRecord("m", "fp", "planner", "v1", f"c{i}", f"h{i}", 0, True, 1.0,
                              run_id=run))
os.kill(os.getpid(), signal.SIGKILL)
"""
        proc = subprocess.run(
            [sys.executable, "-c", script, store_url],
            cwd=REPO,
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert proc.returncode == -signal.SIGKILL, proc.stderr

        with ProfileStore(store_url) as reopened:
            assert [s.case_id for s in reopened.steps()] == [f"c{i}" for i in range(5)]
            assert reopened.existing_keys("fp", "planner", "v1") == {(f"h{i}", 0) for i in range(5)}
            run = reopened.latest_run()
            assert run is not None and run.label == "doomed" and run.status == "running"
            # its process is gone: the next run to start marks it interrupted
            reopened.start_run("next", {})
            doomed = reopened.runs()[1]
            assert doomed.label == "doomed" and doomed.status == "interrupted"
            assert doomed.finished_at == doomed.heartbeat_at  # its last sign of life

    def test_kill_at_random_moments_keeps_a_consistent_store(self, store_url: str) -> None:
        """SIGKILL a writer at random moments, inside writes too: steps are a prefix, no
        duplicates, every killed run ends up ``interrupted``."""
        script = """
import sys
from rolecast.storage import ProfileStore, StepRecord
store = ProfileStore(sys.argv[1])
run = store.start_run("random-kill", {})
print("ready", flush=True)
for i in range(100000):
    store.add_step(StepRecord("m", "fp", "planner", "v1", f"c{i:06d}", f"h{i:06d}", 0, True,
                              1.0, run_id=run))
"""
        rng = random.Random(13)
        kills = 4
        for _ in range(kills):
            proc = subprocess.Popen(
                [sys.executable, "-c", script, store_url],
                cwd=REPO,
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                text=True,
            )
            assert proc.stdout is not None and proc.stdout.readline() == "ready\n"
            threading.Event().wait(rng.uniform(0.05, 0.6))
            proc.kill()
            _, err = proc.communicate(timeout=60)
            assert proc.returncode == -signal.SIGKILL, err
        with ProfileStore(store_url) as reopened:
            ids = [s.case_id for s in reopened.steps()]
            assert ids == [f"c{i:06d}" for i in range(len(ids))]  # a prefix, each once
            assert len(ids) > 0
            # each start marked the run killed before it; the last is marked now
            assert reopened.reap_stale_runs() == [kills]
            assert [run.status for run in reopened.runs()] == ["interrupted"] * kills
        if store_url.startswith("sqlite"):
            with sqlite3.connect(make_url(store_url).database) as conn:
                assert conn.execute("PRAGMA integrity_check").fetchone() == ("ok",)

    def test_two_writers_on_one_database_leave_no_duplicates(self, store_url: str) -> None:
        script = """
import sys
from rolecast.storage import ProfileStore, StepRecord
store = ProfileStore(sys.argv[1])
run = store.start_run("writer " + sys.argv[2], {})
for i in range(40):
    store.add_step(StepRecord("m", "fp", "planner", "v1", f"c{i:02d}", f"h{i:02d}", 0, True,
                              float(sys.argv[2]), run_id=run))
store.finish_run(run, n_generated=40, n_reused=0)
"""
        ProfileStore(store_url).close()  # both find the schema made: they race on writes only
        writers = [
            subprocess.Popen(
                [sys.executable, "-c", script, store_url, str(score)],
                cwd=REPO,
                stderr=subprocess.PIPE,
                text=True,
            )
            for score in (0.25, 0.75)
        ]
        for writer in writers:
            _, err = writer.communicate(timeout=120)
            assert writer.returncode == 0, err
        with ProfileStore(store_url) as reopened:
            rows = reopened.steps()
            assert [r.case_id for r in rows] == [f"c{i:02d}" for i in range(40)]
            assert {r.score for r in rows} <= {0.25, 0.75}
            assert [r.status for r in reopened.runs()] == ["done", "done"]

    def test_stale_runs_by_pid_or_heartbeat(self, store_url: str) -> None:
        with ProfileStore(store_url) as store:
            alive = store.start_run("alive here", {})
            dead = store.start_run("dead here", {})
            far_fresh = store.start_run("fresh elsewhere", {})
            far_stale = store.start_run("stale elsewhere", {})
            engine = create_engine(store_url)
            old = datetime.now(UTC) - timedelta(hours=2)
            with engine.begin() as conn:
                gone = _dead_pid()
                conn.execute(text(f"UPDATE runs SET pid = {gone} WHERE id = {dead}"))
                conn.execute(text(f"UPDATE runs SET host = 'elsewhere' WHERE id = {far_fresh}"))
                conn.execute(
                    text("UPDATE runs SET host = 'elsewhere', heartbeat_at = :t WHERE id = :i"),
                    {"t": old.replace(tzinfo=None) if "sqlite" in store_url else old,
                     "i": far_stale},
                )  # fmt: skip
            engine.dispose()
            assert sorted(store.reap_stale_runs()) == [dead, far_stale]
            status = {run.id: run.status for run in store.runs()}
            assert status == {alive: "running", dead: "interrupted", far_fresh: "running",
                              far_stale: "interrupted"}  # fmt: skip
            # a heartbeat older than the limit is stale whatever the host, even this one
            assert sorted(store.reap_stale_runs(stale_after_s=0.0)) == [alive, far_fresh]

    def test_a_stored_step_is_a_heartbeat(self, store_url: str) -> None:
        with ProfileStore(store_url) as store:
            run_id = store.start_run("r", {})
            before = store.latest_run()
            store.add_step(step("a", run_id=run_id))
            after = store.latest_run()
            assert before.heartbeat_at is not None and after.heartbeat_at is not None
            assert after.heartbeat_at > before.heartbeat_at

    def test_second_store_reads_while_another_writes(self, store_url: str) -> None:
        n_steps = 40
        errors: list[BaseException] = []
        with ProfileStore(store_url) as writer, ProfileStore(store_url) as reader:

            def write() -> None:
                try:
                    for i in range(n_steps):
                        writer.add_step(step(f"c{i:02d}"))
                except BaseException as exc:  # reported below, on the main thread
                    errors.append(exc)

            thread = threading.Thread(target=write)
            thread.start()
            seen: list[int] = []
            while thread.is_alive():
                seen.append(len(reader.steps(roles=["planner"])))
                reader.existing_keys("fp-gemma", "planner", "v1")
            thread.join()
            assert errors == []
            assert seen == sorted(seen)  # a reader only ever sees committed, growing data
            assert len(reader.steps()) == n_steps

    def test_database_of_a_newer_rolecast_is_refused(self, store_url: str) -> None:
        # the schema version is Alembic's revision now (tests/test_migrations.py has more)
        ProfileStore(store_url).close()
        engine = create_engine(store_url)
        with engine.begin() as conn:
            conn.execute(text("UPDATE rolecast_alembic_version SET version_num = '9999'"))
        engine.dispose()
        with pytest.raises(StorageError, match=r"newer rolecast \(revision 9999\)"):
            ProfileStore(store_url)

    def test_closed_store_refuses_work(self, store_url: str) -> None:
        opened = ProfileStore(store_url)
        opened.close()
        opened.close()  # idempotent
        with pytest.raises(StorageError, match="closed"):
            opened.steps()


# -- SQLite specifics ---------------------------------------------------------------------


def test_sqlite_runs_in_wal_mode(sqlite_path: Path) -> None:
    ProfileStore(f"sqlite:///{sqlite_path}").close()
    with sqlite3.connect(sqlite_path) as raw:
        assert raw.execute("PRAGMA journal_mode").fetchone() == ("wal",)
    raw.close()


def test_sqlite_reader_is_not_blocked_and_writer_waits_for_a_held_lock(sqlite_path: Path) -> None:
    url = f"sqlite:///{sqlite_path}"
    with ProfileStore(url) as store:
        store.add_step(step("a", score=0.5))
        other = sqlite3.connect(sqlite_path, isolation_level=None)
        try:
            other.execute("BEGIN IMMEDIATE")  # another process is mid-write
            other.execute("UPDATE steps SET score = 0.0")
            # a reader is not blocked and sees the committed data only
            assert [s.score for s in store.steps()] == [0.5]
            # a writer (another store) waits for the lock (busy timeout) instead of failing
            done = threading.Event()
            errors: list[BaseException] = []
            with ProfileStore(url) as writer:

                def write() -> None:
                    try:
                        writer.add_step(step("b"))
                    except BaseException as exc:  # reported below, on the main thread
                        errors.append(exc)
                    done.set()

                thread = threading.Thread(target=write)
                thread.start()
                assert not done.wait(0.5)  # still waiting for the lock
                other.execute("COMMIT")
                thread.join(timeout=30)
            assert done.is_set() and errors == []
        finally:
            other.close()
        assert {s.case_id: s.score for s in store.steps()} == {"a": 0.0, "b": 0.5}


def test_unwritable_sqlite_directory_is_a_storage_error(tmp_path: Path) -> None:
    blocker = tmp_path / "not-a-dir"
    blocker.write_text("a file where a directory should be")
    with pytest.raises(StorageError) as info:
        ProfileStore(resolve_db_url(str(blocker / "sub" / "profiles.db")))
    message = str(info.value)
    assert "cannot create directory" in message and "not-a-dir" in message
    assert_one_line_without(message, "Traceback")


def test_sqlite_path_that_is_a_directory_is_a_storage_error(tmp_path: Path) -> None:
    with pytest.raises(StorageError) as info:
        ProfileStore(resolve_db_url(str(tmp_path)))
    assert "cannot open database" in str(info.value)
    assert_one_line_without(str(info.value), "Traceback")


# -- URLs and errors ----------------------------------------------------------------------


def test_resolve_db_url_forms(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    assert resolve_db_url("/data/p.db") == "sqlite:////data/p.db"
    assert resolve_db_url("rel/p.db") == f"sqlite:///{tmp_path}/rel/p.db"
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    assert resolve_db_url("~/p.db") == f"sqlite:///{tmp_path}/home/p.db"
    assert resolve_db_url("sqlite:///x.db") == "sqlite:///x.db"
    assert resolve_db_url("postgresql://u:p@h/db") == "postgresql+psycopg://u:p@h/db"
    assert resolve_db_url("postgres://u@h:5433/db") == "postgresql+psycopg://u@h:5433/db"
    assert resolve_db_url("postgresql+psycopg://u@h/db") == "postgresql+psycopg://u@h/db"


def test_resolve_db_url_defaults(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ROLECAST_DB", "postgresql://u@h/db")
    assert resolve_db_url(None) == "postgresql+psycopg://u@h/db"
    assert resolve_db_url(str(tmp_path / "explicit.db")) == f"sqlite:///{tmp_path}/explicit.db"

    monkeypatch.delenv("ROLECAST_DB")
    assert resolve_db_url(None) == f"sqlite:///{tmp_path}/xdg-data/rolecast/rolecast.db"

    monkeypatch.delenv("XDG_DATA_HOME")
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    expected = tmp_path / "home" / ".local" / "share" / "rolecast" / "rolecast.db"
    assert resolve_db_url(None) == f"sqlite:///{expected}"
    with ProfileStore(resolve_db_url(None)) as opened:  # creates the directories
        opened.add_step(step())
    assert expected.is_file()


def test_default_database_is_redirected_to_tmp_path(tmp_path: Path) -> None:
    with ProfileStore(resolve_db_url(None)) as opened:
        opened.add_step(step())
    assert (tmp_path / "rolecast.db").is_file()


def test_unreachable_server_is_one_line_without_password() -> None:
    url = resolve_db_url("postgresql://rolecast:s3cret-pw@127.0.0.1:1/nowhere")
    with pytest.raises(StorageError) as info:
        ProfileStore(url)
    message = str(info.value)
    assert message.startswith("cannot open database postgresql+psycopg://rolecast:***@127.0.0.1:1")
    assert "server running" in message
    assert_one_line_without(message, "s3cret-pw")


def test_unknown_scheme_is_a_storage_error() -> None:
    with pytest.raises(StorageError) as info:
        ProfileStore("nosuchdb://user:hunter22@host/db")
    assert_one_line_without(str(info.value), "hunter22")


def test_urls_are_shown_with_the_password_masked(tmp_path: Path) -> None:
    assert mask_url("postgresql+psycopg://u:pw@h:5432/db") == "postgresql+psycopg://u:***@h:5432/db"
    assert "pw" not in mask_url("not a url://u:pw@h")
    with ProfileStore(f"sqlite:///{tmp_path / 'x.db'}") as opened:
        assert repr(opened) == f"ProfileStore('sqlite:///{tmp_path / 'x.db'}')"
        assert opened.url == f"sqlite:///{tmp_path / 'x.db'}"


@pytest.mark.postgres
def test_wrong_password_is_one_line_without_password(postgres_server_url: str) -> None:
    url = make_url(postgres_server_url).set(password="wr0ng-Passw0rd")
    with pytest.raises(StorageError) as info:
        ProfileStore(url.render_as_string(hide_password=False))
    message = str(info.value)
    assert "cannot open database" in message
    assert_one_line_without(message, "wr0ng-Passw0rd")
    real = make_url(postgres_server_url).password
    assert real is None or real not in message


def _dead_pid() -> int:
    """The id of a process that has exited (and been reaped) on this machine."""
    proc = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"],
                          capture_output=True, text=True, check=True)  # fmt: skip
    return int(proc.stdout)
