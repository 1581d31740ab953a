"""`rolecast export`: search and write the coalition (or convert a written one)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.markup import escape

from rolecast.cli._common import ConfigOption, DbOption, SubsetOption, console
from rolecast.cli.search_cmd import (
    CostOption,
    GpusOption,
    MemoryOption,
    StudyOption,
    SurrogateOption,
    TopOption,
    run_search,
)

_DEFAULT_OUT = {"yaml": "coalition.yaml", "litellm": "litellm_config.yaml", "vllm": "vllm-serve"}


def export(
    out: Annotated[
        Path | None,
        typer.Option(
            "--out",
            "-o",
            help="Where to write: coalition.yaml (yaml), litellm_config.yaml (litellm), "
            "a folder for serve.sh and compose.yaml (vllm).",
        ),
    ] = None,
    fmt: Annotated[
        str,
        typer.Option(
            "--format",
            "-f",
            help="yaml (rolecast's coalition.yaml), litellm (LiteLLM proxy config), "
            "vllm (vllm serve script and Docker Compose file).",
        ),
    ] = "yaml",
    coalition: Annotated[
        Path | None,
        typer.Option(
            "--coalition",
            help="Convert this coalition.yaml instead of searching again.",
        ),
    ] = None,
    config: ConfigOption = None,
    db: DbOption = None,
    subset: SubsetOption = None,
    gpu_memory_gb: MemoryOption = None,
    cost_per_1k: CostOption = None,
    top: TopOption = 10,
    study_db: StudyOption = None,
    surrogate: SurrogateOption = None,
    gpus: GpusOption = None,
) -> None:
    """Search, then write the chosen coalition (coalition.yaml, LiteLLM or vLLM)."""
    from rolecast.errors import ConfigError
    from rolecast.export import load_coalition
    from rolecast.export_formats import FORMATS, write_export

    if fmt not in FORMATS:
        raise ConfigError(f"unknown --format {fmt!r}; use one of {', '.join(FORMATS)}")
    target = out if out is not None else Path(_DEFAULT_OUT[fmt])
    if coalition is not None:
        written = write_export(load_coalition(coalition), fmt, target)
    else:
        from rolecast.storage import discard_new_sqlite_on_failure
        from rolecast.workflow import coalition_from_search

        with discard_new_sqlite_on_failure(study_db):  # nothing fits: no new study file left
            result, matrix, project, store, fingerprints = run_search(
                config, db, subset, gpu_memory_gb, cost_per_1k, top, study_db,
                surrogate=surrogate, gpus=gpus,
            )  # fmt: skip
        with store:
            chosen = coalition_from_search(result, matrix, project, store, fingerprints)
        written = write_export(chosen, fmt, target)
    for path in written:
        console.print(f"wrote {escape(str(path))}")
