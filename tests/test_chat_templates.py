"""Prompt rendering for in-process llama.cpp: every model sees the system message."""

from __future__ import annotations

from typing import ClassVar

import pytest

from rolecast.backends import Message
from rolecast.backends.chat_templates import CHAT_FORMATS, make_renderer
from rolecast.errors import BackendError

MESSAGES = (Message("system", "Be brief."), Message("user", "Hi?"))


def test_gemma_puts_the_system_text_at_the_top_of_the_first_user_turn():
    rendered = CHAT_FORMATS["gemma"](MESSAGES)
    assert rendered.prompt == (
        "<start_of_turn>user\nBe brief.\n\nHi?<end_of_turn>\n<start_of_turn>model\n"
    )
    assert rendered.prompt[: rendered.system_end].endswith("Be brief.")
    assert rendered.stop == ("<end_of_turn>",) and rendered.add_bos


def test_chatml():
    rendered = CHAT_FORMATS["chatml"](MESSAGES)
    assert rendered.prompt == (
        "<|im_start|>system\nBe brief.<|im_end|>\n<|im_start|>user\nHi?<|im_end|>\n"
        "<|im_start|>assistant\n"
    )
    assert rendered.prompt[: rendered.system_end].endswith("Be brief.")


def test_no_system_message_means_no_prefix():
    assert CHAT_FORMATS["chatml"]((Message("user", "Hi?"),)).system_end == 0


class _NoTemplate:
    metadata: ClassVar[dict[str, str]] = {}


def test_unknown_format_and_missing_template_are_one_line_errors():
    with pytest.raises(BackendError, match="unknown chat_format 'llama9'"):
        make_renderer(_NoTemplate(), "llama9", "candidate x")
    with pytest.raises(BackendError, match="no chat template"):
        make_renderer(_NoTemplate(), None, "candidate x")


def test_grammar_schema_spells_regex_escapes_as_classes():
    from rolecast.backends._schema import grammar_schema

    schema = {
        "type": "object",
        "properties": {
            "date": {"type": "string", "pattern": "^\\d{4}-\\d{2}-\\d{2}$"},
            "name": {"type": "string", "pattern": "^\\p{L}+$"},
            "tags": {"type": "array", "items": {"type": "string", "pattern": "\\w+"}},
        },
    }
    out = grammar_schema(schema)
    assert out["properties"]["date"]["pattern"] == "^[0-9]{4}-[0-9]{2}-[0-9]{2}$"
    assert "pattern" not in out["properties"]["name"]
    assert out["properties"]["tags"]["items"]["pattern"] == "[A-Za-z0-9_]+"


PREFILLED = (*MESSAGES, Message("assistant", "Answer:"))


def test_a_trailing_assistant_message_opens_the_reply():
    """The model continues a begun reply instead of starting (and copying) on its own."""
    assert CHAT_FORMATS["gemma"](PREFILLED).prompt == (
        "<start_of_turn>user\nBe brief.\n\nHi?<end_of_turn>\n<start_of_turn>model\nAnswer:"
    )
    assert CHAT_FORMATS["chatml"](PREFILLED).prompt.endswith(
        "<|im_start|>user\nHi?<|im_end|>\n<|im_start|>assistant\nAnswer:"
    )
    # an assistant message that is not the last is an earlier turn, closed as usual
    turns = (*PREFILLED, Message("user", "More?"))
    assert CHAT_FORMATS["gemma"](turns).prompt.endswith(
        "<start_of_turn>model\nAnswer:<end_of_turn>\n<start_of_turn>user\nMore?<end_of_turn>\n"
        "<start_of_turn>model\n"
    )


def test_the_responder_prompt_begins_the_answer():
    from rolecast.profiles.prompts import load_template

    messages = load_template("responder").render(history="(none yet)", instruction="Hi?")
    assert [m.role for m in messages] == ["system", "user", "assistant"]
    assert messages[-1].content == "Answer:"


def test_an_http_server_gets_the_prefill_at_the_end_of_the_user_turn():
    """Chat-completions servers do not continue a trailing assistant message portably."""
    from rolecast.backends import ChatRequest
    from rolecast.backends.http import build_payload
    from rolecast.types import Candidate

    candidate = Candidate(name="m", backend="http", model="m", base_url="http://127.0.0.1:1")
    payload = build_payload(candidate, ChatRequest(messages=PREFILLED))
    assert payload["messages"] == [
        {"role": "system", "content": "Be brief."},
        {"role": "user", "content": "Hi?\n\nAnswer:"},
    ]
    plain = build_payload(candidate, ChatRequest(messages=MESSAGES))
    assert [m["content"] for m in plain["messages"]] == ["Be brief.", "Hi?"]
