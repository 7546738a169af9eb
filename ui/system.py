"""System page (admins): each model the settings use and its state (present, downloading, will download on first
use, missing with the reason and how to provide it), what runs (likeness, pose check, background removal: on or
off with the reason), the engine's device, the database, Redis and the workers with what they render, queued
jobs and free space in STORAGE_DIR. Everyone else is told the page is for whoever runs the server. The data is
core.system.report (the same as GET /api/system); a Refresh button reloads it (downloads move)."""
from __future__ import annotations

import gradio as gr

from core import system
from ui.common import Failed, act, err, esc, header
from ui.i18n import message, number, t, tr

STATE_KIND = {"present": "ok", "built": "ok", "downloading": "info", "will_download": "info", "missing": "bad"}


def _size(request, n) -> str:
    return number(request, n or 0, "bytes")


def _badge(request, kind: str, key: str) -> str:
    return f"<span class='apg-status apg-status-{kind}'>{esc(tr(request, key))}</span>"


def models_html(models: list[dict], request=None) -> str:
    rows = []
    for m in models:
        state = m["state"]
        if state == "downloading":
            pct = round(100 * m["done"] / m["total"]) if m.get("total") else 0
            detail = tr(request, "system.downloading_detail", done=_size(request, m["done"]),
                        total=_size(request, m["total"]), pct=pct)
        elif state == "present":
            detail = tr(request, "system.present_detail", size=_size(request, m["size"]), where=m["where"])
        elif state == "will_download":
            detail = tr(request, "system.will_download_detail", where=m["where"])
        elif state == "built":
            detail = tr(request, "system.built_detail")
        else:
            detail = message(request, m.get("message") or m["reason"] or "")
        rows.append(f"<tr data-model='{esc(m['name'])}' data-state='{esc(state)}'><td><b>{esc(m['name'])}</b>"
                    f"<div class='apg-meta'>{esc(m['model'])}</div></td>"
                    f"<td>{_badge(request, STATE_KIND.get(state, 'info'), 'system.state.' + state)}</td>"
                    f"<td class='apg-system-detail'>{esc(detail)}</td></tr>")
    head = "".join(f"<th>{esc(tr(request, k))}</th>" for k in ("system.th_model", "system.th_state", "system.th_detail"))
    return (f"<div class='apg-scroll-x'><table class='apg-table' id='sys-models'><tr>{head}</tr>{''.join(rows)}"
            f"</table></div>")


def checks_html(checks: dict, request=None) -> str:
    out = []
    for key, label in (("likeness", "system.likeness"), ("poseCheck", "system.pose_check"),
                       ("backgroundRemoval", "system.background")):
        c = checks[key]
        badge = _badge(request, "ok" if c["on"] else "bad", "system.on" if c["on"] else "system.off")
        why = "" if c["on"] else f"<div class='apg-meta'>{esc(message(request, c.get('message') or c['reason'] or ''))}</div>"
        out.append(f"<li data-check='{key}' data-on='{int(c['on'])}'><b>{esc(tr(request, label))}</b> {badge}{why}</li>")
    return f"<ul id='sys-checks'>{''.join(out)}</ul>"


def services_html(report: dict, request=None) -> str:
    db, st, jobs, eng = report["database"], report["storage"], report["jobs"], report["engine"]
    lines = [tr(request, "system.database", dialect=db["dialect"],
                state=tr(request, "system.reachable" if db["reachable"] else "system.unreachable")),
             tr(request, "system.storage", dir=st["dir"], free=_size(request, st["free"]),
                total=_size(request, st["total"])) if st["free"] is not None else st["error"],
             tr(request, "system.engine", engine=eng["engine"], device=eng["deviceSetting"], dtype=eng["dtypeSetting"],
                loaded=", ".join(f"{e['device']} {e['dtype']}" for e in eng["loaded"]) or "—")]
    if eng.get("lastRender"):
        last = eng["lastRender"]
        lines.append(tr(request, "system.last_render", id=last["generationId"], device=last["device"],
                        dtype=last["dtype"]))
    if jobs["kind"] == "rq":
        redis = jobs["redis"] or {}
        lines.append(tr(request, "system.redis_ok", queued=jobs["queued"], running=jobs["running"], failed=jobs["failed"])
                     if redis.get("reachable") else tr(request, "system.redis_down", error=redis.get("error") or ""))
    else:
        lines.append(tr(request, "system.in_process", queued=jobs.get("queued", 0), running=jobs.get("running", 0)))
    workers = [f"<li data-worker='{esc(w['name'])}'>{esc(w['name'])}: {esc(w['state'])}"
               f"{' · ' + esc(tr(request, 'system.heartbeat', at=w['lastHeartbeat'])) if w.get('lastHeartbeat') else ''}"
               f"{' · ' + esc(w['job']) if w.get('job') else ''}</li>" for w in jobs.get("workers", [])]
    if jobs["kind"] == "rq" and not workers:
        workers = [f"<li>{esc(tr(request, 'system.no_workers'))}</li>"]
    rendering = [f"<li>{esc(tr(request, 'system.rendering', worker=r['worker'], n=r['poses'], id=r['generationId'], at=r['lastHeartbeat'] or '—'))}</li>"
                 for r in report["rendering"]]
    return (f"<ul id='sys-services'>{''.join(f'<li>{esc(x)}</li>' for x in lines)}</ul>"
            f"<h4>{esc(tr(request, 'system.workers'))}</h4><ul id='sys-workers'>{''.join(workers)}</ul>"
            f"<h4>{esc(tr(request, 'system.rendering_title'))}</h4>"
            f"<ul id='sys-rendering'>{''.join(rendering) or '<li>—</li>'}</ul>")


def notices_html(services, request=None) -> str:
    """The one-line banner of what is off on this server (every page, everyone): what, in a few words; why and
    what to do instead behind a click."""
    try:
        notes = system.current_notices(services.settings)
    except Exception:  # noqa: BLE001 - a banner must never break a page
        return ""
    if not notes:
        return ""
    items = ", ".join(tr(request, "system.notice_short." + n.code.removeprefix("system.notice_")) for n in notes)
    full = "".join(f"<li>{esc(message(request, n.to_dict()))}</li>" for n in notes)
    return (f"<details class='apg-notice' id='apg-notices' role='status'><summary>"
            f"{esc(tr(request, 'system.notices_summary', items=items))}</summary><ul>{full}</ul></details>")


def build(services, demo: gr.Blocks) -> None:
    header(services, demo, "system.header")
    msg = gr.HTML(elem_id="sys-message")
    with gr.Row():
        refresh = gr.Button(t("system.refresh"), elem_id="sys-refresh", size="sm")
    models = gr.HTML(elem_id="sys-models-box")
    checks = gr.HTML(elem_id="sys-checks-box")
    rest = gr.HTML(elem_id="sys-services-box")

    def load(request: gr.Request):
        try:
            report = act(services, request, lambda s, u: system.report(s, user=u, settings=services.settings,
                                                                     runner=services.runner), write=False)
        except Failed as exc:
            return err(str(exc)), "", "", ""
        return "", models_html(report["models"], request), checks_html(report["checks"], request), \
            services_html(report, request)

    demo.load(load, outputs=[msg, models, checks, rest], show_progress="hidden")
    refresh.click(load, outputs=[msg, models, checks, rest], show_progress="hidden")
