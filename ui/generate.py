"""Generate page: pick a brand kit, an avatar and a product, then
- "Try one pose": a pose template (by category, with its skeleton preview), a seed and a size; the job runner
  renders one checked image and a timer shows it next to its control skeleton with score, seed, prompt, time;
- "Batch": many poses, spread over the library's categories or picked by name, with size, quality, seed and
  an optional project; the price shows before starting, and the Results page watches the batch arrive."""
from __future__ import annotations

import gradio as gr

from core import avatars, brand_kits, credits, generation, products
from core import pose_library as lib
from core.errors import DomainError
from core.generation import APP, SEED_LIMIT, TryOne
from core.schemas import file_url
from ui.common import Failed, act, choice_id, credits_text, err, esc, header, ok, pydantic_message
from ui.generate_batch import ALL, batch_section, templates_of

RESULT_BOX = "height:320px;aspect-ratio:auto;border:1px solid var(--border-color-primary);border-radius:8px"
RESULT_IMG = "width:100%;height:100%;max-height:none;object-fit:contain"
LABELS = {"brand_kit_id": "Brand kit", "avatar_id": "Avatar", "product_id": "Product", "template_id": "Pose",
          "seed": "Seed", "size": "Size", "extra_prompt": "Extra prompt"}


def size_choices(settings) -> list[tuple[str, str]]:
    """(label, preset name) for every output size preset, e.g. ("portrait · 512×768", "portrait")."""
    raw = settings.output_sizes.strip()
    names = ["square", "portrait", "landscape"] if raw == "auto" else [i.split("=", 1)[0] for i in raw.split(",")]
    out = []
    for name in names:
        try:
            w, h = generation.output_size(settings, name)
        except DomainError:
            continue
        out.append((f"{name} · {w}×{h}", name))
    return out


def _usable(p) -> bool:
    """Products the engine can show: a ready cut-out, or worn (prompt only)."""
    return p.placement == "worn" or bool(p.cutout_path)


def _preview_html(t) -> str:
    if t is None:
        return "<div class='apg-empty' id='gen-template-preview-empty'>Pick a pose to see its skeleton.</div>"
    lines = " · ".join(v for v in (t.category, t.subcategory, t.product_placement, t.difficulty) if v)
    return (f"<figure style='margin:0'><div class='apg-thumb' style='height:220px;aspect-ratio:auto;background:#000'>"
            f"<img id='gen-template-img' alt='{esc(t.name)} skeleton' style='{RESULT_IMG}' "
            f"src='{esc(lib.preview_url(t))}'></div><figcaption><b>{esc(t.name)}</b>"
            f"<div class='apg-meta'>{esc(lines)}</div><div class='apg-meta'>{esc(t.description)}</div>"
            f"</figcaption></figure>")


def result_html(g, pose) -> str:
    """The finished pose: the image and its control skeleton side by side (from our owner-checked file
    route, never Gradio's shared cache), then score, seed, time and prompt; or the pose's error."""
    if pose is None:
        return ""
    if pose.status != "done":
        return err(pose.error or f"The pose {pose.status}.") + (
            f"<div class='apg-meta' id='gen-result-seed'>seed {pose.seed} · "
            f"{pose.attempts} attempt(s) · credits refunded</div>" if pose.status == "failed" else "")
    score = "not checked" if pose.quality_score is None else f"{pose.quality_score:.2f}"
    size = f"{g.options.get('width')}×{g.options.get('height')}" if g.options else ""
    seconds = f"{pose.render_seconds:.1f}s" if pose.render_seconds is not None else "—"
    return (f"<div class='apg-compare' id='gen-result-pair'>"
            f"<figure><div class='apg-thumb' style='{RESULT_BOX}'><img id='gen-result-image' alt='generated pose' "
            f"style='{RESULT_IMG}' src='{esc(file_url(pose.image_path))}'></div><figcaption>Result "
            f"<a href='{esc(file_url(pose.image_path))}' target='_blank'>open</a></figcaption></figure>"
            f"<figure><div class='apg-thumb' style='{RESULT_BOX};background:#000'><img id='gen-result-control' "
            f"alt='control skeleton' style='{RESULT_IMG}' src='{esc(file_url(pose.control_path))}'></div>"
            f"<figcaption>Control skeleton</figcaption></figure></div>"
            f"<div class='apg-meta' id='gen-result-score'>Pose check: <b>{esc(score)}</b></div>"
            f"<div class='apg-meta' id='gen-result-seed'>Seed <b>{pose.seed}</b> · {esc(size)} · "
            f"{pose.attempts} attempt(s) · {esc(seconds)}</div>"
            f"<details open><summary class='apg-meta'>Prompt</summary><div class='apg-meta' id='gen-result-prompt'>"
            f"{esc(pose.prompt)}</div><div class='apg-meta'><i>Negative:</i> {esc(pose.negative_prompt)}</div>"
            f"</details>")


def build(services, demo: gr.Blocks) -> None:
    cost = credits.cost(APP, "generatePose")
    badge = header(services, demo, "Generate",
                   "Launch a batch of on-model photos, or try one pose with your avatar and product first.")
    sizes = size_choices(services.settings)
    default_size = "portrait" if any(v == "portrait" for _, v in sizes) else (sizes[0][1] if sizes else None)
    with gr.Row():
        kit = gr.Dropdown(label="Brand kit", choices=[], value=None, elem_id="gen-kit")
        avatar = gr.Dropdown(label="Avatar", choices=[], value=None, elem_id="gen-avatar")
        product = gr.Dropdown(label="Product (with its cut-out ready)", choices=[], value=None,
                              elem_id="gen-product")
    with gr.Tabs():
        with gr.Tab("Try one pose", elem_id="gen-tab-try"):
            with gr.Row():
                with gr.Column(scale=3):
                    with gr.Row():
                        category = gr.Dropdown(label="Pose category", choices=[ALL], value=ALL,
                                               elem_id="gen-category")
                        template = gr.Dropdown(label="Pose", choices=[], value=None, elem_id="gen-template")
                    with gr.Row():
                        seed = gr.Textbox(label="Seed (blank = random)", max_lines=1, placeholder="random",
                                          elem_id="gen-seed")
                        size = gr.Dropdown(label="Size", choices=sizes, value=default_size, elem_id="gen-size")
                    extra = gr.Textbox(label="Extra prompt (optional)", max_length=500, lines=2,
                                       placeholder="e.g. soft morning light, pastel background", elem_id="gen-extra")
                    go = gr.Button(f"Try this pose ({cost} credits)", variant="primary", elem_id="gen-try")
                    gr.Markdown("Failed poses are refunded. Happy with it? Launch many poses in the **Batch** tab.",
                                elem_id="gen-batch-note")
                with gr.Column(scale=2):
                    preview = gr.HTML(elem_id="gen-template-preview")
            message = gr.HTML(elem_id="gen-message")
            result = gr.HTML(elem_id="gen-result")
        with gr.Tab("Batch", elem_id="gen-tab-batch"):
            batch_section(services, demo, badge, [kit, avatar, product], sizes, default_size)
    current = gr.State(None)
    timer = gr.Timer(1.0, active=False)

    def _templates(session, user, cat):
        return templates_of(session, user, services.settings, cat)

    def on_load(request: gr.Request):
        def run(session, user):
            kits, _ = brand_kits.list_kits(session, user=user, limit=200)
            avs, _ = avatars.list_avatars(session, user=user, limit=200)
            prods, _ = products.list_products(session, user=user, limit=200)
            cats = sorted(lib.facets(session, user=user)["category"])
            temps = _templates(session, user, ALL)
            return kits, avs, [p for p in prods if _usable(p)], cats, temps
        try:
            kits, avs, prods, cats, temps = act(services, request, run)
        except Failed as exc:
            return *[gr.update()] * 6, err(str(exc))
        kit_choices = [f"{k.id} · {k.brand_name}" for k in kits]
        first_kit = kits[0].id if kits else None
        av_choices = [f"{a.id} · {a.name}" for a in avs if first_kit is None or a.brand_kit_id == first_kit]
        pr_choices = [f"{p.id} · {p.name}" for p in prods]
        t_choices = [f"{t.id} · {t.name}" for t in temps]
        hint = ""
        if not kits or not avs or not prods:
            missing = [w for w, rows in (("a brand kit", kits), ("an avatar", avs),
                                          ("a product with its background removed", prods)) if not rows]
            hint = err("To try a pose you need " + ", ".join(missing) + " first.")
        return (gr.update(choices=kit_choices, value=kit_choices[0] if kit_choices else None),
                gr.update(choices=av_choices, value=av_choices[0] if av_choices else None),
                gr.update(choices=pr_choices, value=pr_choices[0] if pr_choices else None),
                gr.update(choices=[ALL, *cats], value=ALL),
                gr.update(choices=t_choices, value=t_choices[0] if t_choices else None),
                _preview_html(temps[0] if temps else None), hint)

    demo.load(on_load, outputs=[kit, avatar, product, category, template, preview, message])

    def on_kit(kit_choice, request: gr.Request):
        kit_id = choice_id(kit_choice)
        try:
            avs, _ = act(services, request, lambda s, u: avatars.list_avatars(s, user=u, limit=200,
                                                                               brand_kit_id=kit_id))
        except Failed as exc:
            return gr.update(), err(str(exc))
        choices = [f"{a.id} · {a.name}" for a in avs]
        return gr.update(choices=choices, value=choices[0] if choices else None), (
            "" if choices else err("This brand kit has no avatar yet: add one on the Avatars page."))

    kit.input(on_kit, inputs=kit, outputs=[avatar, message])

    def on_category(cat, request: gr.Request):
        try:
            temps = act(services, request, lambda s, u: _templates(s, u, cat))
        except Failed as exc:
            return gr.update(), gr.update(), err(str(exc))
        choices = [f"{t.id} · {t.name}" for t in temps]
        return (gr.update(choices=choices, value=choices[0] if choices else None),
                _preview_html(temps[0] if temps else None), "")

    category.input(on_category, inputs=category, outputs=[template, preview, message])

    def on_template(choice, request: gr.Request):
        template_id = choice_id(choice)
        if template_id is None:
            return _preview_html(None)
        try:
            return act(services, request, lambda s, u: _preview_html(lib.get(s, user=u, template_id=template_id)))
        except Failed as exc:
            return err(str(exc))

    template.input(on_template, inputs=template, outputs=preview)

    def do_try(kit_c, av_c, pr_c, t_c, seed_text, size_name, extra_text, request: gr.Request):
        keep = [gr.update(), gr.update(), gr.update(active=False)]
        text = (seed_text or "").strip()
        if text and not text.isdigit():
            return *keep, err(f"Seed: a whole number from 0 to {SEED_LIMIT}, or blank for a random one."), gr.update()
        for value, label in ((kit_c, "a brand kit"), (av_c, "an avatar"), (pr_c, "a product"), (t_c, "a pose")):
            if choice_id(value) is None:
                return *keep, err(f"Pick {label} first."), gr.update()
        try:
            req = TryOne(brand_kit_id=choice_id(kit_c), avatar_id=choice_id(av_c), product_id=choice_id(pr_c),
                         template_id=choice_id(t_c), seed=int(text) if text else None,
                         size=size_name or "portrait", extra_prompt=(extra_text or "").strip() or None)
        except ValueError as exc:
            return *keep, err(pydantic_message(exc, LABELS)), gr.update()
        try:
            g = act(services, request, lambda s, u: generation.start_single(
                s, user=u, request=req, settings=services.settings, runner=services.runner))
        except Failed as exc:
            return *keep, err(str(exc)), gr.update()
        waiting = ("<div class='apg-empty' id='gen-result-pending'>Rendering your pose… "
                   "this page updates by itself.</div>")
        return (g.id, waiting, gr.Timer(active=True), ok(f"Started: generation #{g.id}."),
                credits_text(services, request))

    go.click(do_try, inputs=[kit, avatar, product, template, seed, size, extra],
             outputs=[current, result, timer, message, badge])

    def tick(generation_id, request: gr.Request):
        if generation_id is None:
            return gr.update(), gr.update(), gr.Timer(active=False), gr.update()

        def run(session, user):
            g = generation.get_generation(session, user=user, generation_id=generation_id)
            poses = generation.poses_of(session, user=user, generation_id=generation_id)
            return g, (poses[0] if poses else None)
        try:
            g, pose = act(services, request, run)
        except Failed as exc:
            return err(str(exc)), gr.update(), gr.Timer(active=False), gr.update()
        if g.status not in ("completed", "failed", "cancelled"):
            state = "rendering" if g.status == "running" else "waiting for a free worker"
            return (f"<div class='apg-empty' id='gen-result-pending'>Generation #{g.id}: {esc(state)}…</div>",
                    gr.update(), gr.update(), gr.update())
        done = g.status == "completed"
        note = ok(f"Done: generation #{g.id}.") if done else err(f"Generation #{g.id} failed; its credits were "
                                                                  "refunded.")
        return result_html(g, pose), note, gr.Timer(active=False), credits_text(services, request)

    timer.tick(tick, inputs=current, outputs=[result, message, timer, badge], show_progress="hidden")
