"""MCP tools against a real MCP server (the SDK's MCPServer), over stdio and Streamable HTTP."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
from _helpers import require

from rolecast.errors import ToolError
from rolecast.tools import open_tools

require("mcp", "mcp")

SERVER = Path(__file__).with_name("mcp_weather_server.py")


def gone(pid: int, within_s: float = 10.0) -> bool:
    """Whether process ``pid`` has ended (and been reaped) within ``within_s``."""
    deadline = time.monotonic() + within_s
    while time.monotonic() < deadline:
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return True
        time.sleep(0.1)
    return False


def mcp_threads() -> list[str]:
    return [t.name for t in threading.enumerate() if t.name.startswith("mcp ")]


@pytest.fixture
def stdio_spec():
    return {"kind": "mcp", "command": sys.executable, "args": [SERVER.name],
            "cwd": str(SERVER.parent)}  # fmt: skip


def test_stdio_server_tools_are_discovered_and_called(stdio_spec):
    with open_tools(stdio_spec) as toolset:
        tools = {t.name: t for t in toolset.tools()}
        assert sorted(tools) == ["add", "get_weather", "server_pid"]
        assert (
            tools["get_weather"].description == "Current temperature of a city in degrees Celsius."
        )
        assert tools["get_weather"].parameters["properties"]["city"]["type"] == "string"
        assert tools["get_weather"].parameters["required"] == ["city"]
        assert toolset.call("get_weather", {"city": "Berlin"}) == {"city": "Berlin", "temp_c": 5}
        assert toolset.call("add", {"a": 2, "b": 40}) == {"result": 42}
        with pytest.raises(ValueError, match="get_weather: Error executing tool"):
            toolset.call("get_weather", {"city": "Rome"})  # the tool raised
        with pytest.raises(ValueError, match=r"add: .*validation error"):
            toolset.call("add", {"a": "two"})  # the server rejected the arguments
        with pytest.raises(ValueError, match="unknown tool 'nope'"):
            toolset.call("nope", {})


def test_close_ends_the_server_process_and_the_thread(stdio_spec):
    toolset = open_tools(stdio_spec)
    pid = toolset.call("server_pid", {})["result"]
    assert pid != os.getpid() and not gone(pid, within_s=0.2)
    assert mcp_threads()
    toolset.close()
    assert gone(pid), f"MCP server {pid} still running after close()"
    assert mcp_threads() == []
    toolset.close()  # idempotent
    with pytest.raises(ToolError, match="closed"):
        toolset.call("add", {"a": 1, "b": 2})


@pytest.mark.parametrize(
    ("args", "problem"),
    [
        (["-c", "import sys; print('no API key', file=sys.stderr); sys.exit(3)"],
         r"cannot start or connect: .*server stderr: no API key"),
        (["-c", "import time; time.sleep(30)"], r"not ready within 2 s"),
    ],
)  # fmt: skip
def test_a_server_that_does_not_start_is_an_infrastructure_fault(args, problem):
    spec = {"kind": "mcp", "command": sys.executable, "args": args, "timeout_s": 2}
    with pytest.raises(ToolError, match=problem) as info:
        open_tools(spec)
    assert info.value.exit_code == 4
    assert mcp_threads() == []


def test_a_missing_command_is_one_line():
    with pytest.raises(ToolError, match="No such file"):
        open_tools({"kind": "mcp", "command": "/nonexistent/mcp-server"})


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture
def http_server():
    port = free_port()
    process = subprocess.Popen(
        [sys.executable, str(SERVER), "http", str(port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
                break
            except OSError:
                assert process.poll() is None, "the MCP HTTP server exited"
                time.sleep(0.2)
        yield f"http://127.0.0.1:{port}/mcp"
    finally:
        process.terminate()
        process.wait(timeout=20)


def test_http_server_tools_are_discovered_and_called(http_server):
    with open_tools({"kind": "mcp", "url": http_server}) as toolset:
        assert sorted(t.name for t in toolset.tools()) == ["add", "get_weather", "server_pid"]
        assert toolset.call("get_weather", {"city": "Oslo"}) == {"city": "Oslo", "temp_c": -3}
    assert mcp_threads() == []


def test_an_http_server_that_is_down_is_an_infrastructure_fault():
    with pytest.raises(ToolError, match="ConnectError"):
        open_tools({"kind": "mcp", "url": f"http://127.0.0.1:{free_port()}/mcp"})


def test_python_and_mcp_tools_together(tmp_path, stdio_spec):
    (tmp_path / "mcp_test_agenda.py").write_text(
        "from rolecast.tools import tool\n"
        "@tool({'type': 'object', 'properties': {'title': {'type': 'string'}},"
        " 'required': ['title']})\n"
        "def add_agenda(title):\n    '''Add an agenda item.'''\n    return {'added': title}\n"
        "TOOLS = [add_agenda]\n",
        encoding="utf-8",
    )
    spec = [{"kind": "python", "module": "mcp_test_agenda:TOOLS"}, stdio_spec]
    with open_tools(spec, base_dir=tmp_path) as toolset:
        assert toolset.source.startswith("python:mcp_test_agenda:TOOLS + mcp:")
        names = [t.name for t in toolset.tools()]
        assert names == ["add_agenda", "get_weather", "add", "server_pid"]
        assert toolset.call("add_agenda", {"title": "x"}) == {"added": "x"}
        assert toolset.call("add", {"a": 1, "b": 1}) == {"result": 2}
