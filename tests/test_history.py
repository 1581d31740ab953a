"""Dialogue history: earlier turns in the case format, in every role's prompt, as messages."""

from __future__ import annotations

import json

import pytest
from pydantic import ValidationError

from rolecast.agent import CoalitionRunner
from rolecast.backends import Message
from rolecast.backends.chat_templates import CHAT_FORMATS
from rolecast.backends.scripted import ScriptedBackend
from rolecast.profiles.loaders.native import load_native
from rolecast.profiles.roles import get_role
from rolecast.schemas import json_schema
from rolecast.types import Candidate, Tool, ToolCase

WEATHER = Tool(
    name="get_weather",
    description="Current weather of a city.",
    parameters={
        "type": "object",
        "properties": {"city": {"type": "string"}},
        "required": ["city"],
    },
)
HISTORY = [
    {"role": "user", "content": "What is the weather in Paris?"},
    {"role": "tool", "tool": "get_weather", "arguments": {"city": "Paris"},
     "observation": {"temp_c": 12}},
    {"role": "assistant", "content": "It is 12 °C in Paris."},
]  # fmt: skip


def dialogue_case(history=HISTORY, **extra) -> ToolCase:
    return ToolCase.model_validate(
        {
            "id": "w-1",
            "instruction": "And in Berlin?",
            "tools": [WEATHER.model_dump()],
            "history": history,
            "steps": [
                {
                    "tool": "get_weather",
                    "arguments": {"city": "Berlin"},
                    "observation": {"temp_c": 5},
                }
            ],
            "answer": "It is 5 °C in Berlin.",
            **extra,
        }
    )


# --- the case format -----------------------------------------------------------------------


def test_a_case_carries_user_assistant_and_tool_turns():
    case = dialogue_case()
    assert [turn.role for turn in case.history] == ["user", "tool", "assistant"]
    assert case.history[1].arguments == {"city": "Paris"}
    assert case.history[1].observation == {"temp_c": 12}


@pytest.mark.parametrize(
    ("history", "problem"),
    [
        ([{"role": "assistant", "content": "Hello!"}], "must start with a user turn"),
        ([{"role": "user", "content": "hi"}, {"role": "tool", "tool": "get_time"}],
         "history turn 1 calls tool 'get_time'"),
        ([{"role": "system", "content": "be nice"}], "role"),
        ([{"role": "user", "content": ""}], "content"),
        ([{"role": "user", "content": "hi", "name": "bob"}], "name"),
    ],
)  # fmt: skip
def test_history_that_cannot_be_right_is_rejected(history, problem):
    with pytest.raises(ValidationError, match=problem):
        dialogue_case(history)


def test_the_content_hash_includes_history_and_is_unchanged_without_it():
    with_history = dialogue_case()
    without = dialogue_case([])
    other = dialogue_case([*HISTORY[:2], {"role": "assistant", "content": "12 degrees."}])
    assert len({with_history.content_hash, without.content_hash, other.content_hash}) == 3
    # computed with the code before cases had history: stored profiles keep their keys
    assert without.content_hash == "6c2ef4ccb33cc527"


def test_native_files_and_the_published_schema_take_history(tmp_path):
    record = dialogue_case().model_dump(mode="json")
    path = tmp_path / "dialogues.jsonl"
    path.write_text(json.dumps(record) + "\n", encoding="utf-8")
    loaded = load_native(path)
    assert loaded.skipped == [] and loaded.cases[0].history == dialogue_case().history
    import jsonschema

    jsonschema.validate(record, json_schema("case"))
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate({**record, "history": [{"role": "robot"}]}, json_schema("case"))


# --- prompts -------------------------------------------------------------------------------


@pytest.mark.parametrize("role_name", ["planner", "caller", "extractor", "responder"])
def test_every_role_renders_the_turns_as_messages(role_name):
    case = dialogue_case()
    if role_name == "extractor":  # the extractor only has steps on large responses
        steps = [case.steps[0].model_copy(update={"evidence": ["temp_c"]})]
        case = case.model_copy(update={"steps": steps})
    step = get_role(role_name).steps(case)[0]
    messages = step.request.messages
    if role_name == "responder":  # its reply is begun with a prefill ("Answer:")
        assert messages[-1].role == "assistant" and messages[-1].content == "Answer:"
        messages = messages[:-1]
    assert [m.role for m in messages] == ["system", "user", "assistant", "user"]
    assert messages[1].content == "What is the weather in Paris?"
    assert messages[2].content == (
        '[called get_weather({"city":"Paris"}) -> {"temp_c":12}]\nIt is 12 °C in Paris.'
    )
    assert "And in Berlin?" in messages[3].content
    # the earlier turns are messages, not text inside the role's own sections
    assert "Paris" not in messages[0].content and "Paris" not in messages[3].content


def test_without_history_the_prompt_is_system_and_user():
    step = get_role("planner").steps(dialogue_case([]))[0]
    assert [m.role for m in step.request.messages] == ["system", "user"]


def test_a_dialogue_ending_with_a_user_turn_still_alternates():
    case = dialogue_case([*HISTORY, {"role": "user", "content": "Thanks."}])
    messages = get_role("responder").steps(case)[0].request.messages
    assert [m.role for m in messages] == ["system", "user", "assistant", "user", "assistant"]
    assert messages[3].content.startswith("Thanks.\n\n")


@pytest.mark.parametrize("chat_format", sorted(CHAT_FORMATS))
def test_the_chat_template_renders_each_turn_as_a_turn(chat_format):
    request = get_role("responder").steps(dialogue_case())[0].request
    prompt = CHAT_FORMATS[chat_format](request.messages).prompt
    if chat_format == "chatml":
        assert "<|im_start|>user\nWhat is the weather in Paris?<|im_end|>" in prompt
        assert "<|im_start|>assistant\n[called get_weather" in prompt
        assert prompt.count("<|im_start|>user") == 2
    else:  # gemma: the system text opens the first user turn
        assert "<start_of_turn>model\n[called get_weather" in prompt
        assert prompt.count("<start_of_turn>user") == 2
    assert "User:" not in prompt and "Assistant:" not in prompt


def test_every_prompt_version_changed_with_history():
    before = {  # the versions before prompts had a dialogue section (main at 3e1a994)
        "planner": "planner-8a89396545.r1t32.s2",
        "caller": "caller-9b7a274d85.r1t128.s2",
        "extractor": "extractor-7bcb4ec72c.r2t160.s2",
        "responder": "responder-ec699623ca.r2t80.s2",
    }
    for name, version in before.items():
        assert get_role(name).prompt_version != version


# --- the agent -----------------------------------------------------------------------------


def _coalition():
    from test_agent import coalition

    return coalition(pipeline=("planner", "caller", "responder"))


def test_the_agent_passes_the_history_to_every_role():
    backend = ScriptedBackend(Candidate(name="s", backend="scripted", model="s"))
    backend.enqueue(
        '{"action": "get_weather"}', '{"city": "Berlin"}', '{"action": "finish"}',
        "It is 5 °C in Berlin.",
    )  # fmt: skip
    case = dialogue_case()
    with CoalitionRunner(_coalition(), backend_factory=lambda c: backend) as runner:
        trajectory = runner.run(
            case.instruction,
            case.tools,
            lambda name, arguments: {"temp_c": 5},
            dialogue=case.history,
        )
    assert trajectory.calls == [("get_weather", {"city": "Berlin"})]
    assert len(backend.requests) == 4
    for request in backend.requests:
        assert request.messages[1] == Message("user", "What is the weather in Paris?")
        assert request.messages[2].role == "assistant"
