"""The state of a generation, from its rows: who owns it, what one pose holds (its seed, its refund), and the
recount that turns pose rows and ledger entries into counts, progress, credits and a final status.

Everything else in core.generation reads and changes a generation through these: planning creates rows,
render fills them, batches (the user's controls) cancel them, work hands them out.
"""
from __future__ import annotations

import sqlalchemy as sa
from sqlmodel import Session, select

from core.accounts import credits
from core.catalog import avatars, brand_kits, products
from core.errors import NotFound, ValidationFailed
from core.records import get_owned
from db.models import CreditLedger, GeneratedPose, PoseGeneration, User, utcnow

APP = "pose-generator"
SEED_LIMIT = 2**31 - 1
ACTIVE = ("pending", "running")   # a pose (or generation) that still holds its credits


def retry_seed(seed: int, attempt: int) -> int:
    """The seed of attempt `attempt` (0 = the planned seed): deterministic, so a re-render repeats it."""
    return seed if attempt == 0 else (seed + attempt * 1_000_003) % SEED_LIMIT


def inputs(session: Session, *, user: User, kit_id: int, avatar_id: int, product_id: int):
    """The brand kit, avatar and product of a new render, each checked to be the user's; the product needs its
    cut-out first (a worn garment too: it is warped onto the body, core.generation.product)."""
    kit = brand_kits.get(session, user=user, kit_id=kit_id)
    avatar = avatars.get(session, user=user, avatar_id=avatar_id)
    product = products.get(session, user=user, product_id=product_id)
    if not product.cutout_path:
        raise ValidationFailed("generation.no_cutout", product=product.name, bg_status=product.bg_status,
                               field="productId")
    return kit, avatar, product


def get(session: Session, *, user: User, generation_id: int) -> PoseGeneration:
    """The user's generation (NotFound for anyone else's)."""
    return get_owned(session, PoseGeneration, generation_id, user_id=user.id, label="Generation")


def locked(session: Session, *, user: User, generation_id: int) -> PoseGeneration:
    """The user's generation, row-locked until commit (Postgres; SQLite writers are serialised anyway)."""
    g = session.exec(select(PoseGeneration).where(PoseGeneration.id == generation_id).with_for_update()).first()
    if g is None or g.user_id != user.id:
        raise NotFound("records.not_found", record="Generation", id=generation_id)
    session.refresh(g)
    return g


def poses_of(session: Session, *, user: User, generation_id: int) -> list[GeneratedPose]:
    get(session, user=user, generation_id=generation_id)
    return list(session.exec(select(GeneratedPose).where(GeneratedPose.generation_id == generation_id)
                             .order_by(GeneratedPose.position)))


def refund_pose(session, *, generation_id: int, user_id: int, position: int, round_: int, amount: int,
                reason: str) -> None:
    """Give back what one pose held in one round (once: the ledger key names generation, pose and round)."""
    if amount > 0:
        credits.refund(session, user_id=user_id, app_id=APP, action="generatePose", amount=amount,
                       ref_type="generation", ref_id=generation_id, note=reason[:255],
                       idempotency_key=f"poserefund:{generation_id}:{position}:{round_}")


def bump(session, *, generation_id: int, done: int = 0, failed: int = 0, used: int = 0, refunded: int = 0) -> None:
    """Move a generation's counters by what one micro-batch stored, in the caller's transaction: atomic increments
    (several workers may store at once), no recount; so the Results page's numbers and progress move with every
    micro-batch. refresh() recounts exactly from the rows when a job ends and decides the final status."""
    if not (done or failed):
        return
    P = PoseGeneration
    moved = P.progress + 100.0 * (done + failed) / sa.case((P.total_poses > 0, P.total_poses), else_=1)
    session.execute(sa.update(P).where(P.id == generation_id).values(
        completed_count=P.completed_count + done, failed_count=P.failed_count + failed,
        progress=sa.case((moved > 100.0, 100.0), else_=moved), credits_used=P.credits_used + used,
        credits_refunded=P.credits_refunded + refunded, updated_at=utcnow())
        .execution_options(synchronize_session=False))


def refresh(session, generation: PoseGeneration) -> PoseGeneration:
    """Recount a generation from its pose rows and its ledger: counts, progress, credits, final status."""
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
                           .where(G.generation_id == generation.id, G.status.in_(ACTIVE))).scalar()
    done, failed, cancelled = counts.get("done", 0), counts.get("failed", 0), counts.get("cancelled", 0)
    total = sum(counts.values())
    generation.total_poses = total
    generation.completed_count, generation.failed_count = done, failed
    generation.progress = round(100.0 * (done + failed + cancelled) / max(1, total), 1)
    generation.credits_reserved, generation.credits_refunded = int(charged), int(refunded)
    generation.credits_used = int(charged) - int(refunded) - int(held)
    if done + failed + cancelled == total and generation.status in ACTIVE:
        generation.status = "completed" if done else "failed"
        generation.completed_at = utcnow()
    elif done + failed + cancelled < total and generation.status in ("completed", "failed"):
        generation.status, generation.completed_at = "running", None   # a retry or re-render re-opened it
    generation.updated_at = utcnow()
    session.add(generation)
    session.commit()
    return generation
