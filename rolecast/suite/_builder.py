"""How a suite case is written: calls whose observations come from the real tools.

A :class:`CaseSpec` names the gold calls; an argument set may be a function of the
observations so far, so dependent calls are computed, never hand-typed. The gold
answer is a function of the observations too.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from rolecast.errors import CaseError
from rolecast.suite.tools import TOOLS, call_tool, tool_definitions
from rolecast.types import GoldStep, Tool, ToolCase

__all__ = [
    "NO_TOOL_ANSWER",
    "Call",
    "CaseSpec",
    "Observations",
    "amount",
    "ingredient",
    "num",
    "only",
    "reading",
    "realise",
    "unit_words",
]

NO_TOOL_ANSWER = "None of the available tools can help with that request."
"""The gold answer of every case that no tool fits."""

Observations = Sequence[Any]
Arguments = dict[str, Any] | Callable[[Observations], dict[str, Any]]

# fmt: off
_UNIT_WORDS = {
    "mm": "millimetres", "cm": "centimetres", "m": "metres", "km": "kilometres",
    "in": "inches", "ft": "feet", "yd": "yards", "mi": "miles",
    "mg": "milligrams", "g": "grams", "kg": "kilograms", "oz": "ounces", "lb": "pounds",
    "ml": "millilitres", "l": "litres", "tsp": "teaspoons", "tbsp": "tablespoons",
    "fl_oz": "fluid ounces", "cup": "cups", "pt": "pints", "qt": "quarts", "gal": "gallons",
    "celsius": "degrees Celsius", "fahrenheit": "degrees Fahrenheit", "kelvin": "kelvin",
}
# fmt: on


@dataclass(frozen=True)
class Call:
    """One gold tool call; ``arguments`` may be computed from the earlier observations."""

    tool: str
    arguments: Arguments
    evidence: tuple[str, ...] | None = None


@dataclass(frozen=True)
class CaseSpec:
    """A case as written: instruction, gold calls, and the answer built from observations."""

    id: str
    instruction: str
    calls: tuple[Call, ...] = ()
    answer: str | Callable[[Observations], str] = NO_TOOL_ANSWER


def _tags(steps: list[GoldStep]) -> list[str]:
    kind = "no-tool" if not steps else "single" if len(steps) == 1 else "multi-step"
    large = ["large-response"] if any(step.evidence for step in steps) else []
    domains = sorted({TOOLS[step.tool].domain for step in steps})
    return [kind, *large, *domains]


def realise(spec: CaseSpec, tools: list[Tool] | None = None) -> ToolCase:
    """Run the spec's calls through the real tools and record them as a :class:`ToolCase`."""
    observations: list[Any] = []
    steps: list[GoldStep] = []
    for call in spec.calls:
        arguments = call.arguments(observations) if callable(call.arguments) else call.arguments
        observation = call_tool(call.tool, dict(arguments))
        observations.append(observation)
        evidence = list(call.evidence) if call.evidence else None
        steps.append(
            GoldStep(
                tool=call.tool,
                arguments=dict(arguments),
                observation=observation,
                evidence=evidence,
            )
        )
    answer = spec.answer(observations) if callable(spec.answer) else spec.answer
    return ToolCase(
        id=spec.id,
        instruction=spec.instruction,
        tools=tool_definitions() if tools is None else tools,
        steps=steps,
        answer=answer,
        tags=_tags(steps),
    )


def num(value: float) -> str:
    """A number as a person writes it: ``16.09``, ``4`` rather than ``4.0``."""
    return str(int(value)) if float(value).is_integer() else str(value)


def amount(value: float, currency: str) -> str:
    """Money with cents: ``92.00 EUR``."""
    return f"{value:.2f} {currency}"


def unit_words(unit: str) -> str:
    """A unit code spelled out for answers: ``mi`` → ``miles``."""
    return _UNIT_WORDS.get(unit, unit)


def only(items: list[dict[str, Any]], key: str, *, largest: bool = False) -> dict[str, Any]:
    """The item with the smallest (or largest) ``key``; a tie would make the gold ambiguous."""
    best = (max if largest else min)(item[key] for item in items)
    winners = [item for item in items if item[key] == best]
    if len(winners) != 1:
        raise CaseError(f"{len(winners)} items tie on {key}={best}; pick another case")
    return winners[0]


def reading(archive: dict[str, Any], date: str) -> dict[str, Any]:
    """The weather reading of ``date`` in a ``weather_archive`` response."""
    return next(item for item in archive["readings"] if item["date"] == date)


def ingredient(recipe: dict[str, Any], name: str) -> dict[str, Any]:
    """The ingredient called ``name`` in a ``get_recipe`` response."""
    return next(item for item in recipe["ingredients"] if item["name"] == name)
