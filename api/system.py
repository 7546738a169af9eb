"""What runs on this server and what is off (core.system): the full report for admins, the notices for everyone."""
from __future__ import annotations

from fastapi import APIRouter

from api.deps import Services, SessionDep, UserDep
from api.errors import responses
from core import system

router = APIRouter(prefix="/api/system", tags=["system"])


@router.get("", responses=responses(403))
def system_report(session: SessionDep, user: UserDep, services: Services) -> dict:
    """Admins only: each model (present / downloading / will download / missing, with size, where and the
    reason), the engine's device and dtype, likeness, pose check and background removal (on, or off with the
    reason), the database, Redis, workers (last heartbeat, what they render), queued jobs and free space in
    STORAGE_DIR. Nothing is loaded or downloaded to answer."""
    return system.report(session, user=user, settings=services.settings, runner=services.runner)


@router.get("/notices")
def system_notices(user: UserDep, services: Services) -> list[dict]:
    """For every user: what is off on this server that they are about to use ({code, params, text})."""
    return [{**m.to_dict(), "text": m.english} for m in system.current_notices(services.settings)]
