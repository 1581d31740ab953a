"""Alembic migrations of the profile store, on SQLite and PostgreSQL.

A database of rolecast 0.1 (built here from the frozen copy of its tables in
``_old_schema.py``) upgrades in place with every step and run intact; a database written
by a newer rolecast is refused with one line; the migrated schema equals the ORM's.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
import threading
import time
import tomllib
from datetime import UTC
from fnmatch import fnmatch
from pathlib import Path

import pytest
from _old_schema import WRITTEN_AT, make_old_database, old_steps
from alembic import command
from alembic.script import ScriptDirectory
from sqlalchemy import create_engine, inspect, text

from rolecast.errors import StorageError
from rolecast.storage import ProfileStore, StepRecord
from rolecast.storage._migrate import (
    BASELINE,
    VERSION_TABLE,
    alembic_config,
    current_revisions,
    head_revision,
    packaged_head,
    schema_diff,
)

REPO = Path(__file__).resolve().parents[1]
MIGRATIONS = REPO / "rolecast" / "storage" / "migrations"
STORAGE_MODES = ["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)]


@pytest.fixture(params=STORAGE_MODES)
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """A URL to an empty database of each storage kind."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'profiles.db'}"
    return request.getfixturevalue("postgres_url")


def sql(url: str, statement: str) -> list[tuple[object, ...]]:
    """Run one statement outside rolecast (as another program would) and return its rows."""
    engine = create_engine(url)
    try:
        with engine.begin() as conn:
            result = conn.execute(text(statement))
            return [tuple(row) for row in result] if result.returns_rows else []
    finally:
        engine.dispose()


def state(url: str) -> tuple[tuple[str, ...], list[object]]:
    """(recorded revisions, Alembic's schema differences from the ORM)."""
    engine = create_engine(url)
    try:
        with engine.connect() as conn:
            return current_revisions(conn), schema_diff(conn)
    finally:
        engine.dispose()


def test_a_new_database_is_at_the_head_and_matches_the_orm(db_url: str) -> None:
    ProfileStore(db_url).close()
    revisions, diff = state(db_url)
    assert revisions == (head_revision(),)
    assert diff == []  # a change to _orm.py without its revision fails here


def test_an_old_release_database_upgrades_in_place_with_its_steps_intact(db_url: str) -> None:
    make_old_database(db_url, n_steps=25)
    assert state(db_url)[0] == ()  # rolecast 0.1 had no version table
    expected = old_steps(1, 25)

    with ProfileStore(db_url) as store:
        steps = store.steps()
        runs = store.runs()
        # it keeps working: new steps and runs go next to the old ones
        run_id = store.start_run("after upgrade", {})
        store.add_step(
            StepRecord(
                candidate="model-new", fingerprint="fp-new", role="planner",
                prompt_version="v1", case_id="case-new", case_hash="hash-new",
                step_index=0, success=True, score=1.0, run_id=run_id,
            )
        )  # fmt: skip

    assert len(steps) == 25
    by_case = {step.case_id: step for step in steps}
    for row in expected:
        step = by_case[row["case_id"]]
        for column, value in row.items():
            if column == "created_at":
                assert step.created_at == WRITTEN_AT
                assert step.created_at.tzinfo == UTC
            else:
                assert getattr(step, column) == value, column
    assert [(run.id, run.label, run.status, run.n_generated) for run in runs] == [
        (1, "profile", "done", 25)
    ]
    assert runs[0].config == {"project": "old"}
    assert runs[0].started_at == WRITTEN_AT

    revisions, diff = state(db_url)
    assert revisions == (head_revision(),)
    assert diff == []
    # rolecast 0.1 reads only databases whose meta.schema_version is 1: it refuses this one
    assert sql(db_url, "SELECT value FROM meta WHERE key = 'schema_version'") == [("2",)]
    with ProfileStore(db_url) as store:  # reopening changes nothing
        assert len(store.steps()) == 26


def test_an_empty_old_release_database_upgrades(db_url: str) -> None:
    make_old_database(db_url, n_steps=0)
    with ProfileStore(db_url) as store:
        assert store.steps() == []
        assert [run.id for run in store.runs()] == [1]
    assert state(db_url) == ((head_revision(),), [])


def test_a_database_of_a_newer_rolecast_is_refused_with_one_line(db_url: str) -> None:
    ProfileStore(db_url).close()
    sql(db_url, f"UPDATE {VERSION_TABLE} SET version_num = '0099_from_the_future'")
    with pytest.raises(StorageError) as raised:
        ProfileStore(db_url)
    message = str(raised.value)
    assert "\n" not in message
    assert "written by a newer rolecast (revision 0099_from_the_future); upgrade rolecast" in (
        message
    )
    # refusing wrote nothing
    assert sql(db_url, f"SELECT version_num FROM {VERSION_TABLE}") == [("0099_from_the_future",)]


def test_an_old_release_database_of_another_schema_version_is_refused(db_url: str) -> None:
    make_old_database(db_url, n_steps=3, schema_version="999")
    with pytest.raises(StorageError, match=r"schema version 999") as raised:
        ProfileStore(db_url)
    assert "\n" not in str(raised.value)
    assert state(db_url)[0] == ()  # left as it was, not stamped
    assert sql(db_url, "SELECT count(*) FROM steps") == [(3,)]


def test_foreign_tables_named_like_ours_are_refused(db_url: str) -> None:
    sql(db_url, "CREATE TABLE steps (id INTEGER PRIMARY KEY, note TEXT)")
    with pytest.raises(StorageError, match=r"table\(s\) steps but no rolecast schema version"):
        ProfileStore(db_url)
    engine = create_engine(db_url)
    try:
        assert "runs" not in inspect(engine).get_table_names()
    finally:
        engine.dispose()


def test_a_database_at_an_older_revision_runs_only_the_missing_ones(db_url: str) -> None:
    make_old_database(db_url, n_steps=4)
    engine = create_engine(db_url)
    try:
        with engine.begin() as conn:  # as an earlier Alembic-era rolecast would leave it
            command.stamp(alembic_config(conn), BASELINE)
    finally:
        engine.dispose()
    assert state(db_url)[0] == (BASELINE,)
    with ProfileStore(db_url) as store:
        assert len(store.steps()) == 4
    assert state(db_url) == ((head_revision(),), [])


def test_every_revision_downgrades_and_upgrades_again(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'roundtrip.db'}"
    ProfileStore(url).close()
    engine = create_engine(url)
    try:
        with engine.begin() as conn:
            command.downgrade(alembic_config(conn), "base")
        assert set(inspect(engine).get_table_names()) <= {VERSION_TABLE}
        with engine.begin() as conn:
            command.upgrade(alembic_config(conn), "head")
    finally:
        engine.dispose()
    assert state(url) == ((head_revision(),), [])


def test_stores_opening_a_new_database_at_once_migrate_it_once(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'race.db'}"
    errors: list[BaseException] = []
    barrier = threading.Barrier(6)

    def open_store() -> None:
        try:
            barrier.wait()
            with ProfileStore(url) as store:
                store.start_run("race", {})
        except BaseException as exc:  # collected and checked below
            errors.append(exc)

    threads = [threading.Thread(target=open_store) for _ in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert sql(url, f"SELECT version_num FROM {VERSION_TABLE}") == [(head_revision(),)]
    assert sql(url, "SELECT count(*) FROM meta") == [(1,)]
    assert sql(url, "SELECT count(*) FROM runs") == [(6,)]


# -- the revisions as files -------------------------------------------------------------


def test_the_revisions_form_one_line_from_the_baseline() -> None:
    scripts = ScriptDirectory.from_config(alembic_config())
    assert len(scripts.get_heads()) == 1  # two new revisions on one parent: re-chain them
    chain = [script.revision for script in scripts.walk_revisions()][::-1]
    assert chain[0] == BASELINE
    assert chain[-1] == head_revision()
    for script in scripts.walk_revisions():
        path = Path(script.path)
        assert re.fullmatch(rf"r{re.escape(script.revision)}_\w+\.py", path.name), path.name
        assert script.doc, f"{path.name} needs a docstring saying what changes and why"


def test_the_packaged_head_is_alembics_head() -> None:
    """Opening a store at the head trusts the file names, so they must name the head."""
    assert packaged_head() == head_revision()


def test_opening_a_database_at_the_head_does_not_load_alembic(tmp_path: Path) -> None:
    """A store already migrated opens with one query; Alembic loads only to migrate."""
    url = f"sqlite:///{tmp_path / 'head.db'}"
    ProfileStore(url).close()  # created and migrated here
    script = (
        "import sys\n"
        "from rolecast.storage import ProfileStore\n"
        "with ProfileStore(sys.argv[1]) as store: store.runs()\n"
        "loaded = sorted(m for m in sys.modules if m.split('.')[0] == 'alembic')\n"
        "assert not loaded, loaded\n"
        "ProfileStore(sys.argv[2]).close()\n"  # a new database still migrates
        "assert 'alembic' in sys.modules\n"
    )
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    fresh = f"sqlite:///{tmp_path / 'fresh.db'}"
    done = subprocess.run(
        [sys.executable, "-c", script, url, fresh], env=env, capture_output=True, text=True
    )
    assert done.returncode == 0, done.stderr
    assert sql(fresh, f"SELECT version_num FROM {VERSION_TABLE}") == [(head_revision(),)]


def test_the_migrations_ship_in_the_package() -> None:
    """Every file under migrations/ matches a package-data pattern of pyproject.toml."""
    pyproject = tomllib.loads((REPO / "pyproject.toml").read_text())
    patterns = pyproject["tool"]["setuptools"]["package-data"]["rolecast"]
    files = [
        path.relative_to(REPO / "rolecast").as_posix()
        for path in MIGRATIONS.rglob("*")
        if path.is_file() and "__pycache__" not in path.parts
    ]
    assert any(name.endswith("env.py") for name in files)
    assert any(name.endswith(".mako") for name in files)
    missing = [name for name in files if not any(fnmatch(name, p) for p in patterns)]
    assert missing == []


def test_processes_opening_a_new_database_at_once_migrate_it_once(tmp_path: Path) -> None:
    """The database lock (not only the in-process one) serialises migrations."""
    url = f"sqlite:///{tmp_path / 'race.db'}"
    script = (
        "import sys, time\n"
        "from rolecast.storage import ProfileStore\n"
        "while time.time() < float(sys.argv[2]): time.sleep(0.001)\n"
        "with ProfileStore(sys.argv[1]) as store: store.start_run('race', {})\n"
    )
    start = str(time.time() + 3.0)  # every process imports first, then all open together
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    command_line = [sys.executable, "-c", script, url, start]
    procs = [subprocess.Popen(command_line, env=env, stderr=subprocess.PIPE) for _ in range(4)]
    errors = [proc.communicate(timeout=120)[1].decode() for proc in procs]
    assert [proc.returncode for proc in procs] == [0] * 4, errors
    assert sql(url, f"SELECT version_num FROM {VERSION_TABLE}") == [(head_revision(),)]
    assert sql(url, "SELECT count(*) FROM meta") == [(1,)]
    assert sql(url, "SELECT count(*) FROM runs") == [(4,)]
