"""/api/apps/product-manager: products upload (one or bulk), background removal, CRUD, stats."""
from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, File, Form, UploadFile

from api.deps import Services, SessionDep, UserDep
from api.errors import responses
from api.params import Id, IdempotencyKey, Limit, NoNul, Offset, Upload, Uploads, id_form, id_query
from core.catalog import products
from core.catalog.products import Placement, ProductCreate, ProductPublic, ProductType, ProductUpdate
from core.schemas import Page

router = APIRouter(prefix="/api/apps/product-manager", tags=["product-manager"])


def _fields(name, category, subcategory, productType, placement, brandKitId) -> ProductCreate:
    return ProductCreate(name=(name or "").strip() or None,  # blank: named after the file
                         category=category, subcategory=subcategory, product_type=productType,
                         placement=placement, brand_kit_id=brandKitId)


@router.post("/products", response_model=ProductPublic, response_model_by_alias=True, status_code=201,
             responses=responses(402))
def upload_product(session: SessionDep, user: UserDep, services: Services,
                   file: Annotated[UploadFile, File(description="JPEG, PNG, WebP, HEIC or AVIF product photo"), Upload],
                   name: Annotated[str | None, Form(max_length=100), NoNul] = None,
                   category: Annotated[str | None, Form(max_length=64), NoNul] = None,
                   subcategory: Annotated[str | None, Form(max_length=64), NoNul] = None,
                   productType: Annotated[ProductType | None, Form()] = None,
                   placement: Annotated[Placement, Form()] = "hand-right",
                   brandKitId: Annotated[int | None, id_form()] = None, idempotency_key: IdempotencyKey = None):
    product = products.upload(session, user=user, data=_fields(name, category, subcategory, productType, placement,
                                                                 brandKitId),
                              source=file.file, filename=file.filename, store=services.store,
                              settings=services.settings, runner=services.runner, request_key=idempotency_key)
    return ProductPublic.of(product, admin=user.is_admin)


@router.post("/products/bulk", status_code=207, responses=responses(402))
def bulk_upload(session: SessionDep, user: UserDep, services: Services,
                files: Annotated[list[UploadFile], File(description=f"up to {products.MAX_BULK_FILES} photos"),
                                 Uploads],
                category: Annotated[str | None, Form(max_length=64), NoNul] = None,
                productType: Annotated[ProductType | None, Form()] = None,
                placement: Annotated[Placement, Form()] = "hand-right",
                brandKitId: Annotated[int | None, id_form()] = None, idempotency_key: IdempotencyKey = None):
    """Each file succeeds or fails on its own; the answer reports every file (207 Multi-Status). A repeat with
    the same Idempotency-Key stores and charges nothing and answers {"repeat": true, "files": []}."""
    return products.bulk_upload(session, user=user, files=[(f.file, f.filename) for f in files],
                                data=_fields(None, category, None, productType, placement, brandKitId),
                                store=services.store, settings=services.settings, runner=services.runner,
                                request_key=idempotency_key)


@router.get("/products", response_model=Page[ProductPublic], response_model_by_alias=True)
def list_products(session: SessionDep, user: UserDep, limit: Limit = 50, offset: Offset = 0,
                  brandKitId: Annotated[int | None, id_query("brandKitId", "only this brand kit's")] = None,
                  category: str | None = None, status: str | None = None,
                  productType: ProductType | None = None):
    rows, total = products.list_products(session, user=user, limit=limit, offset=offset, brand_kit_id=brandKitId,
                                         category=category, bg_status=status, product_type=productType)
    return Page(items=[ProductPublic.of(p, admin=user.is_admin) for p in rows], total=total, limit=limit,
                offset=offset)


@router.get("/products/{product_id}", response_model=ProductPublic, response_model_by_alias=True)
def get_product(product_id: Id, session: SessionDep, user: UserDep):
    product = products.get(session, user=user, product_id=product_id)
    return ProductPublic.of(product, admin=user.is_admin)


@router.patch("/products/{product_id}", response_model=ProductPublic, response_model_by_alias=True,
              responses=responses(402))
def update_product(product_id: Id, body: ProductUpdate, session: SessionDep, user: UserDep):
    """Only the fields you send change (null clears the ones that may be empty); an empty body changes
    nothing and costs nothing; a change costs 2 credits."""
    product = products.update(session, user=user, product_id=product_id, data=body)
    return ProductPublic.of(product, admin=user.is_admin)


@router.post("/products/{product_id}/remove-bg", response_model=ProductPublic, response_model_by_alias=True,
             status_code=202, responses=responses(402))
def remove_background(product_id: Id, session: SessionDep, user: UserDep, services: Services):
    return ProductPublic.of(products.retry_removal(session, user=user, product_id=product_id,
                                                   runner=services.runner, settings=services.settings),
                            admin=user.is_admin)


@router.delete("/products/{product_id}", status_code=204, responses=responses(402))
def delete_product(product_id: Id, session: SessionDep, user: UserDep, services: Services):
    products.delete(session, user=user, product_id=product_id, store=services.store)
