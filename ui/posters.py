"""Posters page: finished photos -> brand-kit posters at the platforms' exact sizes.

Opened with the photos to use (/posters?results=12,13: the Results page's "Send to poster"), or pick them from
your recent batches. Pick formats (pixel sizes shown) and layouts (small previews drawn with your first photo and
kit), the brand kit (default: each photo's batch kit) and the text; the price shows before anything is made (3
credits a poster, at most 60 a request). "Make posters" draws them all with a progress bar, all or nothing; the
gallery then shows them selected, ready for the ZIP export (a link to the REST route, which the browser's session
cookie opens) or deletion. Images come from our owner-checked /api/files route, never Gradio's shared cache; the
layout previews are small JPEGs sent inline to the one visitor.

The Results page's "Send to poster" button is built here too (send_to_poster_button + wire_send_to_poster)."""
from __future__ import annotations

import base64
from urllib.parse import parse_qs, urlparse

import gradio as gr

from core.generation import batches
from core.catalog import brand_kits
from core.accounts import credits
from core.posters import service
from core.generation.state import APP
from core.posters.service import PosterRequest
from core.posters import FORMATS, LAYOUTS, PosterText
from ui.common import Failed, act, choice_id, credits_text, err, header, ok
from ui.i18n import t, tr
from ui.poster_cards import (CSS, PICK_JS, cost_html, export_html, gallery_html, layout_cards, photo_entry,
                             poster_entry, recent_grid, strip_html)

EACH_KIT = "batch"  # the brand-kit choice "each photo's own kit"
PRICE = credits.cost(APP, "exportToPoster")
LIMIT = service.MAX_POSTERS_PER_REQUEST
MAX_PHOTOS = service.MAX_RESULTS_PER_REQUEST
RECENT = 200  # finished photos offered in the picker
SHOWN = 60  # posters in the gallery
DEFAULT_FORMATS, DEFAULT_LAYOUTS = ["instagram-post"], ["clean-frame"]
QUIET = {"show_progress": "hidden", "concurrency_limit": None}  # cheap view updates: never queued behind others
DRAWING = {"show_progress": "hidden", "concurrency_limit": 4}  # layout previews: five small renders each


def _ids(values) -> list[int]:
    return [i for i in (choice_id(v) for v in values or []) if i is not None]


def wanted_results(request: gr.Request | None) -> list[int]:
    """?results=12,13 of the page (Gradio passes the page's query string with each event; the referer is the
    fallback)."""
    raw = None
    try:
        raw = dict(request.query_params).get("results")
    except Exception:  # noqa: BLE001 - no request, or no query string
        raw = None
    if raw is None and request is not None:
        try:
            referer = dict(request.headers).get("referer") or ""
            raw = (parse_qs(urlparse(referer).query).get("results") or [None])[0]
        except Exception:  # noqa: BLE001
            raw = None
    out: list[int] = []
    for part in (raw or "").split(","):
        part = part.strip()
        if part.isdigit() and int(part) not in out:
            out.append(int(part))
    return out


def _text(value) -> str | None:
    return (value or "").strip() or None


def _in_order(chosen, allowed) -> list[str]:
    """The chosen keys in the order the page lists them."""
    return [k for k in allowed if k in (chosen or [])]


def build(services, demo: gr.Blocks) -> None:
    badge = header(services, demo, "posters.header")
    with gr.Row(equal_height=False, elem_classes="post-top"):
        with gr.Column(scale=3):
            gr.Markdown(t("posters.step_photos"))
            strip = gr.HTML(f"<div class='apg-empty'>{t('posters.no_photos')}</div>", elem_id="post-photos",
                            css_template=CSS, js_on_load=PICK_JS)
            photos = gr.Dropdown(label=t("posters.photos"), info=t("posters.photos_info"), choices=[], value=[],
                                 multiselect=True, max_choices=MAX_PHOTOS, elem_id="post-results")
            with gr.Accordion(t("posters.recent"), open=False, elem_id="post-recent-box") as recent_box:
                recent = gr.HTML(elem_id="post-recent", css_template=CSS, js_on_load=PICK_JS)
            gr.Markdown(t("posters.step_formats"))
            formats = gr.CheckboxGroup([(t(f"posters.format.{k}") + f" · {f.width}×{f.height}", k)
                                        for k, f in FORMATS.items()], value=DEFAULT_FORMATS,
                                       label=t("posters.formats"), info=t("posters.formats_info"),
                                       elem_id="post-formats")
            gr.Markdown(t("posters.step_layouts"))
            layouts = gr.CheckboxGroup([(t(f"posters.layout.{k}"), k) for k in LAYOUTS], value=DEFAULT_LAYOUTS,
                                       label=t("posters.layouts"), info=t("posters.layouts_info"),
                                       elem_id="post-layouts")
            cards = gr.HTML(elem_id="post-layout-previews", css_template=CSS, js_on_load=PICK_JS)
        with gr.Column(scale=2, elem_classes="post-side"):
            gr.Markdown(t("posters.step_text"))
            kit = gr.Dropdown(label=t("posters.kit"), choices=[(t("posters.kit_each"), EACH_KIT)], value=EACH_KIT,
                              elem_id="post-kit")
            name = gr.Textbox(label=t("posters.name"), info=t("posters.name_info"), max_lines=1, max_length=80,
                              placeholder=t("posters.name_placeholder"), elem_id="post-name")
            price = gr.Textbox(label=t("posters.price"), max_lines=1, max_length=40,
                               placeholder=t("posters.price_placeholder"), elem_id="post-price")
            cta = gr.Textbox(label=t("posters.cta"), max_lines=1, max_length=80,
                             placeholder=t("posters.cta_placeholder"), elem_id="post-cta")
            cost = gr.HTML(f"<div class='apg-cost' id='post-cost-text' data-n='0'>{t('posters.cost_pick')}</div>",
                           elem_id="post-cost")
            make = gr.Button(t("posters.make"), variant="primary", interactive=False, elem_id="post-make")
            message = gr.HTML(elem_id="post-message")
    gr.Markdown(t("posters.yours"))
    with gr.Row(equal_height=False, elem_classes="apg-actions post-toolbar"):
        select_all = gr.Button(t("posters.select_all"), size="sm", elem_id="post-select-all", scale=0, min_width=120)
        select_none = gr.Button(t("posters.select_none"), size="sm", elem_id="post-select-none", scale=0,
                                min_width=140)
        delete = gr.Button(t("posters.delete"), size="sm", variant="stop", elem_id="post-delete", scale=0,
                           min_width=150)
        export = gr.HTML(f"<div class='apg-meta' id='post-export-none'>{t('posters.export_none')}</div>",
                         elem_id="post-export")
    gallery = gr.HTML(f"<div class='apg-empty'>{t('posters.none_yet')}</div>", elem_id="post-gallery",
                      css_template=CSS, js_on_load=PICK_JS)
    selection = gr.Dropdown(label=t("posters.selected"), info=t("posters.selected_info"), choices=[], value=[],
                            multiselect=True, elem_id="post-select")
    catalog = gr.State({})  # photo id (str) -> {"label", "title", "thumb"}
    made = gr.State({"items": [], "total": 0})  # the gallery's posters: items [{"id", "label", ...}], total
    fresh = gr.State([])    # ids of the posters the last request made (marked "new")
    shots = gr.State({})    # layout -> preview data URI, and "note"

    # --- photos ---------------------------------------------------------------------------------------------
    def photo_views(request: gr.Request, photos_v, catalog_v):
        chosen = [str(i) for i in _ids(photos_v)]
        return strip_html(request, chosen, catalog_v), recent_grid(request, chosen, catalog_v)

    def priced(request: gr.Request, photos_v, formats_v, layouts_v):
        n = len(_ids(photos_v)) * len(formats_v or []) * len(layouts_v or [])
        return (cost_html(request, len(_ids(photos_v)), len(formats_v or []), len(layouts_v or []), PRICE, LIMIT),
                gr.update(interactive=0 < n <= LIMIT))

    def draw(request: gr.Request, photos_v, kit_v, formats_v, layouts_v, name_v, price_v, cta_v):
        ids = _ids(photos_v)
        fmt = (_in_order(formats_v, FORMATS) or DEFAULT_FORMATS)[0]
        first = ids[0] if ids else None
        text = PosterText(_text(name_v), _text(price_v), _text(cta_v))
        if first is None:  # the sample model shows every field: examples where none is typed
            text = PosterText(text.product_name or "Kemeja batik", text.price or "Rp 89.000",
                              text.cta or "Beli sekarang!")
        fmt_name = tr(request, f"posters.format.{fmt}")
        try:
            images = act(services, request, lambda s, u: service.previews(
                s, user=u, store=services.store, result_id=first, brand_kit_id=choice_id(kit_v), text=text,
                format=fmt, layouts=list(LAYOUTS)), write=False)
        except Failed as exc:
            cache = {"note": tr(request, "posters.preview_failed", reason=str(exc))}
        else:
            cache = {k: "data:image/jpeg;base64," + base64.b64encode(v).decode() for k, v in images.items()}
            cache["note"] = (tr(request, "posters.preview_with_photo", id=first, format=fmt_name) if first
                             else tr(request, "posters.preview_sample", format=fmt_name))
        return cache, layout_cards(request, layouts_v, cache)

    def on_load(request: gr.Request):
        wanted = wanted_results(request)

        def run(s, u):
            found = service.finished_photos(s, user=u, limit=RECENT)
            known = {p.id for p in found}
            if [i for i in wanted if i not in known]:
                found += service.finished_photos(s, user=u, ids=[i for i in wanted if i not in known])
            kits, _ = brand_kits.list_kits(s, user=u, limit=200)
            rows, total = service.list_posters(s, user=u, limit=SHOWN)
            return found, kits, rows, total
        try:
            found, kits, rows, total = act(services, request, run, write=False)
        except Failed as exc:
            return err(str(exc)), *[gr.update()] * 9
        cat = {str(p.id): photo_entry(request, p) for p in found}
        picked = [i for i in wanted if str(i) in cat]
        notes = []
        if missing := [i for i in wanted if str(i) not in cat]:
            notes.append(tr(request, "posters.not_found", ids=", ".join(f"#{i}" for i in missing)))
        if len(picked) > MAX_PHOTOS:
            notes.append(tr(request, "posters.too_many_photos", limit=MAX_PHOTOS))
            picked = picked[:MAX_PHOTOS]
        entries = [poster_entry(request, r) for r in rows]
        return (err(" ".join(notes)) if notes else "", cat,
                gr.update(choices=[c["label"] for c in cat.values()], value=[cat[str(i)]["label"] for i in picked]),
                gr.update(open=not picked),
                gr.update(choices=[(tr(request, "posters.kit_each"), EACH_KIT)]
                          + [f"{k.id} · {k.brand_name}" for k in kits], value=EACH_KIT),
                {"items": entries, "total": total}, [], gallery_html(request, entries, [], [], total),
                gr.update(choices=[e["label"] for e in entries], value=[]), export_html(request, []))

    photo_out = [strip, recent]
    price_in, price_out = [photos, formats, layouts], [cost, make]
    draw_in = [photos, kit, formats, layouts, name, price, cta]
    (demo.load(on_load, outputs=[message, catalog, photos, recent_box, kit, made, fresh, gallery, selection, export])
     .then(photo_views, inputs=[photos, catalog], outputs=photo_out, **QUIET)
     .then(priced, inputs=price_in, outputs=price_out, **QUIET)
     .then(draw, inputs=draw_in, outputs=[shots, cards], **DRAWING))

    def after_photos(event):
        """The chosen photos changed: their strip, the recent grid, the price and the previews follow."""
        (event.then(photo_views, inputs=[photos, catalog], outputs=photo_out, **QUIET)
         .then(priced, inputs=price_in, outputs=price_out, **QUIET)
         .then(draw, inputs=draw_in, outputs=[shots, cards], **DRAWING))

    def toggle_photo(request: gr.Request, evt: gr.EventData, photos_v, catalog_v):
        key = str(getattr(evt, "pick", "") or "")
        if key not in catalog_v:
            return gr.update()
        label = catalog_v[key]["label"]
        chosen = list(photos_v or [])
        if label in chosen:
            chosen.remove(label)
        elif len(chosen) < MAX_PHOTOS:
            chosen.append(label)
        return chosen

    (photos.input(photo_views, inputs=[photos, catalog], outputs=photo_out, **QUIET)
     .then(priced, inputs=price_in, outputs=price_out, **QUIET)
     .then(draw, inputs=draw_in, outputs=[shots, cards], **DRAWING))
    after_photos(strip.click(toggle_photo, inputs=[photos, catalog], outputs=photos, **QUIET))
    after_photos(recent.click(toggle_photo, inputs=[photos, catalog], outputs=photos, **QUIET))

    # --- formats, layouts, kit, text ------------------------------------------------------------------------
    formats.input(priced, inputs=price_in, outputs=price_out, **QUIET).then(
        draw, inputs=draw_in, outputs=[shots, cards], **DRAWING)

    def toggle_layout(evt: gr.EventData, layouts_v):
        key = str(getattr(evt, "pick", "") or "")
        if key not in LAYOUTS:
            return gr.update()
        chosen = set(layouts_v or [])
        chosen ^= {key}
        return _in_order(chosen, LAYOUTS)

    cards.click(toggle_layout, inputs=layouts, outputs=layouts, **QUIET)

    def show_layouts(request: gr.Request, layouts_v, cache):
        return layout_cards(request, layouts_v, cache) if cache else gr.update()

    layouts.change(show_layouts, inputs=[layouts, shots], outputs=cards, **QUIET).then(
        priced, inputs=price_in, outputs=price_out, **QUIET)
    kit.input(draw, inputs=draw_in, outputs=[shots, cards], **DRAWING)
    for box in (name, price, cta):
        box.blur(draw, inputs=draw_in, outputs=[shots, cards], **DRAWING)
        box.submit(draw, inputs=draw_in, outputs=[shots, cards], **DRAWING)

    # --- make -----------------------------------------------------------------------------------------------
    def do_make(request: gr.Request, photos_v, formats_v, layouts_v, kit_v, name_v, price_v, cta_v,
                progress=gr.Progress()):
        skip = [gr.update()] * 6
        ids, fmts, lays = _ids(photos_v), _in_order(formats_v, FORMATS), _in_order(layouts_v, LAYOUTS)
        for missing, key in ((ids, "posters.need_photo"), (fmts, "posters.need_format"),
                             (lays, "posters.need_layout")):
            if not missing:
                return err(tr(request, key)), *skip
        n = len(ids) * len(fmts) * len(lays)
        if n > LIMIT:
            return err(tr(request, "posters.too_many", n=n, limit=LIMIT)), *skip
        progress((0, n), desc=tr(request, "posters.progress", done=0, total=n))

        def step(done, total):
            progress((done, total), desc=tr(request, "posters.progress", done=done, total=total))

        def run(s, u):
            req = PosterRequest(result_ids=ids, formats=fmts, layouts=lays, brand_kit_id=choice_id(kit_v),
                                product_name=_text(name_v), price=_text(price_v), cta=_text(cta_v))
            new = service.create_posters(s, user=u, request=req, store=services.store, progress=step)
            rows, total = service.list_posters(s, user=u, limit=SHOWN)
            return [p.id for p in new], rows, total
        try:
            new_ids, rows, total = act(services, request, run)
        except Failed as exc:
            return err(str(exc)), *skip
        entries = [poster_entry(request, r) for r in rows]
        picked = [e["label"] for e in entries if e["id"] in new_ids]
        note = (tr(request, "posters.made_one", credits=PRICE) if n == 1
                else tr(request, "posters.made", n=n, credits=n * PRICE))
        return (ok(note), {"items": entries, "total": total}, new_ids,
                gr.update(choices=[e["label"] for e in entries], value=picked),
                gallery_html(request, entries, [e["id"] for e in entries if e["id"] in new_ids], new_ids, total),
                credits_text(services, request))

    # the progress ("14/18 · 3.2s" and its bar) is drawn over the gallery the posters fill, not over every
    # output: on the small message and badge boxes its text ran over the bar (issue 16)
    make.click(do_make, inputs=[photos, formats, layouts, kit, name, price, cta],
               outputs=[message, made, fresh, selection, gallery, badge], concurrency_limit=2,
               show_progress_on=[gallery])

    # --- your posters: select, export, delete ---------------------------------------------------------------
    def show_selection(request: gr.Request, selection_v, made_v, fresh_v):
        ids = _ids(selection_v)
        return gallery_html(request, made_v["items"], ids, fresh_v, made_v["total"]), export_html(request, ids)

    selection.change(show_selection, inputs=[selection, made, fresh], outputs=[gallery, export], **QUIET)

    def toggle_poster(evt: gr.EventData, selection_v, made_v):
        key = str(getattr(evt, "pick", "") or "")
        entry = next((e for e in made_v["items"] if str(e["id"]) == key), None)
        if entry is None:
            return gr.update()
        chosen = list(selection_v or [])
        if entry["label"] in chosen:
            chosen.remove(entry["label"])
        else:
            chosen.append(entry["label"])
        return chosen

    gallery.click(toggle_poster, inputs=[selection, made], outputs=selection, **QUIET)
    select_all.click(lambda made_v: [e["label"] for e in made_v["items"]], inputs=made, outputs=selection,
                     **QUIET)
    select_none.click(lambda: [], outputs=selection, **QUIET)

    def do_delete(request: gr.Request, selection_v, fresh_v):
        ids = _ids(selection_v)
        if not ids:
            return err(tr(request, "posters.delete_none")), *[gr.update()] * 4

        def run(s, u):
            for pid in ids:
                service.delete_poster(s, user=u, poster_id=pid, store=services.store)
            return service.list_posters(s, user=u, limit=SHOWN)
        try:
            rows, total = act(services, request, run)
        except Failed as exc:
            return err(str(exc)), *[gr.update()] * 4
        entries = [poster_entry(request, r) for r in rows]
        return (ok(tr(request, "posters.deleted", n=len(ids))), {"items": entries, "total": total},
                gr.update(choices=[e["label"] for e in entries], value=[]),
                gallery_html(request, entries, [], fresh_v, total), export_html(request, []))

    delete.click(do_delete, inputs=[selection, fresh], outputs=[message, made, selection, gallery, export])


# --- the Results page's "Send to poster" ----------------------------------------------------------------------

def send_to_poster_button() -> gr.Button:
    """The button, placed where it is called (the Results page, under the export links)."""
    return gr.Button(t("posters.send"), elem_id="res-to-poster", size="md")


def wire_send_to_poster(services, button: gr.Button, *, chosen, selected, message) -> None:
    """A click opens /posters?results=<the selected finished images, else the image whose detail is shown>.
    chosen: the Results page's multiselect of finished images ("<id> · ..."); selected: the detail's result id."""
    target = gr.Textbox(visible=False, elem_id="res-to-poster-url")

    def go(request: gr.Request, chosen_v, sel):
        ids = _ids(chosen_v)
        if not ids and sel is not None:
            try:
                pose = act(services, request, lambda s, u: batches.get_pose(s, user=u, pose_id=int(sel)), write=False)
            except Failed as exc:
                return err(str(exc)), ""
            if pose.status != "done":
                return err(tr(request, "posters.send_unfinished")), ""
            ids = [pose.id]
        if not ids:
            return err(tr(request, "posters.send_none")), ""
        return gr.update(), "/posters?results=" + ",".join(map(str, ids[:MAX_PHOTOS]))

    button.click(go, inputs=[chosen, selected], outputs=[message, target], **QUIET).then(
        None, inputs=target, js="(url) => { if (url) { window.location.href = url; } return []; }")
