"""The in-process vLLM backend.

vLLM cannot be installed beside the CPU torch here, so the CPU tests inject a fake
``vllm`` module whose ``LLM`` records what the backend hands it (engine arguments,
prompts as token ids, sampling parameters with their structured-output schema) and
answers with canned ``RequestOutput``-shaped objects. They check what rolecast builds
and how it reads the answers, not vLLM. The test marked ``gpu`` runs the real engine;
it is skipped where torch sees no CUDA GPU or vLLM is not installed.
"""

from __future__ import annotations

import importlib.util
import json
import os
from dataclasses import dataclass, field
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest

from rolecast.allocator.coalition import candidate_memory
from rolecast.backends import (
    ChatRequest,
    Fault,
    Message,
    check_candidate,
    create_backend,
    fingerprint,
    serve_command,
)
from rolecast.backends.vllm import VLLMBackend
from rolecast.errors import BackendError, ConfigError
from rolecast.profiles.profiler import profile
from rolecast.profiles.roles import get_role
from rolecast.storage import ProfileStore, resolve_db_url
from rolecast.suite import build_suite
from rolecast.types import Candidate

SCHEMA = {
    "type": "object",
    "properties": {"city": {"type": "string", "pattern": r"^\w+$"}, "days": {"type": "integer"}},
    "required": ["city", "days"],
}


# ----------------------------------------------------------------------------- the fake


class FakeTokenizer:
    """One token per character; a chat template that tags each turn."""

    bos_token_id = 1
    eos_token = "</s>"
    chat_template = "{{ fake }}"

    def __call__(self, text: str, add_special_tokens: bool = False) -> dict[str, list[int]]:
        return {"input_ids": [ord(c) for c in text]}

    def apply_chat_template(self, chat: list[dict[str, str]], **kwargs: Any) -> str:
        assert kwargs == {"tokenize": False, "add_generation_prompt": True}
        return "".join(f"<{m['role']}>{m['content']}" for m in chat) + "<assistant>"


@dataclass
class Params:
    """Stands for SamplingParams: keeps its keyword arguments."""

    kwargs: dict[str, Any]


@dataclass
class Structured:
    """Stands for StructuredOutputsParams / GuidedDecodingParams."""

    json: Any


@dataclass
class FakeLLM:
    """Records every call; answers each prompt with the reply function's text."""

    engine_args: dict[str, Any]
    reply: Any = None
    calls: list[tuple[list[dict[str, Any]], list[Params]]] = field(default_factory=list)
    fail_batches: bool = False

    def get_tokenizer(self) -> FakeTokenizer:
        return FakeTokenizer()

    def generate(self, prompts: list[dict[str, Any]], params: list[Params], use_tqdm: bool):
        assert use_tqdm is False and len(prompts) == len(params)
        self.calls.append((prompts, params))
        if self.fail_batches and len(prompts) > 1:
            raise ValueError("batch failed")
        outputs = []
        for prompt, param in zip(prompts, params, strict=True):
            text = self.reply(prompt, param) if self.reply else "ok"
            if text is None:
                raise RuntimeError("engine error on this prompt")
            finish = "length" if len(text) >= param.kwargs["max_tokens"] else "stop"
            completion = SimpleNamespace(text=text, token_ids=list(range(len(text))),
                                         finish_reason=finish)  # fmt: skip
            outputs.append(
                SimpleNamespace(prompt_token_ids=prompt["prompt_token_ids"], outputs=[completion])
            )
        return outputs


def fake_vllm(new_api: bool = True, **llm_fields: Any) -> SimpleNamespace:
    """A stand-in ``vllm`` module; ``module.engines`` lists the LLMs it made."""
    engines: list[FakeLLM] = []

    def make_llm(**kwargs: Any) -> FakeLLM:
        engines.append(FakeLLM(kwargs, **llm_fields))
        return engines[-1]

    sampling = (
        SimpleNamespace(StructuredOutputsParams=Structured)
        if new_api
        else SimpleNamespace(GuidedDecodingParams=Structured)
    )
    return SimpleNamespace(
        LLM=make_llm, SamplingParams=lambda **kw: Params(kw), sampling_params=sampling,
        engines=engines,
    )  # fmt: skip


def candidate(**fields: Any) -> Candidate:
    base: dict[str, Any] = {
        "name": "qwen",
        "backend": "vllm",
        "model": "Qwen/Qwen2.5-0.5B-Instruct",
        "context_length": 200,
        "max_tokens": 32,
        "seed": 7,
    }
    return Candidate(**{**base, **fields})


def ask(text: str, **fields: Any) -> ChatRequest:
    return ChatRequest(messages=(Message("system", "Be brief."), Message("user", text)), **fields)


# ----------------------------------------------------------------------------- engine


def test_engine_arguments_come_from_the_candidate_and_its_options() -> None:
    module = fake_vllm()
    VLLMBackend(
        candidate(
            dtype="bf16",
            quantization="AWQ",
            revision="abc",
            options={"gpu_memory_utilization": 0.42, "tensor_parallel_size": 2},
        ),
        vllm_module=module,
    )
    assert module.engines[0].engine_args == {
        "model": "Qwen/Qwen2.5-0.5B-Instruct",
        "dtype": "bfloat16",
        "quantization": "awq",
        "revision": "abc",
        "max_model_len": 200,
        "seed": 7,
        "tensor_parallel_size": 2,
        "gpu_memory_utilization": 0.42,
        "enable_prefix_caching": True,
        "enforce_eager": False,
        "trust_remote_code": False,
    }


def test_defaults_prefix_caching_and_a_large_batch() -> None:
    backend = VLLMBackend(candidate(), vllm_module=fake_vllm())
    args = backend.engine_args
    assert args["enable_prefix_caching"] is True and args["dtype"] == "auto"
    assert args["gpu_memory_utilization"] == 0.9 and "quantization" not in args
    assert backend.batch_size >= 1024


def test_a_missing_vllm_names_the_extra() -> None:
    if importlib.util.find_spec("vllm") is not None:
        pytest.skip("vLLM is installed here")
    with pytest.raises(BackendError, match=r"pip install 'rolecast\[vllm\]'"):
        create_backend(candidate())


def test_engine_failure_to_load_is_one_line() -> None:
    module = fake_vllm()

    def broken(**kwargs: Any) -> None:
        raise ValueError("No CUDA GPUs are available\nlong traceback text")

    module.LLM = broken
    with pytest.raises(BackendError, match=r"^candidate qwen: vLLM cannot load .*: No CUDA GPUs"):
        VLLMBackend(candidate(), vllm_module=module)


# ----------------------------------------------------------------------------- requests


def test_a_batch_is_one_engine_call_with_token_ids_and_sampling_params() -> None:
    module = fake_vllm(reply=lambda prompt, params: "hi")
    backend = VLLMBackend(candidate(), vllm_module=module)
    results = backend.generate([ask("one"), ask("two", max_tokens=5, stop=("\n",))])
    (call,) = module.engines[0].calls
    prompts, params = call
    expected = "<system>Be brief.<user>one<assistant>"
    assert prompts[0] == {"prompt_token_ids": [ord(c) for c in expected]}
    assert params[0].kwargs == {
        "temperature": 0.0, "seed": 7, "max_tokens": 32, "stop": ["</s>"]
    }  # fmt: skip
    assert params[1].kwargs["max_tokens"] == 5 and params[1].kwargs["stop"] == ["</s>", "\n"]
    assert [r.text for r in results] == ["hi", "hi"]
    assert results[0].tokens_in == len(expected) and results[0].tokens_out == 2
    assert results[0].extra["finish_reason"] == "stop" and results[0].extra["batch_size"] == 2


def test_structured_output_gets_the_grammar_schema_in_either_api() -> None:
    for new_api, keyword in ((True, "structured_outputs"), (False, "guided_decoding")):
        module = fake_vllm(new_api=new_api, reply=lambda p, s: '{"city": "Rome", "days": 3}')
        backend = VLLMBackend(candidate(), vllm_module=module)
        (result,) = backend.generate([ask("Plan", json_schema=SCHEMA)])
        (params,) = module.engines[0].calls[0][1]
        structured = params.kwargs[keyword]
        # the same prepared schema the llama.cpp grammar gets: \w spelled as a class
        assert structured.json["properties"]["city"]["pattern"] == "^[A-Za-z0-9_]+$"
        assert json.loads(result.text) == {"city": "Rome", "days": 3}


def test_chat_format_renders_with_bos_and_template_stop() -> None:
    module = fake_vllm()
    backend = VLLMBackend(candidate(chat_format="gemma"), vllm_module=module)
    backend.generate([ask("hello")])
    prompts, params = module.engines[0].calls[0]
    ids = prompts[0]["prompt_token_ids"]
    assert ids[0] == FakeTokenizer.bos_token_id
    assert "".join(map(chr, ids[1:])).startswith("<start_of_turn>user\nBe brief.\n\nhello")
    assert params[0].kwargs["stop"] == ["<end_of_turn>"]


def test_overflow_is_a_result_and_the_rest_of_the_batch_is_generated() -> None:
    module = fake_vllm(reply=lambda p, s: "fine")
    backend = VLLMBackend(candidate(context_length=60), vllm_module=module)
    results = backend.generate([ask("short"), ask("x" * 100), ask("also short")])
    assert [r.ok for r in results] == [True, False, True]
    assert "exceeds context_length 60" in (results[1].error or "")
    prompts, params = module.engines[0].calls[0]
    assert len(prompts) == 2  # the long one was never sent
    # the answer is cut to the context left after the prompt (as llama.cpp does)
    assert params[0].kwargs["max_tokens"] == 60 - len(prompts[0]["prompt_token_ids"])


def test_a_failing_batch_is_retried_one_by_one_and_failures_stay_results() -> None:
    def reply(prompt: dict[str, Any], params: Params) -> str | None:
        return None if "bad" in "".join(map(chr, prompt["prompt_token_ids"])) else "good"

    module = fake_vllm(reply=reply, fail_batches=True)
    backend = VLLMBackend(candidate(), vllm_module=module)
    results = backend.generate([ask("a"), ask("bad"), ask("c")])
    assert [r.text for r in results] == ["good", "", "good"]
    assert results[1].error == "RuntimeError: engine error on this prompt"
    assert results[1].fault == Fault.SERVER  # the engine broke: never scored
    assert results[0].fault is None
    assert [len(call[0]) for call in module.engines[0].calls] == [3, 1, 1, 1]


def test_closed_backend_refuses() -> None:
    backend = VLLMBackend(candidate(), vllm_module=fake_vllm())
    backend.close()
    backend.close()  # idempotent
    with pytest.raises(BackendError, match="closed"):
        backend.generate([ask("x")])


def test_the_profiler_hands_it_a_role_s_pending_steps_at_once(tmp_path: Path) -> None:
    module = fake_vllm(reply=lambda p, s: '{"action": "finish"}')
    cases = build_suite()[:4]
    role = get_role("planner")
    cand = candidate(context_length=8192)
    store = ProfileStore(resolve_db_url(str(tmp_path / "p.db")))
    with store:
        outcome = profile(
            cases, [cand], [role], store,
            backend_factory=lambda c: VLLMBackend(c, vllm_module=module),
        )  # fmt: skip
    steps = sum(len(role.steps(case)) for case in cases)
    assert outcome.generated == steps > 1
    assert [len(call[0]) for call in module.engines[0].calls] == [steps]


# ----------------------------------------------------------------------------- facts


def test_options_are_checked_with_a_suggestion() -> None:
    with pytest.raises(ConfigError, match=r"unknown option 'gpu_memory_utilisation'; did you "
                       r"mean 'gpu_memory_utilization'\?"):  # fmt: skip
        check_candidate(candidate(options={"gpu_memory_utilisation": 0.5}))
    with pytest.raises(ConfigError, match=r"options.gpu_memory_utilization: .*less than or equal"):
        check_candidate(candidate(options={"gpu_memory_utilization": 1.5}))


def test_placement_options_do_not_change_the_fingerprint() -> None:
    base = fingerprint(candidate())
    placed = candidate(options={"gpu_memory_utilization": 0.3, "tensor_parallel_size": 2})
    assert fingerprint(placed) == base
    assert fingerprint(candidate(options={"tokenizer": "other/tok"})) != base
    assert fingerprint(candidate(dtype="fp16")) != base


def test_memory_from_the_checkpoint_config(tmp_path: Path) -> None:
    """Qwen2.5-0.5B's shape: 24 layers, 2 KV heads of 64; bf16 KV cache; vLLM's overhead."""
    config = {"num_hidden_layers": 24, "num_attention_heads": 14, "num_key_value_heads": 2,
              "hidden_size": 896, "model_type": "qwen2"}  # fmt: skip
    (tmp_path / "config.json").write_text(json.dumps(config))
    cand = candidate(model=str(tmp_path), n_params=494_032_768, dtype="bf16", concurrency=4)
    estimate = candidate_memory(cand)
    assert estimate.source == "hf-config"
    assert estimate.weights_gb == pytest.approx(494_032_768 * 2 / 1e9)
    kv = 2 * 24 * 2 * 64 * 2 * 200 * 4  # K and V × layers × heads × dim × bytes × ctx × seqs
    assert estimate.kv_cache_gb == pytest.approx(kv / 1e9)
    assert estimate.overhead_gb == 1.5


def test_serve_command_matches_the_engine() -> None:
    cand = candidate(dtype="bf16", options={"enforce_eager": True})
    command = serve_command(cand, port=8003, gpus=(2, 3), tensor_parallel_size=2,
                            memory_fraction=0.5)  # fmt: skip
    assert command is not None
    assert command.argv == (
        "vllm", "serve", "Qwen/Qwen2.5-0.5B-Instruct", "--served-model-name", "qwen",
        "--host", "0.0.0.0", "--port", "8003", "--max-model-len", "200",
        "--dtype", "bfloat16", "--tensor-parallel-size", "2",
        "--gpu-memory-utilization", "0.50", "--seed", "7", "--enforce-eager",
    )  # fmt: skip
    assert dict(command.env) == {"CUDA_VISIBLE_DEVICES": "2,3"}
    assert command.provider == "hosted_vllm" and command.api_base == "http://127.0.0.1:8003/v1"
    assert command.shell().startswith("CUDA_VISIBLE_DEVICES=2,3 vllm serve Qwen/")


# ----------------------------------------------------------------------------- real vLLM


def _cuda() -> bool:
    try:
        import torch
    except ImportError:
        return False
    return bool(torch.cuda.is_available())


@pytest.mark.gpu
@pytest.mark.skipif(not _cuda(), reason="needs a CUDA GPU (torch sees none)")
@pytest.mark.skipif(
    importlib.util.find_spec("vllm") is None, reason="needs vLLM: pip install 'rolecast[vllm]'"
)
def test_real_vllm_generates_a_batch_with_structured_output() -> None:
    """On a GPU: a small instruct model (ROLECAST_TEST_VLLM_MODEL) through the real engine."""
    model = os.environ.get("ROLECAST_TEST_VLLM_MODEL", "Qwen/Qwen2.5-0.5B-Instruct")
    cand = Candidate(
        name="vllm-test", backend="vllm", model=model, context_length=2048, max_tokens=48,
        dtype="bf16", options={"gpu_memory_utilization": 0.3, "enforce_eager": True},
    )  # fmt: skip
    backend = create_backend(cand)
    try:
        numbers = [3, 1, 2]
        requests = [
            ask(f"Reply with the number {n}.", json_schema={
                "type": "object", "properties": {"n": {"type": "integer", "enum": [n]}},
                "required": ["n"]})
            for n in numbers
        ] + [ask("x " * 3000)]  # fmt: skip
        results = backend.generate(requests)
        assert [json.loads(r.text) for r in results[:3]] == [{"n": n} for n in numbers]
        assert results[3].error is not None
        again = backend.generate(requests[:1])
        assert again[0].text == results[0].text
    finally:
        backend.close()


def test_a_placement_sets_the_engine_memory_share_without_changing_the_fingerprint() -> None:
    from test_export_formats import vllm_coalition

    config = vllm_coalition()  # qwen-7b placed with memory fraction 0.8 on GPU 1
    placed = config.placed_candidate("qwen-7b")
    assert placed.options == {"gpu_memory_utilization": 0.8}
    assert fingerprint(placed) == fingerprint(config.candidates["qwen-7b"])
    module = fake_vllm()
    VLLMBackend(placed, vllm_module=module)
    assert module.engines[0].engine_args["gpu_memory_utilization"] == 0.8
    llama = Candidate(name="l", backend="llamacpp", model="x.gguf")
    from rolecast.backends import place

    assert place(llama, tensor_parallel_size=2, memory_fraction=0.5) is llama
