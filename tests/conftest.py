"""Shared fixtures: the scripted backend, an isolated database, a clean PostgreSQL schema."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from rolecast.backends import registered

POSTGRES_ENV = "ROLECAST_TEST_POSTGRES_URL"


@pytest.fixture(scope="session", autouse=True)
def _scripted_backend() -> Iterator[None]:
    """The scripted fake as backend ``scripted``, for the tests only (no project can name it)."""
    with registered("scripted", "rolecast.backends.scripted:ScriptedBackend"):
        yield


@pytest.fixture(autouse=True)
def _isolated_database(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Point the default profile database at ``tmp_path``: no test touches the user's.

    Only the database is redirected; ``ROLECAST_CACHE`` is left alone so session-scoped
    model fixtures keep sharing one download cache.
    """
    monkeypatch.setenv("ROLECAST_DB", str(tmp_path / "rolecast.db"))
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "xdg-data"))


@pytest.fixture(scope="session")
def postgres_server_url() -> str:
    """``$ROLECAST_TEST_POSTGRES_URL``; skipped when unset, but a failure when ``CI=true``."""
    url = os.environ.get(POSTGRES_ENV)
    if url:
        return url
    if os.environ.get("CI") == "true":
        pytest.fail(
            f"{POSTGRES_ENV} is not set but CI=true: CI must run the PostgreSQL tests "
            f"(.ci/run starts a server and sets it)",
            pytrace=False,
        )
    pytest.skip(f"{POSTGRES_ENV} is not set (run .ci/run, or point it at a PostgreSQL server)")


@pytest.fixture
def postgres_url(postgres_server_url: str) -> Iterator[str]:
    """A URL whose ``search_path`` is a fresh schema, dropped (with its tables) afterwards."""
    schema = f"rc_test_{uuid.uuid4().hex[:12]}"
    admin = create_engine(postgres_server_url, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as conn:
            conn.execute(text(f'CREATE SCHEMA "{schema}"'))
        url = make_url(postgres_server_url).update_query_dict(
            {"options": f"-csearch_path={schema}"}
        )
        yield url.render_as_string(hide_password=False)
        with admin.connect() as conn:
            conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
    finally:
        admin.dispose()
