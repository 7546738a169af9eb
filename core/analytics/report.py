"""Analytics, the read side: the dashboard (totals, usage and savings over time, success rate by pose category,
formats, GPU time and cost per accepted image, the assumptions), its CSV, and the numbers each app's stats show.
Reads the running totals of design_metrics (core.analytics keeps them); only the pose success rates and GPU
time are counted from generated_poses. Every number is the acting user's own.

Periods are months "YYYY-MM" in ANALYTICS_UTC_OFFSET_HOURS. Without `period_from` the range starts at the
user's first month with data; without `period_to` it ends at the current month (or the last month with data).
The subscription is charged for every month of the range, also when one brand kit is picked.
"""
from __future__ import annotations

import csv
import io
import re
from collections import Counter, defaultdict
from datetime import datetime

import sqlalchemy as sa
from sqlmodel import Session, select

from core.analytics.metrics import DESIGN_TYPES, T, month_zone, period_of
from core.errors import ValidationFailed
from core.messages import Message
from core.records import get_owned
from core.settings import Settings, get_settings
from db.models import BrandKit, GeneratedPose, PoseGeneration, PoseTemplate, User, utcnow

# Months of the years 1000-9999: four digits, as YYYY-MM sorts and as datetime can hold them.
PERIOD = re.compile(r"^([1-9]\d{3})-(0[1-9]|1[0-2])\Z")
PERIOD_PATTERN = r"^([1-9]\d{3}-(0[1-9]|1[0-2]))?$"  # the same, for the OpenAPI schema (empty: no filter)
LAST_PERIOD = "9999-12"
MAX_MONTHS = 120
CSV_COLUMNS = ("period", "design_type", "created", "exported", "avg_creation_seconds", "hours_saved",
               "savings_idr", "formats")


def rupiah(amount: int | float) -> str:
    """Indonesian style: Rp 6.500.000 (negative: -Rp 299.000)."""
    n = round(amount)
    return f"{'-' if n < 0 else ''}Rp {abs(n):,}".replace(",", ".")


def _month(value: str | None, field: str) -> str | None:
    if value is None or value == "":
        return None
    if not isinstance(value, str) or not PERIOD.match(value):
        if isinstance(value, str):
            raise ValidationFailed("analytics.month_invalid", which=field, value=value[:40], field=field)
        raise ValidationFailed("analytics.month_not_text", which=field, field=field)
    return value


def _index(period: str) -> int:
    return int(period[:4]) * 12 + int(period[5:]) - 1


def _next(period: str) -> str:
    i = _index(period) + 1
    return f"{i // 12}-{i % 12 + 1:02d}"


def _months(lo: str, hi: str) -> list[str]:
    out = [lo]
    while out[-1] < hi:
        out.append(_next(out[-1]))
    return out


def _start(period: str, settings: Settings) -> datetime:
    """The instant a month starts (in the analytics time zone)."""
    return datetime(int(period[:4]), int(period[5:]), 1, tzinfo=month_zone(settings))


def assumptions(settings: Settings) -> dict:
    per, per_high = (settings.shoot_cost_idr // settings.shoot_images,
                     settings.shoot_cost_high_idr // settings.shoot_images)
    notes = [
        Message("analytics.note_shoot", low=settings.shoot_cost_idr, high=settings.shoot_cost_high_idr,
                images=settings.shoot_images, per=per, per_high=per_high),
        Message("analytics.note_minutes", image_minutes=settings.minutes_saved_per_image,
                poster_minutes=settings.minutes_saved_per_poster),
        Message("analytics.note_net", subscription=settings.subscription_idr_per_month),
        Message("analytics.note_gpu", rate=settings.gpu_cost_per_hour_idr),
        Message("analytics.note_provider", fal=settings.fal_price_idr, replicate=settings.replicate_price_idr,
                hf=settings.hf_price_idr),
        Message("analytics.note_months", offset=f"{settings.analytics_utc_offset_hours:+g}"),
    ]
    return {
        "shootCostIdr": settings.shoot_cost_idr, "shootCostHighIdr": settings.shoot_cost_high_idr,
        "shootImages": settings.shoot_images, "perImageIdr": per, "perImageHighIdr": per_high,
        "minutesSavedPerImage": settings.minutes_saved_per_image,
        "minutesSavedPerPoster": settings.minutes_saved_per_poster,
        "subscriptionIdrPerMonth": settings.subscription_idr_per_month,
        "gpuCostPerHourIdr": settings.gpu_cost_per_hour_idr,
        "providerPriceIdr": {p: getattr(settings, f) for p, f in PROVIDER_PRICES.items()},
        "utcOffsetHours": settings.analytics_utc_offset_hours,
        "notes": [m.english for m in notes],
        "noteMessages": [m.to_dict() for m in notes],
    }


def _kit(session: Session, user: User, brand_kit_id: int | None) -> int | None:
    if brand_kit_id is None:
        return None
    return get_owned(session, BrandKit, brand_kit_id, user_id=user.id, label="Brand kit").id


# a hosted provider's price of one image (settings), instead of GPU hours (issue 18)
PROVIDER_PRICES = {"fal": "fal_price_idr", "replicate": "replicate_price_idr", "hf": "hf_price_idr"}


def _pose_rows(session: Session, *, user: User, kit: int | None, lo: str | None, hi: str | None,
               settings: Settings):
    """(category, status, gpu seconds, quality checked, failure kind) of the user's finished and failed poses in
    the range."""
    G, P, PT = GeneratedPose, PoseGeneration, PoseTemplate
    q = (select(sa.func.coalesce(PT.category, "other"), G.status,
                sa.func.coalesce(G.pipeline_seconds, G.render_seconds, 0.0), G.quality_checked, G.failure_kind,
                G.provider, G.attempts)
         .join(P, P.id == G.generation_id).outerjoin(PT, PT.id == G.template_id)
         .where(G.user_id == user.id, G.status.in_(("done", "failed"))))
    if kit is not None:
        q = q.where(P.brand_kit_id == kit)
    if lo:
        q = q.where(G.finished_at >= _start(lo, settings))
    if hi and hi != LAST_PERIOD:  # nothing can come after the last month
        q = q.where(G.finished_at < _start(_next(hi), settings))
    return session.execute(q).all()


def dashboard(session: Session, *, user: User, brand_kit_id: int | None = None, period_from: str | None = None,
              period_to: str | None = None, settings: Settings | None = None) -> dict:
    settings = settings or get_settings()
    lo, hi = _month(period_from, "from"), _month(period_to, "to")
    if lo and hi and lo > hi:
        raise ValidationFailed("analytics.from_after_to", lo=lo, hi=hi, field="from")
    kit = _kit(session, user, brand_kit_id)
    q = select(T.c.design_type, T.c.period, T.c.times_created, T.c.times_exported, T.c.format_breakdown,
               T.c.avg_creation_time, T.c.total_time_saved, T.c.estimated_savings).where(T.c.user_id == user.id)
    if kit is not None:
        q = q.where(T.c.brand_kit_id == kit)
    if lo:
        q = q.where(T.c.period >= lo)
    if hi:
        q = q.where(T.c.period <= hi)
    rows = session.execute(q).all()
    now = period_of(utcnow(), settings)
    first = min((r.period for r in rows), default=None)
    last = max((r.period for r in rows), default=now)
    end = hi or max(now, last, lo or now)
    start = min(lo or first or end, end)
    count = _index(end) - _index(start) + 1 if start <= end else 1
    if count > MAX_MONTHS:  # counted before the list is built: 1000-01 to 9999-12 is 108,000 months
        raise ValidationFailed("analytics.too_many_months", most=MAX_MONTHS, start=start, end=end, count=count,
                               field="from")
    months = _months(start, end) if start <= end else [end]

    cell = defaultdict(lambda: {"created": 0, "exported": 0, "seconds": 0.0, "hours": 0.0, "idr": 0,
                                "formats": Counter()})
    for r in rows:
        c = cell[(r.period, r.design_type)]
        c["created"] += r.times_created
        c["exported"] += r.times_exported
        c["seconds"] += r.avg_creation_time * r.times_created
        c["hours"] += r.total_time_saved
        c["idr"] += r.estimated_savings
        c["formats"].update(r.format_breakdown or {})

    def numbers(c, design_type) -> dict:   # avatars carry no creation time: their average is None
        timed = c["created"] and design_type != "avatar"
        return {"created": c["created"], "exported": c["exported"],
                "avgCreationSeconds": round(c["seconds"] / c["created"], 3) if timed else None,
                "hoursSaved": round(c["hours"], 2), "savingsIdr": c["idr"],
                "formats": dict(sorted(c["formats"].items()))}

    usage, totals = [], {}
    for t in DESIGN_TYPES:
        total = {"created": 0, "exported": 0, "seconds": 0.0, "hours": 0.0, "idr": 0, "formats": Counter()}
        for m in months:
            c = cell.get((m, t)) or cell.default_factory()
            usage.append({"period": m, "designType": t, **numbers(c, t)})
            for k in ("created", "exported", "seconds", "hours", "idr"):
                total[k] += c[k]
            total["formats"].update(c["formats"])
        totals[t] = numbers(total, t)
    usage.sort(key=lambda u: (u["period"], DESIGN_TYPES.index(u["designType"])))

    per_high = settings.shoot_cost_high_idr // settings.shoot_images
    sub = settings.subscription_idr_per_month
    savings, running = [], 0
    for m in months:
        idr = sum(cell[(m, t)]["idr"] for t in DESIGN_TYPES if (m, t) in cell)
        images = cell[(m, "pose")]["created"] if (m, "pose") in cell else 0
        running += idr - sub
        savings.append({"period": m, "savingsIdr": idr, "savingsHighIdr": images * per_high,
                        "hoursSaved": round(sum(cell[(m, t)]["hours"] for t in DESIGN_TYPES if (m, t) in cell), 2),
                        "subscriptionIdr": sub, "netIdr": idr - sub, "cumulativeNetIdr": running})

    # A success rate is over measured outcomes: images whose pose check passed against pose failures. Images
    # nobody could check and poses the server could not render (model missing, engine broke) are counted apart.
    by_cat = defaultdict(lambda: [0, 0, 0, 0])   # accepted, failed, not checked, infrastructure
    gpu_seconds = 0.0
    hosted = Counter()    # images a hosted provider rendered (each attempt is one image it bills), per provider
    for category, status, secs, checked, kind, provider, attempts in _pose_rows(
            session, user=user, kit=kit, lo=lo, hi=hi, settings=settings):
        if status == "done":
            by_cat[category][0 if checked else 2] += 1
        else:
            by_cat[category][3 if kind == "infrastructure" else 1] += 1
        if provider in PROVIDER_PRICES:   # priced per image, not per GPU hour
            hosted[provider] += attempts or 0
        else:
            gpu_seconds += float(secs or 0.0)
    success = [{"category": cat, "done": d, "failed": f, "notChecked": n, "infrastructureFailed": i,
                "successRate": round(d / (d + f), 4) if d + f else None}
               for cat, (d, f, n, i) in sorted(by_cat.items())]
    accepted = sum(c[0] for c in by_cat.values())
    failed = sum(c[1] for c in by_cat.values())
    gpu_cost = gpu_seconds / 3600 * settings.gpu_cost_per_hour_idr
    provider_cost = sum(n * getattr(settings, PROVIDER_PRICES[p]) for p, n in hosted.items())
    gpu_cost += provider_cost
    all_formats = Counter()
    for t in DESIGN_TYPES:
        all_formats.update(totals[t]["formats"])
    saved = sum(s["savingsIdr"] for s in savings)
    headline = {
        "imagesCreated": totals["pose"]["created"], "avatarsCreated": totals["avatar"]["created"],
        "postersCreated": totals["poster"]["created"],
        "exported": sum(totals[t]["exported"] for t in DESIGN_TYPES),
        "hoursSaved": round(sum(r.total_time_saved for r in rows), 2), "savingsIdr": saved,
        "savingsHighIdr": sum(s["savingsHighIdr"] for s in savings),
        "subscriptionIdr": sub * len(months), "netSavingsIdr": saved - sub * len(months),
        "acceptedImages": accepted, "failedImages": failed,
        "notCheckedImages": sum(c[2] for c in by_cat.values()),
        "infrastructureFailures": sum(c[3] for c in by_cat.values()),
        "successRate": round(accepted / (accepted + failed), 4) if accepted + failed else None,
        "gpuSeconds": round(gpu_seconds, 3), "gpuCostIdr": round(gpu_cost),
        "providerImages": dict(sorted(hosted.items())), "providerCostIdr": round(provider_cost),
        "costPerAcceptedImageIdr": round(gpu_cost / accepted) if accepted else None,
    }
    return {"filters": {"brandKitId": kit, "from": start, "to": end, "months": months},
            "headline": headline, "totals": totals, "usage": usage, "savings": savings,
            "successByCategory": success,
            "formats": [{"format": f, "count": n} for f, n in sorted(all_formats.items(), key=lambda x: (-x[1], x[0]))],
            "assumptions": assumptions(settings)}


def csv_rows(report: dict) -> list[list]:
    return [[u["period"], u["designType"], u["created"], u["exported"],
             "" if u["avgCreationSeconds"] is None else u["avgCreationSeconds"], u["hoursSaved"], u["savingsIdr"],
             ";".join(f"{k}:{v}" for k, v in u["formats"].items())] for u in report["usage"]]


def csv_export(session: Session, *, user: User, brand_kit_id: int | None = None, period_from: str | None = None,
               period_to: str | None = None, settings: Settings | None = None) -> str:
    """The dashboard's per-month, per-design-type rows as CSV (header row first)."""
    report = dashboard(session, user=user, brand_kit_id=brand_kit_id, period_from=period_from, period_to=period_to,
                       settings=settings)
    buf = io.StringIO()
    writer = csv.writer(buf)
    writer.writerow(CSV_COLUMNS)
    writer.writerows(csv_rows(report))
    return buf.getvalue()
