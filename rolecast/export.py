"""The coalition config: what other runners (and ``rolecast run``) read.

``coalition.yaml`` names, for each role, the candidate that plays it with its serving
settings, where each model is placed, the predicted accuracy with its interval, memory
and cost, and where the numbers came from. Its JSON Schema is published as
``rolecast/schemas/coalition.schema.json`` (``rolecast schema coalition``).
"""

from __future__ import annotations

import os
import secrets
from datetime import datetime
from pathlib import Path
from typing import Literal

import yaml
from pydantic import Field, model_validator

from rolecast import __version__
from rolecast.allocator.coalition import CoalitionEval, ProfileMatrix
from rolecast.backends import check_candidate, place, serve_command
from rolecast.config import load_yaml, parse_model
from rolecast.errors import ConfigError, RolecastError
from rolecast.profiles.roles import check_pipeline
from rolecast.profiles.stats import Estimate
from rolecast.tools.spec import ToolsSpec
from rolecast.types import Budget, Candidate, StrictModel

__all__ = [
    "CoalitionConfig",
    "build_coalition_config",
    "case_source",
    "load_coalition",
    "write_atomic",
    "write_coalition",
]


BUILTIN_TOOLS = ToolsSpec.parse("builtin")

IMPORTED_TOOLS = ToolsSpec.parse({"kind": "unknown", "reason": "imported results"})
"""``tools`` of a coalition whose roles were measured elsewhere, when the project names
none: rolecast cannot know them (``rolecast run`` asks for ``--tools``)."""


class RoleAssignment(StrictModel):
    """The candidate that plays a role, and the prompt it was profiled with."""

    candidate: str
    prompt_version: str


class Placement(StrictModel):
    """Where a model is served: which GPU(s), how much memory, how to start it.

    A model larger than one GPU is split over several equal GPUs with tensor parallelism
    (``tensor_parallel_size`` = the number of ``gpus``); ``memory_fraction`` is its share
    of each of them (vLLM's ``--gpu-memory-utilization``), and the shares on one GPU sum
    to at most 0.9 (:mod:`rolecast.allocator.placement`).
    """

    candidate: str
    gpu: int = Field(ge=0, description="The (first) GPU the model is served on.")
    gpus: list[int] = Field(
        default_factory=list, description="Every GPU the model is served on (tensor parallel)."
    )
    memory_gb: float = Field(ge=0, description="The model's serving memory in GB (all GPUs).")
    memory_fraction: float | None = Field(default=None, ge=0, le=1)
    tensor_parallel_size: int = Field(default=1, ge=1)
    serve_command: str | None = None


class Interval(StrictModel):
    """A rate with its 95% interval."""

    mean: float
    low: float
    high: float
    n: int = Field(ge=0)
    method: str

    @model_validator(mode="after")
    def _ordered(self) -> Interval:
        if self.low > self.high:
            raise ValueError(f"an interval needs low <= high, not {self.low} > {self.high}")
        return self


class Tie(StrictModel):
    """Another coalition whose accuracy is within noise of this one."""

    roles: dict[str, str]
    accuracy: float


class RoleProfile(StrictModel):
    """How the assigned candidate did on its role: step pass rate and metrics, with n."""

    candidate: str
    step_pass: Interval
    metrics: dict[str, Interval] = Field(default_factory=dict)


class Expected(StrictModel):
    """Predicted figures for this coalition (from the profiled cases)."""

    accuracy: Interval
    partial_credit: float = 0.0
    roles: dict[str, RoleProfile] = Field(default_factory=dict)
    memory_gb: float
    cost_per_1k_tasks: float
    latency_s: float
    tied_with: list[Tie] = Field(default_factory=list)


class Provenance(StrictModel):
    """Where the numbers came from."""

    rolecast_version: str
    created_at: datetime
    cases: str
    case_ids: list[str]
    profile_runs: list[int] = Field(
        description="the profiling runs that produced the steps this coalition's numbers "
        "rest on (ids in the profile database; `rolecast show --runs` lists them)"
    )
    database: str
    fingerprints: dict[str, str]
    study: str | None = None
    surrogate: str | None = Field(
        default=None,
        description="the accuracy surrogate the search ranked coalitions by ('observed': the "
        "per-case 0/1 product; 'irt': the item-response model's probabilities)",
    )


class CoalitionConfig(StrictModel):
    """A coalition ready to run: pipeline, role -> candidate, placement, expectations."""

    version: Literal[1] = 1
    pipeline: list[str]
    roles: dict[str, RoleAssignment]
    candidates: dict[str, Candidate]
    placement: list[Placement]
    budget: Budget
    tools: ToolsSpec = Field(
        default_factory=lambda: BUILTIN_TOOLS,
        description="Where the agent's tools come from (the project's 'tools:'); folders "
        "relative to this file.",
    )
    max_steps: int = Field(default=6, gt=0)
    expected: Expected
    provenance: Provenance

    @model_validator(mode="after")
    def _consistent(self) -> CoalitionConfig:
        try:
            check_pipeline(self.pipeline)
        except RolecastError as exc:
            raise ValueError(f"pipeline: {exc}") from None
        for role in self.pipeline:
            if role not in self.roles:
                raise ValueError(f"pipeline role {role!r} has no entry under 'roles'")
        extra = [role for role in self.roles if role not in self.pipeline]
        if extra:
            raise ValueError(
                f"'roles' has {extra}, which the pipeline {self.pipeline} does not name"
            )
        for key, candidate in self.candidates.items():
            if candidate.name != key:
                raise ValueError(f"candidates: key {key!r} holds candidate {candidate.name!r}")
            try:
                check_candidate(candidate)  # a known backend that takes these options
            except ConfigError as exc:
                message = str(exc)
                raise ValueError(
                    message if message.startswith("candidate ") else f"candidate {key!r}: {message}"
                ) from None
        for role, assignment in self.roles.items():
            if assignment.candidate not in self.candidates:
                raise ValueError(
                    f"role {role!r} names candidate {assignment.candidate!r}, "
                    f"which is not under 'candidates'"
                )
        self._check_references()
        return self

    def _check_references(self) -> None:
        """Every name the file uses points at something the file defines, exactly once."""
        playing = {assignment.candidate for assignment in self.roles.values()}
        idle = sorted(set(self.candidates) - playing)
        if idle:
            raise ValueError(
                f"candidates {idle} play no role; remove them or assign them under 'roles'"
            )
        placed = [entry.candidate for entry in self.placement]
        for name in placed:
            if name not in self.candidates:
                raise ValueError(
                    f"placement names candidate {name!r}, which is not under 'candidates'"
                )
        twice = sorted({name for name in placed if placed.count(name) > 1})
        if twice:
            raise ValueError(f"placement lists {twice} more than once; one entry per model")
        unplaced = sorted(playing - set(placed))
        if unplaced:
            raise ValueError(f"candidates {unplaced} play a role but have no 'placement' entry")
        for role, profile in self.expected.roles.items():
            if role not in self.roles:
                raise ValueError(f"expected.roles has {role!r}, which the pipeline does not name")
            if profile.candidate != self.roles[role].candidate:
                raise ValueError(
                    f"expected.roles.{role} describes candidate {profile.candidate!r}, but "
                    f"the role is played by {self.roles[role].candidate!r}"
                )
        for tie in self.expected.tied_with:
            if set(tie.roles) != set(self.pipeline):
                raise ValueError(
                    f"expected.tied_with has a coalition of roles {sorted(tie.roles)}, not "
                    f"the pipeline's {sorted(self.pipeline)}"
                )
        unknown = sorted(set(self.provenance.fingerprints) - set(self.candidates))
        if unknown:
            raise ValueError(
                f"provenance.fingerprints names {unknown}, which are not under 'candidates'"
            )

    def placed_candidate(self, name: str) -> Candidate:
        """Candidate ``name`` as its placement runs it (an in-process engine's memory share).

        The memory fraction and tensor-parallel size of its placement entry become engine
        options where the backend takes them (vLLM); other backends get it unchanged.
        """
        candidate = self.candidates[name]
        entry = next((p for p in self.placement if p.candidate == name), None)
        if entry is None:
            return candidate
        gpus = getattr(entry, "gpus", None) or [entry.gpu]
        tensor_parallel = int(getattr(entry, "tensor_parallel_size", 0) or len(gpus))
        return place(
            candidate, tensor_parallel_size=tensor_parallel, memory_fraction=entry.memory_fraction
        )


def _serve_command(
    candidate: Candidate,
    memory_fraction: float | None,
    port: int = 8000,
    gpus: tuple[int, ...] = (),
    tensor_parallel_size: int = 1,
) -> str | None:
    """How to start the model (the backend's serve command), or None: nothing to start."""
    command = serve_command(
        candidate,
        port=port,
        gpus=gpus,
        tensor_parallel_size=tensor_parallel_size,
        memory_fraction=memory_fraction,
    )
    return command.shell() if command is not None else None


def build_coalition_config(
    chosen: CoalitionEval,
    ties: list[CoalitionEval],
    matrix: ProfileMatrix,
    *,
    pipeline: list[str],
    prompt_versions: dict[str, str],
    budget: Budget,
    cases: str,
    database: str,
    fingerprints: dict[str, str],
    study: str | None,
    tools: ToolsSpec | None = None,
) -> CoalitionConfig:
    """Assemble the config for ``chosen``, its models placed on the budget's GPUs.

    With ``budget.gpus`` each model gets its GPU(s) from the exact packing
    (:meth:`ProfileMatrix.placement`); without, the models share GPU 0 of
    ``budget.gpu_memory_gb`` (no fraction when there is no memory budget either).

    ``tools`` are the project's (None when it names none: the built-in tools, or unknown
    for a coalition whose numbers were imported).
    """
    names = list(dict.fromkeys(chosen.assignment.values()))
    placed = {p.model: p for p in matrix.placement(chosen.assignment, budget) or []}
    placement = []
    for index, name in enumerate(names):
        where = placed.get(name)
        gpus = where.gpus if where is not None else (0,)
        tp = where.tensor_parallel_size if where is not None else 1
        fraction = where.fraction if where is not None else None
        if not budget.gpus and not budget.gpu_memory_gb:
            fraction = None  # no GPU size known: let the server choose
        placement.append(
            Placement(
                candidate=name,
                gpu=gpus[0],
                gpus=list(gpus),
                memory_gb=round(matrix.memory(name).total_gb, 4),
                memory_fraction=round(min(fraction, 1.0), 4) if fraction is not None else None,
                tensor_parallel_size=tp,
                serve_command=_serve_command(  # GPU ids only when the budget lists GPUs
                    matrix.candidates[name],
                    fraction,
                    8000 + index,
                    tuple(gpus) if budget.gpus else (),
                    tp,
                ),
            )
        )
    accuracy = chosen.accuracy
    role_profiles = {}
    for role, name in chosen.assignment.items():
        stats = matrix.stats[(name, role)]
        role_profiles[role] = RoleProfile(
            candidate=name,
            step_pass=_interval(stats.step_rate),
            metrics={m: _interval(e) for m, e in sorted(stats.metric_estimates.items())},
        )
    # a role whose numbers come from `rolecast import` was measured by another harness,
    # with its prompts and tools: claim neither rolecast's prompt nor the built-in tools
    imported = {
        r for r, name in chosen.assignment.items() if matrix.stats[(name, r)].source == "import"
    }
    return CoalitionConfig(
        pipeline=pipeline,
        roles={
            role: RoleAssignment(
                candidate=name,
                prompt_version="import" if role in imported else prompt_versions[role],
            )
            for role, name in chosen.assignment.items()
        },
        tools=tools if tools is not None else IMPORTED_TOOLS if imported else BUILTIN_TOOLS,
        candidates={name: matrix.candidates[name] for name in names},
        placement=placement,
        budget=budget,
        expected=Expected(
            accuracy=_interval(accuracy),
            partial_credit=round(chosen.partial_credit, 4),
            roles=role_profiles,
            memory_gb=round(chosen.memory_gb, 4),
            cost_per_1k_tasks=round(chosen.cost_per_1k, 6),
            latency_s=round(chosen.latency_s, 3),
            tied_with=[Tie(roles=t.assignment, accuracy=round(t.accuracy.mean, 4)) for t in ties],
        ),
        provenance=Provenance(
            rolecast_version=__version__,
            created_at=datetime.now().astimezone().replace(microsecond=0),
            cases=cases,
            case_ids=list(matrix.case_ids),
            profile_runs=matrix.profile_runs(chosen.assignment),
            database=database,
            fingerprints={name: fingerprints[name] for name in names},
            study=study,
            surrogate=matrix.surrogate,
        ),
    )


def _interval(estimate: Estimate) -> Interval:
    return Interval(
        mean=round(estimate.mean, 4),
        low=round(estimate.low, 4),
        high=round(estimate.high, 4),
        n=estimate.n,
        method=estimate.method,
    )


def write_atomic(path: str | Path, text: str) -> Path:
    """Write ``text`` to ``path`` via a temporary file and a rename: never a partial file.

    The file gets the permissions ``open(path, "w")`` would give a new file (0666 less the
    umask), not a temporary file's 0600: other runners and users read coalition.yaml.

    Raises:
        ConfigError: the file cannot be written; an existing file is left as it was.
    """
    path = Path(path)
    tmp = path.parent / f".{path.name}.{secrets.token_hex(6)}.tmp"
    blocking = next((p for p in (path.parent, *path.parent.parents) if p.exists()), None)
    if blocking is not None and not blocking.is_dir():
        raise ConfigError(f"cannot write {path}: {blocking} is a file, not a folder")
    if path.is_dir():
        raise ConfigError(f"cannot write {path}: it is a folder; give a file name")
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666)
    except OSError as exc:
        raise ConfigError(f"cannot write {path}: {exc.strerror}") from None
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(text)
        os.replace(tmp, path)
    except OSError as exc:
        tmp.unlink(missing_ok=True)
        raise ConfigError(f"cannot write {path}: {exc.strerror or exc}") from None
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    return path


def write_coalition(config: CoalitionConfig, path: str | Path) -> Path:
    """Write ``coalition.yaml`` atomically; tool folders relative to its folder."""
    tools = config.tools.relative_to(Path(path).parent)
    config = config.model_copy(update={"tools": tools})
    header = (
        "# rolecast coalition config: role -> model, placement, expected accuracy.\n"
        "# Schema: rolecast/schemas/coalition.schema.json (rolecast schema coalition)\n"
    )
    body = yaml.safe_dump(config.model_dump(mode="json"), sort_keys=False, allow_unicode=True)
    return write_atomic(path, header + body)


def load_coalition(path: str | Path) -> CoalitionConfig:
    """Read and validate a coalition config; tool folders are held absolute."""
    data = load_yaml(path)
    if not isinstance(data, dict):
        raise ConfigError(
            f"{path}: expected a coalition mapping (pipeline, roles, candidates, ...)"
        )
    config = parse_model(CoalitionConfig, data, str(path))
    return config.model_copy(update={"tools": config.tools.resolved(Path(path).parent)})


def case_source(config: CoalitionConfig, path: str | Path) -> str:
    """The case source the coalition was profiled on, as a spec ``load_cases`` reads.

    A relative file in the provenance is taken from the working folder when it is there,
    else from the coalition file's folder (a coalition run from elsewhere).
    """
    from rolecast.profiles.loaders import FORMATS

    spec = config.provenance.cases
    kind, _, rest = spec.partition(":")
    prefix, file = (f"{kind}:", rest) if kind in FORMATS and rest else ("", spec)
    if spec == "builtin" or not file or Path(file).expanduser().is_absolute():
        return spec
    beside = Path(path).parent / file
    if not Path(file).exists() and beside.exists():
        return prefix + str(beside)
    return spec
