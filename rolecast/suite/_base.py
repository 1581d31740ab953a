"""The tool contract: a :class:`ToolSpec` pairs a JSON-schema signature with a pure function.

Every suite tool is deterministic: the same arguments give the same JSON-serialisable
result on every machine and Python version (no clock, no network, no unseeded
randomness), so gold observations can be recomputed and compared exactly.
"""

from __future__ import annotations

import copy
import datetime as dt
import hashlib
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from rolecast.errors import RolecastError
from rolecast.types import Tool

__all__ = [
    "DATE_PATTERN",
    "ToolCallError",
    "ToolSpec",
    "money",
    "noise",
    "object_schema",
    "parse_date",
    "round_value",
]

DATE_PATTERN = r"^\d{4}-\d{2}-\d{2}$"
"""The only date format a suite tool accepts: ISO ``YYYY-MM-DD``."""


class ToolCallError(RolecastError, ValueError):
    """A tool call failed: unknown tool, arguments that break the schema, or a domain error."""


@dataclass(frozen=True)
class ToolSpec:
    """A suite tool: what the agent sees (name, description, parameters) and the function.

    ``function`` is called with the validated arguments as keywords and must be
    deterministic and return JSON-serialisable values. ``domain`` tags the cases that
    use the tool (``units``, ``weather``, ...).
    """

    name: str
    description: str
    parameters: dict[str, Any]
    function: Callable[..., Any]
    domain: str

    def definition(self) -> Tool:
        """The tool as the agent sees it (a copy: the schema cannot be changed through it)."""
        return Tool(
            name=self.name,
            description=self.description,
            parameters=copy.deepcopy(self.parameters),
        )


def object_schema(properties: dict[str, Any], required: list[str]) -> dict[str, Any]:
    """A closed JSON schema of type object: unknown argument names are rejected."""
    return {
        "type": "object",
        "properties": properties,
        "required": required,
        "additionalProperties": False,
    }


def round_value(value: float) -> float:
    """Two decimals, or three significant digits below 1 so small results do not vanish."""
    rounded = round(value, 2) if value == 0 or abs(value) >= 1 else float(f"{value:.3g}")
    return rounded + 0.0  # turns -0.0 into 0.0


def money(value: float) -> float:
    """An amount of money, rounded to cents."""
    return round(value, 2) + 0.0


def parse_date(value: str, field: str = "date") -> dt.date:
    """A ``YYYY-MM-DD`` date, or a :class:`ToolCallError` naming the field."""
    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        raise ToolCallError(f"{field} {value!r} is not a valid date; use YYYY-MM-DD") from None


def noise(*parts: object) -> float:
    """A stable pseudo-random number in [0, 1) keyed by ``parts`` (sha256, not ``random``)."""
    digest = hashlib.sha256("|".join(str(part) for part in parts).encode()).digest()
    return int.from_bytes(digest[:8], "big") / 2**64
