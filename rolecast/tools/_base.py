"""The tool-set contract: where an agent's tools come from and how a call is made.

An agent (``rolecast run``, end-to-end verification) never imports a tool implementation
directly; it asks a :class:`ToolSet` for the tools a task may use and makes calls through
it. Implementations: the built-in suite's deterministic tools (``builtin``); the project's
own tools (Python callables, MCP servers) and replayed recorded observations plug in here.

Contract for implementations:

* ``tools(case)`` returns the tool definitions the agent sees for ``case`` (or for a free
  instruction when ``case`` is None).
* ``call(name, arguments, case)`` returns the tool's observation (any JSON-able value). A
  call the tool refuses (bad arguments, unknown tool) raises :class:`ValueError` with a
  message the agent may see; an infrastructure failure (a server that is down) raises
  :class:`~rolecast.errors.RolecastError`.
* ``source`` is what a coalition records as its tools (``builtin``, ...).
* ``close()`` releases what the tool set holds (processes, connections); idempotent.
"""

from __future__ import annotations

import abc
from typing import Any

from rolecast.types import Tool, ToolCase

__all__ = ["ToolSet"]


class ToolSet(abc.ABC):
    """The tools an agent can call."""

    source: str = ""

    @abc.abstractmethod
    def tools(self, case: ToolCase | None = None) -> list[Tool]:
        """The tool definitions the agent sees."""

    @abc.abstractmethod
    def call(self, name: str, arguments: dict[str, Any], case: ToolCase | None = None) -> Any:
        """Call ``name`` with ``arguments``; the observation."""

    def close(self) -> None:  # noqa: B027 - optional hook, a no-op by default
        """Release what the tool set holds; idempotent."""

    def __enter__(self) -> ToolSet:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
