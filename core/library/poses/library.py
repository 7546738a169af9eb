"""The shipped template library (assets/poses/library.json): its vocabulary and a checked loader.

The app seeds the database from `load_library()` on first start and on upgrade; template ids are
stable (category-subcategory-view-NNN), so an upsert by id never duplicates.
"""
from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from core.errors import ValidationFailed
from core.library.poses.keypoints import Pose, parse_aspect
from core.settings import ASSETS_DIR

LIBRARY_PATH = ASSETS_DIR / "poses" / "library.json"
CATEGORIES = ("fashion-standing", "fashion-walking", "sitting", "skincare-application", "product-holding",
              "lifestyle", "upper-body")
PLACEMENTS = ("hand-left", "hand-right", "both-hands", "worn", "table", "displayed", "none")
DIFFICULTIES = ("easy", "medium", "hard")
GENDERS = ("female", "male", "unisex")
VIEWS = ("front", "three-quarter-left", "three-quarter-right", "side-left", "side-right")
FIELDS = {"id": str, "name": str, "category": str, "subcategory": str, "view": str, "difficulty": str,
          "tags": list, "gender": str, "product_placement": str, "description": str, "aspect": str,
          "keypoints": list}


def check_template(t: Any) -> dict[str, Any]:
    """Validate one library entry; returns it unchanged or raises ValidationFailed."""
    if not isinstance(t, dict):
        raise ValidationFailed("A template must be an object.", field="template")
    ident = t.get("id", "?")
    for key, kind in FIELDS.items():
        if not isinstance(t.get(key), kind):
            raise ValidationFailed(f"Template {ident}: '{key}' must be a {kind.__name__}.", field=key)
    for key, allowed in (("category", CATEGORIES), ("product_placement", PLACEMENTS),
                         ("difficulty", DIFFICULTIES), ("gender", GENDERS), ("view", VIEWS)):
        if t[key] not in allowed:
            raise ValidationFailed(f"Template {ident}: unknown {key} {t[key]!r}.", field=key)
    if not all(isinstance(tag, str) for tag in t["tags"]):
        raise ValidationFailed(f"Template {ident}: tags must be strings.", field="tags")
    parse_aspect(t["aspect"])
    Pose.from_json(t["keypoints"])
    return t


def load_library(path: str | Path | None = None) -> list[dict[str, Any]]:
    """All templates of the library file, validated, in file order (a fresh list each call)."""
    path = Path(path or LIBRARY_PATH)
    try:
        doc = json.loads(Path(path).read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ValidationFailed(f"Pose library not found at {path}; run python -m core.library.poses.generator "
                               f"--out assets/poses/library.json", field="library") from None
    templates = doc.get("templates") if isinstance(doc, dict) else None
    if not isinstance(templates, list):
        raise ValidationFailed("The pose library has no 'templates' list.", field="library")
    ids = set()
    for t in templates:
        check_template(t)
        if t["id"] in ids:
            raise ValidationFailed(f"Duplicate template id {t['id']}.", field="library")
        ids.add(t["id"])
    return templates
