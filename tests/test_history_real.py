"""A real model (SmolLM2 on llama.cpp) given a dialogue answers it rather than continuing it.

Issue 11: with earlier turns flattened into the instruction ("User: ...\\nAssistant: ..."),
SmolLM2 continued the transcript ("User: ...") or ended its turn without an answer. As
chat messages through its own chat template, it answers.
"""

from __future__ import annotations

import re

import pytest
from _helpers import require

from rolecast.backends import create_backend
from rolecast.profiles.roles import get_role
from rolecast.project import load_project
from rolecast.types import ToolCase

require("llama_cpp", "llamacpp")
pytestmark = pytest.mark.slow

WEATHER = {
    "name": "get_weather",
    "description": "Current temperature of a city in degrees Celsius.",
    "parameters": {"type": "object", "properties": {"city": {"type": "string"}},
                   "required": ["city"]},
}  # fmt: skip
AGENDA = {
    "name": "add_agenda",
    "description": "Add an item to the user's agenda on a weekday.",
    "parameters": {"type": "object", "properties": {"title": {"type": "string"},
                   "day": {"type": "string"}}, "required": ["title", "day"]},
}  # fmt: skip
# (earlier user turn, earlier assistant turn, latest user message, gold calls, gold answer)
DIALOGUES = [
    ("What is the weather in Paris?", "It is 12 °C in Paris.", "And in Berlin?",
     [("get_weather", {"city": "Berlin"}, {"city": "Berlin", "temp_c": 5})],
     "It is 5 °C in Berlin."),
    ("What is the weather in Madrid?", "It is 19 °C in Madrid.",
     "Thanks! Can you also book me a flight there?", [],
     "Sorry, none of the available tools can book a flight."),
    ("How cold is it in Oslo?", "It is -3 °C in Oslo.",
     'Then put "buy gloves" on my agenda for Friday.',
     [("add_agenda", {"title": "buy gloves", "day": "Friday"},
       {"added": "buy gloves", "day": "Friday"})],
     'I added "buy gloves" to your agenda for Friday.'),
    ('Add "dentist" to my agenda for Monday.', 'I added "dentist" to your agenda for Monday.',
     "What is the weather in Paris?",
     [("get_weather", {"city": "Paris"}, {"city": "Paris", "temp_c": 12})],
     "It is 12 °C in Paris."),
    ("Is it warm in Madrid?", "Yes, it is 19 °C in Madrid.", "Great, thank you!", [],
     "You're welcome."),
    ('Please add "gym" to Wednesday.', 'I added "gym" to your agenda for Wednesday.',
     'Also add "yoga" on Thursday.',
     [("add_agenda", {"title": "yoga", "day": "Thursday"},
       {"added": "yoga", "day": "Thursday"})],
     'I added "yoga" to your agenda for Thursday.'),
    ("What's the temperature in Berlin?", "It is 5 °C in Berlin.", "Is that colder than Paris?",
     [("get_weather", {"city": "Paris"}, {"city": "Paris", "temp_c": 12})],
     "Yes, Berlin at 5 °C is colder than Paris at 12 °C."),
    ("Hi!", "Hello! How can I help you?", "What is the weather in Oslo?",
     [("get_weather", {"city": "Oslo"}, {"city": "Oslo", "temp_c": -3})],
     "It is -3 °C in Oslo."),
]  # fmt: skip
TRANSCRIPT = re.compile(r"\b(User|Assistant)\s*:")


def dialogue(index: int, flattened: bool) -> ToolCase:
    user, assistant, latest, calls, answer = DIALOGUES[index]
    data = {
        "id": f"dialogue-{index}",
        "tools": [WEATHER, AGENDA],
        "steps": [{"tool": t, "arguments": a, "observation": o} for t, a, o in calls],
        "answer": answer,
    }
    if flattened:  # what a user had to do before cases had history
        data["instruction"] = f"User: {user}\nAssistant: {assistant}\nUser: {latest}"
    else:
        data["instruction"] = latest
        data["history"] = [
            {"role": "user", "content": user},
            {"role": "assistant", "content": assistant},
        ]
    return ToolCase.model_validate(data)


def test_smollm2_answers_a_dialogue_given_as_messages():
    project, _ = load_project(None)
    responder = get_role("responder")
    faults = {"messages": [], "flattened": []}  # transcript continued, or no answer at all
    with create_backend(project.candidate("smollm2-135m")) as backend:
        for index in range(len(DIALOGUES)):
            for form in faults:
                step = responder.steps(dialogue(index, form == "flattened"))[0]
                text = backend.generate([step.request])[0].text.strip()
                if not text or TRANSCRIPT.search(text):
                    faults[form].append(f"{index}: {text!r}")
    assert faults["messages"] == []
    # the same model on the same dialogues flattened continues the transcript or ends its
    # turn at once (measured 2026-12-06, responder revision 4: 1 and 5 of 8), so the check
    # above can fail
    assert faults["flattened"], "the flattened form no longer shows the fault"
