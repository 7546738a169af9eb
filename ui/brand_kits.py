"""Brand Kits page: the user's kits as cards, a create/edit form with colour pickers, a font picker
with a live preview, logo upload, set default, and delete with confirmation.

Click a card (or pick it in "Edit kit") to load it into the form; "+ New kit" empties the form.
"""
from __future__ import annotations

import base64
import io

import gradio as gr

from core.catalog import brand_kits as kits
from core.catalog.brand_kits import CATEGORIES, TONES, BrandKitCreate, BrandKitUpdate
from core.catalog.fonts import list_font_families, render_font_preview
from core.errors import DomainError
from core.schemas import file_url
from ui.common import Failed, act, choice_id, choices, credits_text, err, esc, header, ok, pydantic_message, shown
from ui.i18n import EN, message as core_text, t, tr
from ui.upload_guard import release

MAX_COLORS = 10
START_COLORS = 3
DEFAULT_COLORS = ["#E4572E", "#17BEBB", "#FFC914", "#2E282A", "#76B041", "#FFFFFF", "#3F88C5", "#F49D37",
                  "#140F2D", "#D72638"]
NEW = "+ New kit"
NO_FONT = "-"             # the second-font picker's "none"
LABELS = {"brand_name": "brand_kits.brand_name", "category": "common.category", "tone": "brand_kits.tone",
          "tagline": "brand_kits.tagline", "colors": "brand_kits.colours", "fonts": "brand_kits.fonts_short",
          "is_default": "brand_kits.default"}
PREVIEW_SAMPLE = "Kulit cerah alami"

# Clicking a card asks the server to load that kit into the form (event delegation: the cards re-render).
CARD_CLICK_JS = """
const pick = (event) => {
  const card = event.target.closest('[data-kit-id]');
  if (card) { event.preventDefault(); trigger('click', {kit_id: card.dataset.kitId}); }
};
element.addEventListener('click', pick);
element.addEventListener('keydown', (event) => { if (event.key === 'Enter' || event.key === ' ') pick(event); });
"""


def _choice(kit) -> str:
    return f"{kit.id} · {kit.brand_name}"


def cards_html(rows, request) -> str:
    if not rows:
        return f"<div class='apg-empty' id='brand-kit-cards'>{esc(tr(request, 'brand_kits.empty'))}</div>"
    out = ["<div class='apg-cards' id='brand-kit-cards'>"]
    for k in rows:
        swatches = "".join(f"<span class='apg-swatch' title='{esc(c)}' style='background:{esc(c)}'></span>"
                           for c in k.colors)
        logo = (f"<img class='apg-logo' alt='{esc(tr(request, 'brand_kits.logo_alt', name=k.brand_name))}' "
                f"src='{esc(file_url(k.logo_path))}'>" if k.logo_path else
                f"<div class='apg-logo apg-nologo'>{esc(tr(request, 'brand_kits.no_logo'))}</div>")
        badge = f"<span class='apg-badge'>{esc(tr(request, 'brand_kits.default'))}</span>" if k.is_default else ""
        fonts = "".join(f"<span class='apg-font' style=\"font-family:'{esc(f)}', sans-serif\">{esc(f)}</span>"
                        for f in k.fonts)
        tagline = (f"<div class='apg-tagline' style=\"font-family:'{esc(k.fonts[0])}', sans-serif\">"
                   f"{esc(k.tagline)}</div>" if k.tagline and k.fonts else "")
        out.append(
            f"<div class='apg-card' data-kit-id='{k.id}' role='button' tabindex='0' "
            f"title='{esc(tr(request, 'brand_kits.click_to_edit'))}'>"
            f"{logo}<div class='apg-card-body'>"
            f"<div class='apg-card-title'><span class='apg-card-name'>{esc(k.brand_name)}</span>{badge}</div>"
            f"<div class='apg-swatches'>{swatches}</div>"
            f"<div class='apg-meta'>{esc(shown(request, 'brand_kits.category', k.category or 'other'))} · "
            f"{esc(shown(request, 'brand_kits.tone', k.tone))}</div>"
            f"<div class='apg-fonts'>{fonts}</div>{tagline}</div></div>")
    out.append("</div>")
    return "".join(out)


def preview_html(family: str | None, name: str | None, tagline: str | None, color: str | None,
                 background: str | None, request=None) -> str:
    """The brand name and tagline set in the chosen font by Pillow (the same files posters use), inline as a
    data: URL so the preview never lands in Gradio's shared file cache."""
    if not family:
        return f"<div class='apg-preview apg-empty'>{esc(tr(request, 'brand_kits.pick_font'))}</div>"
    text = f"{(name or '').strip() or 'Nama Toko'}\n{(tagline or '').strip() or PREVIEW_SAMPLE}"
    try:
        image = render_font_preview(family, text[:300], color=_hex(color, "#111111"),
                                    background=_hex(background, "#FFFFFF"), size=40, width=640)
    except DomainError as exc:   # a font, colour or text the preview refuses, in the visitor's language
        return err(core_text(request, exc))
    except Exception:  # noqa: BLE001 - a preview never breaks the form
        return err(tr(request, "brand_kits.no_preview"))
    buf = io.BytesIO()
    image.save(buf, format="PNG", optimize=True)
    data = base64.b64encode(buf.getvalue()).decode()
    return (f"<div class='apg-preview' id='kit-font-preview-img'>"
            f"<img alt='{esc(tr(request, 'brand_kits.preview_alt', font=family))}' "
            f"src='data:image/png;base64,{data}'><div class='apg-meta'>{esc(family)}</div></div>")


def _font_choices(families: list[str]) -> list:
    """Font names are shown as they are in every language (keys "brand_kits.font.<family>")."""
    return [(t(f"brand_kits.font.{f}"), f) if f"brand_kits.font.{f}" in EN else f for f in families]


def _hex(value: str | None, fallback: str) -> str:
    value = (value or "").strip()
    return value.upper() if len(value) == 7 and value.startswith("#") else fallback


def build(services, demo: gr.Blocks) -> None:
    badge = header(services, demo, "brand_kits.header")
    fonts_all = list_font_families()
    # a readable text face by default (Bebas Neue is all capitals, a display face: a second font at most)
    main_default = next((f for f in ("Poppins", "Montserrat", "Open Sans") if f in fonts_all), fonts_all[0] if fonts_all
                        else None)

    with gr.Row(equal_height=False):
        with gr.Column(scale=3):
            cards = gr.HTML(elem_id="brand-kit-cards-box", js_on_load=CARD_CLICK_JS)
        with gr.Column(scale=2, elem_classes="apg-form"):
            picker = gr.Dropdown(label=t("brand_kits.edit_kit"), choices=[(t("brand_kits.new_kit"), NEW)], value=NEW,
                                 elem_id="kit-picker", info=t("brand_kits.edit_kit_info"))
            name = gr.Textbox(label=t("brand_kits.brand_name"), max_length=100,
                              placeholder=t("brand_kits.brand_name_placeholder"), elem_id="kit-name")
            with gr.Row():
                category = gr.Dropdown(label=t("common.category"), choices=choices("brand_kits.category", CATEGORIES),
                                       value="other", elem_id="kit-category")
                tone = gr.Dropdown(label=t("brand_kits.tone"), choices=choices("brand_kits.tone", TONES),
                                   value="friendly", elem_id="kit-tone")
            tagline = gr.Textbox(label=t("brand_kits.tagline_label"), max_length=140, elem_id="kit-tagline")
            with gr.Group(elem_classes="apg-colors"):
                n_colors = gr.Slider(1, MAX_COLORS, value=START_COLORS, step=1, label=t("brand_kits.colours"),
                                     elem_id="kit-n-colors")
                with gr.Row(elem_classes="apg-color-row"):
                    pickers = [gr.ColorPicker(value=DEFAULT_COLORS[i], label=t(f"brand_kits.colour_{i + 1}"),
                                              min_width=72, visible=i < START_COLORS, elem_id=f"kit-color-{i}",
                                              elem_classes="apg-color") for i in range(MAX_COLORS)]
            with gr.Row():
                font_main = gr.Dropdown(label=t("brand_kits.font_main"), choices=_font_choices(fonts_all),
                                        value=main_default, elem_id="kit-font-main")
                font_second = gr.Dropdown(label=t("brand_kits.font_second"),
                                          choices=[(t("brand_kits.font_none"), NO_FONT), *_font_choices(fonts_all)],
                                          value=NO_FONT, elem_id="kit-font-second")
            font_rest = gr.State([])   # a third font a kit may have (REST allows 3): kept as it is
            preview = gr.HTML(elem_id="kit-font-preview")
            # a File, not gr.Image: gr.Image decodes the upload itself and shows its raw error for a PDF or an
            # empty file; here every logo reaches our own intake (core) and its message, like avatars and products.
            logo = gr.File(label=t("brand_kits.logo"), type="filepath", file_types=["image"], height=140,
                           elem_id="kit-logo")
            message = gr.HTML(elem_id="kit-message")
            with gr.Row(elem_classes="apg-actions"):
                save = gr.Button(t("brand_kits.save"), variant="primary", elem_id="kit-save", min_width=90)
                make_default = gr.Button(t("brand_kits.make_default"), elem_id="kit-default", min_width=90)
                delete = gr.Button(t("common.delete"), variant="stop", elem_id="kit-delete", min_width=90)
            with gr.Group(visible=False, elem_classes="apg-confirm") as confirm_row:
                gr.Markdown(t("brand_kits.confirm_delete"))
                with gr.Row():
                    confirm = gr.Button(t("common.yes_delete"), variant="stop", elem_id="kit-delete-confirm",
                                        min_width=90)
                    cancel = gr.Button(t("common.cancel"), elem_id="kit-delete-cancel", min_width=90)
            gr.Markdown(t("brand_kits.costs"), elem_classes="apg-meta")

    form = [name, category, tone, tagline, n_colors, font_main, font_second, font_rest, *pickers]
    preview_in = [font_main, name, tagline, n_colors, pickers[0], pickers[1]]

    def live_preview(main_v, name_v, tagline_v, n, color1, color2, request: gr.Request):
        return preview_html(main_v or None, name_v, tagline_v, color1,
                            color2 if int(n or 1) >= 2 else "#FFFFFF", request)

    def listing(request: gr.Request, selected: str | None = None):
        rows, _ = act(services, request, lambda s, u: kits.list_kits(s, user=u, limit=200), write=False)
        picks = [_choice(k) for k in rows]
        return cards_html(rows, request), gr.update(choices=[(tr(request, "brand_kits.new_kit"), NEW), *picks],
                                                    value=selected if selected in picks else NEW)

    def empty_form() -> list:
        return ["", "other", "friendly", "", START_COLORS, main_default, NO_FONT, [], *DEFAULT_COLORS]

    def kit_form(k) -> list:
        fonts_k = list(k.fonts)
        return [k.brand_name, k.category or "other", k.tone, k.tagline or "", len(k.colors),
                fonts_k[0] if fonts_k else main_default, fonts_k[1] if len(fonts_k) > 1 else NO_FONT, fonts_k[2:],
                *k.colors, *DEFAULT_COLORS[len(k.colors):]]

    def on_load(request: gr.Request):
        preview_v = preview_html(main_default, "", "", DEFAULT_COLORS[0], DEFAULT_COLORS[1],
                                 request)
        try:
            return (*listing(request), preview_v)
        except Failed as exc:
            return err(str(exc)), gr.update(), preview_v

    demo.load(on_load, outputs=[cards, picker, preview])

    def load_kit(kit_id: int | None, request: gr.Request) -> list:
        """Form values for a kit (or the empty form), the logo cleared, the message and confirmation reset."""
        if kit_id is None:
            return [NEW, *empty_form(), None, "", gr.update(visible=False)]
        try:
            k = act(services, request, lambda s, u: kits.get(s, user=u, kit_id=kit_id), write=False)
        except Failed as exc:
            return [gr.update()] * (1 + len(form)) + [gr.update(), err(str(exc)), gr.update(visible=False)]
        return [_choice(k), *kit_form(k), None, "", gr.update(visible=False)]

    form_out = [picker, *form, logo, message, confirm_row]

    def on_pick(choice, request: gr.Request):
        return load_kit(choice_id(choice), request)

    def on_card(evt: gr.EventData, request: gr.Request):
        return load_kit(_int(getattr(evt, "kit_id", None)), request)

    # .select fires only when the user picks an entry; .change/.input also fire when a handler (save, load)
    # sets the picker, which would wipe the form and the message.
    picker.select(on_pick, inputs=picker, outputs=form_out)
    cards.click(on_card, outputs=form_out)
    n_colors.change(lambda n: [gr.update(visible=i < int(n)) for i in range(MAX_COLORS)], inputs=n_colors,
                    outputs=pickers, show_progress="hidden")
    for comp in preview_in:
        comp.change(live_preview, inputs=preview_in, outputs=preview, show_progress="hidden")

    def do_save(request: gr.Request, choice, name_v, category_v, tone_v, tagline_v, n, main_v, second_v, rest_v,
                *rest):
        colors_v, logo_path = list(rest[:MAX_COLORS])[: int(n)], rest[MAX_COLORS]
        kit_id = choice_id(choice)
        fonts_v = list(dict.fromkeys(f for f in [main_v, second_v, *(rest_v or [])] if f and f != NO_FONT))
        fields = dict(brand_name=name_v or "", category=category_v, tone=tone_v, tagline=tagline_v or None,
                      colors=[c for c in colors_v if c], fonts=fonts_v)
        unchanged = [gr.update(), gr.update()]
        try:
            data = BrandKitCreate(**fields) if kit_id is None else BrandKitUpdate(**fields)
        except ValueError as exc:  # pydantic validation: the first problem, named by its label
            return *unchanged, err(pydantic_message(exc, LABELS, request)), gr.update(), gr.update()

        def run(session, user):
            if kit_id is None:
                return kits.create(session, user=user, data=data)
            return kits.update(session, user=user, kit_id=kit_id, data=data)

        try:
            kit = act(services, request, run)
        except Failed as exc:
            return *unchanged, err(str(exc)), credits_text(services, request), gr.update()
        done = tr(request, "brand_kits.created" if kit_id is None else "brand_kits.saved", name=kit.brand_name)
        note = ok(done)
        if logo_path:
            def upload(session, user):
                return kits.upload_logo(session, user=user, kit_id=kit.id, source=logo_path, filename=logo_path,
                                        store=services.store, settings=services.settings)
            try:
                kit = act(services, request, upload)
            except Failed as exc:  # the kit is saved; say so (the refused file has left the cache)
                note = err(tr(request, "brand_kits.logo_not_saved", done=done, error=str(exc)))
            finally:
                release(demo, request, logo_path)
        return (*listing(request, selected=_choice(kit)), note, credits_text(services, request), None)

    save.click(do_save, inputs=[picker, *form, logo], outputs=[cards, picker, message, badge, logo])

    def do_default(choice, request: gr.Request):
        kit_id = choice_id(choice)
        if kit_id is None:
            return gr.update(), gr.update(), err(tr(request, "brand_kits.pick_first"))
        try:
            kit = act(services, request, lambda s, u: kits.set_default(s, user=u, kit_id=kit_id))
        except Failed as exc:
            return gr.update(), gr.update(), err(str(exc))
        return (*listing(request, selected=_choice(kit)),
                ok(tr(request, "brand_kits.now_default", name=kit.brand_name)))

    make_default.click(do_default, inputs=picker, outputs=[cards, picker, message])

    def ask_delete(choice, request: gr.Request):
        if choice_id(choice) is None:
            return gr.update(visible=False), err(tr(request, "brand_kits.pick_first"))
        return gr.update(visible=True), ""

    delete.click(ask_delete, inputs=picker, outputs=[confirm_row, message])
    cancel.click(lambda: gr.update(visible=False), outputs=confirm_row)

    def do_delete(choice, request: gr.Request):
        kit_id = choice_id(choice)
        try:
            act(services, request, lambda s, u: kits.delete(s, user=u, kit_id=kit_id, store=services.store))
        except Failed as exc:
            return [gr.update(), gr.update(), err(str(exc)), gr.update(visible=False), gr.update(),
                    *[gr.update()] * len(form)]
        html_, pick = listing(request)
        return [html_, pick, ok(tr(request, "brand_kits.deleted", name=choice.split(" · ", 1)[-1])),
                gr.update(visible=False),
                credits_text(services, request), *empty_form()]

    confirm.click(do_delete, inputs=picker, outputs=[cards, picker, message, confirm_row, badge, *form])


def _int(value) -> int | None:
    try:
        return int(value)
    except (TypeError, ValueError):
        return None
