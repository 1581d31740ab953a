"""GPU placement: which GPU(s) serve each distinct model of a coalition, and how much of each.

A coalition loads each distinct model once. Given the budget's GPUs (``Budget.gpus``, in
GB each), every model gets one GPU, or, when it is larger than a GPU can hold, several
equal GPUs with tensor parallelism (vLLM's ``--tensor-parallel-size``; 2, 4 or 8 of them:
the attention heads must split evenly). Each model's ``--gpu-memory-utilization`` is its
share of one of its GPUs, and the shares on one GPU sum to at most
:data:`MAX_UTILIZATION` (0.9), the headroom vLLM itself leaves by default for the CUDA
context and fragmentation.

The packing is exact: a coalition has a handful of distinct models, so a complete
backtracking search (largest model first, GPUs with the same size and free memory tried
once) either finds a placement or proves that none exists. Fewer GPUs per model are tried
first, so a model is split only when it does not fit on one GPU (or when splitting it
is the only way the coalition fits at all).

Under tensor parallelism the weights and the KV cache split over the GPUs; the runtime
overhead (CUDA context, activations) is paid on each of them.
"""

from __future__ import annotations

import itertools
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from rolecast.allocator.memory import MemoryEstimate

__all__ = [
    "MAX_UTILIZATION",
    "TP_SIZES",
    "ModelPlacement",
    "per_gpu_gb",
    "place",
]

MAX_UTILIZATION = 0.9
"""The most of one GPU's memory that the models on it may claim together."""

TP_SIZES = (1, 2, 4, 8)
"""Tensor-parallel sizes tried, smallest first."""


@dataclass(frozen=True)
class ModelPlacement:
    """Where one model is served.

    ``memory_gb`` is what it needs on each of its GPUs; ``fraction`` is that over the GPU's
    size, the value for ``--gpu-memory-utilization``.
    """

    model: str
    gpus: tuple[int, ...]
    memory_gb: float
    fraction: float
    tensor_parallel_size: int


def per_gpu_gb(memory: MemoryEstimate, tp: int) -> float:
    """Memory on each GPU when ``memory``'s model is split over ``tp`` GPUs.

    Weights and KV cache divide by ``tp``; the overhead is paid on every GPU. A measured
    total (no breakdown) divides as a whole.
    """
    if tp == 1:
        return memory.total_gb
    if memory.weights_gb == 0 and memory.kv_cache_gb == 0:
        return memory.total_gb / tp
    return (memory.weights_gb + memory.kv_cache_gb) / tp + memory.overhead_gb


def place(
    models: Mapping[str, MemoryEstimate],
    gpus: Sequence[float],
    max_utilization: float = MAX_UTILIZATION,
) -> list[ModelPlacement] | None:
    """Place every model on the GPUs, or None when no placement exists.

    Args:
        models: Distinct model name -> its serving memory.
        gpus: Size of each GPU in GB; GPU ids are the positions in this list.
        max_utilization: The largest sum of fractions on one GPU.

    Returns:
        One :class:`ModelPlacement` per model (in the order of ``models``), or None.
    """
    capacity = [size * max_utilization for size in gpus]
    free = list(capacity)
    order = sorted(models, key=lambda name: (-models[name].total_gb, name))
    chosen: dict[str, tuple[tuple[int, ...], float]] = {}

    def options(name: str) -> list[tuple[tuple[int, ...], float]]:
        """Every distinct way to put ``name`` on the GPUs' free memory, fewest GPUs first."""
        found: list[tuple[tuple[int, ...], float]] = []
        for tp in TP_SIZES:
            if tp > len(gpus):
                break
            need = per_gpu_gb(models[name], tp)
            seen: set[tuple[tuple[float, float], ...]] = set()
            for combo in itertools.combinations(range(len(gpus)), tp):
                if len({gpus[i] for i in combo}) != 1:  # tensor parallelism needs equal GPUs
                    continue
                if any(free[i] < need - 1e-9 for i in combo):
                    continue
                state = tuple(sorted((gpus[i], free[i]) for i in combo))
                if state in seen:  # same sizes and free memory: an equivalent choice
                    continue
                seen.add(state)
                found.append((combo, need))
        return found  # fewest GPUs first: a model is split only when that is needed

    def backtrack(index: int) -> bool:
        if index == len(order):
            return True
        name = order[index]
        for combo, need in options(name):
            for i in combo:
                free[i] -= need
            chosen[name] = (combo, need)
            if backtrack(index + 1):
                return True
            for i in combo:
                free[i] += need
            del chosen[name]
        return False

    if not backtrack(0):
        return None
    return [
        ModelPlacement(
            model=name,
            gpus=chosen[name][0],
            memory_gb=chosen[name][1],
            fraction=chosen[name][1] / gpus[chosen[name][0][0]],
            tensor_parallel_size=len(chosen[name][0]),
        )
        for name in models
    ]
