"""Where an agent's tools come from: the ``tools:`` key of a project and of a coalition.

A tool spec is a list of sources, each a mapping with a ``kind``:

* ``builtin``: the built-in suite's deterministic tools;
* ``python``: callables in a module, ``module: mypackage.tools:TOOLS`` (see
  :mod:`rolecast.tools.python` for the declaration format), imported from ``path``;
* ``mcp``: a Model Context Protocol server, started as a subprocess (``command`` and
  ``args``, spoken to over stdio) or reached at a Streamable HTTP ``url``;
* ``replay``: a case's recorded observations answer calls equal to the recorded ones.

Shorthands: a string is one source (``builtin``, ``replay``, or ``module:ATTR`` for
Python tools), and a single mapping is a list of one. Relative ``path`` and ``cwd`` are
relative to the file that declares them (the project file, the coalition file); the
export rewrites them relative to where the coalition is written.
"""

from __future__ import annotations

import os
import re
from collections.abc import Sequence
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import Field, RootModel, field_validator, model_validator

from rolecast.types import StrictModel

__all__ = [
    "BuiltinSource",
    "McpSource",
    "PythonSource",
    "ReplaySource",
    "ToolSource",
    "ToolsSpec",
    "UnknownSource",
]

_MODULE_REF = re.compile(r"^[A-Za-z_][\w]*(\.[A-Za-z_][\w]*)*:[A-Za-z_][\w]*$")


class BuiltinSource(StrictModel):
    """The built-in suite's tools."""

    kind: Literal["builtin"]

    def describe(self) -> str:
        """A short label for messages and tables."""
        return "builtin"


class PythonSource(StrictModel):
    """Python callables declared in a module attribute (``mypackage.tools:TOOLS``)."""

    kind: Literal["python"]
    module: str = Field(description="'package.module:ATTRIBUTE' holding the tool list.")
    path: str | None = Field(
        default=None,
        description="Folder to import the module from (relative to the declaring file); "
        "default: the declaring file's folder.",
    )

    @field_validator("module")
    @classmethod
    def _module_reference(cls, value: str) -> str:
        if not _MODULE_REF.match(value):
            raise ValueError(
                f"python tools {value!r} must be 'package.module:ATTRIBUTE', "
                "e.g. 'shop.tools:TOOLS'"
            )
        return value

    def describe(self) -> str:
        """A short label for messages and tables."""
        return f"python:{self.module}"


class McpSource(StrictModel):
    """An MCP server: a stdio subprocess (``command``) or a Streamable HTTP ``url``."""

    kind: Literal["mcp"]
    command: str | None = Field(
        default=None,
        description="stdio: the executable to start; 'python' (or 'python3') is the "
        "interpreter running rolecast, so the server sees the same installed packages.",
    )
    args: list[str] = Field(default_factory=list, description="stdio: its arguments.")
    env: dict[str, str] = Field(
        default_factory=dict,
        description="stdio: extra environment variables (the server gets a minimal "
        "environment plus these, not the caller's).",
    )
    cwd: str | None = Field(
        default=None,
        description="stdio: working folder (relative to the declaring file); default: the "
        "declaring file's folder.",
    )
    url: str | None = Field(default=None, description="Streamable HTTP endpoint, e.g. .../mcp.")
    timeout_s: float = Field(default=30.0, gt=0, description="Per request (start, list, call).")

    @model_validator(mode="after")
    def _one_transport(self) -> McpSource:
        if (self.command is None) == (self.url is None):
            raise ValueError("an mcp source needs exactly one of 'command' (stdio) or 'url' (HTTP)")
        if self.url is not None:
            if self.args or self.env or self.cwd:
                raise ValueError("'args', 'env' and 'cwd' are for a stdio server ('command')")
            if not re.match(r"^https?://", self.url):
                raise ValueError(f"mcp url {self.url!r} must start with http:// or https://")
        return self

    def describe(self) -> str:
        """A short label for messages and tables."""
        if self.url is not None:
            return f"mcp:{self.url}"
        return "mcp:" + " ".join([self.command or "", *self.args])


class ReplaySource(StrictModel):
    """A case's recorded observations answer the calls equal to the recorded ones."""

    kind: Literal["replay"]

    def describe(self) -> str:
        """A short label for messages and tables."""
        return "replay"


class UnknownSource(StrictModel):
    """Tools rolecast cannot know (a coalition from imported results); not runnable."""

    kind: Literal["unknown"]
    reason: str = ""

    def describe(self) -> str:
        """A short label for messages and tables."""
        return f"unknown ({self.reason})" if self.reason else "unknown"


ToolSource = Annotated[
    BuiltinSource | PythonSource | McpSource | ReplaySource | UnknownSource,
    Field(discriminator="kind"),
]


def _expand(value: Any) -> Any:
    """Shorthands to the list form: ``"builtin"``, ``"mod:ATTR"``, one mapping."""
    if value is None:
        return [{"kind": "builtin"}]
    if isinstance(value, str | dict):
        value = [value]
    if not isinstance(value, list):
        return value  # pydantic names the type error
    expanded = []
    for item in value:
        if item in ("builtin", "replay"):
            expanded.append({"kind": item})
        elif isinstance(item, str):
            if ":" not in item:
                raise ValueError(
                    f"tool source {item!r}: use 'builtin', 'replay', 'package.module:ATTRIBUTE' "
                    "or a mapping with kind python / mcp"
                )
            expanded.append({"kind": "python", "module": item})
        else:
            expanded.append(item)
    return expanded


class ToolsSpec(RootModel[list[ToolSource]]):
    """The tool sources of a project or coalition, in order of precedence."""

    root: list[ToolSource] = Field(min_length=1)

    @model_validator(mode="before")
    @classmethod
    def _shorthand(cls, value: Any) -> Any:
        return _expand(value)

    @classmethod
    def __get_pydantic_json_schema__(cls, core_schema: Any, handler: Any) -> dict[str, Any]:
        """The list of sources, or a shorthand: one string, one source mapping."""
        listed = handler(core_schema)
        listed = handler.resolve_ref_schema(listed)
        shorthand = {
            "type": "string",
            "pattern": r"^(builtin|replay|[A-Za-z_]\w*(\.[A-Za-z_]\w*)*:[A-Za-z_]\w*)$",
            "description": "builtin, replay, or package.module:ATTRIBUTE (python tools)",
        }
        source = listed["items"]
        listed = {**listed, "items": {"anyOf": [source, shorthand]}}
        return {
            "anyOf": [listed, shorthand, source],
            "description": "Tool sources in order of precedence, or one of them.",
        }

    @model_validator(mode="after")
    def _at_most_one_of_each_simple(self) -> ToolsSpec:
        kinds = [source.kind for source in self.root]
        if "unknown" in kinds and len(kinds) > 1:
            raise ValueError("'unknown' tools cannot be listed with other sources")
        for kind in ("builtin", "replay"):
            if kinds.count(kind) > 1:
                raise ValueError(f"tool source {kind!r} is listed twice")
        return self

    @classmethod
    def parse(cls, value: Any) -> ToolsSpec:
        """A spec from a shorthand, a list or a spec; :class:`ValueError` when invalid."""
        return value if isinstance(value, ToolsSpec) else cls.model_validate(value)

    @property
    def sources(
        self,
    ) -> Sequence[BuiltinSource | PythonSource | McpSource | ReplaySource | UnknownSource]:
        """The sources, in order of precedence."""
        return self.root

    def describe(self) -> str:
        """A short label: the sources joined with ' + '."""
        return " + ".join(source.describe() for source in self.root)

    def _map_folders(self, move: Any) -> ToolsSpec:
        moved: list[Any] = []
        for source in self.root:
            if isinstance(source, PythonSource):
                source = source.model_copy(update={"path": move(source.path)})
            elif isinstance(source, McpSource) and source.command is not None:
                source = source.model_copy(update={"cwd": move(source.cwd)})
            moved.append(source)
        return ToolsSpec(moved)

    def resolved(self, base: str | Path) -> ToolsSpec:
        """The spec with every folder absolute (relative ones taken from ``base``).

        A folder left out (the declaring file's folder) becomes explicit, so the spec
        means the same folders whoever reads it and wherever it is written next.
        """
        root = Path(base)
        return self._map_folders(lambda folder: str((root / (folder or ".")).resolve()))

    def relative_to(self, base: str | Path) -> ToolsSpec:
        """The spec with absolute folders written relative to ``base`` (for a file there)."""
        root = Path(base).resolve()

        def move(folder: str | None) -> str | None:
            if folder is None or not Path(folder).is_absolute():
                return folder
            try:
                return Path(os.path.relpath(folder, root)).as_posix()
            except ValueError:  # another drive (Windows): keep it absolute
                return folder

        return self._map_folders(move)
