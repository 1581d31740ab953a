"""The user's own Python tools: callables with JSON-Schema parameters, in a module.

A project names them as ``tools: mypackage.tools:TOOLS``. ``TOOLS`` is a list (or tuple)
whose items are either

* a function with a ``parameters`` attribute (a JSON Schema of type object); its name is
  ``tool_name`` if set, else the function's name, its description ``description`` if set,
  else the first paragraph of its docstring. :func:`tool` sets these attributes::

      @tool({"type": "object", "properties": {"city": {"type": "string"}},
             "required": ["city"]})
      def get_weather(city: str) -> dict:
          \"\"\"Current weather of a city.\"\"\"

* or a pair ``(definition, function)`` where ``definition`` is a :class:`~rolecast.types.Tool`
  or a mapping with ``name``, ``description`` and ``parameters``.

Everything is checked when the module is loaded (importable, a list, each item a valid
tool with an object JSON Schema, names unique), so a mistake is one line before any
model loads. A call validates the arguments against the schema first; a function that
raises is the tool refusing the call (the agent sees the message), not a crash.
"""

from __future__ import annotations

import importlib
import json
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import jsonschema
from pydantic import ValidationError

from rolecast.config import describe_validation_error
from rolecast.errors import ConfigError
from rolecast.tools._base import ToolSet
from rolecast.tools.spec import PythonSource
from rolecast.types import Tool, ToolCase

__all__ = ["PythonTools", "load_python_tools", "tool"]

F = TypeVar("F", bound=Callable[..., Any])


def tool(
    parameters: dict[str, Any], *, name: str | None = None, description: str | None = None
) -> Callable[[F], F]:
    """Declare a function as a tool: its JSON-Schema ``parameters``, optional name and text."""

    def mark(function: F) -> F:
        function.parameters = parameters  # type: ignore[attr-defined]
        if name is not None:
            function.tool_name = name  # type: ignore[attr-defined]
        if description is not None:
            function.description = description  # type: ignore[attr-defined]
        return function

    return mark


def _docstring_summary(function: Callable[..., Any]) -> str:
    doc = (getattr(function, "__doc__", None) or "").strip()
    return doc.split("\n\n", 1)[0].replace("\n", " ").strip()


def _definition(item: Any, where: str) -> tuple[Tool, Callable[..., Any]]:
    """One declared item as (definition, function); :class:`ConfigError` when it is wrong."""
    if isinstance(item, tuple | list) and len(item) == 2:
        definition, function = item
        if isinstance(definition, Tool):
            data: Any = definition.model_dump()
        elif isinstance(definition, dict):
            data = definition
        else:
            raise ConfigError(
                f"{where}: the first of the pair must be a Tool or a mapping with name, "
                f"description and parameters, not {type(definition).__name__}"
            )
    elif callable(item):
        function = item
        if not hasattr(item, "parameters"):
            raise ConfigError(
                f"{where}: function {getattr(item, '__name__', item)!r} has no 'parameters' "
                "(a JSON Schema of type object); decorate it with rolecast.tools.tool({...}) "
                "or list it as a (definition, function) pair"
            )
        data = {
            "name": getattr(item, "tool_name", None) or getattr(item, "__name__", ""),
            "description": getattr(item, "description", None) or _docstring_summary(item),
            "parameters": item.parameters,
        }
    else:
        raise ConfigError(
            f"{where}: expected a function with 'parameters' or a (definition, function) "
            f"pair, not {type(item).__name__}"
        )
    if not callable(function):
        raise ConfigError(f"{where}: {type(function).__name__} is not callable")
    parameters = data.get("parameters")
    if not isinstance(parameters, dict) or parameters.get("type") != "object":
        keys = sorted(parameters)[:5] if isinstance(parameters, dict) else type(parameters).__name__
        raise ConfigError(
            f"{where}: parameters must be a JSON Schema of type object "
            f'({{"type": "object", "properties": {{...}}}}), got {keys}'
        )
    try:
        definition = Tool.model_validate(data)
    except ValidationError as exc:
        raise ConfigError(f"{where}: {describe_validation_error(exc, Tool)}") from None
    return definition, function


def load_python_tools(
    source: PythonSource, base_dir: str | Path | None = None
) -> list[tuple[Tool, Callable[..., Any]]]:
    """Import ``source.module`` and check every declared tool.

    The module's folder (``source.path`` relative to ``base_dir``, by default
    ``base_dir`` itself) is put on ``sys.path`` and stays there, so the module can import
    its siblings when a tool runs.

    Raises:
        ConfigError: the module cannot be imported, the attribute is missing or not a list,
            an item is no valid tool, or two tools share a name.
    """
    module_name, _, attribute = source.module.partition(":")
    folder = (Path(base_dir or ".") / (source.path or ".")).resolve()
    if not folder.is_dir():
        raise ConfigError(f"python tools {source.module}: folder {folder} does not exist")
    if str(folder) not in sys.path:
        sys.path.insert(0, str(folder))
    _check_not_shadowed(module_name, folder, source.module)
    try:
        module = importlib.import_module(module_name)
    except Exception as exc:  # a broken user module: say which and why, in one line
        raise ConfigError(
            f"python tools {source.module}: cannot import {module_name!r} from {folder} "
            f"({type(exc).__name__}: {exc})"
        ) from None
    if not hasattr(module, attribute):
        raise ConfigError(f"python tools {source.module}: module {module_name} has no {attribute}")
    items = getattr(module, attribute)
    if not isinstance(items, list | tuple) or not items:
        raise ConfigError(
            f"python tools {source.module}: expected a non-empty list of tools, "
            f"got {type(items).__name__}"
        )
    declared = [
        _definition(item, f"python tools {source.module}[{index}]")
        for index, item in enumerate(items)
    ]
    names = [definition.name for definition, _ in declared]
    repeated = sorted({name for name in names if names.count(name) > 1})
    if repeated:
        raise ConfigError(f"python tools {source.module}: tool names must be unique; {repeated}")
    return declared


def _check_not_shadowed(module_name: str, folder: Path, reference: str) -> None:
    """A module of that name imported earlier from elsewhere would be used instead."""
    loaded = sys.modules.get(module_name)
    relative = Path(*module_name.split("."))
    here = [folder / relative.with_suffix(".py"), folder / relative / "__init__.py"]
    found = next((path for path in here if path.is_file()), None)
    loaded_file = getattr(loaded, "__file__", None)
    if loaded is None or found is None or loaded_file is None:
        return
    if Path(loaded_file).resolve() != found.resolve():
        raise ConfigError(
            f"python tools {reference}: a module {module_name!r} is already imported from "
            f"{loaded_file}, not {found}; give the tools module a name of its own"
        )


class PythonTools(ToolSet):
    """Tools that are Python callables, declared in a module (see the module docstring)."""

    def __init__(self, source: PythonSource, base_dir: str | Path | None = None) -> None:
        self.spec = source
        self.source = source.describe()
        declared = load_python_tools(source, base_dir)
        self._tools = [definition for definition, _ in declared]
        self._functions = {definition.name: function for definition, function in declared}
        self._validators = {
            definition.name: jsonschema.Draft202012Validator(definition.parameters)
            for definition in self._tools
        }

    def tools(self, case: ToolCase | None = None) -> list[Tool]:
        """Every declared tool (the combined tool set picks a case's own)."""
        return list(self._tools)

    def call(self, name: str, arguments: dict[str, Any], case: ToolCase | None = None) -> Any:
        """Validate ``arguments`` and call the function; its result as a JSON value.

        Raises:
            ValueError: unknown tool, arguments that break the schema, or the function
                raised (the agent sees the message).
        """
        if name not in self._functions:
            raise ValueError(f"unknown tool {name!r}; known: {', '.join(self._functions)}")
        if not isinstance(arguments, dict):
            raise ValueError(f"{name}: arguments must be a JSON object")
        error = jsonschema.exceptions.best_match(self._validators[name].iter_errors(arguments))
        if error is not None:
            where = ".".join(str(part) for part in error.absolute_path)
            raise ValueError(
                f"{name}: invalid arguments: {where + ': ' if where else ''}{error.message}"
            )
        try:
            result = self._functions[name](**arguments)
        except Exception as exc:  # the user's tool refused (or broke on) these arguments
            raise ValueError(f"{name}: {type(exc).__name__}: {exc}") from None
        return json.loads(json.dumps(result, default=str))
