"""Credits: the seed's price list, and a ledger charged in the same transaction as the action.

users.credits holds the balance; every change also writes a credit_ledger row. A charge is one
conditional UPDATE (`credits = credits - n WHERE credits >= n`), so concurrent charges can never take a
balance below zero on SQLite or Postgres. Work that may run twice passes an idempotency key.
"""
from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, select

from core.errors import Forbidden, InsufficientCredits, NotFound, ValidationFailed
from db.models import CreditLedger, User

# The seed's cost per action, per app (credits).
COSTS: dict[str, dict[str, int]] = {
    "brand-kit": {"createBrandKit": 5, "updateBrandKit": 2, "deleteBrandKit": 1, "uploadLogo": 3},
    "avatar-manager": {"uploadAvatar": 5, "updateAvatar": 2, "deleteAvatar": 1, "generateAvatarAI": 20},
    "product-manager": {
        "uploadProduct": 5, "removeBackground": 3, "bulkUpload": 10, "updateProduct": 2, "deleteProduct": 1,
    },
    "pose-generator": {"generatePose": 10, "batchGeneration": 5, "retryFailedPose": 5, "exportToPoster": 3},
}


def cost(app_id: str, action: str, quantity: int = 1) -> int:
    try:
        return COSTS[app_id][action] * quantity
    except KeyError:
        raise KeyError(f"no price for {app_id}/{action}") from None


def balance(session: Session, *, user_id: int) -> int:
    value = session.exec(select(User.credits).where(User.id == user_id)).first()
    if value is None:
        raise NotFound("users.not_found")
    return value


def _already_done(session: Session, key: str | None) -> CreditLedger | None:
    if key is None:
        return None
    return session.exec(select(CreditLedger).where(CreditLedger.idempotency_key == key)).first()


def _apply(session: Session, *, user_id: int, delta: int, action: str, app_id: str, ref_type: str | None,
           ref_id: int | None, note: str | None, idempotency_key: str | None) -> CreditLedger:
    done = _already_done(session, idempotency_key)
    if done is not None:
        return done
    stmt = sa.update(User).where(User.id == user_id)
    if delta < 0:
        stmt = stmt.where(User.credits >= -delta)
    new_balance = session.execute(stmt.values(credits=User.credits + delta).returning(User.credits)).scalar()
    if new_balance is None:
        have = balance(session, user_id=user_id)
        raise InsufficientCredits("credits.not_enough", need=-delta, have=have)
    row = CreditLedger(user_id=user_id, delta=delta, balance_after=new_balance, action=action, app_id=app_id,
                       ref_type=ref_type, ref_id=ref_id, note=note, idempotency_key=idempotency_key)
    try:
        with session.begin_nested():
            session.add(row)
            session.flush()
    except IntegrityError:
        # Another transaction recorded the same idempotent change first: undo ours.
        session.execute(sa.update(User).where(User.id == user_id).values(credits=User.credits - delta))
        return _already_done(session, idempotency_key)
    # Keep any loaded User object in this session in step with the database.
    for obj in session.identity_map.values():
        if isinstance(obj, User) and obj.id == user_id:
            sa.orm.attributes.set_committed_value(obj, "credits", new_balance)
    return row


def charge(session: Session, *, user_id: int, app_id: str, action: str, quantity: int = 1,
           ref_type: str | None = None, ref_id: int | None = None, idempotency_key: str | None = None) -> CreditLedger:
    """Take the price of `quantity` x action from the user's balance, in the caller's transaction.
    Raises InsufficientCredits (402) and changes nothing when the balance does not cover it."""
    amount = cost(app_id, action, quantity)
    if amount == 0:
        raise ValueError("nothing to charge")
    return _apply(session, user_id=user_id, delta=-amount, action=action, app_id=app_id, ref_type=ref_type,
                  ref_id=ref_id, note=None, idempotency_key=idempotency_key)


REQUEST_KEY_MAX = 100   # an Idempotency-Key header or a UI submit token
GRANT_MIN, GRANT_MAX = 1, 1_000_000   # credits an admin grants at a time


class Repeated(Exception):
    """The request that this charge belongs to was already charged (a double click, a retried request): the
    caller undoes what it wrote and answers with the first request's record, `first.ref_id`."""

    def __init__(self, first: CreditLedger):
        super().__init__(f"already charged as ledger entry {first.id}")
        self.first = first


def request_key(user_id: int, action: str, key: str | None) -> str | None:
    """The ledger key of one client request (None when the client sent none). Checked: printable, at most
    REQUEST_KEY_MAX characters."""
    if key is None or key == "":
        return None
    if len(key) > REQUEST_KEY_MAX or not key.isprintable():
        raise ValidationFailed("credits.idempotency_key_invalid", field="Idempotency-Key", most=REQUEST_KEY_MAX)
    return f"req:{user_id}:{action}:{key}"


def first_of(session: Session, key: str | None) -> CreditLedger | None:
    """The charge already made for this request key, if any (a repeat is answered from it)."""
    return _already_done(session, key)


def charge_once(session: Session, *, user_id: int, app_id: str, action: str, ref_type: str, ref_id: int,
                key: str | None) -> CreditLedger:
    """charge() for the record `ref_id` made by one client request: when the same request key was charged for
    another record (a concurrent repeat that got there first), raises Repeated instead of charging twice."""
    row = charge(session, user_id=user_id, app_id=app_id, action=action, ref_type=ref_type, ref_id=ref_id,
                 idempotency_key=key)
    if key is not None and row.ref_id != ref_id:
        raise Repeated(row)
    return row


def refund(session: Session, *, user_id: int, app_id: str, action: str, amount: int, ref_type: str | None = None,
           ref_id: int | None = None, note: str | None = None, idempotency_key: str | None = None) -> CreditLedger:
    """Give back credits for work that failed or was cancelled."""
    if amount <= 0:
        raise ValueError("refund must be positive")
    return _apply(session, user_id=user_id, delta=amount, action=f"refund:{action}", app_id=app_id,
                  ref_type=ref_type, ref_id=ref_id, note=note, idempotency_key=idempotency_key)


def grant(session: Session, *, admin: User, user_id: int, amount: int, note: str | None = None) -> CreditLedger:
    """An admin adds credits to a user's balance."""
    if not admin.is_admin:
        raise Forbidden("credits.admin_only")
    if not GRANT_MIN <= amount <= GRANT_MAX:
        raise ValidationFailed("credits.grant_out_of_range", field="amount", least=GRANT_MIN, most=GRANT_MAX)
    row = _apply(session, user_id=user_id, delta=amount, action="grant", app_id="system", ref_type="user",
                 ref_id=admin.id, note=note, idempotency_key=None)
    session.commit()
    return row


def starting_grant(session: Session, *, user_id: int, amount: int) -> None:
    if amount > 0:
        _apply(session, user_id=user_id, delta=amount, action="startingCredits", app_id="system", ref_type=None,
               ref_id=None, note=None, idempotency_key=f"start:{user_id}")


def history(session: Session, *, user_id: int, limit: int = 50, offset: int = 0) -> list[CreditLedger]:
    q = (select(CreditLedger).where(CreditLedger.user_id == user_id)
         .order_by(CreditLedger.created_at.desc(), CreditLedger.id.desc()).limit(limit).offset(offset))
    return list(session.exec(q))
