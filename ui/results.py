"""Results page: watch a batch arrive, then rate, download, re-render and export its images.

Pick a batch (?generation=ID from the Generate page, else the newest). A progress bar shows done / failed /
total, the ETA and the credits; a gr.Timer polls core.generation.batches while the batch is pending or running and
switches itself off when it is finished or cancelled. The gallery is HTML whose images come from our
owner-checked file route (never Gradio's shared cache); click an image for its detail: big image, control
skeleton, pose-check score, prompt, seed, attempts, time (or its error), a 1-5 rating, download, and
re-render with a new seed. Cancel, retry the failed poses, and export all or some images as a ZIP with a
manifest: download and export are links to the REST routes, which the browser's session cookie opens."""
from __future__ import annotations

import functools
import hashlib

import gradio as gr

from core.accounts import credits
from core.generation import batches, planning, projects
from core.generation import state as generation_state
from core.catalog import products
from core.library import templates as lib
from core.errors import DomainError
from core.generation.state import APP
from ui.common import Failed, act, choice_id, credits_text, err, esc, header, ok
from ui.i18n import t, tr
from ui.posters import send_to_poster_button, wire_send_to_poster
from ui.results_view import (ACTIVE, FILTERS, POLL_SECONDS, TILE_CLICK_JS, int_or_none, when_text, detail_html, export_html,
                              gallery_html, pose_label, progress_html, wanted_generation)



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
    with gr.Row(visible=False, elem_id="res-cancel-confirm", elem_classes="apg-actions") as confirm_row:
        confirm_text = gr.HTML(elem_id="res-cancel-question")
        confirm_yes = gr.Button(t("results.cancel_yes"), variant="stop", elem_id="res-cancel-yes", scale=0,
                                min_width=160)
        confirm_no = gr.Button(t("results.cancel_no"), elem_id="res-cancel-no", scale=0, min_width=140)
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
            rating_note = gr.HTML(elem_id="res-rating-note")   # "Rated ★★★" right under the stars
            rerender_btn = gr.Button(t("results.rerender"), interactive=False, elem_id="res-rerender")
    current = gr.State(None)   # the batch shown
    selected = gr.State(None)  # the result whose detail is shown
    shown_sig = gr.State("")   # what the gallery shows now: it is only sent again when that changes
    timer = gr.Timer(POLL_SECONDS, active=False)

    def snapshot(session, user, gid, request):
        st = batches.status(session, user=user, generation_id=gid, settings=services.settings)
        g = generation_state.get(session, user=user, generation_id=gid)
        rows, _ = batches.results(session, user=user, generation_id=gid, show="all", limit=500)
        names = {}
        for tid in {p.template_id for p in rows if p.template_id is not None}:
            try:
                names[tid] = lib.get(session, user=user, template_id=tid).name
            except DomainError:
                names[tid] = tr(request, "results.pose_n", id=tid)
        blocked = planning.retry_blocked([p for p in rows if p.status == "failed"], services.settings)
        return st, dict(g.options or {}), rows, names, blocked

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
        st, options, rows, names, blocked = act(services, request, lambda s, u: snapshot(s, u, gid, request),
                                                write=False)
        live = st.status in ACTIVE
        visible = [p for p in rows if batches.shows(show_v or "all", p)]
        pose = next((p for p in rows if p.id == sel), None)
        new_sig = hashlib.sha1(repr((gid, show_v, sel, [(p.id, p.status, p.rating, p.image_path, p.error,
                                                           p.failure_kind) for p in rows])).encode()).hexdigest()
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
                retry_update(request, st, blocked),
                (skip if live else gr.Timer(active=False)) if tick else gr.Timer(active=live),
                credits_text(services, request) if with_badge or (tick and not live) else skip)

    def retry_update(request, st, blocked):
        """Retry failed: offered for pose failures; poses the server could not render wait for the model, and
        the button says so."""
        n = st.failed - (st.infrastructure_failed if blocked else 0)
        if blocked and not n:
            return gr.update(interactive=False, value=tr(request, "results.retry_blocked"))
        return gr.update(interactive=n > 0 and st.status != "cancelled",
                         value=tr(request, "results.retry_n", n=n, credits=n * retry_price)
                         if n else tr(request, "results.retry_each", n=retry_price))

    view_out = [progress, gallery, shown_sig, pick, chosen, export, detail, rating, rerender_btn, cancel_btn,
                retry_btn, timer, badge]
    nothing = [gr.update()] * len(view_out)

    def batch_choices(session, user, want, request):
        """(id, label) of the user's newest batches, plus batch `want` when it is an older one of theirs."""
        gens, _ = batches.list_generations(session, user=user, limit=100)
        if want is not None and want not in {g.id for g in gens}:
            try:
                gens.append(generation_state.get(session, user=user, generation_id=want))
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
                              f"{when_text(g.created_at, request)}{project}"))
        return out

    def open_batch(request, show_v, want):
        try:
            found = act(services, request, lambda s, u: batch_choices(s, u, want, request), write=False)
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
        sel = int_or_none(getattr(evt, "result_id", None))
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
            st = act(services, request, lambda s, u: batches.status(s, user=u, generation_id=gid), write=False)
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

    def ask_cancel(gid, request: gr.Request):
        """Cancelling stops work that cannot be resumed: ask first, saying what stops and what comes back."""
        if gid is None:
            return gr.update(visible=False), gr.update(), err(tr(request, "results.pick_batch"))
        try:
            st = act(services, request, lambda s, u: batches.status(s, user=u, generation_id=gid), write=False)
        except Failed as exc:
            return gr.update(visible=False), gr.update(), err(str(exc))
        left = st.pending + st.running
        question = tr(request, "results.cancel_question", id=gid, n=left, done=st.done)
        return gr.update(visible=True), f"<div class='apg-msg apg-warn'>{esc(question)}</div>", ""

    cancel_btn.click(ask_cancel, inputs=current, outputs=[confirm_row, confirm_text, message])
    confirm_no.click(lambda: gr.update(visible=False), outputs=confirm_row)
    confirm_yes.click(lambda: gr.update(visible=False), outputs=confirm_row).then(
        do_cancel, inputs=[current, show, selected, chosen], outputs=[message, selected, *view_out])

    @guarded
    def do_retry(request: gr.Request, gid, show_v, sel, chosen_v):
        if gid is None:
            raise Failed(tr(request, "results.pick_batch"))
        n = act(services, request, lambda s, u: planning.retry_failed(
            s, user=u, generation_id=gid, settings=services.settings, runner=services.runner))
        note = ok(tr(request, "results.retrying", n=n, credits=n * retry_price))
        return note, sel, *view(request, gid, show_v, sel, "", chosen_v, force=True, with_badge=True)

    retry_btn.click(do_retry, inputs=[current, show, selected, chosen], outputs=[message, selected, *view_out])

    @guarded
    def do_rerender(request: gr.Request, gid, show_v, sel, chosen_v):
        if sel is None:
            raise Failed(tr(request, "results.click_image"))
        pose = act(services, request, lambda s, u: planning.rerender(
            s, user=u, pose_id=sel, settings=services.settings, runner=services.runner))
        note = ok(tr(request, "results.rerendering", seed=pose.seed, n=pose.position + 1))
        return note, sel, *view(request, gid, show_v, sel, "", chosen_v, force=True, with_badge=True)

    rerender_btn.click(do_rerender, inputs=[current, show, selected, chosen], outputs=[message, selected, *view_out])

    @guarded
    def do_rate(request: gr.Request, stars, gid, show_v, sel, chosen_v):
        if sel is None:
            raise Failed(tr(request, "results.click_image"))
        value = int_or_none(stars)
        act(services, request, lambda s, u: batches.rate(s, user=u, pose_id=sel, rating=value))
        note = ok(f"#{sel} · " + tr(request, "results.rated",
                                     stars="★" * value if value else tr(request, "results.no_stars")))
        return note, sel, *view(request, gid, show_v, sel, "", chosen_v, force=True)

    rating.input(do_rate, inputs=[rating, current, show, selected, chosen],
                 outputs=[rating_note, selected, *view_out])
    wire_send_to_poster(services, to_poster, chosen=chosen, selected=selected, message=message)
