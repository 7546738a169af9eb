"""GET /api/apps: the four apps with their plugin configs."""
from __future__ import annotations

from fastapi import APIRouter

from core.apps import list_apps

router = APIRouter(prefix="/api", tags=["apps"])


@router.get("/apps")
def apps():
    return {"items": list_apps(), "total": len(list_apps())}
