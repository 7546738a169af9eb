"""Batches: plan N poses in one transaction, hand them to the runner, and everything a user does with a
running or finished batch (status with ETA, cancel, retry the failed, re-render one with a new seed,
results with filters, rating, projects, stats).

Prices (the seed's): generatePose 10 per pose; a batch of BULK_FROM poses or more is charged
batchGeneration, 5 per pose; retrying failed poses is retryFailedPose, 5 each. Each pose row records
what it holds (`cost`), and a failed or cancelled pose gets exactly that back (core.generation.refund_pose).
"""
from __future__ import annotations

import random
import secrets
from datetime import datetime, timezone
from typing import Literal

import sqlalchemy as sa
from pydantic import Field, model_validator
from sqlmodel import Session, select

from core import credits, projects, work
from core import pose_library as lib
from core.errors import Conflict, NotFound, ValidationFailed
from core.generation import APP, SEED_LIMIT, _inputs, output_size, refresh, refund_pose
from core.records import get_owned
from core.schemas import CamelModel
from core.settings import Settings
from db.models import CreditLedger, GeneratedPose, PoseGeneration, PoseTemplate, User, utcnow

BULK_FROM = 100
QUALITY_STEPS = {"draft": 0.5, "standard": 1.0, "high": 1.6}   # x ENGINE_STEPS
RESULT_FILTERS = {"all": None, "accepted": ("done",), "failed": ("failed",), "pending": ("pending", "running"),
                  "cancelled": ("cancelled",)}


class BatchRequest(CamelModel):
    brand_kit_id: int
    avatar_id: int
    product_id: int
    project_id: int | None = None
    total_poses: int | None = Field(default=None, ge=1)
    pose_distribution: dict[str, int] | None = None
    template_ids: list[int] | None = Field(default=None, min_length=1)
    allow_repeats: bool = False
    size: str = "portrait"
    quality: Literal["draft", "standard", "high"] = "standard"
    seed: int | None = Field(default=None, ge=0, le=SEED_LIMIT)
    extra_prompt: str | None = Field(default=None, max_length=500)

    @model_validator(mode="after")
    def _one_way_to_pick(self):
        if (self.pose_distribution is None) == (self.template_ids is None):
            raise ValueError("give either poseDistribution (poses per category) or templateIds, not both")
        if self.pose_distribution is not None:
            if not self.pose_distribution or any(n < 0 for n in self.pose_distribution.values()):
                raise ValueError("poseDistribution needs at least one category with a number of poses >= 0")
            wanted = sum(self.pose_distribution.values())
        else:
            wanted = len(self.template_ids)
        if wanted < 1:
            raise ValueError("ask for at least one pose")
        if self.total_poses is not None and self.total_poses != wanted:
            what = "the poseDistribution adds up to" if self.pose_distribution is not None else "templateIds has"
            raise ValueError(f"totalPoses is {self.total_poses} but {what} {wanted}")
        self.total_poses = wanted
        return self


def unit_price(total: int) -> tuple[str, int]:
    """(ledger action, credits per pose) for a batch of `total` poses."""
    action = "batchGeneration" if total >= BULK_FROM else "generatePose"
    return action, credits.cost(APP, action)


# --- choosing templates ------------------------------------------------------------------------------

def _expected(t: PoseTemplate) -> float:
    return (t.success_count + lib.PRIOR_SUCCESS * lib.PRIOR_WEIGHT) / (t.usage_count + lib.PRIOR_WEIGHT)


def choose_templates(session: Session, *, distribution: dict[str, int], rng: random.Random, allow_repeats: bool,
                     gender: str | None = None) -> list[PoseTemplate]:
    """Templates for each category: drawn by expected success rate (weighted, without replacement), with
    variety — each pick of a subcategory makes the next pick from it less likely. The same template comes
    twice only when allow_repeats is set and the category has too few."""
    T = PoseTemplate
    where = [T.is_active.is_(True)]
    if gender in ("female", "male"):
        where.append(T.gender.in_([gender, "unisex"]))
    known = dict(session.execute(select(T.category, sa.func.count()).where(*where).group_by(T.category)).all())
    unknown = sorted(c for c, n in distribution.items() if n and c not in known)
    if unknown:
        everywhere = set(session.exec(select(T.category).where(T.is_active.is_(True)).distinct()))
        for_other = [c for c in unknown if c in everywhere]
        if for_other:
            raise ValidationFailed(f"“{for_other[0]}” has no active poses for a {gender} avatar; choose from "
                                   f"{', '.join(sorted(known))}.", field="poseDistribution")
        raise ValidationFailed(f"Unknown pose categor{'y' if len(unknown) == 1 else 'ies'} {', '.join(unknown)}: "
                               f"choose from {', '.join(sorted(known))}.", field="poseDistribution")
    for category, n in distribution.items():
        if n > known.get(category, 0) and not allow_repeats:
            raise ValidationFailed(
                f"“{category}” has {known[category]} active poses and you asked for {n}. Ask for fewer, or allow "
                "repeats (a repeated pose gets a different seed).", field="poseDistribution")
    picked: list[PoseTemplate] = []
    for category in sorted(distribution):
        n = distribution[category]
        if n <= 0:
            continue
        pool = list(session.exec(select(T).where(*where, T.category == category).order_by(T.id)))
        # Efraimidis–Spirakis keys: u^(1/w) ranks a weighted draw without replacement.
        keyed = [(rng.random() ** (1.0 / max(1e-6, _expected(t) ** 2)), t) for t in pool]
        chosen, used = [], {}
        while len(chosen) < min(n, len(pool)):
            best = max(keyed, key=lambda kt: kt[0] * 0.75 ** used.get(kt[1].subcategory, 0))
            keyed.remove(best)
            chosen.append(best[1])
            used[best[1].subcategory] = used.get(best[1].subcategory, 0) + 1
        while len(chosen) < n:  # allow_repeats: go round the same good picks again
            chosen.append(chosen[len(chosen) % len(pool)])
        picked += chosen
    return picked


# --- starting ------------------------------------------------------------------------------------------

def start_batch(session: Session, *, user: User, request: BatchRequest, settings: Settings, runner) -> PoseGeneration:
    """Plan one row per pose, reserve the credits and queue the work, in one transaction. Any check that
    fails (limit, credits, someone else's avatar...) leaves nothing planned."""
    from core.prompts import PromptOverrides, build_prompt

    total = request.total_poses
    if total > settings.max_poses_per_generation:
        raise ValidationFailed(f"A batch can have at most {settings.max_poses_per_generation} poses; you asked for "
                               f"{total}.", field="totalPoses")
    kit, avatar, product = _inputs(session, user=user, kit_id=request.brand_kit_id, avatar_id=request.avatar_id,
                                   product_id=request.product_id)
    project = projects.get_project(session, user=user, project_id=request.project_id) \
        if request.project_id is not None else None
    width, height = output_size(settings, request.size)
    batch_seed = request.seed if request.seed is not None else secrets.randbelow(SEED_LIMIT)
    rng = random.Random(batch_seed)
    if request.template_ids is not None:
        templates = [lib.get(session, user=user, template_id=tid) for tid in request.template_ids]
    else:
        templates = choose_templates(session, distribution=request.pose_distribution, rng=rng,
                                     allow_repeats=request.allow_repeats, gender=avatar.gender)
    action, price = unit_price(total)
    steps = max(1, round(settings.engine_steps * QUALITY_STEPS[request.quality]))
    overrides = PromptOverrides(extra=request.extra_prompt) if request.extra_prompt else None
    generation = PoseGeneration(
        user_id=user.id, project_id=project.id if project else None, brand_kit_id=kit.id, avatar_id=avatar.id,
        product_id=product.id, total_poses=total, status="pending", pose_distribution=request.pose_distribution,
        options={"mode": "batch", "size": request.size, "width": width, "height": height, "quality": request.quality,
                 "steps": steps, "seed": batch_seed, "extraPrompt": request.extra_prompt,
                 "allowRepeats": request.allow_repeats, "unitCost": price, "priceAction": action,
                 "templateIds": request.template_ids})
    session.add(generation)
    session.flush()
    prompts: dict[int, object] = {}
    for position, template in enumerate(templates):
        if template.id not in prompts:
            prompts[template.id] = build_prompt(brand_kit=kit, avatar=avatar, product=product, template=template,
                                                overrides=overrides)
        prompt = prompts[template.id]
        session.add(GeneratedPose(user_id=user.id, generation_id=generation.id, template_id=template.id,
                                  position=position, seed=rng.randrange(SEED_LIMIT), prompt=prompt.positive,
                                  negative_prompt=prompt.negative, cost=price))
    credits.charge(session, user_id=user.id, app_id=APP, action=action, quantity=total, ref_type="generation",
                   ref_id=generation.id, idempotency_key=f"batch:{generation.id}")
    generation.credits_reserved = price * total
    session.flush()
    jobs = work.assign_jobs(session, generation_id=generation.id, positions=list(range(total)), settings=settings)
    session.commit()
    work.submit_jobs(runner, generation_id=generation.id, jobs=jobs)
    return generation


# --- while it runs ---------------------------------------------------------------------------------------

def get(session: Session, *, user: User, generation_id: int) -> PoseGeneration:
    return get_owned(session, PoseGeneration, generation_id, user_id=user.id, label="Generation")


def _locked(session: Session, *, user: User, generation_id: int) -> PoseGeneration:
    """The user's generation, row-locked until commit (Postgres; SQLite writers are serialised anyway)."""
    g = session.exec(select(PoseGeneration).where(PoseGeneration.id == generation_id).with_for_update()).first()
    if g is None or g.user_id != user.id:
        raise NotFound(f"Generation {generation_id} not found.")
    session.refresh(g)
    return g


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
    eta_seconds: float | None
    credits_reserved: int
    credits_used: int
    credits_refunded: int
    started_at: datetime | None
    completed_at: datetime | None


def status(session: Session, *, user: User, generation_id: int) -> BatchStatus:
    g = get(session, user=user, generation_id=generation_id)
    counts = dict(session.execute(select(GeneratedPose.status, sa.func.count())
                                  .where(GeneratedPose.generation_id == g.id).group_by(GeneratedPose.status)).all())
    done, failed = counts.get("done", 0), counts.get("failed", 0)
    left = counts.get("pending", 0) + counts.get("running", 0)
    eta = None
    if left and g.started_at and done + failed:
        started = g.started_at if g.started_at.tzinfo else g.started_at.replace(tzinfo=timezone.utc)
        elapsed = (utcnow() - started).total_seconds()
        eta = round(elapsed / (done + failed) * left, 1)
    return BatchStatus(id=g.id, status=g.status, progress=g.progress, total=sum(counts.values()), done=done,
                       failed=failed, cancelled=counts.get("cancelled", 0), pending=counts.get("pending", 0),
                       running=counts.get("running", 0), eta_seconds=eta, credits_reserved=g.credits_reserved,
                       credits_used=g.credits_used, credits_refunded=g.credits_refunded, started_at=g.started_at,
                       completed_at=g.completed_at)


def cancel(session: Session, *, user: User, generation_id: int) -> PoseGeneration:
    """Stop what has not finished: pending and running poses become cancelled and are refunded; finished
    poses stay. A worker that is rendering a cancelled pose drops its result (core.generation)."""
    g = get(session, user=user, generation_id=generation_id)
    if g.status not in work.ACTIVE:
        raise Conflict(f"Generation {g.id} is already {g.status}; there is nothing to cancel.")
    G = GeneratedPose
    stopped = session.execute(sa.update(G).where(G.generation_id == g.id, G.status.in_(work.ACTIVE))
                              .values(status="cancelled", finished_at=utcnow(), error="Cancelled.")
                              .returning(G.position, G.round, G.cost)).all()
    for position, round_, cost in stopped:
        refund_pose(session, generation_id=g.id, user_id=user.id, position=position, round_=round_, amount=cost,
                    reason="Cancelled by the user.")
    g.status, g.completed_at = "cancelled", utcnow()
    session.add(g)
    session.commit()
    return refresh(session, g)


def retry_failed(session: Session, *, user: User, generation_id: int, settings: Settings, runner) -> int:
    """Queue the failed poses again with new seeds (retryFailedPose each). Returns how many."""
    g = _locked(session, user=user, generation_id=generation_id)
    if g.status == "cancelled":
        raise Conflict(f"Generation {g.id} was cancelled; start a new batch instead.")
    G = GeneratedPose
    failed = list(session.exec(select(G).where(G.generation_id == g.id, G.status == "failed").order_by(G.position)))
    if not failed:
        raise Conflict(f"Generation {g.id} has no failed poses to retry.")
    price = credits.cost(APP, "retryFailedPose")
    # a round number never used in this batch: it names the charge and every refund of the round
    round_ = session.execute(select(sa.func.max(G.round)).where(G.generation_id == g.id)).scalar() + 1
    credits.charge(session, user_id=user.id, app_id=APP, action="retryFailedPose", quantity=len(failed),
                   ref_type="generation", ref_id=g.id, idempotency_key=f"retry:{g.id}:{round_}")
    for p in failed:
        p.status, p.round, p.cost, p.error, p.finished_at = "pending", round_, price, None, None
        p.seed, p.attempts, p.quality_score, p.worker_id = secrets.randbelow(SEED_LIMIT), 0, None, None
        session.add(p)
    g.status, g.completed_at, g.started_at = "running", None, utcnow()   # the ETA counts from the re-opening
    session.add(g)
    session.flush()
    jobs = work.assign_jobs(session, generation_id=g.id, positions=[p.position for p in failed], settings=settings)
    session.commit()
    work.submit_jobs(runner, generation_id=g.id, jobs=jobs)
    refresh(session, g)
    return len(failed)


def rerender(session: Session, *, user: User, pose_id: int, settings: Settings, runner,
             seed: int | None = None) -> GeneratedPose:
    """The same template, prompt and size with a new seed, as a new image in the same batch (generatePose).
    The original stays."""
    original = get_pose(session, user=user, pose_id=pose_id)
    if original.status not in ("done", "failed"):
        raise Conflict(f"Result {original.id} is still {original.status}; re-render it once it has finished.")
    g = _locked(session, user=user, generation_id=original.generation_id)   # one new position at a time
    if g.status == "cancelled":
        raise Conflict(f"Generation {g.id} was cancelled; start a new batch instead.")
    price = credits.cost(APP, "generatePose")
    position = session.execute(select(sa.func.max(GeneratedPose.position))
                               .where(GeneratedPose.generation_id == g.id)).scalar() + 1
    pose = GeneratedPose(user_id=user.id, generation_id=g.id, template_id=original.template_id, position=position,
                         seed=seed if seed is not None else secrets.randbelow(SEED_LIMIT), prompt=original.prompt,
                         negative_prompt=original.negative_prompt, cost=price)
    session.add(pose)
    credits.charge(session, user_id=user.id, app_id=APP, action="generatePose", ref_type="generation",
                   ref_id=g.id, idempotency_key=f"pose:{g.id}:{position}")
    if g.status not in work.ACTIVE:
        g.started_at = utcnow()   # the ETA counts from the re-opening
    g.status, g.completed_at, g.total_poses = "running", None, g.total_poses + 1
    session.add(g)
    session.flush()
    jobs = work.assign_jobs(session, generation_id=g.id, positions=[position], settings=settings)
    session.commit()
    work.submit_jobs(runner, generation_id=g.id, jobs=jobs)
    session.refresh(pose)
    return pose


# --- results -----------------------------------------------------------------------------------------------

def get_pose(session: Session, *, user: User, pose_id: int) -> GeneratedPose:
    return get_owned(session, GeneratedPose, pose_id, user_id=user.id, label="Result")


def results(session: Session, *, user: User, generation_id: int, show: str = "all", limit: int = 100,
            offset: int = 0) -> tuple[list[GeneratedPose], int]:
    if show not in RESULT_FILTERS:
        raise ValidationFailed(f"show must be one of {', '.join(RESULT_FILTERS)}.", field="show")
    if not 1 <= limit <= 500 or offset < 0:
        raise ValidationFailed("limit must be 1-500 and offset 0 or more.", field="limit")
    g = get(session, user=user, generation_id=generation_id)
    G = GeneratedPose
    where = [G.generation_id == g.id]
    if RESULT_FILTERS[show]:
        where.append(G.status.in_(RESULT_FILTERS[show]))
    total = session.exec(select(sa.func.count()).select_from(G).where(*where)).one()
    rows = list(session.exec(select(G).where(*where).order_by(G.position).limit(limit).offset(offset)))
    return rows, total


def rate(session: Session, *, user: User, pose_id: int, rating: int | None) -> GeneratedPose:
    """Rate a finished image 1-5 (None clears the rating)."""
    if rating is not None and (isinstance(rating, bool) or not isinstance(rating, int) or not 1 <= rating <= 5):
        raise ValidationFailed(f"A rating is a whole number from 1 to 5, got {rating!r}.", field="rating")
    pose = get_pose(session, user=user, pose_id=pose_id)
    if pose.status != "done":
        raise Conflict(f"Only finished images can be rated; this one is {pose.status}.")
    pose.rating = rating
    session.add(pose)
    session.commit()
    session.refresh(pose)
    return pose


def list_generations(session: Session, *, user: User, project_id: int | None = None, limit: int = 50,
                     offset: int = 0) -> tuple[list[PoseGeneration], int]:
    from core.records import list_owned

    return list_owned(session, PoseGeneration, user_id=user.id, filters={"project_id": project_id},
                      order_by=(PoseGeneration.created_at.desc(), PoseGeneration.id.desc()), limit=limit,
                      offset=offset)


# --- stats ----------------------------------------------------------------------------------------------

def stats(session: Session, *, user: User) -> dict:
    """The pose generator's numbers for one user (GET /api/apps/pose-generator/stats)."""
    G, P = GeneratedPose, PoseGeneration
    by_status = dict(session.execute(select(G.status, sa.func.count()).where(G.user_id == user.id)
                                     .group_by(G.status)).all())
    gens = dict(session.execute(select(P.status, sa.func.count()).where(P.user_id == user.id)
                                .group_by(P.status)).all())
    avg_render, avg_rating, rated = session.execute(
        select(sa.func.avg(G.render_seconds), sa.func.avg(G.rating), sa.func.count(G.rating))
        .where(G.user_id == user.id, G.status == "done")).one()
    spent = session.execute(select(sa.func.coalesce(sa.func.sum(-CreditLedger.delta), 0))
                            .where(CreditLedger.user_id == user.id,
                                   CreditLedger.app_id == APP)).scalar()
    done, failed = by_status.get("done", 0), by_status.get("failed", 0)
    return {"generations": sum(gens.values()), "generationsByStatus": gens, "images": done, "failed": failed,
            "cancelled": by_status.get("cancelled", 0),
            "inProgress": by_status.get("pending", 0) + by_status.get("running", 0),
            "successRate": round(done / (done + failed), 4) if done + failed else None,
            "avgRenderSeconds": round(float(avg_render), 3) if avg_render is not None else None,
            "avgRating": round(float(avg_rating), 2) if avg_rating is not None else None, "ratedImages": rated,
            "creditsSpent": int(spent)}
