"""Export a selection of templates as OpenPose JSON and as a ZIP of skeleton PNGs.

A selection is any iterable of templates: dicts (library entries, API payloads) or objects with
`id` and `keypoints` / `keypoints_json` attributes (database rows), or (id, pose) pairs.
"""
from __future__ import annotations

import io
import json
import re
import zipfile
from typing import Any, Iterable

from core.errors import ValidationFailed
from core.library.poses.keypoints import Pose, as_pose
from core.library.poses.render import _check_size, render_preview

MAX_EXPORT = 5000


def _items(selection: Iterable[Any]) -> list[tuple[str, Pose]]:
    out = []
    for item in selection:
        if isinstance(item, tuple) and len(item) == 2:
            ident, kps = item
        elif isinstance(item, dict):
            ident, kps = item.get("id"), item.get("keypoints", item.get("keypoints_json"))
        else:
            ident = getattr(item, "id", None)
            kps = getattr(item, "keypoints", None) or getattr(item, "keypoints_json", None)
        if ident is None or kps is None:
            raise ValidationFailed("poses.export_incomplete", field="selection")
        out.append((str(ident), as_pose(kps)))
        if len(out) > MAX_EXPORT:
            raise ValidationFailed("poses.export_too_many", field="selection", most=MAX_EXPORT)
    if not out:
        raise ValidationFailed("poses.export_nothing", field="selection")
    return out


def openpose_document(pose: Any, width: int, height: int, *, ident: str | None = None) -> dict[str, Any]:
    """One OpenPose JSON document (COCO-18, pixel coordinates, c = 0 for missing joints)."""
    flat: list[float] = []
    for kp in as_pose(pose).keypoints:
        flat += [0.0, 0.0, 0.0] if kp is None else [round(kp.x * width, 2), round(kp.y * height, 2),
                                                    round(kp.confidence, 3)]
    doc: dict[str, Any] = {"version": 1.3, "canvas_width": width, "canvas_height": height,
                           "people": [{"pose_keypoints_2d": flat}]}
    if ident is not None:
        doc["id"] = ident
    return doc


def export_openpose_json(selection: Iterable[Any], *, width: int = 512, height: int = 768) -> bytes:
    """A JSON list with one OpenPose document per template (importable again by from_openpose_json)."""
    _check_size(width, height)
    docs = [openpose_document(pose, width, height, ident=ident) for ident, pose in _items(selection)]
    return json.dumps(docs, separators=(",", ":")).encode()


def _filename(ident: str) -> str:
    return re.sub(r"[^A-Za-z0-9._-]+", "_", ident)[:120] or "pose"


def export_zip(selection: Iterable[Any], *, width: int = 512, height: int = 768, include_json: bool = True) -> bytes:
    """ZIP with `<id>.png` skeletons (the ControlNet input) and, optionally, `<id>.json` next to each."""
    _check_size(width, height)
    buf = io.BytesIO()
    seen: set[str] = set()
    with zipfile.ZipFile(buf, "w", compression=zipfile.ZIP_DEFLATED) as zf:
        for ident, pose in _items(selection):
            name = _filename(ident)
            while name in seen:
                name += "_"
            seen.add(name)
            zf.writestr(f"{name}.png", render_preview(pose, width, height))
            if include_json:
                zf.writestr(f"{name}.json", json.dumps(openpose_document(pose, width, height, ident=ident)))
    return buf.getvalue()
