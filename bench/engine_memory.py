"""The memory model against what loading a model really takes, on CPU.

For each candidate of a project: rolecast's estimate (weights + KV cache at the
configured context; the runtime overhead is a GPU figure and is left out here), and what
the process gained in resident memory from loading the model and running one request
that fills the KV cache to the context length. Each candidate is measured in a fresh
subprocess so earlier loads do not blur the numbers.

Usage: .venv/bin/python bench/engine_memory.py [bench/projects/smollm2_engines.yaml]
"""

from __future__ import annotations

import json
import subprocess
import sys

MEASURE = r"""
import gc, json, sys
from rolecast.backends import ChatRequest, Message, create_backend
from rolecast.project import load_project

def rss():
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) * 1024
    return 0

project, _ = load_project(sys.argv[1])
candidate = project.candidate(sys.argv[2])
import torch, transformers  # the engines' own imports are not the model's memory
try:
    import llama_cpp
except ImportError:
    pass
gc.collect()
before = rss()
backend = create_backend(candidate)
loaded = rss()
words = "word " * (candidate.context_length - 200)
backend.generate([ChatRequest(messages=(Message("user", words),), max_tokens=8)])
used = rss()
out = {"loaded_bytes": loaded - before, "after_full_context_bytes": used - before}
if hasattr(backend, "parameter_bytes"):
    out["parameter_bytes"] = backend.parameter_bytes()
print(json.dumps(out))
"""


def main(project_path: str) -> None:
    from rolecast.allocator.coalition import candidate_memory
    from rolecast.project import load_project

    project, _ = load_project(project_path)
    print("| candidate | estimate: weights + KV (GB) | RSS after load (GB) | RSS after a "
          "full-context request (GB) | loaded parameters (GB) |")  # fmt: skip
    print("|---|---|---|---|---|")
    for candidate in project.candidates:
        estimate = candidate_memory(candidate)
        result = subprocess.run(
            [sys.executable, "-c", MEASURE, project_path, candidate.name],
            capture_output=True,
            text=True,
            check=True,
        )
        measured = json.loads(result.stdout.strip().splitlines()[-1])
        params = measured.get("parameter_bytes")
        cells = [
            candidate.name,
            f"{estimate.weights_gb:.3f} + {estimate.kv_cache_gb:.3f} = "
            f"{estimate.weights_gb + estimate.kv_cache_gb:.3f}",
            f"{measured['loaded_bytes'] / 1e9:.3f}",
            f"{measured['after_full_context_bytes'] / 1e9:.3f}",
            f"{params / 1e9:.3f}" if params is not None else "–",
        ]
        print("| " + " | ".join(cells) + " |")


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else "bench/projects/smollm2_engines.yaml")
