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
with no valid row raises :class:`ConfigError`.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Collection, Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any, Literal

from pydantic import Field, ValidationError, field_validator, model_validator

from rolecast.config import describe_validation_error, load_jsonl, read_text
from rolecast.errors import ConfigError
from rolecast.profiles.loaders import Skipped
from rolecast.storage.records import StepRecord
from rolecast.types import StrictModel

__all__ = [
    "COLUMNS",
    "REQUIRED",
    "ROLES",
    "ImportRow",
    "check_names",
    "imported_outcomes",
    "observation",
    "observed_steps",
    "read_results",
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
        return StepRecord(
            candidate=self.candidate,
            fingerprint=f"import:{self.candidate}",
            role=self.role,
            prompt_version="import",
            case_id=self.case_id,
            case_hash=f"id:{self.case_id}",
            step_index=self.step_index,
            success=success and self.observed,
            score=score,
            output=marker,
            tokens_in=self.tokens_in,
            tokens_out=self.tokens_out,
            latency_s=self.latency_s,
            source=source,
        )


def read_results(path: str | Path) -> tuple[list[StepRecord], list[Skipped]]:
    """Read a ``.csv`` or ``.jsonl`` file of per-step results.

    Raises:
        ConfigError: the file is missing, has another suffix, its CSV header lacks a
            required column or names an unknown one, or no row is valid.
    """
    path = Path(path)
    suffix = path.suffix.lower()
    if suffix == ".csv":
        rows = _csv_rows(path)
    elif suffix == ".jsonl":
        rows = [
            (line, str(value).split(": ", 1)[-1] if isinstance(value, ConfigError) else value)
            for line, value in load_jsonl(path)
        ]
    else:
        raise ConfigError(f"{path}: results to import must be a .csv or .jsonl file")
    source = f"import:{path.name}"
    records: list[StepRecord] = []
    skipped: list[Skipped] = []
    first_line: dict[tuple[str, str, str, int], int] = {}
    for line, row in rows:
        where = f"{path.name}:{line}"
        if isinstance(row, str):  # a JSON Lines parse error
            skipped.append(Skipped(source, where, row))
            continue
        if not isinstance(row, dict):
            skipped.append(Skipped(source, where, "not a JSON object"))
            continue
        reason = _missing(row)
        if reason is None:
            try:
                parsed = ImportRow.model_validate(row)
            except ValidationError as exc:
                reason = describe_validation_error(exc, ImportRow)
        if reason is not None:
            skipped.append(Skipped(source, where, reason))
            continue
        key = (parsed.candidate, parsed.role, parsed.case_id, parsed.step_index)
        if key in first_line:
            reason = f"repeats candidate/role/case_id/step_index of line {first_line[key]}"
            skipped.append(Skipped(source, where, reason))
            continue
        first_line[key] = line
        records.append(parsed.record(source))
    if not records:
        first = f"; first problem: {skipped[0]}" if skipped else ""
        raise ConfigError(f"{path}: no valid result rows{first}")
    return records, skipped


def check_names(
    records: Iterable[StepRecord], candidates: Collection[str], case_ids: Collection[str]
) -> None:
    """Raise naming every candidate and case id of ``records`` the project does not know.

    Raises:
        ConfigError: some candidate or case id is unknown (all of them are named).
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
            f"unknown candidate(s) {', '.join(bad_candidates)} (the project has "
            f"{', '.join(sorted(known_candidates))})"
        )
    if bad_cases:
        problems.append(
            f"unknown case id(s) {', '.join(bad_cases)} (`rolecast cases --format json` "
            f"lists the project's {len(known_cases)})"
        )
    if problems:
        raise ConfigError("; ".join(problems) + "; nothing imported")


def observation(record: StepRecord) -> tuple[bool, str | None]:
    """``(observed, given role)`` of a stored step; rolecast's own steps are observed."""
    if not record.source.startswith("import"):
        return True, None
    if record.output == NOT_OBSERVED:
        return False, None
    if record.output.startswith(GIVEN):
        return True, record.output.removeprefix(GIVEN)
    return True, None


def imported_outcomes(records: Iterable[StepRecord]) -> dict[tuple[str, str], bool]:
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


def observed_steps(
    records: Sequence[StepRecord], upstream: Mapping[tuple[str, str], bool]
) -> list[StepRecord]:
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


def _csv_rows(path: Path) -> list[tuple[int, dict[str, Any] | str]]:
    reader = csv.DictReader(io.StringIO(read_text(path), newline=""))
    header = [name.strip() for name in reader.fieldnames or []]
    missing = [name for name in REQUIRED if name not in header]
    unknown = [name for name in header if name not in COLUMNS]
    if missing or unknown:
        problems = [f"missing column(s) {', '.join(missing)}"] if missing else []
        problems += [f"unknown column(s) {', '.join(unknown)}"] if unknown else []
        raise ConfigError(
            f"{path}: {'; '.join(problems)}; columns are {', '.join(COLUMNS)} "
            f"(the first four required)"
        )
    reader.fieldnames = header
    rows: list[tuple[int, dict[str, Any] | str]] = []
    for raw in reader:  # csv skips blank lines
        if None in raw:
            rows.append((reader.line_num, f"more values than the {len(header)} columns"))
        elif any(value is None for value in raw.values()):
            rows.append((reader.line_num, f"fewer values than the {len(header)} columns"))
        else:
            row = {k: v.strip() for k, v in raw.items() if v.strip() != ""}
            rows.append((reader.line_num, row))
    return rows
