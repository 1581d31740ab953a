"""Published JSON Schemas: case format, coalition config, project file, search result."""

from __future__ import annotations

from typing import Any

from rolecast.errors import ConfigError

__all__ = ["SCHEMAS", "json_schema"]

SCHEMAS = ("case", "coalition", "project", "search")


def json_schema(which: str) -> dict[str, Any]:
    """The JSON Schema of ``which`` (one of :data:`SCHEMAS`)."""
    from pydantic import BaseModel

    model: type[BaseModel]
    if which == "case":
        from rolecast.types import ToolCase

        model = ToolCase
    elif which == "coalition":
        from rolecast.export import CoalitionConfig

        model = CoalitionConfig
    elif which == "project":
        from rolecast.project import ProjectConfig

        model = ProjectConfig
    elif which == "search":
        from rolecast.search.report import SearchReport

        model = SearchReport
    else:
        raise ConfigError(f"unknown schema {which!r}; choose one of {', '.join(SCHEMAS)}")
    schema = model.model_json_schema()
    schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    schema["$id"] = f"https://rolecast.dev/schemas/{which}.schema.json"
    return schema
