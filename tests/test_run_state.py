"""Runs never stay in a wrong state: killed, interrupted or refused before they start.

The kill tests run the real command line in a subprocess that profiles an ``http``
candidate served slowly by a real local server, and signal it mid-run.
"""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from _fault_server import FaultServer
from _helpers import cli

from rolecast.storage import ProfileStore, resolve_db_url

REPO = Path(__file__).resolve().parents[1]

SLOW_PROJECT = """
cases: builtin
subset: 4
pipeline: [planner, caller]
budget: {{gpu_memory_gb: 1.0}}
candidates:
  - name: slow
    backend: http
    model: slow-served
    base_url: {url}
    memory_gb: 0.2
    options: {{max_retries: 0, timeout_s: 20, concurrency: 1}}
"""


@pytest.fixture
def slow_server():
    with FaultServer("sleep", sleep_s=0.3) as server:  # every answer valid, 0.3 s late
        yield server


@pytest.fixture
def project(tmp_path, slow_server):
    path = tmp_path / "project.yaml"
    path.write_text(SLOW_PROJECT.format(url=slow_server.base_url))
    return path


def start_profile(project: Path) -> subprocess.Popen[str]:
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    return subprocess.Popen(
        [sys.executable, "-m", "rolecast", "profile", "-c", str(project), "--no-progress"],
        cwd=REPO,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def wait_for_steps(n: int, proc: subprocess.Popen[str], timeout_s: float = 60) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        assert proc.poll() is None, proc.communicate()
        if Path(os.environ["ROLECAST_DB"]).exists():
            with ProfileStore(resolve_db_url(None)) as store:
                if len(store.steps()) >= n:
                    return
        time.sleep(0.1)
    pytest.fail(f"fewer than {n} steps stored after {timeout_s} s")


def runs():
    with ProfileStore(resolve_db_url(None)) as store:
        return store.runs(), len(store.steps())


def test_a_sigkilled_run_shows_as_interrupted(project, monkeypatch, capsys):
    proc = start_profile(project)
    wait_for_steps(2, proc)
    proc.kill()
    proc.communicate(timeout=60)
    assert proc.returncode == -signal.SIGKILL
    (run,), stored = runs()
    assert run.status == "running"  # nobody could say otherwise yet

    code, out, err = cli(monkeypatch, capsys, "show", "--runs")
    assert code == 0, err
    assert "interrupted" in out and "running" not in out
    (run,), after = runs()
    assert run.status == "interrupted" and after == stored


@pytest.mark.parametrize(("sig", "code"), [(signal.SIGINT, 130), (signal.SIGTERM, 143)])
def test_sigint_and_sigterm_end_the_run_interrupted_with_one_line(
    sig, code, project, monkeypatch, capsys
):
    proc = start_profile(project)
    wait_for_steps(2, proc)
    proc.send_signal(sig)
    _, err = proc.communicate(timeout=60)
    assert proc.returncode == code, err
    lines = [line for line in err.splitlines() if line.strip()]
    assert lines == [
        f"interrupted ({sig.name}); every step stored so far is kept and the run is marked "
        "interrupted"
    ]
    (run,), stored = runs()
    assert run.status == "interrupted" and run.n_generated == stored >= 2

    # the next run resumes: nothing stored is generated again
    code_next, out, err = cli(monkeypatch, capsys, "profile", "-c", str(project), "--no-progress")
    assert code_next == 0, err
    assert f"reused {stored}" in out


def _gguf_then_noise() -> bytes:
    rng = random.Random(3)
    return b"GGUF" + (3).to_bytes(4, "little") + rng.randbytes(4096)


def _header_without_tensors() -> bytes:
    # a well-formed GGUF v3 header that declares no tensors and no metadata
    return b"GGUF" + (3).to_bytes(4, "little") + (0).to_bytes(8, "little") * 2


@pytest.mark.parametrize(
    ("content", "fragment"),
    [
        (b"", "is not a GGUF file"),
        (random.Random(7).randbytes(65536), "is not a GGUF file"),
        (_gguf_then_noise(), "not a valid GGUF file"),
        (_header_without_tensors(), "not a usable GGUF model"),
    ],
    ids=["empty", "random-bytes", "header-then-noise", "no-tensors"],
)
@pytest.mark.parametrize("command", ["profile", "reprofile"])
def test_a_corrupt_gguf_is_refused_before_any_store_exists(
    content, fragment, command, tmp_path, monkeypatch, capsys
):
    model = tmp_path / "broken.gguf"
    model.write_bytes(content)
    project = tmp_path / "project.yaml"
    candidate = f"{{name: m, backend: llamacpp, model: {model}}}"
    project.write_text(f"subset: 2\ncandidates:\n  - {candidate}\n")
    code, out, err = cli(monkeypatch, capsys, command, "--config", str(project))
    assert code == 2, (out, err)
    line = err.strip()
    assert "\n" not in line and line.startswith("error: ") and fragment in line
    assert str(model) in line
    assert not Path(os.environ["ROLECAST_DB"]).exists()  # no database, so no run
