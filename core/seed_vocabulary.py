"""The seed's API vocabulary, accepted as aliases of ours (issue 19).

Clients written from the seed's endpoint table send values our API had no word for (ageRange "young",
placement "hand-held", poseDistribution {"standing": 10}, fonts as {"family", "weights"} objects) and got 422s.
Each field that takes one of our vocabularies accepts the seed's words too, mapped here ONCE to ours on the way
in; what is stored and answered is always our own value, so the rest of the product (prompts, planning, the
library's filters, analytics) knows one vocabulary. The README's "The seed's API" table is this module's ALIASES
(tests/test_seed_api.py holds the two to each other).

Validation with an alias: `Annotated[OurLiteral, alias_of("avatar.ageRange")]` (a pydantic BeforeValidator); our
own values pass unchanged, anything else fails against OUR literal, whose message lists our values.
"""
from __future__ import annotations

from typing import Any

from pydantic import BeforeValidator

# field -> {the seed's word: ours}. Chosen so that the seed's word means what ours does:
ALIASES: dict[str, dict[str, str]] = {
    # the seed's three age bands over our five: young adults, adults, the mature end (45-54 rather than 55+, the
    # middle of "mature" for a model in product photos)
    "avatar.ageRange": {"young": "18-24", "adult": "25-34", "mature": "45-54"},
    # the seed's broad words; "asian" is Southeast Asian: the first market is Indonesia, and the prompt's wording
    # for it ("Southeast Asian") is what an Indonesian shop means by it
    "avatar.ethnicity": {"asian": "southeast-asian", "caucasian": "white"},
    # "hand-held": the seed's one hand placement; ours has a hand to draw it in (the right, as a photo is shot)
    "product.placement": {"hand-held": "hand-right"},
    "template.productPlacement": {"hand-held": "hand-right"},
    "template.difficulty": {"simple": "easy", "complex": "hard"},
    # the seed's pose kinds -> the library's categories (poseDistribution keys, the library's category filter)
    "template.category": {
        "standing": "fashion-standing", "walking": "fashion-walking", "sitting": "sitting",
        "holding": "product-holding", "product": "product-holding", "skincare": "skincare-application",
        "applying": "skincare-application", "closeup": "upper-body", "close-up": "upper-body",
        "portrait": "upper-body", "lifestyle": "lifestyle",
    },
}


def ours(field: str, value: Any) -> Any:
    """The value in our vocabulary: the seed's word mapped, anything else as it came (validated after)."""
    if isinstance(value, str):
        return ALIASES[field].get(value.strip().lower(), value)
    return value


def alias_of(field: str) -> BeforeValidator:
    """A pydantic BeforeValidator that maps the seed's words for `field` to ours before our own check."""
    if field not in ALIASES:
        raise KeyError(field)
    return BeforeValidator(lambda v: ours(field, v))


def distribution(counts: Any) -> Any:
    """A poseDistribution with the seed's keys mapped to categories; two keys meaning one category add up
    ({"standing": 4, "fashion-standing": 2} is 6 of fashion-standing). Not a dict: returned for pydantic to
    refuse."""
    if not isinstance(counts, dict):
        return counts
    out: dict = {}
    for key, n in counts.items():
        key = ours("template.category", key)
        out[key] = out[key] + n if key in out and isinstance(n, int) and isinstance(out[key], int) else n
    return out
