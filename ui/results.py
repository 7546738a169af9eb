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

from core import batches, credits, products
from core import pose_library as lib
from core.errors import DomainError
from core.generation import APP
from core.schemas import file_url
from ui.common import Failed, act, choice_id, credits_text, err, esc, header, ok

API = "/api/apps/pose-generator"
POLL_SECONDS = 1.5
ACTIVE = ("pending", "running")
FILTERS = [("All", "all"), ("Accepted", "accepted"), ("Failed", "failed")]
STATUS_KIND = {"done": "ok", "completed": "ok", "failed": "bad", "cancelled": "warn", "running": "busy",
               "pending": "info"}
STATUS_TEXT = {"pending": "waiting for a worker", "running": "rendering", "done": "done", "completed": "completed",
               "failed": "failed", "cancelled": "cancelled"}
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


def _when(dt) -> str:
    return dt.strftime("%d %b %Y %H:%M UTC") if dt else ""


def _eta(seconds: float | None) -> str:
    if seconds is None:
        return "estimating time left…"
    if seconds < 60:
        return f"about {max(1, round(seconds))} s left"
    return f"about {round(seconds / 60)} min left"


def pose_label(p, name: str) -> str:
    return f"{p.id} · #{p.position + 1} {name}"


def progress_html(st, live: bool) -> str:
    total = max(1, st.total)
    finished = st.done + st.failed + st.cancelled
    pct = round(100 * finished / total)
    bars = "".join(f"<div class='apg-bar-{cls}' style='width:{100 * n / total:.2f}%'></div>"
                   for cls, n in (("done", st.done), ("failed", st.failed), ("cancelled", st.cancelled)) if n)
    counts = [f"<b>{st.done}</b> done", f"<b>{st.failed}</b> failed"]
    if st.cancelled:
        counts.append(f"<b>{st.cancelled}</b> cancelled")
    counts.append(f"<b>{st.total}</b> total")
    if st.status in ACTIVE:
        counts.append(f"<span id='res-eta'>{esc(_eta(st.eta_seconds))}</span>")
    state = (f"<span class='apg-live' id='res-live' data-live='1'>● live · updating every {POLL_SECONDS:g} s</span>"
             if live else "<span class='apg-still' id='res-live' data-live='0'>finished · not updating</span>")
    return (f"<div class='apg-progress' id='res-progress-box' data-status='{esc(st.status)}'>"
            f"<div class='apg-progress-head'><b>Batch #{st.id}</b>"
            f"<span class='apg-status apg-status-{STATUS_KIND.get(st.status, 'info')}' id='res-status'>"
            f"{esc(STATUS_TEXT.get(st.status, st.status))}</span>"
            f"<span class='apg-pct' id='res-percent'>{pct}%</span>{state}</div>"
            f"<div class='apg-bar' role='progressbar' aria-valuemin='0' aria-valuemax='100' aria-valuenow='{pct}'>"
            f"{bars}</div>"
            f"<div class='apg-progress-lines'><span id='res-counts'>{' · '.join(counts)}</span>"
            f"<span id='res-credits-line'>Credits: <b>{st.credits_reserved}</b> reserved · "
            f"<b>{st.credits_used}</b> used · <b>{st.credits_refunded}</b> refunded</span></div></div>")


def tile_html(p, name: str, selected: bool) -> str:
    if p.status == "done":
        body = f"<img loading='lazy' alt='{esc(name)}' src='{esc(file_url(p.thumbnail_path or p.image_path))}'>"
        badge = "not checked" if p.quality_score is None else f"score {p.quality_score:.2f}"
    elif p.status in ACTIVE:
        body = f"<span class='apg-spinner'></span><span class='apg-meta'>{esc(STATUS_TEXT[p.status])}…</span>"
        badge = STATUS_TEXT[p.status]
    else:
        body = f"<span class='apg-x'>✕</span><span class='apg-meta'>{esc(p.status)}</span>"
        badge = p.status
    stars = f"<span class='apg-stars'>{'★' * p.rating}</span>" if p.rating else ""
    cls = f"apg-tile apg-result apg-result-{esc(p.status)}" + (" apg-selected" if selected else "")
    return (f"<figure class='{cls}' data-result-id='{p.id}' data-status='{esc(p.status)}' role='button' tabindex='0' "
            f"title='Click for details'><div class='apg-thumb'>{body}</div><figcaption><b>#{p.position + 1}</b> "
            f"<span class='apg-status apg-status-{STATUS_KIND.get(p.status, 'info')}'>{esc(badge)}</span> {stars}"
            f"<div class='apg-meta apg-ellipsis'>{esc(name)}</div></figcaption></figure>")


def gallery_html(rows, names: dict, selected_id: int | None, show: str, started: bool) -> str:
    if not rows:
        text = {"accepted": "No finished images yet.", "failed": "No failed poses. 🎉"}.get(
            show, "Pick a batch to see its images." if not started else "Nothing here yet.")
        return f"<div class='apg-empty' id='res-gallery'>{esc(text)}</div>"
    tiles = "".join(tile_html(p, names.get(p.template_id, "pose"), p.id == selected_id) for p in rows)
    return f"<div class='apg-gallery apg-results' id='res-gallery' data-count='{len(rows)}'>{tiles}</div>"


def detail_html(p, name: str, options: dict) -> str:
    if p is None:
        return ("<div class='apg-empty' id='res-detail-empty'>Click an image to see it large, rate it, download it "
                "or render it again.</div>")
    head = (f"<div class='apg-detail-head'><b>#{p.position + 1} · {esc(name)}</b> "
            f"<span class='apg-status apg-status-{STATUS_KIND.get(p.status, 'info')}' id='res-detail-status'>"
            f"{esc(STATUS_TEXT.get(p.status, p.status))}</span></div>")
    control = (f"<figure><div class='apg-thumb apg-big apg-skel'><img id='res-detail-control' alt='control skeleton' "
               f"src='{esc(file_url(p.control_path))}'></div><figcaption class='apg-meta'>Control skeleton"
               f"</figcaption></figure>" if p.control_path else "")
    if p.status == "done" and p.image_path:
        url = file_url(p.image_path)
        pictures = (f"<div class='apg-compare' id='res-detail-pair'><figure><div class='apg-thumb apg-big'>"
                    f"<img id='res-detail-image' alt='{esc(name)}' src='{esc(url)}'></div><figcaption class='apg-meta'>"
                    f"Result · <a href='{esc(url)}' target='_blank'>open full size</a></figcaption></figure>"
                    f"{control}</div>")
        actions = (f"<div class='apg-links'><a class='apg-go' id='res-download' "
                   f"href='{API}/results/{p.id}/download' download>⬇ Download image</a></div>")
    elif p.status in ACTIVE:
        pictures = (f"<div class='apg-empty' id='res-detail-pending'><span class='apg-spinner'></span> "
                    f"{esc(STATUS_TEXT[p.status])}…</div>")
        actions = ""
    else:
        pictures = err(p.error or f"This pose was {p.status}.").replace("role='alert'", "id='res-detail-error'") + (
            f"<div class='apg-compare'>{control}</div>" if control else "")
        actions = ""
    score = "not checked" if p.quality_score is None else f"{p.quality_score:.2f}"
    seconds = f"{p.render_seconds:.1f} s" if p.render_seconds is not None else "—"
    size = f"{options.get('width')}×{options.get('height')}" if options.get("width") else ""
    rating = "★" * p.rating + "☆" * (5 - p.rating) if p.rating else "not rated"
    facts = (f"<div class='apg-facts'><div id='res-detail-score'>Pose check: <b>{esc(score)}</b></div>"
             f"<div id='res-detail-seed'>Seed <b>{p.seed}</b> · {p.attempts} attempt(s) · {esc(seconds)}"
             f"{' · ' + esc(size) if size else ''}</div><div id='res-detail-rating'>Rating: {rating}</div></div>")
    prompt = (f"<details><summary class='apg-meta'>Prompt</summary><div class='apg-meta' id='res-detail-prompt'>"
              f"{esc(p.prompt)}</div><div class='apg-meta'><i>Negative:</i> {esc(p.negative_prompt)}</div></details>")
    return (f"<div class='apg-detail' id='res-detail-box' data-result-id='{p.id}'>"
            f"{head}{pictures}{facts}{actions}{prompt}</div>")


def export_html(generation_id: int | None, done: int, chosen: list[str] | None) -> str:
    if generation_id is None or not done:
        return "<div class='apg-meta' id='res-export-none'>Finished images can be exported as a ZIP.</div>"
    base = f"{API}/results/{generation_id}/export"
    out = [f"<a class='apg-go' id='res-export-all' href='{base}' download>⬇ Export ZIP · all {done} images</a>"]
    ids = [i for i in (choice_id(c) for c in chosen or []) if i is not None]
    if ids:
        out.append(f"<a class='apg-go' id='res-export-selected' href='{base}?ids={','.join(map(str, ids))}' download>"
                   f"⬇ Export ZIP · {len(ids)} selected</a>")
    return ("<div class='apg-links' id='res-export-links'>" + "".join(out)
            + "<span class='apg-meta'>with manifest.json: pose keypoints, seed, prompt and engine of each image"
              "</span></div>")


def build(services, demo: gr.Blocks) -> None:
    retry_price = credits.cost(APP, "retryFailedPose")
    badge = header(services, demo, "Results", "Watch your batch arrive, then rate, download and export the photos.")
    with gr.Row(equal_height=True):
        batch = gr.Dropdown(label="Batch", choices=[], value=None, elem_id="res-batch", scale=3)
        show = gr.Radio(FILTERS, value="all", label="Show", elem_id="res-filter", scale=2)
        reload_btn = gr.Button("↻ Refresh list", elem_id="res-refresh", scale=0, min_width=140)
    progress = gr.HTML(elem_id="res-progress")
    with gr.Row(elem_classes="apg-actions"):
        cancel_btn = gr.Button("Cancel batch", variant="stop", interactive=False, elem_id="res-cancel", scale=0,
                               min_width=160)
        retry_btn = gr.Button(f"Retry failed ({retry_price} credits each)", interactive=False, elem_id="res-retry",
                              scale=0, min_width=220)
    message = gr.HTML(elem_id="res-message")
    with gr.Row():
        with gr.Column(scale=3):
            gallery = gr.HTML(elem_id="res-gallery-box", js_on_load=TILE_CLICK_JS)
            chosen = gr.Dropdown(label="Images to export (none picked: all finished images)", choices=[], value=[],
                                 multiselect=True, elem_id="res-select")
            export = gr.HTML(elem_id="res-export")
        with gr.Column(scale=2, elem_classes="apg-detail-col"):
            pick = gr.Dropdown(label="Image", choices=[], value=None, elem_id="res-pick")
            detail = gr.HTML(detail_html(None, "", {}), elem_id="res-detail")
            rating = gr.Radio(["1", "2", "3", "4", "5"], value=None, label="Your rating (stars)", interactive=False,
                              elem_id="res-rating")
            rerender_btn = gr.Button("Re-render with a new seed (10 credits)", interactive=False,
                                     elem_id="res-rerender")
    current = gr.State(None)   # the batch shown
    selected = gr.State(None)  # the result whose detail is shown
    shown_sig = gr.State("")   # what the gallery shows now: it is only sent again when that changes
    timer = gr.Timer(POLL_SECONDS, active=False)

    def snapshot(session, user, gid):
        st = batches.status(session, user=user, generation_id=gid)
        g = batches.get(session, user=user, generation_id=gid)
        rows, _ = batches.results(session, user=user, generation_id=gid, show="all", limit=500)
        names = {}
        for tid in {p.template_id for p in rows if p.template_id is not None}:
            try:
                names[tid] = lib.get(session, user=user, template_id=tid).name
            except DomainError:
                names[tid] = f"pose {tid}"
        return st, dict(g.options or {}), rows, names

    def view(request, gid, show_v, sel, sig, chosen_v, *, force=False, new_sel=False, with_badge=False, tick=False):
        """Every output of the batch view: [progress, gallery, sig, pick, chosen, export, detail, rating,
        rerender, cancel, retry, timer, badge]."""
        skip = gr.update()
        if gid is None:
            return ("<div class='apg-empty' id='res-progress-none'>No batch yet: start one on the "
                    "<a href='/generate'>Generate</a> page.</div>", gallery_html([], {}, None, show_v, False), "",
                    gr.update(choices=[], value=None), gr.update(choices=[], value=[]), export_html(None, 0, []),
                    detail_html(None, "", {}), gr.update(value=None, interactive=False),
                    gr.update(interactive=False), gr.update(interactive=False), gr.update(interactive=False),
                    gr.Timer(active=False), skip)
        st, options, rows, names = act(services, request, lambda s, u: snapshot(s, u, gid))
        live = st.status in ACTIVE
        wanted = batches.RESULT_FILTERS.get(show_v or "all")
        visible = [p for p in rows if wanted is None or p.status in wanted]
        pose = next((p for p in rows if p.id == sel), None)
        new_sig = hashlib.sha1(repr((gid, show_v, sel, [(p.id, p.status, p.rating, p.image_path, p.error)
                                                          for p in rows])).encode()).hexdigest()
        changed = force or new_sig != sig
        done = [p for p in rows if p.status == "done"]
        labels = [pose_label(p, names.get(p.template_id, "pose")) for p in rows]
        done_labels = [pose_label(p, names.get(p.template_id, "pose")) for p in done]
        keep = [c for c in chosen_v or [] if c in done_labels]
        name = names.get(pose.template_id, "pose") if pose else ""
        can_rerender = pose is not None and pose.status in ("done", "failed") and st.status != "cancelled"
        return (progress_html(st, live),
                gallery_html(visible, names, sel, show_v, True) if changed else skip,
                new_sig,
                gr.update(choices=labels, value=pose_label(pose, name) if pose else None) if changed else skip,
                gr.update(choices=done_labels, value=keep) if changed else skip,
                export_html(gid, len(done), keep),
                detail_html(pose, name, options) if changed else skip,
                gr.update(value=str(pose.rating) if pose and pose.rating else None,
                          interactive=bool(pose and pose.status == "done")) if new_sel
                else gr.update(interactive=bool(pose and pose.status == "done")),
                gr.update(interactive=can_rerender),
                gr.update(interactive=live),
                gr.update(interactive=st.failed > 0 and st.status != "cancelled",
                          value=f"Retry {st.failed} failed ({st.failed * retry_price} credits)" if st.failed
                          else f"Retry failed ({retry_price} credits each)"),
                (skip if live else gr.Timer(active=False)) if tick else gr.Timer(active=live),
                credits_text(services, request) if with_badge or (tick and not live) else skip)

    view_out = [progress, gallery, shown_sig, pick, chosen, export, detail, rating, rerender_btn, cancel_btn,
                retry_btn, timer, badge]
    nothing = [gr.update()] * len(view_out)

    def batch_choices(session, user, want):
        """(id, label) of the user's newest batches, plus batch `want` when it is an older one of theirs."""
        gens, _ = batches.list_generations(session, user=user, limit=100)
        if want is not None and want not in {g.id for g in gens}:
            try:
                gens.append(batches.get(session, user=user, generation_id=want))
            except DomainError:
                pass  # someone else's, or gone: on_load says so
        pname = {p.id: p.name for p in products.list_products(session, user=user, limit=200)[0]}
        jname = {p.id: p.name for p in batches.list_projects(session, user=user, limit=200)[0]}
        out = []
        for g in gens:
            kind = "try one pose" if (g.options or {}).get("mode") == "single" else "batch"
            project = f" · {jname[g.project_id]}" if g.project_id in jname else ""
            out.append((g.id, f"{g.id} · {pname.get(g.product_id, 'product removed')} {kind} · "
                              f"{_when(g.created_at)}{project}"))
        return out

    def open_batch(request, show_v, want):
        try:
            found = act(services, request, lambda s, u: batch_choices(s, u, want))
        except Failed as exc:
            return gr.update(), None, None, err(str(exc)), *nothing
        ids = [i for i, _ in found]
        note = err(f"Batch #{want} was not found among your batches.") if want is not None and want not in ids else ""
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
            return export_html(None, 0, [])
        try:
            st = act(services, request, lambda s, u: batches.status(s, user=u, generation_id=gid))
        except Failed as exc:
            return err(str(exc))
        return export_html(gid, st.done, chosen_v)

    chosen.input(on_chosen, inputs=[current, chosen], outputs=export, show_progress="hidden")

    @guarded
    def do_cancel(request: gr.Request, gid, show_v, sel, chosen_v):
        if gid is None:
            raise Failed("Pick a batch first.")

        def run(s, u):
            before = batches.status(s, user=u, generation_id=gid)
            batches.cancel(s, user=u, generation_id=gid)
            after = batches.status(s, user=u, generation_id=gid)
            return after.cancelled - before.cancelled, after.credits_refunded - before.credits_refunded
        stopped, refunded = act(services, request, run)
        note = ok(f"Cancelled batch #{gid}: {stopped} unfinished pose(s) stopped, {refunded} credits refunded. "
                  "Finished images stay.")
        return note, sel, *view(request, gid, show_v, sel, "", chosen_v, force=True, with_badge=True)

    cancel_btn.click(do_cancel, inputs=[current, show, selected, chosen], outputs=[message, selected, *view_out])

    @guarded
    def do_retry(request: gr.Request, gid, show_v, sel, chosen_v):
        if gid is None:
            raise Failed("Pick a batch first.")
        n = act(services, request, lambda s, u: batches.retry_failed(
            s, user=u, generation_id=gid, settings=services.settings, runner=services.runner))
        note = ok(f"Retrying {n} failed pose(s) with new seeds ({n * retry_price} credits).")
        return note, sel, *view(request, gid, show_v, sel, "", chosen_v, force=True, with_badge=True)

    retry_btn.click(do_retry, inputs=[current, show, selected, chosen], outputs=[message, selected, *view_out])

    @guarded
    def do_rerender(request: gr.Request, gid, show_v, sel, chosen_v):
        if sel is None:
            raise Failed("Click an image first.")
        pose = act(services, request, lambda s, u: batches.rerender(
            s, user=u, pose_id=sel, settings=services.settings, runner=services.runner))
        note = ok(f"Rendering it again with seed {pose.seed}: it arrives as image #{pose.position + 1}.")
        return note, sel, *view(request, gid, show_v, sel, "", chosen_v, force=True, with_badge=True)

    rerender_btn.click(do_rerender, inputs=[current, show, selected, chosen], outputs=[message, selected, *view_out])

    @guarded
    def do_rate(request: gr.Request, stars, gid, show_v, sel, chosen_v):
        if sel is None:
            raise Failed("Click an image first.")
        value = _int(stars)
        act(services, request, lambda s, u: batches.rate(s, user=u, pose_id=sel, rating=value))
        note = ok(f"Rated {'★' * value if value else 'no stars'}.")
        return note, sel, *view(request, gid, show_v, sel, "", chosen_v, force=True)

    rating.input(do_rate, inputs=[rating, current, show, selected, chosen], outputs=[message, selected, *view_out])
