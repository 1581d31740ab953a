"""The built-in suite's deterministic tools as a tool set."""

from __future__ import annotations

from typing import Any

from rolecast.tools._base import ToolSet
from rolecast.types import Tool, ToolCase

__all__ = ["BuiltinTools"]


class BuiltinTools(ToolSet):
    """The built-in suite's deterministic tools; a case's own tool list when it has one."""

    source = "builtin"

    def tools(self, case: ToolCase | None = None) -> list[Tool]:
        """The case's tools, or every built-in tool for a free instruction."""
        from rolecast.suite import tool_definitions

        return list(case.tools) if case is not None else tool_definitions()

    def call(self, name: str, arguments: dict[str, Any], case: ToolCase | None = None) -> Any:
        """Run the built-in tool (:class:`ValueError` when it refuses the call)."""
        from rolecast.suite import call_tool

        return call_tool(name, arguments)
