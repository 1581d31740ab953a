"""JSON schemas as constrained decoders can take them."""

from __future__ import annotations

from typing import Any

__all__ = ["grammar_schema"]

_PATTERN_ESCAPES = {r"\d": "[0-9]", r"\w": "[A-Za-z0-9_]", r"\s": "[ ]"}


def grammar_schema(schema: Any) -> Any:
    r"""``schema`` prepared for a constrained decoder (llama.cpp grammar, lm-format-enforcer).

    llama.cpp's converter copies regex escapes such as ``\d`` into the grammar verbatim and
    then fails to parse it; lm-format-enforcer's regex engine rejects Unicode classes such
    as ``\p{L}``. Escapes with a plain spelling become character classes, and a pattern
    with any other escape is dropped (a weaker constraint, the same scoring).
    """
    if isinstance(schema, list):
        return [grammar_schema(item) for item in schema]
    if not isinstance(schema, dict):
        return schema
    out: dict[str, Any] = {}
    for key, value in schema.items():
        if key == "pattern" and isinstance(value, str):
            for escape, replacement in _PATTERN_ESCAPES.items():
                value = value.replace(escape, replacement)
            if "\\" in value:
                continue
        elif key == "properties" and isinstance(value, dict):
            value = {name: grammar_schema(sub) for name, sub in value.items()}
        else:
            value = grammar_schema(value)
        out[key] = value
    return out
