"""Tools served by a Model Context Protocol server, through the official ``mcp`` SDK.

The server is a subprocess spoken to over stdio (``command``) or a Streamable HTTP
endpoint (``url``). Its tools and their JSON Schemas are discovered with
``tools/list`` when the tool set opens; calls go to the server with ``tools/call``.

The :class:`~rolecast.tools.ToolSet` contract is synchronous and the SDK is async, so
the client lives on a private event loop in a daemon thread: one task there enters the
SDK's client (which starts the server), waits until :meth:`McpTools.close`, then leaves
it (which ends the server process: stdin closed, then terminated if it lingers). Calls
are coroutines submitted to that loop.

Faults vs answers: a result the server marks ``isError`` (bad arguments, the tool
refused) is :class:`ValueError`, which the agent sees; a server that does not start,
stops answering or times out is :class:`~rolecast.errors.ToolError`, which stops the run.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import json
import sys
import tempfile
import threading
from collections.abc import Coroutine
from pathlib import Path
from typing import Any, TypeVar

from pydantic import ValidationError

from rolecast._imports import try_import
from rolecast.config import describe_validation_error
from rolecast.errors import ConfigError, ToolError
from rolecast.tools._base import ToolSet
from rolecast.tools.spec import McpSource
from rolecast.types import Tool, ToolCase

__all__ = ["McpTools"]

T = TypeVar("T")

_CLOSE_TIMEOUT_S = 10.0


class McpTools(ToolSet):
    """The tools of one MCP server (stdio subprocess or Streamable HTTP)."""

    def __init__(self, source: McpSource, base_dir: str | Path | None = None) -> None:
        try_import("mcp")
        self.spec = source
        self.source = source.describe()
        self._timeout = source.timeout_s
        self._errlog = tempfile.TemporaryFile(mode="w+", encoding="utf-8")  # noqa: SIM115
        try:
            target = self._target(source, base_dir)
        except BaseException:
            self._errlog.close()
            raise
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(
            target=self._loop.run_forever, name=f"mcp {self.source}", daemon=True
        )
        self._thread.start()
        self._ready: concurrent.futures.Future[Any] = concurrent.futures.Future()
        self._stop: asyncio.Event | None = None
        self._closed = False
        self._began = threading.Event()
        self._finished = threading.Event()
        self._main = asyncio.run_coroutine_threadsafe(self._serve(target), self._loop)
        try:
            self._client = self._ready.result(timeout=self._timeout)
        except concurrent.futures.TimeoutError:
            self.close()
            raise ToolError(
                f"mcp server {self.source}: not ready within {self._timeout:g} s "
                "(raise timeout_s if it starts slowly)"
            ) from None
        except Exception as exc:
            reason = f"{_describe(exc)}{self._stderr()}"
            self.close()
            raise ToolError(
                f"mcp server {self.source}: cannot start or connect: {reason}"
            ) from None
        try:
            listed = self._run(self._list_tools(), "list its tools")
        except BaseException:
            self.close()
            raise
        self._tools = [self._definition(tool) for tool in listed]
        names = [tool.name for tool in self._tools]
        repeated = sorted({name for name in names if names.count(name) > 1})
        if repeated:
            self.close()
            raise ConfigError(f"mcp server {self.source}: lists tool names twice: {repeated}")

    def _target(self, source: McpSource, base_dir: str | Path | None) -> Any:
        if source.url is not None:
            return source.url
        from mcp import StdioServerParameters, stdio_client

        cwd = (Path(base_dir or ".") / (source.cwd or ".")).resolve()
        if not cwd.is_dir():
            raise ConfigError(f"mcp server {self.source}: working folder {cwd} does not exist")
        command = source.command or ""
        if command in ("python", "python3"):  # the interpreter that runs rolecast
            command = sys.executable
        parameters = StdioServerParameters(
            command=command, args=list(source.args), env=dict(source.env), cwd=cwd
        )
        return stdio_client(parameters, errlog=self._errlog)

    async def _serve(self, target: Any) -> None:
        """Hold the client open (the server running) until :meth:`close`."""
        from mcp import Client

        self._began.set()
        self._stop = asyncio.Event()
        try:
            async with Client(target, read_timeout_seconds=self._timeout) as client:
                self._ready.set_result(client)
                await self._stop.wait()
        except BaseException as exc:
            if not self._ready.done():
                self._ready.set_exception(exc)
            elif not isinstance(exc, asyncio.CancelledError):
                raise
        finally:
            self._finished.set()  # the client is left: the server process has ended

    async def _list_tools(self) -> list[Any]:
        tools: list[Any] = []
        cursor = None
        while True:
            page = await self._client.list_tools(cursor=cursor)
            tools.extend(page.tools)
            cursor = page.next_cursor
            if cursor is None:
                return tools

    def _run(self, coroutine: Coroutine[Any, Any, T], doing: str) -> T:
        """Run ``coroutine`` on the client's loop; a transport fault is :class:`ToolError`."""
        if self._closed:
            coroutine.close()
            raise ToolError(f"mcp server {self.source}: the tool set is closed")
        future = asyncio.run_coroutine_threadsafe(coroutine, self._loop)
        try:
            return future.result(timeout=self._timeout + 5)
        except concurrent.futures.TimeoutError:
            future.cancel()
            raise ToolError(
                f"mcp server {self.source}: no answer within {self._timeout:g} s to {doing}"
            ) from None
        except Exception as exc:
            raise ToolError(
                f"mcp server {self.source}: failed to {doing}: {_describe(exc)}{self._stderr()}"
            ) from None

    def _stderr(self) -> str:
        """The server's last stderr line, to say why it stopped."""
        try:
            self._errlog.seek(0)
            lines = [line.strip() for line in self._errlog.read().splitlines() if line.strip()]
        except (OSError, ValueError):
            return ""
        return f" (server stderr: {lines[-1][:300]})" if lines else ""

    def _definition(self, listed: Any) -> Tool:
        try:
            return Tool(
                name=listed.name,
                description=listed.description or "",
                parameters=listed.input_schema,
            )
        except ValidationError as exc:
            problem = describe_validation_error(exc, Tool)
            self.close()
            raise ConfigError(
                f"mcp server {self.source}: tool {listed.name!r}: {problem}"
            ) from None

    def tools(self, case: ToolCase | None = None) -> list[Tool]:
        """Every tool the server listed (the combined tool set picks a case's own)."""
        return list(self._tools)

    def call(self, name: str, arguments: dict[str, Any], case: ToolCase | None = None) -> Any:
        """Call the tool on the server; its result as a JSON value.

        Raises:
            ValueError: the server answered with an error result (the agent sees it).
            ToolError: the server failed, closed or timed out.
        """
        from mcp import MCPError

        async def call() -> Any:
            try:
                return await self._client.call_tool(name, arguments)
            except MCPError as exc:  # a protocol error answer: unknown tool, invalid params
                return exc

        result = self._run(call(), f"call {name}")
        if isinstance(result, Exception):
            raise ValueError(f"{name}: {result}")
        if result.is_error:
            raise ValueError(f"{name}: {_text(result.content) or 'the tool reported an error'}")
        if result.structured_content is not None:
            return result.structured_content
        return _content_value(result.content)

    def close(self) -> None:
        """End the session and the server process, then the private loop; idempotent."""
        if self._closed:
            return
        self._closed = True
        stop = self._stop
        started = self._ready.done() and not self._ready.cancelled() and not self._ready.exception()
        if started and stop is not None:
            self._loop.call_soon_threadsafe(stop.set)  # leave the client: the server stops
        else:
            self._main.cancel()  # still starting (or failed): stop waiting for it
        if self._began.is_set() and not self._finished.wait(_CLOSE_TIMEOUT_S):
            self._main.cancel()  # leaving hung: cancel it (the SDK still stops the process)
            self._finished.wait(_CLOSE_TIMEOUT_S)
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(timeout=_CLOSE_TIMEOUT_S)
        if not self._thread.is_alive():
            self._loop.close()
        self._errlog.close()


def _describe(exc: BaseException) -> str:
    """One line for an exception, unwrapping the task groups the SDK raises through."""
    while isinstance(exc, BaseExceptionGroup) and exc.exceptions:
        exc = exc.exceptions[0]
    text = str(exc).strip().splitlines()[0] if str(exc).strip() else ""
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__


def _text(content: list[Any]) -> str:
    return "\n".join(block.text for block in content if getattr(block, "type", "") == "text")


def _content_value(content: list[Any]) -> Any:
    """Unstructured content as a JSON value: one text block parsed as JSON when it is."""
    values: list[Any] = []
    for block in content:
        if getattr(block, "type", "") == "text":
            try:
                values.append(json.loads(block.text))
            except ValueError:
                values.append(block.text)
        else:
            values.append(f"<{getattr(block, 'type', 'unknown')} content>")
    if len(values) == 1:
        return values[0]
    return values
