"""`rolecast quickstart` end to end with the real CPU models, twice: the second run reuses all."""

from __future__ import annotations

import re

import pytest
from _helpers import cli, require

from rolecast.export import load_coalition

require("llama_cpp", "llamacpp")
pytestmark = pytest.mark.slow


def _table(out: str) -> str:
    """The role × model table printed after profiling (timings differ between runs)."""
    start = out.index("Role × model")
    return out[start : out.index("2. search", start)]


def test_quickstart_twice_on_a_small_subset(tmp_path, monkeypatch, capsys) -> None:
    coalition = tmp_path / "coalition.yaml"
    args = ("quickstart", "--subset", "2", "--holdout", "1", "--no-progress", "--out",
            str(coalition))  # fmt: skip
    code, first, err = cli(monkeypatch, capsys, *args)
    assert code == 0, err
    generated = re.search(r"generated (\d+) step\(s\), reused (\d+)", first)
    assert generated and int(generated[1]) > 0 and generated[2] == "0"
    for section in ("1. profile", "2. search", "3. export", "4. verify end to end"):
        assert section in first
    assert "smollm2-135m" in _table(first) and "gemma3-270m" in _table(first)
    assert "chosen:" in first and "Pareto front" in first  # shown without progress bars too
    config = load_coalition(coalition)
    assert set(config.roles) == {"planner", "caller", "extractor", "responder"}
    assert "Predicted vs measured" in first and "pick vs best single model" in first
    runs = re.search(r"agent runs generated (\d+), reused 0", first)
    assert runs and int(runs[1]) > 0

    code, second, err = cli(monkeypatch, capsys, *args)
    assert code == 0, err
    assert f"generated 0 step(s), reused {generated[1]}" in second
    assert _table(second) == _table(first)
    assert load_coalition(coalition).expected == config.expected
    assert f"agent runs generated 0, reused {runs[1]}" in second
