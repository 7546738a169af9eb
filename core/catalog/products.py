"""Products: photos whose background is removed automatically, one at a time or in bulk.

Upload stores the checked original and a thumbnail, creates the row with bg_status "pending", charges
uploadProduct + removeBackground, commits, and hands the removal to the job runner, so a bulk upload
of 50 returns at once. The removal job writes the cut-out and marks the row done / flagged / failed;
a failed removal is refunded. bg_status: pending -> processing -> done | flagged | failed.
Why a removal failed or was flagged is kept in bg_error as a message ({"code", "params"} as JSON, so a page
shows it in its reader's language; rows from before message codes hold English text): `bg_problem(product)`.
REST's bgError is its English text.
"""
from __future__ import annotations

import io
import json
import logging
from collections import Counter
from datetime import datetime
from collections.abc import Callable
from typing import Annotated, BinaryIO, Literal

from PIL import Image
from pydantic import Field
from sqlmodel import Session, func, select

from core.catalog import brand_kits
from core.accounts import credits
from core.errors import DomainError, ValidationFailed
from core.messages import Message
from core.records import changes_of, get_owned, list_owned
from core.schemas import CamelModel, file_url
from core.seed_vocabulary import alias_of
from core.settings import Settings
from core.storage import LocalFileStore
from db.models import Product, User, utcnow

log = logging.getLogger(__name__)
APP = "product-manager"
PRODUCT_TYPES = ("bottle", "tube", "jar", "box", "pouch", "sachet", "clothing", "top", "dress", "gamis", "bottom",
                 "hijab", "shoes", "bag", "accessory", "jewelry", "food", "drink", "device", "other")
PLACEMENTS = ("hand-left", "hand-right", "both-hands", "worn", "table", "displayed")
BG_STATUSES = ("pending", "processing", "done", "flagged", "failed")
ProductType = Literal[PRODUCT_TYPES]  # type: ignore[valid-type]
Placement = Annotated[Literal[PLACEMENTS], alias_of("product.placement")]  # type: ignore[valid-type]  # + "hand-held"
MAX_BULK_FILES = 50


class ProductFields(CamelModel):
    name: str | None = Field(default=None, min_length=1, max_length=100)
    category: str | None = Field(default=None, max_length=64)
    subcategory: str | None = Field(default=None, max_length=64)
    product_type: ProductType | None = None
    placement: Placement | None = None
    brand_kit_id: int | None = None


class ProductCreate(ProductFields):
    placement: Placement = "hand-right"


class ProductUpdate(ProductFields):
    pass


class ProductPublic(CamelModel):
    id: int
    brand_kit_id: int | None
    name: str
    category: str | None
    subcategory: str | None
    product_type: str | None
    placement: str
    original_url: str
    cutout_url: str | None
    thumbnail_url: str
    width: int
    height: int
    dominant_color: str | None
    bg_status: str
    bg_error: str | None            # why the removal failed or was flagged, in plain words
    bg_error_detail: str | None = None   # admins only: the technical reason (which file, which folder)
    mask_coverage: float | None
    usage_count: int
    created_at: datetime
    updated_at: datetime

    @classmethod
    def of(cls, p: Product, *, admin: bool = False) -> "ProductPublic":
        plain, detail = bg_problem_shown(p, admin=admin)
        return cls(id=p.id, brand_kit_id=p.brand_kit_id, name=p.name, category=p.category, subcategory=p.subcategory,
                   product_type=p.product_type, placement=p.placement, original_url=file_url(p.original_path),
                   cutout_url=file_url(p.cutout_path), thumbnail_url=file_url(p.thumbnail_path), width=p.width,
                   height=p.height, dominant_color=p.dominant_color, bg_status=p.bg_status,
                   bg_error=_english(plain), bg_error_detail=_english(detail) if detail else None,
                   mask_coverage=p.mask_coverage, usage_count=p.usage_count,
                   created_at=p.created_at, updated_at=p.updated_at)


def bg_problem(product: Product) -> Message | str | None:
    """Why the background removal failed or was flagged: a Message, the English text of an older row, or None."""
    text = product.bg_error
    if not text:
        return None
    if text.startswith("{"):
        try:
            return Message.from_dict(json.loads(text)) or text
        except (ValueError, TypeError, AttributeError):
            return text
    return text


SERVER_SIDE = ("background_model.", "models.", "detector.", "engine.")   # the server's setup, not the photo


def bg_problem_shown(product: Product, *, admin: bool) -> tuple[Message | str | None, Message | str | None]:
    """(what the shop owner reads, the technical detail only an admin gets). A removal that failed because of
    the server's setup (the model's weights missing, a model that does not load) reads as plain words: the
    photo is kept, the removal's credits came back, try later or upload a cut-out photo; which file goes in
    which folder is for whoever runs the server (and the System page). A problem of the photo itself (nothing
    found, a flagged mask) is the same for both."""
    problem = bg_problem(product)
    if isinstance(problem, Message) and problem.code.startswith(SERVER_SIDE):
        return Message("products.bg_server_problem"), (problem if admin else None)
    return problem, None


def _stored(msg: Message) -> str:
    return json.dumps(msg.to_dict(), ensure_ascii=False)


def _english(problem: Message | str | None) -> str | None:
    return None if problem is None else str(problem)


def get(session: Session, *, user: User, product_id: int) -> Product:
    return get_owned(session, Product, product_id, user_id=user.id, label="Product")


def _queue_removal(runner, product_id: int) -> None:
    if runner is not None:
        runner.queue_background_removal(product_id)


def upload(session: Session, *, user: User, data: ProductCreate, source: BinaryIO | bytes, filename: str | None,
           store: LocalFileStore, settings: Settings, runner, charge_upload: bool = True,
           request_key: str | None = None) -> Product:
    """Store one product photo and queue its background removal. A photo that is already cut out (transparent
    border around the product) is its own cut-out: ready at once, no removeBackground charge ("Remove
    background" stays available). Nothing is left behind on failure. `request_key` (UI submit token, REST
    Idempotency-Key): a repeat of the same request answers with the first product and charges nothing."""
    from core.catalog.background import precut
    from core.images import ingest_image

    charge_key = credits.request_key(user.id, "uploadProduct", request_key) if charge_upload else None
    if (first := credits.first_of(session, charge_key)) is not None:
        return get(session, user=user, product_id=first.ref_id)
    # Decode and check first, outside any transaction (SQLite writers would wait on a long one).
    image = ingest_image(source, kind="product", settings=settings, filename=filename)
    ready = precut(image.image) if image.has_alpha else None
    if data.brand_kit_id is not None:
        brand_kits.get(session, user=user, kit_id=data.brand_kit_id)  # must be the user's own kit
    name = data.name or (image.display_name.rsplit(".", 1)[0] if image.display_name else "") or "Product"
    try:
        product, thumb = _store_new(session, user=user, data=data, name=name, image=image, ready=ready, store=store,
                                    settings=settings, charge_upload=charge_upload, charge_key=charge_key)
    except credits.Repeated as repeat:
        session.rollback()
        return get(session, user=user, product_id=repeat.first.ref_id)
    if ready is None:
        _queue_removal(runner, product.id)
    else:
        store.delete(thumb)   # the photo's thumbnail: the cut-out's own replaced it
    return product


def _store_new(session: Session, *, user: User, data: ProductCreate, name: str, image, ready, store: LocalFileStore,
               settings: Settings, charge_upload: bool, charge_key: str | None) -> tuple[Product, str]:
    """Files and row of a new product with its charges, committed together (files removed if anything fails)."""
    from core.images import make_thumbnail

    with store.staged() as staged:
        key, thumb = staged.save_image(image, user_id=user.id, kind="product")
        product = Product(user_id=user.id, **data.model_dump(exclude={"name"}), name=name[:100], original_path=key,
                          thumbnail_path=thumb, width=image.width, height=image.height, bg_status="pending",
                          bg_model=settings.rembg_model)
        if ready is not None:
            product.cutout_path = staged.save(ready.png, user_id=user.id, kind="cutout", ext="png")
            with Image.open(io.BytesIO(ready.png)) as im:
                product.thumbnail_path = staged.save(make_thumbnail(im.convert("RGBA")), user_id=user.id,
                                                     kind="product-thumb", ext="png")
            product.bg_status, product.bg_model = "done", ready.model
            product.dominant_color, product.mask_coverage = ready.dominant_color, ready.coverage
        session.add(product)
        session.flush()
        if charge_upload:
            credits.charge_once(session, user_id=user.id, app_id=APP, action="uploadProduct", ref_type="product",
                                ref_id=product.id, key=charge_key)
        if ready is None:
            credits.charge(session, user_id=user.id, app_id=APP, action="removeBackground", ref_type="product",
                           ref_id=product.id, idempotency_key=_bg_key(product, 1))
        session.commit()
    return product, thumb


def bulk_upload(session: Session, *, user: User, files: list[tuple[BinaryIO | bytes, str | None]],
                data: ProductCreate, store: LocalFileStore, settings: Settings, runner,
                on_progress: Callable[[int, int], None] | None = None, request_key: str | None = None) -> dict:
    """Upload many photos: each file succeeds or fails on its own. One bulkUpload fee per batch
    (instead of uploadProduct per file), removeBackground per product; the fee is refunded when no
    file could be used. Returns a per-file report (a refused file: its error's code, kind, params and English
    text)."""
    if not files:
        raise ValidationFailed("products.no_files", field="files")
    if len(files) > MAX_BULK_FILES:
        raise ValidationFailed("products.too_many_files", field="files", n=len(files), most=MAX_BULK_FILES)
    if data.brand_kit_id is not None:
        brand_kits.get(session, user=user, kit_id=data.brand_kit_id)
    fee_key = credits.request_key(user.id, "bulkUpload", request_key)
    if credits.first_of(session, fee_key) is not None:   # a repeat of a bulk upload already received
        return {"created": 0, "rejected": 0, "files": [], "creditsCharged": 0, "repeat": True}
    fee = credits.charge(session, user_id=user.id, app_id=APP, action="bulkUpload", ref_type="bulk",
                         idempotency_key=fee_key)
    session.commit()
    report = []
    for index, (source, filename) in enumerate(files):
        entry = {"index": index, "filename": filename}
        try:
            product = upload(session, user=user, data=data.model_copy(update={"name": None}), source=source,
                             filename=filename, store=store, settings=settings, runner=runner, charge_upload=False)
            entry.update(status="created", id=product.id, name=product.name, bgStatus=product.bg_status)
        except DomainError as exc:
            session.rollback()
            # code: the exact message, kind: its family, error: the English text (params: to show it translated)
            entry.update(status="rejected", error=exc.message, code=exc.code, kind=exc.kind,
                         params=exc.msg.to_dict()["params"], httpStatus=exc.status)
        report.append(entry)
        if on_progress is not None:
            on_progress(index + 1, len(files))
    created = sum(1 for e in report if e["status"] == "created")
    if created == 0:
        credits.refund(session, user_id=user.id, app_id=APP, action="bulkUpload", amount=-fee.delta,
                       ref_type="bulk", note="no file in the batch could be used",
                       idempotency_key=f"bulkrefund:{fee.id}")
        session.commit()
    return {"created": created, "rejected": len(report) - created, "files": report,
            "creditsCharged": credits.cost(APP, "bulkUpload") * (created > 0)
            + credits.cost(APP, "removeBackground", sum(1 for e in report if e.get("bgStatus") == "pending"))}


def retry_removal(session: Session, *, user: User, product_id: int, runner, settings: Settings) -> Product:
    """Run background removal again (after adding the weights, or on a flagged result)."""
    product = get(session, user=user, product_id=product_id)
    if product.bg_status in ("pending", "processing"):
        raise ValidationFailed("products.removal_running", field="id")
    attempt = _attempt(session, product) + 1
    credits.charge(session, user_id=user.id, app_id=APP, action="removeBackground", ref_type="product",
                   ref_id=product.id, idempotency_key=_bg_key(product, attempt))
    product.bg_status, product.bg_error, product.bg_model = "pending", None, settings.rembg_model
    product.updated_at = utcnow()
    session.add(product)
    session.commit()
    _queue_removal(runner, product.id)
    return product


def _bg_key(product: Product, attempt: int | str, kind: str = "bg") -> str:
    """Idempotency key of a removal attempt's charge ("bg") or refund ("bgrefund"). Besides the id it
    holds the product's own random file name: SQLite hands a deleted row's id to the next row, and the
    new product must not find the old one's charges and refunds already done."""
    stem = product.original_path.rsplit("/", 1)[-1].split(".", 1)[0]
    return f"{kind}:{product.id}:{stem}:{attempt}"


def _attempt(session: Session, product: Product) -> int:
    """How many removals of this product were charged so far."""
    from db.models import CreditLedger

    return session.exec(select(func.count()).select_from(CreditLedger).where(
        CreditLedger.ref_type == "product", CreditLedger.ref_id == product.id,
        CreditLedger.action == "removeBackground",
        CreditLedger.idempotency_key.startswith(_bg_key(product, ""), autoescape=True))).one()


def run_removal(session: Session, *, product_id: int, store: LocalFileStore, settings: Settings) -> Product | None:
    """The background job: cut the product out, store the transparent PNG (trimmed) and a thumbnail,
    keep its dominant colour. Failures are recorded on the row with the reason and refunded.
    Running twice for the same attempt changes nothing the second time."""
    product = session.get(Product, product_id)
    if product is None or product.bg_status not in ("pending", "processing"):
        return product  # deleted meanwhile, or already finished: nothing to do
    attempt = _attempt(session, product)
    product.bg_status = "processing"
    session.add(product)
    session.commit()
    try:
        from core.catalog.background import cut_out, require_model

        require_model(settings)   # the weights first: without them no photo is read, decoded, no rembg imported
        result = cut_out(store.read(product.original_path), settings=settings)
    except Exception as exc:  # noqa: BLE001 - the reason is stored for the user, the row must not hang
        problem = exc.msg if isinstance(exc, DomainError) else Message("products.removal_failed")
        if not isinstance(exc, DomainError):
            log.exception("background removal of product %s failed", product_id)
        return _fail(session, product, problem, attempt)
    from core.images import make_thumbnail

    with store.staged() as staged:
        old = product.cutout_path
        product.cutout_path = staged.save(result.png, user_id=product.user_id, kind="cutout", ext="png")
        old_thumb = None
        if result.flag != "empty":  # an empty cut-out is one transparent pixel: keep the photo's thumbnail
            with Image.open(io.BytesIO(result.png)) as im:
                thumb = make_thumbnail(im.convert("RGBA"))
            old_thumb = product.thumbnail_path
            product.thumbnail_path = staged.save(thumb, user_id=product.user_id, kind="product-thumb", ext="png")
        product.dominant_color = result.dominant_color
        product.mask_coverage = result.coverage
        product.bg_status = "flagged" if result.flag else "done"
        product.bg_error = _stored(result.flag_message) if result.flag else None
        product.updated_at = utcnow()
        session.add(product)
        session.commit()
    store.delete(old)
    store.delete(old_thumb)
    return product


def _fail(session: Session, product: Product, problem: Message, attempt: int) -> Product:
    product.bg_status, product.bg_error, product.updated_at = "failed", _stored(problem), utcnow()
    session.add(product)
    credits.refund(session, user_id=product.user_id, app_id=APP, action="removeBackground",
                   amount=credits.cost(APP, "removeBackground"), ref_type="product", ref_id=product.id,
                   note="background removal failed", idempotency_key=_bg_key(product, attempt, "bgrefund"))
    session.commit()
    return product


def list_products(session: Session, *, user: User, limit: int = 50, offset: int = 0, brand_kit_id: int | None = None,
                  category: str | None = None, bg_status: str | None = None,
                  product_type: str | None = None) -> tuple[list[Product], int]:
    return list_owned(session, Product, user_id=user.id, limit=limit, offset=offset,
                      filters=dict(brand_kit_id=brand_kit_id, category=category, bg_status=bg_status,
                                   product_type=product_type),
                      order_by=(Product.created_at.desc(), Product.id.desc()))


def update(session: Session, *, user: User, product_id: int, data: ProductUpdate) -> Product:
    product = get(session, user=user, product_id=product_id)
    changes = changes_of(product, data, required={"name": "name", "placement": "placement"})
    if changes.get("brand_kit_id") is not None:
        brand_kits.get(session, user=user, kit_id=changes["brand_kit_id"])
    if not changes:
        return product
    for k, v in changes.items():
        setattr(product, k, v)
    product.updated_at = utcnow()
    credits.charge(session, user_id=user.id, app_id=APP, action="updateProduct", ref_type="product",
                   ref_id=product.id)
    session.add(product)
    session.commit()
    return product


def delete(session: Session, *, user: User, product_id: int, store: LocalFileStore) -> None:
    product = get(session, user=user, product_id=product_id)
    files = (product.original_path, product.cutout_path, product.thumbnail_path)
    credits.charge(session, user_id=user.id, app_id=APP, action="deleteProduct", ref_type="product",
                   ref_id=product.id)
    session.delete(product)
    session.commit()
    for key in files:
        store.delete(key)


def stats(session: Session, *, user: User) -> dict:
    rows = list(session.exec(select(Product).where(Product.user_id == user.id)))
    return {
        "totalProducts": len(rows),
        "byStatus": {s: sum(1 for p in rows if p.bg_status == s) for s in BG_STATUSES},
        "byCategory": dict(Counter(p.category or "uncategorised" for p in rows)),
        "byType": dict(Counter(p.product_type or "unset" for p in rows)),
        "byPlacement": dict(Counter(p.placement for p in rows)),
        "mostUsed": [{"id": p.id, "name": p.name, "usageCount": p.usage_count}
                     for p in sorted(rows, key=lambda p: (-p.usage_count, p.id))[:5]],
    }
