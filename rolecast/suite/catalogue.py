"""A fixed product catalogue, generated from word lists and stable hashes.

Searches return every product of a category with all its fields, on purpose: the
response is large, so the extractor role has something real to cut down.
"""

from __future__ import annotations

import copy
import functools
from typing import Any

from rolecast.suite._base import ToolCallError, ToolSpec, money, noise, object_schema

__all__ = ["CATEGORIES", "SPECS", "catalogue", "get_product", "search_products"]

# category → (adjectives, [(noun, base price USD, base weight kg, (length, width, height) cm)],
#             materials, tag pool)
_CATEGORY_WORDS: dict[
    str, tuple[list[str], list[tuple[str, float, float, tuple[float, ...]]], list[str], list[str]]
] = {
    "kitchen": (
        ["Classic", "Nordic", "Compact", "Pro", "Rustic"],
        [
            ("Chef Knife", 48.0, 0.25, (33, 5, 2)),
            ("Cast Iron Skillet", 39.0, 2.6, (48, 28, 6)),
            ("Pour-Over Kettle", 34.0, 0.9, (28, 16, 22)),
            ("Cutting Board", 22.0, 1.4, (45, 30, 2)),
            ("Stand Mixer", 289.0, 9.5, (36, 24, 36)),
        ],
        ["stainless steel", "cast iron", "bamboo", "ceramic", "walnut"],
        ["cooking", "baking", "dishwasher-safe", "gift", "home"],
    ),
    "electronics": (
        ["Ultra", "Smart", "Mini", "Wireless", "Studio"],
        [
            ("Headphones", 129.0, 0.3, (20, 17, 8)),
            ("Bluetooth Speaker", 79.0, 0.7, (18, 8, 8)),
            ("E-Reader", 139.0, 0.2, (16, 11, 1)),
            ("Webcam", 59.0, 0.15, (9, 5, 5)),
            ("Power Bank", 35.0, 0.35, (15, 7, 2)),
        ],
        ["aluminium", "plastic", "glass", "silicone", "carbon fibre"],
        ["audio", "portable", "usb-c", "battery", "travel"],
    ),
    "outdoor": (
        ["Alpine", "Trail", "Summit", "Coastal", "Ranger"],
        [
            ("Tent", 219.0, 2.8, (55, 20, 20)),
            ("Sleeping Bag", 119.0, 1.3, (40, 25, 25)),
            ("Hiking Backpack", 149.0, 1.5, (70, 32, 25)),
            ("Headlamp", 29.0, 0.1, (8, 5, 4)),
            ("Camping Stove", 64.0, 0.4, (14, 14, 9)),
        ],
        ["ripstop nylon", "polyester", "titanium", "aluminium", "canvas"],
        ["camping", "hiking", "waterproof", "lightweight", "travel"],
    ),
    "office": (
        ["Ergo", "Executive", "Slim", "Modular", "Studio"],
        [
            ("Desk Lamp", 45.0, 1.2, (40, 15, 45)),
            ("Office Chair", 249.0, 14.0, (65, 65, 110)),
            ("Notebook Set", 18.0, 0.6, (21, 15, 3)),
            ("Monitor Stand", 42.0, 2.1, (55, 22, 10)),
            ("Fountain Pen", 36.0, 0.05, (14, 2, 2)),
        ],
        ["oak", "steel", "recycled paper", "mesh", "brass"],
        ["ergonomic", "desk", "writing", "gift", "work-from-home"],
    ),
    "toys": (
        ["Happy", "Galaxy", "Wooden", "Turbo", "Puzzle"],
        [
            ("Building Blocks", 27.0, 0.9, (30, 20, 10)),
            ("Racing Car", 24.0, 0.4, (25, 12, 8)),
            ("Board Game", 32.0, 1.1, (30, 30, 7)),
            ("Plush Bear", 19.0, 0.3, (30, 20, 15)),
            ("Kite", 21.0, 0.25, (90, 60, 1)),
        ],
        ["wood", "plastic", "cotton", "cardboard", "polyester"],
        ["kids", "educational", "family", "gift", "outdoor play"],
    ),
    "garden": (
        ["Evergreen", "Sunny", "Heritage", "Urban", "Meadow"],
        [
            ("Watering Can", 26.0, 0.8, (45, 18, 30)),
            ("Pruning Shears", 31.0, 0.3, (21, 6, 2)),
            ("Raised Planter", 89.0, 7.5, (80, 40, 30)),
            ("Garden Hose", 44.0, 2.4, (35, 35, 12)),
            ("Bird Feeder", 23.0, 0.7, (25, 15, 15)),
        ],
        ["galvanised steel", "cedar", "recycled plastic", "rubber", "terracotta"],
        ["plants", "watering", "balcony", "wildlife", "gift"],
    ),
}

CATEGORIES = list(_CATEGORY_WORDS)
"""Product categories, as the ``category`` argument of ``search_products`` accepts them."""

_BRANDS = ["Acme", "Brightline", "Corvid", "Driftwood", "Everfield", "Fjord", "Granite", "Halcyon"]
_COLORS = ["black", "white", "graphite", "forest green", "navy", "red", "sand", "silver"]
_SUPPLIERS = [
    ("S-01", "Northwind Traders", "Sweden", 6),
    ("S-02", "Pacific Goods Co.", "Japan", 12),
    ("S-03", "Lakeside Manufacturing", "Canada", 8),
    ("S-04", "Delta Import House", "Germany", 5),
    ("S-05", "Sunrise Works", "Vietnam", 18),
    ("S-06", "Meridian Supply", "Mexico", 9),
    ("S-07", "Harbor & Field", "Portugal", 7),
    ("S-08", "Blue Ridge Outfitters", "United States", 3),
]
_WARRANTY_MONTHS = [6, 12, 24, 36]


def _pick(options: list[Any], *key: object) -> Any:
    return options[int(noise(*key) * len(options))]


def _product(number: int, category: str, adjective: str, noun: tuple[Any, ...]) -> dict[str, Any]:
    _, _, materials, tag_pool = _CATEGORY_WORDS[category]
    name, base_price, base_weight, base_dims = noun
    pid = f"P-{number}"
    stock = 0 if noise(pid, "sold-out") < 0.12 else 1 + int(noise(pid, "stock") * 240)
    rating = round(3.0 + 2.0 * noise(pid, "rating"), 1)
    supplier = _pick(_SUPPLIERS, pid, "supplier")
    first_tag = int(noise(pid, "tag") * len(tag_pool))
    tags = [tag_pool[first_tag], tag_pool[(first_tag + 2) % len(tag_pool)]]
    if rating >= 4.6:
        tags.append("top-rated")
    return {
        "id": pid,
        "sku": f"{category[:3].upper()}-{number % 1000:04d}",
        "name": f"{adjective} {name}",
        "category": category,
        "brand": _pick(_BRANDS, pid, "brand"),
        "price_usd": money(base_price * (0.7 + 0.6 * noise(pid, "price"))),
        "stock": stock,
        "rating": rating,
        "review_count": 5 + int(noise(pid, "reviews") * 2000),
        "weight_kg": round(base_weight * (0.8 + 0.4 * noise(pid, "weight")), 2),
        "dimensions_cm": {
            axis: round(size * (0.9 + 0.2 * noise(pid, axis)), 1)
            for axis, size in zip(("length", "width", "height"), base_dims, strict=True)
        },
        "color": _pick(_COLORS, pid, "color"),
        "material": _pick(materials, pid, "material"),
        "warranty_months": _pick(_WARRANTY_MONTHS, pid, "warranty"),
        "supplier": {
            "id": supplier[0],
            "name": supplier[1],
            "country": supplier[2],
            "lead_time_days": supplier[3],
        },
        "tags": tags,
    }


@functools.cache
def _catalogue() -> tuple[dict[str, Any], ...]:
    products = []
    number = 1001
    for category, (adjectives, nouns, _, _) in _CATEGORY_WORDS.items():
        for noun in nouns:
            for adjective in adjectives:
                products.append(_product(number, category, adjective, noun))
                number += 1
    return tuple(products)


def catalogue() -> list[dict[str, Any]]:
    """Every product (a fresh copy), ordered by id."""
    return copy.deepcopy(list(_catalogue()))


def search_products(
    category: str,
    max_price_usd: float | None = None,
    min_rating: float | None = None,
    in_stock_only: bool = False,
) -> dict[str, Any]:
    """The products of a category, optionally filtered by price, rating and stock."""
    products = [
        copy.deepcopy(product)  # only the matches are copied (building the suite calls this)
        for product in _catalogue()
        if product["category"] == category
        and (max_price_usd is None or product["price_usd"] <= max_price_usd)
        and (min_rating is None or product["rating"] >= min_rating)
        and (not in_stock_only or product["stock"] > 0)
    ]
    return {
        "category": category,
        "filters": {
            "max_price_usd": max_price_usd,
            "min_rating": min_rating,
            "in_stock_only": in_stock_only,
        },
        "count": len(products),
        "products": products,
    }


def get_product(product_id: str) -> dict[str, Any]:
    """One product's full record, with a short description."""
    found = next((item for item in _catalogue() if item["id"] == product_id), None)
    if found is None:
        first, last = _catalogue()[0]["id"], _catalogue()[-1]["id"]
        raise ToolCallError(f"unknown product_id {product_id!r}; ids run from {first} to {last}")
    product = copy.deepcopy(found)
    product["description"] = (
        f"{product['name']} by {product['brand']}, made of {product['material']}, "
        f"in {product['color']}, with a {product['warranty_months']}-month warranty."
    )
    return product


SPECS = [
    ToolSpec(
        name="search_products",
        description="List the catalogue's products in a category, with optional filters.",
        parameters=object_schema(
            {
                "category": {"type": "string", "enum": CATEGORIES},
                "max_price_usd": {"type": "number", "minimum": 0},
                "min_rating": {"type": "number", "minimum": 0, "maximum": 5},
                "in_stock_only": {"type": "boolean", "default": False},
            },
            ["category"],
        ),
        function=search_products,
        domain="catalogue",
    ),
    ToolSpec(
        name="get_product",
        description="Get one product's full details by its id (like P-1001).",
        parameters=object_schema(
            {"product_id": {"type": "string", "pattern": r"^P-\d{4}$"}}, ["product_id"]
        ),
        function=get_product,
        domain="catalogue",
    ),
]
