"""/api/apps/brand-kit: kits CRUD, logo upload, stats (the seed's paths)."""
from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, File, UploadFile

from api.deps import Services, SessionDep, UserDep
from api.errors import responses
from api.params import Id, Limit, Offset, Upload
from core.catalog import brand_kits as kits
from core.catalog.brand_kits import BrandKitCreate, BrandKitPublic, BrandKitUpdate, Category
from core.schemas import Page

router = APIRouter(prefix="/api/apps/brand-kit", tags=["brand-kit"])


@router.post("/kits", response_model=BrandKitPublic, response_model_by_alias=True, status_code=201,
             responses=responses(402))
def create_kit(body: BrandKitCreate, session: SessionDep, user: UserDep):
    return BrandKitPublic.of(kits.create(session, user=user, data=body))


@router.get("/kits", response_model=Page[BrandKitPublic], response_model_by_alias=True)
def list_kits(session: SessionDep, user: UserDep, limit: Limit = 50, offset: Offset = 0,
              category: Category | None = None):
    rows, total = kits.list_kits(session, user=user, limit=limit, offset=offset, category=category)
    return Page(items=[BrandKitPublic.of(k) for k in rows], total=total, limit=limit, offset=offset)


@router.get("/kits/{kit_id}", response_model=BrandKitPublic, response_model_by_alias=True)
def get_kit(kit_id: Id, session: SessionDep, user: UserDep):
    return BrandKitPublic.of(kits.get(session, user=user, kit_id=kit_id))


@router.patch("/kits/{kit_id}", response_model=BrandKitPublic, response_model_by_alias=True, responses=responses(402))
def update_kit(kit_id: Id, body: BrandKitUpdate, session: SessionDep, user: UserDep):
    """Only the fields you send change (null clears the ones that may be empty); an empty body changes
    nothing and costs nothing; a content change costs 2 credits, making it the default is free."""
    return BrandKitPublic.of(kits.update(session, user=user, kit_id=kit_id, data=body))


@router.delete("/kits/{kit_id}", status_code=204, responses=responses(402))
def delete_kit(kit_id: Id, session: SessionDep, user: UserDep, services: Services):
    kits.delete(session, user=user, kit_id=kit_id, store=services.store)


@router.post("/kits/{kit_id}/logo", response_model=BrandKitPublic, response_model_by_alias=True,
             responses=responses(402))
def upload_logo(kit_id: Id, session: SessionDep, user: UserDep, services: Services,
                file: Annotated[UploadFile, File(description="PNG, JPEG or WebP logo"), Upload]):
    kit = kits.upload_logo(session, user=user, kit_id=kit_id, source=file.file, filename=file.filename,
                           store=services.store, settings=services.settings)
    return BrandKitPublic.of(kit)
