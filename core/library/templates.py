"""The pose-template library in the database: loading the shipped library, browsing and curating it,
preview images, and the usage/success statistics the generator updates.

Templates are shared by design (the data team curates them; users pick from them). Admins see and
change everything; other users see only active templates, read-only.
"""
from __future__ import annotations

import hashlib
import json
from datetime import datetime
from pathlib import Path
from typing import Annotated, Literal

import sqlalchemy as sa
from sqlalchemy.orm import load_only
from pydantic import Field
from sqlmodel import Session, func, select

from core.errors import Forbidden, NotFound, ValidationFailed
from core.seed_vocabulary import alias_of, ours
from core.schemas import CamelModel
from core.settings import ASSETS_DIR, Settings
from db.models import PoseTemplate, User, utcnow

LIBRARY_FILE = ASSETS_DIR / "poses" / "library.json"
CATEGORIES = ("fashion-standing", "fashion-walking", "sitting", "skincare-application", "product-holding",
              "lifestyle", "upper-body")
DIFFICULTIES = ("easy", "medium", "hard")
GENDERS = ("female", "male", "unisex")
PLACEMENTS = ("hand-left", "hand-right", "both-hands", "worn", "table", "displayed", "none")
SORTS = ("success", "usage", "newest", "name")
PREVIEW_SIZES = {"2:3": (256, 384), "3:4": (288, 384), "1:1": (384, 384), "9:16": (216, 384)}
Sort = Literal[SORTS]  # type: ignore[valid-type]


class TemplateFields(CamelModel):
    name: str | None = Field(default=None, min_length=1, max_length=200)
    category: Annotated[str, alias_of("template.category")] | None = Field(default=None, min_length=1, max_length=64)
    subcategory: str | None = Field(default=None, max_length=64)
    difficulty: Annotated[Literal[DIFFICULTIES], alias_of("template.difficulty")] | None = None  # type: ignore[valid-type]
    tags: list[str] | None = Field(default=None, max_length=30)
    gender: Literal[GENDERS] | None = None  # type: ignore[valid-type]
    product_placement: Annotated[Literal[PLACEMENTS], alias_of("template.productPlacement")] | None = None  # type: ignore[valid-type]
    description: str | None = Field(default=None, max_length=500)
    is_active: bool | None = None


# x, y as shares of the canvas (a joint may sit a little outside it), confidence 0-1: a far-off number
# would make the preview renderer fail.
Point = Annotated[list[Annotated[float, Field(ge=-1, le=2)]], Field(min_length=2, max_length=3)]


class TemplateCreate(TemplateFields):
    name: str = Field(min_length=1, max_length=200)
    category: str = Field(min_length=1, max_length=64)
    keypoints: list[Point | None] = Field(
        min_length=18, max_length=18, description="The 18 OpenPose joints as [x, y] or [x, y, confidence], "
                                                  "x and y as shares of the canvas (0-1, at most -1 to 2); null for a missing "
                                                  "joint.")
    aspect: str = "2:3"


class TemplateUpdate(TemplateFields):
    pass


class TemplatePublic(CamelModel):
    id: int
    key: str
    name: str
    category: str
    subcategory: str | None
    keypoints_json: list
    aspect: str
    preview_url: str
    difficulty: str
    tags: list[str]
    gender: str
    product_placement: str | None
    description: str | None
    source: str
    is_active: bool
    usage_count: int
    success_rate: float | None
    avg_quality_score: float | None
    flagged: bool
    created_at: datetime
    updated_at: datetime

    @classmethod
    def of(cls, t: PoseTemplate, settings: Settings) -> "TemplatePublic":
        return cls(id=t.id, key=t.key, name=t.name, category=t.category, subcategory=t.subcategory,
                   keypoints_json=t.keypoints, aspect=t.aspect, preview_url=preview_url(t),
                   difficulty=t.difficulty, tags=t.tags, gender=t.gender, product_placement=t.product_placement,
                   description=t.description, source=t.source, is_active=t.is_active, usage_count=t.usage_count,
                   success_rate=t.success_rate, avg_quality_score=t.avg_quality_score,
                   flagged=is_flagged(t, settings), created_at=t.created_at, updated_at=t.updated_at)


def preview_url(t: PoseTemplate) -> str:
    return f"/api/apps/pose-generator/templates/{t.id}/preview.png?v={_digest(t)[:10]}"


def is_flagged(t: PoseTemplate, settings: Settings) -> bool:
    return (t.success_rate is not None and t.usage_count >= settings.pose_flag_min_uses
            and t.success_rate < settings.pose_flag_below)


# --- loading the shipped library ---------------------------------------------------------------

def _library_entries(path: Path) -> list[dict]:
    data = json.loads(path.read_text())
    return data["templates"] if isinstance(data, dict) else data


def load_library(session: Session, *, path: Path = LIBRARY_FILE) -> dict:
    """Upsert the shipped templates by their stable key. New ones are inserted; shipped fields of
    existing ones are refreshed; curation choices (is_active) and statistics are kept. Idempotent."""
    if not path.exists():
        return {"inserted": 0, "updated": 0, "unchanged": 0}
    entries = _library_entries(path)
    existing = {t.key: t for t in session.exec(select(PoseTemplate).where(PoseTemplate.source == "library"))}
    inserted = updated = 0
    for e in entries:
        fields = dict(name=e["name"], category=e["category"], subcategory=e.get("subcategory"),
                      keypoints=e["keypoints"], aspect=e.get("aspect", "2:3"),
                      difficulty=e.get("difficulty", "medium"), tags=list(e.get("tags", [])),
                      gender=e.get("gender", "unisex"), product_placement=e.get("product_placement"),
                      description=e.get("description"))
        row = existing.get(e["id"])
        if row is None:
            session.add(PoseTemplate(key=e["id"], source="library", **fields))
            inserted += 1
        elif any(getattr(row, k) != v for k, v in fields.items()):
            for k, v in fields.items():
                setattr(row, k, v)
            row.updated_at = utcnow()
            session.add(row)
            updated += 1
    session.commit()
    return {"inserted": inserted, "updated": updated, "unchanged": len(entries) - inserted - updated}


# --- reading -----------------------------------------------------------------------------------

def get(session: Session, *, user: User, template_id: int) -> PoseTemplate:
    t = session.get(PoseTemplate, template_id)
    if t is None or (not t.is_active and not user.is_admin):
        raise NotFound("records.not_found", record="Pose template", id=template_id)
    return t


IDS_PER_QUERY = 5000   # bound parameters: far below SQLite's 32766 (3.32+) and Postgres's 65535


def get_many(session: Session, *, user: User, template_ids: list[int], only: tuple[str, ...] | None = None
             ) -> list[PoseTemplate]:
    """`get` for every id of `template_ids`, in one query (one per IDS_PER_QUERY distinct ids): the templates in
    the request's order, a repeated id repeated (the same object). The same rules and the same NotFound as `get`,
    naming the first id in the request that does not exist or, for a non-admin, is not active. `only`: the columns
    the caller reads (besides id and is_active); the others load on first access (planning reads the description,
    and need not decode 500 keypoint JSON documents)."""
    T = PoseTemplate
    query = select(T)
    if only is not None:
        query = query.options(load_only(T.id, T.is_active, *(getattr(T, c) for c in only)))
    wanted = list(dict.fromkeys(template_ids))
    found: dict[int, PoseTemplate] = {}
    for i in range(0, len(wanted), IDS_PER_QUERY):
        found.update((t.id, t) for t in session.exec(query.where(T.id.in_(wanted[i:i + IDS_PER_QUERY]))))
    for template_id in wanted:
        t = found.get(template_id)
        if t is None or (not t.is_active and not user.is_admin):
            raise NotFound("records.not_found", record="Pose template", id=template_id)
    return [found[template_id] for template_id in template_ids]


def search(session: Session, *, user: User, settings: Settings, category: str | None = None,
           subcategory: str | None = None, tags: list[str] | None = None, gender: str | None = None,
           placement: str | None = None, difficulty: str | None = None, active: bool | None = None,
           min_success: float | None = None, max_success: float | None = None, flagged: bool | None = None,
           text: str | None = None, sort: str = "success", limit: int = 48, offset: int = 0
           ) -> tuple[list[PoseTemplate], int]:
    """Filtered, sorted page of templates. Non-admins only ever see active ones."""
    if sort not in SORTS:
        raise ValidationFailed("templates.sort_unknown", field="sort", sorts=list(SORTS))
    if not 1 <= limit <= 200 or offset < 0:
        raise ValidationFailed("records.page_out_of_range", field="limit", most=200)
    category, difficulty = ours("template.category", category), ours("template.difficulty", difficulty)
    placement = ours("template.productPlacement", placement)
    T = PoseTemplate
    where = []
    if not user.is_admin:
        where.append(T.is_active.is_(True))
    elif active is not None:
        where.append(T.is_active.is_(active))
    for column, value in ((T.category, category), (T.subcategory, subcategory),
                          (T.product_placement, placement), (T.difficulty, difficulty)):
        if value:
            where.append(column == value)
    if gender:  # a female or male filter also shows the unisex poses
        where.append(T.gender.in_([gender, "unisex"]) if gender != "unisex" else T.gender == "unisex")
    for tag in tags or []:
        where.append(sa.cast(T.tags, sa.Text).like(f'%"{tag.replace("%", "").replace(chr(34), "")}"%'))
    if min_success is not None:
        where.append(T.success_rate >= min_success)
    if max_success is not None:
        where.append(T.success_rate <= max_success)
    if flagged is not None:
        flag = sa.and_(T.success_rate.is_not(None), T.usage_count >= settings.pose_flag_min_uses,
                       T.success_rate < settings.pose_flag_below)
        where.append(flag if flagged else sa.not_(flag) | T.success_rate.is_(None))
    if text:
        like = f"%{text.strip().lower()}%"
        where.append(sa.or_(func.lower(T.name).like(like), func.lower(T.description).like(like)))
    order = {
        "success": (expected_success().desc(), T.usage_count.desc(), T.id),
        "usage": (T.usage_count.desc(), T.id),
        "newest": (T.created_at.desc(), T.id.desc()),
        "name": (T.name, T.id),
    }[sort]
    total = session.exec(select(func.count()).select_from(T).where(*where)).one()
    rows = session.exec(select(T).where(*where).order_by(*order).limit(limit).offset(offset))
    return list(rows), total


PRIOR_SUCCESS, PRIOR_WEIGHT = 0.7, 5.0


def expected_success():
    """The success rate to rank by: the observed rate pulled towards a prior (0.7 over 5 uses), so an
    unused template ranks like an average one, and a template that keeps failing sinks below it."""
    T = PoseTemplate
    return ((sa.cast(T.success_count, sa.Float) + PRIOR_SUCCESS * PRIOR_WEIGHT)
            / (sa.cast(T.usage_count, sa.Float) + PRIOR_WEIGHT))


def facets(session: Session, *, user: User) -> dict:
    """Counts per category/subcategory/placement for the filters of the curation page."""
    T = PoseTemplate
    where = [] if user.is_admin else [T.is_active.is_(True)]
    out = {}
    for name, column in (("category", T.category), ("subcategory", T.subcategory),
                         ("placement", T.product_placement), ("gender", T.gender), ("difficulty", T.difficulty)):
        rows = session.exec(select(column, func.count()).where(*where).group_by(column)).all()
        out[name] = {k: v for k, v in rows if k is not None}
    return out


# --- previews ------------------------------------------------------------------------------------

def _digest(t: PoseTemplate) -> str:
    return hashlib.sha1(json.dumps([t.keypoints, t.aspect]).encode()).hexdigest()


def preview_path(t: PoseTemplate, *, settings: Settings, mirrored: bool = False) -> Path:
    """The cached skeleton PNG of a template, rendered the first time it is asked for (and again only
    when its keypoints change: the file name carries a digest of them)."""
    from core.library.poses.render import render_preview
    from core.library.poses.transforms import mirror

    cache = Path(settings.storage_dir) / "cache" / "pose-previews"
    path = cache / f"{t.id}-{_digest(t)[:16]}{'-m' if mirrored else ''}.png"
    if not path.exists():
        cache.mkdir(parents=True, exist_ok=True)
        width, height = PREVIEW_SIZES.get(t.aspect, PREVIEW_SIZES["2:3"])
        keypoints = mirror(t.keypoints) if mirrored else t.keypoints
        tmp = path.with_suffix(".tmp")
        tmp.write_bytes(render_preview(keypoints, width, height))
        tmp.replace(path)
    return path


# --- curation (admins) ---------------------------------------------------------------------------

def _require_admin(user: User, code: str = "templates.admins_only") -> None:
    if not user.is_admin:
        raise Forbidden(code)


def for_export(session: Session, *, user: User, template_ids: list[int]) -> list[PoseTemplate]:
    """The templates to export, in id order. Exporting the library is curation, like the Pose Library page
    shows it (admins only): other users get 403 instead of a copy of the whole library."""
    _require_admin(user, "templates.admins_only_export")
    rows = list(session.exec(select(PoseTemplate).where(PoseTemplate.id.in_(template_ids)).order_by(PoseTemplate.id)))
    if not rows:
        raise ValidationFailed("templates.none_exist", field="templateIds")
    return rows


def _check_keypoints(keypoints: list) -> list:
    from core.library.poses.keypoints import as_pose

    return as_pose(keypoints).to_json()


def create(session: Session, *, user: User, data: TemplateCreate, source: str = "user",
           key: str | None = None) -> PoseTemplate:
    _require_admin(user)
    fields = data.model_dump(exclude_none=True)
    fields["keypoints"] = _check_keypoints(fields["keypoints"])
    fields.setdefault("tags", [])  # left out: none (the JSON column would hold null, which no reader expects)
    t = PoseTemplate(key=key or f"custom-{hashlib.sha1(json.dumps(fields['keypoints']).encode()).hexdigest()[:12]}",
                     source=source, created_by_id=user.id, **fields)
    session.add(t)
    try:
        session.flush()
    except sa.exc.IntegrityError:
        session.rollback()
        raise ValidationFailed("templates.already_in_library", field="keypoints") from None
    session.commit()
    return t


def update(session: Session, *, user: User, template_id: int, data: TemplateUpdate) -> PoseTemplate:
    _require_admin(user)
    t = get(session, user=user, template_id=template_id)
    changes = data.model_dump(exclude_unset=True)
    if not changes:  # an empty PATCH changes nothing
        return t
    for k, v in changes.items():
        if v is None and k in ("name", "category", "is_active", "difficulty", "gender", "tags"):
            raise ValidationFailed("records.field_empty", field=k, name=k)
        setattr(t, k, v)
    t.updated_at = utcnow()
    session.add(t)
    session.commit()
    return t


def bulk_update(session: Session, *, user: User, template_ids: list[int], is_active: bool | None = None,
                category: str | None = None, add_tags: list[str] | None = None,
                remove_tags: list[str] | None = None) -> int:
    """Activate/deactivate, re-categorise or re-tag many templates at once. Returns how many changed."""
    _require_admin(user)
    if not template_ids:
        raise ValidationFailed("templates.none_selected", field="templateIds")
    rows = list(session.exec(select(PoseTemplate).where(PoseTemplate.id.in_(template_ids))))
    for t in rows:
        if is_active is not None:
            t.is_active = is_active
        if category:
            t.category = category
        if add_tags or remove_tags:
            tags = [x for x in t.tags if x not in (remove_tags or [])]
            t.tags = tags + [x for x in (add_tags or []) if x not in tags]
        t.updated_at = utcnow()
        session.add(t)
    session.commit()
    return len(rows)


def delete(session: Session, *, user: User, template_id: int) -> None:
    _require_admin(user)
    t = get(session, user=user, template_id=template_id)
    session.delete(t)
    session.commit()


# --- statistics from generation -------------------------------------------------------------------

def record_result(session: Session, *, template_id: int, accepted: bool, quality_score: float | None) -> None:
    """Called once per finished generated image: usage, success rate and average quality move in one
    UPDATE (safe under concurrent workers). The caller commits with its own work."""
    T = PoseTemplate
    uses = T.usage_count + 1
    successes = T.success_count + (1 if accepted else 0)
    values = {T.usage_count: uses, T.success_count: successes,
              T.success_rate: sa.cast(successes, sa.Float) / sa.cast(uses, sa.Float)}
    if quality_score is not None:  # the average covers checked images only
        values[T.quality_count] = T.quality_count + 1
        values[T.avg_quality_score] = (
            (sa.func.coalesce(T.avg_quality_score, 0.0) * T.quality_count + quality_score)
            / sa.cast(T.quality_count + 1, sa.Float))
    session.execute(sa.update(T).where(T.id == template_id).values(values)
                    .execution_options(synchronize_session=False))   # nothing loaded mirrors it
