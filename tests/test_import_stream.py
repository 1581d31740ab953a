"""Streaming import: bounded chunks, one transaction, repeats found in the database.

Run against every storage (SQLite file, PostgreSQL). The memory figure itself is in
bench/import_large.py (BENCHMARKS.md), not here.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from _helpers import cli
from sqlalchemy import create_engine, text

from rolecast.errors import ConfigError
from rolecast.profiles.imports import MAX_LISTED, ResultStream, import_results, read_results
from rolecast.storage import ProfileStore, StepRecord

STORAGE_MODES = ["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)]
HEADER = "candidate,role,case_id,score,success,step_index,tokens_in,tokens_out,latency_s\n"


@pytest.fixture(params=STORAGE_MODES)
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'profiles.db'}"
    return request.getfixturevalue("postgres_url")


def raw_steps(url: str) -> list[tuple[object, ...]]:
    """Every stored step as the database holds it (no id, run or timestamp)."""
    engine = create_engine(url)
    try:
        with engine.connect() as conn:
            rows = conn.execute(
                text(
                    "SELECT candidate, fingerprint, role, prompt_version, case_id, case_hash, "
                    "step_index, success, score, metrics, output, error, tokens_in, tokens_out, "
                    "latency_s, source FROM steps ORDER BY case_id, role, step_index"
                )
            )
            return [tuple(row) for row in rows]
    finally:
        engine.dispose()


def counts(url: str) -> tuple[int, int]:
    engine = create_engine(url)
    try:
        with engine.connect() as conn:
            runs = conn.execute(text("SELECT count(*) FROM runs")).scalar_one()
            steps = conn.execute(text("SELECT count(*) FROM steps")).scalar_one()
            return int(runs), int(steps)
    finally:
        engine.dispose()


def write_rows(path: Path, n: int, *, start: int = 0) -> None:
    lines = [
        f"m{i % 3},{('planner', 'caller')[i % 2]},case-{i:05d},{(i % 10) / 10},"
        f"{'' if i % 4 else 'true'},{i % 2},{i},{i % 7},{i / 100}\n"
        for i in range(start, start + n)
    ]
    path.write_text(HEADER + "".join(lines), encoding="utf-8")


def test_streamed_rows_are_stored_exactly_as_add_steps_stores_them(
    db_url: str, tmp_path: Path
) -> None:
    file = tmp_path / "results.csv"
    write_rows(file, 57)
    records, _ = read_results(file)
    metrics_step = dataclasses.replace(records[0], case_id="x", case_hash="id:x")
    metrics_step = dataclasses.replace(metrics_step, metrics={"plan_acc": 0.5}, error="boom")
    with ProfileStore(db_url) as store:  # chunks of 10: six chunks, the last one short
        summary = import_results(store, ResultStream(file), chunk_size=10)
        store.import_steps([(1, metrics_step)], label="one", config={})
        imported = store.steps()
        runs = store.runs()
    assert (summary.written, summary.n_skipped, summary.skipped) == (57, 0, ())
    reference = f"sqlite:///{tmp_path / 'reference.db'}"
    with ProfileStore(reference) as store:
        store.add_steps([*records, metrics_step])
        expected = store.steps()
    if db_url.startswith("sqlite"):  # byte for byte: same text for timestamps and JSON
        assert raw_steps(db_url) == raw_steps(reference)

    def comparable(step: StepRecord) -> StepRecord:
        return dataclasses.replace(step, run_id=None, created_at=None)

    assert [comparable(s) for s in imported] == [comparable(s) for s in expected]
    assert len(imported) == 58
    assert {step.run_id for step in imported if step.case_id != "x"} == {summary.run_id}
    assert [(r.label, r.status, r.n_generated) for r in runs] == [
        ("one", "done", 1),
        (f"import {file}", "done", 57),
    ]
    assert all(step.created_at and step.created_at.tzinfo == UTC for step in imported)
    assert runs[1].finished_at is not None and runs[1].finished_at >= runs[1].started_at


def test_repeated_keys_keep_the_first_line_and_are_listed_in_line_order(
    db_url: str, tmp_path: Path
) -> None:
    file = tmp_path / "results.csv"
    file.write_text(
        HEADER
        + "a,planner,c1,0.9,,0,,,\n"  # line 2: kept
        + "a,planner,c2,0.1,,0,,,\n"  # line 3: kept
        + "a,boss,c1,0.9,,0,,,\n"  # line 4: bad role
        + "a,planner,c1,0.2,,0,,,\n"  # line 5: repeats line 2
        + "a,planner,c1,0.3,,1,,,\n"  # line 6: another step, kept
        + "a,planner,c2,0.4,,0,,,\n"  # line 7: repeats line 3
        + "a,planner,c1,0.5,,0,,,\n"  # line 8: repeats line 2
    )
    with ProfileStore(db_url) as store:
        summary = import_results(store, ResultStream(file), chunk_size=2)
        steps = store.steps()
    assert [(s.case_id, s.step_index, s.score) for s in steps] == [
        ("c1", 0, 0.9),
        ("c1", 1, 0.3),
        ("c2", 0, 0.1),
    ]
    assert summary.written == 3
    assert summary.n_skipped == 4
    assert [str(s) for s in summary.skipped] == [
        "results.csv:4: role: Input should be 'planner', 'caller', 'extractor' or 'responder'",
        "results.csv:5: repeats candidate/role/case_id/step_index of line 2",
        "results.csv:7: repeats candidate/role/case_id/step_index of line 3",
        "results.csv:8: repeats candidate/role/case_id/step_index of line 2",
    ]
    # read_results (in memory) says the same about the same file
    assert [str(s) for s in read_results(file)[1]] == [str(s) for s in summary.skipped]


def test_a_problem_found_late_writes_nothing(db_url: str, tmp_path: Path) -> None:
    file = tmp_path / "results.csv"
    write_rows(file, 300)
    with file.open("ab") as handle:  # valid rows first, then a byte that is not UTF-8
        handle.write(b"m1,planner,caf\xe9,1,,0,,,\n")
    with ProfileStore(db_url) as store:
        store.add_steps(
            [StepRecord("kept", "fp", "planner", "v1", "c", "h", 0, True, 1.0)]
        )  # fmt: skip
        with pytest.raises(ConfigError, match=r"results\.csv: not UTF-8"):
            import_results(store, ResultStream(file), chunk_size=50)  # 6 chunks staged first
        assert [s.candidate for s in store.steps()] == ["kept"]
        assert store.runs() == []
        # the store works on, and the next import is whole
        write_rows(file, 120)
        assert import_results(store, ResultStream(file), chunk_size=50).written == 120
    assert counts(db_url) == (1, 121)


def test_an_exception_from_the_rows_rolls_back_everything(db_url: str) -> None:
    def rows() -> Iterator[tuple[int, StepRecord]]:
        for i in range(40):
            yield i + 2, StepRecord("m", "fp", "planner", "v1", f"c{i}", f"h{i}", 0, True, 1.0)
        raise ConfigError("unknown candidate m; nothing imported")  # e.g. a project check

    with ProfileStore(db_url) as store:
        with pytest.raises(ConfigError, match="nothing imported"):
            store.import_steps(rows(), label="x", config={}, chunk_size=7)
        assert store.steps() == [] and store.runs() == []


def test_reimport_replaces_steps_of_earlier_imports(db_url: str, tmp_path: Path) -> None:
    file = tmp_path / "results.csv"
    file.write_text(HEADER + "a,planner,c1,0.2,,0,,,\na,caller,c1,1,,0,,,\n")
    with ProfileStore(db_url) as store:
        first = import_results(store, ResultStream(file))
        file.write_text(HEADER + "a,planner,c1,0.9,,0,5,,\n")
        second = import_results(store, ResultStream(file))
        steps = store.steps()
    assert [(s.role, s.score, s.tokens_in, s.run_id) for s in steps] == [
        ("caller", 1.0, 0, first.run_id),
        ("planner", 0.9, 5, second.run_id),
    ]


def test_many_bad_rows_are_counted_and_the_first_ones_listed(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    file = tmp_path / "results.csv"
    bad = "".join(f"a,boss,c{i},1,,0,,,\n" for i in range(MAX_LISTED + 30))
    file.write_text(HEADER + bad + "a,planner,c1,1,,0,,,\n" + "a,planner,c1,0,,0,,,\n")
    code, out, err = cli(monkeypatch, capsys, "import", str(file))
    assert code == 0, err
    assert out.count("skipped results.csv:") == MAX_LISTED
    assert "… and 31 more" in out
    assert "imported 1 step(s)" in out and f"skipped {MAX_LISTED + 31}" in out


def test_a_file_without_a_valid_row_creates_no_database(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    file = tmp_path / "results.csv"
    file.write_text(HEADER + "a,boss,c1,1,,0,,,\n")
    db = tmp_path / "new.db"
    code, _, err = cli(monkeypatch, capsys, "import", str(file), "--db", str(db))
    assert code == 2
    assert "no valid result rows; first problem: results.csv:2: role:" in err
    assert not db.exists()


def test_a_stream_is_read_once(tmp_path: Path) -> None:
    file = tmp_path / "results.csv"
    write_rows(file, 3)
    stream = ResultStream(file)
    assert len(list(stream)) == 3
    with pytest.raises(ConfigError, match="read only once"):
        list(stream)


def test_created_at_is_now_for_every_imported_step(tmp_path: Path) -> None:
    file = tmp_path / "results.csv"
    write_rows(file, 5)
    before = datetime.now(UTC)
    with ProfileStore(f"sqlite:///{tmp_path / 'p.db'}") as store:
        import_results(store, ResultStream(file))
        stamps = {step.created_at for step in store.steps()}
    assert len(stamps) == 1
    (stamp,) = stamps
    assert stamp is not None and before <= stamp <= datetime.now(UTC)
