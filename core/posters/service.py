"""Posters from generated images: N images x M formats x L layouts with the brand kit applied (core.posters
draws them), stored as Poster rows, charged exportToPoster (3 credits) each, exported as one ZIP.

All or nothing: every poster of a request is drawn into staged files first; the rows, the charge and the
analytics totals are written in one transaction afterwards, so a failure leaves no file, row or charge.

For the Posters page: finished_photos (the images a poster can be made from) and previews (small JPEGs of the
layouts with the user's photo and kit, or a drawn sample model; nothing stored or charged).
"""
from __future__ import annotations

import dataclasses
import functools
import io
import time
from collections import Counter
from collections.abc import Callable

import sqlalchemy as sa
from PIL import Image
from pydantic import Field, field_validator
from sqlmodel import Session

from core.analytics import metrics
from core.catalog import brand_kits
from core.accounts import credits
from core.errors import InsufficientCredits, NotFound, ValidationFailed
from core.generation.state import APP
from core.records import get_owned, list_owned
from core.schemas import CamelModel
from core.storage import LocalFileStore
from db.models import GeneratedPose, PoseGeneration, PoseTemplate, Poster, Product, User

MAX_POSTERS_PER_REQUEST = 60
MAX_RESULTS_PER_REQUEST = 20
ID_MAX = 2**31 - 1  # ids are 32-bit in the database: a larger one names nothing (Postgres would refuse the query)


class PosterRequest(CamelModel):
    result_ids: list[int] = Field(min_length=1, max_length=MAX_RESULTS_PER_REQUEST)
    formats: list[str] = Field(min_length=1)
    layouts: list[str] = Field(min_length=1)
    brand_kit_id: int | None = None          # default: the kit of each image's batch
    product_name: str | None = Field(default=None, max_length=80)   # default: the batch's product name
    price: str | None = Field(default=None, max_length=40)
    cta: str | None = Field(default=None, max_length=80)

    @field_validator("result_ids", "formats", "layouts")
    @classmethod
    def _unique(cls, v):
        return list(dict.fromkeys(v))


def options() -> dict:
    """The formats (with pixel sizes) and layouts a user can pick."""
    from core.posters import FORMATS, LAYOUTS

    return {"formats": [{"key": f.key, "label": f.label, "width": f.width, "height": f.height}
                        for f in FORMATS.values()],
            "layouts": [{"key": key, "label": getattr(layout, "label", key),
                         "description": getattr(layout, "description", None)} for key, layout in LAYOUTS.items()]}


def _owned(session: Session, model, record_id: int, *, user: User, label: str):
    if not 0 < record_id <= ID_MAX:
        raise NotFound("records.not_found", record=label, id=record_id)
    return get_owned(session, model, record_id, user_id=user.id, label=label)


def _kit(session: Session, *, user: User, kit_id: int):
    if not 0 < kit_id <= ID_MAX:
        raise NotFound("records.not_found", record="Brand kit", id=kit_id)
    return brand_kits.get(session, user=user, kit_id=kit_id)


def _check_choices(request: PosterRequest) -> None:
    from core.posters import FORMATS, LAYOUTS

    for field, code, values, allowed in (("formats", "posters.unknown_format", request.formats, FORMATS),
                                         ("layouts", "posters.unknown_layout", request.layouts, LAYOUTS)):
        bad = [v for v in values if v not in allowed]
        if bad:
            raise ValidationFailed(code, field=field, key=bad[0], known=list(allowed))


def brand_style(kit, store: LocalFileStore):
    from core.posters import BrandStyle

    logo = Image.open(io.BytesIO(store.read(kit.logo_path))).convert("RGBA") if kit.logo_path else None
    return BrandStyle(brand_name=kit.brand_name, colors=list(kit.colors or ["#222222"]), fonts=list(kit.fonts or []),
                      logo=logo, tagline=kit.tagline)


def _photo(store: LocalFileStore, pose: GeneratedPose) -> Image.Image:
    try:
        data = store.read(pose.image_path)
    except NotFound:
        raise ValidationFailed("posters.image_missing", field="resultIds", id=pose.id) from None
    return Image.open(io.BytesIO(data)).convert("RGB")


def _fitted_keypoints(session: Session, pose: GeneratedPose, size: tuple[int, int]):
    from core.library.poses.transforms import fit_to_aspect

    template = session.get(PoseTemplate, pose.template_id) if pose.template_id else None
    if template is None:
        return None
    return fit_to_aspect(template.keypoints, size[0] / size[1], source_aspect=template.aspect).to_json()


def create_posters(session: Session, *, user: User, request: PosterRequest, store: LocalFileStore,
                   progress: Callable[[int, int], None] | None = None) -> list[Poster]:
    """Draw every (image, format, layout) poster, then store and charge them together."""
    from core.images import encode_image, make_thumbnail
    from core.posters import PosterText, render_poster

    _check_choices(request)
    count = len(request.result_ids) * len(request.formats) * len(request.layouts)
    if count > MAX_POSTERS_PER_REQUEST:
        raise ValidationFailed("posters.over_limit", field="resultIds", n=count, images=len(request.result_ids),
                               formats=len(request.formats), layouts=len(request.layouts),
                               most=MAX_POSTERS_PER_REQUEST)
    poses = [_owned(session, GeneratedPose, rid, user=user, label="Result") for rid in request.result_ids]
    for pose in poses:
        if pose.status != "done" or not pose.image_path:
            raise ValidationFailed("posters.not_finished", field="resultIds", id=pose.id,
                                   result_status=pose.status)
    fixed_kit = _kit(session, user=user, kit_id=request.brand_kit_id) if request.brand_kit_id else None
    price = credits.cost(APP, "exportToPoster", count)
    have = credits.balance(session, user_id=user.id)
    if have < price:
        raise InsufficientCredits("posters.not_enough_credits", n=count, need=price,
                                  each=credits.cost(APP, "exportToPoster"), have=have)
    drawn = []
    styles: dict[int, object] = {}
    done = 0
    with store.staged() as staged:
        for pose in poses:
            generation = session.get(PoseGeneration, pose.generation_id)
            kit = fixed_kit
            if kit is None:
                if generation.brand_kit_id is None:
                    raise ValidationFailed("posters.kit_deleted", field="brandKitId", id=pose.id)
                kit = brand_kits.get(session, user=user, kit_id=generation.brand_kit_id)
            if kit.id not in styles:
                styles[kit.id] = brand_style(kit, store)
            product = session.get(Product, generation.product_id) if generation.product_id else None
            text = PosterText(product_name=request.product_name or (product.name if product else None),
                              price=request.price, cta=request.cta)
            photo = _photo(store, pose)
            keypoints = _fitted_keypoints(session, pose, photo.size)
            box = tuple(pose.product_box) if pose.product_box else None
            for fmt in request.formats:
                for layout in request.layouts:
                    t0 = time.perf_counter()
                    poster = render_poster(photo=photo, keypoints=keypoints, product_box=box, brand=styles[kit.id],
                                           text=text, format=fmt, layout=layout)
                    image = poster.image
                    data, ext, _ = encode_image(image, lossless=True)
                    key = staged.save(data, user_id=user.id, kind="poster", ext=ext)
                    thumb = staged.save(make_thumbnail(image), user_id=user.id, kind="poster-thumb", ext="jpg")
                    drawn.append(Poster(user_id=user.id, brand_kit_id=kit.id, generated_pose_id=pose.id, format=fmt,
                                        layout=layout, width=image.width, height=image.height, image_path=key,
                                        thumbnail_path=thumb, text=dataclasses.asdict(text),
                                        render_seconds=round(time.perf_counter() - t0, 3)))
                    done += 1
                    if progress:
                        progress(done, count)
        session.add_all(drawn)
        session.flush()
        credits.charge(session, user_id=user.id, app_id=APP, action="exportToPoster", quantity=count,
                       ref_type="poster", ref_id=drawn[0].id)
        for row in drawn:
            metrics.record_created(session, user_id=user.id, brand_kit_id=row.brand_kit_id, design_type="poster",
                                     seconds=row.render_seconds, format=row.format, at=row.created_at)
        for pose_id, n in Counter(row.generated_pose_id for row in drawn).items():   # the seed's usedInPosters
            session.execute(sa.update(GeneratedPose).where(GeneratedPose.id == pose_id)
                            .values(poster_count=GeneratedPose.poster_count + n)
                            .execution_options(synchronize_session=False))
        session.commit()
    for row in drawn:
        session.refresh(row)
    return drawn


@dataclasses.dataclass(frozen=True)
class Photo:
    """A finished image a poster can be made from."""

    id: int
    generation_id: int
    position: int
    product_name: str | None
    brand_kit_id: int | None
    image_path: str
    thumbnail_path: str | None


def finished_photos(session: Session, *, user: User, limit: int = 200, ids: list[int] | None = None) -> list[Photo]:
    """The user's finished images, newest batch first (in batch order), or those of `ids` that are the user's and
    finished (others are left out, never reported)."""
    from sqlmodel import select

    G, P = GeneratedPose, PoseGeneration
    q = (select(G, P.brand_kit_id, Product.name).join(P, P.id == G.generation_id)
         .outerjoin(Product, Product.id == P.product_id)
         .where(G.user_id == user.id, G.status == "done", G.image_path.is_not(None)))
    if ids is not None:
        q = q.where(G.id.in_([i for i in ids if 0 < i <= ID_MAX] or [-1]))
    rows = session.exec(q.order_by(P.created_at.desc(), P.id.desc(), G.position).limit(limit)).all()
    return [Photo(id=g.id, generation_id=g.generation_id, position=g.position, product_name=name, brand_kit_id=kit_id,
                  image_path=g.image_path, thumbnail_path=g.thumbnail_path) for g, kit_id, name in rows]


SAMPLE_BRAND = ("Toko Sari", ["#8B1E3F", "#F2C14E"], ["Poppins", "Open Sans"])


@functools.lru_cache(maxsize=1)
def _sample_photo() -> tuple[Image.Image, list, tuple[int, int, int, int]]:
    """A drawn model holding a product (512x768) with its OpenPose keypoints: previews before any photo is picked."""
    from PIL import ImageDraw

    w, h = 512, 768
    img = Image.new("RGB", (w, h), (236, 231, 224))
    d = ImageDraw.Draw(img)
    for y in range(h):  # a soft studio backdrop
        c = 236 - round(18 * y / h)
        d.line([(0, y), (w, y)], fill=(c, c - 4, c - 10))
    skin, shirt, trousers = (214, 170, 140), (72, 110, 140), (60, 60, 72)
    d.rounded_rectangle((190, 225, 322, 450), 34, fill=shirt)            # torso
    d.rounded_rectangle((200, 430, 312, 720), 24, fill=trousers)         # legs
    d.line([(208, 440), (208, 710)], fill=(236, 231, 224), width=6)
    d.line([(196, 240), (160, 330), (170, 420)], fill=shirt, width=34, joint="curve")   # right arm (viewer's left)
    d.line([(316, 240), (350, 320), (330, 400)], fill=shirt, width=34, joint="curve")   # left arm, holding
    d.rectangle((240, 195, 272, 230), fill=skin)                         # neck
    d.ellipse((206, 100, 306, 205), fill=skin)                           # head
    d.chord((202, 92, 310, 170), 180, 360, fill=(50, 38, 32))            # hair
    for x in (238, 274):                                                 # eyes and a smile
        d.ellipse((x - 5, 140, x + 5, 150), fill=(40, 30, 28))
    d.arc((238, 150, 274, 182), 20, 160, fill=(150, 70, 60), width=4)
    d.rounded_rectangle((322, 350, 372, 470), 10, fill=(240, 193, 78))   # the product
    d.rectangle((335, 335, 359, 352), fill=(139, 30, 63))
    pts = {0: (256, 160), 1: (256, 225), 2: (196, 240), 3: (160, 330), 4: (170, 420), 5: (316, 240),
           6: (350, 320), 7: (330, 400), 8: (226, 440), 9: (228, 570), 10: (230, 700), 11: (286, 440),
           12: (284, 570), 13: (282, 700), 14: (240, 145), 15: (272, 145), 16: (222, 155), 17: (290, 155)}
    keypoints = [[pts[i][0] / w, pts[i][1] / h, 1.0] for i in range(18)]
    return img, keypoints, (322, 335, 372, 470)


def previews(session: Session, *, user: User, store: LocalFileStore, result_id: int | None, brand_kit_id: int | None,
             text, format: str, layouts: list[str], max_side: int = 280) -> dict[str, bytes]:
    """Small JPEG previews (layout -> bytes) of `layouts` in `format`: with the user's result, its batch's kit (or
    brand_kit_id) and product name (unless text names one), else a drawn sample model. Nothing is stored or
    charged."""
    from core.images import make_thumbnail
    from core.posters import BrandStyle, get_format, get_layout, render_poster

    get_format(format)
    for key in layouts:
        get_layout(key)
    kit = _kit(session, user=user, kit_id=brand_kit_id) if brand_kit_id else None
    if result_id is not None:
        pose = _owned(session, GeneratedPose, result_id, user=user, label="Result")
        if pose.status != "done" or not pose.image_path:
            raise ValidationFailed("posters.not_finished", field="resultIds", id=pose.id,
                                   result_status=pose.status)
        generation = session.get(PoseGeneration, pose.generation_id)
        if kit is None and generation.brand_kit_id is not None:
            kit = brand_kits.get(session, user=user, kit_id=generation.brand_kit_id)
        if text.product_name is None:  # as create_posters: the batch's product name
            product = session.get(Product, generation.product_id) if generation.product_id else None
            text = dataclasses.replace(text, product_name=product.name if product else None)
        photo = _photo(store, pose)
        keypoints = _fitted_keypoints(session, pose, photo.size)
        box = tuple(pose.product_box) if pose.product_box else None
    else:
        photo, keypoints, box = _sample_photo()
    brand = brand_style(kit, store) if kit is not None else BrandStyle(*SAMPLE_BRAND)
    out = {}
    for key in layouts:
        poster = render_poster(photo=photo, keypoints=keypoints, product_box=box, brand=brand, text=text,
                               format=format, layout=key)
        out[key] = make_thumbnail(poster.image, max_side)
    return out


def get_poster(session: Session, *, user: User, poster_id: int) -> Poster:
    return _owned(session, Poster, poster_id, user=user, label="Poster")


def list_posters(session: Session, *, user: User, limit: int = 50, offset: int = 0, result_id: int | None = None):
    if result_id is not None and not 0 < result_id <= ID_MAX:
        result_id = -1  # names nothing
    return list_owned(session, Poster, user_id=user.id, filters={"generated_pose_id": result_id},
                      order_by=(Poster.created_at.desc(), Poster.id.desc()), limit=limit, offset=offset)


def delete_poster(session: Session, *, user: User, poster_id: int, store: LocalFileStore) -> None:
    row = get_poster(session, user=user, poster_id=poster_id)
    keys = (row.image_path, row.thumbnail_path)
    if row.generated_pose_id is not None:   # usedInPosters counts the posters that are there
        G = GeneratedPose
        session.execute(sa.update(G).where(G.id == row.generated_pose_id, G.poster_count > 0)
                        .values(poster_count=G.poster_count - 1).execution_options(synchronize_session=False))
    session.delete(row)
    session.commit()
    for key in keys:
        store.delete(key)


def export_zip(session: Session, *, user: User, poster_ids: list[int], store: LocalFileStore):
    """(path of a temporary ZIP, download name): posters named so a person finds things, e.g.
    003_kemeja-batik_instagram-post_clean-frame.png. Records the export for analytics."""
    import tempfile
    import zipfile
    from pathlib import Path

    from core.posters import poster_filename

    if not poster_ids:
        raise ValidationFailed("posters.nothing_to_export", field="ids")
    rows = [get_poster(session, user=user, poster_id=pid) for pid in dict.fromkeys(poster_ids)]
    tmp = tempfile.NamedTemporaryFile(prefix="apg-posters-", suffix=".zip", delete=False)
    try:
        with zipfile.ZipFile(tmp, "w", compression=zipfile.ZIP_STORED) as zf:
            for index, row in enumerate(rows, start=1):
                name = poster_filename(index=index, product_name=(row.text or {}).get("product_name"),
                                       format=row.format, layout=row.layout)
                ext = row.image_path.rsplit(".", 1)[-1]
                zf.writestr(f"{row.format}/{name.rsplit('.', 1)[0]}.{ext}", store.read(row.image_path))
        tmp.close()
    except BaseException:
        tmp.close()
        Path(tmp.name).unlink(missing_ok=True)
        raise
    by_kit: dict[int | None, int] = {}
    for row in rows:
        by_kit[row.brand_kit_id] = by_kit.get(row.brand_kit_id, 0) + 1
    for kit_id, n in by_kit.items():
        metrics.record_export(session, user_id=user.id, brand_kit_id=kit_id, design_type="poster", format="zip",
                                count=n)
    session.commit()
    return Path(tmp.name), f"posters-{len(rows)}.zip"
