"""Faults are not scores: a failing model server is never stored, reused or searched.

Every test runs a real OpenAI-compatible HTTP server on 127.0.0.1 (``_fault_server``)
that the test breaks and repairs, and drives the real command line.
"""

from __future__ import annotations

import json
import re

import pytest
from _fault_server import FaultServer
from _helpers import cli

from rolecast.storage import ProfileStore, resolve_db_url

SUBSET = 3

PROJECT = """
cases: builtin
subset: {subset}
pipeline: [planner, caller]
budget: {{gpu_memory_gb: 1.0}}
candidates:
  - name: served
    backend: http
    model: tiny-served
    base_url: {url}
    memory_gb: 0.2
    options: {{max_retries: 1, backoff_s: 0.01, timeout_s: 0.5, concurrency: 1}}
  - {{name: local, backend: scripted, model: local, memory_gb: 0.3}}
"""

# mode -> the fault kind the one-line error names
FAULTS = {
    "down": "connect",
    "500": "server",
    "invalid_json": "protocol",
    "no_choices": "protocol",
    "sleep": "timeout",
    "401": "auth",
}


@pytest.fixture
def server():
    with FaultServer() as running:
        yield running


@pytest.fixture
def project(tmp_path, server):
    path = tmp_path / "project.yaml"
    path.write_text(PROJECT.format(url=server.base_url, subset=SUBSET))
    return path


def stored(candidate: str):
    with ProfileStore(resolve_db_url(None)) as store:
        return store.steps(candidates=[candidate]), store.latest_run()


def total_steps(monkeypatch, capsys, project) -> int:
    """Steps one candidate is profiled on (from a clean profile of the scripted one)."""
    code, out, err = cli(monkeypatch, capsys, "profile", "-c", str(project), "--candidate",
                         "local", "--no-progress")  # fmt: skip
    assert code == 0, err
    return int(re.search(r"generated (\d+) step", out).group(1))


@pytest.mark.parametrize("mode", sorted(FAULTS))
def test_a_faulting_server_stores_nothing_and_fails_with_one_line(
    mode, server, project, monkeypatch, capsys
):
    total = total_steps(monkeypatch, capsys, project)
    server.ok_left = 0 if mode == "down" else 2  # it answers twice, then breaks
    server.set_mode(mode)

    code, out, err = cli(monkeypatch, capsys, "profile", "-c", str(project), "--no-progress")

    assert code == 4, (out, err)
    line = err.strip()
    assert "\n" not in line and line.startswith("error: candidate served at ")
    assert server.base_url in line and f"{FAULTS[mode]} fault" in line
    answered = 0 if mode == "down" else 2
    rows, run = stored("served")
    assert len(rows) == answered  # what succeeded is kept; the faulted step is not a score
    assert all(row.error is None for row in rows)
    assert run.status == "failed" and run.n_generated == answered

    server.set_mode("ok")  # the server comes back: the missing steps are generated now
    code, out, err = cli(monkeypatch, capsys, "profile", "-c", str(project), "--no-progress")
    assert code == 0, err
    assert f"generated {total - answered} step(s), reused {total + answered}" in out
    rows, run = stored("served")
    assert len(rows) == total and run.status == "done"


def test_unusable_text_from_a_working_server_is_a_scored_failure(
    server, project, monkeypatch, capsys
):
    server.reply = lambda payload: "I am not JSON at all"
    code, _out, err = cli(monkeypatch, capsys, "profile", "-c", str(project), "--no-progress")
    assert code == 0, err
    rows, run = stored("served")
    assert rows and not any(row.success for row in rows)
    assert run.status == "done"


def test_reprofile_with_the_server_down_keeps_the_coalition(
    server, project, tmp_path, monkeypatch, capsys
):
    out_path = tmp_path / "coalition.yaml"
    code, out, err = cli(monkeypatch, capsys, "reprofile", "-c", str(project), "-o", str(out_path))
    assert code == 0, err
    before = out_path.read_text()
    # a new case makes the next run ask the server again
    project.write_text(PROJECT.format(url=server.base_url, subset=SUBSET + 1))
    server.set_mode("down")

    code, out, err = cli(monkeypatch, capsys, "reprofile", "-c", str(project), "-o", str(out_path))

    assert code == 4, (out, err)
    assert "candidate served at" in err and "connect fault" in err
    summary = json.loads(out.strip().splitlines()[-1])
    assert summary["status"] == "failed" and summary["faults"][0]["candidate"] == "served"
    assert out_path.read_text() == before
