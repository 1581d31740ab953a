"""The suite's tool registry: definitions for prompts and a validating dispatcher."""

from __future__ import annotations

import difflib
from collections.abc import Iterable
from typing import Any

import jsonschema

from rolecast.suite import catalogue, dates, recipes, shipping, units, weather
from rolecast.suite._base import ToolCallError, ToolSpec
from rolecast.types import Tool

__all__ = ["TOOLS", "ToolCallError", "ToolSpec", "call_tool", "tool_definitions"]

TOOLS: dict[str, ToolSpec] = {
    spec.name: spec
    for module in (units, dates, catalogue, shipping, recipes, weather)
    for spec in module.SPECS
}
"""Every suite tool by name."""

_VALIDATORS = {
    name: jsonschema.Draft202012Validator(spec.parameters) for name, spec in TOOLS.items()
}


def _spec(name: str) -> ToolSpec:
    spec = TOOLS.get(name)
    if spec is None:
        close = difflib.get_close_matches(name, TOOLS, n=1)
        known = ", ".join(sorted(TOOLS))
        hint = f"; did you mean {close[0]!r}?" if close else f"; known tools: {known}"
        raise ToolCallError(f"unknown tool {name!r}{hint}")
    return spec


def tool_definitions(names: Iterable[str] | None = None) -> list[Tool]:
    """The named tools as the agent sees them, in the given order; all, sorted, if None."""
    selected = sorted(TOOLS) if names is None else list(names)
    return [_spec(name).definition() for name in selected]


def _describe(error: jsonschema.ValidationError) -> str:
    where = ".".join(str(part) for part in error.absolute_path)
    return f"{where}: {error.message}" if where else error.message


def call_tool(name: str, arguments: dict[str, Any]) -> Any:
    """Validate ``arguments`` against the tool's schema and call it.

    Raises:
        ToolCallError: the tool is unknown, the arguments break its schema, or the
            tool rejects them (an unknown product id, a month outside the archive, a
            number or date out of range).
    """
    spec = _spec(name)
    if not isinstance(arguments, dict):
        kind = type(arguments).__name__
        raise ToolCallError(f"{name}: arguments must be a JSON object, not {kind}")
    error = jsonschema.exceptions.best_match(_VALIDATORS[name].iter_errors(arguments))
    if error is not None:
        raise ToolCallError(f"{name}: invalid arguments: {_describe(error)}")
    try:
        return spec.function(**arguments)
    except ToolCallError as error:
        raise ToolCallError(f"{name}: {error}") from None
    except ArithmeticError as error:  # schema-valid but out of range: year 1 minus a day, 1e400
        raise ToolCallError(f"{name}: an argument is out of range ({error})") from None
