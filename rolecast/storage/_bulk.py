"""Bulk import of many steps in one transaction, in bounded memory; private to the store.

Rows are staged chunk by chunk in a temporary table (``executemany``), so memory does not
grow with the file. Repeated step keys are found in the database, not in a Python set,
and the first occurrence wins. Only then are the staged rows upserted into ``steps`` with
one ``INSERT ... SELECT`` and the run recorded: the caller's transaction commits all of it
or, on any error (a bad file found late, a kill), none of it.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from itertools import islice
from operator import attrgetter
from typing import Any, cast

from sqlalchemy import (
    Column,
    Connection,
    Integer,
    MetaData,
    Select,
    Table,
    and_,
    delete,
    exists,
    func,
    insert,
    literal,
    select,
    true,
    update,
)
from sqlalchemy.dialects import postgresql, sqlite

from rolecast.storage._orm import STEP_KEY_COLUMNS, RunRow, StepRow
from rolecast.storage.records import StepRecord

__all__ = ["BulkResult", "bulk_import"]

_STEPS = cast(Table, StepRow.__table__)
#: Columns staged per row: every step column but the id and the run (known at the end).
_STAGED = tuple(c.name for c in _STEPS.columns if c.name not in ("id", "run_id"))
_UPDATED = tuple(name for name in (*_STAGED, "run_id") if name not in STEP_KEY_COLUMNS)


@dataclass(frozen=True)
class BulkResult:
    """What a bulk import wrote.

    Attributes:
        run_id: The run the steps belong to.
        written: Steps stored (inserted or replacing a stored step with the same key).
        n_duplicates: Rows skipped because an earlier row had the same step key.
        duplicates: ``(line, first line)`` of the first skipped duplicates, in line order.
    """

    run_id: int
    written: int
    n_duplicates: int
    duplicates: tuple[tuple[int, int], ...]


def _staging_table() -> Table:
    columns = [Column("line", Integer, nullable=False)]
    columns += [Column(name, _STEPS.c[name].type) for name in _STAGED]
    return Table(
        "rolecast_import_staging",
        MetaData(),
        *columns,
        prefixes=["TEMPORARY"],
        postgresql_on_commit="DROP",  # other dialects ignore it
    )


def bulk_import(
    connection: Connection,
    rows: Iterable[tuple[int, StepRecord]],
    *,
    label: str,
    config: dict[str, Any],
    chunk_size: int = 5000,
    max_listed: int = 100,
) -> BulkResult:
    """Stage ``(line, step)`` rows, drop repeated keys, upsert, record the run.

    Runs inside the caller's transaction on ``connection`` and never commits. An
    exception raised while ``rows`` is iterated propagates before anything reaches
    ``steps`` or ``runs``.
    """
    staging = _staging_table()
    staging.drop(connection, checkfirst=True)  # a leftover of an aborted import (SQLite)
    staging.create(connection)
    started = datetime.now(UTC)
    # Rows go to the driver's executemany as tuples: SQLAlchemy's per-row parameter
    # handling costs more than everything else together; its type processors still run.
    placeholder = "?" if connection.dialect.paramstyle == "qmark" else "%s"
    names = ("line", *_STAGED)
    statement = (
        f"INSERT INTO {staging.name} ({', '.join(names)}) "
        f"VALUES ({', '.join([placeholder] * len(names))})"
    )
    convert = _chunk_converter(connection, started)
    cursor = connection.connection.cursor()
    try:
        iterator = iter(rows)
        while chunk := list(islice(iterator, chunk_size)):
            cursor.executemany(statement, convert(chunk))
    finally:
        cursor.close()

    key = [staging.c[name] for name in STEP_KEY_COLUMNS]
    firsts = select(*key, func.min(staging.c.line).label("first")).group_by(*key)
    repeated = firsts.having(func.count() > 1).subquery()
    n_duplicates = 0
    listed: list[tuple[int, int]] = []
    if connection.execute(select(func.count()).select_from(repeated)).scalar_one():
        dup = (
            select(staging.c.line, repeated.c.first)
            .join(repeated, and_(*(staging.c[n] == repeated.c[n] for n in STEP_KEY_COLUMNS)))
            .where(staging.c.line != repeated.c.first)
            .order_by(staging.c.line)
        )
        n_duplicates = connection.execute(
            select(func.count()).select_from(dup.subquery())
        ).scalar_one()
        listed = [(int(a), int(b)) for a, b in connection.execute(dup.limit(max_listed))]
        keep = select(firsts.subquery().c.first)
        connection.execute(delete(staging).where(staging.c.line.not_in(keep)))

    run_id = connection.execute(
        insert(RunRow)
        .values(
            label=label,
            started_at=started,
            finished_at=None,
            status="running",
            n_generated=0,
            n_reused=0,
            config=dict(config),
        )
        .returning(RunRow.id)
    ).scalar_one()
    source = select(
        *(staging.c[name] for name in _STAGED), literal(run_id, Integer).label("run_id")
    ).where(true())  # SQLite needs a WHERE before ON CONFLICT in INSERT ... SELECT
    written = connection.execute(select(func.count()).select_from(staging)).scalar_one()
    _upsert_from(connection, staging, source)
    connection.execute(
        update(RunRow)
        .where(RunRow.id == run_id)
        .values(finished_at=datetime.now(UTC), status="done", n_generated=written)
    )
    staging.drop(connection)
    return BulkResult(run_id, int(written), int(n_duplicates), tuple(listed))


def _chunk_converter(
    connection: Connection, now: datetime
) -> Callable[[list[tuple[int, StepRecord]]], list[tuple[Any, ...]]]:
    """``[(line, record)] -> [tuple]`` in ``line, *_STAGED`` order, bound as SQLAlchemy would.

    Column by column: one type processor over a whole column costs far less than a
    Python call per value per row. Metrics are mostly empty and timestamps mostly unset
    (now), so those are bound once and reused.
    """
    dialect = connection.dialect
    get = attrgetter(*_STAGED)
    created = _STAGED.index("created_at") + 1
    metrics = _STAGED.index("metrics") + 1
    processors = [
        (index, processor)
        for index, name in enumerate(_STAGED, start=1)
        if (processor := _STEPS.c[name].type._cached_bind_processor(dialect)) is not None
    ]

    def memoized(processor: Callable[[Any], Any], values: tuple[Any, ...]) -> list[Any]:
        memo: dict[Any, Any] = {}
        out = []
        for value in values:
            key = "{}" if value == {} else value if isinstance(value, datetime) else None
            if key is None:  # a non-empty metrics dict
                out.append(processor(value))
            elif key in memo:
                out.append(memo[key])
            else:
                out.append(memo.setdefault(key, processor(value)))
        return out

    def convert(chunk: list[tuple[int, StepRecord]]) -> list[tuple[Any, ...]]:
        rows = [(line, *get(record)) for line, record in chunk]
        columns: list[Any] = list(zip(*rows, strict=True))
        columns[created] = [now if value is None else value for value in columns[created]]
        for index, processor in processors:
            if index in (metrics, created):
                columns[index] = memoized(processor, columns[index])
            else:  # numbers and booleans: a C-level map
                columns[index] = list(map(processor, columns[index]))
        return list(zip(*columns, strict=True))

    return convert


def _upsert_from(connection: Connection, staging: Table, source: Select[Any]) -> None:
    """Insert the staged rows, replacing stored steps with the same key."""
    names = [*_STAGED, "run_id"]
    dialect = connection.dialect.name
    if dialect in ("sqlite", "postgresql"):
        stmt = (sqlite.insert if dialect == "sqlite" else postgresql.insert)(_STEPS)
        stmt = stmt.from_select(names, source)
        connection.execute(
            stmt.on_conflict_do_update(
                index_elements=list(STEP_KEY_COLUMNS),
                set_={name: stmt.excluded[name] for name in _UPDATED},
            )
        )
        return
    same_key = [_STEPS.c[name] == staging.c[name] for name in STEP_KEY_COLUMNS]
    connection.execute(delete(_STEPS).where(exists().where(*same_key)))  # portable fallback
    connection.execute(insert(_STEPS).from_select(names, source))
