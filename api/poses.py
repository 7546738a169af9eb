"""/api/apps/pose-generator/templates: browse the pose library (users: active only, read-only) and
curate it (admins: create, update, bulk changes, import, export, delete; others get 403)."""
from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, File, Form, Query, UploadFile
from fastapi.responses import FileResponse, Response
from pydantic import Field

from api.deps import AdminDep, Services, SessionDep, UserDep
from api.errors import file_answer, responses
from api.params import Id, Limit, NoNul, Offset, Uploads
from core.library import importing
from core.library import templates as lib
from core.library.templates import TemplateCreate, TemplatePublic, TemplateUpdate
from core.schemas import CamelModel, Page

router = APIRouter(prefix="/api/apps/pose-generator", tags=["pose-templates"])


class BulkIn(CamelModel):
    template_ids: list[int] = Field(min_length=1, max_length=1000)
    is_active: bool | None = None
    category: str | None = Field(default=None, max_length=64)
    add_tags: list[str] | None = None
    remove_tags: list[str] | None = None


class ExportIn(CamelModel):
    template_ids: list[int] = Field(min_length=1, max_length=1000)
    format: Literal["json", "zip"] = "json"


def _page(services, rows, total, limit, offset):
    return Page(items=[TemplatePublic.of(t, services.settings) for t in rows], total=total, limit=limit, offset=offset)


@router.get("/templates", response_model=Page[TemplatePublic], response_model_by_alias=True)
def list_templates(session: SessionDep, user: UserDep, services: Services, limit: Limit = 48, offset: Offset = 0,
                   category: str | None = None, subcategory: str | None = None,
                   tags: Annotated[list[str] | None, Query(description="every tag must be present")] = None,
                   gender: str | None = None, placement: str | None = None, difficulty: str | None = None,
                   active: bool | None = None, minSuccess: Annotated[float | None, Query(ge=0, le=1)] = None,
                   maxSuccess: Annotated[float | None, Query(ge=0, le=1)] = None, flagged: bool | None = None,
                   q: str | None = None, sort: lib.Sort = "success"):
    rows, total = lib.search(session, user=user, settings=services.settings, category=category,
                             subcategory=subcategory, tags=tags, gender=gender, placement=placement,
                             difficulty=difficulty, active=active, min_success=minSuccess, max_success=maxSuccess,
                             flagged=flagged, text=q, sort=sort, limit=limit, offset=offset)
    return _page(services, rows, total, limit, offset)


@router.get("/templates/facets")
def template_facets(session: SessionDep, user: UserDep):
    return lib.facets(session, user=user)


@router.get("/templates/category/{category}", response_model=Page[TemplatePublic], response_model_by_alias=True)
def templates_in_category(category: str, session: SessionDep, user: UserDep, services: Services, limit: Limit = 48,
                          offset: Offset = 0, sort: lib.Sort = "success"):
    rows, total = lib.search(session, user=user, settings=services.settings, category=category, sort=sort,
                             limit=limit, offset=offset)
    return _page(services, rows, total, limit, offset)


@router.get("/templates/{template_id}", response_model=TemplatePublic, response_model_by_alias=True)
def get_template(template_id: Id, session: SessionDep, user: UserDep, services: Services):
    return TemplatePublic.of(lib.get(session, user=user, template_id=template_id), services.settings)


@router.get("/templates/{template_id}/preview.png", response_class=Response,
            responses=file_answer("The skeleton drawn on its canvas.", "image/png"))
def template_preview(template_id: Id, session: SessionDep, user: UserDep, services: Services, mirrored: bool = False):
    t = lib.get(session, user=user, template_id=template_id)
    return FileResponse(lib.preview_path(t, settings=services.settings, mirrored=mirrored), media_type="image/png",
                        headers={"Cache-Control": "private, max-age=86400"})


@router.post("/templates", response_model=TemplatePublic, response_model_by_alias=True, status_code=201)
def create_template(body: TemplateCreate, session: SessionDep, admin: AdminDep, services: Services):
    return TemplatePublic.of(lib.create(session, user=admin, data=body), services.settings)


@router.patch("/templates/{template_id}", response_model=TemplatePublic, response_model_by_alias=True)
def update_template(template_id: Id, body: TemplateUpdate, session: SessionDep, admin: AdminDep, services: Services):
    """Only the fields you send change (null clears the ones that may be empty); an empty body changes
    nothing."""
    return TemplatePublic.of(lib.update(session, user=admin, template_id=template_id, data=body), services.settings)


@router.post("/templates/bulk")
def bulk_update(body: BulkIn, session: SessionDep, admin: AdminDep):
    changed = lib.bulk_update(session, user=admin, template_ids=body.template_ids, is_active=body.is_active,
                              category=body.category, add_tags=body.add_tags, remove_tags=body.remove_tags)
    return {"changed": changed}


@router.post("/templates/import", responses=responses(503))
def import_templates(session: SessionDep, admin: AdminDep, services: Services,
                     files: Annotated[list[UploadFile], File(description="OpenPose JSON, skeleton PNGs or photos"),
                                      Uploads],
                     category: Annotated[str, Form(), NoNul], subcategory: Annotated[str | None, Form(), NoNul] = None,
                     placement: Annotated[str | None, Form(), NoNul] = None,
                     gender: Annotated[str, Form(), NoNul] = "unisex",
                     difficulty: Annotated[str, Form(), NoNul] = "medium", activate: Annotated[bool, Form()] = False):
    """Import poses; every candidate is de-duplicated against the library. Returns what was imported,
    skipped (with the reason and the existing template it duplicates) and what failed."""
    limit = services.settings.limit_bytes("pose")
    data = [(f.file.read(limit + 1), f.filename) for f in files]
    return importing.import_files(session, user=admin, files=data, settings=services.settings, category=category,
                                    subcategory=subcategory, placement=placement, gender=gender,
                                    difficulty=difficulty, activate=activate)


@router.post("/templates/export", response_class=Response, responses=file_answer(
    "OpenPose JSON (format json) or a ZIP of skeleton PNGs and JSON (format zip).", "application/json",
    "application/zip", json_schema={"type": "array", "items": {"type": "object"}}))
def export_templates(body: ExportIn, session: SessionDep, admin: AdminDep):
    data, media_type, name = importing.export(session, user=admin, template_ids=body.template_ids, fmt=body.format)
    return Response(data, media_type=media_type, headers={"Content-Disposition": f'attachment; filename="{name}"'})


@router.delete("/templates/{template_id}", status_code=204)
def delete_template(template_id: Id, session: SessionDep, admin: AdminDep):
    lib.delete(session, user=admin, template_id=template_id)
