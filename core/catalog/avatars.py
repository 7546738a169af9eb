"""Avatars: the models who wear and hold a shop's products. Each belongs to one of the user's brand kits.

Upload goes through the one image intake; the base image and its thumbnail are stored under the
owner's keys; crop/rotate writes a new base image and thumbnail and removes the old files.
"""
from __future__ import annotations

import io
from collections import Counter
from datetime import datetime
from typing import Annotated, BinaryIO, Literal

from PIL import Image
from pydantic import Field
from sqlmodel import Session, select

from core.analytics import metrics
from core.catalog import brand_kits, faces
from core.accounts import credits
from core.errors import ValidationFailed
from core.records import changes_of, get_owned, list_owned
from core.schemas import CamelModel, file_url
from core.seed_vocabulary import alias_of
from core.settings import Settings
from core.storage import LocalFileStore
from db.models import Avatar, User, utcnow

APP = "avatar-manager"
GENDERS = ("female", "male", "unspecified")
AGE_RANGES = ("18-24", "25-34", "35-44", "45-54", "55+")
STYLES = ("casual", "formal", "modest-hijab", "sporty", "streetwear", "traditional", "elegant", "professional")
ETHNICITIES = ("southeast-asian", "east-asian", "south-asian", "black", "white", "middle-eastern", "latino",
               "mixed", "unspecified")
Gender = Literal[GENDERS]  # type: ignore[valid-type]
AgeRange = Annotated[Literal[AGE_RANGES], alias_of("avatar.ageRange")]  # type: ignore[valid-type]  # + the seed's words
Style = Literal[STYLES]  # type: ignore[valid-type]
Ethnicity = Annotated[Literal[ETHNICITIES], alias_of("avatar.ethnicity")]  # type: ignore[valid-type]


class AvatarTraits(CamelModel):
    gender: Gender | None = None
    age_range: AgeRange | None = None
    style: Style | None = None
    ethnicity: Ethnicity | None = None


class AvatarCreate(AvatarTraits):
    brand_kit_id: int
    name: str = Field(min_length=1, max_length=100)


class AvatarUpdate(AvatarTraits):
    name: str | None = Field(default=None, min_length=1, max_length=100)
    brand_kit_id: int | None = None


class CropRequest(CamelModel):
    """A crop box in pixels of the current image (after rotation), and a rotation in degrees
    counter-clockwise (multiples of 90 are lossless; others fill the corners with white, or leave
    them transparent on an image with alpha)."""

    rotate: float = Field(default=0, ge=-360, le=360)
    x: int | None = Field(default=None, ge=0)
    y: int | None = Field(default=None, ge=0)
    width: int | None = Field(default=None, ge=16)
    height: int | None = Field(default=None, ge=16)


class AvatarPublic(CamelModel):
    id: int
    brand_kit_id: int
    name: str
    source_type: str
    generation_prompt: str | None
    image_url: str
    thumbnail_url: str
    width: int
    height: int
    gender: str | None
    age_range: str | None
    style: str | None
    ethnicity: str | None
    usage_count: int
    face_url: str | None = Field(description="The face likeness is taken from (a crop of the photo).")
    face_box: list[int] | None = Field(description="Where that face is in the photo: left, top, right, bottom (px).")
    face_source: str | None = Field(description="detector | portrait (the upper-middle fallback) | user.")
    created_at: datetime
    updated_at: datetime

    @classmethod
    def of(cls, a: Avatar) -> "AvatarPublic":
        return cls(id=a.id, brand_kit_id=a.brand_kit_id, name=a.name, source_type=a.source_type,
                   generation_prompt=a.generation_prompt, image_url=file_url(a.image_path),
                   thumbnail_url=file_url(a.thumbnail_path), width=a.width, height=a.height, gender=a.gender,
                   age_range=a.age_range, style=a.style, ethnicity=a.ethnicity, usage_count=a.usage_count,
                   face_url=file_url(a.face_path) if a.face_path else None, face_box=a.face_box,
                   face_source=a.face_source, created_at=a.created_at, updated_at=a.updated_at)


def get(session: Session, *, user: User, avatar_id: int) -> Avatar:
    return get_owned(session, Avatar, avatar_id, user_id=user.id, label="Avatar")


def upload(session: Session, *, user: User, data: AvatarCreate, source: BinaryIO | bytes, filename: str | None,
           store: LocalFileStore, settings: Settings, source_type: str = "upload",
           generation_prompt: str | None = None, request_key: str | None = None) -> Avatar:
    """Store one avatar photo (uploadAvatar). `request_key` (the UI's submit token, REST's Idempotency-Key):
    a repeat of the same request — a double click, a retried request — answers with the first avatar and
    charges nothing; a concurrent repeat that loses the race leaves no row and no file."""
    from core.images import ingest_image

    charge_key = credits.request_key(user.id, "uploadAvatar", request_key)
    if (first := credits.first_of(session, charge_key)) is not None:
        return get(session, user=user, avatar_id=first.ref_id)
    # Decode and check first, outside any transaction (SQLite writers would wait on a long one).
    image = ingest_image(source, kind="avatar", settings=settings, filename=filename)
    brand_kits.get(session, user=user, kit_id=data.brand_kit_id)  # must be the user's own kit
    try:
        with store.staged() as staged:
            key, thumb = staged.save_image(image, user_id=user.id, kind="avatar")
            avatar = Avatar(user_id=user.id, **data.model_dump(), source_type=source_type,
                            generation_prompt=generation_prompt, image_path=key, thumbnail_path=thumb,
                            width=image.width, height=image.height)
            _place_face(avatar, image.image, faces.portrait_box(*image.image.size), "portrait", staged)
            session.add(avatar)
            session.flush()
            credits.charge_once(session, user_id=user.id, app_id=APP, action="uploadAvatar", ref_type="avatar",
                                ref_id=avatar.id, key=charge_key)
            metrics.record_created(session, user_id=user.id, brand_kit_id=avatar.brand_kit_id,
                                   design_type="avatar", seconds=None, at=avatar.created_at, settings=settings)
            session.commit()
    except credits.Repeated as repeat:
        session.rollback()
        return get(session, user=user, avatar_id=repeat.first.ref_id)
    return avatar


def list_avatars(session: Session, *, user: User, limit: int = 50, offset: int = 0, brand_kit_id: int | None = None,
                 gender: str | None = None, age_range: str | None = None, style: str | None = None,
                 ethnicity: str | None = None) -> tuple[list[Avatar], int]:
    return list_owned(session, Avatar, user_id=user.id, limit=limit, offset=offset,
                      filters=dict(brand_kit_id=brand_kit_id, gender=gender, age_range=age_range, style=style,
                                   ethnicity=ethnicity),
                      order_by=(Avatar.created_at.desc(), Avatar.id.desc()))


def update(session: Session, *, user: User, avatar_id: int, data: AvatarUpdate) -> Avatar:
    avatar = get(session, user=user, avatar_id=avatar_id)
    changes = changes_of(avatar, data, required={
        "name": "name", "brand_kit_id": ("brandKitId", "avatars.brand_kit_required")})
    if changes.get("brand_kit_id") is not None:
        brand_kits.get(session, user=user, kit_id=changes["brand_kit_id"])
    if not changes:
        return avatar
    for k, v in changes.items():
        setattr(avatar, k, v)
    avatar.updated_at = utcnow()
    credits.charge(session, user_id=user.id, app_id=APP, action="updateAvatar", ref_type="avatar", ref_id=avatar.id)
    session.add(avatar)
    session.commit()
    return avatar


def crop(session: Session, *, user: User, avatar_id: int, request: CropRequest, store: LocalFileStore) -> Avatar:
    """Rotate, then crop; write a new base image and thumbnail; the old files go."""
    from core.images import encode_image, make_thumbnail, output_format

    avatar = get(session, user=user, avatar_id=avatar_id)
    with Image.open(store.path(avatar.image_path)) as im:
        image = im.convert("RGBA" if im.mode == "RGBA" else "RGB")  # a transparent background stays so
    angle = request.rotate % 360
    if angle:
        if angle % 90 == 0:
            image = image.rotate(angle, expand=True)
        else:
            fill = (255, 255, 255, 0) if image.mode == "RGBA" else (255, 255, 255)
            image = image.rotate(angle, expand=True, resample=Image.Resampling.BICUBIC, fillcolor=fill)
    box_given = [v is not None for v in (request.x, request.y, request.width, request.height)]
    if any(box_given):
        if not all(box_given):
            raise ValidationFailed("avatars.crop_incomplete", field="width")
        right, bottom = request.x + request.width, request.y + request.height
        if right > image.width or bottom > image.height:
            raise ValidationFailed("avatars.crop_outside", field="width", right=right, bottom=bottom,
                                   width=image.width, height=image.height)
        image = image.crop((request.x, request.y, right, bottom))
    elif not angle:
        raise ValidationFailed("avatars.nothing_to_do", field="rotate")
    data, ext, _ = encode_image(image)
    old = (avatar.image_path, avatar.thumbnail_path, avatar.face_path)
    with store.staged() as staged:
        avatar.image_path = staged.save(data, user_id=user.id, kind="avatar", ext=ext)
        _place_face(avatar, image, faces.portrait_box(*image.size), "portrait", staged)   # a new photo, a new face
        thumb = make_thumbnail(image)
        avatar.thumbnail_path = staged.save(thumb, user_id=user.id, kind="avatar-thumb",
                                            ext=output_format(image)[0])
        avatar.width, avatar.height = image.size
        avatar.updated_at = utcnow()
        credits.charge(session, user_id=user.id, app_id=APP, action="updateAvatar", ref_type="avatar",
                       ref_id=avatar.id)
        session.add(avatar)
        session.commit()
    for key in old:
        store.delete(key)
    return avatar


def _place_face(avatar: Avatar, photo: Image.Image, box, source: str, staged) -> None:
    avatar.face_path = staged.save(faces.crop_png(photo, box), user_id=avatar.user_id, kind="avatar-face", ext="png")
    avatar.face_box, avatar.face_source = list(box), source


def set_face(session: Session, *, user: User, avatar_id: int, box, store: LocalFileStore) -> Avatar:
    """The user moves or resizes the face box: likeness is taken from there from now on (free)."""
    avatar = get(session, user=user, avatar_id=avatar_id)
    box = faces.check_box(box, avatar.width, avatar.height)
    return _replace_face(session, avatar, box, "user", store)


def refine_face(session: Session, *, avatar: Avatar, store: LocalFileStore, detect) -> Avatar:
    """Once per photo, where the pose detector runs (a render job): its head keypoints replace the portrait
    fallback. A box the user set, or one the detector already made, is kept; no head found keeps the fallback."""
    if avatar.face_source not in (None, "portrait") or detect is None:
        return avatar
    with Image.open(io.BytesIO(store.read(avatar.image_path))) as im:
        photo = im.convert("RGB")
    box = faces.box_from_people(photo.width, photo.height, detect(photo))
    if box is None:
        return avatar
    return _replace_face(session, avatar, box, "detector", store, photo=photo)


def _replace_face(session: Session, avatar: Avatar, box, source: str, store: LocalFileStore, *,
                  photo: Image.Image | None = None) -> Avatar:
    if photo is None:
        with Image.open(io.BytesIO(store.read(avatar.image_path))) as im:
            photo = im.convert("RGB")
    old = avatar.face_path
    with store.staged() as staged:
        _place_face(avatar, photo, box, source, staged)
        avatar.updated_at = utcnow()
        session.add(avatar)
        session.commit()
    if old and old != avatar.face_path:
        store.delete(old)
    return avatar


def delete(session: Session, *, user: User, avatar_id: int, store: LocalFileStore) -> None:
    avatar = get(session, user=user, avatar_id=avatar_id)
    files = (avatar.image_path, avatar.thumbnail_path, avatar.face_path)
    credits.charge(session, user_id=user.id, app_id=APP, action="deleteAvatar", ref_type="avatar", ref_id=avatar.id)
    session.delete(avatar)
    session.commit()
    for key in files:
        store.delete(key)


def stats(session: Session, *, user: User) -> dict:
    rows = list(session.exec(select(Avatar).where(Avatar.user_id == user.id)))
    return {
        "totalAvatars": len(rows),
        "bySource": dict(Counter(a.source_type for a in rows)),
        "byGender": dict(Counter(a.gender or "unset" for a in rows)),
        "byAgeRange": dict(Counter(a.age_range or "unset" for a in rows)),
        "byStyle": dict(Counter(a.style or "unset" for a in rows)),
        "byEthnicity": dict(Counter(a.ethnicity or "unset" for a in rows)),
        "byBrandKit": {str(k): v for k, v in Counter(a.brand_kit_id for a in rows).items()},
        "mostUsed": [{"id": a.id, "name": a.name, "usageCount": a.usage_count}
                     for a in sorted(rows, key=lambda a: (-a.usage_count, a.id))[:5]],
    }
