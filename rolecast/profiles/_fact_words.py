"""Words the fact check (:mod:`rolecast.profiles.facts`) reads: unit spellings, months, ...

Each unit maps to its spellings (lower case; matched case-insensitively right after a
number, with the one-letter rules of :func:`rolecast.profiles.facts._unit_after`).
"""

from __future__ import annotations

# fmt: off
UNIT_SPELLINGS: dict[str, tuple[str, ...]] = {
    # length
    "mm": ("mm", "millimetre", "millimetres", "millimeter", "millimeters"),
    "cm": ("cm", "centimetre", "centimetres", "centimeter", "centimeters"),
    "m": ("m", "metre", "metres", "meter", "meters"),
    "km": ("km", "kms", "kilometre", "kilometres", "kilometer", "kilometers"),
    "in": ("in", "inch", "inches"),
    "ft": ("ft", "foot", "feet"),
    "yd": ("yd", "yard", "yards"),
    "mi": ("mi", "mile", "miles"),
    # mass
    "mg": ("mg", "milligram", "milligrams"),
    "g": ("g", "gr", "gram", "grams"),
    "kg": ("kg", "kgs", "kilo", "kilos", "kilogram", "kilograms"),
    "oz": ("oz", "ounce", "ounces"),
    "lb": ("lb", "lbs", "pound", "pounds"),
    # volume
    "ml": ("ml", "millilitre", "millilitres", "milliliter", "milliliters"),
    "l": ("l", "litre", "litres", "liter", "liters"),
    "tsp": ("tsp", "teaspoon", "teaspoons"),
    "tbsp": ("tbsp", "tablespoon", "tablespoons"),
    "fl_oz": ("fl oz", "fl. oz", "fluid ounce", "fluid ounces"),
    "cup": ("cup", "cups", "us cup", "us cups"),
    "pt": ("pt", "pint", "pints"),
    "qt": ("qt", "quart", "quarts"),
    "gal": ("gal", "gallon", "gallons"),
    # temperature ("degrees" alone fits any of the three)
    "celsius": ("°c", "º c", "° c", "degrees celsius", "degree celsius", "degrees c", "deg c",
                "celsius", "c"),
    "fahrenheit": ("°f", "° f", "degrees fahrenheit", "degree fahrenheit", "degrees f",
                   "deg f", "fahrenheit", "f"),
    "kelvin": ("kelvin", "kelvins", "k"),
    "degrees": ("degrees", "degree", "°"),
    # time
    "day": ("day", "days"),
    "hour": ("hour", "hours", "hr", "hrs", "h"),
    "minute": ("minute", "minutes", "min", "mins"),
    "second": ("second", "seconds", "sec", "secs", "s"),
    "week": ("week", "weeks"),
    "month": ("month", "months"),
    "year": ("year", "years"),
    # counts
    "percent": ("%", "percent", "per cent"),
    "unit": ("unit", "units"),
    "serving": ("serving", "servings"),
    "pixel": ("pixel", "pixels", "px"),
    # money after a number (symbols and codes before a number: CURRENCY_BEFORE)
    "USD": ("usd", "us dollars", "us dollar", "u.s. dollars", "dollars", "dollar", "us$"),
    "EUR": ("eur", "euro", "euros", "€"),
    "GBP": ("gbp", "british pounds", "pounds sterling", "sterling", "£"),
    "JPY": ("jpy", "yen", "japanese yen", "¥"),
    "INR": ("inr", "rupee", "rupees", "indian rupees"),
    "CHF": ("chf", "swiss francs", "francs"),
    "CAD": ("cad", "canadian dollar", "canadian dollars"),
    "AUD": ("aud", "australian dollars"),
    "CNY": ("cny", "yuan", "renminbi"),
    "THB": ("thb", "baht"),
    "MXN": ("mxn", "pesos", "mexican pesos"),
}
CURRENCY_BEFORE = {
    "$": "USD", "us$": "USD", "usd": "USD", "€": "EUR", "eur": "EUR", "£": "GBP", "gbp": "GBP",
    "¥": "JPY", "jpy": "JPY", "₹": "INR", "inr": "INR", "chf": "CHF", "cad": "CAD",
    "aud": "AUD", "cny": "CNY", "thb": "THB", "mxn": "MXN",
}
TEMPERATURES = frozenset({"celsius", "fahrenheit", "kelvin"})
NUMBER_WORDS = {
    word: n
    for n, word in enumerate(
        ("zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten",
         "eleven", "twelve", "thirteen", "fourteen", "fifteen", "sixteen", "seventeen",
         "eighteen", "nineteen", "twenty")
    )
}
MONTHS = {
    name: month
    for month, names in enumerate(
        (("january", "jan"), ("february", "feb"), ("march", "mar"), ("april", "apr"),
         ("may",), ("june", "jun"), ("july", "jul"), ("august", "aug"),
         ("september", "sep", "sept"), ("october", "oct"), ("november", "nov"),
         ("december", "dec")),
        start=1,
    )
    for name in names
}
WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
NAME_STOPWORDS = frozenset({
    "the", "a", "an", "in", "on", "at", "it", "its", "there", "this", "that", "these",
    "those", "here", "i", "we", "you", "he", "she", "they", "my", "your", "our", "and", "or",
    "but", "for", "to", "of", "from", "by", "with", "as", "is", "are", "was", "if", "yes",
    "no", "none", "not", "what", "which", "who", "when", "where", "how", "please", "today",
    "tomorrow", "yesterday", "answer", "note", "sorry", "unfortunately",
})
"""Capitalised words that open a run without being a name (``The`` Alpine Tent)."""
NAME_JOINERS = frozenset({"of", "de", "la", "le", "du", "von", "van", "der", "di", "da", "and",
                          "&"})
"""Words that may join the capitalised words of one name (Republic ``of`` China)."""
# fmt: on
