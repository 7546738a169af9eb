"""The per-pose pipeline: plan a pose row, then render it — template -> fitted keypoints -> control image
-> prompt -> generate -> composite the product -> pose check -> retry with a new seed or accept ->
store image, thumbnail and control image -> record everything needed to re-render it.

`start_single` is "try one pose": one PoseGeneration with one GeneratedPose, charged generatePose, run by
the job runner (core.batches plans whole batches the same way). `render_poses` is what a job runs: it
claims its poses (core.work), renders them in micro-batches, and writes each result with a conditional
UPDATE that only succeeds while the pose is still this worker's — so a cancelled pose, or one the
reaper gave to another worker, is never stored twice. Files are written at one key per pose and round
before the row commits, so a job that runs again rewrites the same files. Failures are refunded.
"""
from __future__ import annotations

import io
import logging
import secrets
import time
from dataclasses import dataclass

import sqlalchemy as sa
from PIL import Image
from pydantic import Field
from sqlmodel import Session, select

from core import analytics, avatars, brand_kits, credits, products, work
from core import pose_library as lib
from core.errors import DomainError, ModelUnavailable, ValidationFailed
from core.schemas import CamelModel
from core.settings import Settings
from core.storage import LocalFileStore
from db.models import Avatar, GeneratedPose, PoseGeneration, PoseTemplate, Product, User, utcnow

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
                                         "extraPrompt": request.extra_prompt, "unitCost": cost})
    session.add(generation)
    session.flush()
    session.add(GeneratedPose(user_id=user.id, generation_id=generation.id, template_id=template.id, position=0,
                              seed=seed, prompt=prompt.positive, negative_prompt=prompt.negative, cost=cost))
    credits.charge(session, user_id=user.id, app_id=APP, action="generatePose", ref_type="generation",
                   ref_id=generation.id, idempotency_key=f"pose:{generation.id}:0")
    session.flush()
    jobs = work.assign_jobs(session, generation_id=generation.id, positions=[0], settings=settings)
    session.commit()
    work.submit_jobs(runner, generation_id=generation.id, jobs=jobs)
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
    pipeline: float = 0.0
    box: list | None = None    # the product's box in the kept image


class _Lost(Exception):
    """The pose stopped being ours while we rendered it (cancelled, or reaped and given to another worker)."""


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
                      engine=None, detector="auto") -> PoseGeneration | None:
    """Render every pending pose of a generation in this process (tests, the CLI). Safe to run twice."""
    return render_poses(session, generation_id=generation_id, positions=None, store=store, settings=settings,
                        engine=engine, detector=detector)


def render_poses(session: Session, *, generation_id: int, positions: list[int] | None, store: LocalFileStore,
                 settings: Settings, worker: str | None = None, engine=None, detector="auto") -> PoseGeneration | None:
    """Claim the pending poses at `positions` (None: all) and render them in micro-batches of
    ENGINE_BATCH_SIZE. Poses another worker holds, or that are finished or cancelled, are left alone."""
    from core.poses.render import render_skeleton
    from core.poses.transforms import fit_to_aspect

    worker = worker or work.worker_id()
    generation = session.get(PoseGeneration, generation_id)
    if generation is None:
        return None
    claimed = work.claim(session, generation_id=generation_id, positions=positions, worker=worker)
    if not claimed:
        return refresh(session, generation)
    poses = list(session.exec(select(GeneratedPose).where(GeneratedPose.generation_id == generation_id,
                                                          GeneratedPose.position.in_(claimed))
                              .order_by(GeneratedPose.position)))
    options = generation.options or {}
    width, height = options["width"], options["height"]
    session.commit()  # end the read: loading the engine can take minutes, and SQLite writers would wait on us
    try:
        if engine is None:
            from engine.pipeline import get_engine

            engine = get_engine(settings)
        detect = _detector(settings) if detector == "auto" else detector
    except DomainError as exc:  # e.g. the model's weights are missing: every pose fails, refunded
        for pose in poses:
            _fail(session, generation, pose, exc.message, worker=worker)
        return refresh(session, generation)
    generation.started_at = generation.started_at or utcnow()
    if generation.status == "pending":
        generation.status = "running"
    generation.options = {**options, "engine": engine.describe()}
    session.add(generation)
    session.commit()
    avatar = session.get(Avatar, generation.avatar_id) if generation.avatar_id else None
    product = session.get(Product, generation.product_id) if generation.product_id else None
    session.commit()
    cutout = None
    if product is not None and product.cutout_path:
        cutout = Image.open(io.BytesIO(store.read(product.cutout_path))).convert("RGBA")
    ip_image = None
    if avatar is not None and settings.ip_adapter != "false":
        ip_image = Image.open(io.BytesIO(store.read(avatar.image_path))).convert("RGB")
    queue = []
    for pose in poses:
        template = session.get(PoseTemplate, pose.template_id) if pose.template_id else None
        session.commit()
        if template is None:  # deleted from the library while the pose waited: fail it alone, refunded
            _fail(session, generation, pose, "Its pose template was deleted from the library before it was "
                  "rendered.", worker=worker)
            continue
        fitted = fit_to_aspect(template.keypoints, width / height, source_aspect=template.aspect).to_json()
        control = Image.fromarray(render_skeleton(fitted, width, height))
        queue.append(_Work(pose, fitted, control, started=time.perf_counter()))
    steps = options.get("steps")
    while queue:
        queue = _still_mine(session, queue, worker)
        batch, queue = queue[: settings.engine_batch_size], queue[settings.engine_batch_size:]
        if not batch:
            break
        retry = _render_batch(session, generation, batch, engine=engine, detect=detect, cutout=cutout,
                              product=product, ip_image=ip_image, store=store, settings=settings, worker=worker,
                              steps=steps)
        queue = retry + queue
        refresh(session, generation)
    return refresh(session, generation)


def _still_mine(session, queue: list[_Work], worker: str) -> list[_Work]:
    """Drop poses that were cancelled or handed to another worker since we claimed them."""
    if not queue:
        return queue
    ids = [w.pose.id for w in queue]
    mine = set(session.exec(select(GeneratedPose.id).where(GeneratedPose.id.in_(ids), GeneratedPose.status == "running",
                                                           GeneratedPose.worker_id == worker)))
    session.commit()
    return [w for w in queue if w.pose.id in mine]


def _render_batch(session, generation, batch, *, engine, detect, cutout, product, ip_image, store, settings,
                  worker, steps=None):
    from core.compositing import place_product
    from core.quality import check_image
    from engine.pipeline import RenderRequest

    requests = [RenderRequest(w.pose.prompt or "", w.control, retry_seed(w.pose.seed, w.attempt),
                              w.pose.negative_prompt or "", ip_adapter_image=ip_image) for w in batch]
    t0 = time.perf_counter()
    results = engine.render(requests, steps=steps)
    waited = (time.perf_counter() - t0) / len(batch)
    again = []
    for w, result in zip(batch, results):
        # the engine's own per-image time (taken after its lock), not time spent waiting for another job
        w.pipeline += float(result.timings.get("per_image_s", waited))
        image, w.box = result.image, None
        if product is not None and cutout is not None:
            placed = place_product(image=image, cutout=cutout, keypoints=w.keypoints, placement=product.placement,
                                   product_type=product.product_type)
            image, w.box = placed.image, (list(placed.box) if placed.box else None)
        quality = check_image(image=image, template_keypoints=w.keypoints, detector=detect,
                              threshold=settings.quality_threshold)
        w.attempt += 1
        if quality.accepted:
            _accept(session, generation, w, image, quality, store, worker=worker)
        elif w.attempt < settings.max_attempts:
            again.append(w)
        else:
            _fail(session, generation, w.pose, f"Pose check failed after {w.attempt} attempts: {quality.reason}",
                  score=quality.score, attempts=w.attempt, worker=worker)
    return again


def _mine(pose: GeneratedPose, worker: str | None):
    G = GeneratedPose
    where = [G.id == pose.id, G.status == "running"]
    if worker is not None:
        where.append(G.worker_id == worker)
    return sa.update(G).where(*where)


def _accept(session, generation, w: _Work, image, quality, store, *, worker: str) -> None:
    from core.images import encode_image, make_thumbnail

    pose = w.pose
    data, ext, _ = encode_image(image)
    control_png = io.BytesIO()
    w.control.save(control_png, "PNG")
    seed = retry_seed(pose.seed, w.attempt - 1)
    name = f"g{generation.id}-p{pose.position}-r{pose.round}-s{seed}"
    keys = {kind: store.fixed_key(user_id=pose.user_id, kind=kind, name=name, ext=e)
            for kind, e in (("pose", ext), ("pose-thumb", "jpg"), ("pose-control", "png"))}
    try:
        with store.staged() as staged:
            staged.put(keys["pose"], data)
            staged.put(keys["pose-thumb"], make_thumbnail(image))
            staged.put(keys["pose-control"], control_png.getvalue())
            values = dict(status="done", image_path=keys["pose"], thumbnail_path=keys["pose-thumb"],
                          control_path=keys["pose-control"], seed=seed,
                          attempts=w.attempt, error=None, quality_score=quality.score,
                          quality_checked=quality.checked, render_seconds=round(time.perf_counter() - w.started, 3),
                          pipeline_seconds=round(w.pipeline, 3), product_box=w.box, finished_at=utcnow())
            if session.execute(_mine(pose, worker).values(**values)).rowcount != 1:
                session.rollback()
                if _may_use(session, pose, worker, keys["pose"]):
                    staged.keys.clear()  # another worker renders this very seed and writes these keys: leave them
                raise _Lost()
            if pose.template_id:
                lib.record_result(session, template_id=pose.template_id, accepted=True, quality_score=quality.score)
            analytics.record_created(session, user_id=pose.user_id, brand_kit_id=generation.brand_kit_id,
                                     design_type="pose", seconds=values["render_seconds"], at=values["finished_at"])
            session.commit()
    except _Lost:
        log.info("pose %s of generation %s is no longer ours; result dropped", pose.position, generation.id)
        return
    finally:
        session.expire(pose)


def _may_use(session, pose: GeneratedPose, worker: str, key: str) -> bool:
    """Whether another worker that holds this pose now may store (or has stored) the same file key."""
    row = session.exec(select(GeneratedPose.status, GeneratedPose.worker_id, GeneratedPose.image_path)
                       .where(GeneratedPose.id == pose.id)).first()
    session.commit()
    return (row is not None and row[0] in ("running", "done") and row[1] != worker
            and row[2] in (None, key))


def _fail(session, generation, pose: GeneratedPose, reason: str, *, score=None, attempts=None,
          worker: str | None = None) -> None:
    """Mark a running pose failed and refund what it held — only if it is still ours."""
    values = dict(status="failed", error=reason, finished_at=utcnow(), quality_score=score)
    if attempts is not None:
        values["attempts"] = attempts
    if session.execute(_mine(pose, worker).values(**values)).rowcount != 1:
        session.rollback()
        return
    if pose.template_id is not None and attempts is not None:
        lib.record_result(session, template_id=pose.template_id, accepted=False, quality_score=score)
    refund_pose(session, generation_id=generation.id, user_id=pose.user_id, position=pose.position,
                round_=pose.round, amount=pose.cost, reason=reason)
    session.commit()
    session.expire(pose)


def refund_pose(session, *, generation_id: int, user_id: int, position: int, round_: int, amount: int,
                reason: str) -> None:
    """Give back what one pose held in one round (once: the ledger key names generation, pose and round)."""
    if amount > 0:
        credits.refund(session, user_id=user_id, app_id=APP, action="generatePose", amount=amount,
                       ref_type="generation", ref_id=generation_id, note=reason[:255],
                       idempotency_key=f"poserefund:{generation_id}:{position}:{round_}")


def refresh(session, generation: PoseGeneration) -> PoseGeneration:
    """Recount a generation from its pose rows and its ledger: counts, progress, credits, final status."""
    from db.models import CreditLedger

    session.refresh(generation, with_for_update=True)   # recounts run one at a time (Postgres row lock)
    G = GeneratedPose
    counts = dict(session.execute(select(G.status, sa.func.count()).where(G.generation_id == generation.id)
                                  .group_by(G.status)).all())
    charged, refunded = session.execute(
        select(sa.func.coalesce(sa.func.sum(sa.case((CreditLedger.delta < 0, -CreditLedger.delta), else_=0)), 0),
               sa.func.coalesce(sa.func.sum(sa.case((CreditLedger.delta > 0, CreditLedger.delta), else_=0)), 0))
        .where(CreditLedger.ref_type == "generation", CreditLedger.ref_id == generation.id,
               CreditLedger.user_id == generation.user_id)).one()
    held = session.execute(select(sa.func.coalesce(sa.func.sum(G.cost), 0))
                           .where(G.generation_id == generation.id, G.status.in_(work.ACTIVE))).scalar()
    done, failed, cancelled = counts.get("done", 0), counts.get("failed", 0), counts.get("cancelled", 0)
    total = sum(counts.values())
    generation.total_poses = total
    generation.completed_count, generation.failed_count = done, failed
    generation.progress = round(100.0 * (done + failed + cancelled) / max(1, total), 1)
    generation.credits_reserved, generation.credits_refunded = int(charged), int(refunded)
    generation.credits_used = int(charged) - int(refunded) - int(held)
    if done + failed + cancelled == total and generation.status in work.ACTIVE:
        generation.status = "completed" if done else "failed"
        generation.completed_at = utcnow()
    elif done + failed + cancelled < total and generation.status in ("completed", "failed"):
        generation.status, generation.completed_at = "running", None   # a retry or re-render re-opened it
    generation.updated_at = utcnow()
    session.add(generation)
    session.commit()
    return generation
