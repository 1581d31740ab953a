"""A small real MCP server for the tests (the official SDK's MCPServer, formerly FastMCP).

Run as ``python mcp_weather_server.py`` (stdio) or ``python mcp_weather_server.py http
PORT`` (Streamable HTTP on 127.0.0.1:PORT/mcp). It stops by itself when its parent
process goes away, so a test that dies cannot leave it running.
"""

from __future__ import annotations

import os
import sys
import threading
import time

from mcp.server.mcpserver import MCPServer

server = MCPServer("weather")

FORECAST = {"berlin": 5, "paris": 12, "oslo": -3}


@server.tool()
def get_weather(city: str) -> dict:
    """Current temperature of a city in degrees Celsius."""
    key = city.strip().lower()
    if key not in FORECAST:
        raise ValueError(f"unknown city {city!r}; known: {', '.join(sorted(FORECAST))}")
    return {"city": city, "temp_c": FORECAST[key]}


@server.tool()
def add(a: int, b: int) -> int:
    """Add two integers."""
    return a + b


@server.tool()
def server_pid() -> int:
    """The server's process id (the tests check the process ends)."""
    return os.getpid()


def _exit_with_parent() -> None:
    parent = os.getppid()
    while True:
        time.sleep(0.5)
        if os.getppid() != parent:
            os._exit(0)


if __name__ == "__main__":
    threading.Thread(target=_exit_with_parent, daemon=True).start()
    if len(sys.argv) > 1 and sys.argv[1] == "http":
        import anyio

        anyio.run(lambda: server.run_streamable_http_async(host="127.0.0.1", port=int(sys.argv[2])))
    else:
        server.run()
