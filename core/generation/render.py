"""What a render job runs: claim its poses (core.generation.work), then per micro-batch of ENGINE_BATCH_SIZE:
template fitted to the canvas -> control image -> the product planned into it (core.generation.product: placed
first and generated around, or warped on and redrawn in a second call, or pasted) -> engine.render -> quality
check -> identity -> retry with the next seed, accept (with the product's fidelity record), or fail (refunded).

Each result is written with a conditional UPDATE that only succeeds while the pose is still this worker's, so
a cancelled pose, or one the reaper gave to another worker, is never stored twice. Files are written at one key
per pose and round before the row commits, so a job that runs again rewrites the same files.
"""
from __future__ import annotations

import io
import logging
import time
from dataclasses import dataclass

import sqlalchemy as sa
from PIL import Image
from sqlmodel import Session, select

from core.analytics import metrics
from core.errors import DomainError, ModelUnavailable
from core.generation import work
from core.generation.checks import IDENTITY, INFRASTRUCTURE, POSE, short, short_reason
from core.generation.identity import below
from core.generation.micro_batch import Judge, Judged
from core.generation.state import bump, refresh, refund_pose, retry_seed
from core.library import templates as lib
from core.messages import Message
from core.settings import Settings
from core.storage import LocalFileStore
from db.models import Avatar, GeneratedPose, PoseGeneration, PoseTemplate, Product, utcnow

log = logging.getLogger(__name__)


@dataclass
class _Work:
    pose: GeneratedPose
    keypoints: list            # the template fitted to the output canvas
    control: Image.Image
    attempt: int = 0
    started: float = 0.0
    pipeline: float = 0.0
    box: list | None = None    # the product's box in the kept image
    plan: object = None        # core.generation.product.ProductPlan (None: no product)
    fidelity: dict | None = None


_MISSING_DETECTOR: dict[tuple, tuple[float, Message]] = {}  # settings key -> (when to look again, why it is off)
RECHECK_SECONDS = 300


def _detector(settings: Settings):
    """The pose detector's detect(), or None when its weights are not here (poses are then recorded as
    "not checked" — never given a made-up score). A failed lookup is remembered for a few minutes, so a
    server without the weights does not search for them before every batch."""
    key = _detector_key(settings)
    if _MISSING_DETECTOR.get(key, (0, None))[0] > time.monotonic():
        return None
    try:
        from engine.detector import get_pose_detector

        return get_pose_detector(settings).detect
    except ModelUnavailable as exc:
        log.warning("pose check off: %s", exc.message)
        _MISSING_DETECTOR[key] = (time.monotonic() + RECHECK_SECONDS, exc.msg)
        return None


def _detector_key(settings: Settings) -> tuple:
    return (settings.pose_detector, str(settings.model_dir), str(settings.hf_cache_dir), settings.model_downloads)


def _checks_ran(options: dict, settings: Settings, detect) -> dict | None:
    """options["checks"] with a pose check that was planned on but whose detector did not load here: off, with
    the reason (each image says "not checked" as well); None when the plan holds. It is never turned on again
    by a later run: the batch then had images nobody checked, and says so."""
    checks = options.get("checks")
    if not checks or detect is not None or not (checks.get("poseCheck") or {}).get("on"):
        return None
    why = _MISSING_DETECTOR.get(_detector_key(settings), (0, None))[1] or Message("checks.detector_not_loaded")
    return {**checks, "poseCheck": {"on": False, "reason": short_reason(short(why).english),
                                    "message": short(why).to_dict()}}


def render_generation(session: Session, *, generation_id: int, store: LocalFileStore, settings: Settings,
                      engine=None, detector="auto") -> PoseGeneration | None:
    """Render every pending pose of a generation in this process (tests, the CLI). Safe to run twice."""
    return render_poses(session, generation_id=generation_id, positions=None, store=store, settings=settings,
                        engine=engine, detector=detector)


def render_poses(session: Session, *, generation_id: int, positions: list[int] | None, store: LocalFileStore,
                 settings: Settings, worker: str | None = None, engine=None, detector="auto") -> PoseGeneration | None:
    """Claim the pending poses at `positions` (None: all) and render them in micro-batches of
    ENGINE_BATCH_SIZE. Poses another worker holds, or that are finished or cancelled, are left alone."""
    from core.library.poses.render import render_skeleton
    from core.library.poses.transforms import fit_to_aspect
    from engine import render_thread

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
            from engine.engines import get_engine

            engine = get_engine(settings)
        detect = _detector(settings) if detector == "auto" else detector
    except DomainError as exc:  # e.g. the model's weights are missing: every pose fails, refunded, not its fault
        log.warning("generation %s cannot render: %s", generation_id, exc.message)
        for pose in poses:
            _fail(session, generation, pose, short(exc.msg), worker=worker,
                  kind=INFRASTRUCTURE)
        session.commit()
        return refresh(session, generation)
    generation.started_at = generation.started_at or utcnow()
    if generation.status == "pending":
        generation.status = "running"
    ran = _checks_ran(options, settings, detect)
    described = engine.describe()
    generation.options = {**options, "engine": described, **({"checks": ran} if ran else {})}
    generation.provider, generation.model_id = _who(described)
    session.add(generation)
    session.commit()
    avatar = session.get(Avatar, generation.avatar_id) if generation.avatar_id else None
    product = session.get(Product, generation.product_id) if generation.product_id else None
    session.commit()
    cutout = None
    if product is not None and product.cutout_path:
        cutout = Image.open(io.BytesIO(store.read(product.cutout_path))).convert("RGBA")
    if avatar is not None and detect is not None and detector == "auto":   # the server's own detector
        avatar = _refined(session, avatar, store, detect)
    ip_image = None
    if avatar is not None and settings.ip_adapter != "false":   # likeness from the avatar's face crop
        ip_image = Image.open(io.BytesIO(store.read(avatar.face_path or avatar.image_path))).convert("RGB")
        likeness = engine.capabilities()["likeness"] if hasattr(engine, "capabilities") else {"on": None}
        generation.options = {**generation.options, "likenessFace": {
            "on": likeness.get("on"), "reason": likeness.get("reason"), "message": likeness.get("message"),
            "source": avatar.face_source or "photo", "box": avatar.face_box}}
        session.add(generation)
        session.commit()
    templates = _templates(session, poses)
    # an engine that cannot inpaint (a hosted provider without an inpainting model) pastes the product instead:
    # the Generate page said so before the user paid (core.generation.checks.planned)
    inpaints = (engine.capabilities().get("inpaint") or {}).get("on", True) if hasattr(engine, "capabilities") else True
    product_mode = settings.product_mode if inpaints else "paste"
    queue = []
    for pose in poses:
        template = templates.get(pose.template_id)
        if template is None:  # deleted from the library while the pose waited: fail it alone, refunded
            _fail(session, generation, pose, Message("render.template_deleted"), worker=worker, kind=POSE)
            session.commit()
            continue
        fitted = fit_to_aspect(template.keypoints, width / height, source_aspect=template.aspect).to_json()
        control = Image.fromarray(render_skeleton(fitted, width, height))
        try:
            plan = _plan(product, cutout, fitted, (width, height), product_mode)
        except DomainError as exc:   # e.g. a cut-out with no visible pixel: not the pose's fault
            _fail(session, generation, pose, short(exc.msg), worker=worker, kind=INFRASTRUCTURE)
            session.commit()
            continue
        queue.append(_Work(pose, fitted, control, started=time.perf_counter(), plan=plan))
    bind = session.get_bind()

    def still_mine(ids: list[int]) -> list[int]:   # on the render thread, in its own short session
        with Session(bind) as own:
            return list(own.exec(select(GeneratedPose.id).where(
                GeneratedPose.id.in_(ids), GeneratedPose.status == "running", GeneratedPose.worker_id == worker)))

    job = Judge(engine=engine, detect=detect, cutout=cutout, ip_image=ip_image, settings=settings,
                 steps=options.get("steps"), still_mine=still_mine)

    def next_batch():
        nonlocal queue
        queue = _still_mine(session, queue, worker)
        batch, queue = queue[: settings.engine_batch_size], queue[settings.engine_batch_size:]
        return (batch, render_thread.submit(job, batch)) if batch else None

    # Two micro-batches in flight: while the render thread renders the next one, this thread stores the last
    # (files, rows, credits), so the engine never waits for the database or the encoder.
    running = next_batch()
    while running is not None:
        batch, outcome = running
        following = next_batch()
        retry = _store(session, generation, batch, outcome.result(), store=store, settings=settings, worker=worker)
        queue = retry + queue
        if following is None and queue:
            following = next_batch()
        running = following
    return refresh(session, generation)


def _who(described: dict) -> tuple[str, str | None]:
    """(provider, model id) of an engine's describe(): a hosted one's, or "local" and the loaded base model."""
    if described.get("remote"):
        return described.get("provider") or described.get("engine"), described.get("model")
    return "local", (described.get("base_model") or {}).get("id")


def _templates(session, poses: list[GeneratedPose]) -> dict[int, PoseTemplate]:
    """The poses' templates in one query (a deleted one is missing from the answer)."""
    ids = {p.template_id for p in poses if p.template_id is not None}
    rows = list(session.exec(select(PoseTemplate).where(PoseTemplate.id.in_(ids)))) if ids else []
    session.commit()
    return {t.id: t for t in rows}


_NO_HEAD: set[str] = set()   # photos the detector saw no head in (this process): not looked at again per job


def _refined(session, avatar: Avatar, store: LocalFileStore, detect) -> Avatar:
    """The avatar with its face box from the detector (once per photo); a detector error keeps the fallback."""
    from core.catalog import avatars

    if avatar.image_path in _NO_HEAD:
        return avatar
    try:
        refined = avatars.refine_face(session, avatar=avatar, store=store, detect=detect)
        if refined.face_source in (None, "portrait"):
            _NO_HEAD.add(avatar.image_path)
        return refined
    except Exception:  # noqa: BLE001 - the face box is a refinement: never fail a render over it
        session.rollback()
        log.exception("face detection on avatar %s failed; keeping its face box", avatar.id)
        return session.get(Avatar, avatar.id)


def _still_mine(session, queue: list[_Work], worker: str) -> list[_Work]:
    """Drop poses that were cancelled or handed to another worker since we claimed them."""
    if not queue:
        return queue
    ids = [w.pose.id for w in queue]
    mine = set(session.exec(select(GeneratedPose.id).where(GeneratedPose.id.in_(ids), GeneratedPose.status == "running",
                                                           GeneratedPose.worker_id == worker)))
    session.commit()
    return [w for w in queue if w.pose.id in mine]


def _store(session, generation, batch: list[_Work], judged: list[Judged], *, store, settings, worker: str
           ) -> list[_Work]:
    """Store a judged micro-batch in ONE transaction: the kept images' files, every pose's row, the templates'
    statistics, the refunds of the failed and the analytics count. Returns the poses to try again."""
    again, kept, failed = [], [], []
    for j in judged:
        w = j.work
        if j.broken is not None:
            failed.append((w, _broken_reason(generation, j.broken), dict(attempts=w.attempt, kind=INFRASTRUCTURE,
                                                                         extra=j.rendered_by)))
            continue
        quality, face = j.quality, j.face
        why, kind = (quality.reason, POSE) if not quality.accepted else (below(face, settings.identity_threshold), IDENTITY)
        if not quality.accepted or why is not None:
            if w.attempt < settings.max_attempts:
                again.append(w)
            else:
                code = "render.check_failed" if kind == POSE else "render.identity_failed"
                failed.append((w, Message(code, attempts=w.attempt, reason=why),
                               dict(score=quality.score, attempts=w.attempt, kind=kind, identity=face)))
            continue
        kept.append(j)
    try:
        with store.staged() as staged:
            stored = [(j.work.pose.cost, _accept(session, generation, j, staged, store, worker=worker)) for j in kept]
            lost = [w.pose.cost for w, reason, how in failed
                    if _fail(session, generation, w.pose, reason, worker=worker, **how)]
            done = [(cost, seconds) for cost, seconds in stored if seconds is not None]
            if done:
                metrics.record_created(session, user_id=generation.user_id, brand_kit_id=generation.brand_kit_id,
                                       design_type="pose", seconds=sum(s for _, s in done), count=len(done),
                                       at=utcnow(), settings=settings)
            bump(session, generation_id=generation.id, done=len(done), failed=len(lost),
                 used=sum(cost for cost, _ in done), refunded=sum(lost))
            session.commit()
    finally:
        for w in batch:
            session.expire(w.pose)
    return again


def _broken_reason(generation, broken: tuple[Exception, Message]) -> Message:
    exc, what = broken
    if isinstance(exc, DomainError):
        return short(exc.msg)
    log.warning("generation %s: %s (%s)", generation.id, what.english, type(exc).__name__)
    return Message("render.broken", what=what, error=type(exc).__name__)


def _plan(product, cutout, keypoints, size, mode: str):
    """How the product goes into this pose (core.generation.product), or None without a product."""
    from core.generation.product import plan_product

    if product is None:
        return None
    return plan_product(cutout=cutout, keypoints=keypoints, placement=product.placement,
                        product_type=product.product_type, size=size, mode=mode)


_SET_IF_MINE: dict[bool, sa.Update] = {}


def _set_if_mine(session, pose: GeneratedPose, worker: str | None, values: dict) -> bool:
    """UPDATE one pose's row with `values` only while it is running and this worker's; True if it was. A Core
    statement built once per process (the SET clause comes from the keys of `values`, compiled once per set of
    keys by SQLAlchemy's cache) on the session's connection: the ORM's update path cost more than the statement
    and nothing loaded mirrors it; _store expires the poses."""
    stmt = _SET_IF_MINE.get(worker is not None)
    if stmt is None:
        G = GeneratedPose.__table__
        where = [G.c.id == sa.bindparam("where_id"), G.c.status == "running"]
        if worker is not None:
            where.append(G.c.worker_id == sa.bindparam("where_worker"))
        stmt = _SET_IF_MINE[worker is not None] = sa.update(G).where(*where)
    params = {**values, "where_id": pose.id, **({"where_worker": worker} if worker is not None else {})}
    return session.connection().execute(stmt, params).rowcount == 1


def _accept(session, generation, j: Judged, staged, store, *, worker: str) -> float | None:
    """Write a kept image's files (in the caller's staged block) and mark its row done — only while the pose is
    still ours. Returns its render seconds, or None when it was no longer ours (its files are then removed again,
    unless the worker that holds it now writes these very keys). The caller commits."""
    from core.images import encode_image, make_thumbnail

    w, image, quality, identity = j.work, j.image, j.quality, j.face
    pose = w.pose
    # a drawn product is the shop's exact pixels: a lossless file keeps them so (JPEG would not)
    data, ext, _ = encode_image(image, lossless=w.plan is not None and w.plan.mode in ("inpaint", "paste"))
    control_png = io.BytesIO()
    w.control.save(control_png, "PNG", compress_level=1)
    seed = retry_seed(pose.seed, w.attempt - 1)
    name = f"g{generation.id}-p{pose.position}-r{pose.round}-s{seed}"
    keys = {kind: store.fixed_key(user_id=pose.user_id, kind=kind, name=name, ext=e)
            for kind, e in (("pose", ext), ("pose-thumb", "jpg"), ("pose-control", "png"))}
    mark = len(staged.keys)
    staged.put(keys["pose"], data)
    staged.put(keys["pose-thumb"], make_thumbnail(image))
    staged.put(keys["pose-control"], control_png.getvalue())
    values = dict(status="done", image_path=keys["pose"], thumbnail_path=keys["pose-thumb"],
                  control_path=keys["pose-control"], seed=seed,
                  attempts=w.attempt, error=None, error_code=None, error_params=None, quality_score=quality.score,
                  quality_checked=quality.checked, render_seconds=round(time.perf_counter() - w.started, 3),
                  pipeline_seconds=round(w.pipeline, 3), product_box=w.box, finished_at=utcnow(),
                  product_mode=w.plan.mode if w.plan is not None else None, product_fidelity=w.fidelity,
                  **_identity_values(identity), **(j.rendered_by or {}))
    if not _set_if_mine(session, pose, worker, values):   # no longer ours: nothing changed
        log.info("pose %s of generation %s is no longer ours; result dropped", pose.position, generation.id)
        mine = staged.keys[mark:]
        del staged.keys[mark:]
        if not _may_use(session, pose, worker, keys["pose"]):
            for key in mine:
                store.delete(key)
        # else another worker renders this very seed and writes these keys: leave them
        return None
    if pose.template_id and quality.checked:  # "not checked" is no success: the template's rate stays
        lib.record_result(session, template_id=pose.template_id, accepted=True, quality_score=quality.score)
    return values["render_seconds"]


def _may_use(session, pose: GeneratedPose, worker: str, key: str) -> bool:
    """Whether another worker that holds this pose now may store (or has stored) the same file key."""
    row = session.exec(select(GeneratedPose.status, GeneratedPose.worker_id, GeneratedPose.image_path)
                       .where(GeneratedPose.id == pose.id)).first()
    return (row is not None and row[0] in ("running", "done") and row[1] != worker
            and row[2] in (None, key))


def _identity_values(identity) -> dict:
    if identity is None:
        return {"identity_score": None, "identity": None}
    return {"identity_score": identity.score, "identity": identity.to_dict()}


def _fail(session, generation, pose: GeneratedPose, reason: Message, *, score=None, attempts=None,
          worker: str | None = None, kind: str = POSE, identity=None, extra: dict | None = None) -> bool:
    """Mark a running pose failed and refund what it held — only if it is still ours. Only a pose failure
    (kind POSE, after its attempts) counts against its template; an infrastructure failure does not. The caller
    commits (with the rest of its micro-batch). Returns whether the pose was still ours (and is now failed)."""
    values = dict(status="failed", error=reason.english, error_code=reason.code,
                  error_params=reason.to_dict()["params"], finished_at=utcnow(), quality_score=score,
                  failure_kind=kind, **_identity_values(identity), **(extra or {}))
    if attempts is not None:
        values["attempts"] = attempts
    if not _set_if_mine(session, pose, worker, values):   # no longer ours: nothing changed
        return False
    if pose.template_id is not None and attempts is not None and kind == POSE:
        lib.record_result(session, template_id=pose.template_id, accepted=False, quality_score=score)
    refund_pose(session, generation_id=generation.id, user_id=pose.user_id, position=pose.position,
                round_=pose.round, amount=pose.cost, reason=reason.english)
    return True
