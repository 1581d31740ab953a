"""A weather-station archive: one reading per day, for a fixed set of cities and years.

Readings are synthetic but plausible, computed from each city's climate (seasonal
cycle, daily range, wet-day chance) plus stable hash noise, so a month always returns
the same table. A month's response is large on purpose.
"""

from __future__ import annotations

import calendar
import datetime as dt
import math
from typing import Any, NamedTuple

from rolecast.suite._base import ToolCallError, ToolSpec, noise, object_schema

__all__ = ["FIRST_YEAR", "LAST_YEAR", "SPECS", "STATIONS", "weather_archive"]

FIRST_YEAR, LAST_YEAR = 2015, 2024
"""The archive covers these years, inclusive."""


class _Climate(NamedTuple):
    station_id: str
    station_name: str
    latitude: float
    longitude: float
    elevation_m: int
    mean_c: float
    amplitude_c: float
    warmest_day: int  # day of year at the peak of the seasonal cycle
    daily_range_c: float
    wet_chance: float
    wet_season_chance: float  # added at the wet season's peak
    wet_peak_day: int
    rain_mm: float  # mean amount on a wet day
    humidity_pct: int
    wind_kph: float


# fmt: off
STATIONS: dict[str, _Climate] = {
    "London": _Climate("UK-03772", "Heathrow", 51.48, -0.45, 25,
                       11.5, 7.0, 200, 8.0, 0.45, 0.0, 1, 6.0, 78, 16.0),
    "Tokyo": _Climate("JP-47662", "Otemachi", 35.69, 139.75, 25,
                      16.5, 10.5, 215, 7.0, 0.30, 0.15, 190, 12.0, 65, 12.0),
    "New York": _Climate("US-94728", "Central Park", 40.78, -73.97, 40,
                         13.0, 12.5, 200, 8.0, 0.33, 0.0, 1, 10.0, 63, 17.0),
    "Sydney": _Climate("AU-66062", "Observatory Hill", -33.86, 151.21, 39,
                       18.5, 5.0, 20, 7.0, 0.35, 0.0, 1, 10.0, 65, 18.0),
    "Cairo": _Climate("EG-62366", "Cairo Airport", 30.12, 31.41, 74,
                      22.5, 7.5, 200, 12.0, 0.03, 0.0, 1, 2.0, 55, 14.0),
    "Mumbai": _Climate("IN-43003", "Santacruz", 19.09, 72.85, 14,
                       27.5, 2.5, 130, 7.0, 0.05, 0.85, 200, 25.0, 75, 13.0),
    "Reykjavik": _Climate("IS-04030", "Reykjavik", 64.13, -21.90, 52,
                          5.0, 6.0, 205, 5.0, 0.50, 0.0, 1, 5.0, 78, 22.0),
    "Sao Paulo": _Climate("BR-83781", "Mirante de Santana", -23.50, -46.62, 792,
                          20.0, 3.5, 30, 9.0, 0.30, 0.30, 30, 12.0, 75, 10.0),
}
# fmt: on
"""City → its station and climate, the source of every reading."""


def _cycle(day: dt.date, peak: int) -> float:
    return math.cos(2 * math.pi * (day.timetuple().tm_yday - peak) / 365.25)


def _conditions(key: str, max_c: float, rain_mm: float) -> str:
    if rain_mm > 0:
        if max_c <= 1:
            return "snow"
        return "heavy rain" if rain_mm >= 15 else "rain" if rain_mm >= 3 else "drizzle"
    sky = noise(key, "sky")
    return "sunny" if sky < 0.4 else "partly cloudy" if sky < 0.75 else "cloudy"


def _reading(city: str, climate: _Climate, day: dt.date) -> dict[str, Any]:
    key = f"{city}|{day.isoformat()}"
    mean = climate.mean_c + climate.amplitude_c * _cycle(day, climate.warmest_day)
    mean += (noise(key, "temp") - 0.5) * 6
    half_range = climate.daily_range_c / 2 * (0.8 + 0.4 * noise(key, "range"))
    max_c, min_c = round(mean + half_range, 1), round(mean - half_range, 1)
    chance = climate.wet_chance + climate.wet_season_chance * max(
        0.0, _cycle(day, climate.wet_peak_day)
    )
    wet = noise(key, "wet") < chance
    rain_mm = round(-climate.rain_mm * math.log(1 - noise(key, "rain")), 1) if wet else 0.0
    if wet:
        rain_mm = max(rain_mm, 0.1)
    humidity = climate.humidity_pct + (10 if wet else -5) + (noise(key, "humidity") - 0.5) * 20
    return {
        "date": day.isoformat(),
        "temp_max_c": max_c + 0.0,
        "temp_min_c": min_c + 0.0,
        "precipitation_mm": rain_mm,
        "humidity_pct": int(min(100, max(15, humidity))),
        "wind_kph": round(climate.wind_kph * (0.5 + noise(key, "wind")), 1),
        "conditions": _conditions(key, max_c, rain_mm),
    }


def weather_archive(city: str, month: str) -> dict[str, Any]:
    """Daily readings of ``city``'s station for ``month`` (``YYYY-MM``)."""
    year, month_number = (int(part) for part in month.split("-"))
    if not FIRST_YEAR <= year <= LAST_YEAR:
        raise ToolCallError(
            f"month {month!r} is outside the archive; it covers {FIRST_YEAR} to {LAST_YEAR}"
        )
    climate = STATIONS[city]
    days = calendar.monthrange(year, month_number)[1]
    return {
        "city": city,
        "month": month,
        "station": {
            "id": climate.station_id,
            "name": climate.station_name,
            "latitude": climate.latitude,
            "longitude": climate.longitude,
            "elevation_m": climate.elevation_m,
        },
        "readings": [
            _reading(city, climate, dt.date(year, month_number, number))
            for number in range(1, days + 1)
        ],
    }


SPECS = [
    ToolSpec(
        name="weather_archive",
        description="Get a city's daily weather readings for one month of a past year.",
        parameters=object_schema(
            {
                "city": {"type": "string", "enum": list(STATIONS)},
                "month": {
                    "type": "string",
                    "pattern": r"^\d{4}-(0[1-9]|1[0-2])$",
                    "description": "YYYY-MM",
                },
            },
            ["city", "month"],
        ),
        function=weather_archive,
        domain="weather",
    ),
]
