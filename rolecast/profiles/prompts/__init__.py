"""Prompt templates as versioned files: the file's content hash is the prompt version."""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass
from functools import cache
from importlib.resources import files

from rolecast.backends._base import Message

__all__ = ["PromptTemplate", "load_template"]


@dataclass(frozen=True)
class PromptTemplate:
    """A chat prompt with ``### system`` and ``### user`` sections and ``{field}`` slots.

    An empty ``### dialogue`` section marks where the earlier turns of a dialogue go, as
    messages of their own (so the model's chat template renders them as turns). A last
    ``### assistant`` section is a prefill: the start of the model's reply, which the
    backend opens the reply with and the model continues (see
    :mod:`rolecast.backends.chat_templates`); the output is the continuation.
    """

    name: str
    text: str

    @property
    def version(self) -> str:
        """``<name>-<sha256[:10]>`` of the file: editing the prompt invalidates its cache."""
        return f"{self.name}-{hashlib.sha256(self.text.encode()).hexdigest()[:10]}"

    def render(self, dialogue: Sequence[Message] = (), **fields: object) -> tuple[Message, ...]:
        """Fill the slots, split the sections into messages, put ``dialogue`` in its place.

        Adjacent messages of the same role are joined (a dialogue that ends with a user
        turn, before the template's user section), so user and assistant alternate as
        strict chat templates (Gemma's) require.
        """
        messages: list[Message] = []
        for block in self.text.split("### ")[1:]:
            role, _, body = block.partition("\n")
            role = role.strip()
            if role == "dialogue":
                messages.extend(dialogue)
            else:
                messages.append(Message(role=role, content=body.strip().format(**fields)))
        return tuple(_join_adjacent(messages))


def _join_adjacent(messages: Sequence[Message]) -> list[Message]:
    joined: list[Message] = []
    for message in messages:
        if joined and joined[-1].role == message.role and message.role != "system":
            last = joined.pop()
            message = Message(message.role, f"{last.content}\n\n{message.content}")
        joined.append(message)
    return joined


@cache
def load_template(name: str) -> PromptTemplate:
    """The packaged template ``<name>.txt``."""
    text = files("rolecast.profiles.prompts").joinpath(f"{name}.txt").read_text(encoding="utf-8")
    return PromptTemplate(name=name, text=text)
