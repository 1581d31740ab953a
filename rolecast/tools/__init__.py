"""Tool sets an agent runs with (contract in ``_base.py``, sources in ``spec.py``).

:func:`open_tools` opens what a project or coalition lists under ``tools:`` as one
:class:`ToolSet`: the built-in suite, the user's Python callables, MCP servers, and
replayed recorded observations.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from rolecast.errors import ConfigError
from rolecast.tools._base import ToolSet
from rolecast.tools.builtin import BuiltinTools
from rolecast.tools.python import tool
from rolecast.tools.replay import NO_RECORDED_RESULT, ReplayTools
from rolecast.tools.spec import (
    BuiltinSource,
    McpSource,
    PythonSource,
    ReplaySource,
    ToolSource,
    ToolsSpec,
    UnknownSource,
)
from rolecast.types import Tool, ToolCase

__all__ = [
    "NO_RECORDED_RESULT",
    "BuiltinSource",
    "BuiltinTools",
    "McpSource",
    "ProjectTools",
    "PythonSource",
    "ReplaySource",
    "ReplayTools",
    "ToolSet",
    "ToolSource",
    "ToolsSpec",
    "open_tools",
    "tool",
]


def _open_one(source: Any, base_dir: Path | None) -> ToolSet:
    if isinstance(source, UnknownSource):
        raise ConfigError(
            f"the tools are {source.describe()}: name the tools to run with (--tools, or "
            "'tools:' in the coalition: builtin, replay, package.module:ATTRIBUTE, mcp)"
        )
    if isinstance(source, BuiltinSource):
        return BuiltinTools()
    if isinstance(source, ReplaySource):
        return ReplayTools()
    if isinstance(source, PythonSource):
        from rolecast.tools.python import PythonTools

        return PythonTools(source, base_dir)
    from rolecast.tools.mcp import McpTools

    return McpTools(source, base_dir)


class ProjectTools(ToolSet):
    """Every source of a tool spec as one tool set.

    The live sources (builtin, python, mcp) must not share a tool name; ``replay``
    answers, from the case's records, the case's tools that no live source provides.
    """

    def __init__(self, spec: ToolsSpec, base_dir: str | Path | None = None) -> None:
        self.spec = spec
        self.source = spec.describe()
        self._sets: list[ToolSet] = []
        base = Path(base_dir) if base_dir is not None else None
        try:
            for source in spec.sources:
                self._sets.append(_open_one(source, base))
            self._live: dict[str, tuple[Tool, ToolSet]] = {}
            for toolset in self._sets:
                if isinstance(toolset, ReplayTools):
                    continue
                for definition in toolset.tools(None):
                    if definition.name in self._live:
                        other = self._live[definition.name][1].source
                        raise ConfigError(
                            f"tool {definition.name!r} is provided by both {other} and "
                            f"{toolset.source}; tool names must be unique across sources"
                        )
                    self._live[definition.name] = (definition, toolset)
        except BaseException:
            self.close()
            raise
        self._replay = next((t for t in self._sets if isinstance(t, ReplayTools)), None)

    def missing(self, case: ToolCase) -> list[str]:
        """The case's tools that no source provides (left out of what the agent sees)."""
        if self._replay is not None:
            return []
        return [t.name for t in case.tools if t.name not in self._live]

    def tools(self, case: ToolCase | None = None) -> list[Tool]:
        """The live definitions of the case's tools, or every live tool for a free run.

        Raises:
            ConfigError: a gold call of the case names a tool no source provides (the run
                could never pass), or only replay is listed and there is no case.
        """
        if case is None:
            if not self._live:
                return self._replay.tools(None) if self._replay else []
            return [definition for definition, _ in self._live.values()]
        missing = self.missing(case)
        needed = sorted({step.tool for step in case.steps if step.tool in missing})
        if needed:
            raise ConfigError(
                f"case {case.id!r} calls {', '.join(needed)}, which the tools ({self.source}) "
                "do not provide; list the tools that implement it under 'tools:' in the "
                "project (a python module, an mcp server), or use 'tools: replay' to answer "
                "from the case's recorded results"
            )
        return [self._live[t.name][0] if t.name in self._live else t for t in case.tools
                if t.name in self._live or self._replay is not None]  # fmt: skip

    def call(self, name: str, arguments: dict[str, Any], case: ToolCase | None = None) -> Any:
        """Call ``name`` on the source that provides it (replay for the case's others)."""
        if name in self._live:
            return self._live[name][1].call(name, arguments, case)
        if self._replay is not None and case is not None and case.tool(name) is not None:
            return self._replay.call(name, arguments, case)
        raise ValueError(f"unknown tool {name!r}")

    def close(self) -> None:
        """Close every source (ends MCP server processes); idempotent."""
        sets, self._sets = self._sets, []
        for toolset in reversed(sets):
            toolset.close()


def open_tools(
    spec: ToolsSpec | str | list[Any] | dict[str, Any] = "builtin",
    base_dir: str | Path | None = None,
) -> ProjectTools:
    """Open the tool set that a project or coalition lists under ``tools:``.

    Args:
        spec: a :class:`ToolsSpec`, or what the YAML holds (``"builtin"``,
            ``"mypackage.tools:TOOLS"``, ``"replay"``, a list of sources).
        base_dir: the folder relative module paths and server folders are relative to
            (the folder of the file that declares them); the working folder when None.

    Raises:
        ConfigError: the spec is invalid, a module or tool is wrong, names collide.
        ToolError: an MCP server does not start or answer.
    """
    if not isinstance(spec, ToolsSpec):
        from pydantic import ValidationError

        from rolecast.config import describe_validation_error

        try:
            spec = ToolsSpec.parse(spec)
        except ValidationError as exc:
            raise ConfigError(f"tools: {describe_validation_error(exc, ToolsSpec)}") from None
    return ProjectTools(spec, base_dir)
