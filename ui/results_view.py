"""The Results page's HTML: progress bar, gallery tiles, the detail of one image and the export panel. Pure
builders from rows and strings (no database, no handlers); ui/results.py wires them to the page."""
from __future__ import annotations

from urllib.parse import parse_qs, urlparse

import gradio as gr

from core.generation.batches import failure
from core.generation.identity import note_of
from core.generation.product import fidelity_notes
from core.schemas import file_url
from ui.common import choice_id, downloads_html, err, esc
from ui.i18n import lang, message, number, tr

API = "/api/apps/pose-generator"
POLL_SECONDS = 1.5
ACTIVE = ("pending", "running")
FILTERS = ("all", "accepted", "notChecked", "failed")
INFRASTRUCTURE = "infrastructure"
STATUS_KIND = {"done": "ok", "completed": "ok", "failed": "bad", "cancelled": "warn", "running": "busy",
               "pending": "info"}
# A click on a tile (or Enter on a focused one) asks the server for that image's detail; the tiles re-render,
# so the listener sits on the gallery box (event delegation), as on the Brand Kits page.
TILE_CLICK_JS = """
const pick = (event) => {
  const tile = event.target.closest('[data-result-id]');
  if (tile) { event.preventDefault(); trigger('click', {result_id: tile.dataset.resultId}); }
};
element.addEventListener('click', pick);
element.addEventListener('keydown', (event) => { if (event.key === 'Enter' || event.key === ' ') pick(event); });
"""


def int_or_none(value) -> int | None:
    text = str(value if value is not None else "").strip()
    return int(text) if text.isdigit() else None


def wanted_generation(request: gr.Request | None) -> int | None:
    """?generation=ID of the page (Gradio passes the page's query string with each event; the referer is
    the fallback)."""
    try:
        found = int_or_none(dict(request.query_params).get("generation"))
    except Exception:  # noqa: BLE001 - no request, or no query string
        found = None
    if found is None and request is not None:
        try:
            referer = dict(request.headers).get("referer") or ""
            found = int_or_none((parse_qs(urlparse(referer).query).get("generation") or [None])[0])
        except Exception:  # noqa: BLE001
            found = None
    return found


def status_text(request, status: str) -> str:
    """A batch's or a pose's status as the visitor reads it ("waiting for a worker", "completed"...)."""
    return tr(request, f"results.status.{status}") if status in STATUS_KIND else status


def when_text(dt, request=None) -> str:
    if not dt:
        return ""
    month = tr(request, "results.months").split()[dt.month - 1]
    return f"{dt.day:02d} {month} {dt.year} {dt:%H:%M} UTC"


def _eta(seconds: float | None, request=None) -> str:
    if seconds is None:
        return tr(request, "results.eta_unknown")
    if seconds < 1:
        return tr(request, "results.eta_any_moment")
    if seconds < 60:
        return tr(request, "results.eta_seconds", n=max(1, round(seconds)))
    return tr(request, "results.eta_minutes", n=round(seconds / 60))


def pose_label(p, name: str) -> str:
    return f"{p.id} · #{p.position + 1} {name}"


def checks_html(checks: dict | None, request=None, *, elem_id: str) -> str:
    """What runs (likeness, pose check): on, or off with the reason. Shown before a batch starts (next to the
    price) and with it afterwards; data-likeness / data-pose-check are "on" | "off" | "unknown"."""
    def part(key: str, name: str) -> tuple[str, str]:
        entry = (checks or {}).get(key)
        if not entry:
            return "unknown", tr(request, "generate.checks_unknown")
        if entry.get("on"):
            return "on", tr(request, f"generate.checks_{name}_on")
        why = message(request, entry.get("message") or entry.get("reason") or "")
        return "off", tr(request, f"generate.checks_{name}_off", reason=why.rstrip(". "))

    (lk, lt), (pk, pt) = part("likeness", "likeness"), part("poseCheck", "pose")
    rows = [("likeness", lk, lt), ("pose-check", pk, pt)]
    renderer = (checks or {}).get("renderer")
    if renderer:   # a hosted provider renders: who, with which model (what it cannot do is said beside it)
        rows.append(("renderer", "remote", tr(request, "generate.checks_renderer", provider=renderer.get("label"),
                                              model=renderer.get("model"))))
    inpaint = (checks or {}).get("inpaint")
    if inpaint and not inpaint.get("on"):
        why = message(request, inpaint.get("message") or inpaint.get("reason") or "")
        rows.append(("inpaint", "off", tr(request, "generate.checks_inpaint_off", reason=why.rstrip(". "))))
    items = "".join(f"<li class='apg-check apg-check-{kind}' data-check='{name}'>{esc(text)}</li>"
                    for name, kind, text in rows)
    return (f"<div class='apg-checks apg-meta' id='{esc(elem_id)}' data-likeness='{lk}' data-pose-check='{pk}'>"
            f"<b>{esc(tr(request, 'generate.checks_title'))}</b><ul>{items}</ul></div>")


def progress_html(st, live: bool, request=None) -> str:
    def say(key, **values):
        return esc(tr(request, key, **values))

    def bold(key, **numbers):  # "<b>5</b> done": the numbers in bold inside the translated (escaped) text
        text = say(key, **{name: f"@{name}@" for name in numbers})
        for name, n in numbers.items():
            text = text.replace(f"@{name}@", f"<b>{n}</b>")
        return text

    total = max(1, st.total)
    finished = st.done + st.failed + st.cancelled
    pct = round(100 * finished / total)
    bars = "".join(f"<div class='apg-bar-{cls}' style='width:{100 * n / total:.2f}%'></div>"
                   for cls, n in (("done", st.done), ("failed", st.failed), ("cancelled", st.cancelled)) if n)
    counts = [bold("results.count_done", n=st.done)]
    if st.not_checked:  # "done" splits into measured passes and images nobody could check
        counts += [bold("results.count_accepted", n=st.accepted), bold("results.count_not_checked", n=st.not_checked)]
    counts.append(bold("results.count_failed", n=st.failed - st.infrastructure_failed))
    if st.infrastructure_failed:
        counts.append(bold("results.count_infra", n=st.infrastructure_failed))
    if st.cancelled:
        counts.append(bold("results.count_cancelled", n=st.cancelled))
    counts.append(bold("results.count_total", n=st.total))
    if st.identity_measured:   # the likeness, measured: the mean of the images whose face was compared
        counts.append(f"<span id='res-identity'>{say('results.identity_mean', score=number(request, st.identity_mean, '.2f'), n=st.identity_measured)}</span>")
    if st.status in ACTIVE:
        eta = (tr(request, "results.warming_up") if st.done + st.failed == 0 and st.running
               else _eta(st.eta_seconds, request))
        counts.append(f"<span id='res-eta'>{esc(eta)}</span>")
    downloading = downloads_html(st.downloads, request)
    every = f"{POLL_SECONDS:g}".replace(".", "," if lang(request) == "id" else ".")
    state = (f"<span class='apg-live' id='res-live' data-live='1'>{say('results.live', s=every)}</span>"
             if live else f"<span class='apg-still' id='res-live' data-live='0'>{say('results.still')}</span>")
    credits_line = bold("results.credits_line", reserved=st.credits_reserved, used=st.credits_used,
                        refunded=st.credits_refunded)
    return (f"<div class='apg-progress' id='res-progress-box' data-status='{esc(st.status)}'>"
            f"<div class='apg-progress-head'><b>{say('results.batch_title', id=st.id)}</b>"
            f"<span class='apg-status apg-status-{STATUS_KIND.get(st.status, 'info')}' id='res-status'>"
            f"{esc(status_text(request, st.status))}</span>"
            f"<span class='apg-pct' id='res-percent'>{pct}%</span>{state}</div>"
            f"<div class='apg-bar' role='progressbar' aria-valuemin='0' aria-valuemax='100' aria-valuenow='{pct}'>"
            f"{bars}</div>"
            f"<div class='apg-progress-lines'><span id='res-counts'>{' · '.join(counts)}</span>"
            f"<span id='res-credits-line'>{credits_line}</span></div>"
            f"{downloading}"
            f"{checks_html(st.checks, request, elem_id='res-checks')}{infra_html(st, request)}</div>")


def infra_html(st, request=None) -> str:
    """Once above the gallery: how many poses the server could not render, and why."""
    if not st.infrastructure_failed:
        return ""
    text = tr(request, "results.infra_note", n=st.infrastructure_failed,
              reason=message(request, st.infrastructure_message or st.infrastructure_reason or "").rstrip(". "))
    return f"<div class='apg-infra' id='res-infra' role='status'>{esc(text)}</div>"


def tile_html(p, name: str, selected: bool, request=None) -> str:
    kind = STATUS_KIND.get(p.status, "info")
    reason = ""
    if p.status == "done":
        body = f"<img loading='lazy' alt='{esc(name)}' src='{esc(file_url(p.thumbnail_path or p.image_path))}'>"
        checked = bool(p.quality_checked) and p.quality_score is not None
        badge = (tr(request, "results.score", score=f"{p.quality_score:.2f}") if checked
                 else tr(request, "results.not_checked"))
        kind = "ok" if checked else "neutral"   # an image nobody checked is not shown as a pass
    elif p.status in ACTIVE:
        body = (f"<span class='apg-spinner'></span><span class='apg-meta'>{esc(status_text(request, p.status))}…"
                f"</span>")
        badge = status_text(request, p.status)
    elif p.status == "failed" and p.failure_kind == INFRASTRUCTURE:   # not the pose's fault: say why, on the tile
        body = f"<span class='apg-x'>⚠</span><span class='apg-meta'>{esc(tr(request, 'results.infra_badge'))}</span>"
        badge, kind = tr(request, "results.infra_badge"), "warn"
        why = message(request, failure(p) or "")
        reason = f"<div class='apg-meta apg-tile-reason' title='{esc(why)}'>{esc(why)}</div>"
    else:
        body = f"<span class='apg-x'>✕</span><span class='apg-meta'>{esc(status_text(request, p.status))}</span>"
        badge = status_text(request, p.status)
    stars = f"<span class='apg-stars'>{'★' * p.rating}</span>" if p.rating else ""
    cls = f"apg-tile apg-result apg-result-{esc(p.status)}" + (" apg-selected" if selected else "")
    checked = "1" if p.status == "done" and p.quality_checked else "0"
    return (f"<figure class='{cls}' data-result-id='{p.id}' data-status='{esc(p.status)}' data-checked='{checked}' "
            f"data-failure='{esc(p.failure_kind or '')}' role='button' tabindex='0' "
            f"title='{esc(tr(request, 'results.click_details'))}'><div class='apg-thumb'>{body}</div><figcaption>"
            f"<b>#{p.position + 1}</b> "
            f"<span class='apg-status apg-status-{kind}'>{esc(badge)}</span> {stars}"
            f"<div class='apg-meta apg-ellipsis'>{esc(name)}</div>{reason}</figcaption></figure>")


def gallery_html(rows, names: dict, selected_id: int | None, show: str, started: bool, request=None) -> str:
    if not rows:
        key = {"accepted": "results.empty_accepted", "notChecked": "results.empty_notChecked",
               "failed": "results.empty_failed"}.get(
            show, "results.empty_pick" if not started else "results.empty")
        return f"<div class='apg-empty' id='res-gallery'>{esc(tr(request, key))}</div>"
    pose = tr(request, "results.pose")
    tiles = "".join(tile_html(p, names.get(p.template_id, pose), p.id == selected_id, request) for p in rows)
    return f"<div class='apg-gallery apg-results' id='res-gallery' data-count='{len(rows)}'>{tiles}</div>"


def detail_html(p, name: str, options: dict, request=None) -> str:
    def say(key, **values):
        return esc(tr(request, key, **values))

    if p is None:
        return f"<div class='apg-empty' id='res-detail-empty'>{say('results.detail_hint')}</div>"
    head = (f"<div class='apg-detail-head'><b>#{p.position + 1} · {esc(name)}</b> "
            f"<span class='apg-status apg-status-{STATUS_KIND.get(p.status, 'info')}' id='res-detail-status'>"
            f"{esc(status_text(request, p.status))}</span></div>")
    control = (f"<figure><div class='apg-thumb apg-big apg-skel'><img id='res-detail-control' "
               f"alt='{say('results.control_alt')}' src='{esc(file_url(p.control_path))}'></div>"
               f"<figcaption class='apg-meta'>{say('results.control')}</figcaption></figure>" if p.control_path else "")
    if p.status == "done" and p.image_path:
        url = file_url(p.image_path)
        pictures = (f"<div class='apg-compare' id='res-detail-pair'><figure><div class='apg-thumb apg-big'>"
                    f"<img id='res-detail-image' alt='{esc(name)}' src='{esc(url)}'></div><figcaption class='apg-meta'>"
                    f"{say('results.result')} · <a href='{esc(url)}' target='_blank'>{say('results.open_full')}</a>"
                    f"</figcaption></figure>{control}</div>")
        actions = (f"<div class='apg-links'><a class='apg-go' id='res-download' "
                   f"href='{API}/results/{p.id}/download' download>{say('results.download')}</a></div>")
    elif p.status in ACTIVE:
        pictures = (f"<div class='apg-empty' id='res-detail-pending'><span class='apg-spinner'></span> "
                    f"{esc(status_text(request, p.status))}…</div>")
        actions = ""
    else:
        text = (message(request, failure(p)) if p.error
                else tr(request, "results.pose_was", status=status_text(request, p.status)))
        pictures = err(text).replace("role='alert'", "id='res-detail-error'") + (
            f"<div class='apg-compare'>{control}</div>" if control else "")
        actions = ""
    score = tr(request, "results.not_checked") if p.quality_score is None else f"{p.quality_score:.2f}"
    seconds = f"{p.render_seconds:.1f} s" if p.render_seconds is not None else "—"
    note = note_of(p)
    identity = (number(request, p.identity_score, ".2f") if p.identity_score is not None
                else message(request, note) if note is not None else tr(request, "results.not_checked"))
    size = f"{options.get('width')}×{options.get('height')}" if options.get("width") else ""
    rating = "★" * p.rating + "☆" * (5 - p.rating) if p.rating else say("results.not_rated")
    facts = (f"<div class='apg-facts'><div id='res-detail-score'>{say('results.pose_check')} <b>{esc(score)}</b></div>"
             f"<div id='res-detail-identity' data-checked='{int(p.identity_score is not None)}'>"
             f"{say('results.identity')} <b>{esc(identity)}</b></div>"
             f"{_product_line(request, p, say)}"
             f"<div id='res-detail-seed'>{say('results.seed')} <b>{p.seed}</b> · "
             f"{say('results.attempts', n=p.attempts)} · {esc(seconds)}{' · ' + esc(size) if size else ''}</div>"
             f"<div id='res-detail-rating'>{say('results.rating_line')} {rating}</div></div>")
    prompt = (f"<details><summary class='apg-meta'>{say('results.prompt')}</summary>"
              f"<div class='apg-meta' id='res-detail-prompt'>{esc(p.prompt)}</div>"
              f"<div class='apg-meta'><i>{say('results.negative')}</i> {esc(p.negative_prompt)}</div></details>")
    return (f"<div class='apg-detail' id='res-detail-box' data-result-id='{p.id}'>"
            f"{head}{pictures}{facts}{actions}{prompt}</div>")


def _product_line(request, p, say) -> str:
    """The product's mode and fidelity record (core.generation.product), measured or why not; '' without one."""
    if not p.product_mode:
        return ""
    notes = " · ".join(esc(message(request, m)) for m in fidelity_notes(p))
    exact = (p.product_fidelity or {}).get("exact")
    return (f"<div id='res-detail-product' data-mode='{esc(p.product_mode)}' "
            f"data-exact='{'' if exact is None else exact}'>{say('results.product')} "
            f"<b>{say('results.product_mode.' + p.product_mode)}</b>{' · ' + notes if notes else ''}</div>")


def export_html(generation_id: int | None, done: int, chosen: list[str] | None, request=None) -> str:
    def say(key, **values):
        return esc(tr(request, key, **values))

    if generation_id is None or not done:
        return f"<div class='apg-meta' id='res-export-none'>{say('results.export_none')}</div>"
    base = f"{API}/results/{generation_id}/export"
    out = [f"<a class='apg-go' id='res-export-all' href='{base}' download>{say('results.export_all', n=done)}</a>"]
    ids = [i for i in (choice_id(c) for c in chosen or []) if i is not None]
    if ids:
        out.append(f"<a class='apg-go' id='res-export-selected' href='{base}?ids={','.join(map(str, ids))}' download>"
                   f"{say('results.export_selected', n=len(ids))}</a>")
    return ("<div class='apg-links' id='res-export-links'>" + "".join(out)
            + f"<span class='apg-meta'>{say('results.export_note')}</span></div>")
