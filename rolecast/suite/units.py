"""Conversions with fixed, exact factors: physical units and currencies."""

from __future__ import annotations

from typing import Any

from rolecast.suite._base import ToolCallError, ToolSpec, money, object_schema, round_value

__all__ = ["CURRENCY_PER_USD", "SPECS", "UNIT_FACTORS", "convert_currency", "convert_units"]

_GALLON_L = 3.785411784
UNIT_FACTORS: dict[str, tuple[str, float]] = {
    # length, in metres (international yard and pound agreement, 1959)
    "mm": ("length", 0.001),
    "cm": ("length", 0.01),
    "m": ("length", 1.0),
    "km": ("length", 1000.0),
    "in": ("length", 0.0254),
    "ft": ("length", 0.3048),
    "yd": ("length", 0.9144),
    "mi": ("length", 1609.344),
    # mass, in grams
    "mg": ("mass", 0.001),
    "g": ("mass", 1.0),
    "kg": ("mass", 1000.0),
    "oz": ("mass", 28.349523125),
    "lb": ("mass", 453.59237),
    # volume, in litres (US customary)
    "ml": ("volume", 0.001),
    "l": ("volume", 1.0),
    "tsp": ("volume", _GALLON_L / 768),
    "tbsp": ("volume", _GALLON_L / 256),
    "fl_oz": ("volume", _GALLON_L / 128),
    "cup": ("volume", _GALLON_L / 16),
    "pt": ("volume", _GALLON_L / 8),
    "qt": ("volume", _GALLON_L / 4),
    "gal": ("volume", _GALLON_L),
}
"""Unit → (quantity, factor to the quantity's base unit). Temperatures are handled apart."""

_TEMPERATURES = ("celsius", "fahrenheit", "kelvin")

CURRENCY_PER_USD: dict[str, float] = {
    "USD": 1.0,
    "EUR": 0.92,
    "GBP": 0.79,
    "JPY": 151.5,
    "CHF": 0.88,
    "CAD": 1.36,
    "AUD": 1.52,
    "INR": 83.3,
    "CNY": 7.24,
    "MXN": 17.1,
    "SEK": 10.6,
    "BRL": 5.05,
}
"""Fixed reference rates: units of each currency per one US dollar."""


def _to_kelvin(value: float, unit: str) -> float:
    if unit == "celsius":
        return value + 273.15
    if unit == "fahrenheit":
        return (value - 32) * 5 / 9 + 273.15
    return value


def _from_kelvin(value: float, unit: str) -> float:
    if unit == "celsius":
        return value - 273.15
    if unit == "fahrenheit":
        return (value - 273.15) * 9 / 5 + 32
    return value


def _quantity(unit: str) -> str:
    return "temperature" if unit in _TEMPERATURES else UNIT_FACTORS[unit][0]


def convert_units(value: float, from_unit: str, to_unit: str) -> dict[str, Any]:
    """Convert a length, mass, volume or temperature between units."""
    quantity = _quantity(from_unit)
    if _quantity(to_unit) != quantity:
        raise ToolCallError(
            f"cannot convert {from_unit} ({quantity}) to {to_unit} ({_quantity(to_unit)}); "
            "both units must measure the same quantity"
        )
    if quantity == "temperature":
        kelvin = _to_kelvin(value, from_unit)
        if kelvin < 0:
            raise ToolCallError(f"{value} {from_unit} is below absolute zero")
        result = _from_kelvin(kelvin, to_unit)
    else:
        result = value * UNIT_FACTORS[from_unit][1] / UNIT_FACTORS[to_unit][1]
    return {
        "value": value,
        "from_unit": from_unit,
        "to_unit": to_unit,
        "quantity": quantity,
        "result": round_value(result),
    }


def convert_currency(amount: float, from_currency: str, to_currency: str) -> dict[str, Any]:
    """Convert money between currencies at the fixed reference rates."""
    rate = CURRENCY_PER_USD[to_currency] / CURRENCY_PER_USD[from_currency]
    return {
        "amount": amount,
        "from_currency": from_currency,
        "to_currency": to_currency,
        "rate": round(rate, 6),
        "result": money(amount * rate),
    }


_UNITS = [*UNIT_FACTORS, *_TEMPERATURES]
_CURRENCIES = list(CURRENCY_PER_USD)

SPECS = [
    ToolSpec(
        name="convert_units",
        description="Convert a length, mass, volume or temperature value from one unit to another.",
        parameters=object_schema(
            {
                "value": {"type": "number"},
                "from_unit": {"type": "string", "enum": _UNITS},
                "to_unit": {"type": "string", "enum": _UNITS},
            },
            ["value", "from_unit", "to_unit"],
        ),
        function=convert_units,
        domain="units",
    ),
    ToolSpec(
        name="convert_currency",
        description="Convert an amount of money between currencies at fixed reference rates.",
        parameters=object_schema(
            {
                "amount": {"type": "number", "minimum": 0},
                "from_currency": {"type": "string", "enum": _CURRENCIES},
                "to_currency": {"type": "string", "enum": _CURRENCIES},
            },
            ["amount", "from_currency", "to_currency"],
        ),
        function=convert_currency,
        domain="currency",
    ),
]
