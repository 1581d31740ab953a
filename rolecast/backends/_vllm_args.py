"""vLLM's arguments built from a candidate: engine arguments, ``vllm serve`` command lines.

Pure functions (no vLLM import), shared by the in-process vLLM backend and by the HTTP
backend's serve command, so the offline engine and the server start the same way.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

from rolecast.backends._base import ServeCommand
from rolecast.types import Candidate

__all__ = ["VLLM_DTYPES", "VLLM_IMAGE", "VLLM_QUANTIZATIONS", "vllm_dtype", "vllm_serve_command"]

VLLM_DTYPES = {"bf16": "bfloat16", "bfloat16": "bfloat16", "fp16": "float16",
               "float16": "float16", "half": "float16", "fp32": "float32",
               "float32": "float32"}  # fmt: skip
"""rolecast dtype names -> vLLM's ``--dtype`` values."""

VLLM_QUANTIZATIONS = frozenset({"awq", "gptq", "fp8", "bitsandbytes", "compressed-tensors"})
"""Candidate quantizations that vLLM takes as ``--quantization`` (others are detected)."""

VLLM_IMAGE = "vllm/vllm-openai:latest"
"""The official image whose entrypoint is ``vllm serve``."""


def vllm_dtype(candidate: Candidate) -> str:
    """VLLM's ``dtype`` for the candidate (``auto`` when it sets none vLLM knows)."""
    return VLLM_DTYPES.get((candidate.dtype or "").lower(), "auto")


def vllm_quantization(candidate: Candidate) -> str | None:
    """VLLM's ``quantization`` for the candidate, or None to let vLLM read the checkpoint."""
    name = (candidate.quantization or "").lower()
    return name if name in VLLM_QUANTIZATIONS else None


def vllm_serve_command(
    candidate: Candidate,
    *,
    model: str | None = None,
    served_model: str,
    port: int,
    gpus: Sequence[int] = (),
    tensor_parallel_size: int = 1,
    memory_fraction: float | None = None,
    extra: Sequence[str] = (),
) -> ServeCommand:
    """``vllm serve MODEL`` with the candidate's context, dtype, revision and placement.

    Args:
        candidate: The model.
        model: What vLLM loads (default: ``candidate.model``).
        served_model: The name clients send (``--served-model-name``).
        port: The port to listen on.
        gpus: GPU indices, exported as ``CUDA_VISIBLE_DEVICES``.
        tensor_parallel_size: GPUs one model is split over.
        memory_fraction: ``--gpu-memory-utilization`` (vLLM's default 0.9 when None).
        extra: More arguments, appended as given.
    """
    argv: list[str] = ["vllm", "serve", model or candidate.model]
    argv += ["--served-model-name", served_model]
    argv += ["--host", "0.0.0.0", "--port", str(port)]
    argv += ["--max-model-len", str(candidate.context_length)]
    dtype = vllm_dtype(candidate)
    if dtype != "auto":
        argv += ["--dtype", dtype]
    quantization = vllm_quantization(candidate)
    if quantization:
        argv += ["--quantization", quantization]
    if candidate.revision:
        argv += ["--revision", candidate.revision]
    if tensor_parallel_size > 1:
        argv += ["--tensor-parallel-size", str(tensor_parallel_size)]
    if memory_fraction:
        argv += ["--gpu-memory-utilization", f"{memory_fraction:.2f}"]
    argv += ["--seed", str(candidate.seed), *extra]
    env = {"CUDA_VISIBLE_DEVICES": ",".join(map(str, gpus))} if gpus else {}
    local = Path(model or candidate.model).expanduser()
    return ServeCommand(
        argv=tuple(argv),
        port=port,
        served_model=served_model,
        provider="hosted_vllm",
        env=env,
        image=VLLM_IMAGE,
        files=(str(local),) if local.exists() else (),
    )


def engine_args(candidate: Candidate, options: Any, *, model: str) -> dict[str, Any]:
    """Keyword arguments of ``vllm.LLM`` for ``candidate`` with its vLLM ``options``."""
    args: dict[str, Any] = {
        "model": model,
        "dtype": vllm_dtype(candidate),
        "max_model_len": candidate.context_length,
        "seed": candidate.seed,
        "tensor_parallel_size": options.tensor_parallel_size,
        "gpu_memory_utilization": options.gpu_memory_utilization,
        "enable_prefix_caching": options.enable_prefix_caching,
        "enforce_eager": options.enforce_eager,
        "trust_remote_code": options.trust_remote_code,
    }
    quantization = vllm_quantization(candidate)
    if quantization:
        args["quantization"] = quantization
    if candidate.revision:
        args["revision"] = candidate.revision
    if options.tokenizer:
        args["tokenizer"] = options.tokenizer
    if options.max_num_seqs:
        args["max_num_seqs"] = options.max_num_seqs
    return args
