"""Helpers shared by several test modules (imported as ``from _helpers import ...``)."""

from __future__ import annotations

import sys

import pytest

from rolecast.cli import main


def cli(monkeypatch, capsys, *args: str) -> tuple[int, str, str]:
    """Run ``rolecast ARGS`` in-process: (exit code, stdout, stderr)."""
    monkeypatch.setattr(sys, "argv", ["rolecast", *args])
    with pytest.raises(SystemExit) as exit_info:
        main()
    out, err = capsys.readouterr()
    return exit_info.value.code, out, err


class Borrowed:
    """Lends a module-scoped backend to the profiler without letting it close the model."""

    def __init__(self, backend):
        self._backend = backend

    def generate(self, requests):
        return self._backend.generate(requests)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return None
