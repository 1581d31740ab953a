"""The project file: candidates, pipeline, case source and budget (YAML, validated)."""

from __future__ import annotations

from importlib.resources import files
from pathlib import Path

from pydantic import Field, field_validator, model_validator

from rolecast.backends import check_backend_name
from rolecast.config import load_yaml, parse_model
from rolecast.errors import ConfigError, RolecastError
from rolecast.profiles.roles import DEFAULT_PIPELINE, check_pipeline
from rolecast.types import Budget, Candidate, StrictModel

__all__ = ["DEFAULT_CONFIG", "ProjectConfig", "load_project"]

DEFAULT_CONFIG = "embedded default"


class ProjectConfig(StrictModel):
    """What to profile and under which budget."""

    pipeline: list[str] = Field(default_factory=lambda: list(DEFAULT_PIPELINE))
    cases: str = "builtin"
    case_options: dict[str, str] = Field(
        default_factory=dict, description="Loader options, e.g. {ibm_dir: PATH} for toolalpaca."
    )
    subset: int | None = Field(default=None, gt=0)
    budget: Budget = Field(default_factory=Budget)
    candidates: list[Candidate] = Field(min_length=1)

    @field_validator("pipeline")
    @classmethod
    def _known_roles(cls, value: list[str]) -> list[str]:
        try:
            return list(check_pipeline(value))
        except RolecastError as exc:
            raise ValueError(str(exc)) from None

    @model_validator(mode="after")
    def _candidates_valid(self) -> ProjectConfig:
        names = [c.name for c in self.candidates]
        duplicates = sorted({n for n in names if names.count(n) > 1})
        if duplicates:
            raise ValueError(f"candidate names must be unique; repeated: {duplicates}")
        for candidate in self.candidates:
            try:
                check_backend_name(candidate.backend)
            except ConfigError as exc:
                raise ValueError(f"candidate {candidate.name!r}: {exc}") from None
        return self

    def candidate(self, name: str) -> Candidate:
        """The candidate called ``name``."""
        for candidate in self.candidates:
            if candidate.name == name:
                return candidate
        raise ConfigError(
            f"unknown candidate {name!r} (known: {', '.join(c.name for c in self.candidates)})"
        )


def load_project(path: str | Path | None) -> tuple[ProjectConfig, str]:
    """The project at ``path`` (or the embedded default) and where it came from."""
    if path is None:
        source = files("rolecast.defaults").joinpath("rolecast.yaml")
        import yaml

        data, where = yaml.safe_load(source.read_text(encoding="utf-8")), DEFAULT_CONFIG
    else:
        data, where = load_yaml(path), str(path)
    if not isinstance(data, dict):
        raise ConfigError(f"{where}: expected a mapping with 'candidates', 'budget', ...")
    project = parse_model(ProjectConfig, data, where)
    if path is not None:
        project = _paths_from(project, Path(path).parent)
    return project, where


PATH_OPTIONS = frozenset({"ibm_dir"})
"""Loader options (``case_options``) that name a file or folder."""


def _paths_from(project: ProjectConfig, folder: Path) -> ProjectConfig:
    """``cases:`` (and path options) relative to the project file's folder, not the CWD.

    ``cases: data/cases.jsonl`` or ``cases: bfcl:data/x.json`` in ``proj/rolecast.yaml``
    means ``proj/data/...`` wherever rolecast runs; absolute and ``~`` paths are kept.
    """
    from rolecast.profiles.loaders import FORMATS, NATIVE_SUFFIXES

    def resolve(text: str) -> str:
        path = Path(text).expanduser()
        return text if path.is_absolute() else str(folder / path)

    kind, _, rest = project.cases.partition(":")
    cases = project.cases  # builtin, or a spec load_cases will explain
    if kind in FORMATS and rest:
        cases = f"{kind}:{resolve(rest)}"
    elif not rest and Path(project.cases).suffix.lower() in NATIVE_SUFFIXES:
        cases = resolve(project.cases)
    options = {
        key: resolve(value) if key in PATH_OPTIONS else value
        for key, value in project.case_options.items()
    }
    return project.model_copy(update={"cases": cases, "case_options": options})
