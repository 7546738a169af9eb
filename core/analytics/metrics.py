"""Analytics, the write side: running totals per user, brand kit, design type ("avatar", "pose", "poster") and
month ("YYYY-MM") in design_metrics, updated in the same transaction as the event they count, and `rebuild`,
which recomputes them from the records. The read side is core.analytics.report.

Every event is one call; it joins the caller's transaction and the caller commits (`settings=` where the caller
has them, else the process settings):

    avatar kept          core.catalog.avatars.upload, core.catalog.avatar_ai.choose (after the flush, before the commit)
        analytics.record_created(session, user_id=user.id, brand_kit_id=avatar.brand_kit_id, design_type="avatar",
                                 seconds=None, at=avatar.created_at, settings=settings)
    pose accepted        core.generation.render._accept, after the guarded UPDATE matched one row, before lib.record_result
        analytics.record_created(session, user_id=pose.user_id, brand_kit_id=generation.brand_kit_id,
                                 design_type="pose", seconds=values["render_seconds"], at=values["finished_at"])
    poster drawn         core.posters.service.create_posters, for each row after the flush
        analytics.record_created(session, user_id=user.id, brand_kit_id=row.brand_kit_id, design_type="poster",
                                 seconds=row.render_seconds, format=row.format, at=row.created_at)
    results exported     core.generation.export.export_zip, once the ZIP is written (then session.commit())
        analytics.record_export(session, user_id=user.id, brand_kit_id=g.brand_kit_id, design_type="pose",
                                format="zip", count=len(poses))
    posters exported     core.posters.service.export_zip: one call per brand kit, design_type="poster", format="zip"
    one file downloaded  analytics.record_export(..., format="png" (the file's format), count=1)

What a row holds (the rules `rebuild` follows too):
- times_created: items made (an avatar kept, a pose accepted -- period = its finished_at month --, a poster drawn).
- times_exported: items exported (the sum of item counts of design_exports).
- format_breakdown: items by format: each export adds `count` under its format ("zip", "png"); each poster adds
  1 under its poster format ("instagram-post"). Avatars and poses have no format of their own.
- avg_creation_time: mean seconds over every created item; an item whose time is unknown counts 0 s. Avatars
  never carry a time (an upload takes none; an AI avatar's candidates are rendered as a set before one is kept,
  and the avatar row does not keep that time), so their average is 0 = "not measured". Poses use
  render_seconds (claim to accept, retries included), posters their render_seconds.
- total_time_saved: HOURS. poses x MINUTES_SAVED_PER_IMAGE / 60, posters x MINUTES_SAVED_PER_POSTER / 60.
- estimated_savings: Rupiah. poses x SHOOT_COST_IDR // SHOOT_IMAGES (a photoshoot's low-end price spread over
  the photos it delivers; capped at 2^31-1 per row). Avatars and posters are not valued in Rupiah.
The derived columns use the settings of the moment; after changing a savings setting, `python app.py
rebuild-metrics` re-prices past months. Months are counted in ANALYTICS_UTC_OFFSET_HOURS (7 = WIB).

Rebuild counts the records that exist: a deleted avatar, poster or batch drops out of a rebuilt total though
the running total counted it when it happened; rows of a deleted brand kit go with the kit (CASCADE), its
surviving records are rebuilt under "no kit". The diff it returns shows exactly what changed.

Concurrency: the UPDATE of the counters takes the row lock (Postgres) or runs under SQLite's single write lock
(BEGIN IMMEDIATE); a missing row is INSERTed inside a savepoint and, when another worker inserted it first
(IntegrityError on uq_design_metrics_key), the UPDATE is retried. brand_kit_id NULL is outside the unique key
(NULLs are distinct), so on Postgres that key is serialised with a transaction advisory lock instead.
"""
from __future__ import annotations

import hashlib
import logging
import math
from collections import Counter
from datetime import datetime, timedelta, timezone

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, select

from core.errors import ValidationFailed
from core.settings import Settings, get_settings
from db.models import Avatar, BrandKit, DesignExport, DesignMetrics, GeneratedPose, PoseGeneration, Poster, utcnow

log = logging.getLogger(__name__)

DESIGN_TYPES = ("avatar", "pose", "poster")
INT_MAX = 2**31 - 1
T = DesignMetrics.__table__
FIELDS = ("times_created", "times_exported", "format_breakdown", "avg_creation_time", "total_time_saved",
          "estimated_savings")


def month_zone(settings: Settings) -> timezone:
    return timezone(timedelta(hours=settings.analytics_utc_offset_hours))


def period_of(at: datetime | None, settings: Settings) -> str:
    """The month "YYYY-MM" an instant belongs to (naive datetimes are read as UTC)."""
    at = at or utcnow()
    if at.tzinfo is None:
        at = at.replace(tzinfo=timezone.utc)
    return at.astimezone(month_zone(settings)).strftime("%Y-%m")


def savings_of(design_type: str, created: int, settings: Settings) -> tuple[float, int]:
    """(hours saved, Rupiah saved) by `created` items of a design type."""
    if design_type == "pose":
        return created * settings.minutes_saved_per_image / 60, min(
            INT_MAX, created * settings.shoot_cost_idr // settings.shoot_images)
    if design_type == "poster":
        return created * settings.minutes_saved_per_poster / 60, 0
    return 0.0, 0


def _check(design_type: str, fmt: str | None) -> None:
    if design_type not in DESIGN_TYPES:
        raise ValidationFailed("analytics.design_type_invalid", known=list(DESIGN_TYPES), value=design_type,
                               field="designType")
    if fmt is not None and not (0 < len(fmt) <= 32):
        raise ValidationFailed("analytics.format_invalid", value=fmt, field="format")


def _seconds(value) -> float:
    """A creation time as counted: unknown, non-finite or negative -> 0 s."""
    return float(value) if value is not None and math.isfinite(value) and value > 0 else 0.0


def _lock_key(*parts) -> int:
    digest = hashlib.blake2b(":".join(map(str, parts)).encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big", signed=True)


def _kit_or_none(session: Session, *, user_id: int, brand_kit_id: int | None) -> int | None:
    """The kit id when that kit still exists and is the user's; else None (a kit deleted mid-render)."""
    if brand_kit_id is None:
        return None
    owner = session.execute(select(BrandKit.user_id).where(BrandKit.id == brand_kit_id)).scalar()
    if owner != user_id:
        log.warning("analytics: brand kit %s is gone or not user %s's; counted without a kit", brand_kit_id, user_id)
        return None
    return brand_kit_id


def _bump(session: Session, *, user_id: int, brand_kit_id: int | None, design_type: str, period: str,
          created: int = 0, seconds: float = 0.0, exported: int = 0, fmt: str | None = None, fmt_count: int = 0,
          settings: Settings) -> None:
    kit = brand_kit_id
    postgres = session.get_bind().dialect.name == "postgresql"
    for _ in range(4):
        if kit is None and postgres:
            session.execute(sa.select(sa.func.pg_advisory_xact_lock(_lock_key("design_metrics", user_id, design_type,
                                                                              period))))
        values: dict = {"updated_at": utcnow()}
        if created:
            values["times_created"] = T.c.times_created + created
            values["avg_creation_time"] = ((T.c.avg_creation_time * T.c.times_created + seconds)
                                           / (T.c.times_created + created))
        if exported:
            values["times_exported"] = T.c.times_exported + exported
        key = [T.c.user_id == user_id, T.c.design_type == design_type, T.c.period == period,
               T.c.brand_kit_id.is_(None) if kit is None else T.c.brand_kit_id == kit]
        row = session.execute(sa.update(T).where(*key).values(**values)
                              .returning(T.c.id, T.c.times_created, T.c.format_breakdown)).first()
        if row is not None:  # the row is ours (locked) until the caller commits: finish it in Python
            more: dict = {}
            if created:
                more["total_time_saved"], more["estimated_savings"] = savings_of(design_type, row.times_created,
                                                                                 settings)
            if fmt:
                breakdown = dict(row.format_breakdown or {})
                breakdown[fmt] = breakdown.get(fmt, 0) + fmt_count
                more["format_breakdown"] = breakdown
            if more:
                session.execute(sa.update(T).where(T.c.id == row.id).values(**more))
            return
        checked = _kit_or_none(session, user_id=user_id, brand_kit_id=kit)
        if checked != kit:
            kit = checked
            continue
        hours, rupiah = savings_of(design_type, created, settings)
        try:
            with session.begin_nested():
                session.execute(sa.insert(T).values(
                    user_id=user_id, brand_kit_id=kit, design_type=design_type, period=period, times_created=created,
                    times_exported=exported, format_breakdown={fmt: fmt_count} if fmt else {},
                    avg_creation_time=float(seconds) if created else 0.0, total_time_saved=hours,
                    estimated_savings=rupiah, updated_at=utcnow()))
            return
        except IntegrityError:  # someone inserted the same key first (or the kit went): update theirs
            continue
    raise RuntimeError(f"analytics: could not record {design_type} for user {user_id} in {period}")


def record_created(session: Session, *, user_id: int, brand_kit_id: int | None, design_type: str,
                   seconds: float | None, at: datetime | None = None, format: str | None = None,
                   settings: Settings | None = None, count: int = 1) -> None:
    """Count `count` created items that took `seconds` together (see the module docstring for which call each
    event makes; a render job counts a micro-batch's kept images at once). The caller commits."""
    _check(design_type, format)
    settings = settings or get_settings()
    _bump(session, user_id=user_id, brand_kit_id=brand_kit_id, design_type=design_type,
          period=period_of(at, settings), created=count, seconds=_seconds(seconds), fmt=format, fmt_count=count,
          settings=settings)


def record_export(session: Session, *, user_id: int, brand_kit_id: int | None, design_type: str, format: str,
                  count: int, at: datetime | None = None, settings: Settings | None = None) -> DesignExport:
    """Record one export of `count` items (a design_exports row) and add it to the running totals. The caller
    commits."""
    _check(design_type, format)
    if isinstance(count, bool) or not isinstance(count, int) or count < 1:
        raise ValidationFailed("analytics.count_invalid", value=repr(count), field="count")
    settings = settings or get_settings()
    at = at or utcnow()
    if at.tzinfo is None:
        at = at.replace(tzinfo=timezone.utc)
    kit = _kit_or_none(session, user_id=user_id, brand_kit_id=brand_kit_id)
    row = DesignExport(user_id=user_id, brand_kit_id=kit, design_type=design_type, format=format, item_count=count,
                       created_at=at)
    session.add(row)
    _bump(session, user_id=user_id, brand_kit_id=kit, design_type=design_type, period=period_of(at, settings),
          exported=count, fmt=format, fmt_count=count, settings=settings)
    return row


# --- rebuild ------------------------------------------------------------------------------------------------

def _from_records(session: Session, *, user_id: int | None, settings: Settings) -> dict[tuple, dict]:
    """What every row should hold, counted from the records: key (user, kit, type, period) -> values."""
    acc: dict[tuple, dict] = {}

    def add(user, kit, design_type, at, *, created=0, seconds=None, exported=0, fmt=None, fmt_count=0):
        key = (user, kit, design_type, period_of(at, settings))
        a = acc.setdefault(key, {"created": 0, "seconds": 0.0, "exported": 0, "formats": Counter()})
        a["created"] += created
        a["seconds"] += _seconds(seconds)
        a["exported"] += exported
        if fmt:
            a["formats"][fmt] += fmt_count

    def mine(q, column):
        return q.where(column == user_id) if user_id is not None else q

    G, P = GeneratedPose, PoseGeneration
    for u, kit, at in session.execute(mine(select(Avatar.user_id, Avatar.brand_kit_id, Avatar.created_at),
                                           Avatar.user_id)):
        add(u, kit, "avatar", at, created=1)
    poses = (select(G.user_id, P.brand_kit_id, sa.func.coalesce(G.finished_at, G.created_at), G.render_seconds)
             .join(P, P.id == G.generation_id).where(G.status == "done"))
    for u, kit, at, secs in session.execute(mine(poses, G.user_id)):
        add(u, kit, "pose", at, created=1, seconds=secs)
    posters = select(Poster.user_id, Poster.brand_kit_id, Poster.created_at, Poster.render_seconds, Poster.format)
    for u, kit, at, secs, fmt in session.execute(mine(posters, Poster.user_id)):
        add(u, kit, "poster", at, created=1, seconds=secs, fmt=fmt, fmt_count=1)
    E = DesignExport
    exports = select(E.user_id, E.brand_kit_id, E.design_type, E.created_at, E.format, E.item_count)
    for u, kit, design_type, at, fmt, n in session.execute(mine(exports, E.user_id)):
        add(u, kit, design_type, at, exported=n, fmt=fmt, fmt_count=n)

    out = {}
    for key, a in acc.items():
        hours, rupiah = savings_of(key[2], a["created"], settings)
        out[key] = {"times_created": a["created"], "times_exported": a["exported"],
                    "format_breakdown": dict(sorted(a["formats"].items())),
                    "avg_creation_time": a["seconds"] / a["created"] if a["created"] else 0.0,
                    "total_time_saved": hours, "estimated_savings": rupiah}
    return out


def _same(field: str, old, new) -> bool:
    if field in ("avg_creation_time", "total_time_saved"):
        return math.isclose(old, new, rel_tol=1e-9, abs_tol=1e-6)
    if field == "format_breakdown":
        return dict(old or {}) == dict(new or {})
    return old == new


def _key_dict(key: tuple) -> dict:
    return {"userId": key[0], "brandKitId": key[1], "designType": key[2], "period": key[3]}


def _public(values: dict) -> dict:
    return {k: values[k] for k in FIELDS}


def rebuild(session: Session, *, user_id: int | None = None, settings: Settings | None = None,
            dry_run: bool = False) -> dict:
    """Recompute every design_metrics row (of one user, or of everyone) from the records, replace the running
    rows with them and commit; dry_run only compares. Returns the differences:
    {"rows", "unchanged", "added": [...], "changed": [{..., "fields": {name: [running, rebuilt]}}],
     "removed": [...], "applied", "summary"}. No differences = the running totals were right."""
    settings = settings or get_settings()
    if not dry_run and session.get_bind().dialect.name == "postgresql":
        # Writers wait while we count, so no event is both missed by the count and overwritten by it.
        session.execute(sa.text("LOCK TABLE design_metrics IN EXCLUSIVE MODE"))
    want = _from_records(session, user_id=user_id, settings=settings)
    q = select(T)
    if user_id is not None:
        q = q.where(T.c.user_id == user_id)
    have, twins = {}, []   # twins: a second row of one key (NULL kit rows are outside the unique key)
    for r in session.execute(q.order_by(T.c.id)):
        key = (r.user_id, r.brand_kit_id, r.design_type, r.period)
        if key in have:
            twins.append(r)
        else:
            have[key] = r
    added, changed, removed, unchanged = [], [], [], 0
    for key in sorted(set(want) | set(have), key=lambda k: (k[0], k[1] or 0, k[2], k[3])):
        new, old = want.get(key), have.get(key)
        if old is None:
            added.append({**_key_dict(key), **_public(new)})
        elif new is None:
            removed.append({**_key_dict(key), **{f: getattr(old, f) for f in FIELDS}})
        else:
            fields = {f: [getattr(old, f), new[f]] for f in FIELDS if not _same(f, getattr(old, f), new[f])}
            if fields:
                changed.append({**_key_dict(key), "fields": fields})
            else:
                unchanged += 1
    removed += [{**_key_dict((r.user_id, r.brand_kit_id, r.design_type, r.period)),
                 **{f: getattr(r, f) for f in FIELDS}} for r in twins]
    if not dry_run:
        now = utcnow()
        for key, new in want.items():
            old = have.get(key)
            if old is None:
                session.execute(sa.insert(T).values(user_id=key[0], brand_kit_id=key[1], design_type=key[2],
                                                    period=key[3], updated_at=now, **new))
            elif any(not _same(f, getattr(old, f), new[f]) for f in FIELDS):
                session.execute(sa.update(T).where(T.c.id == old.id).values(updated_at=now, **new))
        gone = [have[k].id for k in have if k not in want] + [r.id for r in twins]
        if gone:
            session.execute(sa.delete(T).where(T.c.id.in_(gone)))
        session.commit()
    summary = (f"{len(want)} rows from the records: {unchanged} unchanged, {len(added)} added, {len(changed)} "
               f"changed, {len(removed)} removed" + (" (dry run, nothing written)" if dry_run else ""))
    return {"rows": len(want), "unchanged": unchanged, "added": added, "changed": changed, "removed": removed,
            "applied": not dry_run, "summary": summary}
