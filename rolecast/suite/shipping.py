"""Parcel shipping quotes from a fixed tariff: a base fee plus a fee per started half kilo."""

from __future__ import annotations

import math
from typing import Any

from rolecast.suite._base import ToolSpec, money, object_schema

__all__ = ["EXPRESS_MULTIPLIER", "SPECS", "ZONE_TARIFFS", "shipping_cost"]

ZONE_TARIFFS: dict[str, tuple[float, float, int]] = {
    "domestic": (5.00, 1.20, 4),
    "canada_mexico": (9.50, 2.10, 7),
    "europe": (14.00, 3.40, 10),
    "asia_pacific": (16.00, 3.90, 12),
    "rest_of_world": (19.00, 4.60, 15),
}
"""Zone → (base fee USD, fee per started 0.5 kg USD, standard delivery days)."""

EXPRESS_MULTIPLIER = 1.75
"""Express costs this many times the standard price and takes a third of the days."""


def shipping_cost(weight_kg: float, zone: str, service: str = "standard") -> dict[str, Any]:
    """Quote shipping a parcel of ``weight_kg`` to ``zone``."""
    base, per_half_kilo, days = ZONE_TARIFFS[zone]
    halves = max(1, math.ceil(round(weight_kg * 2, 9)))
    cost = base + per_half_kilo * halves
    if service == "express":
        cost *= EXPRESS_MULTIPLIER
        days = max(1, days // 3)
    return {
        "weight_kg": weight_kg,
        "billable_weight_kg": halves / 2,
        "zone": zone,
        "service": service,
        "cost_usd": money(cost),
        "delivery_days": days,
    }


SPECS = [
    ToolSpec(
        name="shipping_cost",
        description="Quote the cost in USD of shipping a parcel of a given weight to a zone.",
        parameters=object_schema(
            {
                "weight_kg": {"type": "number", "exclusiveMinimum": 0, "maximum": 70},
                "zone": {"type": "string", "enum": list(ZONE_TARIFFS)},
                "service": {
                    "type": "string",
                    "enum": ["standard", "express"],
                    "default": "standard",
                },
            },
            ["weight_kg", "zone"],
        ),
        function=shipping_cost,
        domain="shipping",
    ),
]
