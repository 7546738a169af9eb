"""Avatars page: gallery with traits and brand-kit filter, drag-and-drop upload, generate with AI (4
candidates, keep one), trait editor, crop and rotate, delete with confirmation."""
from __future__ import annotations

import gradio as gr

from core import avatar_ai, avatars, brand_kits
from core.avatar_ai import ChooseCandidate, GenerateAvatar
from core.avatars import AGE_RANGES, ETHNICITIES, GENDERS, STYLES, AvatarCreate, AvatarUpdate, CropRequest
from core.schemas import file_url
from ui.common import Failed, act, choice_id, credits_text, err, esc, gallery_html, header, ok, pydantic_message

ALL = "All"
NEW = "— pick an avatar —"
CROP_LABELS = {"rotate": "Rotate", "x": "x", "y": "y", "width": "Width", "height": "Height"}


def _kit_choices(session, user) -> list[str]:
    rows, _ = brand_kits.list_kits(session, user=user, limit=200)
    return [f"{k.id} · {k.brand_name}" for k in rows]


def _tiles(rows) -> list[dict]:
    return [{"id": a.id, "img": file_url(a.thumbnail_path), "title": a.name,
             "lines": [" · ".join(v for v in (a.gender, a.age_range, a.style, a.ethnicity) if v),
                       f"{a.width}×{a.height}px"],
             "badge": "AI" if a.source_type == "ai_generated" else None} for a in rows]


def build(services, demo: gr.Blocks) -> None:
    badge = header(services, demo, "Avatars", "The models who wear and hold your products. Each belongs to a brand kit.")
    with gr.Row():
        kit_filter = gr.Dropdown(label="Brand kit", choices=[ALL], value=ALL, elem_id="avatar-kit-filter")
        gender_filter = gr.Dropdown(label="Gender", choices=[ALL, *GENDERS], value=ALL, elem_id="avatar-gender-filter")
        style_filter = gr.Dropdown(label="Style", choices=[ALL, *STYLES], value=ALL, elem_id="avatar-style-filter")
    with gr.Row():
        with gr.Column(scale=3):
            gallery = gr.HTML(elem_id="avatar-gallery-box")
        with gr.Column(scale=2):
            with gr.Tab("Upload", elem_id="avatar-tab-upload"):
                file = gr.File(label="Photo (drag and drop a JPEG, PNG or WebP)", file_types=["image"],
                               elem_id="avatar-file")
                up_kit = gr.Dropdown(label="Brand kit", choices=[], elem_id="avatar-upload-kit")
                up_name = gr.Textbox(label="Name", max_length=100, elem_id="avatar-name")
                with gr.Row():
                    up_gender = gr.Dropdown(label="Gender", choices=list(GENDERS), value=None, elem_id="avatar-gender")
                    up_age = gr.Dropdown(label="Age range", choices=list(AGE_RANGES), value=None, elem_id="avatar-age")
                with gr.Row():
                    up_style = gr.Dropdown(label="Style", choices=list(STYLES), value=None, elem_id="avatar-style")
                    up_eth = gr.Dropdown(label="Ethnicity", choices=list(ETHNICITIES), value=None,
                                         elem_id="avatar-ethnicity")
                upload = gr.Button("Upload avatar (5 credits)", variant="primary", elem_id="avatar-upload")
            with gr.Tab("Generate with AI", elem_id="avatar-tab-ai"):
                ai_text = gr.Textbox(label="Describe the model", max_length=500, lines=2,
                                     placeholder="e.g. friendly batik seller, short hair, warm smile",
                                     elem_id="avatar-ai-text")
                with gr.Row():
                    ai_gender = gr.Dropdown(label="Gender", choices=list(GENDERS), value=None,
                                            elem_id="avatar-ai-gender")
                    ai_age = gr.Dropdown(label="Age range", choices=list(AGE_RANGES), value=None,
                                         elem_id="avatar-ai-age")
                with gr.Row():
                    ai_style = gr.Dropdown(label="Style", choices=list(STYLES), value=None, elem_id="avatar-ai-style")
                    ai_eth = gr.Dropdown(label="Ethnicity", choices=list(ETHNICITIES), value=None,
                                         elem_id="avatar-ai-ethnicity")
                ai_seed = gr.Number(label="Seed (empty: random)", value=None, precision=0, elem_id="avatar-ai-seed")
                ai_generate = gr.Button("Generate 4 candidates (20 credits)", variant="primary",
                                        elem_id="avatar-ai-generate")
                ai_candidates = gr.HTML(elem_id="avatar-ai-candidates")
                ai_keys = gr.State([])
                ai_pick = gr.Radio(label="Keep", choices=[], value=None, elem_id="avatar-ai-pick")
                ai_kit = gr.Dropdown(label="Brand kit", choices=[], elem_id="avatar-ai-kit")
                ai_name = gr.Textbox(label="Name", max_length=100, elem_id="avatar-ai-name")
                ai_save = gr.Button("Save the chosen one as an avatar", elem_id="avatar-ai-save")
            with gr.Tab("Edit", elem_id="avatar-tab-edit"):
                picker = gr.Dropdown(label="Avatar", choices=[NEW], value=NEW, elem_id="avatar-picker")
                current = gr.HTML(elem_id="avatar-current")
                ed_name = gr.Textbox(label="Name", max_length=100, elem_id="avatar-edit-name")
                with gr.Row():
                    ed_gender = gr.Dropdown(label="Gender", choices=list(GENDERS), value=None,
                                            elem_id="avatar-edit-gender")
                    ed_age = gr.Dropdown(label="Age range", choices=list(AGE_RANGES), value=None,
                                         elem_id="avatar-edit-age")
                with gr.Row():
                    ed_style = gr.Dropdown(label="Style", choices=list(STYLES), value=None, elem_id="avatar-edit-style")
                    ed_eth = gr.Dropdown(label="Ethnicity", choices=list(ETHNICITIES), value=None,
                                         elem_id="avatar-edit-ethnicity")
                save = gr.Button("Save traits (2 credits)", elem_id="avatar-save")
                gr.Markdown("**Crop and rotate** (rotation first, then the crop box in pixels of the rotated image; "
                            "leave the box empty to only rotate)")
                rotate = gr.Dropdown(label="Rotate (degrees, counter-clockwise)", choices=["0", "90", "180", "270"],
                                     value="0", elem_id="avatar-rotate")
                with gr.Row():
                    # no `minimum` here: Gradio sends an empty Number as 0 and would refuse it before our
                    # handler runs; an all-empty (or all-0) box means "no crop", the rest is checked by core
                    cx = gr.Number(label="x", value=None, precision=0, elem_id="avatar-crop-x")
                    cy = gr.Number(label="y", value=None, precision=0, elem_id="avatar-crop-y")
                    cw = gr.Number(label="width", value=None, precision=0, elem_id="avatar-crop-w")
                    ch = gr.Number(label="height", value=None, precision=0, elem_id="avatar-crop-h")
                apply_crop = gr.Button("Apply crop/rotate (2 credits)", elem_id="avatar-crop-apply")
                with gr.Row():
                    delete = gr.Button("Delete…", variant="stop", elem_id="avatar-delete")
                with gr.Row(visible=False) as confirm_row:
                    gr.Markdown("**Delete this avatar?** Its photo is removed for good.")
                    confirm = gr.Button("Yes, delete", variant="stop", elem_id="avatar-delete-confirm")
                    cancel = gr.Button("Cancel", elem_id="avatar-delete-cancel")
            message = gr.HTML(elem_id="avatar-message")

    filters = [kit_filter, gender_filter, style_filter]

    def refresh(kit, gender, style, request: gr.Request, selected=None):
        def run(session, user):
            rows, _ = avatars.list_avatars(session, user=user, limit=200, brand_kit_id=choice_id(kit),
                                           gender=None if gender == ALL else gender,
                                           style=None if style == ALL else style)
            all_rows, _ = avatars.list_avatars(session, user=user, limit=200)
            return rows, all_rows, _kit_choices(session, user)
        rows, all_rows, kits = act(services, request, run)
        html_ = gallery_html(_tiles(rows), elem_id="avatar-gallery",
                             empty="No avatars here yet. Upload a photo of your model on the right.")
        picks = [NEW] + [f"{a.id} · {a.name}" for a in all_rows]
        return (html_, gr.update(choices=[ALL, *kits]), gr.update(choices=kits, value=kits[0] if kits else None),
                gr.update(choices=picks, value=selected if selected in picks else NEW),
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

    def do_upload(path, kit, name, gender, age, style, eth, k, g, s, request: gr.Request):
        def refused(text):  # only the message changes; what the person entered stays
            return *[gr.update()] * len(listing_out), err(text), gr.update(), gr.update(), gr.update()

        if not path:
            return refused("Choose a photo first.")
        try:
            data = AvatarCreate(brand_kit_id=choice_id(kit) or 0, name=name or "", gender=gender, age_range=age,
                                style=style, ethnicity=eth)
        except ValueError as exc:
            return refused(pydantic_message(exc, {"name": "Name", "brand_kit_id": "Brand kit"}))
        if data.brand_kit_id == 0:
            return refused("Create a brand kit first (Brand Kits page): every avatar belongs to one.")

        def run(session, user):
            with open(path, "rb") as fh:
                return avatars.upload(session, user=user, data=data, source=fh, filename=path,
                                      store=services.store, settings=services.settings)
        try:
            avatar = act(services, request, run)
        except Failed as exc:
            return refused(str(exc))
        listing = refresh(k, g, s, request, selected=f"{avatar.id} · {avatar.name}")
        # the photo and the name are cleared for the next avatar; the traits stay (often shared)
        return (*listing, ok(f"Uploaded “{avatar.name}”."), credits_text(services, request), None, "")

    upload.click(do_upload, inputs=[file, up_kit, up_name, up_gender, up_age, up_style, up_eth, *filters],
                 outputs=[*listing_out, message, badge, file, up_name])

    def do_generate(text, gender, age, style, eth, seed, request: gr.Request):
        keep = (gr.update(), gr.update(), gr.update())
        try:
            ask = GenerateAvatar(text=text or None, gender=gender, age_range=age, style=style, ethnicity=eth,
                                 seed=None if seed is None else int(seed))
            result = act(services, request, lambda ss, u: avatar_ai.generate(
                ss, user=u, request=ask, store=services.store, settings=services.settings))
        except ValueError as exc:
            return (*keep, err(pydantic_message(exc, {"text": "Description", "seed": "Seed"})), gr.update())
        except Failed as exc:
            return (*keep, err(str(exc)), gr.update())
        labels = [f"Candidate {i + 1} (seed {c.seed})" for i, c in enumerate(result.candidates)]
        tiles = [{"id": i + 1, "img": c.url, "title": f"Candidate {i + 1}", "lines": [f"seed {c.seed}"]}
                 for i, c in enumerate(result.candidates)]
        html_ = (gallery_html(tiles, elem_id="avatar-ai-gallery", empty="No candidates.")
                 + f"<div class='apg-meta'>Prompt: {esc(result.prompt)}</div>")
        return (html_, [c.key for c in result.candidates], gr.update(choices=labels, value=labels[0]),
                ok("4 candidates ready: pick one, name it and save it." if len(labels) == 4 else
                   f"{len(labels)} candidates ready."), credits_text(services, request))

    ai_generate.click(do_generate, inputs=[ai_text, ai_gender, ai_age, ai_style, ai_eth, ai_seed],
                      outputs=[ai_candidates, ai_keys, ai_pick, message, badge])

    def do_choose(keys, pick, kit, name, gender, age, style, eth, k, g, s, request: gr.Request):
        def refused(text):
            return (*[gr.update()] * len(listing_out), err(text), gr.update(), gr.update(), gr.update(),
                    gr.update(), gr.update())

        labels = [f"Candidate {i + 1}" for i in range(len(keys or []))]
        index = next((i for i, lab in enumerate(labels) if pick and pick.startswith(lab + " ")), None)
        if index is None:
            return refused("Generate candidates, then pick the one to keep.")
        try:
            data = ChooseCandidate(candidate_key=keys[index], brand_kit_id=choice_id(kit) or 0, name=name or "",
                                   gender=gender, age_range=age, style=style, ethnicity=eth)
        except ValueError as exc:
            return refused(pydantic_message(exc, {"name": "Name", "brand_kit_id": "Brand kit"}))
        if data.brand_kit_id == 0:
            return refused("Create a brand kit first (Brand Kits page): every avatar belongs to one.")
        try:
            avatar = act(services, request, lambda ss, u: avatar_ai.choose(
                ss, user=u, request=data, store=services.store, settings=services.settings))
        except Failed as exc:
            return refused(str(exc))
        listing = refresh(k, g, s, request, selected=f"{avatar.id} · {avatar.name}")
        return (*listing, ok(f"Saved “{avatar.name}” (AI-generated)."), credits_text(services, request), "", [],
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
            a = act(services, request, lambda s, u: avatars.get(s, user=u, avatar_id=avatar_id))
        except Failed as exc:
            return [err(str(exc)), gr.update(), gr.update(), gr.update(), gr.update(), gr.update()]
        img = (f"<div class='apg-thumb' style='height:260px;aspect-ratio:auto'><img alt='{esc(a.name)}' "
               f"style='width:100%;height:100%;object-fit:contain' src='{esc(file_url(a.image_path))}'></div>"
               f"<div class='apg-meta'>{a.width}×{a.height}px</div>")
        return [img, a.name, a.gender, a.age_range, a.style, a.ethnicity]

    picker.change(fill, inputs=picker, outputs=editor)

    def after(choice, request, text, k, g, s):
        listing = refresh(k, g, s, request, selected=choice)
        return (*listing, *fill(choice, request), ok(text), credits_text(services, request))

    full_out = [*listing_out, *editor, message, badge]

    def failed(exc):
        return [gr.update()] * (len(listing_out) + len(editor)) + [err(str(exc)), gr.update()]

    def do_save(choice, name, gender, age, style, eth, k, g, s, request: gr.Request):
        avatar_id = choice_id(choice)
        if avatar_id is None:
            return failed("Pick an avatar first.")
        try:
            data = AvatarUpdate(name=name, gender=gender, age_range=age, style=style, ethnicity=eth)
            a = act(services, request, lambda ss, u: avatars.update(ss, user=u, avatar_id=avatar_id, data=data))
        except ValueError as exc:
            return failed(pydantic_message(exc))
        except Failed as exc:
            return failed(exc)
        return after(f"{a.id} · {a.name}", request, "Saved.", k, g, s)

    save.click(do_save, inputs=[picker, ed_name, ed_gender, ed_age, ed_style, ed_eth, *filters], outputs=full_out)

    crop_inputs = [rotate, cx, cy, cw, ch]

    def do_crop(choice, rot, x, y, w, h, k, g, s, request: gr.Request):
        keep = [gr.update()] * len(crop_inputs)
        avatar_id = choice_id(choice)
        if avatar_id is None:
            return [*failed("Pick an avatar first."), *keep]
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
            return [*failed(pydantic_message(exc, CROP_LABELS)), *keep]
        except Failed as exc:
            return [*failed(exc), *keep]
        # done: back to "no change", so a second click does not rotate again
        return [*after(choice, request, "New image saved.", k, g, s), "0", None, None, None, None]

    apply_crop.click(do_crop, inputs=[picker, *crop_inputs, *filters], outputs=[*full_out, *crop_inputs])

    delete.click(lambda c: (gr.update(visible=choice_id(c) is not None),
                            "" if choice_id(c) is not None else err("Pick an avatar first.")),
                 inputs=picker, outputs=[confirm_row, message])
    cancel.click(lambda: gr.update(visible=False), outputs=confirm_row)

    def do_delete(choice, k, g, s, request: gr.Request):
        avatar_id = choice_id(choice)
        try:
            act(services, request, lambda ss, u: avatars.delete(ss, user=u, avatar_id=avatar_id, store=services.store))
        except Failed as exc:
            return [*failed(exc), gr.update(visible=False)]
        return [*after(NEW, request, "Deleted.", k, g, s), gr.update(visible=False)]

    confirm.click(do_delete, inputs=[picker, *filters], outputs=[*full_out, confirm_row])
