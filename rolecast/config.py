"""Reading YAML / JSON / JSONL into validated models, with one-line errors."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

import yaml
from pydantic import BaseModel, ValidationError

from rolecast.errors import ConfigError

__all__ = [
    "BrokenRecord",
    "describe_validation_error",
    "load_json",
    "load_json_records",
    "load_jsonl",
    "load_yaml",
    "parse_model",
    "read_text",
]

M = TypeVar("M", bound=BaseModel)


def load_yaml(path: str | Path) -> Any:
    """Parse a YAML file; a missing or malformed file raises :class:`ConfigError`."""
    path = Path(path)
    text = read_text(path)
    try:
        return yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" at line {mark.line + 1}, column {mark.column + 1}" if mark else ""
        problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
        raise ConfigError(f"{path}: malformed YAML{where}: {problem}") from None


def load_json(path: str | Path) -> Any:
    """Parse a JSON file; a missing, truncated or malformed file raises :class:`ConfigError`."""
    path = Path(path)
    text = read_text(path)
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise _json_error(path, exc) from None


@dataclass(frozen=True)
class BrokenRecord:
    """Where a record list stopped parsing: the record's index and the parser's complaint."""

    index: int
    line: int
    column: int
    message: str

    @property
    def reason(self) -> str:
        """The one-line reason a loader reports for the broken record."""
        return (
            f"malformed JSON at line {self.line}, column {self.column}: {self.message} "
            f"(the file is truncated or broken here; the {self.index} record(s) before it "
            "are loaded, nothing after it is)"
        )


def load_json_records(path: str | Path, key: str | None = None) -> tuple[Any, BrokenRecord | None]:
    """Parse a JSON file of records, keeping the complete ones when the file is broken.

    Benchmark files are a list of records, at the top level (``key=None``) or under one
    key of a top-level object (``{"testcases": [...]}``). A download cut short or a
    record broken by hand should cost that record and what follows it, not the file:
    the records before the break are returned, in the same shape as an intact file
    would give, with a :class:`BrokenRecord` saying where parsing stopped.

    Returns:
        The parsed value and ``None`` for an intact file; for a broken one, the list
        (or ``{key: list}``) of the complete records before the break, and the break.

    Raises:
        ConfigError: the file is missing, or broken before its first complete record.
    """
    path = Path(path)
    text = read_text(path)
    try:
        return json.loads(text), None
    except json.JSONDecodeError as exc:
        error = exc
    whole_file_error = _json_error(path, error)
    opening = r"\s*\[" if key is None else rf"\s*\{{\s*{re.escape(json.dumps(key))}\s*:\s*\["
    start = re.match(opening, text)
    if start is None:
        raise whole_file_error
    # The parser's first error is where the file breaks; keep every record that ends before.
    decoder = json.JSONDecoder()
    records: list[Any] = []
    position = _skip_space(text, start.end())
    while position < error.pos:
        if text[position] == "]":
            raise whole_file_error  # the list is whole: the break is after it
        if records:
            if text[position] != ",":
                break
            position = _skip_space(text, position + 1)
        try:
            record, end = decoder.raw_decode(text, position)
        except json.JSONDecodeError:
            break
        if end > error.pos:
            break
        records.append(record)
        position = _skip_space(text, end)
    if not records:
        raise whole_file_error
    broken = BrokenRecord(len(records), error.lineno, error.colno, error.msg)
    return (records if key is None else {key: records}), broken


def _json_error(path: Path, exc: json.JSONDecodeError) -> ConfigError:
    where = f"line {exc.lineno}, column {exc.colno}"
    return ConfigError(f"{path}: malformed JSON at {where}: {exc.msg}")


def _skip_space(text: str, position: int) -> int:
    while position < len(text) and text[position].isspace():
        position += 1
    return position


def read_text(path: Path) -> str:
    """A UTF-8 text file's contents; missing, a folder, unreadable or not UTF-8 is a ConfigError."""
    try:
        return path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ConfigError(f"{path}: file not found") from None
    except IsADirectoryError:
        raise ConfigError(f"{path}: is a folder, expected a file") from None
    except OSError as exc:
        raise ConfigError(f"{path}: cannot read ({exc.strerror})") from None
    except UnicodeDecodeError:
        raise ConfigError(f"{path}: not UTF-8 text") from None


def load_jsonl(path: str | Path) -> list[tuple[int, Any | ConfigError]]:
    """Parse JSON Lines: (line number, value or the error for that line); blank lines skipped."""
    path = Path(path)
    lines = read_text(path).splitlines()
    records: list[tuple[int, Any | ConfigError]] = []
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        try:
            records.append((number, json.loads(line)))
        except json.JSONDecodeError as exc:
            records.append((number, ConfigError(f"{path}:{number}: malformed JSON: {exc.msg}")))
    return records


def describe_validation_error(exc: ValidationError, model: type[BaseModel]) -> str:
    """The first validation problem in one line, naming the allowed keys for a typo."""
    error = exc.errors()[0]
    location = ".".join(str(part) for part in error["loc"]) or "(top level)"
    if error["type"] == "extra_forbidden":
        allowed = _allowed_keys(model, error["loc"][:-1])
        hint = f"; allowed keys: {', '.join(allowed)}" if allowed else ""
        message = f"unknown key {location!r}{hint}"
    else:  # our own validators' messages without pydantic's "Value error, " prefix
        text = (
            error["msg"].removeprefix("Value error, ")
            if error["type"] == "value_error"
            else error["msg"]
        )
        message = f"{location}: {text}"
    extra = len(exc.errors()) - 1
    return message + (f" (and {extra} more problem{'s' if extra > 1 else ''})" if extra else "")


def _allowed_keys(model: type[BaseModel], loc: tuple[Any, ...]) -> list[str]:
    current: Any = model
    for part in loc:
        if isinstance(part, int):
            continue
        field = getattr(current, "model_fields", {}).get(part)
        if field is None:
            return []
        current = _inner_model(field.annotation)
        if current is None:
            return []
    return sorted(getattr(current, "model_fields", {}))


def _inner_model(annotation: Any) -> type[BaseModel] | None:
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation
    for arg in getattr(annotation, "__args__", ()) or ():
        found = _inner_model(arg)
        if found is not None:
            return found
    return None


def parse_model(model: type[M], data: Any, source: str) -> M:
    """Validate ``data`` as ``model``; errors become one line prefixed with ``source``."""
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        raise ConfigError(f"{source}: {describe_validation_error(exc, model)}") from None
