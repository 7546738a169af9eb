"""Products page: gallery with status badges and filters, bulk upload with a progress bar and a per-file
report, preview with and without background (cut-out on a checkerboard), metadata editor, retry of the
background removal, delete with confirmation. While removals run, a timer refreshes the gallery."""
from __future__ import annotations

import gradio as gr

from core import brand_kits, products
from core.products import BG_STATUSES, PLACEMENTS, PRODUCT_TYPES, ProductCreate, ProductUpdate
from core.schemas import file_url
from ui.common import Failed, act, choice_id, credits_text, err, esc, gallery_html, header, ok, pydantic_message

ALL = "All"
NONE = "— none —"
NEW = "— pick a product —"
BADGE_KIND = {"pending": "info", "processing": "busy", "done": "ok", "flagged": "warn", "failed": "bad"}
PREVIEW_BOX = "height:240px;aspect-ratio:auto;border:1px solid var(--border-color-primary);border-radius:8px"
PREVIEW_IMG = "width:100%;height:100%;max-height:none;object-fit:contain"
BADGE_TEXT = {"pending": "waiting", "processing": "removing background…", "done": "cut out", "flagged": "check",
              "failed": "failed"}


def _tiles(rows) -> list[dict]:
    return [{"id": p.id, "img": file_url(p.thumbnail_path), "title": p.name, "checker": bool(p.cutout_path),
             "badge": BADGE_TEXT[p.bg_status], "badge_kind": BADGE_KIND[p.bg_status],
             "lines": [" · ".join(v for v in (p.category, p.product_type, p.placement) if v),
                       p.bg_error if p.bg_status in ("failed", "flagged") else None]} for p in rows]


def build(services, demo: gr.Blocks) -> None:
    badge = header(services, demo, "Products",
                   "Upload product photos — one or fifty at once. The background is removed automatically.")
    with gr.Row():
        kit_filter = gr.Dropdown(label="Brand kit", choices=[ALL], value=ALL, elem_id="product-kit-filter")
        cat_filter = gr.Dropdown(label="Category", choices=[ALL], value=ALL, allow_custom_value=True,
                                 elem_id="product-category-filter")
        status_filter = gr.Dropdown(label="Status", choices=[ALL, *BG_STATUSES], value=ALL,
                                    elem_id="product-status-filter")
    with gr.Row():
        with gr.Column(scale=3):
            gallery = gr.HTML(elem_id="product-gallery-box")
        with gr.Column(scale=2):
            with gr.Tab("Upload", elem_id="product-tab-upload"):
                files = gr.File(label="Photos (drag and drop up to 50 JPEG, PNG or WebP files)", file_count="multiple",
                                file_types=["image"], elem_id="product-files")
                up_kit = gr.Dropdown(label="Brand kit", choices=[NONE], value=NONE, elem_id="product-upload-kit")
                with gr.Row():
                    up_cat = gr.Textbox(label="Category", max_length=64, placeholder="e.g. skincare",
                                        elem_id="product-category")
                    up_type = gr.Dropdown(label="Product type", choices=list(PRODUCT_TYPES), value=None,
                                          elem_id="product-type")
                up_place = gr.Dropdown(label="How it is shown", choices=list(PLACEMENTS), value="hand-right",
                                       elem_id="product-placement")
                upload = gr.Button("Upload", variant="primary", elem_id="product-upload")
                report = gr.Dataframe(headers=["file", "result", "details"], visible=False, wrap=True,
                                      column_widths=["30%", "17%", "53%"], interactive=False,
                                      elem_id="product-report")
            with gr.Tab("Edit", elem_id="product-tab-edit"):
                picker = gr.Dropdown(label="Product", choices=[NEW], value=NEW, elem_id="product-picker")
                preview = gr.HTML(elem_id="product-preview")
                ed_name = gr.Textbox(label="Name", max_length=100, elem_id="product-edit-name")
                with gr.Row():
                    ed_cat = gr.Textbox(label="Category", max_length=64, elem_id="product-edit-category")
                    ed_sub = gr.Textbox(label="Subcategory", max_length=64, elem_id="product-edit-subcategory")
                with gr.Row():
                    ed_type = gr.Dropdown(label="Product type", choices=list(PRODUCT_TYPES), value=None,
                                          elem_id="product-edit-type")
                    ed_place = gr.Dropdown(label="How it is shown", choices=list(PLACEMENTS), value=None,
                                           elem_id="product-edit-placement")
                with gr.Row():
                    save = gr.Button("Save (2 credits)", elem_id="product-save")
                    retry = gr.Button("Remove background again (3 credits)", elem_id="product-retry")
                    delete = gr.Button("Delete…", variant="stop", elem_id="product-delete")
                with gr.Row(visible=False) as confirm_row:
                    gr.Markdown("**Delete this product?** Its photos are removed for good.")
                    confirm = gr.Button("Yes, delete", variant="stop", elem_id="product-delete-confirm")
                    cancel = gr.Button("Cancel", elem_id="product-delete-cancel")
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
            return rows, all_rows, [f"{k.id} · {k.brand_name}" for k in kits]
        rows, all_rows, kits = act(services, request, run)
        busy = any(p.bg_status in ("pending", "processing") for p in all_rows)
        cats = sorted({p.category for p in all_rows if p.category})
        picks = [NEW] + [f"{p.id} · {p.name}" for p in all_rows]
        return (gallery_html(_tiles(rows), elem_id="product-gallery",
                             empty="No products here yet. Drop photos into the upload box on the right."),
                gr.update(choices=[ALL, *kits]), gr.update(choices=[ALL, *cats]),
                gr.update(choices=[NONE, *kits]),
                gr.update(choices=picks, value=selected) if selected in picks else gr.update(choices=picks),
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

    def do_upload(paths, kit, cat, ptype, place, k, c, s, request: gr.Request, progress=gr.Progress()):
        skip = [gr.update()] * len(listing_out)
        if not paths:
            return *skip, gr.update(), err("Choose one or more photos first."), gr.update(), gr.update()
        try:
            data = ProductCreate(brand_kit_id=choice_id(kit), category=cat or None, product_type=ptype,
                                 placement=place or "hand-right")
        except ValueError as exc:
            return *skip, gr.update(), err(pydantic_message(exc)), gr.update(), gr.update()
        rows, created = [], []
        if len(paths) == 1:
            def one(session, user):
                with open(paths[0], "rb") as fh:
                    return products.upload(session, user=user, data=data, source=fh, filename=paths[0],
                                           store=services.store, settings=services.settings, runner=services.runner)
            try:
                p = act(services, request, one)
                rows.append([p.name, "uploaded", "background removal started"])
                created.append(f"{p.id} · {p.name}")
            except Failed as exc:
                rows.append([paths[0].rsplit("/", 1)[-1], "rejected", str(exc)])
        else:
            handles = []
            try:
                progress(0, desc="Checking photos…")
                handles = [open(p, "rb") for p in paths]

                def many(session, user):
                    return products.bulk_upload(session, user=user, files=[(h, p) for h, p in zip(handles, paths)],
                                                data=data, store=services.store, settings=services.settings,
                                                runner=services.runner,
                                                on_progress=lambda i, n: progress((i, n), desc="Uploading", unit="photos"))
                result = act(services, request, many)
                for entry in result["files"]:
                    name = entry["filename"].rsplit("/", 1)[-1]
                    rows.append([name, "uploaded" if entry["status"] == "created" else "rejected",
                                 "background removal started" if entry["status"] == "created" else entry["error"]])
                    if entry["status"] == "created":
                        created.append(f"{entry['id']} · {entry['name']}")
            except Failed as exc:
                return *skip, gr.update(), err(str(exc)), gr.update(), gr.update()
            finally:
                for h in handles:
                    h.close()
        good = sum(1 for r in rows if r[1] == "uploaded")
        listing = refresh(k, c, s, request, selected=created[0] if created else None)  # the editor shows the first
        text = f"{good} of {len(rows)} photo(s) uploaded."
        return (*listing, gr.update(value=rows, visible=True), ok(text) if good else err(text),
                credits_text(services, request), None)

    upload.click(do_upload, inputs=[files, up_kit, up_cat, up_type, up_place, *filters],
                 outputs=[*listing_out, report, message, badge, files])

    editor = [preview, ed_name, ed_cat, ed_sub, ed_type, ed_place]

    def _preview(p) -> str:
        status = ("" if p.bg_status == "done" else f" <span class='apg-status apg-status-{BADGE_KIND[p.bg_status]}'>"
                                                    f"{esc(BADGE_TEXT[p.bg_status])}</span>")
        error = f"<div class='apg-meta'>{esc(p.bg_error)}</div>" if p.bg_error else ""
        # both pictures fill the same box (contain), so a small photo or a trimmed cut-out is not drawn tiny
        cut = (f"<div class='apg-thumb apg-checker' style='{PREVIEW_BOX}'><img alt='cut-out' style='{PREVIEW_IMG}' "
               f"src='{esc(file_url(p.cutout_path))}'></div>" if p.cutout_path else
               f"<div class='apg-thumb' style='{PREVIEW_BOX};border-style:dashed'>"
               f"<span class='apg-meta'>no cut-out yet</span></div>")
        colour = (f"<span class='apg-swatch' style='background:{esc(p.dominant_color)};vertical-align:middle'>"
                  f"</span> {esc(p.dominant_color)}" if p.dominant_color else "")
        return (f"<div class='apg-compare'><figure><div class='apg-thumb' style='{PREVIEW_BOX}'><img alt='original' "
                f"style='{PREVIEW_IMG}' src='{esc(file_url(p.original_path))}'></div><figcaption>Original</figcaption>"
                f"</figure><figure>{cut}<figcaption>Without background{status}{error}</figcaption></figure></div>"
                f"<div class='apg-meta'>{p.width}×{p.height}px {colour}</div>")

    def _preview_or_keep(choice, request):
        product_id = choice_id(choice)
        if product_id is None:
            return gr.update()
        try:
            return _preview(act(services, request, lambda s, u: products.get(s, user=u, product_id=product_id)))
        except Failed:
            return gr.update()

    def fill(choice, request: gr.Request):
        product_id = choice_id(choice)
        if product_id is None:
            return ["", "", "", "", None, None]
        try:
            p = act(services, request, lambda s, u: products.get(s, user=u, product_id=product_id))
        except Failed as exc:
            return [err(str(exc)), *[gr.update()] * 5]
        return [_preview(p), p.name, p.category or "", p.subcategory or "", p.product_type, p.placement]

    picker.change(fill, inputs=picker, outputs=editor)
    full_out = [*listing_out, *editor, message, badge]

    def failed(exc):
        return [gr.update()] * (len(listing_out) + len(editor)) + [err(str(exc)), gr.update()]

    def after(choice, request, text, k, c, s):
        return (*refresh(k, c, s, request, selected=choice), *fill(choice, request), ok(text),
                credits_text(services, request))

    def do_save(choice, name, cat, sub, ptype, place, k, c, s, request: gr.Request):
        product_id = choice_id(choice)
        if product_id is None:
            return failed("Pick a product first.")
        try:
            data = ProductUpdate(name=name, category=cat or None, subcategory=sub or None, product_type=ptype,
                                 placement=place)
            p = act(services, request, lambda ss, u: products.update(ss, user=u, product_id=product_id, data=data))
        except ValueError as exc:
            return failed(pydantic_message(exc))
        except Failed as exc:
            return failed(exc)
        return after(f"{p.id} · {p.name}", request, "Saved.", k, c, s)

    save.click(do_save, inputs=[picker, ed_name, ed_cat, ed_sub, ed_type, ed_place, *filters], outputs=full_out)

    def do_retry(choice, k, c, s, request: gr.Request):
        product_id = choice_id(choice)
        if product_id is None:
            return failed("Pick a product first.")
        try:
            act(services, request, lambda ss, u: products.retry_removal(ss, user=u, product_id=product_id,
                                                                         runner=services.runner,
                                                                         settings=services.settings))
        except Failed as exc:
            return failed(exc)
        return after(choice, request, "Background removal started again.", k, c, s)

    retry.click(do_retry, inputs=[picker, *filters], outputs=full_out)
    delete.click(lambda ch: (gr.update(visible=choice_id(ch) is not None),
                             "" if choice_id(ch) is not None else err("Pick a product first.")),
                 inputs=picker, outputs=[confirm_row, message])
    cancel.click(lambda: gr.update(visible=False), outputs=confirm_row)

    def do_delete(choice, k, c, s, request: gr.Request):
        product_id = choice_id(choice)
        try:
            act(services, request, lambda ss, u: products.delete(ss, user=u, product_id=product_id,
                                                                  store=services.store))
        except Failed as exc:
            return [*failed(exc), gr.update(visible=False)]
        return [*after(NEW, request, "Deleted.", k, c, s), gr.update(visible=False)]

    confirm.click(do_delete, inputs=[picker, *filters], outputs=[*full_out, confirm_row])
