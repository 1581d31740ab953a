"""Exact search against independent enumeration, random search, Optuna TPE and coordinate ascent.

Synthetic profile matrices with the structure issue 9 describes: 200 cases with a latent
difficulty shared by every role, candidates whose memory spans 0.5-80 GB and whose skill
grows with their size, observed 0/1 outcomes drawn from a logistic model, prices per GPU-hour
and latency that grow with size, and two budgets that both bind (GPU memory at 35% of the
four largest models together, cost at 30% of the dearest coalition; the script checks that
relaxing either one raises the optimum).

For each size and data seed it reports:

* rolecast's :func:`rolecast.search.search` (top-10, ties, Pareto front, exact): time,
  coalitions scored, front size, regret;
* the exact optimum computed independently here by plain numpy enumeration of every
  coalition (one matrix product per pair of the first two roles), and its time;
* random search (1000 coalitions), Optuna's TPE with default settings (200 trials, an
  over-budget coalition scores 0) and LLMSelector-style coordinate ascent (round-robin over
  roles, the best candidate for a role given the others, until nothing changes; started
  from the cheapest coalition): time and regret.

Then, end to end on a stored profile: a 100 x 4 x 200 results file is imported
(``rolecast import``) and ``rolecast search --format json`` is timed (surrogate observed
and irt), and an impossible budget (``--gpu-memory-gb 0.1``) is timed with its exit code
and the child's peak resident memory.

Usage: PYTHONPATH=$PWD .venv/bin/python bench/search.py [--sizes 5 20 40 100] [--seeds 3]
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from rolecast.allocator import ProfileMatrix, RoleStats
from rolecast.profiles.stats import wilson_interval
from rolecast.search import search
from rolecast.types import Budget, Candidate, Prices

ROLES = ("planner", "caller", "extractor", "responder")
N_CASES = 200


@dataclass
class Synthetic:
    """Raw numbers of one synthetic profile: scores[r, c, case], cost[r, c], memory[c]."""

    scores: np.ndarray
    cost: np.ndarray
    latency: np.ndarray
    memory: np.ndarray
    per_hour: np.ndarray
    budget: Budget

    @property
    def names(self) -> list[str]:
        return [f"model-{i:03d}" for i in range(self.memory.size)]


def synthetic(seed: int, n_candidates: int, n_roles: int = 4) -> Synthetic:
    """A profile with shared case difficulty, skill growing with size, two binding budgets."""
    rng = np.random.default_rng(seed)
    difficulty = rng.normal(0.0, 1.0, N_CASES)
    log_memory = rng.uniform(np.log(0.5), np.log(80.0), n_candidates)
    memory = np.round(np.exp(log_memory), 2)
    per_hour = np.round(0.05 + 0.04 * memory, 4)  # USD per GPU-hour grows with size
    scores = np.empty((n_roles, n_candidates, N_CASES))
    latency = np.empty((n_roles, n_candidates))
    for r in range(n_roles):
        skill = 1.0 + 0.8 * (log_memory - log_memory.mean()) + rng.normal(0, 0.7, n_candidates)
        p = 1 / (1 + np.exp(-(skill[:, None] - 1.2 * difficulty[None, :])))
        scores[r] = (rng.random((n_candidates, N_CASES)) < p).astype(float)
        latency[r] = np.round(0.2 + 0.02 * memory * rng.uniform(0.5, 1.5, n_candidates), 3)
    cost = 1000 * latency * per_hour[None, :] / 3600
    budget = Budget(
        gpu_memory_gb=round(0.3 * float(np.sort(memory)[-n_roles:].sum()), 2),
        cost_per_1k_tasks=round(0.2 * float(cost.max(axis=1).sum()), 4),
    )
    return Synthetic(scores, cost, latency, memory, per_hour, budget)


def profile_matrix(s: Synthetic) -> ProfileMatrix:
    """The synthetic numbers as rolecast's ProfileMatrix (measured memory, hourly prices)."""
    case_ids = [f"case-{i:03d}" for i in range(N_CASES)]
    roles = ROLES[: s.scores.shape[0]]
    stats = {}
    for r, role in enumerate(roles):
        for c, name in enumerate(s.names):
            success = dict(zip(case_ids, (bool(v) for v in s.scores[r, c]), strict=True))
            stats[(name, role)] = RoleStats(
                candidate=name,
                role=role,
                case_success=success,
                step_rate=wilson_interval(sum(success.values()), N_CASES),
                metric_means={},
                tokens_in_per_case=0.0,
                tokens_out_per_case=0.0,
                latency_per_case=float(s.latency[r, c]),
                source="import",
            )
    candidates = [
        Candidate(
            name=name,
            backend="imported",
            model=name,
            memory_gb=float(s.memory[c]),
            prices=Prices(per_hour=float(s.per_hour[c])),
        )
        for c, name in enumerate(s.names)
    ]
    return ProfileMatrix(stats, candidates, roles, case_ids)


# -- the independent exact optimum --------------------------------------------------------


def enumerate_optimum(s: Synthetic) -> dict[str, float]:
    """Best accuracy over every coalition (plain enumeration), under both budgets, under each
    alone and under none; four roles only."""
    n_roles, n, _ = s.scores.shape
    assert n_roles == 4, "the enumeration here is written for four roles"
    limit_m, limit_c = s.budget.gpu_memory_gb, s.budget.cost_per_1k_tasks
    assert limit_m is not None and limit_c is not None
    best = {"both": -1.0, "memory_only": -1.0, "cost_only": -1.0, "none": -1.0}
    s2, s3, m = s.scores[2], s.scores[3].T, s.memory
    k_idx, l_idx = np.arange(n)[:, None], np.arange(n)[None, :]
    for i in range(n):
        for j in range(n):
            prefix = s.scores[0, i] * s.scores[1, j]
            accuracy = (s2 * prefix) @ s3 / N_CASES
            cost = s.cost[0, i] + s.cost[1, j] + s.cost[2][:, None] + s.cost[3][None, :]
            base = m[i] + (m[j] if j != i else 0.0)
            add_k = np.where((k_idx != i) & (k_idx != j), m[:, None], 0.0)
            add_l = np.where((l_idx != i) & (l_idx != j) & (l_idx != k_idx), m[None, :], 0.0)
            memory = base + add_k + add_l
            fits_m, fits_c = memory <= limit_m, cost <= limit_c
            for key, mask in (("both", fits_m & fits_c), ("memory_only", fits_m),
                              ("cost_only", fits_c), ("none", None)):  # fmt: skip
                value = accuracy.max() if mask is None else accuracy[mask].max(initial=-1.0)
                best[key] = max(best[key], float(value))
    return best


# -- the heuristics -------------------------------------------------------------------------


def evaluate(s: Synthetic, choice: tuple[int, ...]) -> float:
    """Accuracy of a choice, or -1 when it breaks a budget."""
    product = np.ones(N_CASES)
    cost = 0.0
    for r, c in enumerate(choice):
        product = product * s.scores[r, c]
        cost += s.cost[r, c]
    memory = float(s.memory[list(set(choice))].sum())
    assert s.budget.gpu_memory_gb is not None and s.budget.cost_per_1k_tasks is not None
    if memory > s.budget.gpu_memory_gb or cost > s.budget.cost_per_1k_tasks:
        return -1.0
    return float(product.mean())


def random_search(s: Synthetic, n: int, seed: int) -> float:
    rng = np.random.default_rng(seed)
    n_roles, n_cand, _ = s.scores.shape
    return max(evaluate(s, tuple(rng.integers(0, n_cand, n_roles))) for _ in range(n))


def tpe(s: Synthetic, n_trials: int, seed: int) -> float:
    import optuna

    optuna.logging.set_verbosity(optuna.logging.WARNING)
    n_roles, n_cand, _ = s.scores.shape
    study = optuna.create_study(direction="maximize", sampler=optuna.samplers.TPESampler(seed=seed))

    def objective(trial: optuna.Trial) -> float:
        choice = tuple(
            trial.suggest_categorical(ROLES[r], list(range(n_cand))) for r in range(n_roles)
        )
        return max(evaluate(s, choice), 0.0)

    study.optimize(objective, n_trials=n_trials)
    best = max(evaluate(s, tuple(t.params[ROLES[r]] for r in range(n_roles))) for t in study.trials)
    return best


def coordinate_ascent(s: Synthetic) -> float:
    """LLMSelector-style: from the cheapest coalition, improve one role at a time."""
    n_roles, n_cand, _ = s.scores.shape
    choice = list(int(np.argmin(s.cost[r])) for r in range(n_roles))
    current = evaluate(s, tuple(choice))
    changed = True
    while changed:
        changed = False
        for r in range(n_roles):
            for c in range(n_cand):
                trial = list(choice)
                trial[r] = c
                value = evaluate(s, tuple(trial))
                if value > current:
                    choice, current, changed = trial, value, True
    return current


# -- end to end -------------------------------------------------------------------------------


def end_to_end(workdir: Path, seed: int) -> dict[str, object]:
    """Import a stored 100 x 4 profile, then time `rolecast search` on it."""
    s = synthetic(seed, 100)
    cases = workdir / "cases.jsonl"
    with cases.open("w", encoding="utf-8") as handle:
        for i in range(N_CASES):
            case = {
                "id": f"case-{i:03d}",
                "instruction": f"look up item {i}",
                "tools": [{"name": "lookup", "description": "find an item",
                           "parameters": {"type": "object",
                                          "properties": {"id": {"type": "integer"}}}}],
                "steps": [{"tool": "lookup", "arguments": {"id": i},
                           "observation": {"price": i, "stock": 2 * i}, "evidence": ["price"]}],
                "answer": f"item {i} costs {i}",
            }  # fmt: skip
            handle.write(json.dumps(case) + "\n")
    results = workdir / "results.csv"
    with results.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(["candidate", "role", "case_id", "score", "success", "latency_s"])
        for r, role in enumerate(ROLES):
            for c, name in enumerate(s.names):
                for i in range(N_CASES):
                    ok = bool(s.scores[r, c, i])
                    writer.writerow([name, role, f"case-{i:03d}", float(ok), str(ok).lower(),
                                     float(s.latency[r, c])])  # fmt: skip
    project = workdir / "project.yaml"
    lines = [f"cases: {cases}", f"pipeline: [{', '.join(ROLES)}]",
             f"budget: {{gpu_memory_gb: {s.budget.gpu_memory_gb}, "
             f"cost_per_1k_tasks: {s.budget.cost_per_1k_tasks}}}", "candidates:"]  # fmt: skip
    for c, name in enumerate(s.names):
        lines.append(f"  - {{name: {name}, backend: imported, model: {name}, "
                     f"memory_gb: {s.memory[c]}, "
                     f"prices: {{per_hour: {s.per_hour[c]}}}}}")  # fmt: skip
    project.write_text("\n".join(lines) + "\n")
    db = workdir / "profile.db"
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[1])}
    rolecast = [sys.executable, "-m", "rolecast"]
    done = subprocess.run([*rolecast, "import", str(results), "--db", str(db)], env=env,
                          capture_output=True, text=True, check=False)  # fmt: skip
    if done.returncode != 0:
        raise SystemExit(f"import failed: {done.stderr}")
    out: dict[str, object] = {}
    runs = {
        "search_observed": ["--surrogate", "observed"],
        "search_irt": ["--surrogate", "irt"],
        "impossible_budget": ["--surrogate", "observed", "--gpu-memory-gb", "0.1"],
    }
    for label, extra in runs.items():
        wrapper = (
            "import resource, subprocess, sys, time; t = time.perf_counter(); "
            "r = subprocess.run(sys.argv[1:], capture_output=True, text=True); "
            "w = time.perf_counter() - t; "
            "u = resource.getrusage(resource.RUSAGE_CHILDREN); "
            "print(r.returncode, round(w, 2), u.ru_maxrss, round(u.ru_utime + u.ru_stime, 2)); "
            "sys.stderr.write(r.stderr); sys.stdout.write(r.stdout)"
        )
        command = [*rolecast, "search", "-c", str(project), "--db", str(db), "--format", "json",
                   "--no-progress", *extra]  # fmt: skip
        done = subprocess.run([sys.executable, "-c", wrapper, *command], env=env,
                              capture_output=True, text=True, check=False)  # fmt: skip
        head, _, body = done.stdout.partition("\n")
        code, wall, rss_kib, cpu = head.split()
        entry: dict[str, object] = {"exit": int(code), "wall_s": float(wall), "cpu_s": float(cpu),
                                    "peak_rss_mb": round(int(rss_kib) / 1024, 1)}  # fmt: skip
        if int(code) == 0:
            report = json.loads(body)
            entry |= {"search_s": report["seconds"], "best": report["best"]["accuracy"]["mean"],
                      "front": len(report["pareto"]), "scored": report["scored"]}  # fmt: skip
        else:
            entry["error"] = done.stderr.strip().splitlines()[-1][:160]
        out[label] = entry
    return out


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[5, 20, 40, 100])
    parser.add_argument("--seeds", type=int, default=3)
    parser.add_argument("--no-end-to-end", action="store_true")
    parser.add_argument("--only-end-to-end", action="store_true")
    args = parser.parse_args()
    print(f"load average before: {os.getloadavg()[0]:.1f} (2 shared cores)", flush=True)
    header = (
        "| C × R | seed | binds (mem, cost) | optimum | enumeration s | rolecast s (CPU s) "
        "| regret | scored | front | random 1000: regret, s | TPE 200: regret, s "
        "| coord. ascent: regret, s |"
    )
    print(header)
    print("|" + "---|" * (header.count("|") - 1))
    for size in [] if args.only_end_to_end else args.sizes:
        for seed in range(args.seeds):
            s = synthetic(seed, size)
            m = profile_matrix(s)
            started = time.perf_counter()
            optimum = enumerate_optimum(s)
            enum_s = time.perf_counter() - started
            started, cpu = time.perf_counter(), time.process_time()
            result = search(m, s.budget, top_k=10)
            ours_s = time.perf_counter() - started
            ours_cpu = time.process_time() - cpu
            exact = optimum["both"]
            binds = (optimum["cost_only"] > exact, optimum["memory_only"] > exact)
            started = time.perf_counter()
            rand = random_search(s, 1000, seed)
            rand_s = time.perf_counter() - started
            started = time.perf_counter()
            tpe_best = tpe(s, 200, seed)
            tpe_s = time.perf_counter() - started
            started = time.perf_counter()
            ca = coordinate_ascent(s)
            ca_s = time.perf_counter() - started
            regret = exact - result.best.accuracy.mean
            print(
                f"| {size} × 4 | {seed} | {'yes' if binds[0] else 'no'}, "
                f"{'yes' if binds[1] else 'no'} | {exact:.3f} | {enum_s:.1f} "
                f"| {ours_s:.2f} ({ours_cpu:.2f}) | {100 * regret:.1f} pp "
                f"| {result.n_scored:,} | {len(result.pareto)} "
                f"| {100 * (exact - rand):.1f} pp, {rand_s:.2f} "
                f"| {100 * (exact - tpe_best):.1f} pp, {tpe_s:.1f} "
                f"| {100 * (exact - ca):.1f} pp, {ca_s:.2f} |",
                flush=True,
            )
    if not args.no_end_to_end:
        with tempfile.TemporaryDirectory(prefix="rolecast-search-bench-") as tmp:
            print(json.dumps(end_to_end(Path(tmp), 0), indent=2))
    print(f"load average after: {os.getloadavg()[0]:.1f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
