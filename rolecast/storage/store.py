"""The profile store: scored steps and runs in SQLite (default) or PostgreSQL.

Contract:

* Every write commits before the call returns, so a killed run loses nothing it stored.
* A step is unique on its :class:`StepKey`; writing the same key again replaces the row.
* Reads and writes return frozen records (:class:`StepRecord`, :class:`RunRecord`),
  never ORM objects, and every driver error becomes a one-line :class:`StorageError`
  whose message never contains the URL's password.
* End-to-end agent runs (``rolecast verify``) follow the same rules, unique on
  (coalition key, case hash); see :class:`~rolecast.storage._agent_runs.AgentRunsMixin`.
* Several stores (threads or processes) may share one database: SQLite runs in WAL mode
  with a busy timeout so a reader does not fail while another store writes. One
  instance is meant for one thread.
* A run records its process id, host and a heartbeat (refreshed by every step it
  stores). A run still ``running`` whose process is gone (same host, pid not alive) or
  whose heartbeat is older than :data:`STALE_RUN_AFTER_S` is marked ``interrupted`` when
  the next run starts or when :meth:`ProfileStore.reap_stale_runs` is called.
"""

from __future__ import annotations

import json
import os
import socket
from collections.abc import Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from types import MappingProxyType, TracebackType
from typing import Any, Self

from sqlalchemy import (
    ColumnElement,
    Connection,
    Engine,
    Select,
    Text,
    case,
    cast,
    create_engine,
    delete,
    event,
    func,
    insert,
    select,
    update,
)
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import IntegrityError, InterfaceError, OperationalError, SQLAlchemyError
from sqlalchemy.orm import Session, sessionmaker

from rolecast.errors import StorageError
from rolecast.storage._agent_runs import AgentRunsMixin
from rolecast.storage._bulk import BulkResult, bulk_import
from rolecast.storage._migrate import MigrationFailed, migrate
from rolecast.storage._orm import STEP_KEY_COLUMNS, RunRow, StepRow
from rolecast.storage._url import (
    DB_HINT,
    default_db_path,
    driver_message,
    ensure_sqlite_parent,
    mask_url,
    resolve_db_url,
    scrub_password,
)
from rolecast.storage.records import RunRecord, StepKey, StepOutcome, StepRecord

__all__ = ["ProfileStore", "default_db_path", "mask_url", "resolve_db_url"]

#: The ``source`` of imported steps starts with this (``import:<file name>``).
IMPORTED = "import"
#: Seconds a SQLite writer waits for another writer's lock before giving up.
SQLITE_BUSY_TIMEOUT_S = 30.0
#: Seconds to wait for a PostgreSQL server before reporting it unreachable.
PG_CONNECT_TIMEOUT_S = 10
#: A running run whose heartbeat is older than this is taken as dead, whatever its host.
#: Generous: a heartbeat comes with every stored step, and no step takes an hour.
STALE_RUN_AFTER_S = 3600.0

_VALUE_COLUMNS = tuple(
    c.name for c in StepRow.__table__.columns if c.name not in (*STEP_KEY_COLUMNS, "id")
)


class ProfileStore(AgentRunsMixin):
    """Scored steps and runs, in any database SQLAlchemy reaches (tested: SQLite, PostgreSQL).

    Args:
        url: A SQLAlchemy URL, usually from :func:`resolve_db_url`. The tables are created
            on first open and migrated to this rolecast's schema (Alembic, in place).

    Raises:
        StorageError: The database cannot be opened (bad URL, unreachable server, wrong
            password, unwritable path) or was written by a newer rolecast.
    """

    def __init__(self, url: str) -> None:
        self._closed = False
        self._display = mask_url(url)
        try:
            parsed = make_url(url)
        except SQLAlchemyError as exc:
            raise StorageError(
                f"cannot open database {self._display}: not a database URL "
                f"({driver_message(exc)}); use a file path, sqlite:///PATH or "
                f"postgresql://USER:PASSWORD@HOST/DB; {DB_HINT}"
            ) from None
        self._password = parsed.password if isinstance(parsed.password, str) else None
        self._backend = parsed.get_backend_name()
        if self._backend == "sqlite":
            ensure_sqlite_parent(parsed, self._display)
        self._engine = self._create_engine(parsed)
        self._sessions = sessionmaker(self._engine, expire_on_commit=False)
        try:
            self._init_schema()
        except BaseException:
            self.close()
            raise

    # -- lifecycle ---------------------------------------------------------------------

    @property
    def url(self) -> str:
        """The database URL with the password masked."""
        return self._display

    def close(self) -> None:
        """Release every connection; the store cannot be used afterwards."""
        if not self._closed:
            self._closed = True
            self._engine.dispose()

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"ProfileStore({self._display!r})"

    # -- runs --------------------------------------------------------------------------

    def start_run(self, label: str, config: dict[str, Any]) -> int:
        """Record a run as started now by this process and return its id.

        Runs left ``running`` by dead processes are marked ``interrupted`` first.
        """
        self.reap_stale_runs()
        now = datetime.now(UTC)
        with self._tx("start a run") as session:
            row = RunRow(
                label=label,
                started_at=now,
                finished_at=None,
                status="running",
                n_generated=0,
                n_reused=0,
                config=dict(config),
                pid=os.getpid(),
                host=socket.gethostname(),
                heartbeat_at=now,
            )
            session.add(row)
            session.flush()
            return row.id

    def reap_stale_runs(self, stale_after_s: float = STALE_RUN_AFTER_S) -> list[int]:
        """Mark ``interrupted`` every running run whose process is gone; return their ids.

        Gone: it ran on this host and its pid is not alive, or its last heartbeat (its
        start, for runs that never recorded one) is older than ``stale_after_s``. Its
        ``finished_at`` is that last sign of life.
        """
        here = socket.gethostname()
        cutoff = datetime.now(UTC) - timedelta(seconds=stale_after_s)
        with self._tx("check running runs") as session:
            running = session.execute(
                select(RunRow.id, RunRow.pid, RunRow.host, RunRow.heartbeat_at, RunRow.started_at)
                .where(RunRow.status == "running")
            ).all()  # fmt: skip
        stale: list[tuple[int, datetime]] = []
        for run_id, pid, host, heartbeat_at, started_at in running:
            last_seen = heartbeat_at or started_at
            dead = host == here and pid is not None and not _pid_alive(pid)
            if dead or last_seen < cutoff:
                stale.append((run_id, last_seen))
        if not stale:
            return []
        with self._tx("mark interrupted runs") as session:
            for run_id, last_seen in stale:  # only if still running: another store may race
                session.execute(
                    update(RunRow)
                    .where(RunRow.id == run_id, RunRow.status == "running")
                    .values(status="interrupted", finished_at=last_seen)
                )
        return [run_id for run_id, _ in stale]

    def set_run_report(self, run_id: int, report: dict[str, Any]) -> None:
        """Attach a report (a scheduled re-profile's snapshot and drift) to a run."""
        with self._tx("store a run report") as session:
            row = session.get(RunRow, run_id)
            if row is None:
                raise StorageError(f"no run with id {run_id} in {self._display}")
            row.report = dict(report)

    def finish_run(
        self, run_id: int, *, n_generated: int, n_reused: int, status: str = "done"
    ) -> None:
        """Mark a run finished now with its step counts."""
        with self._tx("finish a run") as session:
            row = session.get(RunRow, run_id)
            if row is None:
                raise StorageError(
                    f"no run with id {run_id} in {self._display}; start it with start_run() first"
                )
            row.finished_at = datetime.now(UTC)
            row.status = status
            row.n_generated = n_generated
            row.n_reused = n_reused

    def runs(
        self,
        limit: int | None = 20,
        *,
        label: str | None = None,
        with_report: bool = False,
        before: int | None = None,
    ) -> list[RunRecord]:
        """The ``limit`` most recent runs, newest first (``None``: all).

        Optionally only those with this ``label``, with a report, or older than run
        ``before``.
        """
        query = select(RunRow).order_by(RunRow.id.desc()).limit(limit)
        if label is not None:
            query = query.where(RunRow.label == label)
        if with_report:
            query = query.where(RunRow.report.is_not(None))
        if before is not None:
            query = query.where(RunRow.id < before)
        with self._tx("list runs") as session:
            return [_run_record(row) for row in session.scalars(query)]

    def latest_run(self) -> RunRecord | None:
        """The most recent run, if any."""
        runs = self.runs(limit=1)
        return runs[0] if runs else None

    # -- steps -------------------------------------------------------------------------

    def add_step(self, record: StepRecord) -> None:
        """Store one step and commit; a stored step with the same key is replaced.

        The step's run, if still running, gets its heartbeat in the same transaction.
        """
        with self._tx("store a step") as session:
            self._upsert(session, [_step_values(record)])
            if record.run_id is not None:
                session.execute(
                    update(RunRow)
                    .where(RunRow.id == record.run_id, RunRow.status == "running")
                    .values(heartbeat_at=datetime.now(UTC))
                )

    def add_steps(self, records: Iterable[StepRecord]) -> int:
        """Store many steps in one transaction (imports); returns how many rows were written.

        Same-key records replace stored rows and each other (the last one wins).
        """
        by_key = {record.key: _step_values(record) for record in records}
        if by_key:
            with self._tx("store steps") as session:
                self._upsert(session, list(by_key.values()))
        return len(by_key)

    def import_steps(
        self,
        rows: Iterable[tuple[int, StepRecord]],
        *,
        label: str,
        config: dict[str, Any],
        chunk_size: int = 5000,
    ) -> BulkResult:
        """Store ``(line, step)`` rows and their run in one transaction, in bounded memory.

        Rows are staged in chunks; a step key repeated in ``rows`` keeps its first line
        (the others are counted in the result); stored steps with the same key are
        replaced. Nothing is written unless every row was read: an exception raised
        while iterating ``rows`` (a bad file, a failed check) rolls everything back.
        """
        with self._guard("import steps"), self._engine.begin() as connection:
            return bulk_import(connection, rows, label=label, config=config, chunk_size=chunk_size)

    def existing_keys(
        self, fingerprint: str, role: str, prompt_version: str
    ) -> set[tuple[str, int]]:
        """``(case_hash, step_index)`` of every step stored for this model, role and prompt."""
        query = select(StepRow.case_hash, StepRow.step_index).where(
            StepRow.fingerprint == fingerprint,
            StepRow.role == role,
            StepRow.prompt_version == prompt_version,
        )
        with self._tx("look up stored steps") as session:
            return {(case_hash, step_index) for case_hash, step_index in session.execute(query)}

    def existing_keys_many(
        self, fingerprints: Sequence[str]
    ) -> dict[tuple[str, str, str], set[tuple[str, int]]]:
        """:meth:`existing_keys` of many models in one query, by (fingerprint, role, prompt).

        A scheduled no-op re-profile checks every candidate × role: one query instead of
        one per pair.
        """
        query = select(
            StepRow.fingerprint,
            StepRow.role,
            StepRow.prompt_version,
            StepRow.case_hash,
            StepRow.step_index,
        ).where(StepRow.fingerprint.in_(list(fingerprints)))
        found: dict[tuple[str, str, str], set[tuple[str, int]]] = {}
        with self._tx("look up stored steps") as session:
            for fp, role, version, case_hash, index in session.execute(query):
                found.setdefault((fp, role, version), set()).add((case_hash, index))
        return found

    def get_step(self, key: StepKey) -> StepRecord | None:
        """The stored step with this key, if any."""
        with self._tx("read a step") as session:
            row = session.scalars(select(StepRow).where(*_key_clause(key))).one_or_none()
            return None if row is None else _step_record(row)

    def steps(
        self,
        *,
        candidates: Sequence[str] | None = None,
        roles: Sequence[str] | None = None,
        fingerprints: Sequence[str] | None = None,
        prompt_versions: Sequence[str] | None = None,
        case_ids: Sequence[str] | None = None,
        source: str | None = None,
    ) -> list[StepRecord]:
        """Stored steps matching every given filter, by (candidate, role, case_id, step_index).

        A filter left as ``None`` matches everything; an empty sequence matches nothing.
        """
        # Core rows, not ORM objects: reading 10 k steps is then a third of the time.
        query = select(*StepRow.__table__.columns)
        for column, values in (
            (StepRow.candidate, candidates),
            (StepRow.role, roles),
            (StepRow.fingerprint, fingerprints),
            (StepRow.prompt_version, prompt_versions),
            (StepRow.case_id, case_ids),
        ):
            if values is not None:
                query = query.where(column.in_([values] if isinstance(values, str) else values))
        if source is not None:
            query = query.where(StepRow.source == source)
        query = query.order_by(
            StepRow.candidate, StepRow.role, StepRow.case_id, StepRow.step_index, StepRow.id
        )
        with self._tx("read steps") as session:
            return [_step_record(row) for row in session.execute(query)]

    def step_outcomes(
        self, *, candidates: Sequence[str], roles: Sequence[str]
    ) -> list[StepOutcome]:
        """The steps of these candidates on these roles, as light tuples, in :meth:`steps`' order.

        One Core query of only the columns aggregation needs (no ORM objects, no
        timestamps, no model output but an imported step's observation), for building a
        profile matrix over tens of thousands of steps.
        """
        imported = func.substr(StepRow.source, 1, len(IMPORTED)) == IMPORTED
        query = (
            select(
                StepRow.candidate,
                StepRow.fingerprint,
                StepRow.role,
                StepRow.prompt_version,
                StepRow.case_id,
                StepRow.case_hash,
                StepRow.step_index,
                StepRow.success,
                cast(StepRow.metrics, Text),  # decoded once per distinct value below
                case((imported, StepRow.output), else_=""),
                StepRow.tokens_in,
                StepRow.tokens_out,
                StepRow.latency_s,
                StepRow.source,
                StepRow.run_id,
            )
            .where(StepRow.candidate.in_(list(candidates)), StepRow.role.in_(list(roles)))
            .order_by(
                StepRow.candidate, StepRow.role, StepRow.case_id, StepRow.step_index, StepRow.id
            )
        )
        decoded: dict[str, Mapping[str, float]] = {}

        def metrics(text: str | None) -> Mapping[str, float]:
            key = text or "{}"
            found = decoded.get(key)
            if found is None:
                found = decoded[key] = MappingProxyType(json.loads(key))
            return found

        with self._guard("read steps"), self._engine.connect() as connection:
            rows = _driver_rows(connection, query)
        return [  # SQLite returns the boolean as 0 or 1
            StepOutcome(
                c, fp, r, pv, cid, ch, i, bool(ok), metrics(m), out, t_in, t_out, lat, src, run
            )
            for c, fp, r, pv, cid, ch, i, ok, m, out, t_in, t_out, lat, src, run in rows
        ]

    def step_totals(
        self, *, candidates: Sequence[str], roles: Sequence[str]
    ) -> dict[tuple[str, str], tuple[int, int, float]]:
        """Per (candidate, role): tokens in, tokens out and seconds summed over every step.

        One aggregate query over every stored step of the pair, whatever its model file,
        prompt, case or source (a negative figure counts as 0): an upper bound of what
        any selection of the pair's steps costs, without reading the steps.
        """

        def positive(column: Any) -> Any:
            return func.coalesce(func.sum(case((column > 0, column), else_=0)), 0)

        query = (
            select(
                StepRow.candidate,
                StepRow.role,
                positive(StepRow.tokens_in),
                positive(StepRow.tokens_out),
                positive(StepRow.latency_s),
            )
            .where(StepRow.candidate.in_(list(candidates)), StepRow.role.in_(list(roles)))
            .group_by(StepRow.candidate, StepRow.role)
        )
        with self._guard("sum stored steps"), self._engine.connect() as connection:
            return {
                (name, role): (int(t_in), int(t_out), float(seconds))
                for name, role, t_in, t_out, seconds in connection.execute(query)
            }

    def candidates(self) -> list[tuple[str, str, int]]:
        """``(candidate, role, number of steps)`` for every profiled pair, sorted."""
        query = (
            select(StepRow.candidate, StepRow.role, func.count())
            .group_by(StepRow.candidate, StepRow.role)
            .order_by(StepRow.candidate, StepRow.role)
        )
        with self._tx("summarise candidates") as session:
            return [(c, r, int(n)) for c, r, n in session.execute(query)]

    # -- internals ---------------------------------------------------------------------

    def _create_engine(self, url: URL) -> Engine:
        connect_args: dict[str, Any] = {}
        if self._backend == "sqlite":
            connect_args["timeout"] = SQLITE_BUSY_TIMEOUT_S
        elif self._backend == "postgresql" and "connect_timeout" not in url.query:
            connect_args["connect_timeout"] = PG_CONNECT_TIMEOUT_S
        try:
            engine = create_engine(url, connect_args=connect_args, pool_pre_ping=True)
        except ImportError as exc:
            extra = " install it with: pip install 'rolecast[postgres]';" * (
                self._backend == "postgresql"
            )
            raise StorageError(
                f"cannot open database {self._display}: its driver is not installed "
                f"({exc});{extra} {DB_HINT}"
            ) from None
        except SQLAlchemyError as exc:
            raise StorageError(
                f"cannot open database {self._display}: {self._scrub(driver_message(exc))}; "
                f"use a file path, sqlite:///PATH or postgresql://USER:PASSWORD@HOST/DB; "
                f"{DB_HINT}"
            ) from None
        if self._backend == "sqlite":
            event.listen(engine, "connect", _sqlite_pragmas)
        return engine

    def _init_schema(self) -> None:
        """Create or migrate the tables to this rolecast's head revision (Alembic)."""
        with self._guard("open database"):
            try:
                migrate(self._engine, self._display)
            except MigrationFailed as exc:
                raise StorageError(
                    f"cannot migrate database {self._display}: {exc}; {DB_HINT} to another database"
                ) from None

    def _upsert(self, session: Session, values: list[dict[str, Any]]) -> None:
        """Insert rows, replacing any stored row with the same step key."""
        dialect = self._engine.dialect.name
        if dialect in ("sqlite", "postgresql"):
            stmt = (sqlite.insert if dialect == "sqlite" else postgresql.insert)(StepRow)
            stmt = stmt.on_conflict_do_update(
                index_elements=list(STEP_KEY_COLUMNS),
                set_={name: stmt.excluded[name] for name in _VALUE_COLUMNS},
            )
            session.execute(stmt, values)
            return
        for row in values:  # portable fallback: delete then insert, in the same transaction
            key = StepKey(**{name: row[name] for name in STEP_KEY_COLUMNS})
            session.execute(delete(StepRow).where(*_key_clause(key)))
        session.execute(insert(StepRow), values)

    @contextmanager
    def _tx(self, action: str) -> Iterator[Session]:
        """A session in a transaction that commits on exit; errors become StorageError."""
        with self._guard(action), self._sessions.begin() as session:
            yield session

    @contextmanager
    def _guard(self, action: str) -> Iterator[None]:
        if self._closed:
            raise StorageError(f"cannot {action}: the store {self._display} is closed")
        try:
            yield
        except SQLAlchemyError as exc:
            raise StorageError(self._message(action, exc)) from None

    def _message(self, action: str, exc: SQLAlchemyError) -> str:
        reason = self._scrub(driver_message(exc))
        unreachable = isinstance(exc, OperationalError | InterfaceError)
        if action == "open database" or (unreachable and self._backend == "postgresql"):
            if self._backend == "sqlite":
                hint = f"is the path a writable file? {DB_HINT}"
            elif "is the server running" in reason.lower():  # libpq says it already
                hint = f"check the host and port, or {DB_HINT}"
            else:
                hint = f"is the server running, and are host, user and password right? {DB_HINT}"
            if action == "open database":
                return f"cannot open database {self._display}: {reason}; {hint}"
            return f"cannot {action} in {self._display}: {reason}; {hint}"
        if isinstance(exc, IntegrityError):
            return f"cannot {action} in {self._display}: {reason}"
        return f"cannot {action} in {self._display}: {reason}; {DB_HINT} to a working database"

    def _scrub(self, text: str) -> str:
        """Remove the password from a driver message, however the driver quoted it."""
        return scrub_password(text, self._password)


def _driver_rows(connection: Connection, query: Select[Any]) -> list[Any]:
    """The rows of ``query`` as the driver's cursor returns them.

    SQLAlchemy's row objects and result processing cost as much as the read itself over
    tens of thousands of rows; a query whose columns need no conversion (strings,
    numbers, a boolean the caller converts) and whose parameters are plain strings and
    numbers can skip them, as the bulk import's ``executemany`` does.
    """
    compiled = query.compile(
        dialect=connection.dialect, compile_kwargs={"render_postcompile": True}
    )
    params = compiled.construct_params()
    positional = compiled.positiontup or ()
    args = tuple(params[name] for name in positional) if compiled.positional else params
    cursor = connection.connection.cursor()
    try:
        cursor.execute(compiled.string, args)
        return list(cursor.fetchall())
    finally:
        cursor.close()


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    """WAL lets readers run beside a writer; the busy timeout makes writers wait, not fail."""
    cursor = dbapi_connection.cursor()
    try:
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute(f"PRAGMA busy_timeout={int(SQLITE_BUSY_TIMEOUT_S * 1000)}")
        cursor.execute("PRAGMA foreign_keys=ON")
    finally:
        cursor.close()


def _key_clause(key: StepKey) -> list[ColumnElement[bool]]:
    return [
        StepRow.fingerprint == key.fingerprint,
        StepRow.role == key.role,
        StepRow.prompt_version == key.prompt_version,
        StepRow.case_hash == key.case_hash,
        StepRow.step_index == key.step_index,
    ]


def _step_values(record: StepRecord) -> dict[str, Any]:
    return {
        "run_id": record.run_id,
        "candidate": record.candidate,
        "fingerprint": record.fingerprint,
        "role": record.role,
        "prompt_version": record.prompt_version,
        "case_id": record.case_id,
        "case_hash": record.case_hash,
        "step_index": record.step_index,
        "success": record.success,
        "score": record.score,
        "metrics": dict(record.metrics),
        "output": record.output,
        "error": record.error,
        "tokens_in": record.tokens_in,
        "tokens_out": record.tokens_out,
        "latency_s": record.latency_s,
        "source": record.source,
        "created_at": record.created_at or datetime.now(UTC),
    }


def _step_record(row: Any) -> StepRecord:
    """A record from an ORM row or a Core row of ``steps`` (same attribute names)."""
    return StepRecord(
        candidate=row.candidate,
        fingerprint=row.fingerprint,
        role=row.role,
        prompt_version=row.prompt_version,
        case_id=row.case_id,
        case_hash=row.case_hash,
        step_index=row.step_index,
        success=row.success,
        score=row.score,
        metrics=dict(row.metrics or {}),
        output=row.output,
        error=row.error,
        tokens_in=row.tokens_in,
        tokens_out=row.tokens_out,
        latency_s=row.latency_s,
        source=row.source,
        run_id=row.run_id,
        created_at=row.created_at,
    )


def _run_record(row: RunRow) -> RunRecord:
    return RunRecord(
        id=row.id,
        label=row.label,
        started_at=row.started_at,
        finished_at=row.finished_at,
        status=row.status,
        n_generated=row.n_generated,
        n_reused=row.n_reused,
        config=dict(row.config or {}),
        pid=row.pid,
        host=row.host,
        heartbeat_at=row.heartbeat_at,
        report=dict(row.report) if row.report is not None else None,
    )


def _pid_alive(pid: int) -> bool:
    """Whether a process with this id exists on this machine (signal 0 probes, sends nothing)."""
    if pid == os.getpid():
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # exists, owned by another user
        return True
    except OSError:
        return False
    return True
