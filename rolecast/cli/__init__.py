"""The ``rolecast`` command line (typer). Commands only parse, call the library, print."""

from __future__ import annotations

import json
import signal
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from types import FrameType
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
    which: Annotated[str, typer.Argument(help="case | coalition | project | search")],
) -> None:
    """Print the JSON Schema of a case, coalition config, project file or search result."""
    from rolecast.schemas import json_schema

    console.print_json(json.dumps(json_schema(which)))


def _usage_error(exc: typer.TyperException) -> NoReturn:
    """Command-line mistakes typer reports (no such option, a bad value) as one line."""
    ctx = getattr(exc, "ctx", None)
    message = exc.format_message()
    hint = f" (see {ctx.command_path} --help)" if ctx is not None else ""
    print(f"error: {' '.join(message.split())}{hint}", file=sys.stderr)
    sys.exit(exc.exit_code)


class Interrupted(KeyboardInterrupt):
    """SIGINT or SIGTERM, raised where the program is so that a run ends ``interrupted``."""


_received: list[int] = []


def _interrupt(signum: int, frame: FrameType | None) -> None:
    _received.append(signum)
    raise Interrupted(signal.Signals(signum).name)


@contextmanager
def _signals_interrupt() -> Iterator[None]:
    """SIGTERM (a scheduler stopping the job) interrupts like Ctrl-C, and both are noted."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    previous = {sig: signal.signal(sig, _interrupt) for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        yield
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)


def main() -> None:
    """Entry point: errors become one line on stderr and the error's exit code.

    2: bad input; 4: an infrastructure fault (see :mod:`rolecast.errors`); 130 / 143:
    interrupted by SIGINT / SIGTERM (what was stored is kept, the run is marked
    interrupted).
    """
    _received.clear()
    try:
        with _signals_interrupt():
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
    except KeyboardInterrupt:  # typer turns it into exit 130 itself; this is the fallback
        _received.append(_received[0] if _received else signal.SIGINT)
    if _received:  # typer returned 130 for the KeyboardInterrupt the signal raised
        signum = _received[0]
        print(
            f"interrupted ({signal.Signals(signum).name}); every step stored so far is kept "
            "and the run is marked interrupted",
            file=sys.stderr,
        )
        sys.exit(128 + signum)
    sys.exit(code if isinstance(code, int) else 0)
