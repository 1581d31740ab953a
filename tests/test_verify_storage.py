"""verify's bookkeeping with scripted models: runs stored as produced, a rerun generates none,
a kill between runs loses only the run in flight, faults are never stored."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from _verify import HOLDOUT, Finisher, judge_by_id, plans

from rolecast.agent import JUDGE_VERSION
from rolecast.backends import ChatResult, Fault
from rolecast.backends.scripted import ScriptedBackend
from rolecast.errors import ToolError
from rolecast.storage import ProfileStore, resolve_db_url
from rolecast.tools import BuiltinTools, ToolSet
from rolecast.verify import coalition_key, run_plans

TESTS = Path(__file__).parent


def _store(tmp_path: Path) -> ProfileStore:
    return ProfileStore(resolve_db_url(str(tmp_path / "v.db")))


def _factory(responder):
    return lambda candidate: ScriptedBackend(candidate, responder)


def test_runs_are_stored_and_a_rerun_generates_none(tmp_path: Path) -> None:
    work = plans(3)
    judge = judge_by_id([HOLDOUT[0].id])
    with _store(tmp_path) as store:
        first = run_plans(
            work, store, BuiltinTools(), judge_fn=judge, backend_factory=_factory(Finisher())
        )
        stored = store.agent_runs()
        responder = Finisher()
        again = run_plans(
            work, store, BuiltinTools(), judge_fn=judge, backend_factory=_factory(responder)
        )
        assert store.agent_runs() == stored
    assert (first.generated, first.reused) == (6, 0)
    assert (again.generated, again.reused, responder.calls) == (0, 6, 0)
    assert len(stored) == 6 and len({(r.coalition_key, r.case_hash) for r in stored}) == 6
    by_key = {(r.coalition_key, r.case_id): r for r in stored}
    mixed = by_key[(work[1].key, HOLDOUT[0].id)]
    assert mixed.assignment == {"planner": "a", "caller": "b", "extractor": "b", "responder": "a"}
    assert mixed.fingerprints["caller"] == "fp-b" and mixed.prompt_versions["planner"] == "v1"
    assert mixed.success and not by_key[(work[1].key, HOLDOUT[1].id)].success
    assert mixed.answer == '{"action": "finish"}' and mixed.stopped == "finish"
    assert mixed.judge_version == JUDGE_VERSION and mixed.tokens_in > 0


def test_the_key_is_the_models_and_prompts_not_the_names() -> None:
    a = plans(1)[0].config
    renamed = a.model_copy(
        update={"candidates": {"z": a.candidates["a"].model_copy(update={"name": "z"})}}
    )
    renamed = renamed.model_copy(
        update={
            "roles": {r: v.model_copy(update={"candidate": "z"}) for r, v in a.roles.items()},
            "provenance": a.provenance.model_copy(update={"fingerprints": {"z": "fp-a"}}),
        }
    )
    assert coalition_key(renamed) == coalition_key(a)
    other_prompt = a.model_copy(
        update={
            "roles": {
                **a.roles,
                "caller": a.roles["caller"].model_copy(update={"prompt_version": "v2"}),
            }
        }
    )
    assert coalition_key(other_prompt) != coalition_key(a)
    other_model = a.model_copy(
        update={"provenance": a.provenance.model_copy(update={"fingerprints": {"a": "fp-x"}})}
    )
    assert coalition_key(other_model) != coalition_key(a)


def test_a_run_limit_stops_generation_and_the_next_call_continues(tmp_path: Path) -> None:
    work = plans(3)
    judge = judge_by_id([])
    with _store(tmp_path) as store:
        first = run_plans(
            work,
            store,
            BuiltinTools(),
            judge_fn=judge,
            backend_factory=_factory(Finisher()),
            limit=4,
        )
        rest = run_plans(
            work, store, BuiltinTools(), judge_fn=judge, backend_factory=_factory(Finisher())
        )
        assert len(store.agent_runs()) == 6
    assert (first.generated, rest.generated, rest.reused) == (4, 2, 4)


class _DownTools(ToolSet):
    """A tool server that is down: every call is an infrastructure failure."""

    source = "builtin"

    def tools(self, case=None):
        return BuiltinTools().tools(case)

    def call(self, name: str, arguments: dict[str, Any], case=None) -> Any:
        raise ToolError("tool server at 127.0.0.1:9 refused the connection")


def test_a_tool_fault_is_not_stored_and_is_retried(tmp_path: Path) -> None:
    work = plans(2)[:1]
    # every run: the planner picks a tool, the caller fills it, the tool server is down
    script = iter(
        ['{"action": "convert_units"}', '{"value": 1, "from_unit": "mi", "to_unit": "km"}'] * 2
    )
    with _store(tmp_path) as store:
        outcome = run_plans(
            work,
            store,
            _DownTools(),
            judge_fn=judge_by_id([]),
            backend_factory=_factory(lambda r: next(script)),
        )
        assert store.agent_runs() == []
        assert outcome.faults == 2 and outcome.generated == 0
        assert "refused the connection" in outcome.fault_messages[0]
        retry = run_plans(
            work,
            store,
            BuiltinTools(),
            judge_fn=judge_by_id([]),
            backend_factory=_factory(Finisher()),
        )
        assert retry.generated == 2 and len(store.agent_runs()) == 2


def test_a_backend_fault_is_not_stored(tmp_path: Path) -> None:
    down = ChatResult(text="", error="HTTP 503 from the server", fault=Fault.SERVER)
    with _store(tmp_path) as store:
        outcome = run_plans(
            plans(1)[:1],
            store,
            BuiltinTools(),
            judge_fn=judge_by_id([]),
            backend_factory=_factory(lambda r: down),
        )
        assert store.agent_runs() == [] and outcome.faults == 1
        # the model's own unusable output is a measured failure, stored
        outcome = run_plans(
            plans(1)[:1],
            store,
            BuiltinTools(),
            judge_fn=judge_by_id([]),
            backend_factory=_factory(lambda r: "not json"),
        )
        assert outcome.generated == 1 and not store.agent_runs()[0].success


def test_a_changed_judge_rejudges_stored_runs_without_running_models(tmp_path: Path) -> None:
    work = plans(2)
    with _store(tmp_path) as store:
        run_plans(
            work,
            store,
            BuiltinTools(),
            judge_fn=judge_by_id([]),
            backend_factory=_factory(Finisher()),
        )
        key = work[0].key
        first = next(r for r in store.agent_runs() if r.coalition_key == key)
        store.rejudge_agent_run(key, first.case_hash, {"success": False}, "an-older-judge")
        responder = Finisher()
        outcome = run_plans(
            work,
            store,
            BuiltinTools(),
            judge_fn=judge_by_id([first.case_id]),
            backend_factory=_factory(responder),
        )
        after = {(r.coalition_key, r.case_hash): r for r in store.agent_runs()}
    assert (outcome.generated, outcome.rejudged, responder.calls) == (0, 1, 0)
    rejudged = after[(key, first.case_hash)]
    assert rejudged.success and rejudged.judge_version == JUDGE_VERSION
    assert rejudged.verdict["answer_len"] == len(first.answer)


_CHILD = """
import sys
sys.path.insert(0, {tests!r})
from _verify import Finisher, judge_by_id, plans
from rolecast.backends.scripted import ScriptedBackend
from rolecast.storage import ProfileStore, resolve_db_url
from rolecast.tools import BuiltinTools
from rolecast.verify import run_plans

from rolecast.backends import registered

responder = Finisher(hang_at_call=5)  # each run is two calls (plan: finish; answer)
with registered("scripted", "rolecast.backends.scripted:ScriptedBackend"), ProfileStore(
    resolve_db_url({db!r})
) as store:
    run_plans(plans(3), store, BuiltinTools(), judge_fn=judge_by_id([]),
              backend_factory=lambda c: ScriptedBackend(c, responder))
"""


def test_a_kill_between_runs_loses_only_the_run_in_flight(tmp_path: Path) -> None:
    db = str(tmp_path / "killed.db")
    child = subprocess.Popen(
        [sys.executable, "-c", _CHILD.format(tests=str(TESTS), db=db)],
        env={**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)},
    )
    try:
        deadline = time.monotonic() + 120
        stored: list = []
        while time.monotonic() < deadline and len(stored) < 2:
            assert child.poll() is None, "the child exited before it was killed"
            if Path(db).exists():
                with ProfileStore(resolve_db_url(db)) as store:
                    stored = store.agent_runs()
            time.sleep(0.2)
        assert len(stored) == 2, "the child never stored two runs"
        time.sleep(0.5)  # it is now hanging inside the third run
        os.kill(child.pid, signal.SIGKILL)
        child.wait(timeout=30)
    finally:
        if child.poll() is None:
            child.kill()
            child.wait()
    responder = Finisher()
    with ProfileStore(resolve_db_url(db)) as store:
        assert store.agent_runs() == stored  # the third run was in flight: nothing of it
        outcome = run_plans(
            plans(3),
            store,
            BuiltinTools(),
            judge_fn=judge_by_id([]),
            backend_factory=_factory(responder),
        )
        final = store.agent_runs()
    assert (outcome.generated, outcome.reused) == (4, 2)
    assert responder.calls == 8 and final[:2] == stored and len(final) == 6
