"""GET /api/files/{key}: stored files, only for their owner (others get 404)."""
from __future__ import annotations

from fastapi import APIRouter
from fastapi.responses import FileResponse, Response

from api.deps import Services, UserDep
from api.errors import file_answer
from core import files

router = APIRouter(prefix="/api/files", tags=["files"])


@router.get("/{key:path}", response_class=Response, responses=file_answer(
    "The stored file: an image, or a ZIP or JSON export.", "image/png", "image/jpeg", "image/webp", "application/zip",
    "application/json", "application/octet-stream"))
def get_file(key: str, user: UserDep, services: Services):
    path, media_type = files.open_for(user=user, key=key, store=services.store)
    return FileResponse(path, media_type=media_type, headers={"Cache-Control": "private, max-age=3600"})
