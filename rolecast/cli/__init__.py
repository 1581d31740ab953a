"""The ``rolecast`` command line (typer). Commands only parse, call the library, print."""

from __future__ import annotations

import json
import sys
from typing import Annotated

import click
import typer

from rolecast.cli._common import console
from rolecast.cli.profile_cmd import cases, import_results, profile, report, show
from rolecast.cli.quickstart_cmd import quickstart
from rolecast.cli.reprofile_cmd import reprofile
from rolecast.cli.run_cmd import run
from rolecast.cli.search_cmd import export, search_command
from rolecast.errors import RolecastError

__all__ = ["app", "main"]

app = typer.Typer(
    name="rolecast",
    help="Decide which LLM plays which role (planner, caller, extractor, responder) "
    "in a tool-using agent.",
    no_args_is_help=True,
    pretty_exceptions_show_locals=False,
    add_completion=False,
)
app.command()(quickstart)
app.command()(profile)
app.command()(cases)
app.command("search")(search_command)
app.command()(export)
app.command()(run)
app.command()(show)
app.command()(report)
app.command()(reprofile)
app.command("import")(import_results)


@app.command()
def schema(
    which: Annotated[str, typer.Argument(help="case | coalition | project")],
) -> None:
    """Print the JSON Schema of the case format, the coalition config or the project file."""
    from rolecast.schemas import json_schema

    console.print_json(json.dumps(json_schema(which)))


def main() -> None:
    """Entry point: user mistakes become one line on stderr and exit code 2."""
    try:
        code = app(standalone_mode=False)
    except click.exceptions.ClickException as exc:
        exc.show()
        sys.exit(exc.exit_code)
    except click.exceptions.Abort:
        print("aborted", file=sys.stderr)
        sys.exit(130)
    except RolecastError as exc:
        message = " ".join(str(exc).split())
        print(f"error: {message}", file=sys.stderr)
        sys.exit(2)
    except KeyboardInterrupt:
        print("interrupted; every step stored so far is kept", file=sys.stderr)
        sys.exit(130)
    sys.exit(code if isinstance(code, int) else 0)
