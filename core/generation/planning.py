"""Planning: every way a render starts goes through here — try one pose, a batch, retry the failed, re-render
one — and each does the same three things in one transaction: check ownership and inputs, write one row per
pose (template, seed, prompt, what it costs) with one ledger charge, then hand the committed ids to the runner
(core.generation.work.dispatch). A check that fails leaves nothing planned and nothing charged.

Prices (the seed's): generatePose 10 per pose; a batch of BULK_FROM poses or more is charged batchGeneration,
5 per pose; retrying failed poses is retryFailedPose, 5 each. Each pose row records what it holds (`cost`), and a
failed or cancelled pose gets exactly that back (core.generation.state.refund_pose).
"""
from __future__ import annotations

import random
import secrets
from typing import Annotated, Literal

import sqlalchemy as sa
from pydantic import BeforeValidator, Field, model_validator
from sqlmodel import Session, select

from core.accounts import credits
from core.errors import Conflict, ValidationFailed
from core.generation import checks, projects, work
from core.generation.batches import get_pose
from core.generation.state import ACTIVE, APP, SEED_LIMIT, inputs, locked, refresh
from core.library import templates as lib
from core.messages import Message, invalid
from core import seed_vocabulary
from core.schemas import CamelModel
from core.settings import Settings
from core.sizes import output_size
from db.models import GeneratedPose, PoseGeneration, PoseTemplate, User, utcnow


BULK_FROM = 100
# A pose row's JSON columns as an ORM insert writes an unset one (JSON null, not SQL NULL): the bulk insert of
# start_batch writes them the same.
_UNSET_JSON = {c.key: None for c in GeneratedPose.__table__.columns
               if isinstance(getattr(c.type, "impl", c.type), sa.JSON)}
QUALITY_STEPS = {"draft": 0.5, "standard": 1.0, "high": 1.6}   # x ENGINE_STEPS


class TryOne(CamelModel):
    brand_kit_id: int
    avatar_id: int
    product_id: int
    template_id: int
    seed: int | None = Field(default=None, ge=0, le=SEED_LIMIT)
    size: str = "portrait"
    extra_prompt: str | None = Field(default=None, max_length=500)


class BatchRequest(CamelModel):
    brand_kit_id: int
    avatar_id: int
    product_id: int
    project_id: int | None = None
    total_poses: int | None = Field(default=None, ge=1)
    # the library's categories; the seed's pose kinds (standing, walking, sitting...) are mapped to them
    pose_distribution: Annotated[dict[str, int], BeforeValidator(seed_vocabulary.distribution)] | None = None
    template_ids: list[int] | None = Field(default=None, min_length=1)
    allow_repeats: bool = False
    size: str = "portrait"
    quality: Literal["draft", "standard", "high"] = "standard"
    seed: int | None = Field(default=None, ge=0, le=SEED_LIMIT)
    extra_prompt: str | None = Field(default=None, max_length=500)

    @model_validator(mode="after")
    def _one_way_to_pick(self):
        if (self.pose_distribution is None) == (self.template_ids is None):
            raise invalid("planning.one_way")
        if self.pose_distribution is not None:
            if not self.pose_distribution or any(n < 0 for n in self.pose_distribution.values()):
                raise invalid("planning.distribution_empty")
            wanted = sum(self.pose_distribution.values())
        else:
            wanted = len(self.template_ids)
        if wanted < 1:
            raise invalid("planning.no_poses")
        if self.total_poses is not None and self.total_poses != wanted:
            if self.pose_distribution is not None:
                raise invalid("planning.total_vs_distribution", total=self.total_poses, wanted=wanted)
            raise invalid("planning.total_vs_templates", total=self.total_poses, wanted=wanted)
        self.total_poses = wanted
        return self


def unit_price(total: int) -> tuple[str, int]:
    """(ledger action, credits per pose) for a batch of `total` poses."""
    action = "batchGeneration" if total >= BULK_FROM else "generatePose"
    return action, credits.cost(APP, action)


def _expected(t) -> float:
    return (t.success_count + lib.PRIOR_SUCCESS * lib.PRIOR_WEIGHT) / (t.usage_count + lib.PRIOR_WEIGHT)


VARIETY = 0.75   # each pick from a subcategory multiplies the keys of the rest of it by this


def _draw(keys: list[float], groups: list, k: int) -> list[int]:
    """The first k picks (indices) of: take the i with the largest keys[i] * VARIETY ** (picks so far from
    groups[i]), on a tie the lowest i, until k are taken. That is max() over the remaining items in order,
    k times (O(k * n)); here each group's items are kept sorted by key, so a pick looks at one item per group."""
    by_group: dict = {}
    for i, g in enumerate(groups):
        by_group.setdefault(g, []).append(i)
    for members in by_group.values():
        members.sort(key=lambda i: (-keys[i], i))
    used = dict.fromkeys(by_group, 0)
    out: list[int] = []
    while len(out) < k:
        best = best_value = best_group = best_at = None
        for g, members in by_group.items():
            f = VARIETY ** used[g]
            top, at = keys[members[0]] * f, 0
            # keys that differ can be equal once scaled (rounding; tiny keys that become 0): the lowest index
            # among those wins, as it does in max(). Scaling keeps the order, so they come first in the list.
            j = 1
            while j < len(members) and keys[members[j]] * f == top:
                if members[j] < members[at]:
                    at = j
                j += 1
            if best is None or top > best_value or (top == best_value and members[at] < best):
                best, best_value, best_group, best_at = members[at], top, g, at
        by_group[best_group].pop(best_at)
        if not by_group[best_group]:
            del by_group[best_group]
        used[best_group] += 1
        out.append(best)
    return out


def choose_templates(session: Session, *, distribution: dict[str, int], rng: random.Random, allow_repeats: bool,
                     gender: str | None = None) -> list[sa.Row]:
    """Templates for each category: drawn by expected success rate (weighted, without replacement), with
    variety — each pick of a subcategory makes the next pick from it less likely. The same template comes
    twice only when allow_repeats is set and the category has too few. Returns (id, description) rows, one
    per pose in plan order — what planning needs of a template, without an ORM object per template — read in
    one query for all categories."""
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
            raise ValidationFailed("planning.not_for_gender", category=for_other[0], gender=gender,
                                   known=sorted(known), field="poseDistribution")
        if len(unknown) == 1:
            raise ValidationFailed("planning.unknown_category", categories=unknown, known=sorted(known),
                                   field="poseDistribution")
        raise ValidationFailed("planning.unknown_categories", categories=unknown, known=sorted(known),
                               field="poseDistribution")
    for category, n in distribution.items():
        if n > known.get(category, 0) and not allow_repeats:
            raise ValidationFailed("planning.too_few_poses", category=category, have=known[category], n=n,
                                   field="poseDistribution")
    wanted = sorted(c for c, n in distribution.items() if n > 0)
    pools: dict[str, list[sa.Row]] = {c: [] for c in wanted}
    for row in session.execute(select(T.id, T.description, T.category, T.subcategory, T.usage_count,
                                      T.success_count).where(*where, T.category.in_(wanted)).order_by(T.id)):
        pools[row.category].append(row)
    picked: list[sa.Row] = []
    for category in wanted:
        n, pool = distribution[category], pools[category]
        # Efraimidis–Spirakis keys: u^(1/w) ranks a weighted draw without replacement (one draw per template of
        # the category, in id order, the categories in name order: a seeded batch picks what it always has).
        keys = [rng.random() ** (1.0 / max(1e-6, _expected(t) ** 2)) for t in pool]
        chosen = [pool[i] for i in _draw(keys, [t.subcategory for t in pool], min(n, len(pool)))]
        while len(chosen) < n:  # allow_repeats: go round the same good picks again
            chosen.append(chosen[len(chosen) % len(pool)])
        picked += chosen
    return picked


def planned_engine(settings: Settings) -> dict:
    """The seed's provider / modelId of a batch as planned: ENGINE's provider ("local" for this server's own
    engine) and, for a provider, its model id setting. Rendering replaces them with what really rendered
    (core.generation.render: the loaded base model, or the provider the fallback chain ended at)."""
    from engine.providers import is_provider

    return {"provider": settings.engine if is_provider(settings.engine) else "local", "model_id": None}


def start_single(session: Session, *, user: User, request: TryOne, settings: Settings, runner) -> PoseGeneration:
    """Plan and charge one pose, then hand it to the runner. Nothing is planned when a check fails."""
    from core.prompts import PromptBuilder, PromptOverrides

    kit, avatar, product = inputs(session, user=user, kit_id=request.brand_kit_id, avatar_id=request.avatar_id,
                                   product_id=request.product_id)
    template = lib.get(session, user=user, template_id=request.template_id)
    width, height = output_size(settings, request.size)
    seed = request.seed if request.seed is not None else secrets.randbelow(SEED_LIMIT)
    builder = PromptBuilder(brand_kit=kit, avatar=avatar, product=product,
                            overrides=PromptOverrides(extra=request.extra_prompt) if request.extra_prompt else None)
    prompt = builder.for_template(template)
    cost = credits.cost(APP, "generatePose")
    generation = PoseGeneration(user_id=user.id, brand_kit_id=kit.id, avatar_id=avatar.id, product_id=product.id,
                                total_poses=1, status="pending", credits_reserved=cost,
                                base_prompt=builder.for_template(None).positive, **planned_engine(settings),
                                options={"mode": "single", "size": request.size, "width": width, "height": height,
                                         "extraPrompt": request.extra_prompt, "unitCost": cost,
                                         "checks": checks.planned(settings)})
    session.add(generation)
    session.flush()
    session.add(GeneratedPose(user_id=user.id, generation_id=generation.id, template_id=template.id, position=0,
                              seed=seed, prompt=prompt.positive, negative_prompt=prompt.negative, cost=cost))
    credits.charge(session, user_id=user.id, app_id=APP, action="generatePose", ref_type="generation",
                   ref_id=generation.id, idempotency_key=f"pose:{generation.id}:0")
    session.flush()
    work.dispatch(session, generation_id=generation.id, positions=[0], runner=runner, settings=settings)
    return generation


def start_batch(session: Session, *, user: User, request: BatchRequest, settings: Settings, runner) -> PoseGeneration:
    """Plan one row per pose, reserve the credits and queue the work, in one transaction. Any check that
    fails (limit, credits, someone else's avatar...) leaves nothing planned."""
    from core.prompts import PromptBuilder, PromptOverrides

    total = request.total_poses
    if total > settings.max_poses_per_generation:
        raise ValidationFailed("planning.too_many_poses", most=settings.max_poses_per_generation, n=total,
                               field="totalPoses")
    kit, avatar, product = inputs(session, user=user, kit_id=request.brand_kit_id, avatar_id=request.avatar_id,
                                   product_id=request.product_id)
    project = projects.get_project(session, user=user, project_id=request.project_id) \
        if request.project_id is not None else None
    width, height = output_size(settings, request.size)
    batch_seed = request.seed if request.seed is not None else secrets.randbelow(SEED_LIMIT)
    rng = random.Random(batch_seed)
    if request.template_ids is not None:
        templates = lib.get_many(session, user=user, template_ids=request.template_ids, only=("description",))
    else:
        templates = choose_templates(session, distribution=request.pose_distribution, rng=rng,
                                     allow_repeats=request.allow_repeats, gender=avatar.gender)
    action, price = unit_price(total)
    steps = max(1, round(settings.engine_steps * QUALITY_STEPS[request.quality]))
    overrides = PromptOverrides(extra=request.extra_prompt) if request.extra_prompt else None
    builder = PromptBuilder(brand_kit=kit, avatar=avatar, product=product, overrides=overrides)
    generation = PoseGeneration(
        user_id=user.id, project_id=project.id if project else None, brand_kit_id=kit.id, avatar_id=avatar.id,
        product_id=product.id, total_poses=total, status="pending", pose_distribution=request.pose_distribution,
        base_prompt=builder.for_template(None).positive, **planned_engine(settings),
        options={"mode": "batch", "size": request.size, "width": width, "height": height, "quality": request.quality,
                 "steps": steps, "seed": batch_seed, "extraPrompt": request.extra_prompt,
                 "allowRepeats": request.allow_repeats, "unitCost": price, "priceAction": action,
                 "templateIds": request.template_ids, "checks": checks.planned(settings)})
    session.add(generation)
    session.flush()
    # The rows go in with their job ids in one statement (an executemany), not as 500 ORM objects and a
    # job-id UPDATE per chunk. One seed per position, drawn in position order after the template picks: the
    # rng sequence (and so every seed of a seeded batch) is the one planning has always drawn.
    positions = list(range(len(templates)))
    jobs = work.plan_jobs(generation_id=generation.id, positions=positions, settings=settings)
    job_of = {position: job_id for job_id, chunk in jobs for position in chunk}
    # What the prompts share (kit, avatar, product, overrides, the negative prompt) is worked out once (builder); a
    # prompt reads one thing of a template, its description, so one is built per distinct description.
    prompts: dict[str | None, object] = {}
    rows = []
    for position, template in enumerate(templates):
        if template.description not in prompts:
            prompts[template.description] = builder.for_template(template)
        prompt = prompts[template.description]
        now = utcnow()
        rows.append(dict(_UNSET_JSON, user_id=user.id, generation_id=generation.id, template_id=template.id,
                         position=position, status="pending", seed=rng.randrange(SEED_LIMIT), prompt=prompt.positive,
                         negative_prompt=prompt.negative, quality_checked=False, attempts=0, round=0, cost=price,
                         created_at=now, job_id=job_of[position], heartbeat_at=now))
    session.execute(sa.insert(GeneratedPose.__table__), rows)
    credits.charge(session, user_id=user.id, app_id=APP, action=action, quantity=total, ref_type="generation",
                   ref_id=generation.id, idempotency_key=f"batch:{generation.id}")
    generation.credits_reserved = price * total
    session.flush()
    work.dispatch(session, generation_id=generation.id, positions=positions, runner=runner, settings=settings,
                  jobs=jobs)
    return generation


def retry_failed(session: Session, *, user: User, generation_id: int, settings: Settings, runner) -> int:
    """Queue the failed poses again with new seeds (retryFailedPose each). Returns how many."""
    g = locked(session, user=user, generation_id=generation_id)
    if g.status == "cancelled":
        raise Conflict("planning.batch_cancelled", id=g.id)
    G = GeneratedPose
    failed = list(session.exec(select(G).where(G.generation_id == g.id, G.status == "failed").order_by(G.position)))
    if not failed:
        raise Conflict("planning.nothing_to_retry", id=g.id)
    blocked = retry_blocked(failed, settings)
    if blocked:
        failed = [p for p in failed if p.failure_kind != checks.INFRASTRUCTURE]
        if not failed:
            raise Conflict("planning.retry_blocked", id=g.id, why=blocked)
    price = credits.cost(APP, "retryFailedPose")
    # a round number never used in this batch: it names the charge and every refund of the round
    round_ = session.execute(select(sa.func.max(G.round)).where(G.generation_id == g.id)).scalar() + 1
    credits.charge(session, user_id=user.id, app_id=APP, action="retryFailedPose", quantity=len(failed),
                   ref_type="generation", ref_id=g.id, idempotency_key=f"retry:{g.id}:{round_}")
    for p in failed:
        p.status, p.round, p.cost, p.error, p.finished_at, p.failure_kind = "pending", round_, price, None, None, None
        p.error_code, p.error_params, p.identity_score, p.identity = None, None, None, None
        p.seed, p.attempts, p.quality_score, p.worker_id = secrets.randbelow(SEED_LIMIT), 0, None, None
        session.add(p)
    g.status, g.completed_at, g.started_at = "running", None, utcnow()   # the ETA counts from the re-opening
    g.options = {**(g.options or {}), "checks": checks.planned(settings)}
    session.add(g)
    session.flush()
    work.dispatch(session, generation_id=g.id, positions=[p.position for p in failed], runner=runner, settings=settings)
    refresh(session, g)
    return len(failed)


def rerender(session: Session, *, user: User, pose_id: int, settings: Settings, runner,
             seed: int | None = None) -> GeneratedPose:
    """The same template, prompt and size with a new seed, as a new image in the same batch (generatePose).
    The original stays."""
    original = get_pose(session, user=user, pose_id=pose_id)
    if original.status not in ("done", "failed"):
        raise Conflict("planning.still_rendering", id=original.id, pose_status=original.status)
    g = locked(session, user=user, generation_id=original.generation_id)   # one new position at a time
    if g.status == "cancelled":
        raise Conflict("planning.batch_cancelled", id=g.id)
    price = credits.cost(APP, "generatePose")
    position = session.execute(select(sa.func.max(GeneratedPose.position))
                               .where(GeneratedPose.generation_id == g.id)).scalar() + 1
    pose = GeneratedPose(user_id=user.id, generation_id=g.id, template_id=original.template_id, position=position,
                         seed=seed if seed is not None else secrets.randbelow(SEED_LIMIT), prompt=original.prompt,
                         negative_prompt=original.negative_prompt, cost=price)
    session.add(pose)
    credits.charge(session, user_id=user.id, app_id=APP, action="generatePose", ref_type="generation",
                   ref_id=g.id, idempotency_key=f"pose:{g.id}:{position}")
    if g.status not in ACTIVE:
        g.started_at = utcnow()   # the ETA counts from the re-opening
    g.status, g.completed_at, g.total_poses = "running", None, g.total_poses + 1
    g.options = {**(g.options or {}), "checks": checks.planned(settings)}
    session.add(g)
    session.flush()
    jobs = work.assign_jobs(session, generation_id=g.id, positions=[position], settings=settings)
    session.refresh(pose)   # as it is committed (job id, heartbeat), read before a worker can have claimed it
    work.dispatch(session, generation_id=g.id, positions=[position], runner=runner, settings=settings, jobs=jobs)
    return pose


def retry_blocked(failed: list[GeneratedPose], settings: Settings) -> Message | None:
    """Why the infrastructure failures among `failed` cannot be retried now (the model is still missing), or
    None: retrying them would only fail again."""
    if not any(p.failure_kind == checks.INFRASTRUCTURE for p in failed):
        return None
    return checks.models_missing(settings)
