"""The agent loop with scripted models and the real built-in tools."""

from __future__ import annotations

import json

import pytest

from rolecast.agent import CoalitionRunner, judge
from rolecast.backends.scripted import ScriptedBackend
from rolecast.export import (
    CoalitionConfig,
    Expected,
    Interval,
    Placement,
    Provenance,
    RoleAssignment,
)
from rolecast.suite import build_suite, call_tool, tool_definitions
from rolecast.types import Budget, Candidate


def coalition(pipeline=("planner", "caller", "extractor", "responder"), max_steps=4):
    cand = Candidate(name="s", backend="scripted", model="s", memory_gb=0.1)
    return CoalitionConfig(
        pipeline=list(pipeline),
        roles={r: RoleAssignment(candidate="s", prompt_version="v") for r in pipeline},
        candidates={"s": cand},
        placement=[Placement(candidate="s", gpu=0, memory_gb=0.1)],
        budget=Budget(),
        max_steps=max_steps,
        expected=Expected(
            accuracy=Interval(mean=0, low=0, high=1, n=0, method="wilson"),
            memory_gb=0.1,
            cost_per_1k_tasks=0,
            latency_s=0,
        ),
        provenance=Provenance(
            rolecast_version="t",
            created_at="2026-01-01T00:00:00Z",
            cases="builtin",
            case_ids=[],
            profile_runs=[],
            database="sqlite://",
            fingerprints={},
        ),
    )


def run(outputs, instruction, config=None):
    backend = ScriptedBackend(Candidate(name="s", backend="scripted", model="s"))
    backend.enqueue(*outputs)
    with CoalitionRunner(config or coalition(), backend_factory=lambda c: backend) as runner:
        trajectory = runner.run(instruction, tool_definitions(), call_tool)
    return trajectory, backend


def test_a_tool_call_with_the_real_tool_then_an_answer():
    trajectory, _ = run(
        [
            '{"action": "convert_units"}',
            '{"value": 10, "from_unit": "mi", "to_unit": "km"}',
            '{"action": "finish"}',
            "10 miles is 16.09 km.",
        ],
        "How many km is 10 mi?",
    )
    assert trajectory.calls == [
        ("convert_units", {"value": 10, "from_unit": "mi", "to_unit": "km"})
    ]
    tool_step = next(s for s in trajectory.steps if s.kind == "tool")
    assert "16.09" in tool_step.text  # the real converter ran
    assert trajectory.stopped == "finish" and trajectory.answer == "10 miles is 16.09 km."


def test_a_large_response_goes_through_the_extractor():
    trajectory, backend = run(
        [
            '{"action": "search_products"}',
            '{"category": "kitchen"}',
            '{"keep": ["products.name", "products.price_usd"]}',
            '{"action": "finish"}',
            "The cheapest is the Classic Chef Knife.",
        ],
        "Which kitchen product is cheapest?",
    )
    extract = next(s for s in trajectory.steps if s.kind == "extract")
    assert extract.data == ["products.name", "products.price_usd"]
    # the responder saw the cut response, not the 12k-character catalogue
    responder_prompt = "\n".join(m.content for m in backend.requests[-1].messages)
    assert "price_usd" in responder_prompt and "supplier" not in responder_prompt


def test_bad_arguments_become_an_observation_and_a_repeat_stops_the_loop():
    trajectory, _ = run(
        [
            '{"action": "convert_units"}',
            '{"value": "ten"}',
            '{"action": "convert_units"}',
            '{"value": "ten"}',
            "I could not convert that.",
        ],
        "How many km is ten miles?",
    )
    tool_step = next(s for s in trajectory.steps if s.kind == "tool")
    assert "error" in tool_step.text
    assert trajectory.stopped.startswith("repeated call to convert_units")
    assert len(trajectory.calls) == 1


@pytest.mark.parametrize("planner_output", ["nonsense", '{"action": "launch_rocket"}'])
def test_an_unusable_plan_ends_the_loop_and_still_answers(planner_output):
    trajectory, _ = run([planner_output, "Sorry."], "Do something.")
    assert trajectory.calls == [] and "no usable action" in trajectory.stopped
    assert trajectory.answer == "Sorry."


def test_step_limit():
    outputs = []
    for day in range(3):
        outputs += ['{"action": "weekday_of_date"}', f'{{"date": "2024-02-0{day + 1}"}}']
    trajectory, _ = run([*outputs, "Done."], "What day is it?", coalition(max_steps=3))
    assert trajectory.stopped == "step limit" and len(trajectory.calls) == 3


def test_judge_against_the_gold_case():
    case = next(c for c in build_suite() if c.id == "conv-001")
    gold = case.steps[0]
    trajectory, _ = run(
        [
            '{"action": "convert_units"}',
            json.dumps(gold.arguments),
            '{"action": "finish"}',
            case.answer,
        ],
        case.instruction,
    )
    verdict = judge(case, trajectory, lambda a, b: 1.0 if a == b else 0.0)
    assert verdict == {
        "planner_pass": True,
        "procedural": True,
        "answer_cosine": 1.0,
        "answer_facts": 1.0,
        "success": True,
    }


def test_model_text_that_looks_like_markup_prints_as_it_is(capsys):
    from rolecast.cli._common import print_trajectory

    answer = "[/bold] closing tag without an opening one [red]x"
    trajectory, _ = run(['{"action": "finish"}', answer], "Say [b]hi[/b].")
    print_trajectory(trajectory)  # rich would raise MarkupError on the unescaped text
    out = capsys.readouterr().out
    assert answer in out and "Say [b]hi[/b]." in out


def test_judge_uses_the_responder_fact_check():
    """A wrong number with a high cosine is no end-to-end success (issue 11)."""
    case = next(c for c in build_suite() if c.id == "conv-001")
    gold = case.steps[0]
    outputs = ['{"action": "convert_units"}', json.dumps(gold.arguments), '{"action": "finish"}']
    wrong, _ = run([*outputs, "10 miles is 19.31 kilometres."], case.instruction)
    verdict = judge(case, wrong, lambda a, b: 0.95)
    assert verdict["procedural"] and not verdict["success"] and verdict["answer_cosine"] == 0.95
    assert verdict["answer_facts"] == 0.0
    right, _ = run([*outputs, "That is 16.09 km."], case.instruction)
    assert judge(case, right, lambda a, b: 0.3)["success"]
