"""The project file: candidates, pipeline, case source, tools and budget (YAML, validated)."""

from __future__ import annotations

from importlib.resources import files
from pathlib import Path
from typing import Literal

from pydantic import Field, field_validator

from rolecast.backends import check_candidate
from rolecast.config import load_yaml, parse_model
from rolecast.errors import ConfigError, RolecastError
from rolecast.profiles.roles import DEFAULT_PIPELINE, check_pipeline
from rolecast.tools.spec import ToolsSpec
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
    tools: ToolsSpec | None = Field(
        default=None,
        description="Where the agent's tools come from (rolecast run, verification): "
        "builtin, a python module ('package.module:ATTRIBUTE'), mcp servers, replay. "
        "Unset: the built-in tools (unknown for a coalition from imported results).",
    )
    candidates: list[Candidate] = Field(min_length=1)
    surrogate: Literal["observed", "irt"] = Field(
        default="irt",
        description="How stored steps predict a coalition: observed 0/1 outcomes, or an "
        "item-response model's probabilities (fills unobserved cells); see BENCHMARKS.md.",
    )

    @field_validator("pipeline")
    @classmethod
    def _known_roles(cls, value: list[str]) -> list[str]:
        try:
            return list(check_pipeline(value))
        except RolecastError as exc:
            raise ValueError(str(exc)) from None

    @field_validator("candidates")
    @classmethod
    def _candidates_valid(cls, value: list[Candidate]) -> list[Candidate]:
        names = [c.name for c in value]
        duplicates = sorted({n for n in names if names.count(n) > 1})
        if duplicates:
            raise ValueError(f"candidate names must be unique; repeated: {duplicates}")
        for candidate in value:  # the backend exists and takes these options
            try:
                check_candidate(candidate)
            except ConfigError as exc:
                raise ValueError(_named(candidate.name, str(exc))) from None
        return value

    def candidate(self, name: str) -> Candidate:
        """The candidate called ``name``."""
        for candidate in self.candidates:
            if candidate.name == name:
                return candidate
        raise ConfigError(
            f"unknown candidate {name!r} (known: {', '.join(c.name for c in self.candidates)})"
        )


def _named(name: str, message: str) -> str:
    """``message`` prefixed with the candidate's name unless it already says it."""
    return message if message.startswith("candidate ") else f"candidate {name!r}: {message}"


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
    # tool folders relative to the project file, held absolute from here on
    base = Path.cwd() if path is None else Path(path).parent
    if project.tools is not None:
        project = project.model_copy(update={"tools": project.tools.resolved(base)})
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
