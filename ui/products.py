"""Products page: gallery with status badges and filters, bulk upload with a progress bar and a per-file
report, preview with and without background (cut-out on a checkerboard), metadata editor, retry of the
background removal, delete with confirmation. While removals run, a timer refreshes the gallery."""
from __future__ import annotations

from pathlib import Path

import gradio as gr

from core import system
from core.catalog import brand_kits, products
from core.catalog.products import BG_STATUSES, PLACEMENTS, PRODUCT_TYPES, ProductCreate, ProductUpdate
from core.schemas import file_url
from ui.common import (Failed, act, charging_click, new_submit_token, choice_id, choices, credits_text, downloads_html, err, esc, gallery_html, header, ok, TILE_PICK_JS, open_on_click,
                       pydantic_message, shown)
from ui.i18n import message as core_text, t, tr
from ui.upload_guard import release

ALL = "All"
NONE = "— none —"
NEW = "— pick a product —"
BADGE_KIND = {"pending": "info", "processing": "busy", "done": "ok", "flagged": "warn", "failed": "bad"}
PREVIEW_BOX = "height:240px;aspect-ratio:auto;border:1px solid var(--border-color-primary);border-radius:8px"
PREVIEW_IMG = "width:100%;height:100%;max-height:none;object-fit:contain"
LABELS = {"name": "common.name", "category": "common.category", "subcategory": "products.subcategory",
          "product_type": "products.type", "placement": "products.placement", "brand_kit_id": "common.brand_kit"}
TYPE_CHOICES = choices("products.type", PRODUCT_TYPES)
PLACEMENT_CHOICES = choices("products.placement", PLACEMENTS)


def badge_text(request, status: str) -> str:
    """The status badge: "waiting", "removing background…", "cut out", "check", "failed" (translated)."""
    return tr(request, f"products.badge.{status}")


def _tiles(rows, request, admin: bool = False) -> list[dict]:
    out = []
    for p in rows:
        plain, detail = products.bg_problem_shown(p, admin=admin) if p.bg_status in ("failed", "flagged") \
            else (None, None)
        out.append({"id": p.id, "img": file_url(p.thumbnail_path), "title": p.name, "checker": bool(p.cutout_path),
                    "badge": badge_text(request, p.bg_status), "badge_kind": BADGE_KIND[p.bg_status],
                    "lines": [" · ".join(v for v in (p.category, shown(request, "products.type", p.product_type),
                                                     shown(request, "products.placement", p.placement)) if v),
                              core_text(request, plain) if plain else None],
                    "details": (tr(request, "common.details"), core_text(request, detail)) if detail else None})
    return out


def build(services, demo: gr.Blocks) -> None:
    badge = header(services, demo, "products.header")
    all_choice = (t("common.all"), ALL)
    with gr.Row():
        kit_filter = gr.Dropdown(label=t("common.brand_kit"), choices=[all_choice], value=ALL,
                                 elem_id="product-kit-filter")
        cat_filter = gr.Dropdown(label=t("common.category"), choices=[all_choice], value=ALL, allow_custom_value=True,
                                 elem_id="product-category-filter")
        status_filter = gr.Dropdown(label=t("products.status"),
                                    choices=[all_choice, *choices("products.bg", BG_STATUSES)], value=ALL,
                                    elem_id="product-status-filter")
    with gr.Row():
        with gr.Column(scale=3):
            gallery = gr.HTML(elem_id="product-gallery-box", js_on_load=TILE_PICK_JS)
        with gr.Column(scale=2):
            with gr.Tabs() as tabs:
                with gr.Tab(t("common.upload_tab"), elem_id="product-tab-upload", id="upload"):
                    files = gr.File(label=t("products.photos"), file_count="multiple",
                                    file_types=["image"], elem_id="product-files")
                    up_kit = gr.Dropdown(label=t("common.brand_kit"), choices=[(t("common.none"), NONE)], value=NONE,
                                         elem_id="product-upload-kit")
                    with gr.Row():
                        up_cat = gr.Textbox(label=t("common.category"), max_length=64,
                                            placeholder=t("products.category_placeholder"), elem_id="product-category")
                        up_type = gr.Dropdown(label=t("products.type"), choices=TYPE_CHOICES, value=None,
                                              elem_id="product-type")
                    up_place = gr.Dropdown(label=t("products.placement"), choices=PLACEMENT_CHOICES, value="hand-right",
                                           elem_id="product-placement")
                    upload = gr.Button(t("products.upload"), variant="primary", elem_id="product-upload")
                    upload_token = gr.State(new_submit_token)   # one per submit: a repeat is answered, not charged
                    gr.Markdown(t("products.price_note"), elem_id="product-price-note", elem_classes="apg-meta")
                    report = gr.Dataframe(headers=["file", "result", "details"], visible=False, wrap=True,
                                          column_widths=["30%", "17%", "53%"], interactive=False,
                                          elem_id="product-report")
                with gr.Tab(t("common.edit_tab"), elem_id="product-tab-edit", id="edit"):
                    picker = gr.Dropdown(label=t("products.product"), choices=[(t("products.pick"), NEW)], value=NEW,
                                         elem_id="product-picker")
                    preview = gr.HTML(elem_id="product-preview")
                    ed_name = gr.Textbox(label=t("common.name"), max_length=100, elem_id="product-edit-name")
                    with gr.Row():
                        ed_cat = gr.Textbox(label=t("common.category"), max_length=64, elem_id="product-edit-category")
                        ed_sub = gr.Textbox(label=t("products.subcategory"), max_length=64,
                                            elem_id="product-edit-subcategory")
                    with gr.Row():
                        ed_type = gr.Dropdown(label=t("products.type"), choices=TYPE_CHOICES, value=None,
                                              elem_id="product-edit-type")
                        ed_place = gr.Dropdown(label=t("products.placement"), choices=PLACEMENT_CHOICES, value=None,
                                               elem_id="product-edit-placement")
                    with gr.Row():
                        save = gr.Button(t("products.save"), elem_id="product-save")
                        retry = gr.Button(t("products.retry"), elem_id="product-retry")
                        delete = gr.Button(t("common.delete"), variant="stop", elem_id="product-delete")
                    with gr.Row(visible=False) as confirm_row:
                        gr.Markdown(t("products.confirm_delete"))
                        confirm = gr.Button(t("common.yes_delete"), variant="stop", elem_id="product-delete-confirm")
                        cancel = gr.Button(t("common.cancel"), elem_id="product-delete-cancel")
            message = gr.HTML(elem_id="product-message")
    timer = gr.Timer(2.0, active=False)
    filters = [kit_filter, cat_filter, status_filter]

    def refresh(kit, cat, status, request: gr.Request, selected=None):
        def run(session, user):
            rows, _ = products.list_products(session, user=user, limit=200, brand_kit_id=choice_id(kit),
                                             category=None if cat in (ALL, None, "") else cat,
                                             bg_status=None if status == ALL else status)
            all_rows, _ = products.list_products(session, user=user, limit=200)
            kits, _ = brand_kits.list_kits(session, user=user, limit=200)
            return rows, all_rows, [f"{k.id} · {k.brand_name}" for k in kits], user.is_admin
        rows, all_rows, kits, admin = act(services, request, run, write=False)
        busy = any(p.bg_status in ("pending", "processing") for p in all_rows)
        cats = sorted({p.category for p in all_rows if p.category})
        values = [f"{p.id} · {p.name}" for p in all_rows]
        picks = [(tr(request, "products.pick"), NEW), *values]
        all_choice = (tr(request, "common.all"), ALL)
        waiting = downloads_html(system.model_downloads(services.settings), request, "product-downloads") \
            if busy else ""          # a removal waiting for rembg's model: what downloads, how far
        return (waiting + gallery_html(_tiles(rows, request, admin), elem_id="product-gallery",
                                       empty=tr(request, "products.empty")),
                gr.update(choices=[all_choice, *kits]), gr.update(choices=[all_choice, *cats]),
                gr.update(choices=[(tr(request, "common.none"), NONE), *kits]),
                gr.update(choices=picks, value=selected) if selected in values or selected == NEW
                else gr.update(choices=picks),
                gr.Timer(active=busy))

    listing_out = [gallery, kit_filter, cat_filter, up_kit, picker, timer]

    def on_load(request: gr.Request):
        try:
            return refresh(ALL, ALL, ALL, request)
        except Failed as exc:
            return err(str(exc)), *[gr.update()] * 5

    demo.load(on_load, outputs=listing_out)
    def filtered(k, c, s, request: gr.Request):
        return refresh(k, c, s, request)

    for f in filters:
        f.input(filtered, inputs=filters, outputs=listing_out)

    def tick(k, c, s, choice, request: gr.Request):
        """While removals run: the gallery, and the preview of the picked product (its HTML only, so what
        the person is typing in the editor is left alone; an unchanged preview does not re-render)."""
        try:
            listing = refresh(k, c, s, request)
        except Failed:
            return *[gr.update()] * len(listing_out), gr.update()
        return (*listing, _preview_or_keep(choice, request))

    timer.tick(tick, inputs=[*filters, picker], outputs=[*listing_out, preview], show_progress="hidden")

    def do_upload(paths, kit, cat, ptype, place, token, k, c, s, request: gr.Request, progress=gr.Progress()):
        skip = [gr.update()] * len(listing_out)
        if not paths:
            return *skip, gr.update(), err(tr(request, "products.choose_photos")), gr.update(), gr.update(), token
        try:
            data = ProductCreate(brand_kit_id=choice_id(kit), category=cat or None, product_type=ptype,
                                 placement=place or "hand-right")
        except ValueError as exc:
            return *skip, gr.update(), err(pydantic_message(exc, LABELS, request)), gr.update(), gr.update(), token
        uploaded, rejected = tr(request, "products.uploaded"), tr(request, "products.rejected")
        started = tr(request, "products.removal_started")
        rows, created, good = [], [], 0
        try:
            if len(paths) == 1:
                def one(session, user):  # the path is read only when this is not a repeat
                    return products.upload(session, user=user, data=data, source=paths[0], filename=paths[0],
                                           store=services.store, settings=services.settings, runner=services.runner,
                                           request_key=token)
                try:
                    p = act(services, request, one)
                    rows.append([p.name, uploaded, started])
                    created.append(f"{p.id} · {p.name}")
                    good += 1
                except Failed as exc:
                    rows.append([Path(paths[0]).name, rejected, str(exc)])
            else:
                progress(0, desc=tr(request, "products.checking"))

                def many(session, user):  # each path is read only when this is not a repeat
                    return products.bulk_upload(session, user=user, files=[(p, p) for p in paths], data=data,
                                                store=services.store, settings=services.settings,
                                                runner=services.runner, request_key=token,
                                                on_progress=lambda i, n: progress(
                                                    (i, n), desc=tr(request, "products.uploading"),
                                                    unit=tr(request, "products.photos_unit")))
                try:
                    result = act(services, request, many)
                except Failed as exc:  # the photos were read and have left the upload cache: the widget empties
                    return *skip, gr.update(), err(str(exc)), gr.update(), None, token
                if result.get("repeat"):   # a double click of a bulk upload that was already stored
                    return (*refresh(k, c, s, request), gr.update(), ok(tr(request, "products.already_uploaded")),
                            credits_text(services, request), None, new_submit_token())
                for entry in result["files"]:
                    name = Path(entry["filename"]).name
                    if entry["status"] == "created":
                        rows.append([name, uploaded, started])
                        created.append(f"{entry['id']} · {entry['name']}")
                        good += 1
                    else:
                        problem = {"code": entry["code"], "params": entry.get("params") or {}}
                        rows.append([name, rejected, core_text(request, problem)])
        finally:
            release(demo, request, paths)
        listing = refresh(k, c, s, request, selected=created[0] if created else None)  # the editor shows the first
        text = tr(request, "products.n_uploaded", good=good, n=len(rows))
        headers = [tr(request, "products.report_file"), tr(request, "products.report_result"),
                   tr(request, "products.report_details")]
        return (*listing, gr.update(value={"data": rows, "headers": headers}, visible=True),
                ok(text) if good else err(text),
                credits_text(services, request), None, new_submit_token() if good else token)

    charging_click(upload, do_upload, inputs=[files, up_kit, up_cat, up_type, up_place, upload_token, *filters],
                   outputs=[*listing_out, report, message, badge, files, upload_token])

    editor = [preview, ed_name, ed_cat, ed_sub, ed_type, ed_place]

    def _preview(p, request, admin: bool = False) -> str:
        status = ("" if p.bg_status == "done" else f" <span class='apg-status apg-status-{BADGE_KIND[p.bg_status]}'>"
                                                    f"{esc(badge_text(request, p.bg_status))}</span>")
        problem, detail = products.bg_problem_shown(p, admin=admin)
        error = f"<div class='apg-meta'>{esc(core_text(request, problem))}</div>" if problem else ""
        if detail:   # admins: which file, which folder (the System page says it too)
            error += (f"<details class='apg-details'><summary>{esc(tr(request, 'common.details'))}</summary>"
                      f"<div class='apg-meta'>{esc(core_text(request, detail))}</div></details>")
        # both pictures fill the same box (contain), so a small photo or a trimmed cut-out is not drawn tiny
        cut = (f"<div class='apg-thumb apg-checker' style='{PREVIEW_BOX}'>"
               f"<img alt='{esc(tr(request, 'products.cutout_alt'))}' style='{PREVIEW_IMG}' "
               f"src='{esc(file_url(p.cutout_path))}'></div>" if p.cutout_path else
               f"<div class='apg-thumb' style='{PREVIEW_BOX};border-style:dashed'>"
               f"<span class='apg-meta'>{esc(tr(request, 'products.no_cutout'))}</span></div>")
        colour = (f"<span class='apg-swatch' style='background:{esc(p.dominant_color)};vertical-align:middle'>"
                  f"</span> {esc(p.dominant_color)}" if p.dominant_color else "")
        original = esc(tr(request, "products.original"))
        return (f"<div class='apg-compare'><figure><div class='apg-thumb' style='{PREVIEW_BOX}'><img alt='{original}' "
                f"style='{PREVIEW_IMG}' src='{esc(file_url(p.original_path))}'></div>"
                f"<figcaption>{original}</figcaption>"
                f"</figure><figure>{cut}<figcaption>{esc(tr(request, 'products.without_background'))}{status}{error}"
                f"</figcaption></figure></div>"
                f"<div class='apg-meta'>{p.width}×{p.height}px {colour}</div>")

    def _preview_or_keep(choice, request):
        product_id = choice_id(choice)
        if product_id is None:
            return gr.update()
        try:
            product, admin = act(services, request, lambda s, u: (products.get(s, user=u, product_id=product_id),
                                                                  u.is_admin), write=False)
            return _preview(product, request, admin)
        except Failed:
            return gr.update()

    def fill(choice, request: gr.Request):
        product_id = choice_id(choice)
        if product_id is None:
            return ["", "", "", "", None, None]
        try:
            p, admin = act(services, request, lambda s, u: (products.get(s, user=u, product_id=product_id),
                                                            u.is_admin), write=False)
        except Failed as exc:
            return [err(str(exc)), *[gr.update()] * 5]
        return [_preview(p, request, admin), p.name, p.category or "", p.subcategory or "", p.product_type, p.placement]

    picker.change(fill, inputs=picker, outputs=editor)

    # a click on a product card opens it in the Edit tab
    open_on_click(services, gallery, picker, lambda s, u, i: products.get(s, user=u, product_id=i), tabs=tabs)
    full_out = [*listing_out, *editor, message, badge]

    def failed(exc):
        return [gr.update()] * (len(listing_out) + len(editor)) + [err(str(exc)), gr.update()]

    def after(choice, request, text, k, c, s):
        return (*refresh(k, c, s, request, selected=choice), *fill(choice, request), ok(text),
                credits_text(services, request))

    def do_save(choice, name, cat, sub, ptype, place, k, c, s, request: gr.Request):
        product_id = choice_id(choice)
        if product_id is None:
            return failed(tr(request, "products.pick_first"))
        try:
            data = ProductUpdate(name=name, category=cat or None, subcategory=sub or None, product_type=ptype,
                                 placement=place)
            p = act(services, request, lambda ss, u: products.update(ss, user=u, product_id=product_id, data=data))
        except ValueError as exc:
            return failed(pydantic_message(exc, LABELS, request))
        except Failed as exc:
            return failed(exc)
        return after(f"{p.id} · {p.name}", request, tr(request, "common.saved"), k, c, s)

    save.click(do_save, inputs=[picker, ed_name, ed_cat, ed_sub, ed_type, ed_place, *filters], outputs=full_out)

    def do_retry(choice, k, c, s, request: gr.Request):
        product_id = choice_id(choice)
        if product_id is None:
            return failed(tr(request, "products.pick_first"))
        try:
            act(services, request, lambda ss, u: products.retry_removal(ss, user=u, product_id=product_id,
                                                                         runner=services.runner,
                                                                         settings=services.settings))
        except Failed as exc:
            return failed(exc)
        return after(choice, request, tr(request, "products.started_again"), k, c, s)

    retry.click(do_retry, inputs=[picker, *filters], outputs=full_out)

    def ask_delete(choice, request: gr.Request):
        picked = choice_id(choice) is not None
        return gr.update(visible=picked), "" if picked else err(tr(request, "products.pick_first"))

    delete.click(ask_delete, inputs=picker, outputs=[confirm_row, message])
    cancel.click(lambda: gr.update(visible=False), outputs=confirm_row)

    def do_delete(choice, k, c, s, request: gr.Request):
        product_id = choice_id(choice)
        try:
            act(services, request, lambda ss, u: products.delete(ss, user=u, product_id=product_id,
                                                                  store=services.store))
        except Failed as exc:
            return [*failed(exc), gr.update(visible=False)]
        return [*after(NEW, request, tr(request, "common.deleted"), k, c, s), gr.update(visible=False)]

    confirm.click(do_delete, inputs=[picker, *filters], outputs=[*full_out, confirm_row])
