"""Pose Library page: a paginated grid of skeleton previews with filters and sorts, a detail panel with a
large preview and its mirrored twin; for admins (the data team) also metadata editing, bulk changes,
import and export, delete. Other users see the active templates read-only: the generator's pose picker."""
from __future__ import annotations

import tempfile
from pathlib import Path

import gradio as gr

from core import pose_import
from core import pose_library as lib
from core.pose_library import CATEGORIES, DIFFICULTIES, GENDERS, PLACEMENTS, TemplateUpdate
from ui.common import Failed, act, choice_id, err, esc, header, ok, pydantic_message

ANY = "Any"
PAGE_SIZE = 48
DETAIL_HINT = "<div class='apg-meta'>Pick a template above to see it larger, with its mirrored twin.</div>"
SORT_LABELS = {"success": "Success rate", "usage": "Most used", "newest": "Newest", "name": "Name"}


def _grid(rows, settings, total: int, page: int) -> str:
    if not rows:
        return "<div class='apg-empty' id='pose-grid'>No templates match these filters.</div>"
    pages = max(1, -(-total // PAGE_SIZE))
    out = [f"<div class='apg-meta'>{total} templates · page {page} of {pages}</div><div class='apg-gallery apg-poses' "
           f"id='pose-grid'>"]
    for t in rows:
        badges = []
        if not t.is_active:
            badges.append("<span class='apg-status apg-status-info'>inactive</span>")
        if lib.is_flagged(t, settings):
            badges.append("<span class='apg-status apg-status-bad'>low success</span>")
        rate = f"{t.success_rate:.0%} of {t.usage_count}" if t.success_rate is not None else "not used yet"
        out.append(f"<figure class='apg-tile' data-id='{t.id}'><div class='apg-thumb apg-skeleton'>"
                   f"<img loading='lazy' alt='{esc(t.name)}' src='{esc(lib.preview_url(t))}'></div>"
                   f"<figcaption><b>#{t.id}</b> {esc(t.name)} {''.join(badges)}"
                   f"<div class='apg-meta'>{esc(t.category)} · {esc(t.subcategory or '')} · {esc(t.product_placement or '')}"
                   f"</div><div class='apg-meta'>{esc(rate)}</div></figcaption></figure>")
    out.append("</div>")
    return "".join(out)


def build(services, demo: gr.Blocks) -> None:
    header(services, demo, "Pose Library",
           "Every generated photo starts from one of these poses. Filter, look closer, and pick.")
    with gr.Row():
        f_cat = gr.Dropdown(label="Category", choices=[ANY, *CATEGORIES], value=ANY, elem_id="pose-filter-category")
        f_sub = gr.Dropdown(label="Subcategory", choices=[ANY], value=ANY, allow_custom_value=True)
        f_place = gr.Dropdown(label="Product placement", choices=[ANY, *PLACEMENTS], value=ANY)
        f_gender = gr.Dropdown(label="Gender", choices=[ANY, *GENDERS], value=ANY)
        f_diff = gr.Dropdown(label="Difficulty", choices=[ANY, *DIFFICULTIES], value=ANY)
    with gr.Row():
        f_tags = gr.Textbox(label="Tags (comma-separated, all must match)", placeholder="e.g. front, chest")
        f_text = gr.Textbox(label="Search name or description")
        f_active = gr.Dropdown(label="Active", choices=[ANY, "active", "inactive"], value=ANY, visible=False,
                               elem_id="pose-filter-active")
        f_min = gr.Slider(0, 1, value=0, step=0.05, label="Success rate from")
        f_max = gr.Slider(0, 1, value=1, step=0.05, label="to")
        f_flag = gr.Checkbox(label="Only flagged (low success)", value=False)
        f_sort = gr.Dropdown(label="Sort", choices=[(v, k) for k, v in SORT_LABELS.items()], value="success",
                             elem_id="pose-sort")
    with gr.Row(equal_height=True):  # compact: not three full-width thirds
        prev_btn = gr.Button("◀ Previous", size="sm", scale=0, min_width=120, elem_id="pose-prev")
        page = gr.Number(value=1, precision=0, minimum=1, label="Page", show_label=False, container=False,
                         scale=0, min_width=90, elem_id="pose-page")
        next_btn = gr.Button("Next ▶", size="sm", scale=0, min_width=120, elem_id="pose-next")
    with gr.Row():
        with gr.Column(scale=3):
            grid = gr.HTML(elem_id="pose-grid-box")
        with gr.Column(scale=2):
            picker = gr.Dropdown(label="Template (of this page)", choices=[], value=None, elem_id="pose-picker")
            detail = gr.HTML(DETAIL_HINT, elem_id="pose-detail")
            with gr.Group(visible=False) as admin_edit:
                ed_name = gr.Textbox(label="Name", max_length=200, elem_id="pose-edit-name")
                with gr.Row():
                    ed_cat = gr.Dropdown(label="Category", choices=list(CATEGORIES), value=None,
                                         allow_custom_value=True)
                    ed_sub = gr.Textbox(label="Subcategory", max_length=64)
                with gr.Row():
                    ed_diff = gr.Dropdown(label="Difficulty", choices=list(DIFFICULTIES), value=None)
                    ed_gender = gr.Dropdown(label="Gender", choices=list(GENDERS), value=None)
                    ed_place = gr.Dropdown(label="Placement", choices=list(PLACEMENTS), value=None)
                ed_tags = gr.Textbox(label="Tags (comma-separated)")
                ed_desc = gr.Textbox(label="Description (used in prompts)", max_length=500)
                ed_active = gr.Checkbox(label="Active (users can pick it)", elem_id="pose-active")
                with gr.Row():
                    save = gr.Button("Save", variant="primary", elem_id="pose-save")
                    delete = gr.Button("Delete…", variant="stop", elem_id="pose-delete")
                with gr.Row(visible=False) as confirm_row:
                    gr.Markdown("**Delete this template for everyone?**")
                    confirm = gr.Button("Yes, delete", variant="stop", elem_id="pose-delete-confirm")
                    cancel = gr.Button("Cancel", elem_id="pose-delete-cancel")
            message = gr.HTML(elem_id="pose-message")
    with gr.Accordion("Bulk changes (data team)", open=False, visible=False, elem_id="pose-admin-bulk") as admin_bulk:
        selection = gr.CheckboxGroup(label="Templates on this page", choices=[], elem_id="pose-selection")
        with gr.Row():
            bulk_action = gr.Dropdown(label="Action", choices=["activate", "deactivate", "add tag", "remove tag",
                                                               "set category"], value="deactivate")
            bulk_value = gr.Textbox(label="Tag or category")
            bulk_apply = gr.Button("Apply to selected")
        with gr.Row():
            export_fmt = gr.Radio(["zip", "json"], value="zip", label="Export selected as")
            export_btn = gr.Button("Export selected")
            export_file = gr.File(label="Download", interactive=False)
    with gr.Accordion("Import poses (data team)", open=False, visible=False,
                      elem_id="pose-admin-import") as admin_import:
        gr.Markdown("OpenPose JSON (BODY_25 or COCO-18), ControlNet skeleton images, or photos of people. "
                    "Every pose is checked against the library; duplicates are skipped and reported. "
                    "Imported poses start inactive: review them, then activate.")
        imp_files = gr.File(label="Files", file_count="multiple", elem_id="pose-import-files")
        with gr.Row():
            imp_cat = gr.Dropdown(label="Category", choices=list(CATEGORIES), value=CATEGORIES[0],
                                  elem_id="pose-import-category")
            imp_sub = gr.Textbox(label="Subcategory", max_length=64)
            imp_place = gr.Dropdown(label="Placement", choices=list(PLACEMENTS), value=None)
            imp_active = gr.Checkbox(label="Activate right away", value=False, elem_id="pose-import-activate")
        imp_btn = gr.Button("Import", variant="primary", elem_id="pose-import")
        imp_report = gr.Dataframe(headers=["file", "result", "details"], wrap=True, visible=False,
                                  elem_id="pose-import-report")

    filters = [f_cat, f_sub, f_place, f_gender, f_diff, f_tags, f_text, f_active, f_min, f_max, f_flag, f_sort, page]

    def query(cat, sub, place, gender, diff, tags, text, active, lo, hi, flagged, sort, pg, request):
        pg = max(1, int(pg or 1))

        def run(session, user):
            rows, total = lib.search(
                session, user=user, settings=services.settings, category=None if cat == ANY else cat,
                subcategory=None if sub in (ANY, "", None) else sub, placement=None if place == ANY else place,
                gender=None if gender == ANY else gender, difficulty=None if diff == ANY else diff,
                tags=[t.strip() for t in (tags or "").split(",") if t.strip()], text=text or None,
                active=None if active == ANY else active == "active",
                min_success=lo if lo and lo > 0 else None, max_success=hi if hi is not None and hi < 1 else None,
                flagged=True if flagged else None, sort=sort or "success", limit=PAGE_SIZE,
                offset=(pg - 1) * PAGE_SIZE)
            subs = sorted(lib.facets(session, user=user)["subcategory"])
            return rows, total, subs, user.is_admin
        rows, total, subs, is_admin = act(services, request, run)
        picks = [f"{t.id} · {t.name}" for t in rows]
        return (_grid(rows, services.settings, total, pg), gr.update(choices=picks),
                gr.update(choices=picks, value=[]), gr.update(choices=[ANY, *subs]), is_admin)

    def listing(request: gr.Request, *values):
        try:
            html_, pick, sel, subs, is_admin = query(*values, request)
        except Failed as exc:
            return err(str(exc)), *[gr.update()] * (len(list_out) - 1)
        return (html_, pick, sel, subs, gr.update(visible=is_admin), gr.update(visible=is_admin),
                gr.update(visible=is_admin), gr.update(visible=is_admin))

    list_out = [grid, picker, selection, f_sub, admin_edit, admin_bulk, f_active, admin_import]
    demo.load(listing, inputs=filters, outputs=list_out)
    def first_page(request: gr.Request, *values):
        return (*listing(request, *values[:-1], 1), 1)

    def step(delta):
        def go(request: gr.Request, *values):
            target = max(1, int(values[-1] or 1) + delta)
            return (*listing(request, *values[:-1], target), target)
        return go

    paged_out = [*list_out, page]
    for f in (f_cat, f_sub, f_place, f_gender, f_diff, f_active, f_min, f_max, f_flag, f_sort):
        f.input(first_page, inputs=filters, outputs=paged_out)  # .input: only what the person changes
    for f in (f_tags, f_text):
        f.submit(first_page, inputs=filters, outputs=paged_out)
    page.submit(listing, inputs=filters, outputs=list_out)
    prev_btn.click(step(-1), inputs=filters, outputs=paged_out)
    next_btn.click(step(+1), inputs=filters, outputs=paged_out)

    editor = [detail, ed_name, ed_cat, ed_sub, ed_diff, ed_gender, ed_place, ed_tags, ed_desc, ed_active]

    def fill(choice, request: gr.Request):
        template_id = choice_id(choice)
        if template_id is None:
            return [DETAIL_HINT] + [gr.update()] * (len(editor) - 1)
        try:
            t = act(services, request, lambda s, u: lib.get(s, user=u, template_id=template_id))
        except Failed as exc:
            return [err(str(exc))] + [gr.update()] * (len(editor) - 1)
        url = lib.preview_url(t)
        html_ = (f"<div class='apg-compare'><figure><div class='apg-thumb apg-skeleton'><img alt='pose' src='{esc(url)}'>"
                 f"</div><figcaption>{esc(t.name)}</figcaption></figure><figure><div class='apg-thumb apg-skeleton'>"
                 f"<img alt='mirrored' src='{esc(url)}&mirrored=true'></div><figcaption>Mirrored twin</figcaption>"
                 f"</figure></div><div class='apg-meta'>{esc(t.description or '')}</div>"
                 f"<div class='apg-meta'>key {esc(t.key)} · {esc(t.aspect)} · {esc(t.difficulty)} · {esc(t.gender)} · "
                 f"tags: {esc(', '.join(t.tags))}</div>")
        return [html_, t.name, t.category, t.subcategory or "", t.difficulty, t.gender, t.product_placement,
                ", ".join(t.tags), t.description or "", t.is_active]

    picker.change(fill, inputs=picker, outputs=editor)

    def do_save(request: gr.Request, choice, name, cat, sub, diff, gender, place, tags, desc, active, *values):
        template_id = choice_id(choice)
        if template_id is None:
            return err("Pick a template first."), *[gr.update()] * len(list_out)
        try:
            data = TemplateUpdate(name=name, category=cat, subcategory=sub or None, difficulty=diff, gender=gender,
                                  product_placement=place, description=desc or None, is_active=bool(active),
                                  tags=[t.strip() for t in (tags or "").split(",") if t.strip()])
            t = act(services, request, lambda s, u: lib.update(s, user=u, template_id=template_id, data=data))
        except ValueError as exc:
            return err(pydantic_message(exc)), *[gr.update()] * len(list_out)
        except Failed as exc:
            return err(str(exc)), *[gr.update()] * len(list_out)
        listed = listing(request, *values)
        return ok(f"Saved “{t.name}”{'' if t.is_active else ' (inactive: users no longer see it)'}."), *listed

    save.click(do_save, inputs=[picker, *editor[1:], *filters], outputs=[message, *list_out])
    delete.click(lambda c: gr.update(visible=choice_id(c) is not None), inputs=picker, outputs=confirm_row)
    cancel.click(lambda: gr.update(visible=False), outputs=confirm_row)

    def do_delete(request: gr.Request, choice, *values):
        template_id = choice_id(choice)
        try:
            act(services, request, lambda s, u: lib.delete(s, user=u, template_id=template_id))
        except Failed as exc:
            return err(str(exc)), gr.update(visible=False), *[gr.update()] * len(list_out)
        return ok("Deleted."), gr.update(visible=False), *listing(request, *values)

    confirm.click(do_delete, inputs=[picker, *filters], outputs=[message, confirm_row, *list_out])

    def do_bulk(request: gr.Request, selected, action, value, *values):
        ids = [choice_id(c) for c in selected or [] if choice_id(c) is not None]
        if not ids:
            return err("Tick at least one template."), *[gr.update()] * len(list_out)
        value = (value or "").strip()
        if action in ("add tag", "remove tag", "set category") and not value:
            return err(f"“{action}” needs a value."), *[gr.update()] * len(list_out)
        kwargs = {"activate": {"is_active": True}, "deactivate": {"is_active": False},
                  "add tag": {"add_tags": [value]}, "remove tag": {"remove_tags": [value]},
                  "set category": {"category": value}}[action]
        try:
            n = act(services, request, lambda s, u: lib.bulk_update(s, user=u, template_ids=ids, **kwargs))
        except Failed as exc:
            return err(str(exc)), *[gr.update()] * len(list_out)
        return ok(f"{action.capitalize()}: {n} template(s) changed."), *listing(request, *values)

    bulk_apply.click(do_bulk, inputs=[selection, bulk_action, bulk_value, *filters], outputs=[message, *list_out])

    def do_export(selected, fmt, request: gr.Request):
        ids = [choice_id(c) for c in selected or [] if choice_id(c) is not None]
        if not ids:
            return None, err("Tick the templates to export first.")
        try:
            data, _media, name = act(services, request, lambda s, u: pose_import.export(s, user=u, template_ids=ids,
                                                                                        fmt=fmt))
        except Failed as exc:
            return None, err(str(exc))
        out = Path(tempfile.mkdtemp(prefix="pose-export-")) / name
        out.write_bytes(data)  # library templates are shared, not private: a download link is fine
        return str(out), ok(f"Exported {len(ids)} template(s).")

    export_btn.click(do_export, inputs=[selection, export_fmt], outputs=[export_file, message])

    def do_import(request: gr.Request, paths, cat, sub, place, active, *values):
        if not paths:
            return gr.update(), err("Choose files to import."), *[gr.update()] * len(list_out)
        files = [(Path(p).read_bytes(), Path(p).name) for p in paths]
        try:
            report = act(services, request, lambda s, u: pose_import.import_files(
                s, user=u, files=files, settings=services.settings, category=cat, subcategory=sub or None,
                placement=place, activate=bool(active)))
        except Failed as exc:
            return gr.update(), err(str(exc)), *[gr.update()] * len(list_out)
        rows = ([[r["file"], "imported", f"#{r['id']} {r['person']} ({r['kind']})"] for r in report["imported"]]
                + [[r["file"], "skipped", f"{r['person']}: {r['reason']}"
                    + (f" — #{r['duplicateOf']['id']} {r['duplicateOf']['key']}" if r.get("duplicateOf") else "")]
                   for r in report["skipped"]]
                + [[r["file"], "error", r["error"]] for r in report["errors"]])
        text = (f"{len(report['imported'])} imported, {len(report['skipped'])} skipped, "
                f"{len(report['errors'])} failed.")
        return gr.update(value=rows, visible=True), ok(text), *listing(request, *values)

    imp_btn.click(do_import, inputs=[imp_files, imp_cat, imp_sub, imp_place, imp_active, *filters],
                  outputs=[imp_report, message, *list_out])
