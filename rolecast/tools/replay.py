"""Replay: a case's recorded observations answer the calls equal to the recorded ones.

For end-to-end runs on recorded benchmarks (ToolAlpaca, BFCL, a user's logged
dialogues), where the real tools are out of reach: a call with the recorded tool and
arguments (compared as JSON values: ``2 == 2.0``, ``True != 1``) gets the recorded
observation; any other call gets an observation saying there is no recorded result,
never an invented one, so a wrong call cannot look right.
"""

from __future__ import annotations

from typing import Any

from rolecast.errors import ConfigError
from rolecast.profiles.metrics import json_equal
from rolecast.tools._base import ToolSet
from rolecast.types import Tool, ToolCase, ToolTurn, canonical_json

__all__ = ["NO_RECORDED_RESULT", "ReplayTools"]

NO_RECORDED_RESULT = "no recorded result"
"""The start of the observation a call that was not recorded gets."""


class ReplayTools(ToolSet):
    """Answers a case's calls from its gold steps and earlier tool turns."""

    source = "replay"

    def __init__(self) -> None:
        self._answered: dict[tuple[str, str, str], int] = {}

    def tools(self, case: ToolCase | None = None) -> list[Tool]:
        """The case's own tools."""
        if case is None:
            raise ConfigError(
                "replayed tools answer recorded cases only: run a case (--case ID), or list "
                "real tools (python, mcp, builtin) for a free instruction"
            )
        return list(case.tools)

    def call(self, name: str, arguments: dict[str, Any], case: ToolCase | None = None) -> Any:
        """The recorded observation of an equal call, or a "no recorded result" error.

        A call recorded several times (with different results) gets them in order; after
        the last, the last again.
        """
        if case is None:
            raise ConfigError("replayed tools answer recorded cases only: run a case (--case ID)")
        recorded = [(step.tool, step.arguments, step.observation) for step in case.steps]
        recorded += [
            (turn.tool, turn.arguments, turn.observation)
            for turn in case.history
            if isinstance(turn, ToolTurn)
        ]
        matches = [
            observation
            for tool, recorded_arguments, observation in recorded
            if tool == name and json_equal(recorded_arguments, arguments)
        ]
        if not matches:
            return {
                "error": f"{NO_RECORDED_RESULT} for {name}({canonical_json(arguments)}): this "
                "run replays the calls recorded in the case, and this call is not among them"
            }
        key = (case.id, name, canonical_json(arguments))
        seen = self._answered.get(key, 0)
        self._answered[key] = seen + 1
        return matches[min(seen, len(matches) - 1)]
