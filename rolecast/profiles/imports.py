"""Results measured elsewhere, read into profile steps (format: ``docs/import-format.md``).

A CSV (with a header row) or JSON Lines file, one row per candidate × role × case step:

=============  ========  ==========================================================
column         required  meaning
=============  ========  ==========================================================
candidate      yes       the candidate's name, as in the project's candidates
role           yes       ``planner``, ``caller``, ``extractor`` or ``responder``
case_id        yes       the case's id (``toolalpaca/Nager.Date/3``)
score          yes       a number in [0, 1] (may be empty when ``observed`` is false)
success        no        true/false; default ``score >= 0.5``
observed       no        true/false; false: the step exists but was not observed
given          no        a role: the verdict holds only where this candidate's step(s) of
                         that role on the case passed (elsewhere: not observed)
step_index     no        which gold step of the case (default 0)
tokens_in      no        prompt tokens (default 0)
tokens_out     no        generated tokens (default 0)
latency_s      no        seconds (default 0)
=============  ========  ==========================================================

Each row becomes a :class:`StepRecord` with ``fingerprint="import:<candidate>"``,
``prompt_version="import"``, ``case_hash="id:<case_id>"`` and
``source="import:<file name>"``: imported steps never collide with steps rolecast
generated, and are keyed by case id because the importer cannot know the case content.
What was observed is kept in the step's ``output`` (an imported step has no model
output): ``""`` observed, ``"not observed"``, or ``"given <role>"``; :func:`observation`
reads it back and :func:`observed_steps` resolves a case's steps against their upstream.
A bad row (unknown role or column, a missing value, a score that is not a number in
[0, 1], a repeated candidate/role/case/step) is skipped as ``file:line: reason``; a file
with no valid row raises :class:`ConfigError`. :func:`import_results` streams a file of
any size into the store in one transaction (bounded memory, nothing half-written);
:func:`read_results` reads a small one into memory.
"""

from __future__ import annotations

import csv
import json
import math
import re
from collections.abc import Collection, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal, TextIO, TypeVar

from pydantic import Field, ValidationError, field_validator, model_validator

from rolecast.config import describe_validation_error
from rolecast.errors import ConfigError
from rolecast.profiles.loaders import Skipped
from rolecast.storage.records import StepOutcome, StepRecord
from rolecast.types import StrictModel

if TYPE_CHECKING:
    from rolecast.storage import ProfileStore

__all__ = [
    "COLUMNS",
    "MAX_LISTED",
    "REQUIRED",
    "ROLES",
    "ImportRow",
    "ImportSummary",
    "ResultStream",
    "check_names",
    "import_results",
    "imported_outcomes",
    "imported_step",
    "observation",
    "observed_steps",
    "read_results",
    "unconditional",
]

ROLES = ("planner", "caller", "extractor", "responder")
REQUIRED = ("candidate", "role", "case_id", "score")
COLUMNS = (
    *REQUIRED,
    "success",
    "step_index",
    "tokens_in",
    "tokens_out",
    "latency_s",
    "observed",
    "given",
)
NOT_OBSERVED = "not observed"
GIVEN = "given "
#: Bad rows an import lists one by one; the others are only counted.
MAX_LISTED = 100


class ImportRow(StrictModel):
    """One row of an import file, validated."""

    candidate: str = Field(min_length=1)
    role: Literal["planner", "caller", "extractor", "responder"]
    case_id: str = Field(min_length=1)
    score: float | None = Field(default=None, ge=0.0, le=1.0, allow_inf_nan=False)
    success: bool | None = None
    observed: bool = True
    given: Literal["planner", "caller", "extractor", "responder"] | None = None
    step_index: int = Field(default=0, ge=0)
    tokens_in: int = Field(default=0, ge=0)
    tokens_out: int = Field(default=0, ge=0)
    latency_s: float = Field(default=0.0, ge=0.0, allow_inf_nan=False)

    @field_validator("candidate", "case_id")
    @classmethod
    def _stripped(cls, value: str) -> str:
        if value != value.strip():
            raise ValueError("has leading or trailing spaces")
        return value

    @model_validator(mode="after")
    def _scored_when_observed(self) -> ImportRow:
        if self.observed and self.score is None:
            raise ValueError("score: missing value (only a row with observed=false may omit it)")
        if self.given == self.role:
            raise ValueError(f"given: a step cannot be conditional on its own role {self.role!r}")
        return self

    def record(self, source: str) -> StepRecord:
        """The profile step this row stands for."""
        score = self.score if self.score is not None else 0.0
        success = self.success if self.success is not None else score >= 0.5
        marker = (
            ""
            if self.observed and self.given is None
            else (NOT_OBSERVED if not self.observed else GIVEN + str(self.given))
        )
        return imported_step(
            self.candidate,
            self.role,
            self.case_id,
            self.step_index,
            success=success and self.observed,
            score=score,
            output=marker,
            tokens_in=self.tokens_in,
            tokens_out=self.tokens_out,
            latency_s=self.latency_s,
            source=source,
        )


def imported_step(
    candidate: str,
    role: str,
    case_id: str,
    step_index: int,
    *,
    success: bool,
    score: float,
    output: str,
    tokens_in: int,
    tokens_out: int,
    latency_s: float,
    source: str,
) -> StepRecord:
    """The stored step of one imported result.

    Keyed by the case id, not its content, under the candidate's import fingerprint and
    the ``import`` prompt version.
    """
    return StepRecord(
        candidate=candidate,
        fingerprint=f"import:{candidate}",
        role=role,
        prompt_version="import",
        case_id=case_id,
        case_hash=f"id:{case_id}",
        step_index=step_index,
        success=success,
        score=score,
        output=output,
        tokens_in=tokens_in,
        tokens_out=tokens_out,
        latency_s=latency_s,
        source=source,
    )


class ResultStream:
    """The rows of one results file, read once and in order, in bounded memory.

    Opening reads up to the first valid row, so whole-file problems (missing file, wrong
    suffix, bad CSV header, no valid row before the end) raise before anything else is
    touched. Iterating yields ``(line, step)`` for every valid row; bad rows are counted
    and the first :data:`MAX_LISTED` kept in :attr:`skipped`. Repeated step keys are not
    detected here (the store finds them without holding every key in memory).

    Raises:
        ConfigError: the file is missing, has another suffix, is not UTF-8, its CSV
            header lacks a required column or names an unknown one, or no row is valid.
    """

    def __init__(self, path: str | Path, *, max_listed: int | None = MAX_LISTED) -> None:
        self.path = Path(path)
        self._max_listed = max_listed
        suffix = self.path.suffix.lower()
        if suffix not in (".csv", ".jsonl"):
            raise ConfigError(f"{self.path}: results to import must be a .csv or .jsonl file")
        #: ``source`` of the steps: ``import:<file name>``.
        self.source = f"import:{self.path.name}"
        #: The first problems, in line order; :attr:`n_skipped` counts all of them.
        self.skipped: list[Skipped] = []
        self.n_skipped = 0
        self.n_valid = 0
        rows = _csv_rows(self.path) if suffix == ".csv" else _jsonl_rows(self.path)
        self._records = self._validated(rows)
        self._first = next(self._records, None)  # reads the header and up to one valid row
        if self._first is None:
            self._no_valid_row()

    def __iter__(self) -> Iterator[tuple[int, StepRecord]]:
        first, self._first = self._first, None
        if first is None:
            raise ConfigError(f"{self.path}: a results file can be read only once")
        yield first
        yield from self._records

    def skip(self, line: int, reason: str) -> None:
        """Count a bad row; keep it while fewer than ``max_listed`` are kept."""
        self.n_skipped += 1
        if self._max_listed is None or len(self.skipped) < self._max_listed:
            self.skipped.append(Skipped(self.source, f"{self.path.name}:{line}", reason))

    def _validated(
        self, rows: Iterator[tuple[int, dict[str, Any] | str]]
    ) -> Iterator[tuple[int, StepRecord]]:
        for line, row in rows:
            if isinstance(row, str):  # a JSON Lines parse error or a CSV shape problem
                self.skip(line, row)
                continue
            if not isinstance(row, dict):
                self.skip(line, "not a JSON object")
                continue
            # not in the plain spelling: validated in full
            record = _plain_record(row, self.source) or _validated_record(row, self.source)
            if isinstance(record, str):
                self.skip(line, record)
                continue
            self.n_valid += 1
            yield line, record

    def _no_valid_row(self) -> None:
        first = f"; first problem: {self.skipped[0]}" if self.skipped else ""
        raise ConfigError(f"{self.path}: no valid result rows{first}")


@dataclass(frozen=True)
class ImportSummary:
    """What :func:`import_results` stored and what it skipped."""

    run_id: int
    written: int
    n_skipped: int
    skipped: tuple[Skipped, ...]  # the first MAX_LISTED problems, in line order


def import_results(
    store: ProfileStore, results: ResultStream, *, chunk_size: int = 5000
) -> ImportSummary:
    """Stream a results file into ``store`` as one run, in one transaction.

    Memory stays bounded whatever the file size (rows go to the database in chunks of
    ``chunk_size``); a row repeating the candidate/role/case_id/step_index of an earlier
    one is skipped; nothing is written unless the whole file was read.
    """
    path = results.path
    outcome = store.import_steps(
        results, label=f"import {path}", config={"file": str(path)}, chunk_size=chunk_size
    )
    repeats = [
        Skipped(results.source, f"{path.name}:{line}", _repeat_reason(first))
        for line, first in outcome.duplicates
    ]
    skipped = sorted([*results.skipped, *repeats], key=lambda s: int(s.record.rsplit(":", 1)[1]))[
        :MAX_LISTED
    ]
    return ImportSummary(
        run_id=outcome.run_id,
        written=outcome.written,
        n_skipped=results.n_skipped + outcome.n_duplicates,
        skipped=tuple(skipped),
    )


def read_results(path: str | Path) -> tuple[list[StepRecord], list[Skipped]]:
    """Read a ``.csv`` or ``.jsonl`` file of per-step results into memory.

    For small files and tests; :func:`import_results` stores a file of any size. Every
    bad row is returned (not only the first :data:`MAX_LISTED`), in line order.

    Raises:
        ConfigError: the file is missing, has another suffix, its CSV header lacks a
            required column or names an unknown one, or no row is valid.
    """
    stream = ResultStream(path, max_listed=None)
    records: list[StepRecord] = []
    first_line: dict[tuple[str, str, str, int], int] = {}
    for line, record in stream:
        key = (record.candidate, record.role, record.case_id, record.step_index)
        if key in first_line:
            stream.skip(line, _repeat_reason(first_line[key]))
            continue
        first_line[key] = line
        records.append(record)
    skipped = sorted(stream.skipped, key=lambda s: int(s.record.rsplit(":", 1)[1]))
    return records, skipped


def _repeat_reason(first: int) -> str:
    return f"repeats candidate/role/case_id/step_index of line {first}"


def check_names(
    records: Iterable[StepRecord], candidates: Collection[str], case_ids: Collection[str]
) -> None:
    """Raise naming the candidates and case ids of ``records`` the project does not know.

    Raises:
        ConfigError: some candidate or case id is unknown (up to 20 of each kind are
            named, then how many more).
    """
    known_candidates, known_cases = set(candidates), set(case_ids)
    bad_candidates: dict[str, None] = {}
    bad_cases: dict[str, None] = {}
    for record in records:
        if record.candidate not in known_candidates:
            bad_candidates[record.candidate] = None
        if record.case_id not in known_cases:
            bad_cases[record.case_id] = None
    problems = []
    if bad_candidates:
        problems.append(
            f"unknown candidate(s) {_some(bad_candidates)} (the project has "
            f"{', '.join(sorted(known_candidates))})"
        )
    if bad_cases:
        problems.append(
            f"unknown case id(s) {_some(bad_cases)} (`rolecast cases --format json` "
            f"lists the project's {len(known_cases)})"
        )
    if problems:
        raise ConfigError("; ".join(problems) + "; nothing imported")


def _some(names: Collection[str], shown: int = 20) -> str:
    """The first ``shown`` names, and how many more (a file of another project has many)."""
    first = list(names)[:shown]
    more = f" and {len(names) - shown} more" if len(names) > shown else ""
    return ", ".join(first) + more


Step = StepRecord | StepOutcome
"""A stored step, as a full record or as the light tuple aggregation reads."""
StepT = TypeVar("StepT", StepRecord, StepOutcome)


def observation(record: Step) -> tuple[bool, str | None]:
    """``(observed, given role)`` of a stored step; rolecast's own steps are observed."""
    if not record.source.startswith("import"):
        return True, None
    if record.output == NOT_OBSERVED:
        return False, None
    if record.output.startswith(GIVEN):
        return True, record.output.removeprefix(GIVEN)
    return True, None


def imported_outcomes(records: Iterable[Step]) -> dict[tuple[str, str], bool]:
    """``(role, case_id) -> passed`` for one candidate's imported steps, as a condition.

    True only when every step of the role on the case was observed unconditionally and
    passed; a failed, unobserved or itself conditional upstream does not meet a condition.
    """
    out: dict[tuple[str, str], bool] = {}
    for r in records:
        if not r.source.startswith("import"):
            continue
        key = (r.role, r.case_id)
        out[key] = out.get(key, True) and r.success and observation(r) == (True, None)
    return out


def unconditional(records: Iterable[Step]) -> bool:
    """Whether every step of ``records`` is an observation whatever its upstream.

    True when no imported step is marked not observed or ``given`` a role: then
    :func:`observed_steps` keeps every step, and need not be asked case by case.
    """
    return not any(
        r.output == NOT_OBSERVED or r.output.startswith(GIVEN)
        for r in records
        if r.source.startswith("import")
    )


def observed_steps(
    records: Sequence[StepT], upstream: Mapping[tuple[str, str], bool]
) -> list[StepT]:
    """The steps of ``records`` that count as observations.

    A step marked not observed never counts; a step ``given`` a role counts only where
    ``upstream[(role, case_id)]`` (same candidate) is True.
    """
    kept = []
    for r in records:
        seen, given = observation(r)
        if seen and (given is None or upstream.get((given, r.case_id), False)):
            kept.append(r)
    return kept


_DECIMAL = re.compile(r"(?:0|[1-9][0-9]{0,14})(?:\.[0-9]{1,17})?")
_COUNT = re.compile(r"0|[1-9][0-9]{0,14}")
_PLAIN_INT = 10**15
_PLAIN_COLUMNS = frozenset(COLUMNS) - {"observed", "given"}
_TRUE_FALSE = {"true": True, "false": False}


def _plain_number(value: object) -> float | None:
    """A finite number >= 0 written plainly (``0.25``, ``3``, a JSON number), else None."""
    if type(value) is str:
        number = float(value) if _DECIMAL.fullmatch(value) else None
    elif type(value) is float:
        number = value
    elif type(value) is int:  # not bool
        number = float(value) if abs(value) < _PLAIN_INT else None
    else:
        return None
    return number if number is not None and 0.0 <= number < math.inf else None


def _plain_count(value: object) -> int | None:
    """A count written plainly (``0``, ``312``, a JSON integer), else None."""
    if type(value) is str:
        return int(value) if _COUNT.fullmatch(value) else None
    if type(value) is int:
        return value if 0 <= value < _PLAIN_INT else None
    return None


def _plain_record(row: dict[str, Any], source: str) -> StepRecord | None:
    """The step of a valid row in the plain spelling, else None (then :class:`ImportRow`).

    Plain: no ``observed`` or ``given`` column, names that need no stripping, a known
    role, numbers as decimals and ``success`` as true/false. Such a row gives exactly the
    step :class:`ImportRow` gives; any other row, valid or not, is left to it, so every
    message stays its own. Checking by hand is several times faster than validating a
    model per row, which a million-row import notices.
    """
    if not row.keys() <= _PLAIN_COLUMNS:
        return None
    candidate, role, case_id = row.get("candidate"), row.get("role"), row.get("case_id")
    if not (
        type(candidate) is str
        and type(case_id) is str
        and candidate
        and case_id
        and candidate == candidate.strip()
        and case_id == case_id.strip()
        and role in ROLES
    ):
        return None
    score = _plain_number(row.get("score"))
    if score is None or score > 1.0:
        return None
    success: bool | None = score >= 0.5
    if "success" in row:
        value = row["success"]
        success = (
            value if type(value) is bool else _TRUE_FALSE.get(value) if type(value) is str else None
        )
    step_index = _plain_count(row.get("step_index", 0))
    tokens_in = _plain_count(row.get("tokens_in", 0))
    tokens_out = _plain_count(row.get("tokens_out", 0))
    latency = _plain_number(row.get("latency_s", 0.0))
    if (
        success is None
        or step_index is None
        or tokens_in is None
        or tokens_out is None
        or latency is None
    ):
        return None
    return imported_step(
        candidate,
        role,
        case_id,
        step_index,
        success=success,
        score=score,
        output="",
        tokens_in=tokens_in,
        tokens_out=tokens_out,
        latency_s=latency,
        source=source,
    )


def _validated_record(row: dict[str, Any], source: str) -> StepRecord | str:
    """The step of a row validated by :class:`ImportRow`, or why the row is skipped."""
    reason = _missing(row)
    if reason is not None:
        return reason
    try:
        return ImportRow.model_validate(row).record(source)
    except ValidationError as exc:
        return describe_validation_error(exc, ImportRow)


def _missing(row: dict[str, Any]) -> str | None:
    required = REQUIRED if _truthy(row.get("observed", True)) else REQUIRED[:3]
    absent = [name for name in required if row.get(name) in (None, "")]
    if absent:
        return f"missing value for {', '.join(absent)}"
    if isinstance(row.get("score"), bool):
        return f"score {row['score']!r} is not a number in [0, 1]"
    return None


def _truthy(value: object) -> bool:
    """Whether an ``observed`` cell reads as true (pydantic validates it properly later)."""
    return str(value).strip().lower() not in ("false", "0", "no", "f", "n", "off")


def _open(path: Path) -> TextIO:
    """The file opened as UTF-8 text; missing, a folder or unreadable is a ConfigError."""
    try:
        return path.open(encoding="utf-8", newline="")
    except FileNotFoundError:
        raise ConfigError(f"{path}: file not found") from None
    except IsADirectoryError:
        raise ConfigError(f"{path}: is a folder, expected a file") from None
    except OSError as exc:
        raise ConfigError(f"{path}: cannot read ({exc.strerror})") from None


def _jsonl_rows(path: Path) -> Iterator[tuple[int, Any]]:
    with _open(path) as handle:
        try:
            for number, line in enumerate(handle, start=1):
                if not line.strip():
                    continue
                try:
                    yield number, json.loads(line)
                except json.JSONDecodeError as exc:
                    yield number, f"malformed JSON: {exc.msg}"
        except UnicodeDecodeError:
            raise ConfigError(f"{path}: not UTF-8 text") from None


def _csv_rows(path: Path) -> Iterator[tuple[int, dict[str, Any] | str]]:
    with _open(path) as handle:
        try:
            yield from _csv_records(path, csv.reader(handle))
        except UnicodeDecodeError:
            raise ConfigError(f"{path}: not UTF-8 text") from None


def _csv_records(path: Path, reader: Any) -> Iterator[tuple[int, dict[str, Any] | str]]:
    header = [name.strip() for name in next(reader, [])]
    missing = [name for name in REQUIRED if name not in header]
    unknown = [name for name in header if name not in COLUMNS]
    if missing or unknown:
        problems = [f"missing column(s) {', '.join(missing)}"] if missing else []
        problems += [f"unknown column(s) {', '.join(unknown)}"] if unknown else []
        raise ConfigError(
            f"{path}: {'; '.join(problems)}; columns are {', '.join(COLUMNS)} "
            f"(the first four required)"
        )
    width = len(header)
    for raw in reader:
        if not raw:  # a blank line
            continue
        if len(raw) > width:
            yield reader.line_num, f"more values than the {width} columns"
        elif len(raw) < width:
            yield reader.line_num, f"fewer values than the {width} columns"
        else:
            cells = zip(header, raw, strict=True)
            yield reader.line_num, {name: text for name, v in cells if (text := v.strip())}
