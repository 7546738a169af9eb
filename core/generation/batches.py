"""What a user does with a running or finished batch: status with ETA, cancel, results with filters, one
result, rating, the list of batches, and the pose generator's stats. Starting one is core.generation.planning.
"""
from __future__ import annotations

from datetime import datetime, timezone

import sqlalchemy as sa
from sqlmodel import Session, select

from core.errors import Conflict, ValidationFailed
from core.generation.checks import INFRASTRUCTURE
from core.messages import Message
from core.generation.state import ACTIVE, APP, get, refresh, refund_pose
from core import system
from core.records import get_owned, list_owned
from core.schemas import CamelModel
from db.models import CreditLedger, GeneratedPose, PoseGeneration, User, utcnow


# show= of the results: (statuses, quality_checked or None for either). "accepted" is a measured pass only;
# an image nobody could check is "notChecked", counted on its own.
RESULT_FILTERS = {"all": None, "accepted": (("done",), True), "notChecked": (("done",), False),
                  "failed": (("failed",), None), "pending": (("pending", "running"), None),
                  "cancelled": (("cancelled",), None)}
CANCELLED = Message("render.cancelled")


def failure(pose) -> Message | str | None:
    """Why a pose failed or was cancelled, as its stored message (shown in the reader's language); the English
    text for rows written before messages were stored by code."""
    if getattr(pose, "error_code", None):
        return Message(pose.error_code, **(pose.error_params or {}))
    return pose.error


def shows(show: str, pose) -> bool:
    """Whether `pose` is in the results filter `show` (the page filters rows it already has)."""
    wanted = RESULT_FILTERS.get(show or "all")
    if wanted is None:
        return True
    statuses, checked = wanted
    return pose.status in statuses and (checked is None or bool(pose.quality_checked) == checked)


class BatchStatus(CamelModel):
    id: int
    status: str
    progress: float
    total: int
    done: int
    failed: int
    cancelled: int
    pending: int
    running: int
    accepted: int = 0               # done and the pose check passed
    not_checked: int = 0            # done, but no check could run: neither accepted nor failed
    infrastructure_failed: int = 0  # of `failed`: a model missing or the engine broke, not the pose
    infrastructure_reason: str | None = None   # the latest such reason (English)
    infrastructure_message: dict | None = None  # the same as {"code", "params"}, for the reader's language
    identity_measured: int = 0                  # finished images whose face was compared with the avatar's
    identity_mean: float | None = None          # their mean identity score (None: none measured)
    checks: dict | None = None      # what runs: {"likeness": {"on", "reason"}, "poseCheck": {"on", "reason"}}
    # models downloading for the engine while the batch waits for its first image (engine.downloads):
    # [{"role", "model", "done", "total", "text", "message": {"code", "params"}}]
    downloads: list[dict] = []
    eta_seconds: float | None
    credits_reserved: int
    credits_used: int
    credits_refunded: int
    started_at: datetime | None
    completed_at: datetime | None


def status(session: Session, *, user: User, generation_id: int, settings=None) -> BatchStatus:
    """The batch's counts, ETA and credits; with `settings`, a batch still waiting for its first image also
    carries the model downloads it waits for."""
    g = get(session, user=user, generation_id=generation_id)
    rows = session.execute(select(GeneratedPose.status, sa.func.count(), sa.func.max(GeneratedPose.finished_at))
                           .where(GeneratedPose.generation_id == g.id).group_by(GeneratedPose.status)).all()
    counts = {s: n for s, n, _ in rows}
    last = max((at for s, _, at in rows if s in ("done", "failed") and at is not None), default=None, key=_utc)
    done, failed = counts.get("done", 0), counts.get("failed", 0)
    left = counts.get("pending", 0) + counts.get("running", 0)
    eta = None
    if left and g.started_at and done + failed:
        eta = _eta(g, finished=done + failed, left=left, last=last)
    G = GeneratedPose
    unchecked, faces, face_mean = session.execute(
        select(sa.func.count().filter(G.quality_checked.is_(False)), sa.func.count(G.identity_score),
               sa.func.avg(G.identity_score)).where(G.generation_id == g.id, G.status == "done")).one()
    broken = session.execute(select(G.error, G.error_code, G.error_params)
                             .where(G.generation_id == g.id, G.status == "failed", G.failure_kind == INFRASTRUCTURE)
                             .order_by(G.finished_at.desc(), G.id.desc())).all()
    return BatchStatus(id=g.id, status=g.status, progress=g.progress, total=sum(counts.values()), done=done,
                       failed=failed, cancelled=counts.get("cancelled", 0), pending=counts.get("pending", 0),
                       running=counts.get("running", 0), eta_seconds=eta, credits_reserved=g.credits_reserved,
                       credits_used=g.credits_used, credits_refunded=g.credits_refunded, started_at=g.started_at,
                       completed_at=g.completed_at, accepted=done - unchecked, not_checked=unchecked,
                       infrastructure_failed=len(broken), infrastructure_reason=broken[0].error if broken else None,
                       infrastructure_message=(Message(broken[0].error_code, **(broken[0].error_params or {})).to_dict()
                                               if broken and broken[0].error_code else None),
                       checks=(g.options or {}).get("checks"), identity_measured=faces,
                       identity_mean=None if face_mean is None else round(float(face_mean), 4),
                       downloads=(system.model_downloads(settings) if settings is not None and g.status in ACTIVE
                                  and done + failed == 0 else []))


def _eta(g: PoseGeneration, *, finished: int, left: int, last: datetime | None) -> float:
    """Seconds left: the batch's pace so far (time from its start to its latest finished pose `last`, per
    finished pose: what the engine and the workers together really deliver) times what is left, minus the time
    since that latest pose. So it counts down between images instead of growing while one renders."""
    started, last, now = (_utc(t) for t in (g.started_at, last or utcnow(), utcnow()))
    pace = max(0.0, (last - started).total_seconds()) / finished
    return round(max(0.0, pace * left - max(0.0, (now - last).total_seconds())), 1)


def _utc(at: datetime) -> datetime:
    return at if at.tzinfo else at.replace(tzinfo=timezone.utc)


def cancel(session: Session, *, user: User, generation_id: int) -> PoseGeneration:
    """Stop what has not finished: pending and running poses become cancelled and are refunded; finished
    poses stay. A worker that is rendering a cancelled pose drops its result (core.generation)."""
    g = get(session, user=user, generation_id=generation_id)
    if g.status not in ACTIVE:
        raise Conflict("generation.nothing_to_cancel", id=g.id, batch_status=g.status)
    G = GeneratedPose
    stopped = session.execute(sa.update(G).where(G.generation_id == g.id, G.status.in_(ACTIVE))
                              .values(status="cancelled", finished_at=utcnow(), error=CANCELLED.english,
                                      error_code=CANCELLED.code, error_params={})
                              .returning(G.position, G.round, G.cost)).all()
    for position, round_, cost in stopped:
        refund_pose(session, generation_id=g.id, user_id=user.id, position=position, round_=round_, amount=cost,
                    reason="Cancelled by the user.")
    g.status, g.completed_at = "cancelled", utcnow()
    session.add(g)
    session.commit()
    return refresh(session, g)


def get_pose(session: Session, *, user: User, pose_id: int) -> GeneratedPose:
    return get_owned(session, GeneratedPose, pose_id, user_id=user.id, label="Result")


def results(session: Session, *, user: User, generation_id: int, show: str = "all", limit: int = 100,
            offset: int = 0) -> tuple[list[GeneratedPose], int]:
    if show not in RESULT_FILTERS:
        raise ValidationFailed("generation.show_invalid", known=list(RESULT_FILTERS), field="show")
    if not 1 <= limit <= 500 or offset < 0:
        raise ValidationFailed("records.page_out_of_range", most=500, field="limit")
    g = get(session, user=user, generation_id=generation_id)
    G = GeneratedPose
    where = [G.generation_id == g.id]
    if RESULT_FILTERS[show]:
        statuses, checked = RESULT_FILTERS[show]
        where.append(G.status.in_(statuses))
        if checked is not None:
            where.append(G.quality_checked.is_(checked))
    total = session.exec(select(sa.func.count()).select_from(G).where(*where)).one()
    rows = list(session.exec(select(G).where(*where).order_by(G.position).limit(limit).offset(offset)))
    return rows, total


def rate(session: Session, *, user: User, pose_id: int, rating: int | None) -> GeneratedPose:
    """Rate a finished image 1-5 (None clears the rating)."""
    if rating is not None and (isinstance(rating, bool) or not isinstance(rating, int) or not 1 <= rating <= 5):
        raise ValidationFailed("generation.rating_invalid", value=repr(rating), field="rating")
    pose = get_pose(session, user=user, pose_id=pose_id)
    if pose.status != "done":
        raise Conflict("generation.rate_unfinished", pose_status=pose.status)
    pose.rating = rating
    session.add(pose)
    session.commit()
    session.refresh(pose)
    return pose


def list_generations(session: Session, *, user: User, project_id: int | None = None, limit: int = 50,
                     offset: int = 0) -> tuple[list[PoseGeneration], int]:
    return list_owned(session, PoseGeneration, user_id=user.id, filters={"project_id": project_id},
                      order_by=(PoseGeneration.created_at.desc(), PoseGeneration.id.desc()), limit=limit,
                      offset=offset)


def stats(session: Session, *, user: User) -> dict:
    """The pose generator's numbers for one user (GET /api/apps/pose-generator/stats)."""
    G, P = GeneratedPose, PoseGeneration
    by_status = dict(session.execute(select(G.status, sa.func.count()).where(G.user_id == user.id)
                                     .group_by(G.status)).all())
    unchecked, broken = session.execute(
        select(sa.func.count().filter(G.status == "done", G.quality_checked.is_(False)),
               sa.func.count().filter(G.status == "failed", G.failure_kind == INFRASTRUCTURE))
        .where(G.user_id == user.id)).one()
    gens = dict(session.execute(select(P.status, sa.func.count()).where(P.user_id == user.id)
                                .group_by(P.status)).all())
    avg_render, avg_rating, rated = session.execute(
        select(sa.func.avg(G.render_seconds), sa.func.avg(G.rating), sa.func.count(G.rating))
        .where(G.user_id == user.id, G.status == "done")).one()
    spent = session.execute(select(sa.func.coalesce(sa.func.sum(-CreditLedger.delta), 0))
                            .where(CreditLedger.user_id == user.id,
                                   CreditLedger.app_id == APP)).scalar()
    done, failed = by_status.get("done", 0), by_status.get("failed", 0)
    # the success rate is over measured outcomes: passed checks against pose failures. "Not checked" images and
    # infrastructure failures (model missing, engine broke) are counted on their own, in neither side.
    accepted, pose_failed = done - unchecked, failed - broken
    return {"generations": sum(gens.values()), "generationsByStatus": gens, "images": done, "failed": failed,
            "accepted": accepted, "notChecked": unchecked, "poseFailed": pose_failed, "infrastructureFailed": broken,
            "cancelled": by_status.get("cancelled", 0),
            "inProgress": by_status.get("pending", 0) + by_status.get("running", 0),
            "successRate": round(accepted / (accepted + pose_failed), 4) if accepted + pose_failed else None,
            "avgRenderSeconds": round(float(avg_render), 3) if avg_render is not None else None,
            "avgRating": round(float(avg_rating), 2) if avg_rating is not None else None, "ratedImages": rated,
            "creditsSpent": int(spent)}
