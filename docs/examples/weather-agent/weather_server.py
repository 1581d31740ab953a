"""An MCP server with one tool, get_weather (the official SDK's MCPServer, over stdio).

rolecast starts it as a subprocess (see rolecast.yaml), lists its tools, calls them and
stops it when the run ends.
"""

from mcp.server.mcpserver import MCPServer

server = MCPServer("weather")

TEMPERATURES = {"berlin": 5, "paris": 12, "oslo": -3, "madrid": 19}


@server.tool()
def get_weather(city: str) -> dict:
    """Current temperature of a city in degrees Celsius."""
    key = city.strip().lower()
    if key not in TEMPERATURES:
        raise ValueError(f"no weather for {city!r}")
    return {"city": city, "temp_c": TEMPERATURES[key]}


if __name__ == "__main__":
    server.run()  # stdio
