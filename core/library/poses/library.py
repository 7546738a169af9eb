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
        raise ValidationFailed("library.template_not_object", field="template")
    ident = t.get("id", "?")
    for key, kind in FIELDS.items():
        if not isinstance(t.get(key), kind):
            raise ValidationFailed("library.field_type", field=key, template=ident, key=key, type_name=kind.__name__)
    for key, allowed in (("category", CATEGORIES), ("product_placement", PLACEMENTS),
                         ("difficulty", DIFFICULTIES), ("gender", GENDERS), ("view", VIEWS)):
        if t[key] not in allowed:
            raise ValidationFailed("library.unknown_value", field=key, template=ident, field_name=key, value=t[key])
    if not all(isinstance(tag, str) for tag in t["tags"]):
        raise ValidationFailed("library.tags_not_strings", field="tags", template=ident)
    parse_aspect(t["aspect"])
    Pose.from_json(t["keypoints"])
    return t


def load_library(path: str | Path | None = None) -> list[dict[str, Any]]:
    """All templates of the library file, validated, in file order (a fresh list each call)."""
    path = Path(path or LIBRARY_PATH)
    try:
        doc = json.loads(Path(path).read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ValidationFailed("library.file_missing", field="library", path=str(path)) from None
    templates = doc.get("templates") if isinstance(doc, dict) else None
    if not isinstance(templates, list):
        raise ValidationFailed("library.no_templates_list", field="library")
    ids = set()
    for t in templates:
        check_template(t)
        if t["id"] in ids:
            raise ValidationFailed("library.duplicate_id", field="library", id=t["id"])
        ids.add(t["id"])
    return templates
