"""Alembic environment of rolecast's own tables.

Run by :func:`rolecast.storage._migrate.migrate` (on every store open) and by
``scripts/migration.py`` (to write a new revision); both hand the connection in through
``config.attributes["connection"]``. See docs/migrations.md.
"""

from __future__ import annotations

from alembic import context

from rolecast.storage._migrate import VERSION_TABLE
from rolecast.storage._orm import Base

connection = context.config.attributes.get("connection")
if connection is None:
    raise RuntimeError(
        "rolecast's migrations run on a connection: open a ProfileStore, or use "
        "scripts/migration.py to write a revision (docs/migrations.md)"
    )
context.configure(
    connection=connection,
    target_metadata=Base.metadata,
    version_table=VERSION_TABLE,
    render_as_batch=connection.dialect.name == "sqlite",  # SQLite alters by rebuilding
    compare_type=True,
)
with context.begin_transaction():
    context.run_migrations()
