#!/usr/bin/env python3
"""Write or check an Alembic revision of rolecast's own tables (docs/migrations.md).

    python scripts/migration.py new "add heartbeat to runs"   # after editing _orm.py
    python scripts/migration.py check                          # ORM and revisions agree?
    python scripts/migration.py check --db postgresql://...    # the same on a database

``new`` migrates a scratch SQLite database to the current head, compares it with the ORM
classes in rolecast/storage/_orm.py and writes the difference as the next numbered
revision (``rolecast/storage/migrations/versions/rNNNN_slug.py``). Read and edit what it
wrote: autogenerate does not see renames and needs defaults for new NOT NULL columns.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

from alembic import command
from sqlalchemy import create_engine

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from rolecast.storage import ProfileStore, resolve_db_url
from rolecast.storage._migrate import alembic_config, head_revision, schema_diff


def _new(message: str) -> int:
    with tempfile.TemporaryDirectory() as tmp:
        url = f"sqlite:///{Path(tmp) / 'scratch.db'}"
        ProfileStore(url).close()  # at the current head
        engine = create_engine(url)
        try:
            with engine.begin() as conn:
                if not schema_diff(conn):
                    print("the ORM and the migrations agree: nothing to write", file=sys.stderr)
                    return 1
                rev_id = f"{int(head_revision()) + 1:04d}"
                script = command.revision(
                    alembic_config(conn), message=message, autogenerate=True, rev_id=rev_id
                )
        finally:
            engine.dispose()
    path = getattr(script, "path", script)
    print(f"wrote {path}: read it, fix what autogenerate missed, then run the tests")
    return 0


def _check(db: str | None) -> int:
    if db is not None:
        url = resolve_db_url(db)
        ProfileStore(url).close()
        return _report(url)
    with tempfile.TemporaryDirectory() as tmp:
        url = f"sqlite:///{Path(tmp) / 'scratch.db'}"
        ProfileStore(url).close()
        return _report(url)


def _report(url: str) -> int:
    engine = create_engine(url)
    try:
        with engine.connect() as conn:
            diff = schema_diff(conn)
    finally:
        engine.dispose()
    for change in diff:
        print(change)
    print(f"head {head_revision()}: " + ("ORM and schema agree" if not diff else "DIFFERENT"))
    return 1 if diff else 0


def main() -> int:
    """Parse the command line and run ``new`` or ``check``."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    commands = parser.add_subparsers(dest="command", required=True)
    new = commands.add_parser("new", help="write the next revision from the ORM's changes")
    new.add_argument("message", help="what the revision changes, e.g. 'add heartbeat to runs'")
    check = commands.add_parser("check", help="exit 1 when the ORM and the migrations differ")
    check.add_argument("--db", help="a database to migrate and compare (default: scratch)")
    args = parser.parse_args()
    return _new(args.message) if args.command == "new" else _check(args.db)


if __name__ == "__main__":
    sys.exit(main())
