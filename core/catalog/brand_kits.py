"""Brand kits: a shop's name, colours, fonts, logo, tone and tagline, applied later to posters and prompts.

Every function takes the acting user and only ever touches that user's kits; another user's kit is
NotFound. Charges (the seed's prices) happen in the same transaction as the change.
"""
from __future__ import annotations

from collections import Counter
from datetime import datetime
from typing import Annotated, BinaryIO, Literal

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError
from pydantic import AfterValidator, BeforeValidator, Field
from sqlmodel import Session, select

from core.accounts import credits
from core.errors import ValidationFailed
from core.messages import invalid
from core.records import get_owned, list_owned
from core.schemas import CamelModel, file_url
from core.settings import Settings
from core.storage import LocalFileStore
from db.models import Avatar, BrandKit, Product, User, utcnow

APP = "brand-kit"
TONES = ("friendly", "casual", "formal", "playful", "luxury", "bold", "minimalist", "professional", "elegant",
         "warm")
CATEGORIES = ("fashion", "beauty", "skincare", "food", "beverage", "health", "home", "electronics", "craft",
              "kids", "sports", "other")
Tone = Literal[TONES]  # type: ignore[valid-type]
Category = Literal[CATEGORIES]  # type: ignore[valid-type]
HEX_DIGITS = set("0123456789abcdefABCDEF")


def _check_colors(v: list[str]) -> list[str]:
    if not 1 <= len(v) <= 10:
        raise invalid("brand_kits.colors_count", got=len(v))
    out = []
    for c in v:
        c = c.strip()
        if len(c) != 7 or c[0] != "#" or not set(c[1:]) <= HEX_DIGITS:
            raise invalid("brand_kits.color_invalid", color=c)
        out.append(c.upper())
    return out


DEFAULT_FONT = "Poppins"   # a kit created without fonts (the seed's fonts are optional): geometric, legible, bold
FONT_WEIGHTS = range(100, 1000, 100)


def _font_names(v):
    """The family names of a fonts list: ours (["Poppins"]) or the seed's [{"family": "Poppins", "weights": [400,
    700]}]. A weight is checked (100-900 in hundreds) and otherwise not stored: every shipped family has a Regular
    (400) and most a Bold (700), which posters use; the kit's `fontFaces` answer says which each has."""
    if not isinstance(v, list):
        return v
    out = []
    for item in v:
        if isinstance(item, dict):
            family, weights = item.get("family"), item.get("weights", [])
            if not isinstance(family, str) or set(item) - {"family", "weights"}:
                raise invalid("brand_kits.font_object")
            if not isinstance(weights, list) or any(isinstance(w, bool) or w not in FONT_WEIGHTS for w in weights):
                raise invalid("brand_kits.font_weights", font=family)
            item = family
        out.append(item)
    return out


def font_faces(fonts: list[str]) -> list[dict]:
    """The seed's {"family", "weights"} form of a kit's fonts: the weights each shipped family really has."""
    from core.catalog.fonts import font_info, is_known_family

    return [{"family": name, "weights": [400, 700] if is_known_family(name) and font_info(name).has_bold else [400]}
            for name in fonts]


def _check_fonts(v: list[str]) -> list[str]:
    from core.catalog.fonts import is_known_family, list_font_families

    if not 1 <= len(v) <= 3:
        raise invalid("brand_kits.fonts_count", got=len(v))
    for name in v:
        if not is_known_family(name):
            raise invalid("brand_kits.font_unknown", font=name, fonts=list_font_families())
    if len(set(v)) != len(v):
        raise invalid("brand_kits.font_twice")
    return v


Colors = Annotated[list[str], AfterValidator(_check_colors)]
Fonts = Annotated[list[str], BeforeValidator(_font_names), AfterValidator(_check_fonts)]


class BrandKitFields(CamelModel):
    brand_name: str = Field(min_length=1, max_length=100)
    category: Category = "other"
    colors: Colors
    fonts: Fonts = Field(default_factory=lambda: [DEFAULT_FONT])
    tone: Tone = "friendly"
    tagline: str | None = Field(default=None, max_length=140)


class BrandKitCreate(BrandKitFields):
    is_default: bool = False


class BrandKitUpdate(CamelModel):
    brand_name: str | None = Field(default=None, min_length=1, max_length=100)
    category: Category | None = None
    colors: Colors | None = None
    fonts: Fonts | None = None
    tone: Tone | None = None
    tagline: str | None = Field(default=None, max_length=140)
    is_default: bool | None = None


class BrandKitPublic(CamelModel):
    id: int
    brand_name: str
    category: str | None
    colors: list[str]
    fonts: list[str]
    font_faces: list[dict] = Field(default_factory=list, description="the seed's form of `fonts`: "
                                   "[{family, weights}], the weights each family ships (400 Regular, 700 Bold)")
    logo_url: str | None
    tone: str
    tagline: str | None
    is_default: bool
    usage_count: int
    created_at: datetime
    updated_at: datetime

    @classmethod
    def of(cls, kit: BrandKit) -> "BrandKitPublic":
        return cls(id=kit.id, brand_name=kit.brand_name, category=kit.category, colors=kit.colors,
                   fonts=kit.fonts, font_faces=font_faces(kit.fonts), logo_url=file_url(kit.logo_path), tone=kit.tone, tagline=kit.tagline,
                   is_default=kit.is_default, usage_count=kit.usage_count, created_at=kit.created_at,
                   updated_at=kit.updated_at)


def get(session: Session, *, user: User, kit_id: int) -> BrandKit:
    return get_owned(session, BrandKit, kit_id, user_id=user.id, label="Brand kit")


def list_kits(session: Session, *, user: User, limit: int = 50, offset: int = 0,
              category: str | None = None) -> tuple[list[BrandKit], int]:
    return list_owned(session, BrandKit, user_id=user.id, limit=limit, offset=offset, filters=dict(category=category),
                      order_by=(BrandKit.is_default.desc(), BrandKit.updated_at.desc(), BrandKit.id.desc()))


def _clear_default(session: Session, user: User, except_id: int | None = None) -> None:
    stmt = sa.update(BrandKit).where(BrandKit.user_id == user.id, BrandKit.is_default.is_(True))
    if except_id is not None:
        stmt = stmt.where(BrandKit.id != except_id)
    session.execute(stmt.values(is_default=False))


def create(session: Session, *, user: User, data: BrandKitCreate) -> BrandKit:
    has_any = session.exec(select(BrandKit.id).where(BrandKit.user_id == user.id).limit(1)).first() is not None
    make_default = data.is_default or not has_any  # a user's first kit is their default
    fields = data.model_dump(exclude={"is_default"})
    try:
        with session.begin_nested():
            if make_default:
                _clear_default(session, user)
            kit = BrandKit(user_id=user.id, **fields, is_default=make_default)
            session.add(kit)
            session.flush()
    except IntegrityError:
        # Another request made a default kit at the same moment (the database allows one): this one
        # is created as a normal kit instead of failing.
        kit = BrandKit(user_id=user.id, **fields, is_default=False)
        session.add(kit)
        session.flush()
    credits.charge(session, user_id=user.id, app_id=APP, action="createBrandKit", ref_type="brand_kit", ref_id=kit.id)
    session.commit()
    return kit


def _lock_owner(session: Session, user: User) -> None:
    """Hold the user's row until commit, so two default changes at once (two tabs) run one after the
    other instead of the second tripping the one-default index. A no-op UPDATE: a row lock on Postgres,
    the write lock on SQLite."""
    users = User.__table__
    session.execute(sa.update(users).where(users.c.id == user.id).values(id=users.c.id))


def update(session: Session, *, user: User, kit_id: int, data: BrandKitUpdate) -> BrandKit:
    kit = get(session, user=user, kit_id=kit_id)
    changes = data.model_dump(exclude_unset=True)
    for name, shown in (("brand_name", "brandName"), ("tone", "tone"), ("colors", "colors"), ("fonts", "fonts")):
        if name in changes and changes[name] is None:  # columns that always hold a value (null was a 500)
            raise ValidationFailed("records.field_empty", field=shown, name=shown)
    content = {k: v for k, v in changes.items() if k != "is_default" and v != getattr(kit, k)}
    if changes.get("is_default") is True and not kit.is_default:
        _lock_owner(session, user)
        _clear_default(session, user, except_id=kit.id)
        session.flush()
        kit.is_default = True
    elif changes.get("is_default") is False and kit.is_default:
        raise ValidationFailed("brand_kits.default_required", field="isDefault")
    for k, v in content.items():
        setattr(kit, k, v)
    if content:  # setting the default alone is free; a content change is an update
        kit.updated_at = utcnow()
        credits.charge(session, user_id=user.id, app_id=APP, action="updateBrandKit", ref_type="brand_kit",
                       ref_id=kit.id)
    session.add(kit)
    session.commit()
    return kit


def set_default(session: Session, *, user: User, kit_id: int) -> BrandKit:
    return update(session, user=user, kit_id=kit_id, data=BrandKitUpdate(is_default=True))


def delete(session: Session, *, user: User, kit_id: int, store: LocalFileStore) -> None:
    """Delete a kit, its avatars and products (the database cascades), then their files."""
    kit = get(session, user=user, kit_id=kit_id)
    files = [kit.logo_path]
    for a in session.exec(select(Avatar).where(Avatar.brand_kit_id == kit.id)):
        files += [a.image_path, a.thumbnail_path]
    for p in session.exec(select(Product).where(Product.brand_kit_id == kit.id)):
        files += [p.original_path, p.cutout_path, p.thumbnail_path]
    was_default = kit.is_default
    credits.charge(session, user_id=user.id, app_id=APP, action="deleteBrandKit", ref_type="brand_kit", ref_id=kit.id)
    session.delete(kit)
    session.flush()
    if was_default:
        heir = session.exec(select(BrandKit).where(BrandKit.user_id == user.id)
                            .order_by(BrandKit.updated_at.desc(), BrandKit.id.desc())).first()
        if heir is not None:
            heir.is_default = True
            session.add(heir)
    session.commit()
    for key in files:
        store.delete(key)


def upload_logo(session: Session, *, user: User, kit_id: int, source: BinaryIO | bytes, filename: str | None,
                store: LocalFileStore, settings: Settings) -> BrandKit:
    """Check and re-encode the logo (PNG keeps transparency), store it, replace the old one."""
    from core.images import ingest_image

    kit = get(session, user=user, kit_id=kit_id)
    image = ingest_image(source, kind="logo", settings=settings, filename=filename)
    old = kit.logo_path
    with store.staged() as staged:
        kit.logo_path = staged.save(image.data, user_id=user.id, kind="logo", ext=image.ext)
        kit.updated_at = utcnow()
        credits.charge(session, user_id=user.id, app_id=APP, action="uploadLogo", ref_type="brand_kit",
                       ref_id=kit.id)
        session.add(kit)
        session.commit()
    store.delete(old)
    return kit


def default_kit(session: Session, *, user: User) -> BrandKit | None:
    return session.exec(select(BrandKit).where(BrandKit.user_id == user.id, BrandKit.is_default.is_(True))).first()


def stats(session: Session, *, user: User) -> dict:
    kits = list(session.exec(select(BrandKit).where(BrandKit.user_id == user.id)))
    default = next((k for k in kits if k.is_default), None)
    most_used = sorted(kits, key=lambda k: (-k.usage_count, k.id))[:5]
    return {
        "totalKits": len(kits),
        "withLogo": sum(1 for k in kits if k.logo_path),
        "byCategory": dict(Counter(k.category or "other" for k in kits)),
        "byTone": dict(Counter(k.tone for k in kits)),
        "defaultKitId": default.id if default else None,
        "mostUsed": [{"id": k.id, "brandName": k.brand_name, "usageCount": k.usage_count} for k in most_used],
        "fontsInUse": dict(Counter(f for k in kits for f in k.fonts)),
    }
