"""Calendar arithmetic and time-zone conversion; dates are always passed, never "today"."""

from __future__ import annotations

import datetime as dt
from typing import Any

from rolecast.suite._base import DATE_PATTERN, ToolCallError, ToolSpec, object_schema, parse_date

__all__ = [
    "CITY_UTC_OFFSETS",
    "SPECS",
    "add_days",
    "convert_time",
    "days_between",
    "weekday_of_date",
]

CITY_UTC_OFFSETS: dict[str, int] = {
    "Auckland": 12 * 60,
    "Sydney": 10 * 60,
    "Tokyo": 9 * 60,
    "Seoul": 9 * 60,
    "Beijing": 8 * 60,
    "Singapore": 8 * 60,
    "Bangkok": 7 * 60,
    "Dhaka": 6 * 60,
    "Kathmandu": 5 * 60 + 45,
    "Mumbai": 5 * 60 + 30,
    "Karachi": 5 * 60,
    "Dubai": 4 * 60,
    "Moscow": 3 * 60,
    "Nairobi": 3 * 60,
    "Cairo": 2 * 60,
    "Johannesburg": 2 * 60,
    "Berlin": 1 * 60,
    "Paris": 1 * 60,
    "Lagos": 1 * 60,
    "London": 0,
    "Reykjavik": 0,
    "Sao Paulo": -3 * 60,
    "New York": -5 * 60,
    "Chicago": -6 * 60,
    "Denver": -7 * 60,
    "Los Angeles": -8 * 60,
    "Honolulu": -10 * 60,
}
"""Fixed standard-time UTC offsets in minutes; daylight saving time is ignored."""

_TIME_PATTERN = r"^([01]\d|2[0-3]):[0-5]\d$"


def _format_offset(minutes: int) -> str:
    sign = "+" if minutes >= 0 else "-"
    hours, rest = divmod(abs(minutes), 60)
    return f"{sign}{hours:02d}:{rest:02d}"


def weekday_of_date(date: str) -> dict[str, Any]:
    """The weekday of a date."""
    day = parse_date(date)
    return {"date": date, "weekday": day.strftime("%A")}


def days_between(start_date: str, end_date: str) -> dict[str, Any]:
    """Days from ``start_date`` to ``end_date`` (negative when the end comes first)."""
    days = (parse_date(end_date, "end_date") - parse_date(start_date, "start_date")).days
    return {"start_date": start_date, "end_date": end_date, "days": days}


def add_days(date: str, days: int) -> dict[str, Any]:
    """The date ``days`` days after ``date`` (before it when negative)."""
    try:
        result = parse_date(date) + dt.timedelta(days=int(days))
    except OverflowError:
        raise ToolCallError(f"{date} plus {days} days is outside the calendar") from None
    return {"date": date, "days": int(days), "result_date": result.isoformat()}


def convert_time(date: str, time: str, from_city: str, to_city: str) -> dict[str, Any]:
    """The local date and time in ``to_city`` when it is ``date time`` in ``from_city``."""
    local = dt.datetime.combine(parse_date(date), dt.time.fromisoformat(time))
    shift = CITY_UTC_OFFSETS[to_city] - CITY_UTC_OFFSETS[from_city]
    converted = local + dt.timedelta(minutes=shift)
    return {
        "from_city": from_city,
        "from_date": date,
        "from_time": time,
        "from_utc_offset": _format_offset(CITY_UTC_OFFSETS[from_city]),
        "to_city": to_city,
        "to_date": converted.date().isoformat(),
        "to_time": converted.strftime("%H:%M"),
        "to_utc_offset": _format_offset(CITY_UTC_OFFSETS[to_city]),
    }


_DATE = {"type": "string", "pattern": DATE_PATTERN, "description": "YYYY-MM-DD"}
_CITY = {"type": "string", "enum": list(CITY_UTC_OFFSETS)}

SPECS = [
    ToolSpec(
        name="weekday_of_date",
        description="Tell which day of the week a date falls on.",
        parameters=object_schema({"date": _DATE}, ["date"]),
        function=weekday_of_date,
        domain="calendar",
    ),
    ToolSpec(
        name="days_between",
        description="Count the days from a start date to an end date.",
        parameters=object_schema(
            {"start_date": _DATE, "end_date": _DATE}, ["start_date", "end_date"]
        ),
        function=days_between,
        domain="calendar",
    ),
    ToolSpec(
        name="add_days",
        description="Add a number of days to a date (negative to go back).",
        parameters=object_schema(
            {"date": _DATE, "days": {"type": "integer", "minimum": -36500, "maximum": 36500}},
            ["date", "days"],
        ),
        function=add_days,
        domain="calendar",
    ),
    ToolSpec(
        name="convert_time",
        description="Convert a local date and time in one city to the local time in another city.",
        parameters=object_schema(
            {
                "date": _DATE,
                "time": {
                    "type": "string",
                    "pattern": _TIME_PATTERN,
                    "description": "HH:MM, 24-hour",
                },
                "from_city": _CITY,
                "to_city": _CITY,
            },
            ["date", "time", "from_city", "to_city"],
        ),
        function=convert_time,
        domain="timezone",
    ),
]
