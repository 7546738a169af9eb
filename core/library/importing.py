"""Importing poses into the library (the data team) and exporting a selection.

Three kinds of file, told apart by content: OpenPose JSON (`people[].pose_keypoints_2d`, BODY_25 or
COCO-18, pixel or normalised; several people -> several candidates), ControlNet skeleton images (read
back by their limb colours), and photos (the engine's pose detector). Every candidate is checked
against the library and the earlier candidates of the same import; the report says what was added
and what was skipped, and why.
"""
from __future__ import annotations

import hashlib
import json
from collections.abc import Callable

import numpy as np
from sqlmodel import Session, select

from core.errors import DomainError, ValidationFailed
from core.messages import Message
from core.library import templates as lib
from core.seed_vocabulary import ours
from core.library.templates import CATEGORIES, PLACEMENTS, _require_admin
from core.settings import Settings
from db.models import PoseTemplate, User

MAX_FILES = 200
LIBRARY_ASPECT = "2:3"


def _text(name: str, msg: Message | str) -> dict:
    """A report field: its English text under `name` (what REST answers), and for a message its code and parameters
    beside it (`<name>Code`, `<name>Params`) for a reader in another language (ui/poses.py). An OpenPose document's own
    id (a person's label) is plain text: it has no code."""
    if not isinstance(msg, Message):
        return {name: msg}
    return {name: msg.english, f"{name}Code": msg.code, f"{name}Params": msg.to_dict()["params"]}


def report_message(row: dict, name: str) -> Message | str:
    """The message of a report field written by _text: a Message where it has a code, else its text."""
    code = row.get(f"{name}Code")
    return Message(code, **(row.get(f"{name}Params") or {})) if code else row.get(name, "")


def _is_json(data: bytes) -> bool:
    head = data[:64].lstrip()
    return head[:1] in (b"{", b"[")


def looks_like_skeleton(rgb: np.ndarray) -> bool:
    """A ControlNet skeleton: mostly black, and what is lit is mostly the OpenPose palette."""
    from core.library.poses.importers import classify

    lit = rgb.max(axis=2) > 24
    if lit.mean() > 0.35 or not lit.any():
        return False
    labels = classify(rgb)
    return (labels[lit] >= 0).mean() > 0.8


def candidates_from_file(data: bytes, *, filename: str | None, settings: Settings,
                         detector: Callable | None) -> tuple[str, list]:
    """(kind, [(label, Pose)]) for one uploaded file."""
    from core.library.poses.importers import from_openpose_json, from_skeleton_image

    if len(data) > settings.limit_bytes("pose"):
        raise ValidationFailed("importing.too_large", field="file", status=413, size=len(data) / 2**20,
                               most=settings.max_pose_file_size_mb)
    from core.library.poses.transforms import fit_to_aspect

    def fitted(candidates):  # every comparison and every template assumes the library's 2:3 canvas
        return [(c.label, fit_to_aspect(c.pose, LIBRARY_ASPECT, source_aspect=c.aspect or LIBRARY_ASPECT)) for c in candidates]

    if _is_json(data):
        return "openpose-json", fitted(from_openpose_json(data))
    from core.images import ingest_image

    image = ingest_image(data, kind="pose", settings=settings, filename=filename, keep_alpha=False)
    rgb = np.asarray(image.image.convert("RGB"))
    if looks_like_skeleton(rgb):
        return "skeleton-image", fitted(from_skeleton_image(rgb))
    if detector is None:
        from engine.detector import get_pose_detector

        detector = get_pose_detector(settings).detect
    from core.library.poses.keypoints import as_pose

    photo_aspect = image.width / image.height
    return "photo", [(Message("poses.person", person=i),
                      fit_to_aspect(as_pose(p), LIBRARY_ASPECT, source_aspect=photo_aspect))
                     for i, p in enumerate(detector(image.image))]


def import_files(session: Session, *, user: User, files: list[tuple[bytes, str | None]], settings: Settings,
                 category: str, subcategory: str | None = None, placement: str | None = None,
                 gender: str = "unisex", difficulty: str = "medium", tags: list[str] | None = None,
                 activate: bool = False, detector: Callable | None = None) -> dict:
    """Import every pose found in `files`. New templates start inactive unless `activate` (curate
    first, then switch on). Returns {"imported": [...], "skipped": [...], "errors": [...]}; a row's person, reason and
    error are English text, with their message codes and parameters beside them (see _text)."""
    from core.library.poses.similarity import dedupe

    _require_admin(user)
    category, difficulty = ours("template.category", category), ours("template.difficulty", difficulty)
    placement = ours("template.productPlacement", placement)
    if category not in CATEGORIES:
        raise ValidationFailed("importing.category_unknown", field="category", categories=list(CATEGORIES))
    if placement is not None and placement not in PLACEMENTS:
        raise ValidationFailed("importing.placement_unknown", field="placement", placements=list(PLACEMENTS))
    if not files:
        raise ValidationFailed("importing.no_files", field="files")
    if len(files) > MAX_FILES:
        raise ValidationFailed("importing.too_many_files", field="files", most=MAX_FILES)
    report: dict = {"imported": [], "skipped": [], "errors": []}
    found = []  # (filename, kind, label, pose)
    for data, filename in files:
        try:
            kind, cands = candidates_from_file(data, filename=filename, settings=settings, detector=detector)
        except DomainError as exc:
            report["errors"].append({"file": filename, **_text("error", exc.msg)})
            continue
        if not cands:
            report["errors"].append({"file": filename, **_text("error", Message("importing.no_person"))})
        found += [(filename, kind, label, pose) for label, pose in cands]  # poses fitted to the library's 2:3
    if not found:
        return report
    library = list(session.exec(select(PoseTemplate.id, PoseTemplate.key, PoseTemplate.keypoints)))
    dedup = dedupe([f[3] for f in found], [row[2] for row in library])
    kept = set(dedup.kept)
    for i, reason, other in dedup.skipped:
        filename, kind, label, _ = found[i]
        entry = {"file": filename, "kind": kind, **_text("person", label), **_text("reason", reason)}
        if other is not None and reason.code == "poses.duplicate_of_existing":
            entry["duplicateOf"] = {"id": library[other][0], "key": library[other][1]}
        report["skipped"].append(entry)
    for i in sorted(kept):
        filename, kind, label, pose = found[i]
        stem = (filename or "import").rsplit("/", 1)[-1].rsplit(".", 1)[0][:80]
        keypoints = pose.to_json()
        digest = hashlib.sha1(json.dumps(keypoints).encode()).hexdigest()[:12]
        t = PoseTemplate(key=f"import-{digest}", name=f"{stem} ({label})" if len(found) > 1 else stem,  # in English
                         category=category, subcategory=subcategory, keypoints=keypoints,
                         product_placement=placement, gender=gender, difficulty=difficulty,
                         tags=list(tags or []) + ["imported", kind], source="import", is_active=activate,
                         created_by_id=user.id, description=f"imported {kind.replace('-', ' ')} pose")
        session.add(t)
        session.flush()
        report["imported"].append({"file": filename, "kind": kind, **_text("person", label), "id": t.id, "key": t.key})
    session.commit()
    return report


def export(session: Session, *, user: User, template_ids: list[int], fmt: str) -> tuple[bytes, str, str]:
    """(data, media type, file name): the selection as OpenPose JSON, or a ZIP of skeleton PNGs + JSON."""
    from core.library.poses.export import export_openpose_json, export_zip

    rows = lib.for_export(session, user=user, template_ids=template_ids)  # admins only
    selection = [(t.key, t.keypoints) for t in rows]
    if fmt == "zip":
        return export_zip(selection), "application/zip", "pose-templates.zip"
    return export_openpose_json(selection), "application/json", "pose-templates.json"
