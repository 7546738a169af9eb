"""What every user-owned record shares: fetch one of the user's own (else NotFound, never revealing
that another user's exists), list the user's own with equality filters and paging, and turn a partial
update into the set of real changes."""
from __future__ import annotations

from typing import Any, TypeVar

from pydantic import BaseModel
from sqlmodel import Session, SQLModel, func, select

from core.errors import NotFound, ValidationFailed

R = TypeVar("R", bound=SQLModel)


MAX_ID = 2**31 - 1  # ids are 32-bit integers; a bigger one names nothing (and Postgres would refuse the query)


def get_owned(session: Session, model: type[R], record_id: int, *, user_id: int, label: str) -> R:
    if not isinstance(record_id, int) or not 0 < record_id <= MAX_ID:
        raise NotFound("records.not_found", record=label, id=record_id)
    row = session.get(model, record_id)
    if row is None or row.user_id != user_id:
        raise NotFound("records.not_found", record=label, id=record_id)
    return row


def list_owned(session: Session, model: type[R], *, user_id: int, filters: dict[str, Any], order_by: tuple,
               limit: int, offset: int) -> tuple[list[R], int]:
    """A page of the user's records; filters whose value is None are ignored."""
    if not 1 <= limit <= 200 or offset < 0:
        raise ValidationFailed("records.page_out_of_range", field="limit", most=200)
    where = [model.user_id == user_id]
    where += [getattr(model, name) == value for name, value in filters.items() if value is not None]
    total = session.exec(select(func.count()).select_from(model).where(*where)).one()
    rows = session.exec(select(model).where(*where).order_by(*order_by).limit(limit).offset(offset))
    return list(rows), total


def changes_of(row: SQLModel, data: BaseModel, *, required: dict[str, str | tuple[str, str]]) -> dict[str, Any]:
    """The fields `data` sets to a value different from the row's. `required` maps a field to the name
    the client uses (or to (name, message code)): setting one of them to null is refused."""
    changes = {k: v for k, v in data.model_dump(exclude_unset=True).items() if v != getattr(row, k)}
    for name, shown in required.items():
        if name in changes and changes[name] is None:
            field, code = shown if isinstance(shown, tuple) else (shown, "records.field_empty")
            raise ValidationFailed(code, field=field, name=field)
    return changes
