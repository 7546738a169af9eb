"""A batch's images as one ZIP with a manifest.json that holds everything needed to re-render each image
exactly: the template (id, key and its keypoints, plus the keypoints fitted to the canvas), the seed that
made the kept image, the prompts, the model ids/revisions/commits and engine settings, and the size.

    images/007_fashion-standing-contrapposto-front-003_seed1234.jpg
    skeletons/007_....png          the ControlNet input that was used
    manifest.json

Written to a temporary file (a 500-image batch does not sit in memory); the caller deletes it.
"""
from __future__ import annotations

import json
import re
import tempfile
import zipfile
from pathlib import Path

import sqlalchemy as sa
from sqlmodel import Session, select

from core.generation import state, batches
from core.errors import ValidationFailed
from core.generation.identity import note_of
from core.generation.product import fidelity_english
from core.storage import LocalFileStore
from db.models import Avatar, GeneratedPose, PoseTemplate, Product, User

MANIFEST_FORMAT = "apg-batch-manifest/1"


def _slug(text: str | None, default: str = "pose") -> str:
    s = re.sub(r"[^a-z0-9]+", "-", (text or "").lower()).strip("-")
    return s[:60] or default


def image_name(pose: GeneratedPose, template: PoseTemplate | None) -> str:
    ext = (pose.image_path or ".jpg").rsplit(".", 1)[-1]
    return f"{pose.position:03d}_{_slug(template.key if template else None)}_seed{pose.seed}.{ext}"


def manifest_entry(pose: GeneratedPose, template: PoseTemplate | None, options: dict, *, name: str) -> dict:
    from core.library.poses.transforms import fit_to_aspect

    width, height = options["width"], options["height"]
    fitted = fit_to_aspect(template.keypoints, width / height, source_aspect=template.aspect).to_json() \
        if template else None
    return {
        "file": f"images/{name}", "skeleton": f"skeletons/{name.rsplit('.', 1)[0]}.png",
        "resultId": pose.id, "position": pose.position, "round": pose.round,
        "template": ({"id": template.id, "key": template.key, "name": template.name, "category": template.category,
                      "aspect": template.aspect, "keypoints": template.keypoints} if template else None),
        "fittedKeypoints": fitted, "seed": pose.seed, "attempts": pose.attempts,
        "prompt": pose.prompt, "negativePrompt": pose.negative_prompt, "width": width, "height": height,
        "steps": options.get("steps"), "productBox": pose.product_box, "qualityScore": pose.quality_score, "qualityChecked": pose.quality_checked,
        "identityScore": pose.identity_score, "identityChecked": bool((pose.identity or {}).get("checked")),
        "identityNote": (note.english if (note := note_of(pose)) else None),
        "faceBox": (pose.identity or {}).get("box"),
        "productMode": pose.product_mode, "productFidelity": pose.product_fidelity,
        "productNote": fidelity_english(pose),
        "provider": pose.provider, "modelId": pose.provider_model, "providerJobId": pose.provider_job_id,
        "providerFallback": pose.provider_fallback,
        "rating": pose.rating, "renderSeconds": pose.render_seconds,
        "finishedAt": pose.finished_at.isoformat() if pose.finished_at else None,
    }


def _mark_exported(session: Session, ids: list[int]) -> None:
    """The seed's exported / exportCount of each result: one more export, in the caller's transaction (with the
    analytics record of the same export)."""
    G = GeneratedPose
    session.execute(sa.update(G).where(G.id.in_(ids)).values(exported=True, export_count=G.export_count + 1)
                    .execution_options(synchronize_session=False))


def export_zip(session: Session, *, user: User, generation_id: int, store: LocalFileStore,
               pose_ids: list[int] | None = None) -> tuple[Path, str]:
    """(path of a temporary ZIP, a download name). Only finished images are exported; asking for a result
    of another batch or user is a 404, for an unfinished one a clear 422."""
    g = state.get(session, user=user, generation_id=generation_id)
    G = GeneratedPose
    q = select(G).where(G.generation_id == g.id, G.user_id == user.id)
    if pose_ids:
        q = q.where(G.id.in_(pose_ids))
    poses = list(session.exec(q.order_by(G.position)))
    if pose_ids:
        missing = sorted(set(pose_ids) - {p.id for p in poses})
        if missing:
            from core.errors import NotFound

            raise NotFound("export.not_in_generation", id=missing[0], generation=g.id)
        unfinished = [p.id for p in poses if p.status != "done"]
        if unfinished:
            raise ValidationFailed("export.unfinished", id=unfinished[0], n=len(unfinished), field="ids")
    poses = [p for p in poses if p.status == "done" and p.image_path]
    if not poses:
        raise ValidationFailed("export.nothing_finished", id=g.id, field="ids")
    options = g.options or {}
    avatar = session.get(Avatar, g.avatar_id) if g.avatar_id else None
    product = session.get(Product, g.product_id) if g.product_id else None
    entries = []
    tmp = tempfile.NamedTemporaryFile(prefix="apg-export-", suffix=".zip", delete=False)
    try:
        with zipfile.ZipFile(tmp, "w", compression=zipfile.ZIP_STORED) as zf:
            for pose in poses:
                template = session.get(PoseTemplate, pose.template_id) if pose.template_id else None
                name = image_name(pose, template)
                entry = manifest_entry(pose, template, options, name=name)
                zf.writestr(entry["file"], store.read(pose.image_path))
                if pose.control_path:
                    zf.writestr(entry["skeleton"], store.read(pose.control_path))
                entries.append(entry)
            manifest = {
                "format": MANIFEST_FORMAT,
                "generation": {"id": g.id, "status": g.status, "createdAt": g.created_at.isoformat(),
                               "size": options.get("size"), "quality": options.get("quality"),
                               "batchSeed": options.get("seed"), "extraPrompt": options.get("extraPrompt"),
                               "poseDistribution": g.pose_distribution},
                "checks": options.get("checks"),   # likeness / pose check: on, or off with the reason
                "engine": options.get("engine"),
                "avatar": {"id": avatar.id, "name": avatar.name} if avatar else None,
                "product": ({"id": product.id, "name": product.name, "placement": product.placement,
                             "productType": product.product_type} if product else None),
                "howToRerender": "For each image: fit template.keypoints to width x height (or use fittedKeypoints), "
                                 "draw the OpenPose skeleton, and run the engine's base model + ControlNet with "
                                 "prompt, negativePrompt, seed (one CPU torch.Generator per image), steps, guidance "
                                 "and scheduler from `engine`; then composite the product at its placement.",
                "images": entries,
            }
            zf.writestr("manifest.json", json.dumps(manifest, indent=2, ensure_ascii=False))
        tmp.close()
    except BaseException:
        tmp.close()
        Path(tmp.name).unlink(missing_ok=True)
        raise
    from core.analytics import metrics

    metrics.record_export(session, user_id=user.id, brand_kit_id=g.brand_kit_id, design_type="pose", format="zip",
                            count=len(poses))
    _mark_exported(session, [p.id for p in poses])
    session.commit()
    label = _slug(product.name if product else None, "batch")
    return Path(tmp.name), f"generation-{g.id}_{label}.zip"


def download_one(session: Session, *, user: User, pose_id: int, store: LocalFileStore) -> tuple[Path, str, str]:
    """(path, media type, download name) of one finished image; recorded as an export for analytics."""
    from core.analytics import metrics
    from core import files
    from db.models import PoseGeneration

    pose = batches.get_pose(session, user=user, pose_id=pose_id)
    if pose.status != "done" or not pose.image_path:
        raise ValidationFailed("export.no_image", id=pose_id, pose_status=pose.status, field="resultId")
    path, media_type = files.open_for(user=user, key=pose.image_path, store=store)
    template = session.get(PoseTemplate, pose.template_id) if pose.template_id else None
    generation = session.get(PoseGeneration, pose.generation_id)
    metrics.record_export(session, user_id=user.id, brand_kit_id=generation.brand_kit_id, design_type="pose",
                            format=pose.image_path.rsplit(".", 1)[-1], count=1)
    _mark_exported(session, [pose.id])
    session.commit()
    return path, media_type, image_name(pose, template)
