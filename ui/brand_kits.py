"""Brand Kits page: the user's kits as cards, a create/edit form with colour pickers, a font picker
with a live preview, logo upload, set default, and delete with confirmation."""
from __future__ import annotations

import gradio as gr

from core import brand_kits as kits
from core.brand_kits import CATEGORIES, TONES, BrandKitCreate, BrandKitUpdate
from core.fonts import list_font_families, render_font_preview
from core.schemas import file_url
from ui.common import Failed, act, credits_text, err, esc, header, ok

MAX_COLORS = 10
DEFAULT_COLORS = ["#E4572E", "#17BEBB", "#FFC914", "#2E282A", "#76B041", "#FFFFFF", "#3F88C5", "#F49D37",
                  "#140F2D", "#D72638"]
NEW = "➕ New kit"


def cards_html(rows) -> str:
    if not rows:
        return ("<div class='apg-empty'>No brand kits yet. Fill in the form to create your first one — "
                "it becomes your default kit.</div>")
    out = ["<div class='apg-cards' id='brand-kit-cards'>"]
    for k in rows:
        swatches = "".join(f"<span class='apg-swatch' title='{esc(c)}' style='background:{esc(c)}'></span>"
                           for c in k.colors)
        logo = (f"<img class='apg-logo' alt='logo' src='{esc(file_url(k.logo_path))}'>" if k.logo_path
                else "<div class='apg-logo apg-nologo'>no logo</div>")
        badge = "<span class='apg-badge'>Default</span>" if k.is_default else ""
        fonts = " · ".join(f"<span style=\"font-family:'{esc(f)}'\">{esc(f)}</span>" for f in k.fonts)
        out.append(
            f"<div class='apg-card' data-kit-id='{k.id}'>{logo}<div class='apg-card-body'>"
            f"<div class='apg-card-title'>{esc(k.brand_name)} {badge}</div>"
            f"<div class='apg-swatches'>{swatches}</div>"
            f"<div class='apg-meta'>{esc(k.category)} · {esc(k.tone)} · {fonts}</div>"
            f"<div class='apg-tagline'>{esc(k.tagline or '')}</div></div></div>")
    out.append("</div>")
    return "".join(out)


def build(services, demo: gr.Blocks) -> None:
    badge = header(services, demo, "Brand Kits",
                   "Your shop's name, colours, fonts, logo and tone — posters and prompts use them automatically.")
    fonts_all = list_font_families()

    with gr.Row():
        with gr.Column(scale=3):
            cards = gr.HTML(elem_id="brand-kit-cards-box")
        with gr.Column(scale=2):
            picker = gr.Dropdown(label="Edit kit", choices=[NEW], value=NEW, elem_id="kit-picker")
            name = gr.Textbox(label="Brand name", max_length=100, placeholder="e.g. Toko Cantik", elem_id="kit-name")
            with gr.Row():
                category = gr.Dropdown(label="Category", choices=list(CATEGORIES), value="other")
                tone = gr.Dropdown(label="Tone", choices=list(TONES), value="friendly")
            tagline = gr.Textbox(label="Tagline (up to 140 characters)", max_length=140, elem_id="kit-tagline")
            n_colors = gr.Slider(1, MAX_COLORS, value=3, step=1, label="Number of colours")
            with gr.Row():
                pickers = [gr.ColorPicker(value=DEFAULT_COLORS[i], label=f"Colour {i + 1}", visible=i < 3,
                                          elem_id=f"kit-color-{i}") for i in range(MAX_COLORS)]
            fonts = gr.Dropdown(label="Fonts (1–3)", choices=fonts_all, value=fonts_all[:1], multiselect=True,
                                max_choices=3, elem_id="kit-fonts")
            preview = gr.Image(label="Font preview", interactive=False, height=160, show_label=True)
            logo = gr.Image(label="Logo (PNG, JPEG or WebP)", type="filepath", sources=["upload"], height=140)
            message = gr.HTML(elem_id="kit-message")
            with gr.Row():
                save = gr.Button("Save kit", variant="primary", elem_id="kit-save")
                make_default = gr.Button("Make default", elem_id="kit-default")
                delete = gr.Button("Delete…", variant="stop", elem_id="kit-delete")
            with gr.Row(visible=False) as confirm_row:
                gr.Markdown("**Delete this kit?** Its avatars and products are deleted with it.")
                confirm = gr.Button("Yes, delete", variant="stop", elem_id="kit-delete-confirm")
                cancel = gr.Button("Cancel")

    form = [name, category, tone, tagline, n_colors, fonts, *pickers]

    def listing(request: gr.Request, selected=None):
        def run(session, user):
            rows, _ = kits.list_kits(session, user=user, limit=200)
            return rows
        rows = act(services, request, run)
        choices = [NEW] + [f"{k.id} · {k.brand_name}" for k in rows]
        value = selected if selected in choices else NEW
        return cards_html(rows), gr.update(choices=choices, value=value)

    def load(request: gr.Request):
        try:
            html_, pick = listing(request)
            return html_, pick
        except Failed as exc:
            return err(str(exc)), gr.update()

    demo.load(load, outputs=[cards, picker])

    def selected_id(choice: str | None) -> int | None:
        return None if not choice or choice == NEW else int(choice.split(" · ", 1)[0])

    def fill(choice, request: gr.Request):
        kit_id = selected_id(choice)
        if kit_id is None:
            return ["", "other", "friendly", "", 3, fonts_all[:1], *DEFAULT_COLORS, None, ""]
        try:
            k = act(services, request, lambda s, u: kits.get(s, user=u, kit_id=kit_id))
        except Failed as exc:
            return [gr.update()] * len(form) + [None, err(str(exc))]
        colors = k.colors + DEFAULT_COLORS[len(k.colors):]
        return [k.brand_name, k.category or "other", k.tone, k.tagline or "", len(k.colors), k.fonts, *colors,
                None, ""]

    picker.change(fill, inputs=picker, outputs=[*form, logo, message])
    n_colors.change(lambda n: [gr.update(visible=i < n) for i in range(MAX_COLORS)], inputs=n_colors,
                    outputs=pickers)

    def live_preview(fonts_value, name_value, tagline_value, n, *colors):
        if not fonts_value:
            return None
        text = (name_value or "Nama Toko") + (f"\n{tagline_value}" if tagline_value else "\nKulit cerah alami")
        return render_font_preview(fonts_value[0], text, color=colors[0] if colors and n >= 1 else "#111111",
                                   background=colors[1] if len(colors) > 1 and n >= 2 else "#FFFFFF", size=40)

    for comp in (fonts, name, tagline, n_colors, pickers[0], pickers[1]):
        comp.change(live_preview, inputs=[fonts, name, tagline, n_colors, *pickers], outputs=preview)

    def do_save(choice, name_v, category_v, tone_v, tagline_v, n, fonts_v, *rest, request: gr.Request):
        colors_v, logo_path = list(rest[:MAX_COLORS])[: int(n)], rest[MAX_COLORS]
        kit_id = selected_id(choice)
        fields = dict(brand_name=name_v or "", category=category_v, tone=tone_v, tagline=tagline_v or None,
                      colors=[c for c in colors_v if c], fonts=fonts_v or [])

        def run(session, user):
            try:
                if kit_id is None:
                    kit = kits.create(session, user=user, data=BrandKitCreate(**fields))
                else:
                    kit = kits.update(session, user=user, kit_id=kit_id, data=BrandKitUpdate(**fields))
            except ValueError as exc:  # pydantic validation: show the first problem, named by field
                first = exc.errors()[0] if hasattr(exc, "errors") else None
                where = ".".join(str(p) for p in first["loc"]) if first else ""
                text = first["msg"].removeprefix("Value error, ") if first else str(exc)
                raise Failed(f"{where}: {text}" if where else text) from None
            if logo_path:
                with open(logo_path, "rb") as fh:
                    kits.upload_logo(session, user=user, kit_id=kit.id, source=fh, filename=logo_path,
                                     store=services.store, settings=services.settings)
            return kit

        try:
            kit = act(services, request, run)
        except Failed as exc:
            return gr.update(), gr.update(), err(str(exc)), credits_text(services, request), gr.update()
        html_, pick = listing(request, selected=f"{kit.id} · {kit.brand_name}")
        verb = "Created" if kit_id is None else "Saved"
        return html_, pick, ok(f"{verb} “{kit.brand_name}”."), credits_text(services, request), None

    save.click(do_save, inputs=[picker, *form, logo], outputs=[cards, picker, message, badge, logo])

    def do_default(choice, request: gr.Request):
        kit_id = selected_id(choice)
        if kit_id is None:
            return gr.update(), gr.update(), err("Pick a kit in “Edit kit” first.")
        try:
            kit = act(services, request, lambda s, u: kits.set_default(s, user=u, kit_id=kit_id))
        except Failed as exc:
            return gr.update(), gr.update(), err(str(exc))
        html_, pick = listing(request, selected=choice)
        return html_, pick, ok(f"“{kit.brand_name}” is now your default kit.")

    make_default.click(do_default, inputs=picker, outputs=[cards, picker, message])

    def ask_delete(choice):
        if selected_id(choice) is None:
            return gr.update(visible=False), err("Pick a kit in “Edit kit” first.")
        return gr.update(visible=True), ""

    delete.click(ask_delete, inputs=picker, outputs=[confirm_row, message])
    cancel.click(lambda: gr.update(visible=False), outputs=confirm_row)

    def do_delete(choice, request: gr.Request):
        kit_id = selected_id(choice)
        try:
            act(services, request, lambda s, u: kits.delete(s, user=u, kit_id=kit_id, store=services.store))
        except Failed as exc:
            return gr.update(), gr.update(), err(str(exc)), gr.update(visible=False), gr.update()
        html_, pick = listing(request)
        return html_, pick, ok("Deleted."), gr.update(visible=False), credits_text(services, request)

    confirm.click(do_delete, inputs=picker, outputs=[cards, picker, message, confirm_row, badge])
