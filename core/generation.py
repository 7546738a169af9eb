"""The per-pose pipeline: plan a pose row, then render it — template -> fitted keypoints -> control image
-> prompt -> generate -> composite the product -> pose check -> retry with a new seed or accept ->
store image, thumbnail and control image -> record everything needed to re-render it.

`start_single` is "try one pose": one PoseGeneration with one GeneratedPose, charged generatePose, run by
the job runner. `render_generation` renders a generation's pending poses in micro-batches (the batch
runner of the next issue calls it for chunks too). Failures are refunded; a pose that is already done
is never rendered or charged again.
"""
from __future__ import annotations

import io
import logging
import secrets
import time
from dataclasses import dataclass

from PIL import Image
from pydantic import Field
from sqlmodel import Session, select

from core import avatars, brand_kits, credits, products
from core import pose_library as lib
from core.errors import DomainError, ModelUnavailable, ValidationFailed
from core.schemas import CamelModel
from core.settings import Settings
from core.storage import LocalFileStore
from db.models import Avatar, BrandKit, GeneratedPose, PoseGeneration, PoseTemplate, Product, User, utcnow

log = logging.getLogger(__name__)
APP = "pose-generator"
SEED_LIMIT = 2**31 - 1


class TryOne(CamelModel):
    brand_kit_id: int
    avatar_id: int
    product_id: int
    template_id: int
    seed: int | None = Field(default=None, ge=0, le=SEED_LIMIT)
    size: str = "portrait"
    extra_prompt: str | None = Field(default=None, max_length=500)


def retry_seed(seed: int, attempt: int) -> int:
    """The seed of attempt `attempt` (0 = the planned seed): deterministic, so a re-render repeats it."""
    return seed if attempt == 0 else (seed + attempt * 1_000_003) % SEED_LIMIT


def output_size(settings: Settings, name: str) -> tuple[int, int]:
    from engine.pipeline import size_presets  # cheap: no torch

    presets = size_presets(settings)
    if name not in presets:
        raise ValidationFailed(f"size must be one of {', '.join(presets)}.", field="size")
    return presets[name]


def _inputs(session: Session, *, user: User, kit_id: int, avatar_id: int, product_id: int):
    kit = brand_kits.get(session, user=user, kit_id=kit_id)
    avatar = avatars.get(session, user=user, avatar_id=avatar_id)
    product = products.get(session, user=user, product_id=product_id)
    if product.placement != "worn" and not product.cutout_path:
        raise ValidationFailed(f"“{product.name}” has no cut-out yet (background removal: {product.bg_status}). "
                               "Wait for it, or retry the removal on the Products page.", field="productId")
    return kit, avatar, product


def start_single(session: Session, *, user: User, request: TryOne, settings: Settings, runner) -> PoseGeneration:
    """Plan and charge one pose, then hand it to the runner. Nothing is planned when a check fails."""
    from core.prompts import PromptOverrides, build_prompt

    kit, avatar, product = _inputs(session, user=user, kit_id=request.brand_kit_id, avatar_id=request.avatar_id,
                                   product_id=request.product_id)
    template = lib.get(session, user=user, template_id=request.template_id)
    width, height = output_size(settings, request.size)
    seed = request.seed if request.seed is not None else secrets.randbelow(SEED_LIMIT)
    prompt = build_prompt(brand_kit=kit, avatar=avatar, product=product, template=template,
                          overrides=PromptOverrides(extra=request.extra_prompt) if request.extra_prompt else None)
    cost = credits.cost(APP, "generatePose")
    generation = PoseGeneration(user_id=user.id, brand_kit_id=kit.id, avatar_id=avatar.id, product_id=product.id,
                                total_poses=1, status="pending", credits_reserved=cost,
                                options={"mode": "single", "size": request.size, "width": width, "height": height,
                                         "extraPrompt": request.extra_prompt})
    session.add(generation)
    session.flush()
    session.add(GeneratedPose(user_id=user.id, generation_id=generation.id, template_id=template.id, position=0,
                              seed=seed, prompt=prompt.positive, negative_prompt=prompt.negative))
    credits.charge(session, user_id=user.id, app_id=APP, action="generatePose", ref_type="generation",
                   ref_id=generation.id, idempotency_key=f"pose:{generation.id}:0")
    session.commit()
    if runner is not None:
        runner.submit("jobs.tasks:render_generation", generation.id)
    return generation


def get_generation(session: Session, *, user: User, generation_id: int) -> PoseGeneration:
    from core.records import get_owned

    return get_owned(session, PoseGeneration, generation_id, user_id=user.id, label="Generation")


def poses_of(session: Session, *, user: User, generation_id: int) -> list[GeneratedPose]:
    get_generation(session, user=user, generation_id=generation_id)
    return list(session.exec(select(GeneratedPose).where(GeneratedPose.generation_id == generation_id)
                             .order_by(GeneratedPose.position)))


# --- rendering ------------------------------------------------------------------------------------

@dataclass
class _Work:
    pose: GeneratedPose
    keypoints: list            # the template fitted to the output canvas
    control: Image.Image
    attempt: int = 0
    started: float = 0.0


_MISSING_DETECTOR: dict[tuple, float] = {}  # settings key -> when to look for the weights again
RECHECK_SECONDS = 300


def _detector(settings: Settings):
    """The pose detector's detect(), or None when its weights are not here (poses are then recorded as
    "not checked" — never given a made-up score). A failed lookup is remembered for a few minutes, so a
    server without the weights does not search for them before every batch."""
    key = (settings.pose_detector, str(settings.model_dir), str(settings.hf_cache_dir), settings.model_downloads)
    if _MISSING_DETECTOR.get(key, 0) > time.monotonic():
        return None
    try:
        from engine.detector import get_pose_detector

        return get_pose_detector(settings).detect
    except ModelUnavailable as exc:
        log.warning("pose check off: %s", exc.message)
        _MISSING_DETECTOR[key] = time.monotonic() + RECHECK_SECONDS
        return None


def render_generation(session: Session, *, generation_id: int, store: LocalFileStore, settings: Settings,
                      engine=None, detector="auto") -> PoseGeneration:
    """Render every pending pose of a generation (micro-batches of ENGINE_BATCH_SIZE). Safe to run twice."""
    from core.poses.render import render_skeleton
    from core.poses.transforms import fit_to_aspect

    generation = session.get(PoseGeneration, generation_id)
    if generation is None or generation.status in ("completed", "failed", "cancelled"):
        return generation
    pending = list(session.exec(select(GeneratedPose).where(GeneratedPose.generation_id == generation_id,
                                                            GeneratedPose.status.in_(("pending", "running")))
                                .order_by(GeneratedPose.position)))
    if not pending:
        return _finish(session, generation)
    width, height = generation.options["width"], generation.options["height"]
    session.commit()  # end the read: loading the engine can take minutes, and SQLite writers would wait on us
    try:
        if engine is None:
            from engine.pipeline import get_engine

            engine = get_engine(settings)
        detect = _detector(settings) if detector == "auto" else detector
    except DomainError as exc:  # e.g. the model's weights are missing: every pose fails, refunded
        for pose in pending:
            _fail(session, generation, pose, exc.message)
        return _finish(session, generation)
    generation.status, generation.started_at = "running", generation.started_at or utcnow()
    generation.options = {**generation.options, "engine": engine.describe()}
    session.add(generation)
    session.commit()
    avatar = session.get(Avatar, generation.avatar_id) if generation.avatar_id else None
    product = session.get(Product, generation.product_id) if generation.product_id else None
    cutout = None
    if product is not None and product.cutout_path:
        cutout = Image.open(io.BytesIO(store.read(product.cutout_path))).convert("RGBA")
    ip_image = None
    if avatar is not None and settings.ip_adapter:
        ip_image = Image.open(io.BytesIO(store.read(avatar.image_path))).convert("RGB")
    work = []
    for pose in pending:
        template = session.get(PoseTemplate, pose.template_id)
        fitted = fit_to_aspect(template.keypoints, width / height, source_aspect=template.aspect).to_json()
        control = Image.fromarray(render_skeleton(fitted, width, height))
        pose.status = "running"
        session.add(pose)
        work.append(_Work(pose, fitted, control, started=time.perf_counter()))
    session.commit()
    while work:
        batch, work = work[: settings.engine_batch_size], work[settings.engine_batch_size:]
        retry = _render_batch(session, generation, batch, engine=engine, detect=detect, cutout=cutout,
                              product=product, ip_image=ip_image, store=store, settings=settings)
        work = retry + work
    return _finish(session, generation)


def _render_batch(session, generation, batch, *, engine, detect, cutout, product, ip_image, store, settings):
    from core.compositing import place_product
    from core.quality import check_image
    from engine.pipeline import RenderRequest

    requests = [RenderRequest(w.pose.prompt or "", w.control, retry_seed(w.pose.seed, w.attempt),
                              w.pose.negative_prompt or "", ip_adapter_image=ip_image) for w in batch]
    results = engine.render(requests)
    again = []
    for w, result in zip(batch, results):
        image = result.image
        if product is not None and cutout is not None:
            image = place_product(image=image, cutout=cutout, keypoints=w.keypoints, placement=product.placement,
                                  product_type=product.product_type).image
        quality = check_image(image=image, template_keypoints=w.keypoints, detector=detect,
                              threshold=settings.quality_threshold)
        w.attempt += 1
        if quality.accepted:
            _accept(session, generation, w, image, quality, result, store)
        elif w.attempt < settings.max_attempts:
            again.append(w)
        else:
            _fail(session, generation, w.pose, f"Pose check failed after {w.attempt} attempts: {quality.reason}",
                  score=quality.score, attempts=w.attempt)
    return again


def _accept(session, generation, w: _Work, image, quality, result, store) -> None:
    from core.images import encode_image, make_thumbnail

    pose = w.pose
    data, ext, _ = encode_image(image)
    control_png = io.BytesIO()
    w.control.save(control_png, "PNG")
    with store.staged() as staged:
        pose.image_path = staged.save(data, user_id=pose.user_id, kind="pose", ext=ext)
        pose.thumbnail_path = staged.save(make_thumbnail(image), user_id=pose.user_id, kind="pose-thumb", ext="jpg")
        pose.control_path = staged.save(control_png.getvalue(), user_id=pose.user_id, kind="pose-control", ext="png")
        pose.seed = retry_seed(pose.seed, w.attempt - 1)  # the seed that made the kept image
        pose.status, pose.attempts, pose.error = "done", w.attempt, None
        pose.quality_score, pose.quality_checked = quality.score, quality.checked
        pose.render_seconds = round(time.perf_counter() - w.started, 3)
        pose.finished_at = utcnow()
        session.add(pose)
        lib.record_result(session, template_id=pose.template_id, accepted=True, quality_score=quality.score)
        session.commit()


def _fail(session, generation, pose: GeneratedPose, reason: str, *, score=None, attempts=None) -> None:
    pose.status, pose.error, pose.finished_at = "failed", reason, utcnow()
    pose.quality_score, pose.attempts = score, attempts if attempts is not None else pose.attempts
    session.add(pose)
    if pose.template_id is not None and attempts is not None:
        lib.record_result(session, template_id=pose.template_id, accepted=False, quality_score=score)
    credits.refund(session, user_id=pose.user_id, app_id=APP, action="generatePose",
                   amount=credits.cost(APP, "generatePose"), ref_type="generation", ref_id=generation.id,
                   note=reason[:255], idempotency_key=f"poserefund:{generation.id}:{pose.position}")
    session.commit()


def _finish(session, generation: PoseGeneration) -> PoseGeneration:
    rows = list(session.exec(select(GeneratedPose.status).where(GeneratedPose.generation_id == generation.id)))
    done, failed = rows.count("done"), rows.count("failed")
    generation.completed_count, generation.failed_count = done, failed
    generation.progress = round(100.0 * (done + failed) / max(1, generation.total_poses), 1)
    cost = credits.cost(APP, "generatePose")
    generation.credits_used, generation.credits_refunded = done * cost, failed * cost
    if done + failed == len(rows):
        generation.status = "completed" if done else "failed"
        generation.completed_at = utcnow()
    generation.updated_at = utcnow()
    session.add(generation)
    session.commit()
    return generation
