"""What runs on this server and what is off, for whoever runs it (the System page, GET /api/system; admins only).

    report = system.report(session, user=admin, settings=settings, runner=runner)

- models: each model the settings use (engine.prefetch.states): present (where, size), downloading (done of
  total), will_download (on first use, MODEL_DOWNLOADS), missing (the reason and how to provide it), built;
- engine: ENGINE, the device and dtype asked for, the device/dtype of an engine loaded in this process, and
  those the latest batch was rendered with (any worker);
- checks: likeness, pose check, background removal: on, or off with the reason (the same probe the Generate
  page uses before a user pays);
- database (dialect, reachable), storage (STORAGE_DIR, free and total bytes), jobs (the runner's report:
  Redis, queued, running, failed, workers with their last heartbeat and job), rendering (the poses running
  now per worker id and their last heartbeat, from the database: what every worker renders, rq or not).
Nothing here loads a model or imports torch; each part that cannot be measured says why instead of failing.

`notices(settings)` is the short list for everyone else: one line per thing a user is about to use that is
off (image generation, likeness, pose check, background removal), shown as a banner. Every page load of every
visitor shows it, so pages read `current_notices(settings)`: the answer of the last NOTICE_TTL_S, refreshed
on a background thread (file checks, a Hub reachability probe, maybe rembg's import), computed on the
caller's thread only the first time in a process.
"""
from __future__ import annotations

import shutil
import threading
import time

import sqlalchemy as sa
from sqlmodel import Session, select

from core.errors import Forbidden
from core.messages import Message
from db.models import GeneratedPose, PoseGeneration, User


def model_downloads(settings) -> list[dict]:
    """The model downloads in flight in this server's model cache (any process sharing it): what a batch or a
    background removal that waits for them shows instead of a silent spinner.
    [{"role", "model", "done", "total", "text", "message": {"code", "params"}}]"""
    from engine.downloads import current, status_message
    from engine.sources import policy_of

    out = []
    for record in current(policy_of(settings)):
        msg = status_message(record)
        out.append({"role": record["role"], "model": record["model"], "done": int(record.get("done") or 0),
                    "total": int(record.get("total") or 0), "text": msg.english, "message": msg.to_dict()})
    return out


def _engine_part(session: Session, settings) -> dict:
    """ENGINE and the device/dtype asked for; those of an engine loaded in this process; and those the latest
    batch was rendered with (by whichever worker: its options keep the engine's describe())."""
    from engine.engines import loaded_engines

    loaded = [e.describe() for e in loaded_engines().values()]
    last = None
    recent = session.exec(select(PoseGeneration.id, PoseGeneration.options).where(PoseGeneration.started_at.is_not(None))
                          .order_by(PoseGeneration.started_at.desc(), PoseGeneration.id.desc()).limit(20)).all()
    for gid, options in recent:
        facts = (options or {}).get("engine")
        if isinstance(facts, dict) and facts.get("device"):
            last = {"generationId": gid, "engine": facts.get("engine"), "device": facts.get("device"),
                    "dtype": facts.get("dtype")}
            break
    return {"engine": settings.engine, "deviceSetting": settings.engine_device, "dtypeSetting": settings.engine_dtype,
            "loaded": [{"engine": d.get("engine"), "device": d.get("device"), "dtype": d.get("dtype")}
                       for d in loaded], "lastRender": last}


def _check(entry: dict | None) -> dict:
    entry = entry or {}
    return {"on": bool(entry.get("on")), "reason": entry.get("reason"), "message": entry.get("message"),
            "download": bool(entry.get("download"))}


def _background(models: list[dict]) -> dict:
    bg = next(m for m in models if m["name"] == "background-removal")
    on = bg["state"] in ("present", "downloading", "will_download")
    return {"on": on, "reason": None if on else bg["reason"], "message": None if on else bg.get("message"),
            "download": bg["state"] in ("downloading", "will_download")}


def _database(session: Session, settings) -> dict:
    url = sa.engine.make_url(settings.database_url)
    try:
        session.execute(sa.text("SELECT 1"))
        ok, error = True, None
    except Exception as exc:  # noqa: BLE001
        ok, error = False, f"{type(exc).__name__}: {str(exc)[:200]}"
    return {"dialect": url.get_backend_name(), "database": url.database if not settings.is_sqlite else None,
            "reachable": ok, "error": error}


def _storage(settings) -> dict:
    folder = settings.storage_dir
    try:
        usage = shutil.disk_usage(folder if folder.exists() else folder.parent)
        return {"dir": str(folder), "free": usage.free, "total": usage.total, "error": None}
    except OSError as exc:
        return {"dir": str(folder), "free": None, "total": None, "error": f"{type(exc).__name__}: {exc}"}


def _rendering(session: Session) -> list[dict]:
    G = GeneratedPose
    rows = session.execute(select(G.worker_id, G.generation_id, sa.func.count(), sa.func.max(G.heartbeat_at))
                           .where(G.status == "running").group_by(G.worker_id, G.generation_id)
                           .order_by(G.worker_id, G.generation_id)).all()
    return [{"worker": w, "generationId": g, "poses": n, "lastHeartbeat": at.isoformat() if at else None}
            for w, g, n, at in rows]


def report(session: Session, *, user: User, settings, runner) -> dict:
    """The System page's data (module doc). Admins only: anyone else gets Forbidden."""
    if not user.is_admin:
        raise Forbidden("system.admin_only")
    from engine.engines import capabilities
    from engine.prefetch import states

    models = states(settings)
    caps = capabilities(settings)
    try:
        jobs = runner.report() if runner is not None else {"kind": "none", "workers": [], "redis": None}
    except Exception as exc:  # noqa: BLE001 - a report must not fail the page
        jobs = {"kind": "unknown", "workers": [], "redis": None, "error": f"{type(exc).__name__}: {exc}"}
    return {"models": models, "engine": _engine_part(session, settings),
            "checks": {"likeness": _check(caps.get("likeness")), "poseCheck": _check(caps.get("pose_check")),
                       "backgroundRemoval": _background(models)},
            "database": _database(session, settings), "storage": _storage(settings), "jobs": jobs,
            "rendering": _rendering(session)}


def notices(settings) -> list[Message]:
    """What a user should know before using the app: each thing that is off, as one short message."""
    from engine.engines import capabilities
    from engine.prefetch import states

    out = []
    models = {m["name"]: m for m in states(settings)}
    if any(models.get(n, {}).get("state") == "missing" for n in ("base", "controlnet")):
        out.append(Message("system.notice_generation_off"))
    caps = capabilities(settings)
    if not (caps.get("likeness") or {}).get("on"):
        out.append(Message("system.notice_likeness_off"))
    if not (caps.get("pose_check") or {}).get("on"):
        out.append(Message("system.notice_pose_check_off"))
    if models.get("background-removal", {}).get("state") == "missing":
        out.append(Message("system.notice_background_off"))
    return out


NOTICE_TTL_S = 30.0
_notices: dict[int, tuple[object, float, list[Message]]] = {}     # id(settings) -> (settings, when, notices)
_refreshing: set[int] = set()
_notices_lock = threading.Lock()


def _refresh(settings) -> list[Message]:
    found = notices(settings)
    with _notices_lock:
        _notices[id(settings)] = (settings, time.monotonic(), found)
        _refreshing.discard(id(settings))
    return found


def current_notices(settings) -> list[Message]:
    """notices(settings) as of at most NOTICE_TTL_S ago (module doc); never blocks a page load after the first."""
    key = id(settings)
    with _notices_lock:
        hit = _notices.get(key)
        stale = hit is None or hit[0] is not settings or time.monotonic() - hit[1] > NOTICE_TTL_S
        start = stale and hit is not None and hit[0] is settings and key not in _refreshing
        if start:
            _refreshing.add(key)
    if hit is None or hit[0] is not settings:
        return _refresh(settings)
    if start:
        threading.Thread(target=_refresh, args=(settings,), name="system-notices", daemon=True).start()
    return hit[2]
