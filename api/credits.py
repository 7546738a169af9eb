"""A user's balance and history; admins grant credits."""
from __future__ import annotations

from datetime import datetime

from fastapi import APIRouter
from pydantic import Field

from api.deps import AdminDep, SessionDep, UserDep
from api.params import Limit, Offset
from core.accounts import credits, users
from core.errors import NotFound
from core.schemas import CamelModel

router = APIRouter(prefix="/api/credits", tags=["credits"])


class LedgerOut(CamelModel):
    id: int
    delta: int
    balance_after: int
    action: str
    app_id: str
    ref_type: str | None
    ref_id: int | None
    note: str | None
    created_at: datetime


class GrantIn(CamelModel):
    username: str
    amount: int = Field(ge=1, le=1_000_000)
    note: str | None = Field(default=None, max_length=255)


@router.get("")
def my_credits(session: SessionDep, user: UserDep, limit: Limit = 50, offset: Offset = 0):
    rows = credits.history(session, user_id=user.id, limit=limit, offset=offset)
    return {"balance": credits.balance(session, user_id=user.id), "costs": credits.COSTS,
            "history": [LedgerOut.model_validate(r, from_attributes=True).model_dump(by_alias=True) for r in rows]}


@router.post("/grant")
def grant(body: GrantIn, session: SessionDep, admin: AdminDep):
    target = users.get_by_username(session, body.username)
    if target is None:
        raise NotFound("credits.no_such_user", username=body.username)
    row = credits.grant(session, admin=admin, user_id=target.id, amount=body.amount, note=body.note)
    return {"username": target.username, "balance": row.balance_after}
