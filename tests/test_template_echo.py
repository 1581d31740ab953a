"""Each shipped model answers its roles rather than echoing the prompt (issue 11, fault 3).

Gemma-3-270M (a base model, chat_format ``gemma``) repeated the responder's system prompt
("You write the final answer…") in every step, so its responder score measured the
template. One request per role per shipped model and chat format, with the real model.
"""

from __future__ import annotations

import re

import pytest
from _helpers import require

from rolecast.backends import create_backend
from rolecast.profiles.prompts import load_template
from rolecast.profiles.roles import DEFAULT_PIPELINE, get_role
from rolecast.project import load_project
from rolecast.suite import build_suite

require("llama_cpp", "llamacpp")
pytestmark = pytest.mark.slow

PROJECT, _ = load_project(None)
CASE = next(
    c
    for c in build_suite()
    if "multi-step" in c.tags and "large-response" in c.tags and c.split == "profile"
)
# every shipped model with the chat format it ships with, and SmolLM2 under the built-in
# chatml format too, so that every format rolecast ships runs against a real model
SHIPPED = [(c.name, c.chat_format) for c in PROJECT.candidates] + [("smollm2-135m", "chatml")]


def _words(text: str) -> list[str]:
    return re.findall(r"[a-z0-9]+", text.lower())


def template_echo(output: str, template_text: str, n: int = 5) -> str | None:
    """The template text ``output`` copies, or None.

    Copying is a run of ``n`` words of the output found in one line of the template's own
    text (its slots removed: a value from the tool results is no echo), or a first line
    of the output that is a whole line of the template ("Tool results:").
    """
    lines = [
        _words(re.sub(r"\{[^{}]*\}", " ", line))
        for line in template_text.splitlines()
        if line.strip() and not line.startswith("### ")
    ]
    out = _words(output)
    for i in range(len(out) - n + 1):
        gram = out[i : i + n]
        for line in lines:
            if any(line[j : j + n] == gram for j in range(len(line) - n + 1)):
                return " ".join(gram)
    first = _words(output.strip().splitlines()[0]) if output.strip() else []
    if first and first in lines:
        return " ".join(first)
    return None


def test_template_echo_detects_what_gemma_did():
    text = load_template("responder").text
    gemma = "You write the final answer of a tool-using assistant in one short sentence"
    assert template_echo(gemma, text)
    assert template_echo("Tool results:", text)
    assert template_echo(" 10 miles is 16.09 kilometres.", text) is None
    assert template_echo('{"action": "finish"}', load_template("planner").text) is None


@pytest.mark.parametrize(("name", "chat_format"), SHIPPED)
def test_no_role_echoes_its_template(name, chat_format):
    candidate = PROJECT.candidate(name).model_copy(
        update={"chat_format": chat_format, "context_length": 2048}
    )
    echoes = {}
    with create_backend(candidate) as backend:
        for role_name in DEFAULT_PIPELINE:
            role = get_role(role_name)
            step = role.steps(CASE)[-1]
            (result,) = backend.generate([step.request])
            assert result.ok, result.error
            assert result.text.strip(), f"{role_name}: empty output"
            copied = template_echo(result.text, role.template.text)
            if copied:
                echoes[role_name] = (copied, result.text[:120])
    assert not echoes, echoes
