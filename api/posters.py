"""/api/apps/pose-generator/posters: turn finished results into brand-kit posters (3 credits each), list,
fetch, delete, and export them as one ZIP. The same core calls as the Posters page."""
from __future__ import annotations

from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Query, Response
from fastapi.responses import FileResponse
from starlette.background import BackgroundTask

from api.deps import Services, SessionDep, UserDep, WriteSessionDep
from api.errors import file_answer, responses
from api.params import Id, Limit, Offset, id_query, parse_ids
from core.posters import service
from core.posters.service import PosterRequest
from core.schemas import CamelModel, Page, file_url

router = APIRouter(prefix="/api/apps/pose-generator/posters", tags=["posters"])


class PosterPublic(CamelModel):
    id: int
    result_id: int | None
    brand_kit_id: int | None
    format: str
    layout: str
    width: int
    height: int
    image_url: str
    thumbnail_url: str
    text: dict | None
    created_at: datetime

    @classmethod
    def of(cls, p) -> "PosterPublic":
        return cls(id=p.id, result_id=p.generated_pose_id, brand_kit_id=p.brand_kit_id, format=p.format,
                   layout=p.layout, width=p.width, height=p.height, image_url=file_url(p.image_path),
                   thumbnail_url=file_url(p.thumbnail_path), text=p.text, created_at=p.created_at)


@router.get("/options")
def poster_options() -> dict:
    """The formats (exact pixel sizes) and layouts you can ask for."""
    return service.options()


@router.post("", response_model=list[PosterPublic], response_model_by_alias=True, status_code=201,
             responses=responses(402))
def create_posters(body: PosterRequest, session: SessionDep, user: UserDep, services: Services):
    """Every combination of resultIds x formats x layouts (at most 60 per request), with the brand kit's
    logo, colours and fonts; 3 credits per poster, charged only when all are drawn."""
    rows = service.create_posters(session, user=user, request=body, store=services.store)
    return [PosterPublic.of(p) for p in rows]


@router.get("", response_model=Page[PosterPublic], response_model_by_alias=True)
def list_posters(session: SessionDep, user: UserDep, limit: Limit = 50, offset: Offset = 0,
                 result_id: Annotated[int | None, id_query("resultId", "only posters of this result")] = None):
    rows, total = service.list_posters(session, user=user, limit=limit, offset=offset, result_id=result_id)
    return Page(items=[PosterPublic.of(p) for p in rows], total=total, limit=limit, offset=offset)


@router.get("/export", response_class=Response,
            responses=file_answer("One ZIP, a folder per format.", "application/zip"))
def export_posters(session: WriteSessionDep, user: UserDep, services: Services,
                   ids: str = Query(..., description="comma-separated poster ids")):
    """One ZIP, a folder per format, files named index_product_format_layout."""
    wanted = parse_ids(ids, field="ids", what="poster ids", example="3,4,5")
    path, name = service.export_zip(session, user=user, poster_ids=wanted, store=services.store)
    return FileResponse(path, media_type="application/zip", filename=name,
                        background=BackgroundTask(path.unlink, missing_ok=True))


@router.get("/{poster_id}", response_model=PosterPublic, response_model_by_alias=True)
def get_poster(poster_id: Id, session: SessionDep, user: UserDep):
    return PosterPublic.of(service.get_poster(session, user=user, poster_id=poster_id))


@router.delete("/{poster_id}", status_code=204)
def delete_poster(poster_id: Id, session: SessionDep, user: UserDep, services: Services):
    service.delete_poster(session, user=user, poster_id=poster_id, store=services.store)
    return Response(status_code=204)
