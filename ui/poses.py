"""Pose Library page: a paginated grid of skeleton previews with filters and sorts, a detail panel with a
large preview and its mirrored twin; for admins (the data team) also metadata editing, bulk changes,
import and export, delete. Other users see the active templates read-only: the generator's pose picker."""
from __future__ import annotations

import tempfile
from pathlib import Path

import gradio as gr
import pandas as pd
from gradio.utils import get_upload_folder

from core.library import importing
from core.library import templates as lib
from core.library.templates import CATEGORIES, DIFFICULTIES, GENDERS, PLACEMENTS, SORTS, TemplateUpdate
from ui.common import TILE_PICK_JS, Failed, act, choice_id, err, esc, header, ok, open_on_click, pydantic_message
from ui.i18n import message, t, tr
from ui.locales import EN
from ui.upload_guard import release

ANY = "Any"
PAGE_SIZE = 48
BULK_ACTIONS = ("activate", "deactivate", "add tag", "remove tag", "set category")
EDIT_LABELS = {"name": "poses.name", "category": "poses.category", "subcategory": "poses.subcategory",
               "difficulty": "poses.difficulty", "gender": "poses.gender", "product_placement": "poses.placement",
               "description": "poses.description", "tags": "poses.tags"}


def vocab(kind: str, code: str):
    """A choice (label, code) for a pose-library code ("category", "sitting"): the label is translated in the
    browser; a code the vocabulary does not know (a custom subcategory) shows as it is."""
    key = f"poses.{kind}.{code}"
    return (t(key), code) if key in EN else (code, code)


def named(request, kind: str, code: str | None) -> str:
    """A pose-library code in the request's language (unknown codes as they are)."""
    key = f"poses.{kind}.{code}"
    return tr(request, key) if key in EN else (code or "")


def detail_hint(request) -> str:
    return f"<div class='apg-meta'>{esc(tr(request, 'poses.detail_hint'))}</div>"


def _grid(rows, settings, total: int, page: int, request=None) -> str:
    if not rows:
        return f"<div class='apg-empty' id='pose-grid'>{esc(tr(request, 'poses.no_match'))}</div>"
    pages = max(1, -(-total // PAGE_SIZE))
    count = tr(request, "poses.count", total=total, page=page, pages=pages)
    out = [f"<div class='apg-meta'>{esc(count)}</div><div class='apg-gallery apg-poses' id='pose-grid'>"]
    for tpl in rows:
        badges = []
        if not tpl.is_active:
            badges.append(f"<span class='apg-status apg-status-info'>{esc(tr(request, 'poses.active_no'))}</span>")
        if lib.is_flagged(tpl, settings):
            badges.append(f"<span class='apg-status apg-status-bad'>{esc(tr(request, 'poses.low_success'))}</span>")
        rate = (tr(request, "poses.rate", rate=f"{tpl.success_rate:.0%}", n=tpl.usage_count)
                if tpl.success_rate is not None else tr(request, "poses.not_used"))
        where = " · ".join((named(request, "category", tpl.category), named(request, "subcategory", tpl.subcategory),
                            named(request, "placement", tpl.product_placement)))
        # eager: a page is PAGE_SIZE small PNGs, and lazy images inside the page's HTML block stayed black until
        # the visitor scrolled
        out.append(f"<figure class='apg-tile apg-pickable' data-id='{tpl.id}' role='button' tabindex='0'>"
                   f"<div class='apg-thumb apg-skeleton'>"
                   f"<img loading='eager' alt='{esc(tpl.name)}' src='{esc(lib.preview_url(tpl))}'></div>"
                   f"<figcaption><b>#{tpl.id}</b> {esc(tpl.name)} {''.join(badges)}"
                   f"<div class='apg-meta'>{esc(where)}</div><div class='apg-meta'>{esc(rate)}</div>"
                   f"</figcaption></figure>")
    out.append("</div>")
    return "".join(out)


def build(services, demo: gr.Blocks) -> None:
    header(services, demo, "poses.header")
    any_choice = (t("poses.any"), ANY)
    with gr.Row():
        f_cat = gr.Dropdown(label=t("poses.category"),
                            choices=[any_choice, *(vocab("category", c) for c in CATEGORIES)], value=ANY,
                            elem_id="pose-filter-category")
        f_sub = gr.Dropdown(label=t("poses.subcategory"), choices=[any_choice], value=ANY, allow_custom_value=True)
        f_place = gr.Dropdown(label=t("poses.product_placement"),
                              choices=[any_choice, *(vocab("placement", p) for p in PLACEMENTS)], value=ANY)
        f_gender = gr.Dropdown(label=t("poses.gender"), choices=[any_choice, *(vocab("gender", g) for g in GENDERS)],
                               value=ANY)
        f_diff = gr.Dropdown(label=t("poses.difficulty"),
                             choices=[any_choice, *(vocab("difficulty", d) for d in DIFFICULTIES)], value=ANY)
    with gr.Row():
        f_tags = gr.Textbox(label=t("poses.tags_filter"), placeholder=t("poses.tags_placeholder"))
        f_text = gr.Textbox(label=t("poses.search"))
        f_active = gr.Dropdown(label=t("poses.active"), choices=[any_choice, (t("poses.active_yes"), "active"),
                                                                 (t("poses.active_no"), "inactive")],
                               value=ANY, visible=False, elem_id="pose-filter-active")
        f_min = gr.Slider(0, 1, value=0, step=0.05, label=t("poses.success_from"))
        f_max = gr.Slider(0, 1, value=1, step=0.05, label=t("poses.success_to"))
        f_flag = gr.Checkbox(label=t("poses.only_flagged"), value=False)
        f_sort = gr.Dropdown(label=t("poses.sort"), choices=[(t(f"poses.sort.{k}"), k) for k in SORTS],
                             value="success", elem_id="pose-sort")
    with gr.Row(equal_height=True):  # compact: not three full-width thirds
        prev_btn = gr.Button(t("poses.prev"), size="sm", scale=0, min_width=120, elem_id="pose-prev")
        page = gr.Number(value=1, precision=0, minimum=1, label=t("poses.page"), show_label=False, container=False,
                         scale=0, min_width=90, elem_id="pose-page")
        next_btn = gr.Button(t("poses.next"), size="sm", scale=0, min_width=120, elem_id="pose-next")
    with gr.Row():
        with gr.Column(scale=3):
            grid = gr.HTML(elem_id="pose-grid-box", js_on_load=TILE_PICK_JS)
        with gr.Column(scale=2):
            picker = gr.Dropdown(label=t("poses.picker"), choices=[], value=None, elem_id="pose-picker")
            detail = gr.HTML(f"<div class='apg-meta'>{t('poses.detail_hint')}</div>", elem_id="pose-detail")
            with gr.Group(visible=False) as admin_edit:
                ed_name = gr.Textbox(label=t("poses.name"), max_length=200, elem_id="pose-edit-name")
                with gr.Row():
                    ed_cat = gr.Dropdown(label=t("poses.category"), choices=[vocab("category", c) for c in CATEGORIES],
                                         value=None, allow_custom_value=True)
                    ed_sub = gr.Textbox(label=t("poses.subcategory"), max_length=64)
                with gr.Row():
                    ed_diff = gr.Dropdown(label=t("poses.difficulty"),
                                          choices=[vocab("difficulty", d) for d in DIFFICULTIES], value=None)
                    ed_gender = gr.Dropdown(label=t("poses.gender"), choices=[vocab("gender", g) for g in GENDERS],
                                            value=None)
                    ed_place = gr.Dropdown(label=t("poses.placement"),
                                           choices=[vocab("placement", p) for p in PLACEMENTS], value=None)
                ed_tags = gr.Textbox(label=t("poses.tags"))
                ed_desc = gr.Textbox(label=t("poses.description"), max_length=500)
                ed_active = gr.Checkbox(label=t("poses.active_edit"), elem_id="pose-active")
                with gr.Row():
                    save = gr.Button(t("poses.save"), variant="primary", elem_id="pose-save")
                    delete = gr.Button(t("poses.delete"), variant="stop", elem_id="pose-delete")
                with gr.Row(visible=False) as confirm_row:
                    gr.Markdown(t("poses.delete_confirm"))
                    confirm = gr.Button(t("poses.delete_yes"), variant="stop", elem_id="pose-delete-confirm")
                    cancel = gr.Button(t("poses.cancel"), elem_id="pose-delete-cancel")
            message_box = gr.HTML(elem_id="pose-message")
    with gr.Accordion(t("poses.bulk"), open=False, visible=False, elem_id="pose-admin-bulk") as admin_bulk:
        selection = gr.CheckboxGroup(label=t("poses.selection"), choices=[], elem_id="pose-selection")
        with gr.Row():
            bulk_action = gr.Dropdown(label=t("poses.action"),
                                      choices=[(t(f"poses.action.{a}"), a) for a in BULK_ACTIONS], value="deactivate")
            bulk_value = gr.Textbox(label=t("poses.bulk_value"))
            bulk_apply = gr.Button(t("poses.bulk_apply"))
        with gr.Row():
            export_fmt = gr.Radio([("ZIP", "zip"), ("JSON", "json")], value="zip", label=t("poses.export_as"))
            export_btn = gr.Button(t("poses.export"))
            export_file = gr.File(label=t("poses.download"), interactive=False, elem_id="pose-export-file")
    with gr.Accordion(t("poses.import_title"), open=False, visible=False,
                      elem_id="pose-admin-import") as admin_import:
        gr.Markdown(t("poses.import_help"))
        imp_files = gr.File(label=t("poses.files"), file_count="multiple", elem_id="pose-import-files")
        with gr.Row():
            imp_cat = gr.Dropdown(label=t("poses.category"), choices=[vocab("category", c) for c in CATEGORIES],
                                  value=CATEGORIES[0], elem_id="pose-import-category")
            imp_sub = gr.Textbox(label=t("poses.subcategory"), max_length=64)
            imp_place = gr.Dropdown(label=t("poses.placement"), choices=[vocab("placement", p) for p in PLACEMENTS],
                                    value=None)
            imp_active = gr.Checkbox(label=t("poses.activate_now"), value=False, elem_id="pose-import-activate")
        imp_btn = gr.Button(t("poses.import"), variant="primary", elem_id="pose-import")
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
                tags=[x.strip() for x in (tags or "").split(",") if x.strip()], text=text or None,
                active=None if active == ANY else active == "active",
                min_success=lo if lo and lo > 0 else None, max_success=hi if hi is not None and hi < 1 else None,
                flagged=True if flagged else None, sort=sort or "success", limit=PAGE_SIZE,
                offset=(pg - 1) * PAGE_SIZE)
            subs = sorted(lib.facets(session, user=user)["subcategory"])
            return rows, total, subs, user.is_admin
        rows, total, subs, is_admin = act(services, request, run, write=False)
        picks = [f"{row.id} · {row.name}" for row in rows]
        sub_choices = [(tr(request, "poses.any"), ANY), *((named(request, "subcategory", s), s) for s in subs)]
        return (_grid(rows, services.settings, total, pg, request), gr.update(choices=picks),
                gr.update(choices=picks, value=[]), gr.update(choices=sub_choices), is_admin)

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
            return [detail_hint(request)] + [gr.update()] * (len(editor) - 1)
        try:
            tpl = act(services, request, lambda s, u: lib.get(s, user=u, template_id=template_id), write=False)
        except Failed as exc:
            return [err(str(exc))] + [gr.update()] * (len(editor) - 1)
        url = lib.preview_url(tpl)
        meta = tr(request, "poses.detail_meta", code=tpl.key, aspect=tpl.aspect,
                  difficulty=named(request, "difficulty", tpl.difficulty), gender=named(request, "gender", tpl.gender),
                  tags=", ".join(tpl.tags))
        html_ = (f"<div class='apg-compare'><figure><div class='apg-thumb apg-skeleton'>"
                 f"<img alt='{esc(tr(request, 'poses.alt_pose'))}' src='{esc(url)}'></div>"
                 f"<figcaption>{esc(tpl.name)}</figcaption></figure><figure><div class='apg-thumb apg-skeleton'>"
                 f"<img alt='{esc(tr(request, 'poses.alt_mirrored'))}' src='{esc(url)}&mirrored=true'></div>"
                 f"<figcaption>{esc(tr(request, 'poses.mirrored'))}</figcaption></figure></div>"
                 f"<div class='apg-meta'>{esc(tpl.description or '')}</div><div class='apg-meta'>{esc(meta)}</div>")
        return [html_, tpl.name, tpl.category, tpl.subcategory or "", tpl.difficulty, tpl.gender,
                tpl.product_placement, ", ".join(tpl.tags), tpl.description or "", tpl.is_active]

    picker.change(fill, inputs=picker, outputs=editor)

    # a click on a pose card shows it in the detail panel
    open_on_click(services, grid, picker, lambda s, u, i: lib.get(s, user=u, template_id=i))

    def do_save(request: gr.Request, choice, name, cat, sub, diff, gender, place, tags, desc, active, *values):
        template_id = choice_id(choice)
        if template_id is None:
            return err(tr(request, "poses.pick_first")), *[gr.update()] * len(list_out)
        try:
            data = TemplateUpdate(name=name, category=cat, subcategory=sub or None, difficulty=diff, gender=gender,
                                  product_placement=place, description=desc or None, is_active=bool(active),
                                  tags=[x.strip() for x in (tags or "").split(",") if x.strip()])
            tpl = act(services, request, lambda s, u: lib.update(s, user=u, template_id=template_id, data=data))
        except ValueError as exc:
            return err(pydantic_message(exc, EDIT_LABELS, request)), *[gr.update()] * len(list_out)
        except Failed as exc:
            return err(str(exc)), *[gr.update()] * len(list_out)
        listed = listing(request, *values)
        return ok(tr(request, "poses.saved" if tpl.is_active else "poses.saved_inactive", name=tpl.name)), *listed

    save.click(do_save, inputs=[picker, *editor[1:], *filters], outputs=[message_box, *list_out])
    delete.click(lambda c: gr.update(visible=choice_id(c) is not None), inputs=picker, outputs=confirm_row)
    cancel.click(lambda: gr.update(visible=False), outputs=confirm_row)

    def do_delete(request: gr.Request, choice, *values):
        template_id = choice_id(choice)
        try:
            act(services, request, lambda s, u: lib.delete(s, user=u, template_id=template_id))
        except Failed as exc:
            return err(str(exc)), gr.update(visible=False), *[gr.update()] * len(list_out)
        return ok(tr(request, "poses.deleted")), gr.update(visible=False), *listing(request, *values)

    confirm.click(do_delete, inputs=[picker, *filters], outputs=[message_box, confirm_row, *list_out])

    def do_bulk(request: gr.Request, selected, action, value, *values):
        ids = [choice_id(c) for c in selected or [] if choice_id(c) is not None]
        if not ids:
            return err(tr(request, "poses.tick_one")), *[gr.update()] * len(list_out)
        value = (value or "").strip()
        action_name = tr(request, f"poses.action.{action}")
        if action in ("add tag", "remove tag", "set category") and not value:
            return err(tr(request, "poses.needs_value", action=action_name)), *[gr.update()] * len(list_out)
        kwargs = {"activate": {"is_active": True}, "deactivate": {"is_active": False},
                  "add tag": {"add_tags": [value]}, "remove tag": {"remove_tags": [value]},
                  "set category": {"category": value}}[action]
        try:
            n = act(services, request, lambda s, u: lib.bulk_update(s, user=u, template_ids=ids, **kwargs))
        except Failed as exc:
            return err(str(exc)), *[gr.update()] * len(list_out)
        done = tr(request, "poses.bulk_done", action=action_name[:1].upper() + action_name[1:], n=n)
        return ok(done), *listing(request, *values)

    bulk_apply.click(do_bulk, inputs=[selection, bulk_action, bulk_value, *filters],
                     outputs=[message_box, *list_out])

    def do_export(selected, fmt, request: gr.Request):
        ids = [choice_id(c) for c in selected or [] if choice_id(c) is not None]
        if not ids:
            return None, err(tr(request, "poses.tick_export"))
        try:
            data, _media, name = act(services, request, lambda s, u: importing.export(s, user=u, template_ids=ids,
                                                                                        fmt=fmt))
        except Failed as exc:
            return None, err(str(exc))
        # written straight into Gradio's cache: it expires with the uploads, and only this admin may fetch it
        Path(get_upload_folder()).mkdir(parents=True, exist_ok=True)
        out = Path(tempfile.mkdtemp(prefix="pose-export-", dir=get_upload_folder())) / name
        out.write_bytes(data)
        return str(out), ok(tr(request, "poses.exported", n=len(ids)))

    export_btn.click(do_export, inputs=[selection, export_fmt], outputs=[export_file, message_box])

    def do_import(request: gr.Request, paths, cat, sub, place, active, *values):
        if not paths:
            return gr.update(), err(tr(request, "poses.choose_files")), *[gr.update()] * len(list_out), gr.update()
        def run(session, user):  # read inside act: a file that cannot be read is a message, not a traceback
            files = [(Path(p).read_bytes(), Path(p).name) for p in paths]
            return importing.import_files(session, user=user, files=files, settings=services.settings,
                                            category=cat, subcategory=sub or None, placement=place,
                                            activate=bool(active))
        try:
            report = act(services, request, run)
        except Failed as exc:  # the files were read and have left the upload cache: the widget empties
            return gr.update(), err(str(exc)), *[gr.update()] * len(list_out), None
        finally:
            release(demo, request, paths)
        return (gr.update(value=import_report(request, report), visible=True),
                ok(tr(request, "poses.import_summary", imported=len(report["imported"]),
                      skipped=len(report["skipped"]), failed=len(report["errors"]))),
                *listing(request, *values), None)

    imp_btn.click(do_import, inputs=[imp_files, imp_cat, imp_sub, imp_place, imp_active, *filters],
                  outputs=[imp_report, message_box, *list_out, imp_files])


def import_report(request, report: dict) -> pd.DataFrame:
    """The import's rows (file, result, details) with the column names and texts in the request's language."""
    def kind(code):
        key = f"poses.kind.{code}"
        return tr(request, key) if key in EN else code

    def duplicate(r):
        d = r.get("duplicateOf")
        return f" — #{d['id']} {d['key']}" if d else ""

    def text(r, name):  # the row's message (code and parameters beside the English) in the request's language
        return message(request, importing.report_message(r, name))

    rows = ([[r["file"], tr(request, "poses.imported"),
              f"#{r['id']} {text(r, 'person')} ({kind(r['kind'])})"] for r in report["imported"]]
            + [[r["file"], tr(request, "poses.skipped"),
                f"{text(r, 'person')}: {text(r, 'reason')}{duplicate(r)}"]
               for r in report["skipped"]]
            + [[r["file"], tr(request, "poses.error"), text(r, "error")] for r in report["errors"]])
    columns = [tr(request, k) for k in ("poses.col_file", "poses.col_result", "poses.col_details")]
    return pd.DataFrame(rows, columns=columns)
