"""An imported results file (docs/import-format.md) searches exactly like native profiles."""

from __future__ import annotations

import csv
import json
import sys

import pytest

from rolecast.cli import main
from rolecast.storage import ProfileStore, resolve_db_url

NATIVE = """
cases: builtin
subset: 6
pipeline: [planner, caller, extractor]
budget: {{gpu_memory_gb: 2.0}}
candidates:
  - {{name: {a}, backend: scripted, model: a, memory_gb: 0.3, options: {{outputs: {outputs}}}}}
  - {{name: {b}, backend: scripted, model: b, memory_gb: 0.5}}
"""


def cli(monkeypatch, capsys, *args):
    monkeypatch.setattr(sys, "argv", ["rolecast", *args])
    with pytest.raises(SystemExit) as info:
        main()
    out, err = capsys.readouterr()
    assert info.value.code == 0, err
    return out


def test_imported_file_gives_the_same_search_as_native_rows(tmp_path, monkeypatch, capsys):
    outputs = json.dumps(['{"action": "finish"}'] * 3 + ['{"action": "convert_units"}'] * 40)
    native = tmp_path / "native.yaml"
    native.write_text(NATIVE.format(a="a", b="b", outputs=outputs))
    native_db = tmp_path / "native.db"
    cli(monkeypatch, capsys, "profile", "-c", str(native), "--db", str(native_db), "--no-progress")
    native_json = cli(monkeypatch, capsys, "reprofile", "-c", str(native), "--db", str(native_db))

    # The same outcomes, written by "another harness" in the documented CSV format.
    results = tmp_path / "results.csv"
    with ProfileStore(resolve_db_url(str(native_db))) as store, results.open("w", newline="") as f:
        writer = csv.writer(f)
        writer.writerow(
            [
                "candidate",
                "role",
                "case_id",
                "score",
                "success",
                "step_index",
                "tokens_in",
                "tokens_out",
                "latency_s",
            ]
        )
        for r in store.steps():
            writer.writerow(
                [
                    f"x-{r.candidate}",
                    r.role,
                    r.case_id,
                    r.score,
                    str(r.success).lower(),
                    r.step_index,
                    r.tokens_in,
                    r.tokens_out,
                    r.latency_s,
                ]
            )
    imported_db = tmp_path / "imported.db"
    cli(monkeypatch, capsys, "import", str(results), "--db", str(imported_db))
    imported = tmp_path / "imported.yaml"
    imported.write_text(
        NATIVE.format(a="x-a", b="x-b", outputs="[]")
        .replace("backend: scripted", "backend: imported")
        .replace(", options: {outputs: []}", "")  # imported results take no backend options
    )
    imported_json = cli(
        monkeypatch, capsys, "reprofile", "-c", str(imported), "--db", str(imported_db)
    )

    n, i = json.loads(native_json.splitlines()[-1]), json.loads(imported_json.splitlines()[-1])
    assert i["generated"] == 0  # nothing to generate: every step came from the file
    assert i["accuracy"] == n["accuracy"]
    assert {role: name.removeprefix("x-") for role, name in i["best"].items()} == n["best"]
    assert i["ties"] == n["ties"]
