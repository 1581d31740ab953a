"""Memory model of a candidate: weights + KV cache + runtime overhead.

Units: "GB" is decimal, 10**9 bytes, in every ``*_gb`` name (a bf16 Llama-3-8B is 16.06
GB). GPU makers and ``nvidia-smi`` count in binary units: an "80 GB" H100 holds 80 GiB =
85.9 GB, and ``nvidia-smi`` MiB × 0.001048576 = GB. Give budgets in the same decimal GB.

The numbers come from the model's own files where they exist: a GGUF header gives the
exact bytes of the weights and the attention shape; a Hugging Face ``config.json`` gives
the attention shape (and its ``*.safetensors`` headers the parameter count). Without
either, weights are parameters × bytes per parameter and the KV cache is unknown (0).
A measured ``Candidate.memory_gb`` always wins over the estimate.

How an engine holds a model (its runtime overhead, the dtype of its KV cache, whether it
dequantizes a GGUF file, whether the model is served elsewhere) is a fact of the backend
(:func:`rolecast.backends.memory_facts`); this module only does the arithmetic.
"""

from __future__ import annotations

import json
import math
import struct
from collections.abc import Mapping
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any, Literal

from rolecast.allocator.gguf import read_gguf
from rolecast.backends import MemoryFacts, memory_facts
from rolecast.errors import ConfigError
from rolecast.types import Candidate

__all__ = [
    "BYTES_PER_PARAM",
    "GB",
    "MemoryEstimate",
    "ModelShape",
    "bytes_per_param",
    "coalition_memory",
    "estimate_memory",
    "kv_cache_bytes",
    "shape_for",
    "shape_from_gguf",
    "shape_from_hf_config",
]

GB = 1e9
"""Bytes in one GB as rolecast counts (decimal)."""

BYTES_PER_PARAM: dict[str, float] = {
    # unquantized
    "fp32": 4.0,
    "float32": 4.0,
    "f32": 4.0,
    "fp16": 2.0,
    "float16": 2.0,
    "f16": 2.0,
    "half": 2.0,
    "bf16": 2.0,
    "bfloat16": 2.0,
    # 8-bit and 4-bit GPU formats; group scales and the fp16 embeddings / LM head that
    # AWQ and GPTQ leave unquantized come on top, so measure and set memory_gb if it matters
    "fp8": 1.0,
    "int8": 1.0,
    "int4": 0.5,
    "awq": 0.5,
    "gptq": 0.5,
    # GGUF: effective bits per weight / 8; the _S/_M/_L mixes keep some tensors at a
    # higher precision. Only used without the file: a GGUF file's own size is exact.
    "q8_0": 8.5 / 8,
    "q6_k": 6.5625 / 8,
    "q5_k_m": 5.69 / 8,
    "q5_k_s": 5.54 / 8,
    "q5_1": 6.0 / 8,
    "q5_0": 5.5 / 8,
    "q4_k_m": 4.85 / 8,
    "q4_k_s": 4.58 / 8,
    "q4_1": 5.0 / 8,
    "q4_0": 4.5 / 8,
    "iq4_nl": 4.5 / 8,
    "iq4_xs": 4.25 / 8,
    "q3_k_l": 4.27 / 8,
    "q3_k_m": 3.91 / 8,
    "q3_k_s": 3.5 / 8,
    "q2_k": 3.35 / 8,
}
"""Bytes per parameter by dtype or quantization name (keys lower case, ``_`` not ``-``)."""

ShapeSource = Literal["gguf", "hf-config", "params"]


@dataclass(frozen=True)
class ModelShape:
    """What a model's own files say about its size; None where they do not say."""

    n_params: int | None
    n_layers: int | None
    n_kv_heads: int | None
    head_dim: int | None
    weights_bytes: int | None
    architecture: str | None
    source: ShapeSource


@dataclass(frozen=True)
class MemoryEstimate:
    """Serving memory of one candidate in GB (10**9 bytes).

    ``source`` is "measured" when it is the candidate's ``memory_gb`` (a measurement has no
    breakdown: the parts are 0 and ``total_gb`` is the measurement), "remote" for an http
    candidate without one, else the source of the model shape ("gguf", "hf-config",
    "params").
    """

    weights_gb: float
    kv_cache_gb: float
    overhead_gb: float
    total_gb: float
    source: str

    def as_dict(self) -> dict[str, Any]:
        """The estimate as plain JSON-ready values."""
        return asdict(self)


def bytes_per_param(name: str) -> float:
    """Bytes per parameter of a dtype or quantization name, case-insensitive.

    Raises:
        ConfigError: the name is unknown; the message lists the known ones.
    """
    key = name.strip().lower().replace("-", "_").removeprefix("torch.")
    try:
        return BYTES_PER_PARAM[key]
    except KeyError:
        raise ConfigError(
            f"unknown dtype or quantization {name!r}; known: {', '.join(BYTES_PER_PARAM)} "
            "(or set memory_gb on the candidate)"
        ) from None


def kv_cache_bytes(shape: ModelShape, context_length: int, sequences: int, kv_bytes: float) -> int:
    """KV cache bytes: 2 (K and V) × layers × KV heads × head dim × bytes × tokens.

    0 when the shape lacks any of the three attention numbers (a recurrent model, or a
    config with unfamiliar keys). Sliding-window layers (Gemma 3) are counted at the full
    context, so this is an upper bound for them.
    """
    if shape.n_layers is None or shape.n_kv_heads is None or shape.head_dim is None:
        return 0
    per_token = 2 * shape.n_layers * shape.n_kv_heads * shape.head_dim * kv_bytes
    return round(per_token * context_length * sequences)


def estimate_memory(
    candidate: Candidate,
    shape: ModelShape | None,
    *,
    kv_bytes: float | None = None,
    overhead_gb: float | None = None,
    facts: MemoryFacts | None = None,
) -> MemoryEstimate:
    """Memory to serve ``candidate``: weights + KV cache + runtime overhead, in GB.

    Weights are the shape's exact bytes when known (a GGUF file), else parameters (the
    shape's, else ``candidate.n_params``) × :func:`bytes_per_param` of the candidate's
    quantization, else its dtype, else fp16. An engine that dequantizes a GGUF file on
    load (``facts.gguf_dtype``, the transformers backend) holds parameters × that dtype.
    The KV cache holds ``context_length`` tokens for each of ``concurrency`` sequences at
    ``kv_bytes`` per value: by default the engine's dtype (``facts.dtype``), else 2 (fp16).
    Overhead defaults to the backend's ``facts.overhead_gb``. A model served elsewhere
    (``facts.remote``: an http candidate without ``n_params``) costs 0.

    Args:
        candidate: The model.
        shape: What its files say (None: only ``n_params`` is known).
        kv_bytes: Bytes per KV cache value, instead of the engine's.
        overhead_gb: Runtime overhead, instead of the backend's.
        facts: How the engine holds the model (default: the candidate backend's).

    Raises:
        ConfigError: neither the shape nor the candidate gives a parameter count, or the
            dtype / quantization is unknown.
    """
    if candidate.memory_gb is not None:
        return MemoryEstimate(0.0, 0.0, 0.0, candidate.memory_gb, "measured")
    facts = facts if facts is not None else memory_facts(candidate)
    if facts.remote and shape is None:
        return MemoryEstimate(0.0, 0.0, 0.0, 0.0, "remote")
    if kv_bytes is not None and kv_bytes <= 0:
        raise ConfigError(f"kv_bytes must be positive, got {kv_bytes}")
    if shape is None:
        shape = ModelShape(candidate.n_params, None, None, None, None, None, "params")
    dequantized = shape.source == "gguf" and facts.gguf_dtype is not None
    engine_dtype = facts.gguf_dtype if dequantized else facts.dtype
    if kv_bytes is None:
        kv_bytes = bytes_per_param(engine_dtype) if engine_dtype else 2.0
    if dequantized and shape.n_params and facts.gguf_dtype:
        weights = shape.n_params * bytes_per_param(facts.gguf_dtype)
    elif shape.weights_bytes is not None:
        weights = float(shape.weights_bytes)
    else:
        n_params = shape.n_params or candidate.n_params
        if n_params is None:
            raise ConfigError(
                f"candidate {candidate.name}: cannot estimate memory: set n_params or memory_gb"
            )
        weights = n_params * bytes_per_param(candidate.quantization or candidate.dtype or "fp16")
    kv = kv_cache_bytes(shape, candidate.context_length, candidate.concurrency, kv_bytes)
    if overhead_gb is None:
        overhead_gb = facts.overhead_gb
    weights_gb, kv_gb = weights / GB, kv / GB
    return MemoryEstimate(
        weights_gb, kv_gb, overhead_gb, weights_gb + kv_gb + overhead_gb, shape.source
    )


def coalition_memory(estimates: Mapping[str, MemoryEstimate]) -> float:
    """Total GB of a coalition, given one estimate per distinct candidate name.

    A model that plays several roles is loaded once, so the caller keys the mapping by
    candidate name, not by role: each loaded model appears once.
    """
    return sum(estimate.total_gb for estimate in estimates.values())


def shape_for(candidate: Candidate, weights_path: Path | None) -> ModelShape | None:
    """The shape from ``weights_path``: a ``.gguf`` file or a directory with ``config.json``.

    None when there is nothing to read (no path, another kind of file, a backend whose
    model is not described by local files); :func:`estimate_memory` then falls back to
    ``candidate.n_params``.
    """
    if weights_path is None or not memory_facts(candidate).reads_weights:
        return None
    path = Path(weights_path)
    if path.suffix.lower() == ".gguf":
        return shape_from_gguf(path)
    if path.name == "config.json" or (path.is_dir() and (path / "config.json").is_file()):
        return shape_from_hf_config(path)
    return None


def shape_from_gguf(path: str | Path) -> ModelShape:
    """The shape of a GGUF model from its header.

    ``weights_bytes`` is the file size minus the offset where tensor data starts: the
    exact bytes of the weights as llama.cpp loads them (plus alignment padding, a few
    bytes per tensor). A model split into several files is not summed: only this file.
    """
    info = read_gguf(path)
    meta = info.metadata
    arch = meta.get("general.architecture")
    arch = arch if isinstance(arch, str) else None
    prefix = f"{arch}." if arch else "\0"  # no architecture: no key can match
    n_layers = _largest(meta.get(f"{prefix}block_count"))
    n_heads = _largest(meta.get(f"{prefix}attention.head_count"))
    n_kv_heads = _largest(meta.get(f"{prefix}attention.head_count_kv")) or n_heads
    head_dim = _largest(meta.get(f"{prefix}attention.key_length"))
    embedding = _largest(meta.get(f"{prefix}embedding_length"))
    if head_dim is None and embedding and n_heads:
        head_dim = embedding // n_heads
    return ModelShape(
        n_params=info.n_params or None,
        n_layers=n_layers,
        n_kv_heads=n_kv_heads,
        head_dim=head_dim,
        weights_bytes=info.data_bytes if info.tensors else None,
        architecture=arch,
        source="gguf",
    )


def shape_from_hf_config(path_or_dir: str | Path) -> ModelShape:
    """The shape of a Hugging Face model from its ``config.json``.

    Multimodal configs keep the language model under ``text_config``; that part is read.
    ``n_params`` comes from the headers of ``*.safetensors`` files beside the config, when
    there are some and the checkpoint is not quantized (packed integers would miscount).
    ``weights_bytes`` stays None: the serving dtype decides it.
    """
    path = Path(path_or_dir)
    config_path = path / "config.json" if path.is_dir() else path
    try:
        config = json.loads(config_path.read_text(encoding="utf-8"))
    except OSError as error:
        raise ConfigError(f"cannot read {config_path}: {error.strerror or error}") from None
    except ValueError as error:
        raise ConfigError(f"{config_path} is not valid JSON: {error}") from None
    if not isinstance(config, dict):
        raise ConfigError(f"{config_path} must hold a JSON object")
    text = config.get("text_config")
    text = text if isinstance(text, dict) else config

    def number(*keys: str) -> int | None:
        for key in keys:
            value = text.get(key, config.get(key))
            if isinstance(value, int | float) and not isinstance(value, bool) and value > 0:
                return int(value)
        return None

    n_layers = number("num_hidden_layers", "n_layer", "num_layers")
    n_heads = number("num_attention_heads", "n_head")
    n_kv_heads = number("num_key_value_heads", "num_kv_heads") or n_heads
    hidden = number("hidden_size", "n_embd", "d_model")
    head_dim = number("head_dim")
    if head_dim is None and hidden and n_heads:
        head_dim = hidden // n_heads
    architectures = config.get("architectures")
    architecture = config.get("model_type") or (
        architectures[0] if isinstance(architectures, list) and architectures else None
    )
    n_params = None
    if "quantization_config" not in config and "quantization_config" not in text:
        n_params = _safetensors_params(config_path.parent)
    return ModelShape(
        n_params=n_params,
        n_layers=n_layers,
        n_kv_heads=n_kv_heads,
        head_dim=head_dim,
        weights_bytes=None,
        architecture=str(architecture) if architecture else None,
        source="hf-config",
    )


def _largest(value: Any) -> int | None:
    """An integer metadata value, or the largest of a per-layer list; None otherwise."""
    if isinstance(value, list):
        numbers = [item for item in value if isinstance(item, int) and not isinstance(item, bool)]
        return max(numbers) if numbers else None
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    return None


def _safetensors_params(directory: Path) -> int | None:
    """Parameters listed in the headers of the ``*.safetensors`` files in ``directory``."""
    files = sorted(directory.glob("*.safetensors"))
    if not files:
        return None
    total = 0
    for file in files:
        try:
            with file.open("rb") as handle:
                (length,) = struct.unpack("<Q", handle.read(8))
                if length > 100_000_000:
                    raise ValueError(f"header length {length}")
                header = json.loads(handle.read(length))
                total += sum(
                    math.prod(entry["shape"])
                    for name, entry in header.items()
                    if name != "__metadata__"
                )
        except (OSError, ValueError, TypeError, KeyError, struct.error) as error:
            raise ConfigError(f"{file}: not a readable safetensors file ({error!r})") from None
    return total or None
