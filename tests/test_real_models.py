"""The real CPU models (GGUF from PyPI via llama.cpp) on every role, and an end-to-end run."""

from __future__ import annotations

import sys

import pytest
from _helpers import Borrowed, require

from rolecast.backends import create_backend, fingerprint
from rolecast.profiles.profiler import profile
from rolecast.profiles.roles import get_role
from rolecast.project import load_project
from rolecast.storage import ProfileStore, resolve_db_url
from rolecast.suite import build_suite

require("llama_cpp", "llamacpp")
pytestmark = pytest.mark.slow

PROJECT, _ = load_project(None)
SUITE = {case.id: case for case in build_suite()}
# one multi-step case with a large response (every role has a step) and one no-tool case
CASES = [
    next(
        c
        for c in SUITE.values()
        if "multi-step" in c.tags and "large-response" in c.tags and c.split == "profile"
    ),
    next(c for c in SUITE.values() if "no-tool" in c.tags and c.split == "profile"),
]


@pytest.fixture(scope="module", params=[c.name for c in PROJECT.candidates])
def backend(request):
    with create_backend(PROJECT.candidate(request.param)) as b:
        yield b


@pytest.mark.parametrize("role_name", ["planner", "caller", "extractor", "responder"])
def test_each_role_is_profiled_with_the_real_model(backend, role_name, tmp_path):
    role = get_role(role_name)
    with ProfileStore(resolve_db_url(str(tmp_path / "p.db"))) as store:
        outcome = profile(
            CASES, [backend.candidate], [role], store, backend_factory=lambda c: Borrowed(backend)
        )
        rows = store.steps()
    assert outcome.generated == sum(len(role.steps(c)) for c in CASES) > 0
    for row in rows:
        assert row.tokens_in > 0 and row.latency_s > 0
        assert 0.0 <= row.score <= 1.0
        assert row.error is None, row.error
        if role_name != "responder":
            assert row.metrics["valid"] == 1.0, row.output  # grammar-constrained JSON parses


def test_same_request_same_output_within_a_run(backend):
    role = get_role("planner")
    step = role.steps(CASES[0])[1]
    caller_step = get_role("caller").steps(CASES[0])[-1]
    first = backend.generate([step.request, caller_step.request, step.request])
    assert first[0].text == first[2].text  # a prefix-cache hit must not change the output
    again = backend.generate([caller_step.request])
    assert again[0].text == first[1].text


def test_same_output_across_runs(backend):
    """A fresh process gives the same text for the same request and seed."""
    import json
    import subprocess

    step = get_role("caller").steps(CASES[0])[0]
    here = backend.generate([step.request])[0].text
    code = (
        "import json, sys\n"
        "from rolecast.project import load_project\n"
        "from rolecast.backends import create_backend\n"
        "from rolecast.profiles.roles import get_role\n"
        "from rolecast.suite import build_suite\n"
        f"case = [c for c in build_suite() if c.id == {CASES[0].id!r}][0]\n"
        f"cand = load_project(None)[0].candidate({backend.candidate.name!r})\n"
        "step = get_role('caller').steps(case)[0]\n"
        "with create_backend(cand) as b: print(json.dumps(b.generate([step.request])[0].text))\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    )
    assert json.loads(result.stdout.strip().splitlines()[-1]) == here
    assert fingerprint(backend.candidate) == fingerprint(backend.candidate.model_copy())


def test_end_to_end_run_with_real_tools(tmp_path):
    """Profile → search → export → run on a held-out case, through the CLI."""
    import subprocess

    db = tmp_path / "e2e.db"
    out = tmp_path / "coalition.yaml"
    env_cmd = [sys.executable, "-m", "rolecast"]
    common = ["--db", str(db)]
    subprocess.run(
        [*env_cmd, "profile", *common, "--subset", "3", "--no-progress"],
        check=True,
        capture_output=True,
    )
    subprocess.run(
        [*env_cmd, "export", *common, "--subset", "3", "--out", str(out)],
        check=True,
        capture_output=True,
    )
    holdout = next(c for c in SUITE.values() if c.split == "holdout" and len(c.steps) >= 1)
    result = subprocess.run(
        [*env_cmd, "run", str(out), "--case", holdout.id, "--max-steps", "3"],
        check=True,
        capture_output=True,
        text=True,
    )
    assert "instruction:" in result.stdout and "answer:" in result.stdout
    assert "end-to-end:" in result.stdout and "planner_pass" in result.stdout
    assert "plan" in result.stdout and "responder:" in result.stdout


def test_every_suite_schema_becomes_a_parseable_grammar(backend):
    """A grammar llama.cpp cannot parse would crash the process; each is checked first."""
    from rolecast.suite import tool_definitions

    for tool in tool_definitions():
        grammar = backend._grammar(tool.parameters)
        assert grammar is not None
        assert backend._convert('{"type": "object"}') is not None
    # an escape the converter cannot spell: the pattern is dropped, the rest constrains
    weird = {"type": "object", "properties": {"x": {"type": "string", "pattern": "^\\p{L}+$"}}}
    assert backend._grammar(weird) is not None
