"""Surrogates and budgeted verification on a simulated ground truth (the true best is known).

Run: ``.venv/bin/python bench/verify_sim.py [--seeds 10] [--json out.json]``

World: ``C`` candidates × ``R`` roles. Each cell's true success probability follows a
logistic model (skill per candidate × role, difficulty per case and per case × role);
the teacher-forced profile of ``profile_cases`` cases draws one 0/1 outcome per cell. A
coalition's true end-to-end success probability on a case is the product of its roles'
probabilities, times, in the ``interaction`` world, a compatibility factor of its planner
and caller (1 for the same model, U(0.7, 1) otherwise: the caller works from another
model's plans, which teacher forcing never shows). True accuracy is the mean of that
probability over 4000 fresh cases. Worlds:

- ``product``: end to end = product of roles (the surrogates' assumption holds);
- ``interaction``: the planner × caller factor above;
- ``conditional``: as ``product``, but the caller's profile outcome is observed only where
  the same candidate's planner passed (the IBM study's slot-filling verdict); the 0/1
  surrogate is shown twice: reading those rows as unconditional outcomes (a failed plan
  counts as a failed call, as imports did before), and with ``given planner`` (unobserved
  cells take the candidate's rate).

Part 1: mean absolute error (points) of each surrogate's predicted accuracy over every
coalition, against the true accuracy on the profiled cases themselves (the mean of the
true per-case probabilities: what a surrogate estimates) and on 4000 fresh cases (adds
the sampling error of the profiled cases, common to every surrogate). Beside them, the
floor (``bayes_floor.py``): the posterior mean of each coalition's accuracy given the same
outcomes under the world's true priors, the least expected squared error any surrogate can
have; and the sampling error of the profiled cases alone (true accuracy on them against
true accuracy on fresh cases). ``--worlds``, ``--profile-cases`` and ``--no-floor`` pick
what part 1 computes.

Part 2 (``interaction`` world, drawn until the true best leads the second by
``--min-gap`` points): end-to-end runs needed to reach the true best coalition, budgeted
search (rolecast.selection, both strategies, over the IRT surrogate's predictions, top-3
first) vs LLMSelector-style coordinate ascent judged end to end (start: the surrogate's
best single model in every role; round-robin over roles; each alternative for a role run
on all held-out cases; stop after a round with no change). Each (coalition, case) has one
fixed outcome, so a rerun agrees. "Runs to reach" = runs after which the method's pick is
the true best and stays so to its end; a method whose final pick is wrong has not reached
it (its regret, true best minus true accuracy of its pick, is shown beside).
"""

from __future__ import annotations

import argparse
import itertools
import json
import statistics
from dataclasses import dataclass

import numpy as np
from bayes_floor import (
    CASE_ROLE_SD,
    DIFFICULTY_SD,
    SKILL_MEAN,
    SKILL_SD,
    posterior_mean_accuracy,
)

from rolecast.allocator import ProfileMatrix, RoleStats
from rolecast.allocator.surrogate import apply_surrogate
from rolecast.profiles.stats import wilson_interval
from rolecast.selection import budgeted_search, label
from rolecast.types import Candidate

ROLES = ("planner", "caller", "responder")
STRATEGIES = ("halving", "thompson")
POPULATION = 4000


@dataclass
class World:
    """True cell probabilities of profiled, held-out and population cases."""

    names: list[str]
    skill: np.ndarray  # (C, R)
    compat: np.ndarray  # (C, C) planner × caller factor
    rng: np.random.Generator

    def cells(self, n_cases: int) -> np.ndarray:
        """True P(success) (C, R, n) of fresh cases."""
        difficulty = self.rng.normal(0.0, DIFFICULTY_SD, n_cases)
        case_role = self.rng.normal(0.0, CASE_ROLE_SD, (n_cases, len(ROLES)))
        logit = self.skill[:, :, None] - (difficulty[:, None] + case_role).T[None]
        return 1 / (1 + np.exp(-logit))

    def end_to_end(self, cells: np.ndarray, coalition: tuple[int, ...]) -> np.ndarray:
        """True end-to-end P(success) per case of a coalition (indices per role)."""
        prob = np.prod([cells[c, r] for r, c in enumerate(coalition)], axis=0)
        return prob * self.compat[coalition[0], coalition[1]]


def make_world(seed: int, n_candidates: int, interaction: bool) -> World:
    rng = np.random.default_rng(seed)
    skill = rng.normal(SKILL_MEAN, SKILL_SD, (n_candidates, len(ROLES)))
    compat = np.ones((n_candidates, n_candidates))
    if interaction:
        compat = rng.uniform(0.7, 1.0, (n_candidates, n_candidates))
        np.fill_diagonal(compat, 1.0)
    names = [f"m{i}" for i in range(n_candidates)]
    return World(names, skill, compat, rng)


def profile_matrix(world: World, outcomes: np.ndarray) -> ProfileMatrix:
    """A ProfileMatrix over 0/1/NaN cell outcomes (C, R, I), as the store would give."""
    n_i = outcomes.shape[2]
    case_ids = [f"p{i}" for i in range(n_i)]
    stats = {}
    for c, name in enumerate(world.names):
        for r, role in enumerate(ROLES):
            row = outcomes[c, r]
            seen = ~np.isnan(row)
            stats[(name, role)] = RoleStats(
                candidate=name,
                role=role,
                case_success={cid: bool(v == 1) for cid, v in zip(case_ids, row, strict=True)},
                step_rate=wilson_interval(int(np.nansum(row)), int(seen.sum())),
                metric_means={},
                tokens_in_per_case=0.0,
                tokens_out_per_case=0.0,
                latency_per_case=0.0,
                source="rolecast",
                case_observed={cid: False for cid, s in zip(case_ids, seen, strict=True) if not s},
            )
    candidates = [
        Candidate(name=n, backend="scripted", model=f"scripted/{n}", memory_gb=1.0)
        for n in world.names
    ]
    return ProfileMatrix(stats, candidates, ROLES, case_ids)


def predictions(matrix: ProfileMatrix, coalitions: list[tuple[int, ...]], names: list[str]):
    return np.array(
        [
            np.mean(matrix.case_success({r: names[c] for r, c in zip(ROLES, co, strict=True)}))
            for co in coalitions
        ]
    )


FLOOR = "floor: Bayes posterior mean, true priors"


def surrogate_errors(
    seed: int, world_kind: str, n_candidates: int, profile_cases: int, floor: bool = True
):
    world = make_world(seed, n_candidates, world_kind == "interaction")
    coalitions = list(itertools.product(range(n_candidates), repeat=len(ROLES)))
    population = world.cells(POPULATION)
    truth = np.array([world.end_to_end(population, co).mean() for co in coalitions])
    cells = world.cells(profile_cases)
    outcomes = (world.rng.random(cells.shape) < cells).astype(float)
    variants = {}
    if world_kind == "conditional":
        planner_ok = outcomes[:, 0] == 1
        naive = outcomes.copy()
        naive[:, 1] = np.where(planner_ok, outcomes[:, 1], 0.0)  # failed plan -> failed call
        given = outcomes.copy()
        given[:, 1] = np.where(planner_ok, outcomes[:, 1], np.nan)
        variants["observed (unconditional rows)"] = apply_surrogate(
            profile_matrix(world, naive), "observed"
        )
        variants["observed (given planner)"] = apply_surrogate(
            profile_matrix(world, given), "observed"
        )
        variants["irt (given planner)"] = apply_surrogate(profile_matrix(world, given), "irt")
        seen = given
    else:
        matrix = profile_matrix(world, outcomes)
        variants["observed"] = apply_surrogate(matrix, "observed")
        variants["irt"] = apply_surrogate(matrix, "irt")
        seen = outcomes
    on_profiled = np.array([world.end_to_end(cells, co).mean() for co in coalitions])
    preds = {name: predictions(m, coalitions, world.names) for name, m in variants.items()}
    mc_error = None
    if floor:  # the same outcomes, read by the estimator that knows the world's priors
        preds[FLOOR], mc_error = posterior_mean_accuracy(seen, np.array(coalitions), seed=seed)
    out: dict[str, dict[str, object]] = {}
    best = int(np.argmax(truth))
    for name, pred in preds.items():
        out[name] = {
            "mae_profiled": float(np.mean(np.abs(pred - on_profiled)) * 100),
            "mae": float(np.mean(np.abs(pred - truth)) * 100),
            "bias": float(np.mean(pred - truth) * 100),
            "top1_is_best": bool(int(np.argmax(pred)) == best),
            "true_rank_of_top1": int(np.sum(truth > truth[int(np.argmax(pred))])) + 1,
        }
    if mc_error is not None:
        out[FLOOR]["mc_error"] = mc_error
    # how far the true accuracy on the profiled cases is from that on fresh cases: what
    # no surrogate of these cases can know (the floor of "MAE on fresh cases" for one
    # that is exactly right on the profiled cases)
    out["sampling"] = {"mae": float(np.mean(np.abs(on_profiled - truth)) * 100)}
    return out


def runs_to_reach(picks: list[str], best: str) -> int | None:
    """Runs after which every later pick is ``best`` (None when the last pick is not)."""
    if not picks or picks[-1] != best:
        return None
    last_wrong = max((i for i, p in enumerate(picks) if p != best), default=-1)
    return last_wrong + 1


def coordinate_ascent(start: dict[str, str], names, case_ids, run) -> list[str]:
    """LLMSelector-style: per role in turn, the best candidate given the others (end to end)."""
    cache: dict[str, float] = {}
    picks: list[str] = []
    current = dict(start)

    def accuracy(assignment: dict[str, str]) -> float:
        key = label(assignment)
        if key not in cache:
            total = 0
            for case in case_ids:
                total += run(assignment, case)
                picks.append(label(current))
            cache[key] = total / len(case_ids)
        return cache[key]

    accuracy(current)
    changed = True
    while changed:
        changed = False
        for role in ROLES:
            scores = {name: accuracy({**current, role: name}) for name in names}
            top = max(scores, key=lambda n: (scores[n], n == current[role]))
            if top != current[role] and scores[top] > scores[current[role]]:
                current[role] = top
                changed = True
                picks[-1] = label(current)  # the pick changes with the role's last run
    return picks


def verification(
    seed: int, n_candidates: int, profile_cases: int, holdout: int, budget: int, min_gap: float
):
    coalitions = list(itertools.product(range(n_candidates), repeat=len(ROLES)))
    for attempt in range(1000):  # a world whose best is min_gap points ahead of the second
        world = make_world(10_000 * (seed + 1) + attempt, n_candidates, interaction=True)
        population = world.cells(POPULATION)
        truth = np.array([world.end_to_end(population, co).mean() for co in coalitions])
        top = np.sort(truth)[::-1]
        if (top[0] - top[1]) * 100 >= min_gap:
            break
    cells = world.cells(profile_cases)
    outcomes = (world.rng.random(cells.shape) < cells).astype(float)
    irt = apply_surrogate(profile_matrix(world, outcomes), "irt")
    predicted = predictions(irt, coalitions, world.names)
    held = world.cells(holdout)
    held_ids = [f"h{i}" for i in range(holdout)]
    draws = world.rng.random((len(coalitions), holdout))
    index = {label(dict(zip(ROLES, (world.names[c] for c in co), strict=True))): j
             for j, co in enumerate(coalitions)}  # fmt: skip
    e2e = np.array([world.end_to_end(held, co) for co in coalitions])
    outcome_table = draws < e2e  # one fixed outcome per (coalition, case): reruns agree
    count = {"n": 0}

    def run(assignment: dict[str, str], case_id: str) -> bool:
        count["n"] += 1
        return bool(outcome_table[index[label(assignment)], held_ids.index(case_id)])

    best = label(dict(zip(ROLES, (world.names[c] for c in coalitions[int(np.argmax(truth))]),
                          strict=True)))  # fmt: skip
    assignments = [dict(zip(ROLES, (world.names[c] for c in co), strict=True)) for co in coalitions]
    true_of = {label(a): truth[j] for j, a in enumerate(assignments)}
    top = float(np.max(truth))
    out: dict[str, object] = {
        "gap_points": float((np.sort(truth)[::-1][0] - np.sort(truth)[::-1][1]) * 100),
        "surrogate_top1_is_best": bool(int(np.argmax(predicted)) == int(np.argmax(truth))),
        "true_best_predicted_rank": int(np.sum(predicted > predicted[int(np.argmax(truth))])) + 1,
    }
    best_single = max(true_of[label(dict.fromkeys(ROLES, name))] for name in world.names)
    out["unverified_vs_single"] = float((truth[int(np.argmax(predicted))] - best_single) * 100)
    # the noise ceiling: every coalition on every held-out case, the best measured is the pick
    measured = outcome_table.mean(axis=1)
    best_index = int(np.argmax(truth))
    out["exhaustive_reaches"] = bool(measured[best_index] > np.delete(measured, best_index).max())
    for strategy in STRATEGIES:
        result = budgeted_search(
            list(zip(assignments, predicted, strict=True)),
            held_ids,
            run,
            budget,
            top_k=3,
            seed=seed,
            strategy=strategy,
        )
        out[strategy] = {
            "runs": runs_to_reach(result.picks, best),
            "used": result.runs_used,
            "regret": float((top - true_of[label(result.best)]) * 100),
            "vs_single": float((true_of[label(result.best)] - best_single) * 100),
        }
    singles = {name: predicted[index[label(dict.fromkeys(ROLES, name))]] for name in world.names}
    start = dict.fromkeys(ROLES, max(singles, key=lambda n: singles[n]))
    ca_picks = coordinate_ascent(start, world.names, held_ids, run)
    out["coordinate_ascent"] = {
        "runs": runs_to_reach(ca_picks, best),
        "used": len(ca_picks),
        "regret": float((top - true_of[ca_picks[-1]]) * 100),
    }
    return out


def part1(args: argparse.Namespace, seeds: range) -> list[dict[str, object]]:
    print("## Part 1: surrogate error against true end-to-end accuracy (points)\n")
    print(
        "| world | profiled cases | surrogate | MAE on the profiled cases | MAE on fresh cases "
        "| bias (fresh) | top-1 = true best |"
    )
    print("|---|---|---|---|---|---|---|")
    part1: list[dict[str, object]] = []
    sampling: dict[tuple[str, int], list[float]] = {}
    mc_errors: list[float] = []
    for kind in args.worlds:
        for n in args.profile_cases:
            per_seed = [
                surrogate_errors(s, kind, args.candidates, n, floor=not args.no_floor)
                for s in seeds
            ]
            sampling[(kind, n)] = [r.pop("sampling")["mae"] for r in per_seed]
            mc_errors += [r[FLOOR]["mc_error"] for r in per_seed if FLOOR in r]
            for name in per_seed[0]:
                mae = [r[name]["mae"] for r in per_seed]
                mae_p = [r[name]["mae_profiled"] for r in per_seed]
                bias = statistics.mean(r[name]["bias"] for r in per_seed)
                top1 = sum(r[name]["top1_is_best"] for r in per_seed)
                print(
                    f"| {kind} | {n} | {name} | {statistics.mean(mae_p):.1f} "
                    f"({min(mae_p):.1f}–{max(mae_p):.1f}) | {statistics.mean(mae):.1f} "
                    f"({min(mae):.1f}–{max(mae):.1f}) | {bias:+.1f} | {top1}/{len(per_seed)} |"
                )
                part1.append({"world": kind, "profile_cases": n, "surrogate": name,
                              "per_seed": [r[name] for r in per_seed]})  # fmt: skip
    if mc_errors:
        print(
            f"\nfloor: two MCMC chains per seed differ by {statistics.mean(mc_errors):.2f} "
            f"points per coalition on average (max {max(mc_errors):.2f}); their mean is shown"
        )
    print(
        "\nSampling error of the profiled cases (MAE, points, of the true accuracy on them "
        "against that on fresh cases: what no surrogate of those cases can know):\n"
    )
    print("| world | " + " | ".join(f"{n} cases" for n in args.profile_cases) + " |")
    print("|---" * (1 + len(args.profile_cases)) + "|")
    for kind in args.worlds:
        values = [sampling[(kind, n)] for n in args.profile_cases]
        print(
            f"| {kind} | "
            + " | ".join(f"{statistics.mean(v):.1f} ({min(v):.1f}–{max(v):.1f})" for v in values)
            + " |"
        )
    return part1


def part2(args: argparse.Namespace, seeds: range) -> list[dict[str, object]]:
    print(
        f"\n## Part 2: end-to-end runs to reach the true best (interaction world, best "
        f"≥ {args.min_gap} points ahead, {args.holdout} held-out cases)\n"
    )
    n = args.profile_cases[min(1, len(args.profile_cases) - 1)]
    rows = [
        verification(s, args.candidates, n, args.holdout, args.budget, args.min_gap) for s in seeds
    ]
    print(
        "| seed | gap to 2nd (pts) | true best's predicted rank | "
        + " | ".join(f"{m}: runs to best (regret)" for m in (*STRATEGIES, "coordinate_ascent"))
        + " |"
    )
    print("|---" * (3 + len(STRATEGIES) + 1) + "|")

    def cell(r: dict[str, object]) -> str:
        runs = "not reached" if r["runs"] is None else str(r["runs"])
        return f"{runs} ({r['regret']:.1f})"

    for s, r in zip(seeds, rows, strict=True):
        cells = [cell(r[m]) for m in (*STRATEGIES, "coordinate_ascent")]  # type: ignore[arg-type]
        print(
            f"| {s} | {r['gap_points']:.1f} | {r['true_best_predicted_rank']} | "
            + " | ".join(cells)
            + " |"
        )
    ca = [r["coordinate_ascent"] for r in rows]
    everything = args.holdout * args.candidates ** len(ROLES)
    print(
        f"\nevery coalition on every held-out case ({everything} runs): its best "
        f"measured is the true best in {sum(bool(r['exhaustive_reaches']) for r in rows)}"
        f"/{len(rows)} (the ceiling of any method judged on these cases)"
    )
    print(
        f"coordinate ascent: reached {sum(c['runs'] is not None for c in ca)}/{len(rows)}, "
        f"median {statistics.median(c['used'] for c in ca):.0f} runs used to converge"
    )
    print(
        "true accuracy of the pick minus the best single model's (one model in every role), "
        f"mean over seeds: IRT top-1 unverified "
        f"{statistics.mean(r['unverified_vs_single'] for r in rows):+.1f} pts, "
        + ", ".join(
            f"{m} {statistics.mean(r[m]['vs_single'] for r in rows):+.1f} pts" for m in STRATEGIES
        )
    )
    for m in STRATEGIES:
        mine = [r[m] for r in rows]
        ratios = [
            b["runs"] / c["runs"]
            for b, c in zip(mine, ca, strict=True)
            if b["runs"] is not None and c["runs"]
        ]
        summary = (
            f"median ratio of runs to best {statistics.median(ratios):.2f} over {len(ratios)} "
            "seed(s) where both reached it (and coordinate ascent needed > 0), "
            f"{sum(x > 0.2 for x in ratios)} above 1/5"
            + "".join(f" {x:.2f}" for x in ratios if x > 0.2)
            if ratios
            else "no seed where both reached it"
        )
        print(
            f"{m} (budget {args.budget}): reached {sum(b['runs'] is not None for b in mine)}"
            f"/{len(rows)}, mean regret {statistics.mean(b['regret'] for b in mine):.1f} pts; "
            + summary
        )
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--seeds", type=int, default=10)
    parser.add_argument("--candidates", type=int, default=6)
    parser.add_argument("--profile-cases", type=int, nargs="+", default=[12, 40, 114])
    parser.add_argument("--holdout", type=int, default=200)
    parser.add_argument("--budget", type=int, default=1000)
    parser.add_argument(
        "--min-gap",
        type=float,
        default=4.0,
        help="Part 2 draws worlds until the true best leads the second by this many points.",
    )
    parser.add_argument("--parts", default="12", help="Which parts to run: 1, 2 or 12.")
    parser.add_argument(
        "--worlds", nargs="+", default=["product", "interaction", "conditional"],
        choices=["product", "interaction", "conditional"], help="Part 1's worlds.",
    )  # fmt: skip
    parser.add_argument(
        "--no-floor", action="store_true", help="Part 1 without the Bayes floor (faster)."
    )
    parser.add_argument("--json", help="Write every per-seed figure here.")
    args = parser.parse_args()
    seeds = range(args.seeds)
    report: dict[str, object] = {"args": vars(args)}

    if "1" in args.parts:
        report["surrogates"] = part1(args, seeds)
    if "2" in args.parts:
        report["verification"] = part2(args, seeds)
    if args.json:
        with open(args.json, "w") as f:
            json.dump(report, f, indent=2)


if __name__ == "__main__":
    main()
