"""GPU placement, with hand-computed cases, and the search honouring it."""

from __future__ import annotations

import pytest
from _coalitions import candidate, matrix

from rolecast.allocator.coalition import candidate_memory
from rolecast.allocator.memory import MemoryEstimate
from rolecast.allocator.placement import MAX_UTILIZATION, place
from rolecast.errors import BudgetError
from rolecast.search import search
from rolecast.types import Budget, Candidate, parse_gpus

MIXTRAL = Candidate(
    name="mixtral",
    backend="http",
    model="mistralai/Mixtral-8x7B-Instruct-v0.1",
    dtype="bf16",
    n_params=46_700_000_000,
)
QWEN_7B = Candidate(name="qwen7b", backend="http", model="Qwen/Qwen2.5-7B-Instruct",
                    dtype="bf16", n_params=7_000_000_000)  # fmt: skip
LLAMA_7B = QWEN_7B.model_copy(update={"name": "llama7b", "model": "meta-llama/Llama-2-7b"})


def measured(gb: float) -> MemoryEstimate:
    return MemoryEstimate(0.0, 0.0, 0.0, gb, "measured")


def test_mixtral_in_bf16_does_not_fit_one_80_gb_gpu_and_splits_over_two() -> None:
    memory = candidate_memory(MIXTRAL)
    # 46.7e9 parameters × 2 bytes = 93.4 GB of weights, + 1.5 GB vLLM overhead
    assert memory.weights_gb == pytest.approx(93.4)
    assert memory.total_gb == pytest.approx(94.9)
    assert place({"mixtral": memory}, [80.0]) is None
    (placed,) = place({"mixtral": memory}, [80.0, 80.0]) or []
    assert placed.tensor_parallel_size == 2
    assert placed.gpus == (0, 1)
    # each GPU holds half the weights plus its own overhead: 46.7 + 1.5 = 48.2 GB of 80
    assert placed.memory_gb == pytest.approx(48.2)
    assert placed.fraction == pytest.approx(48.2 / 80)


def test_two_7b_models_share_one_80_gb_gpu() -> None:
    models = {"qwen7b": candidate_memory(QWEN_7B), "llama7b": candidate_memory(LLAMA_7B)}
    assert models["qwen7b"].total_gb == pytest.approx(15.5)  # 14 GB of bf16 weights + 1.5
    placed = place(models, [80.0]) or []
    assert [(p.model, p.gpus, p.tensor_parallel_size) for p in placed] == [
        ("qwen7b", (0,), 1),
        ("llama7b", (0,), 1),
    ]
    assert sum(p.fraction for p in placed) == pytest.approx(31.0 / 80)


def test_fractions_on_one_gpu_never_pass_0_9() -> None:
    # three 30 GB models on two 80 GB GPUs: two share one GPU (60 <= 72), one goes alone
    placed = place({"a": measured(30), "b": measured(30), "c": measured(30)}, [80.0, 80.0])
    assert placed is not None
    per_gpu: dict[int, float] = {}
    for p in placed:
        for gpu in p.gpus:
            per_gpu[gpu] = per_gpu.get(gpu, 0.0) + p.fraction
    assert sorted(per_gpu.values()) == pytest.approx([30 / 80, 60 / 80])
    assert max(per_gpu.values()) <= MAX_UTILIZATION
    # two 40 GB models would need 1.0 of one GPU
    assert place({"a": measured(40), "b": measured(40)}, [80.0]) is None
    # on two GPUs, a third 40 GB model splits 20 + 20 into the 32 GB left on each; a
    # fourth finds 12 GB on each
    three = {name: measured(40) for name in "abc"}
    assert place(three, [80.0, 80.0]) is not None
    assert place({**three, "d": measured(40)}, [80.0, 80.0]) is None


def test_tensor_parallelism_is_used_when_it_is_the_only_way_to_pack() -> None:
    # 50 + 50 on two GPUs leave 22 GB on each (72 usable); a 40 GB model fits on neither,
    # but split in two (20 GB each) it fits on both
    placed = place({"a": measured(50), "b": measured(50), "c": measured(40)}, [80.0, 80.0])
    assert placed is not None
    by_model = {p.model: p for p in placed}
    assert by_model["c"].tensor_parallel_size == 2
    assert by_model["c"].gpus == (0, 1)
    assert by_model["c"].memory_gb == pytest.approx(20.0)
    assert {by_model["a"].gpus, by_model["b"].gpus} == {(0,), (1,)}
    assert by_model["a"].fraction + by_model["c"].fraction == pytest.approx(70 / 80)


def test_tensor_parallelism_needs_equal_gpus() -> None:
    assert place({"big": measured(100)}, [80.0, 40.0]) is None  # 50 + 50, but 50 > 36
    (placed,) = place({"big": measured(100)}, [40.0, 80.0, 80.0]) or []
    assert placed.gpus == (1, 2)
    assert placed.tensor_parallel_size == 2


@pytest.mark.parametrize(
    ("text", "sizes"),
    [
        ("2x80", [80.0, 80.0]),
        ("80,40", [80.0, 40.0]),
        ("2x80,40", [80.0, 80.0, 40.0]),
        ("24", [24.0]),
    ],
)
def test_parse_gpus(text: str, sizes: list[float]) -> None:
    assert parse_gpus(text) == sizes


@pytest.mark.parametrize("text", ["abc", "0x80", "2x-1", "2x"])
def test_parse_gpus_rejects_nonsense(text: str) -> None:
    with pytest.raises(ValueError, match="GPU list"):
        parse_gpus(text)


def test_a_budget_rejects_a_gpu_of_no_size() -> None:
    with pytest.raises(ValueError, match="positive size"):
        Budget(gpus=[80.0, 0.0])


def test_the_search_keeps_only_coalitions_whose_models_pack() -> None:
    # a and b are 40 GB each: both fit the 80 GB total, but not one 80 GB GPU (72 usable).
    # planner=a caller=b passes every case; the best that packs uses one model twice.
    m = matrix(
        {
            ("a", "planner"): "1111",
            ("b", "planner"): "1100",
            ("a", "caller"): "1110",
            ("b", "caller"): "1111",
        },
        [candidate("a", memory_gb=40.0), candidate("b", memory_gb=40.0)],
    )
    free = search(m, Budget(gpu_memory_gb=80.0))
    assert free.best.assignment == {"planner": "a", "caller": "b"}
    packed = search(m, Budget(gpu_memory_gb=80.0, gpus=[80.0]))
    assert packed.best.assignment == {"planner": "a", "caller": "a"}
    assert all(set(e.assignment.values()) != {"a", "b"} for e in packed.ranked + packed.pareto)
    (where,) = packed.placements[packed.best.label]
    assert (where.model, where.gpus, where.fraction) == ("a", (0,), 0.5)
    two = search(m, Budget(gpus=[80.0, 80.0]))
    assert two.best.assignment == {"planner": "a", "caller": "b"}
    assert [p.gpus for p in two.placements[two.best.label]] == [(0,), (1,)]


def test_a_model_too_big_for_every_gpu_is_a_budget_error() -> None:
    m = matrix({("a", "planner"): "11"}, [candidate("a", memory_gb=100.0)])
    with pytest.raises(BudgetError, match=r"gpus=\[80.0\] binds"):
        search(m, Budget(gpus=[80.0]))


def test_the_export_places_a_large_model_over_two_gpus_with_tensor_parallelism() -> None:
    from rolecast.export import build_coalition_config

    served = MIXTRAL.model_copy(update={"base_url": "http://127.0.0.1:8000/v1"})
    m = matrix({("mixtral", "planner"): "11", ("qwen7b", "caller"): "10"}, [served, QWEN_7B])
    budget = Budget(gpus=[80.0, 80.0])
    chosen = search(m, budget).best
    config = build_coalition_config(
        chosen,
        [],
        m,
        pipeline=["planner", "caller"],
        prompt_versions={"planner": "v", "caller": "v"},
        budget=budget,
        cases="builtin",
        database="sqlite:///x.db",
        fingerprints={"mixtral": "a", "qwen7b": "b"},
        study=None,
    )
    by_name = {p.candidate: p for p in config.placement}
    mixtral, qwen = by_name["mixtral"], by_name["qwen7b"]
    assert (mixtral.gpus, mixtral.tensor_parallel_size) == ([0, 1], 2)
    assert mixtral.memory_fraction == pytest.approx(48.2 / 80, abs=1e-4)
    assert qwen.tensor_parallel_size == 1 and len(qwen.gpus) == 1
    # 48.2 + 15.5 GB on one GPU is 0.79 of it: within 0.9
    assert mixtral.memory_fraction + qwen.memory_fraction <= MAX_UTILIZATION
    assert mixtral.serve_command is not None
    assert "--tensor-parallel-size 2" in mixtral.serve_command
