"""Python tools for rolecast: functions with JSON-Schema parameters, listed in TOOLS."""

from rolecast.tools import tool

AGENDA: list[dict[str, str]] = []


@tool(
    {
        "type": "object",
        "properties": {
            "title": {"type": "string", "description": "What to do."},
            "day": {"type": "string", "description": "Weekday, e.g. Monday."},
        },
        "required": ["title", "day"],
    }
)
def add_agenda(title: str, day: str) -> dict:
    """Add an item to the user's agenda on a weekday."""
    AGENDA.append({"title": title, "day": day})
    return {"added": title, "day": day, "items": len(AGENDA)}


TOOLS = [add_agenda]
