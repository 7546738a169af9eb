"""Avatars page: gallery with traits and brand-kit filter, drag-and-drop upload, generate with AI (4
candidates, keep one), trait editor, crop and rotate, delete with confirmation."""
from __future__ import annotations

import gradio as gr

from core.catalog import avatar_ai, avatars, brand_kits
from core.catalog.avatar_ai import ChooseCandidate, GenerateAvatar
from core.catalog.avatars import AGE_RANGES, ETHNICITIES, GENDERS, STYLES, AvatarCreate, AvatarUpdate, CropRequest
from core.schemas import file_url
from ui.common import (Failed, act, charging_click, new_submit_token, choice_id, choices, credits_text, err, esc, gallery_html, header, ok,
                       open_on_click, pydantic_message, shown, TILE_PICK_JS)
from ui.i18n import t, tr
from ui.upload_guard import release

ALL = "All"
NEW = "— pick an avatar —"
CROP_LABELS = {"rotate": "avatars.rotate_short", "x": "x", "y": "y", "width": "avatars.width",
               "height": "avatars.height"}
KIT_LABELS = {"name": "common.name", "brand_kit_id": "common.brand_kit"}
TRAIT_LABELS = {"name": "common.name", "gender": "avatars.gender", "age_range": "avatars.age_range",
                "style": "avatars.style", "ethnicity": "avatars.ethnicity"}
GENDER_CHOICES = choices("avatars.gender", GENDERS)
STYLE_CHOICES = choices("avatars.style", STYLES)
ETHNICITY_CHOICES = choices("avatars.ethnicity", ETHNICITIES)


def _kit_choices(session, user) -> list[str]:
    rows, _ = brand_kits.list_kits(session, user=user, limit=200)
    return [f"{k.id} · {k.brand_name}" for k in rows]


def traits_line(request, a) -> str:
    """"female · 25-34 · modest-hijab · southeast-asian", in the visitor's language."""
    parts = (shown(request, "avatars.gender", a.gender), a.age_range, shown(request, "avatars.style", a.style),
             shown(request, "avatars.ethnicity", a.ethnicity))
    return " · ".join(v for v in parts if v)


def _tiles(rows, request) -> list[dict]:
    return [{"id": a.id, "img": file_url(a.thumbnail_path), "title": a.name,
             "lines": [traits_line(request, a),
                       f"{a.width}×{a.height}px"],
             "badge": "AI" if a.source_type == "ai_generated" else None} for a in rows]


def build(services, demo: gr.Blocks) -> None:
    badge = header(services, demo, "avatars.header")
    all_choice = (t("common.all"), ALL)
    with gr.Row():
        kit_filter = gr.Dropdown(label=t("common.brand_kit"), choices=[all_choice], value=ALL,
                                 elem_id="avatar-kit-filter")
        gender_filter = gr.Dropdown(label=t("avatars.gender"), choices=[all_choice, *GENDER_CHOICES], value=ALL,
                                    elem_id="avatar-gender-filter")
        style_filter = gr.Dropdown(label=t("avatars.style"), choices=[all_choice, *STYLE_CHOICES], value=ALL,
                                   elem_id="avatar-style-filter")
    with gr.Row():
        with gr.Column(scale=3):
            gallery = gr.HTML(elem_id="avatar-gallery-box", js_on_load=TILE_PICK_JS)
        with gr.Column(scale=2):
            with gr.Tabs() as tabs:
                with gr.Tab(t("common.upload_tab"), elem_id="avatar-tab-upload", id="upload"):
                    file = gr.File(label=t("avatars.photo"), file_types=["image"], elem_id="avatar-file")
                    up_kit = gr.Dropdown(label=t("common.brand_kit"), choices=[], elem_id="avatar-upload-kit")
                    up_name = gr.Textbox(label=t("common.name"), max_length=100, elem_id="avatar-name")
                    with gr.Row():
                        up_gender = gr.Dropdown(label=t("avatars.gender"), choices=GENDER_CHOICES, value=None,
                                                elem_id="avatar-gender")
                        up_age = gr.Dropdown(label=t("avatars.age_range"), choices=list(AGE_RANGES), value=None,
                                             elem_id="avatar-age")
                    with gr.Row():
                        up_style = gr.Dropdown(label=t("avatars.style"), choices=STYLE_CHOICES, value=None,
                                               elem_id="avatar-style")
                        up_eth = gr.Dropdown(label=t("avatars.ethnicity"), choices=ETHNICITY_CHOICES, value=None,
                                             elem_id="avatar-ethnicity")
                    upload = gr.Button(t("avatars.upload"), variant="primary", elem_id="avatar-upload")
                    upload_token = gr.State(new_submit_token)   # one per submit: a repeat is answered, not charged
                with gr.Tab(t("avatars.ai_tab"), elem_id="avatar-tab-ai", id="ai"):
                    ai_text = gr.Textbox(label=t("avatars.describe"), max_length=500, lines=2,
                                         placeholder=t("avatars.describe_placeholder"), elem_id="avatar-ai-text")
                    with gr.Row():
                        ai_gender = gr.Dropdown(label=t("avatars.gender"), choices=GENDER_CHOICES, value=None,
                                                elem_id="avatar-ai-gender")
                        ai_age = gr.Dropdown(label=t("avatars.age_range"), choices=list(AGE_RANGES), value=None,
                                             elem_id="avatar-ai-age")
                    with gr.Row():
                        ai_style = gr.Dropdown(label=t("avatars.style"), choices=STYLE_CHOICES, value=None,
                                               elem_id="avatar-ai-style")
                        ai_eth = gr.Dropdown(label=t("avatars.ethnicity"), choices=ETHNICITY_CHOICES, value=None,
                                             elem_id="avatar-ai-ethnicity")
                    ai_seed = gr.Number(label=t("avatars.seed_label"), value=None, precision=0, elem_id="avatar-ai-seed")
                    ai_generate = gr.Button(t("avatars.generate"), variant="primary", elem_id="avatar-ai-generate")
                    ai_candidates = gr.HTML(elem_id="avatar-ai-candidates")
                    ai_keys = gr.State([])
                    ai_pick = gr.Radio(label=t("avatars.keep"), choices=[], value=None, elem_id="avatar-ai-pick")
                    ai_kit = gr.Dropdown(label=t("common.brand_kit"), choices=[], elem_id="avatar-ai-kit")
                    ai_name = gr.Textbox(label=t("common.name"), max_length=100, elem_id="avatar-ai-name")
                    ai_save = gr.Button(t("avatars.save_chosen"), elem_id="avatar-ai-save")
                with gr.Tab(t("common.edit_tab"), elem_id="avatar-tab-edit", id="edit"):
                    picker = gr.Dropdown(label=t("avatars.avatar"), choices=[(t("avatars.pick"), NEW)], value=NEW,
                                         elem_id="avatar-picker")
                    current = gr.HTML(elem_id="avatar-current")
                    ed_name = gr.Textbox(label=t("common.name"), max_length=100, elem_id="avatar-edit-name")
                    with gr.Row():
                        ed_gender = gr.Dropdown(label=t("avatars.gender"), choices=GENDER_CHOICES, value=None,
                                                elem_id="avatar-edit-gender")
                        ed_age = gr.Dropdown(label=t("avatars.age_range"), choices=list(AGE_RANGES), value=None,
                                             elem_id="avatar-edit-age")
                    with gr.Row():
                        ed_style = gr.Dropdown(label=t("avatars.style"), choices=STYLE_CHOICES, value=None,
                                               elem_id="avatar-edit-style")
                        ed_eth = gr.Dropdown(label=t("avatars.ethnicity"), choices=ETHNICITY_CHOICES, value=None,
                                             elem_id="avatar-edit-ethnicity")
                    save = gr.Button(t("avatars.save_traits"), elem_id="avatar-save")
                    gr.Markdown(t("avatars.crop_help"))
                    rotate = gr.Dropdown(label=t("avatars.rotate"), choices=["0", "90", "180", "270"],
                                         value="0", elem_id="avatar-rotate")
                    with gr.Row():
                        # no `minimum` here: Gradio sends an empty Number as 0 and would refuse it before our
                        # handler runs; an all-empty (or all-0) box means "no crop", the rest is checked by core
                        cx = gr.Number(label="x", value=None, precision=0, elem_id="avatar-crop-x")
                        cy = gr.Number(label="y", value=None, precision=0, elem_id="avatar-crop-y")
                        cw = gr.Number(label=t("avatars.width_short"), value=None, precision=0, elem_id="avatar-crop-w")
                        ch = gr.Number(label=t("avatars.height_short"), value=None, precision=0, elem_id="avatar-crop-h")
                    apply_crop = gr.Button(t("avatars.apply_crop"), elem_id="avatar-crop-apply")
                    face_view = gr.HTML(elem_id="avatar-face")
                    with gr.Row():
                        fx = gr.Number(label=t("avatars.face_left"), value=None, precision=0, elem_id="avatar-face-x")
                        fy = gr.Number(label=t("avatars.face_top"), value=None, precision=0, elem_id="avatar-face-y")
                        fs = gr.Number(label=t("avatars.face_size"), value=None, precision=0, elem_id="avatar-face-size")
                    set_face = gr.Button(t("avatars.face_apply"), elem_id="avatar-face-apply")
                    with gr.Row():
                        delete = gr.Button(t("common.delete"), variant="stop", elem_id="avatar-delete")
                    with gr.Row(visible=False) as confirm_row:
                        gr.Markdown(t("avatars.confirm_delete"))
                        confirm = gr.Button(t("common.yes_delete"), variant="stop", elem_id="avatar-delete-confirm")
                        cancel = gr.Button(t("common.cancel"), elem_id="avatar-delete-cancel")
            message = gr.HTML(elem_id="avatar-message")

    filters = [kit_filter, gender_filter, style_filter]

    def refresh(kit, gender, style, request: gr.Request, selected=None):
        def run(session, user):
            rows, _ = avatars.list_avatars(session, user=user, limit=200, brand_kit_id=choice_id(kit),
                                           gender=None if gender == ALL else gender,
                                           style=None if style == ALL else style)
            all_rows, _ = avatars.list_avatars(session, user=user, limit=200)
            return rows, all_rows, _kit_choices(session, user)
        rows, all_rows, kits = act(services, request, run, write=False)
        html_ = gallery_html(_tiles(rows, request), elem_id="avatar-gallery", empty=tr(request, "avatars.empty"))
        picks = [f"{a.id} · {a.name}" for a in all_rows]
        return (html_, gr.update(choices=[(tr(request, "common.all"), ALL), *kits]),
                gr.update(choices=kits, value=kits[0] if kits else None),
                gr.update(choices=[(tr(request, "avatars.pick"), NEW), *picks],
                          value=selected if selected in picks else NEW),
                gr.update(choices=kits, value=kits[0] if kits else None))

    listing_out = [gallery, kit_filter, up_kit, picker, ai_kit]

    def on_load(request: gr.Request):
        try:
            return refresh(ALL, ALL, ALL, request)
        except Failed as exc:
            return err(str(exc)), gr.update(), gr.update(), gr.update(), gr.update()

    demo.load(on_load, outputs=listing_out)
    def filtered(k, g, s, request: gr.Request):
        return refresh(k, g, s, request)[0]

    for f in filters:
        f.input(filtered, inputs=filters, outputs=gallery)

    def do_upload(path, kit, name, gender, age, style, eth, token, k, g, s, request: gr.Request):
        def refused(text):  # only the message changes; what the person entered stays
            return *[gr.update()] * len(listing_out), err(text), gr.update(), gr.update(), gr.update(), gr.update()

        if not path:
            return refused(tr(request, "avatars.choose_photo"))
        try:
            data = AvatarCreate(brand_kit_id=choice_id(kit) or 0, name=name or "", gender=gender, age_range=age,
                                style=style, ethnicity=eth)
        except ValueError as exc:
            return refused(pydantic_message(exc, {**TRAIT_LABELS, **KIT_LABELS}, request))
        if data.brand_kit_id == 0:
            return refused(tr(request, "avatars.kit_first"))

        def run(session, user):  # the path is read only when this is not a repeat of an upload already stored
            return avatars.upload(session, user=user, data=data, source=path, filename=path, store=services.store,
                                  settings=services.settings, request_key=token)
        try:
            avatar = act(services, request, run)
        except Failed as exc:  # the photo was read: it is gone from the upload cache, so the widget empties too
            return *[gr.update()] * len(listing_out), err(str(exc)), gr.update(), None, gr.update(), gr.update()
        finally:
            release(demo, request, path)
        listing = refresh(k, g, s, request, selected=f"{avatar.id} · {avatar.name}")
        # the photo and the name are cleared for the next avatar; the traits stay (often shared)
        return (*listing, ok(tr(request, "avatars.uploaded", name=avatar.name)), credits_text(services, request), None,
                "", new_submit_token())

    charging_click(upload, do_upload,
                   inputs=[file, up_kit, up_name, up_gender, up_age, up_style, up_eth, upload_token, *filters],
                   outputs=[*listing_out, message, badge, file, up_name, upload_token])

    def do_generate(text, gender, age, style, eth, seed, request: gr.Request):
        keep = (gr.update(), gr.update(), gr.update())
        try:
            ask = GenerateAvatar(text=text or None, gender=gender, age_range=age, style=style, ethnicity=eth,
                                 seed=None if seed is None else int(seed))
            result = act(services, request, lambda ss, u: avatar_ai.generate(
                ss, user=u, request=ask, store=services.store, settings=services.settings))
        except ValueError as exc:
            return (*keep, err(pydantic_message(exc, {**TRAIT_LABELS, "text": "avatars.description",
                                                      "seed": "avatars.seed"}, request)), gr.update())
        except Failed as exc:
            return (*keep, err(str(exc)), gr.update())
        # the value stays English ("Candidate 2 (seed 8)"): do_choose finds the candidate by it
        labels = [f"Candidate {i + 1} (seed {c.seed})" for i, c in enumerate(result.candidates)]
        shown_labels = [(tr(request, "avatars.candidate_seed", i=i + 1, seed=c.seed), labels[i])
                        for i, c in enumerate(result.candidates)]
        tiles = [{"id": i + 1, "img": c.url, "title": tr(request, "avatars.candidate", i=i + 1),
                  "lines": [tr(request, "avatars.seed_n", seed=c.seed)]} for i, c in enumerate(result.candidates)]
        html_ = (gallery_html(tiles, elem_id="avatar-ai-gallery", empty=tr(request, "avatars.no_candidates"))
                 + f"<div class='apg-meta'>{esc(tr(request, 'avatars.prompt', prompt=result.prompt))}</div>")
        ready = (tr(request, "avatars.four_ready") if len(labels) == 4 else
                 tr(request, "avatars.n_ready", n=len(labels)))
        return (html_, [c.key for c in result.candidates], gr.update(choices=shown_labels, value=labels[0]),
                ok(ready), credits_text(services, request))

    ai_generate.click(do_generate, inputs=[ai_text, ai_gender, ai_age, ai_style, ai_eth, ai_seed],
                      outputs=[ai_candidates, ai_keys, ai_pick, message, badge])

    def do_choose(keys, pick, kit, name, gender, age, style, eth, k, g, s, request: gr.Request):
        def refused(text):
            return (*[gr.update()] * len(listing_out), err(text), gr.update(), gr.update(), gr.update(),
                    gr.update(), gr.update())

        labels = [f"Candidate {i + 1}" for i in range(len(keys or []))]
        index = next((i for i, lab in enumerate(labels) if pick and pick.startswith(lab + " ")), None)
        if index is None:
            return refused(tr(request, "avatars.pick_candidate"))
        try:
            data = ChooseCandidate(candidate_key=keys[index], brand_kit_id=choice_id(kit) or 0, name=name or "",
                                   gender=gender, age_range=age, style=style, ethnicity=eth)
        except ValueError as exc:
            return refused(pydantic_message(exc, {**TRAIT_LABELS, **KIT_LABELS}, request))
        if data.brand_kit_id == 0:
            return refused(tr(request, "avatars.kit_first"))
        try:
            avatar = act(services, request, lambda ss, u: avatar_ai.choose(
                ss, user=u, request=data, store=services.store, settings=services.settings))
        except Failed as exc:
            return refused(str(exc))
        listing = refresh(k, g, s, request, selected=f"{avatar.id} · {avatar.name}")
        return (*listing, ok(tr(request, "avatars.saved_ai", name=avatar.name)), credits_text(services, request), "",
                [],
                gr.update(choices=[], value=None), "")

    ai_save.click(do_choose, inputs=[ai_keys, ai_pick, ai_kit, ai_name, ai_gender, ai_age, ai_style, ai_eth,
                                     *filters],
                  outputs=[*listing_out, message, badge, ai_candidates, ai_keys, ai_pick, ai_name])

    editor = [current, ed_name, ed_gender, ed_age, ed_style, ed_eth]

    def fill(choice, request: gr.Request):
        avatar_id = choice_id(choice)
        if avatar_id is None:
            return ["", "", None, None, None, None]
        try:
            a = act(services, request, lambda s, u: avatars.get(s, user=u, avatar_id=avatar_id), write=False)
        except Failed as exc:
            return [err(str(exc)), gr.update(), gr.update(), gr.update(), gr.update(), gr.update()]
        img = (f"<div class='apg-thumb' style='height:260px;aspect-ratio:auto'><img alt='{esc(a.name)}' "
               f"style='width:100%;height:100%;object-fit:contain' src='{esc(file_url(a.image_path))}'></div>"
               f"<div class='apg-meta'>{a.width}×{a.height}px</div>")
        return [img, a.name, a.gender, a.age_range, a.style, a.ethnicity]

    picker.change(fill, inputs=picker, outputs=editor)

    # a click on an avatar card opens it in the Edit tab
    open_on_click(services, gallery, picker, lambda s, u, i: avatars.get(s, user=u, avatar_id=i), tabs=tabs)

    def face_fill(choice, request: gr.Request):
        """The face likeness is taken from, how it was found, and its box as left / top / size."""
        avatar_id = choice_id(choice)
        if avatar_id is None:
            return "", None, None, None
        try:
            a = act(services, request, lambda s, u: avatars.get(s, user=u, avatar_id=avatar_id), write=False)
        except Failed as exc:
            return err(str(exc)), gr.update(), gr.update(), gr.update()
        if not a.face_path:
            return f"<div class='apg-meta'>{esc(tr(request, 'avatars.face_none'))}</div>", None, None, None
        left, top, right, _ = a.face_box
        how = tr(request, f"avatars.face_from.{a.face_source}")
        return (f"<div class='apg-face'><img id='avatar-face-img' alt='' src='{esc(file_url(a.face_path))}' "
                f"style='width:96px;height:96px;object-fit:cover;border-radius:8px'><div><b>"
                f"{esc(tr(request, 'avatars.face_title'))}</b><div class='apg-meta' id='avatar-face-source'>"
                f"{esc(how)}</div></div></div>", left, top, right - left)

    picker.change(face_fill, inputs=picker, outputs=[face_view, fx, fy, fs])

    def do_face(choice, x, y, size, request: gr.Request):
        avatar_id = choice_id(choice)
        if avatar_id is None:
            return err(tr(request, "avatars.pick_first"))
        if None in (x, y, size):
            return err(tr(request, "avatars.face_numbers"))
        box = [int(x), int(y), int(x) + int(size), int(y) + int(size)]
        try:
            act(services, request, lambda s, u: avatars.set_face(s, user=u, avatar_id=avatar_id, box=box,
                                                                 store=services.store))
        except Failed as exc:
            return err(str(exc))
        return ok(tr(request, "avatars.face_saved"))

    set_face.click(do_face, inputs=[picker, fx, fy, fs], outputs=message).then(
        face_fill, inputs=picker, outputs=[face_view, fx, fy, fs])

    def after(choice, request, text, k, g, s):
        listing = refresh(k, g, s, request, selected=choice)
        return (*listing, *fill(choice, request), ok(text), credits_text(services, request))

    full_out = [*listing_out, *editor, message, badge]

    def failed(exc):
        return [gr.update()] * (len(listing_out) + len(editor)) + [err(str(exc)), gr.update()]

    def do_save(choice, name, gender, age, style, eth, k, g, s, request: gr.Request):
        avatar_id = choice_id(choice)
        if avatar_id is None:
            return failed(tr(request, "avatars.pick_first"))
        try:
            data = AvatarUpdate(name=name, gender=gender, age_range=age, style=style, ethnicity=eth)
            a = act(services, request, lambda ss, u: avatars.update(ss, user=u, avatar_id=avatar_id, data=data))
        except ValueError as exc:
            return failed(pydantic_message(exc, TRAIT_LABELS, request))
        except Failed as exc:
            return failed(exc)
        return after(f"{a.id} · {a.name}", request, tr(request, "common.saved"), k, g, s)

    save.click(do_save, inputs=[picker, ed_name, ed_gender, ed_age, ed_style, ed_eth, *filters], outputs=full_out)

    crop_inputs = [rotate, cx, cy, cw, ch]

    def do_crop(choice, rot, x, y, w, h, k, g, s, request: gr.Request):
        keep = [gr.update()] * len(crop_inputs)
        avatar_id = choice_id(choice)
        if avatar_id is None:
            return [*failed(tr(request, "avatars.pick_first")), *keep]
        box = [None if v is None else int(v) for v in (x, y, w, h)]
        if not any(box):  # empty fields arrive as None or 0: no crop box
            box = [None] * 4
        else:  # an empty x or y is the left or top edge
            box[0], box[1] = box[0] or 0, box[1] or 0
        try:
            req = CropRequest(rotate=float(rot or 0), x=box[0], y=box[1], width=box[2], height=box[3])
            act(services, request, lambda ss, u: avatars.crop(ss, user=u, avatar_id=avatar_id, request=req,
                                                               store=services.store))
        except ValueError as exc:
            return [*failed(pydantic_message(exc, CROP_LABELS, request)), *keep]
        except Failed as exc:
            return [*failed(exc), *keep]
        # done: back to "no change", so a second click does not rotate again
        return [*after(choice, request, tr(request, "avatars.new_image"), k, g, s), "0", None, None, None, None]

    apply_crop.click(do_crop, inputs=[picker, *crop_inputs, *filters], outputs=[*full_out, *crop_inputs]).then(
        face_fill, inputs=picker, outputs=[face_view, fx, fy, fs])

    def ask_delete(choice, request: gr.Request):
        picked = choice_id(choice) is not None
        return gr.update(visible=picked), "" if picked else err(tr(request, "avatars.pick_first"))

    delete.click(ask_delete, inputs=picker, outputs=[confirm_row, message])
    cancel.click(lambda: gr.update(visible=False), outputs=confirm_row)

    def do_delete(choice, k, g, s, request: gr.Request):
        avatar_id = choice_id(choice)
        try:
            act(services, request, lambda ss, u: avatars.delete(ss, user=u, avatar_id=avatar_id, store=services.store))
        except Failed as exc:
            return [*failed(exc), gr.update(visible=False)]
        return [*after(NEW, request, tr(request, "common.deleted"), k, g, s), gr.update(visible=False)]

    confirm.click(do_delete, inputs=[picker, *filters], outputs=[*full_out, confirm_row])
