"""The property order a user wrote is kept everywhere a schema goes (issue 11, fault 1).

For "my username is foo and my password is bar" a ``GetUserToken(username, password)``
tool must let the model write ``username`` first: the prompt shows the schema as written,
the llama.cpp grammar and lm-format-enforcer take it as written, an HTTP server gets it as
written. Content hashes (``canonical_json``) stay sorted.
"""

from __future__ import annotations

import json

import pytest

from rolecast.backends._schema import grammar_json
from rolecast.profiles.roles import CallerRole
from rolecast.types import Candidate, GoldStep, Tool, ToolCase, canonical_json, compact_json

TOKEN_TOOL = Tool(
    name="GetUserToken",
    description="Log a user in and return an access token.",
    parameters={
        "type": "object",
        "properties": {"username": {"type": "string"}, "password": {"type": "string"}},
        "required": ["username", "password"],
    },
)
TOKEN_CASE = ToolCase(
    id="token-1",
    instruction="Get me a token: my username is foo and my password is bar.",
    tools=[TOKEN_TOOL],
    steps=[GoldStep(tool="GetUserToken", arguments={"username": "foo", "password": "bar"})],
)


def _order(text: str, *names: str) -> list[int]:
    return [text.index(f'"{name}"') for name in names]


def test_compact_json_keeps_the_written_order_and_canonical_json_sorts():
    value = {"b": 1, "a": {"z": 2, "y": 3}}
    assert compact_json(value) == '{"b":1,"a":{"z":2,"y":3}}'
    assert canonical_json(value) == '{"a":{"y":3,"z":2},"b":1}'


def test_caller_prompt_and_constraint_keep_the_property_order():
    step = CallerRole().steps(TOKEN_CASE)[0]
    system = step.request.messages[0].content
    assert (
        'Arguments schema: {"type":"object","properties":{"username":{"type":"string"},'
        '"password":{"type":"string"}},"required":["username","password"]}'
    ) in system
    assert list(step.request.json_schema["properties"]) == ["username", "password"]


def test_grammar_json_keeps_the_property_order():
    schema = CallerRole().steps(TOKEN_CASE)[0].request.json_schema
    text = grammar_json(schema)
    assert text == (
        '{"type":"object","properties":{"username":{"type":"string"},"password":'
        '{"type":"string"}},"required":["username","password"],"additionalProperties":false}'
    )


def test_llama_cpp_grammar_writes_username_before_password():
    llama_cpp = pytest.importorskip("llama_cpp")
    schema = CallerRole().steps(TOKEN_CASE)[0].request.json_schema
    grammar = llama_cpp.LlamaGrammar.from_json_schema(grammar_json(schema), verbose=False)
    root = next(line for line in grammar._grammar.splitlines() if line.startswith("root ::="))
    assert root.index("username") < root.index("password"), root


def test_http_payload_sends_the_schema_in_the_written_order():
    from rolecast.backends.http import build_payload

    request = CallerRole().steps(TOKEN_CASE)[0].request
    candidate = Candidate(name="m", backend="http", model="m", base_url="http://127.0.0.1:1")
    payload = build_payload(candidate, request)
    body = json.dumps(payload)
    first, second = _order(body, "username", "password")
    assert first < second
    sent = payload["response_format"]["json_schema"]["schema"]
    assert list(sent["properties"]) == ["username", "password"]


def test_reordering_a_schema_changes_the_caller_prompt():
    reordered = TOKEN_TOOL.model_copy(
        update={
            "parameters": {
                "type": "object",
                "properties": {"password": {"type": "string"}, "username": {"type": "string"}},
                "required": ["username", "password"],
            }
        }
    )
    role = CallerRole()
    a = role.request(TOKEN_CASE.instruction, TOKEN_TOOL, [])
    b = role.request(TOKEN_CASE.instruction, reordered, [])
    assert a.messages != b.messages


def test_hf_enforcer_cache_keeps_each_order_apart():
    """lm-format-enforcer's parser cache is keyed by the schema as written, not sorted."""
    from rolecast.backends.hf import _schema_key

    a = {"type": "object", "properties": {"username": {}, "password": {}}}
    b = {"type": "object", "properties": {"password": {}, "username": {}}}
    assert _schema_key(a) != _schema_key(b)
