"""Prompt templates as versioned files: the file's content hash is the prompt version."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from functools import cache
from importlib.resources import files

from rolecast.backends._base import Message

__all__ = ["PromptTemplate", "load_template"]


@dataclass(frozen=True)
class PromptTemplate:
    """A chat prompt with ``### system`` and ``### user`` sections and ``{field}`` slots.

    A last ``### assistant`` section is a prefill: the start of the model's reply, which the
    backend opens the reply with and the model continues (see
    :mod:`rolecast.backends.chat_templates`); the output is the continuation.
    """

    name: str
    text: str

    @property
    def version(self) -> str:
        """``<name>-<sha256[:10]>`` of the file: editing the prompt invalidates its cache."""
        return f"{self.name}-{hashlib.sha256(self.text.encode()).hexdigest()[:10]}"

    def render(self, **fields: object) -> tuple[Message, ...]:
        """Fill the slots and split the sections into chat messages."""
        messages = []
        for block in self.text.split("### ")[1:]:
            role, _, body = block.partition("\n")
            messages.append(Message(role=role.strip(), content=body.strip().format(**fields)))
        return tuple(messages)


@cache
def load_template(name: str) -> PromptTemplate:
    """The packaged template ``<name>.txt``."""
    text = files("rolecast.profiles.prompts").joinpath(f"{name}.txt").read_text(encoding="utf-8")
    return PromptTemplate(name=name, text=text)
