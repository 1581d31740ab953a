"""Helpers shared by several test modules (imported as ``from _helpers import ...``)."""

from __future__ import annotations

import importlib
import os
import sys
from types import ModuleType

import pytest

from rolecast.cli import main


def cli(monkeypatch, capsys, *args: str) -> tuple[int, str, str]:
    """Run ``rolecast ARGS`` in-process: (exit code, stdout, stderr)."""
    monkeypatch.setattr(sys, "argv", ["rolecast", *args])
    with pytest.raises(SystemExit) as exit_info:
        main()
    out, err = capsys.readouterr()
    return exit_info.value.code, out, err


def require(module: str, extra: str) -> ModuleType:
    """Import ``module`` for a test; skip without it, but fail under CI (``CI=true``).

    CI installs every extra (./test.sh), so a missing one there is a broken set-up, not a
    reason to skip the tests that need it.
    """
    try:
        return importlib.import_module(module)
    except ImportError as exc:
        if os.environ.get("CI") == "true":
            pytest.fail(f"{module} is missing under CI=true: install the {extra} extra ({exc})")
        pytest.skip(f"needs the {extra} extra (./test.sh installs it)")


class Borrowed:
    """Lends a module-scoped backend to the profiler without letting it close the model."""

    def __init__(self, backend):
        self._backend = backend

    @property
    def batch_size(self):
        return self._backend.batch_size

    def generate(self, requests):
        return self._backend.generate(requests)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return None


def minimal_gguf() -> bytes:
    """The smallest file that reads as a GGUF model: one f32 tensor, an architecture.

    For tests where only the file's hash matters (a fingerprint), since a file that does
    not read as GGUF is refused before anything runs.
    """
    import struct

    def text(value: str) -> bytes:
        return struct.pack("<Q", len(value)) + value.encode()

    header = b"GGUF" + struct.pack("<IQQ", 3, 1, 1)
    header += text("general.architecture") + struct.pack("<I", 8) + text("llama")
    header += text("w") + struct.pack("<IQIQ", 1, 4, 0, 0)  # 1 dim of 4, type f32, offset 0
    return header + b"\0" * (-len(header) % 32) + b"\0" * 16
