"""Schema migrations of the profile store with Alembic; private to ``rolecast.storage``.

The revisions live in ``rolecast/storage/migrations/versions`` (shipped as package data)
and run on open, with a configuration built here: no ``alembic.ini`` is needed at run
time. Three kinds of database are brought to the head revision in place:

* an empty database: every revision runs;
* a database of rolecast 0.1 (before Alembic: ``meta.schema_version = 1``, no version
  table): it is stamped with :data:`BASELINE` (the revision equal to that schema), then
  upgraded, so its steps and runs stay as they are;
* a database at an older revision: the missing revisions run.

A database at a revision this rolecast does not know was written by a newer rolecast
and is refused with one line. Migrating holds a lock (SQLite ``BEGIN IMMEDIATE``, a
PostgreSQL advisory lock), so stores opening one database at the same moment migrate it
once. The version table is named :data:`VERSION_TABLE`, not ``alembic_version``, so it
never collides with another tool's Alembic (Optuna keeps its tables in their own
database anyway).
"""

from __future__ import annotations

import functools
import re
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from importlib import resources
from typing import TYPE_CHECKING, Any

from sqlalchemy import Connection, Engine, inspect, text

from rolecast.errors import StorageError
from rolecast.storage._orm import Base

if TYPE_CHECKING:
    from alembic.config import Config
    from alembic.script import ScriptDirectory

__all__ = [
    "BASELINE",
    "LEGACY_SCHEMA_VERSION",
    "VERSION_TABLE",
    "MigrationFailed",
    "alembic_config",
    "current_revisions",
    "head_revision",
    "migrate",
    "packaged_head",
    "schema_diff",
]

#: Alembic's version table for rolecast's own tables.
VERSION_TABLE = "rolecast_alembic_version"
#: ``meta.schema_version`` of databases written before Alembic (rolecast 0.1).
LEGACY_SCHEMA_VERSION = "1"
#: The revision whose schema is exactly rolecast 0.1's: such a database is stamped with it.
BASELINE = "0001"
#: Where the revisions are, as ``package:directory``.
SCRIPT_LOCATION = "rolecast.storage:migrations"
#: Key of the PostgreSQL advisory lock held while migrating (any constant; "rolecast").
_PG_LOCK_KEY = 0x726F6C6563617374

_DB_HINT = "set --db or ROLECAST_DB"
#: Alembic's ``context`` and ``op`` are process-wide proxies: one migration at a time.
_ALEMBIC_LOCK = threading.Lock()


class MigrationFailed(Exception):
    """Alembic refused to migrate (its ``CommandError``, whose text this carries)."""


def alembic_config(connection: Connection | None = None) -> Config:
    """An Alembic configuration for the packaged revisions; ``connection`` is migrated."""
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", SCRIPT_LOCATION)
    # r0003_add_run_heartbeat.py: a file name that is also a valid module name.
    config.set_main_option("file_template", "r%%(rev)s_%%(slug)s")
    if connection is not None:
        config.attributes["connection"] = connection
    return config


@functools.cache
def _scripts() -> ScriptDirectory:
    from alembic.script import ScriptDirectory

    return ScriptDirectory.from_config(alembic_config())


@functools.cache
def packaged_head() -> str:
    """The head revision from the revision files' names (``r<rev>_<slug>.py``), no Alembic.

    ``scripts/migration.py`` numbers each new revision one above the head, so the largest
    number is the head (``tests/test_migrations.py`` checks it is Alembic's). Opening a
    store at the head then needs neither Alembic nor its revision scripts.
    """
    versions = resources.files("rolecast.storage") / "migrations" / "versions"
    numbers = [
        match.group(1)
        for entry in versions.iterdir()
        if (match := re.fullmatch(r"r(\d+)_\w+\.py", entry.name))
    ]
    return max(numbers, key=int)


@functools.cache
def _known_revisions() -> frozenset[str]:
    return frozenset(script.revision for script in _scripts().walk_revisions())


def head_revision() -> str:
    """The newest revision this rolecast knows (exactly one head: a test checks it)."""
    heads = _scripts().get_heads()
    if len(heads) != 1:  # two branches each added a revision on the same parent
        raise RuntimeError(
            f"rolecast's migrations have {len(heads)} heads {sorted(heads)}; set the newer "
            f"revision's down_revision to the other one (docs/migrations.md)"
        )
    return heads[0]


def current_revisions(connection: Connection) -> tuple[str, ...]:
    """The revisions recorded in the database (empty before Alembic or when empty)."""
    from alembic.runtime.migration import MigrationContext

    context = MigrationContext.configure(connection, opts={"version_table": VERSION_TABLE})
    return tuple(context.get_current_heads())


def _recorded(connection: Connection) -> tuple[str, ...]:
    """:func:`current_revisions` read with plain SQL, as Alembic reads them."""
    if not inspect(connection).has_table(VERSION_TABLE):
        return ()
    rows = connection.execute(text(f"SELECT version_num FROM {VERSION_TABLE}"))
    return tuple(row[0] for row in rows)


def schema_diff(connection: Connection) -> list[Any]:
    """Alembic's differences between the database's tables and the ORM classes.

    Empty when every change to ``_orm.py`` has its revision; a test checks it on SQLite
    and PostgreSQL, and ``scripts/migration.py check`` prints it.
    """
    from alembic.autogenerate import compare_metadata
    from alembic.runtime.migration import MigrationContext

    context = MigrationContext.configure(
        connection, opts={"version_table": VERSION_TABLE, "compare_type": True}
    )
    return list(compare_metadata(context, Base.metadata))


def migrate(engine: Engine, display: str) -> None:
    """Bring the database behind ``engine`` to the head revision, or refuse it.

    Args:
        engine: The store's engine.
        display: The database URL with the password masked, for messages.

    Raises:
        StorageError: The database was written by a newer rolecast, or by rolecast 0.1
            with a schema version other than 1, or holds rolecast-like tables of unknown
            origin. Driver errors are left to the caller to translate.
        MigrationFailed: Alembic refused a revision.
    """
    with engine.connect() as connection:  # the common case: one query, Alembic not loaded
        current = _recorded(connection)
        connection.rollback()
    if current == (packaged_head(),):
        return
    from alembic.util import CommandError

    try:
        _upgrade(engine, display, current)
    except CommandError as exc:
        raise MigrationFailed(str(exc)) from None


def _upgrade(engine: Engine, display: str, current: tuple[str, ...]) -> None:
    from alembic import command

    head = head_revision()
    if current == (head,):
        return
    _refuse_unknown(current, display)
    with _ALEMBIC_LOCK, _locked(engine) as connection:
        current = current_revisions(connection)  # another store may have migrated meanwhile
        _refuse_unknown(current, display)
        if current == (head,):
            return
        config = alembic_config(connection)
        if not current:
            legacy = _legacy_version(connection, display)
            if legacy is not None:
                command.stamp(config, BASELINE)
        command.upgrade(config, "head")


def _refuse_unknown(current: tuple[str, ...], display: str) -> None:
    unknown = [revision for revision in current if revision not in _known_revisions()]
    if unknown:
        raise StorageError(
            f"database {display} was written by a newer rolecast (revision "
            f"{', '.join(unknown)}); upgrade rolecast, or {_DB_HINT} to another database"
        )


def _legacy_version(connection: Connection, display: str) -> str | None:
    """``meta.schema_version`` of a database written before Alembic; None when empty."""
    tables = set(inspect(connection).get_table_names())
    if "meta" not in tables:
        ours = sorted(tables & {"runs", "steps"})
        if ours:
            raise StorageError(
                f"database {display} has table(s) {', '.join(ours)} but no rolecast schema "
                f"version: it was not made by rolecast; {_DB_HINT} to another database"
            )
        return None
    row = connection.execute(
        text("SELECT value FROM meta WHERE key = 'schema_version'")
    ).one_or_none()
    version = None if row is None else str(row[0])
    if version != LEGACY_SCHEMA_VERSION:
        raise StorageError(
            f"database {display} has schema version {version}, this rolecast reads version "
            f"{LEGACY_SCHEMA_VERSION} or a migrated database; install the matching rolecast "
            f"or {_DB_HINT} to another database"
        )
    return version


@contextmanager
def _locked(engine: Engine) -> Iterator[Connection]:
    """A connection in a transaction that only one migrating store holds; commits on exit.

    SQLite: foreign keys are off while migrating (a table rebuilt by batch mode must not
    cascade its drop into ``steps``), and ``BEGIN IMMEDIATE`` takes the write lock before
    the state is read. PostgreSQL: a transaction-scoped advisory lock.
    """
    with engine.connect() as connection:
        sqlite = engine.dialect.name == "sqlite"
        if sqlite:
            connection.exec_driver_sql("PRAGMA foreign_keys=OFF")
            connection.commit()
            connection.exec_driver_sql("BEGIN IMMEDIATE")
        elif engine.dialect.name == "postgresql":
            connection.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": _PG_LOCK_KEY})
        try:
            yield connection
            connection.commit()
        except BaseException:
            connection.rollback()
            raise
        finally:
            if sqlite:
                connection.exec_driver_sql("PRAGMA foreign_keys=ON")
                connection.commit()
