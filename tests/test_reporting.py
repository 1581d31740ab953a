"""The report people look at: its data against brute force, its PNGs, its one-file HTML."""

from __future__ import annotations

import base64
import itertools
import json
import re
from pathlib import Path

import pytest
from _coalitions import candidate, matrix
from _helpers import cli, require

from rolecast.errors import BudgetError
from rolecast.report import ALL_ROLES
from rolecast.reporting import (
    Calibration,
    ReportData,
    build_report_data,
    render_html,
    render_plots,
    write_plots,
)
from rolecast.types import Budget

PNG = b"\x89PNG\r\n\x1a\n"
OUTCOMES = {
    ("small", "planner"): "11000000",
    ("small", "caller"): "11110000",
    ("mid", "planner"): "11110000",
    ("mid", "caller"): "11111100",
    ("big", "planner"): "11111110",
    ("big", "caller"): "11111111",
}
MEMORY = {"small": 1.0, "mid": 2.0, "big": 8.0}


def sample(budget: Budget) -> ReportData:
    m = matrix(OUTCOMES, [candidate(name, memory_gb=gb) for name, gb in MEMORY.items()])
    return build_report_data(m, budget)


def brute_force(budget_gb: float) -> dict[tuple[str, str], tuple[float, float]]:
    """(planner, caller) -> (accuracy, memory) of every coalition within the memory budget."""
    out = {}
    for planner, caller in itertools.product(MEMORY, repeat=2):
        memory = MEMORY[planner] + (MEMORY[caller] if caller != planner else 0.0)
        if memory > budget_gb:
            continue
        p, c = OUTCOMES[(planner, "planner")], OUTCOMES[(caller, "caller")]
        out[(planner, caller)] = (
            sum(a == b == "1" for a, b in zip(p, c, strict=True)) / len(p),
            memory,
        )
    return out


def test_heat_map_cells_are_the_case_pass_rates() -> None:
    data = sample(Budget(gpu_memory_gb=100))
    cells = {(c.role, c.candidate): c for c in data.heat}
    assert cells[("planner", "small")].mean == 2 / 8
    assert cells[("caller", "mid")].mean == 6 / 8
    assert cells[("planner", "big")].mean == 7 / 8
    # each model alone on both roles: the AND per case (small 2/8, mid 4/8, big 7/8)
    assert [cells[(ALL_ROLES, n)].mean for n in MEMORY] == [2 / 8, 4 / 8, 7 / 8]
    assert data.roles == [ALL_ROLES, "planner", "caller"]
    assert all(c.low <= c.mean <= c.high and c.n == 8 for c in data.heat)


def test_coalitions_front_and_pick_agree_with_brute_force() -> None:
    budget_gb = 9.0  # big with mid (10 GB) is out, big with small (9 GB) is in
    data = sample(Budget(gpu_memory_gb=budget_gb))
    expected = brute_force(budget_gb)
    got = {
        (p.assignment["planner"], p.assignment["caller"]): (p.accuracy.mean, p.memory_gb)
        for p in data.coalitions
    }
    assert got == expected  # eighths and sums of whole GB: exact in binary
    best = max(expected.values(), key=lambda v: (v[0], -v[1]))
    assert data.chosen is not None
    assert (data.chosen.accuracy.mean, data.chosen.memory_gb) == best
    # the front: not beaten on accuracy and memory at once (cost is 0 for every candidate)
    front = {
        key
        for key, (acc, mem) in expected.items()
        if not any(
            a >= acc and m <= mem and (a > acc or m < mem)
            for other, (a, m) in expected.items()
            if other != key
        )
    }
    on_front = {
        (p.assignment["planner"], p.assignment["caller"]) for p in data.coalitions if p.pareto
    }
    assert on_front == front


def test_nothing_within_the_budget_is_a_note_not_a_plot() -> None:
    require("matplotlib", "plots")
    data = sample(Budget(gpu_memory_gb=0.5))
    assert data.coalitions == [] and data.chosen is None
    assert data.search_note and "gpu_memory_gb" in data.search_note
    pngs = render_plots(data)
    assert set(pngs) == {"heatmap.png"}
    page = render_html(data, pngs)
    assert "no coalition" in page.lower() or "budget" in page.lower()
    assert page.count("<img ") == 1


def test_a_failing_searcher_other_than_budget_is_not_swallowed() -> None:
    m = matrix(OUTCOMES, [candidate(name, memory_gb=gb) for name, gb in MEMORY.items()])

    def broken(*_: object) -> None:
        raise RuntimeError("bug")

    with pytest.raises(RuntimeError):
        build_report_data(m, Budget(), searcher=broken)  # type: ignore[arg-type]

    def over(*_: object) -> None:
        raise BudgetError("no coalition fits gpu_memory_gb 1")

    assert build_report_data(m, Budget(), searcher=over).search_note == (  # type: ignore[arg-type]
        "no coalition fits gpu_memory_gb 1"
    )


def test_figures_are_pngs_and_the_page_carries_them_inline(tmp_path: Path) -> None:
    require("matplotlib", "plots")
    data = sample(Budget(gpu_memory_gb=9.0))
    data.calibration = Calibration(data={"n_runs": 3}, png=PNG + b"calibration figure")
    pngs = render_plots(data)
    assert list(pngs) == ["heatmap.png", "pareto.png", "calibration.png"]
    assert all(png.startswith(PNG) for png in pngs.values())
    page = render_html(data, pngs)
    embedded = re.findall(r'<img alt="[^"]*" src="data:image/png;base64,([^"]+)">', page)
    assert [base64.b64decode(e) for e in embedded] == list(pngs.values())
    # one self-contained file: nothing is fetched from elsewhere
    assert not re.search(r'(src|href)="(?!data:)', page)
    assert "<link" not in page and "<script" not in page
    assert "Chosen coalition" in page and "(chosen)" in page
    assert "small" in page and "[0." in page  # the per-role tables with intervals
    written = write_plots(pngs, tmp_path / "plots")
    assert sorted(p.name for p in written) == sorted(pngs)
    assert (tmp_path / "plots" / "pareto.png").read_bytes() == pngs["pareto.png"]


def test_json_carries_the_same_data() -> None:
    data = sample(Budget(gpu_memory_gb=9.0))
    data.calibration = Calibration(data={"n_runs": 3})
    loaded = json.loads(json.dumps(data.to_dict()))
    assert loaded["chosen"]["assignment"] == data.chosen.assignment  # type: ignore[union-attr]
    assert len(loaded["coalitions"]) == len(data.coalitions)
    assert [p["label"] for p in loaded["pareto"]] == [p.label for p in data.coalitions if p.pareto]
    assert {c["role"] for c in loaded["heatmap"]} == {ALL_ROLES, "planner", "caller"}
    assert loaded["calibration"] == {"n_runs": 3}
    assert loaded["budget"] == {"gpu_memory_gb": 9.0}


PROJECT = """cases: builtin
subset: 6
pipeline: [planner, caller]
budget: {gpu_memory_gb: 4}
candidates:
  - {name: x-a, backend: imported, model: a, memory_gb: 1.0}
  - {name: x-b, backend: imported, model: b, memory_gb: 2.5}
"""


def test_report_command_writes_html_json_and_pngs(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    require("matplotlib", "plots")
    project = tmp_path / "project.yaml"
    project.write_text(PROJECT)
    code, out, err = cli(monkeypatch, capsys, "cases", "-c", str(project), "--format", "json")
    assert code == 0, err
    ids = json.loads(out)["case_ids"]["profiled"]
    results = tmp_path / "results.csv"
    rows = [
        f"{name},{role},{case},{int((i + len(name) + len(role)) % 3 != 0)}"
        for name in ("x-a", "x-b")
        for role in ("planner", "caller")
        for i, case in enumerate(ids)
    ]
    results.write_text("candidate,role,case_id,score\n" + "\n".join(rows) + "\n")
    db = tmp_path / "r.db"
    assert cli(monkeypatch, capsys, "import", str(results), "--db", str(db))[0] == 0
    base = ["report", "-c", str(project), "--db", str(db)]

    page = tmp_path / "report.html"
    code, out, err = cli(
        monkeypatch, capsys, *base, "--format", "html", "-o", str(page), "--plots",
        str(tmp_path / "plots"),
    )  # fmt: skip
    assert code == 0, err
    assert out == ""  # messages go to stderr, the report to the file
    text = page.read_text()
    assert text.startswith("<!DOCTYPE html>") and text.count("data:image/png;base64,") == 2
    assert sorted(p.name for p in (tmp_path / "plots").iterdir()) == ["heatmap.png", "pareto.png"]

    code, out, err = cli(monkeypatch, capsys, *base, "--format", "json")
    assert code == 0, err
    data = json.loads(out)
    assert data["chosen"]["memory_gb"] <= 4
    assert {c["candidate"] for c in data["heatmap"]} == {"x-a", "x-b"}

    code, _, err = cli(monkeypatch, capsys, *base, "-o", str(tmp_path / "x.txt"))
    assert code == 2 and "--output is for --format json or html" in err
    code, _, err = cli(monkeypatch, capsys, *base, "--format", "pdf")
    assert code == 2 and "choose table, markdown, json or html" in err
