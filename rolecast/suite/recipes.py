"""A small fixed cookbook whose recipes scale to any number of servings.

Ingredient units are those ``convert_units`` understands (g, ml, tsp, tbsp, ...) or a
count (``piece``, ``clove``).
"""

from __future__ import annotations

import copy
from typing import Any

from rolecast.suite._base import ToolSpec, object_schema, round_value

__all__ = ["RECIPES", "SPECS", "get_recipe"]

RECIPES: dict[str, dict[str, Any]] = {
    "pancakes": {
        "title": "Fluffy Pancakes",
        "cuisine": "American",
        "base_servings": 4,
        "prep_minutes": 10,
        "cook_minutes": 15,
        "difficulty": "easy",
        "ingredients": [
            ("flour", 200, "g"),
            ("milk", 300, "ml"),
            ("egg", 2, "piece"),
            ("sugar", 25, "g"),
            ("butter", 30, "g"),
            ("baking powder", 2, "tsp"),
            ("salt", 0.5, "tsp"),
        ],
        "steps": [
            "Whisk the flour, sugar, baking powder and salt in a bowl.",
            "Beat in the milk, eggs and melted butter until smooth.",
            "Rest the batter for five minutes.",
            "Cook ladlefuls in a hot greased pan until bubbles form, then flip.",
        ],
        "nutrition_per_serving": {"calories": 310, "protein_g": 9, "fat_g": 10, "carbs_g": 45},
        "tags": ["breakfast", "vegetarian", "sweet"],
    },
    "tomato_soup": {
        "title": "Roasted Tomato Soup",
        "cuisine": "Italian",
        "base_servings": 4,
        "prep_minutes": 15,
        "cook_minutes": 40,
        "difficulty": "easy",
        "ingredients": [
            ("tomatoes", 800, "g"),
            ("onion", 1, "piece"),
            ("garlic", 2, "clove"),
            ("vegetable stock", 500, "ml"),
            ("olive oil", 2, "tbsp"),
            ("cream", 100, "ml"),
            ("basil", 10, "g"),
            ("salt", 1, "tsp"),
        ],
        "steps": [
            "Roast the halved tomatoes, onion and garlic with olive oil for 25 minutes.",
            "Simmer the roasted vegetables in the stock for 10 minutes.",
            "Blend until smooth, then stir in the cream and basil.",
            "Season with salt and serve hot.",
        ],
        "nutrition_per_serving": {"calories": 180, "protein_g": 4, "fat_g": 11, "carbs_g": 16},
        "tags": ["soup", "vegetarian", "gluten-free"],
    },
    "guacamole": {
        "title": "Chunky Guacamole",
        "cuisine": "Mexican",
        "base_servings": 4,
        "prep_minutes": 10,
        "cook_minutes": 0,
        "difficulty": "easy",
        "ingredients": [
            ("avocado", 3, "piece"),
            ("lime juice", 30, "ml"),
            ("red onion", 50, "g"),
            ("tomato", 1, "piece"),
            ("cilantro", 10, "g"),
            ("jalapeno", 1, "piece"),
            ("salt", 0.5, "tsp"),
        ],
        "steps": [
            "Mash the avocados with the lime juice, leaving some chunks.",
            "Fold in the finely chopped onion, tomato, cilantro and jalapeno.",
            "Season with salt and serve at once.",
        ],
        "nutrition_per_serving": {"calories": 190, "protein_g": 3, "fat_g": 16, "carbs_g": 12},
        "tags": ["dip", "vegan", "no-cook"],
    },
    "banana_bread": {
        "title": "Walnut Banana Bread",
        "cuisine": "American",
        "base_servings": 8,
        "prep_minutes": 15,
        "cook_minutes": 60,
        "difficulty": "medium",
        "ingredients": [
            ("flour", 250, "g"),
            ("banana", 3, "piece"),
            ("sugar", 150, "g"),
            ("butter", 115, "g"),
            ("egg", 2, "piece"),
            ("baking soda", 1, "tsp"),
            ("milk", 60, "ml"),
            ("walnuts", 80, "g"),
        ],
        "steps": [
            "Mash the bananas and mix in the melted butter, sugar, eggs and milk.",
            "Stir in the flour and baking soda until just combined.",
            "Fold in the chopped walnuts.",
            "Bake in a lined loaf tin at 175 C for about an hour.",
        ],
        "nutrition_per_serving": {"calories": 380, "protein_g": 6, "fat_g": 18, "carbs_g": 50},
        "tags": ["baking", "vegetarian", "snack"],
    },
    "lentil_curry": {
        "title": "Red Lentil Curry",
        "cuisine": "Indian",
        "base_servings": 6,
        "prep_minutes": 15,
        "cook_minutes": 30,
        "difficulty": "easy",
        "ingredients": [
            ("red lentils", 300, "g"),
            ("coconut milk", 400, "ml"),
            ("vegetable stock", 750, "ml"),
            ("onion", 1, "piece"),
            ("garlic", 3, "clove"),
            ("ginger", 15, "g"),
            ("curry powder", 2, "tbsp"),
            ("spinach", 150, "g"),
        ],
        "steps": [
            "Soften the chopped onion, garlic and ginger in a large pot.",
            "Add the curry powder and cook for one minute.",
            "Add the lentils, stock and coconut milk and simmer for 20 minutes.",
            "Stir in the spinach until wilted.",
        ],
        "nutrition_per_serving": {"calories": 330, "protein_g": 15, "fat_g": 14, "carbs_g": 36},
        "tags": ["dinner", "vegan", "gluten-free"],
    },
    "lemonade": {
        "title": "Mint Lemonade",
        "cuisine": "Mediterranean",
        "base_servings": 6,
        "prep_minutes": 10,
        "cook_minutes": 5,
        "difficulty": "easy",
        "ingredients": [
            ("lemon juice", 240, "ml"),
            ("sugar", 150, "g"),
            ("water", 1200, "ml"),
            ("mint", 5, "g"),
            ("ice", 500, "g"),
        ],
        "steps": [
            "Dissolve the sugar in 250 ml of hot water to make a syrup.",
            "Mix the syrup with the lemon juice and the rest of the water.",
            "Serve over ice with mint leaves.",
        ],
        "nutrition_per_serving": {"calories": 110, "protein_g": 0, "fat_g": 0, "carbs_g": 28},
        "tags": ["drink", "vegan", "summer"],
    },
}
"""Recipe name → its record at ``base_servings``; ingredients are (name, quantity, unit)."""


def get_recipe(recipe: str, servings: int | None = None) -> dict[str, Any]:
    """A recipe with its ingredient quantities scaled to ``servings`` (default: as written)."""
    record = copy.deepcopy(RECIPES[recipe])
    base = record["base_servings"]
    servings = base if servings is None else int(servings)
    ingredients = [
        {"name": name, "quantity": round_value(quantity * servings / base), "unit": unit}
        for name, quantity, unit in record.pop("ingredients")
    ]
    steps = record.pop("steps")
    return {
        "recipe": recipe,
        **record,
        "servings": servings,
        "ingredients": ingredients,
        "steps": steps,
    }


SPECS = [
    ToolSpec(
        name="get_recipe",
        description="Get a recipe with its ingredient quantities scaled to a number of servings.",
        parameters=object_schema(
            {
                "recipe": {"type": "string", "enum": list(RECIPES)},
                "servings": {"type": "integer", "minimum": 1, "maximum": 100},
            },
            ["recipe"],
        ),
        function=get_recipe,
        domain="recipe",
    ),
]
