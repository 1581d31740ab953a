"""Chat templates for in-process llama.cpp: messages -> prompt text.

rolecast renders prompts itself (rather than through llama-cpp-python's chat handlers)
so that it knows where the shared prefix of a prompt ends, and so that every model sees
the system message: llama-cpp-python's built-in "gemma" format silently drops it, while
Gemma's own template puts it at the top of the first user turn.

Formats: ``None`` uses the model's own template from its GGUF metadata (Jinja, as
``tokenizer.chat_template``); ``"chatml"`` and ``"gemma"`` are built in for models that
carry no template (a base model such as Gemma-3-270M).

A trailing assistant message is a *prefill*: the model's turn is opened with its text and
the model continues it (the generated text is the continuation). A base model given a
bare model turn tends to copy the start of the user turn (Gemma-3-270M repeated the
responder's system prompt in every step); a reply already begun ("Answer:") is continued
as an answer instead.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from rolecast.backends._base import Message
from rolecast.errors import BackendError

__all__ = ["CHAT_FORMATS", "Rendered", "make_renderer", "split_prefill"]


@dataclass(frozen=True)
class Rendered:
    """A prompt ready to tokenize, and where its system part ends."""

    prompt: str
    stop: tuple[str, ...]
    add_bos: bool
    system_end: int
    """Index in ``prompt`` just after the system message's text (0 when there is none)."""


Renderer = Callable[[Sequence[Message]], Rendered]


def _system_end(prompt: str, messages: Sequence[Message]) -> int:
    system = next((m.content for m in messages if m.role == "system"), "")
    if not system:
        return 0
    at = prompt.find(system)
    return at + len(system) if at >= 0 else 0


def split_prefill(messages: Sequence[Message]) -> tuple[Sequence[Message], str]:
    """The messages before a trailing assistant message, and that message's text ('' if none)."""
    if len(messages) > 1 and messages[-1].role == "assistant":
        return messages[:-1], messages[-1].content
    return messages, ""


def _chatml(messages: Sequence[Message]) -> Rendered:
    messages, prefill = split_prefill(messages)
    prompt = "".join(f"<|im_start|>{m.role}\n{m.content}<|im_end|>\n" for m in messages)
    prompt += "<|im_start|>assistant\n" + prefill
    return Rendered(prompt, ("<|im_end|>",), add_bos=True, system_end=_system_end(prompt, messages))


def _gemma(messages: Sequence[Message]) -> Rendered:
    """Gemma 3's template: the system text opens the first user turn."""
    messages, prefill = split_prefill(messages)
    system = "\n\n".join(m.content for m in messages if m.role == "system")
    turns: list[str] = []
    for m in (m for m in messages if m.role != "system"):
        content = m.content
        if system and not turns and m.role == "user":
            content = f"{system}\n\n{content}"
        role = "model" if m.role == "assistant" else "user"
        turns.append(f"<start_of_turn>{role}\n{content}<end_of_turn>\n")
    prompt = "".join(turns) + "<start_of_turn>model\n" + prefill
    return Rendered(
        prompt, ("<end_of_turn>",), add_bos=True, system_end=_system_end(prompt, messages)
    )


CHAT_FORMATS: dict[str, Renderer] = {"chatml": _chatml, "gemma": _gemma}


def make_renderer(llm: Any, chat_format: str | None, where: str) -> Renderer:
    """The renderer for ``chat_format`` (or the GGUF's own template when None)."""
    if chat_format is not None:
        if chat_format not in CHAT_FORMATS:
            raise BackendError(
                f"{where}: unknown chat_format {chat_format!r}; use one of "
                f"{', '.join(CHAT_FORMATS)} or leave it unset to use the model's own template"
            )
        return CHAT_FORMATS[chat_format]
    template = llm.metadata.get("tokenizer.chat_template")
    if not template:
        raise BackendError(
            f"{where}: the model has no chat template in its metadata (a base model?); "
            f"set chat_format to one of {', '.join(CHAT_FORMATS)}"
        )
    from llama_cpp.llama_chat_format import Jinja2ChatFormatter

    def token_text(token_id: int) -> str:
        return llm._model.token_get_text(token_id) if token_id != -1 else ""

    eos, bos = token_text(llm.token_eos()), token_text(llm.token_bos())
    formatter = Jinja2ChatFormatter(template=template, eos_token=eos, bos_token=bos)

    def render(messages: Sequence[Message]) -> Rendered:
        messages, prefill = split_prefill(messages)
        chat: list[Any] = [{"role": m.role, "content": m.content} for m in messages]
        result = formatter(messages=chat)  # ends with the generation prompt
        return Rendered(
            result.prompt + prefill,
            (eos,) if eos else (),
            add_bos=False,  # the template places any special tokens itself
            system_end=_system_end(result.prompt, messages),
        )

    return render
