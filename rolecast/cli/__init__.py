"""The ``rolecast`` command line (typer). Commands only parse, call the library, print."""

from __future__ import annotations

import json
import sys
from typing import Annotated, NoReturn

import typer

from rolecast.cli._common import console
from rolecast.cli.export_cmd import export
from rolecast.cli.profile_cmd import cases, import_results, profile, report, show
from rolecast.cli.quickstart_cmd import quickstart
from rolecast.cli.reprofile_cmd import reprofile
from rolecast.cli.run_cmd import run
from rolecast.cli.search_cmd import search_command
from rolecast.cli.verify_cmd import verify_command
from rolecast.errors import RolecastError

__all__ = ["app", "main"]

app = typer.Typer(
    name="rolecast",
    help="Decide which LLM plays which role (planner, caller, extractor, responder) "
    "in a tool-using agent.",
    pretty_exceptions_show_locals=False,
    add_completion=False,
)


@app.callback(invoke_without_command=True)
def _root(ctx: typer.Context) -> None:
    """A bare `rolecast` prints the help."""
    if ctx.invoked_subcommand is None:
        text = ctx.get_help()  # typer's rich help prints itself and returns ""
        if text:
            typer.echo(text)


app.command()(quickstart)
app.command()(profile)
app.command()(cases)
app.command("search")(search_command)
app.command()(export)
app.command()(run)
app.command("verify")(verify_command)
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


def _usage_error(exc: typer.TyperException) -> NoReturn:
    """Command-line mistakes typer reports (no such option, a bad value) as one line."""
    ctx = getattr(exc, "ctx", None)
    message = exc.format_message()
    hint = f" (see {ctx.command_path} --help)" if ctx is not None else ""
    print(f"error: {' '.join(message.split())}{hint}", file=sys.stderr)
    sys.exit(exc.exit_code)


def main() -> None:
    """Entry point: user mistakes become one line on stderr and exit code 2."""
    try:
        code = app(prog_name="rolecast", standalone_mode=False)
    except typer.TyperException as exc:  # typer >= 0.29 raises its own, not click's
        _usage_error(exc)
    except typer.Abort:
        print("aborted", file=sys.stderr)
        sys.exit(130)
    except RolecastError as exc:
        message = " ".join(str(exc).split())
        print(f"error: {message}", file=sys.stderr)
        sys.exit(exc.exit_code)
    except KeyboardInterrupt:
        print("interrupted; every step stored so far is kept", file=sys.stderr)
        sys.exit(130)
    sys.exit(code if isinstance(code, int) else 0)
