"""JSON schemas as constrained decoders can take them."""

from __future__ import annotations

from typing import Any

from rolecast.types import compact_json

__all__ = ["grammar_json", "grammar_schema"]

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


def grammar_json(schema: Any) -> str:
    """``schema`` prepared (:func:`grammar_schema`) as JSON text, property order kept.

    A constrained decoder makes the model write an object's properties in the order the
    schema lists them; that order is part of the schema the user wrote (a model told "my
    username is foo and my password is bar" should write ``username`` first), so the text
    is never key-sorted. It is also the cache key of a converted grammar, so two schemas
    that differ only in order get their own grammars.
    """
    return compact_json(grammar_schema(schema))
