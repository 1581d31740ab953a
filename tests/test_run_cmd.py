"""`rolecast run`: what it prints (clipped, never highlighted), --format json, bad input."""

from __future__ import annotations

import json

import pytest
import rich.highlighter
from _helpers import cli

from rolecast.export import (
    CoalitionConfig,
    Expected,
    Interval,
    Placement,
    Provenance,
    RoleAssignment,
    write_coalition,
)
from rolecast.types import Budget, Candidate

PIPELINE = ["planner", "caller", "responder"]


def write_scripted_coalition(path, outputs):
    """A coalition whose one scripted model answers ``outputs`` in order."""
    cand = Candidate(
        name="s", backend="scripted", model="s", memory_gb=0.1, options={"outputs": outputs}
    )
    config = CoalitionConfig(
        pipeline=PIPELINE,
        roles={r: RoleAssignment(candidate="s", prompt_version="v") for r in PIPELINE},
        candidates={"s": cand},
        placement=[Placement(candidate="s", gpu=0, memory_gb=0.1)],
        budget=Budget(),
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
    return write_coalition(config, path)


@pytest.fixture
def highlighted(monkeypatch):
    """The lengths of every text rich's default highlighter is asked to scan."""
    seen: list[int] = []
    original = rich.highlighter.RegexHighlighter.highlight

    def counting(self, text):
        seen.append(len(text))
        return original(self, text)

    monkeypatch.setattr(rich.highlighter.RegexHighlighter, "highlight", counting)
    return seen


LONG = "x" * 100_000  # one unbroken token: rich's highlighter is quadratic in it


def test_a_long_instruction_is_clipped_and_never_highlighted(
    tmp_path, monkeypatch, capsys, highlighted
):
    answer = "y" * 5_000
    path = write_scripted_coalition(tmp_path / "c.yaml", ['{"action": "finish"}', answer])
    code, out, err = cli(monkeypatch, capsys, "run", str(path), LONG, "--no-progress")
    assert code == 0, err
    assert "… (99500 more chars)" in out  # instruction: first 500 characters shown
    assert "… (4500 more chars)" in out
    assert len(out) < 5_000
    assert not any(length > 1_000 for length in highlighted), highlighted


def test_format_json_prints_the_whole_trajectory(tmp_path, monkeypatch, capsys):
    answer = "y" * 5_000
    path = write_scripted_coalition(tmp_path / "c.yaml", ['{"action": "finish"}', answer])
    code, out, err = cli(monkeypatch, capsys, "run", str(path), LONG, "--format", "json")
    assert code == 0, err
    document = json.loads(out)
    assert document["instruction"] == LONG and document["answer"] == answer
    assert [step["kind"] for step in document["steps"]] == ["plan", "answer"]
    assert document["steps"][0]["actor"] == "planner:s"


def test_a_blank_instruction_is_one_line_exit_2(tmp_path, monkeypatch, capsys):
    path = write_scripted_coalition(tmp_path / "c.yaml", ['{"action": "finish"}', "done"])
    for blank in ("   ", "\n\t"):
        code, out, err = cli(monkeypatch, capsys, "run", str(path), blank, "--no-progress")
        assert code == 2 and out == ""
        assert err.strip() == "error: the instruction is blank; say what the agent should do"


def test_an_unknown_format_is_one_line(tmp_path, monkeypatch, capsys):
    path = write_scripted_coalition(tmp_path / "c.yaml", ['{"action": "finish"}', "done"])
    code, _, err = cli(monkeypatch, capsys, "run", str(path), "hi", "--format", "xml")
    assert code == 2 and err.strip() == "error: --format 'xml': choose text or json"
