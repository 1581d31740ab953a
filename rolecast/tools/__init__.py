"""Tool sets an agent runs with (contract in ``_base.py``)."""

from __future__ import annotations

from typing import Any

from rolecast.errors import ConfigError
from rolecast.tools._base import ToolSet
from rolecast.types import Tool, ToolCase

__all__ = ["BuiltinTools", "ToolSet", "open_tools"]


class BuiltinTools(ToolSet):
    """The built-in suite's deterministic tools; a case's own tool list when it has one."""

    source = "builtin"

    def tools(self, case: ToolCase | None = None) -> list[Tool]:
        """The case's tools, or every built-in tool for a free instruction."""
        from rolecast.suite import tool_definitions

        return list(case.tools) if case is not None else tool_definitions()

    def call(self, name: str, arguments: dict[str, Any], case: ToolCase | None = None) -> Any:
        """Run the built-in tool."""
        from rolecast.suite import call_tool

        return call_tool(name, arguments)


def open_tools(source: str) -> ToolSet:
    """The tool set a project or coalition names (``builtin`` today)."""
    if source == "builtin":
        return BuiltinTools()
    raise ConfigError(f"tool set {source!r} is not runnable here; use 'builtin'")
