"""The built-in case suite: real deterministic tools and original cases recorded from them."""

from rolecast.suite._base import ToolCallError, ToolSpec
from rolecast.suite.cases import balanced_subset, build_suite, default_subset
from rolecast.suite.tools import TOOLS, call_tool, tool_definitions

__all__ = [
    "TOOLS",
    "ToolCallError",
    "ToolSpec",
    "balanced_subset",
    "build_suite",
    "call_tool",
    "default_subset",
    "tool_definitions",
]
