"""Results page: watch a batch arrive, then rate, download, re-render and export its images.

Pick a batch (?generation=ID from the Generate page, else the newest). A progress bar shows done / failed /
total, the ETA and the credits; a gr.Timer polls core.batches while the batch is pending or running and
switches itself off when it is finished or cancelled. The gallery is HTML whose images come from our
owner-checked file route (never Gradio's shared cache); click an image for its detail: big image, control
skeleton, pose-check score, prompt, seed, attempts, time (or its error), a 1-5 rating, download, and
re-render with a new seed. Cancel, retry the failed poses, and export all or some images as a ZIP with a
manifest: download and export are links to the REST routes, which the browser's session cookie opens."""
from __future__ import annotations

import functools
import hashlib
from urllib.parse import parse_qs, urlparse

import gradio as gr

from core import batches, credits, products, projects
from core import pose_library as lib
from core.errors import DomainError
from core.generation import APP
from core.schemas import file_url
from ui.common import Failed, act, choice_id, credits_text, err, esc, header, ok
from ui.i18n import lang, message, t, tr
from ui.posters import send_to_poster_button, wire_send_to_poster

API = "/api/apps/pose-generator"
POLL_SECONDS = 1.5
ACTIVE = ("pending", "running")
FILTERS = ("all", "accepted", "failed")
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


def _int(value) -> int | None:
    text = str(value if value is not None else "").strip()
    return int(text) if text.isdigit() else None


def wanted_generation(request: gr.Request | None) -> int | None:
    """?generation=ID of the page (Gradio passes the page's query string with each event; the referer is
    the fallback)."""
    try:
        found = _int(dict(request.query_params).get("generation"))
    except Exception:  # noqa: BLE001 - no request, or no query string
        found = None
    if found is None and request is not None:
        try:
            referer = dict(request.headers).get("referer") or ""
            found = _int((parse_qs(urlparse(referer).query).get("generation") or [None])[0])
        except Exception:  # noqa: BLE001
            found = None
    return found


def status_text(request, status: str) -> str:
    """A batch's or a pose's status as the visitor reads it ("waiting for a worker", "completed"...)."""
    return tr(request, f"results.status.{status}") if status in STATUS_KIND else status


def _when(dt, request=None) -> str:
    if not dt:
        return ""
    month = tr(request, "results.months").split()[dt.month - 1]
    return f"{dt.day:02d} {month} {dt.year} {dt:%H:%M} UTC"


def _eta(seconds: float | None, request=None) -> str:
    if seconds is None:
        return tr(request, "results.eta_unknown")
    if seconds < 60:
        return tr(request, "results.eta_seconds", n=max(1, round(seconds)))
    return tr(request, "results.eta_minutes", n=round(seconds / 60))


def pose_label(p, name: str) -> str:
    return f"{p.id} · #{p.position + 1} {name}"


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
    counts = [bold("results.count_done", n=st.done), bold("results.count_failed", n=st.failed)]
    if st.cancelled:
        counts.append(bold("results.count_cancelled", n=st.cancelled))
    counts.append(bold("results.count_total", n=st.total))
    if st.status in ACTIVE:
        counts.append(f"<span id='res-eta'>{esc(_eta(st.eta_seconds, request))}</span>")
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
            f"<span id='res-credits-line'>{credits_line}</span></div></div>")


def tile_html(p, name: str, selected: bool, request=None) -> str:
    if p.status == "done":
        body = f"<img loading='lazy' alt='{esc(name)}' src='{esc(file_url(p.thumbnail_path or p.image_path))}'>"
        badge = (tr(request, "results.not_checked") if p.quality_score is None
                 else tr(request, "results.score", score=f"{p.quality_score:.2f}"))
    elif p.status in ACTIVE:
        body = (f"<span class='apg-spinner'></span><span class='apg-meta'>{esc(status_text(request, p.status))}…"
                f"</span>")
        badge = status_text(request, p.status)
    else:
        body = f"<span class='apg-x'>✕</span><span class='apg-meta'>{esc(status_text(request, p.status))}</span>"
        badge = status_text(request, p.status)
    stars = f"<span class='apg-stars'>{'★' * p.rating}</span>" if p.rating else ""
    cls = f"apg-tile apg-result apg-result-{esc(p.status)}" + (" apg-selected" if selected else "")
    return (f"<figure class='{cls}' data-result-id='{p.id}' data-status='{esc(p.status)}' role='button' tabindex='0' "
            f"title='{esc(tr(request, 'results.click_details'))}'><div class='apg-thumb'>{body}</div><figcaption>"
            f"<b>#{p.position + 1}</b> "
            f"<span class='apg-status apg-status-{STATUS_KIND.get(p.status, 'info')}'>{esc(badge)}</span> {stars}"
            f"<div class='apg-meta apg-ellipsis'>{esc(name)}</div></figcaption></figure>")


def gallery_html(rows, names: dict, selected_id: int | None, show: str, started: bool, request=None) -> str:
    if not rows:
        key = {"accepted": "results.empty_accepted", "failed": "results.empty_failed"}.get(
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
        text = (message(request, p.error) if p.error
                else tr(request, "results.pose_was", status=status_text(request, p.status)))
        pictures = err(text).replace("role='alert'", "id='res-detail-error'") + (
            f"<div class='apg-compare'>{control}</div>" if control else "")
        actions = ""
    score = tr(request, "results.not_checked") if p.quality_score is None else f"{p.quality_score:.2f}"
    seconds = f"{p.render_seconds:.1f} s" if p.render_seconds is not None else "—"
    size = f"{options.get('width')}×{options.get('height')}" if options.get("width") else ""
    rating = "★" * p.rating + "☆" * (5 - p.rating) if p.rating else say("results.not_rated")
    facts = (f"<div class='apg-facts'><div id='res-detail-score'>{say('results.pose_check')} <b>{esc(score)}</b></div>"
             f"<div id='res-detail-seed'>{say('results.seed')} <b>{p.seed}</b> · "
             f"{say('results.attempts', n=p.attempts)} · {esc(seconds)}{' · ' + esc(size) if size else ''}</div>"
             f"<div id='res-detail-rating'>{say('results.rating_line')} {rating}</div></div>")
    prompt = (f"<details><summary class='apg-meta'>{say('results.prompt')}</summary>"
              f"<div class='apg-meta' id='res-detail-prompt'>{esc(p.prompt)}</div>"
              f"<div class='apg-meta'><i>{say('results.negative')}</i> {esc(p.negative_prompt)}</div></details>")
    return (f"<div class='apg-detail' id='res-detail-box' data-result-id='{p.id}'>"
            f"{head}{pictures}{facts}{actions}{prompt}</div>")


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


def build(services, demo: gr.Blocks) -> None:
    retry_price = credits.cost(APP, "retryFailedPose")
    rerender_price = credits.cost(APP, "generatePose")
    badge = header(services, demo, "results.header")
    with gr.Row(equal_height=True):
        batch = gr.Dropdown(label=t("results.batch"), choices=[], value=None, elem_id="res-batch", scale=3)
        show = gr.Radio([(t(f"results.filter.{f}"), f) for f in FILTERS], value="all", label=t("results.show"),
                        elem_id="res-filter", scale=2)
        reload_btn = gr.Button(t("results.refresh"), elem_id="res-refresh", scale=0, min_width=140)
    progress = gr.HTML(elem_id="res-progress")
    with gr.Row(elem_classes="apg-actions"):
        cancel_btn = gr.Button(t("results.cancel"), variant="stop", interactive=False, elem_id="res-cancel", scale=0,
                               min_width=160)
        retry_btn = gr.Button(t("results.retry"), interactive=False, elem_id="res-retry", scale=0, min_width=220)
    message = gr.HTML(elem_id="res-message")
    with gr.Row():
        with gr.Column(scale=3):
            gallery = gr.HTML(elem_id="res-gallery-box", js_on_load=TILE_CLICK_JS)
            chosen = gr.Dropdown(label=t("results.to_export"), choices=[], value=[], multiselect=True,
                                 elem_id="res-select")
            export = gr.HTML(elem_id="res-export")
            to_poster = send_to_poster_button()
        with gr.Column(scale=2, elem_classes="apg-detail-col"):
            pick = gr.Dropdown(label=t("results.image"), choices=[], value=None, elem_id="res-pick")
            detail = gr.HTML(f"<div class='apg-empty' id='res-detail-empty'>{t('results.detail_hint')}</div>",
                             elem_id="res-detail")
            rating = gr.Radio(["1", "2", "3", "4", "5"], value=None, label=t("results.rating"), interactive=False,
                              elem_id="res-rating")
            rerender_btn = gr.Button(t("results.rerender"), interactive=False, elem_id="res-rerender")
    current = gr.State(None)   # the batch shown
    selected = gr.State(None)  # the result whose detail is shown
    shown_sig = gr.State("")   # what the gallery shows now: it is only sent again when that changes
    timer = gr.Timer(POLL_SECONDS, active=False)

    def snapshot(session, user, gid, request):
        st = batches.status(session, user=user, generation_id=gid)
        g = batches.get(session, user=user, generation_id=gid)
        rows, _ = batches.results(session, user=user, generation_id=gid, show="all", limit=500)
        names = {}
        for tid in {p.template_id for p in rows if p.template_id is not None}:
            try:
                names[tid] = lib.get(session, user=user, template_id=tid).name
            except DomainError:
                names[tid] = tr(request, "results.pose_n", id=tid)
        return st, dict(g.options or {}), rows, names

    def view(request, gid, show_v, sel, sig, chosen_v, *, force=False, new_sel=False, with_badge=False, tick=False):
        """Every output of the batch view: [progress, gallery, sig, pick, chosen, export, detail, rating,
        rerender, cancel, retry, timer, badge]."""
        skip = gr.update()
        rerender_label = tr(request, "results.rerender_cost", n=rerender_price)
        if gid is None:
            link = f"<a href='/generate'>{esc(tr(request, 'nav.generate'))}</a>"
            none = esc(tr(request, "results.no_batch", page="@page@")).replace("@page@", link)
            return (f"<div class='apg-empty' id='res-progress-none'>{none}</div>",
                    gallery_html([], {}, None, show_v, False, request), "",
                    gr.update(choices=[], value=None), gr.update(choices=[], value=[]),
                    export_html(None, 0, [], request), detail_html(None, "", {}, request),
                    gr.update(value=None, interactive=False), gr.update(interactive=False, value=rerender_label),
                    gr.update(interactive=False),
                    gr.update(interactive=False, value=tr(request, "results.retry_each", n=retry_price)),
                    gr.Timer(active=False), skip)
        st, options, rows, names = act(services, request, lambda s, u: snapshot(s, u, gid, request))
        live = st.status in ACTIVE
        wanted = batches.RESULT_FILTERS.get(show_v or "all")
        visible = [p for p in rows if wanted is None or p.status in wanted]
        pose = next((p for p in rows if p.id == sel), None)
        new_sig = hashlib.sha1(repr((gid, show_v, sel, [(p.id, p.status, p.rating, p.image_path, p.error)
                                                          for p in rows])).encode()).hexdigest()
        changed = force or new_sig != sig
        done = [p for p in rows if p.status == "done"]
        unnamed = tr(request, "results.pose")
        labels = [pose_label(p, names.get(p.template_id, unnamed)) for p in rows]
        done_labels = [pose_label(p, names.get(p.template_id, unnamed)) for p in done]
        keep = [c for c in chosen_v or [] if c in done_labels]
        name = names.get(pose.template_id, unnamed) if pose else ""
        can_rerender = pose is not None and pose.status in ("done", "failed") and st.status != "cancelled"
        return (progress_html(st, live, request),
                gallery_html(visible, names, sel, show_v, True, request) if changed else skip,
                new_sig,
                gr.update(choices=labels, value=pose_label(pose, name) if pose else None) if changed else skip,
                gr.update(choices=done_labels, value=keep) if changed else skip,
                export_html(gid, len(done), keep, request),
                detail_html(pose, name, options, request) if changed else skip,
                gr.update(value=str(pose.rating) if pose and pose.rating else None,
                          interactive=bool(pose and pose.status == "done")) if new_sel
                else gr.update(interactive=bool(pose and pose.status == "done")),
                gr.update(interactive=can_rerender, value=rerender_label),
                gr.update(interactive=live),
                gr.update(interactive=st.failed > 0 and st.status != "cancelled",
                          value=tr(request, "results.retry_n", n=st.failed, credits=st.failed * retry_price)
                          if st.failed else tr(request, "results.retry_each", n=retry_price)),
                (skip if live else gr.Timer(active=False)) if tick else gr.Timer(active=live),
                credits_text(services, request) if with_badge or (tick and not live) else skip)

    view_out = [progress, gallery, shown_sig, pick, chosen, export, detail, rating, rerender_btn, cancel_btn,
                retry_btn, timer, badge]
    nothing = [gr.update()] * len(view_out)

    def batch_choices(session, user, want, request):
        """(id, label) of the user's newest batches, plus batch `want` when it is an older one of theirs."""
        gens, _ = batches.list_generations(session, user=user, limit=100)
        if want is not None and want not in {g.id for g in gens}:
            try:
                gens.append(batches.get(session, user=user, generation_id=want))
            except DomainError:
                pass  # someone else's, or gone: on_load says so
        pname = {p.id: p.name for p in products.list_products(session, user=user, limit=200)[0]}
        jname = {p.id: p.name for p in projects.list_projects(session, user=user, limit=200)[0]}
        out = []
        removed = tr(request, "results.product_removed")
        for g in gens:
            kind = tr(request, "results.kind_single" if (g.options or {}).get("mode") == "single"
                      else "results.kind_batch")
            project = f" · {jname[g.project_id]}" if g.project_id in jname else ""
            out.append((g.id, f"{g.id} · {pname.get(g.product_id, removed)} {kind} · "
                              f"{_when(g.created_at, request)}{project}"))
        return out

    def open_batch(request, show_v, want):
        try:
            found = act(services, request, lambda s, u: batch_choices(s, u, want, request))
        except Failed as exc:
            return gr.update(), None, None, err(str(exc)), *nothing
        ids = [i for i, _ in found]
        note = err(tr(request, "results.not_found", id=want)) if want is not None and want not in ids else ""
        gid = want if want in ids else (ids[0] if ids else None)
        listing = gr.update(choices=[lab for _, lab in found], value=next((lab for i, lab in found if i == gid), None))
        try:
            out = view(request, gid, show_v, None, "", [], force=True, new_sel=True)
        except Failed as exc:
            return listing, gid, None, err(str(exc)), *nothing
        return listing, gid, None, note, *out

    def on_load(request: gr.Request, show_v):  # ?generation=ID (the Generate page's link), else the newest
        return open_batch(request, show_v, wanted_generation(request))

    def on_refresh(request: gr.Request, show_v, gid):  # the same batch, with the list brought up to date
        return open_batch(request, show_v, gid)

    demo.load(on_load, inputs=show, outputs=[batch, current, selected, message, *view_out])
    reload_btn.click(on_refresh, inputs=[show, current], outputs=[batch, current, selected, message, *view_out])

    def guarded(fn):
        """Run a handler; a domain error becomes the inline message and nothing else changes. (wraps keeps
        the signature, so Gradio still passes gr.Request / gr.EventData.)"""
        @functools.wraps(fn)
        def run(*args):
            try:
                return fn(*args)
            except Failed as exc:
                return err(str(exc)), *[gr.update()] * (len(view_out) + 1)
        return run

    @guarded
    def on_batch(request: gr.Request, choice, show_v):
        gid = choice_id(choice)
        return "", None, *view(request, gid, show_v, None, "", [], force=True, new_sel=True)

    batch.input(on_batch, inputs=[batch, show], outputs=[message, selected, *view_out])

    @guarded
    def on_show(request: gr.Request, gid, show_v, sel, chosen_v):
        return "", sel, *view(request, gid, show_v, sel, "", chosen_v, force=True)

    show.input(on_show, inputs=[current, show, selected, chosen], outputs=[message, selected, *view_out])

    @guarded
    def on_tile(request: gr.Request, evt: gr.EventData, gid, show_v, chosen_v):
        sel = _int(getattr(evt, "result_id", None))
        return "", sel, *view(request, gid, show_v, sel, "", chosen_v, force=True, new_sel=True)

    gallery.click(on_tile, inputs=[current, show, chosen], outputs=[message, selected, *view_out])

    @guarded
    def on_pick(request: gr.Request, choice, gid, show_v, chosen_v):
        sel = choice_id(choice)
        return "", sel, *view(request, gid, show_v, sel, "", chosen_v, force=True, new_sel=True)

    pick.input(on_pick, inputs=[pick, current, show, chosen], outputs=[message, selected, *view_out])

    def on_tick(request: gr.Request, gid, show_v, sel, sig, chosen_v):
        try:
            return view(request, gid, show_v, sel, sig, chosen_v, tick=True)
        except Failed as exc:  # e.g. the batch was deleted: stop polling, say why
            return err(str(exc)), *nothing[1:-2], gr.Timer(active=False), gr.update()

    timer.tick(on_tick, inputs=[current, show, selected, shown_sig, chosen], outputs=view_out,
               show_progress="hidden", concurrency_limit=None)

    def on_chosen(request: gr.Request, gid, chosen_v):
        if gid is None:
            return export_html(None, 0, [], request)
        try:
            st = act(services, request, lambda s, u: batches.status(s, user=u, generation_id=gid))
        except Failed as exc:
            return err(str(exc))
        return export_html(gid, st.done, chosen_v, request)

    chosen.input(on_chosen, inputs=[current, chosen], outputs=export, show_progress="hidden")

    @guarded
    def do_cancel(request: gr.Request, gid, show_v, sel, chosen_v):
        if gid is None:
            raise Failed(tr(request, "results.pick_batch"))

        def run(s, u):
            before = batches.status(s, user=u, generation_id=gid)
            batches.cancel(s, user=u, generation_id=gid)
            after = batches.status(s, user=u, generation_id=gid)
            return after.cancelled - before.cancelled, after.credits_refunded - before.credits_refunded
        stopped, refunded = act(services, request, run)
        note = ok(tr(request, "results.cancelled", id=gid, n=stopped, credits=refunded))
        return note, sel, *view(request, gid, show_v, sel, "", chosen_v, force=True, with_badge=True)

    cancel_btn.click(do_cancel, inputs=[current, show, selected, chosen], outputs=[message, selected, *view_out])

    @guarded
    def do_retry(request: gr.Request, gid, show_v, sel, chosen_v):
        if gid is None:
            raise Failed(tr(request, "results.pick_batch"))
        n = act(services, request, lambda s, u: batches.retry_failed(
            s, user=u, generation_id=gid, settings=services.settings, runner=services.runner))
        note = ok(tr(request, "results.retrying", n=n, credits=n * retry_price))
        return note, sel, *view(request, gid, show_v, sel, "", chosen_v, force=True, with_badge=True)

    retry_btn.click(do_retry, inputs=[current, show, selected, chosen], outputs=[message, selected, *view_out])

    @guarded
    def do_rerender(request: gr.Request, gid, show_v, sel, chosen_v):
        if sel is None:
            raise Failed(tr(request, "results.click_image"))
        pose = act(services, request, lambda s, u: batches.rerender(
            s, user=u, pose_id=sel, settings=services.settings, runner=services.runner))
        note = ok(tr(request, "results.rerendering", seed=pose.seed, n=pose.position + 1))
        return note, sel, *view(request, gid, show_v, sel, "", chosen_v, force=True, with_badge=True)

    rerender_btn.click(do_rerender, inputs=[current, show, selected, chosen], outputs=[message, selected, *view_out])

    @guarded
    def do_rate(request: gr.Request, stars, gid, show_v, sel, chosen_v):
        if sel is None:
            raise Failed(tr(request, "results.click_image"))
        value = _int(stars)
        act(services, request, lambda s, u: batches.rate(s, user=u, pose_id=sel, rating=value))
        note = ok(tr(request, "results.rated", stars="★" * value if value else tr(request, "results.no_stars")))
        return note, sel, *view(request, gid, show_v, sel, "", chosen_v, force=True)

    rating.input(do_rate, inputs=[rating, current, show, selected, chosen], outputs=[message, selected, *view_out])
    wire_send_to_poster(services, to_poster, chosen=chosen, selected=selected, message=message)
