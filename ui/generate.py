"""Generate page: pick a brand kit, an avatar and a product, then
- "Try one pose": a pose template (by category, with its skeleton preview), a seed and a size; the job runner
  renders one checked image and a timer shows it next to its control skeleton with score, seed, prompt, time;
- "Batch": many poses, spread over the library's categories or picked by name, with size, quality, seed and
  an optional project; the price shows before starting, and the Results page watches the batch arrive."""
from __future__ import annotations

import gradio as gr

from core.catalog import avatars, brand_kits, products
from core.accounts import credits
from core import system
from core.generation import checks, state as generation_state, planning
from core.library import templates as lib
from core.generation.state import APP, SEED_LIMIT
from core.generation.batches import failure
from core.generation.planning import TryOne
from core.schemas import file_url
from ui.common import Failed, act, choice_id, credits_text, downloads_html, err, esc, header, ok, pydantic_message
from ui.generate_batch import ALL, batch_section, seed_error, size_choices, templates_of
from ui.i18n import message, t, tr
from ui.poses import named
from ui.results_view import checks_html, status_text

RESULT_BOX = "height:320px;aspect-ratio:auto;border:1px solid var(--border-color-primary);border-radius:8px"
RESULT_IMG = "width:100%;height:100%;max-height:none;object-fit:contain"
LABELS = {"brand_kit_id": "generate.kit", "avatar_id": "generate.avatar", "product_id": "generate.field.product",
          "template_id": "generate.pose", "seed": "generate.seed_word", "size": "generate.size",
          "extra_prompt": "generate.field.extra_prompt"}


def _usable(p) -> bool:
    """Products the engine can show: those with a ready cut-out (worn garments too: they are warped on)."""
    return bool(p.cutout_path)


def _preview_html(tpl, request=None) -> str:
    if tpl is None:
        return (f"<div class='apg-empty' id='gen-template-preview-empty'>"
                f"{esc(tr(request, 'generate.pick_pose_preview'))}</div>")
    lines = " · ".join(v for v in (named(request, "category", tpl.category),
                                   named(request, "subcategory", tpl.subcategory),
                                   named(request, "placement", tpl.product_placement),
                                   named(request, "difficulty", tpl.difficulty)) if v)
    alt = tr(request, "generate.skeleton_alt", name=tpl.name)
    return (f"<figure style='margin:0'><div class='apg-thumb' style='height:220px;aspect-ratio:auto;background:#000'>"
            f"<img id='gen-template-img' alt='{esc(alt)}' style='{RESULT_IMG}' "
            f"src='{esc(lib.preview_url(tpl))}'></div><figcaption><b>{esc(tpl.name)}</b>"
            f"<div class='apg-meta'>{esc(lines)}</div><div class='apg-meta'>{esc(tpl.description)}</div>"
            f"</figcaption></figure>")


def result_html(g, pose, request=None) -> str:
    """The finished pose: the image and its control skeleton side by side (from our owner-checked file
    route, never Gradio's shared cache), then score, seed, time and prompt; or the pose's error."""
    if pose is None:
        return ""

    def say(key, **values):
        return esc(tr(request, key, **values))

    if pose.status != "done":
        text = (message(request, failure(pose)) if pose.error
                else tr(request, "generate.pose_status", status=status_text(request, pose.status)))
        return err(text) + (
            f"<div class='apg-meta' id='gen-result-seed'>{say('generate.failed_line', seed=pose.seed, n=pose.attempts)}"
            f"</div>" if pose.status == "failed" else "")
    score = tr(request, "generate.not_checked") if pose.quality_score is None else f"{pose.quality_score:.2f}"
    checks_line = checks_html((g.options or {}).get("checks"), request, elem_id="gen-result-checks")
    size = f"{g.options.get('width')}×{g.options.get('height')}" if g.options else ""
    seconds = f"{pose.render_seconds:.1f}s" if pose.render_seconds is not None else "—"
    return (f"<div class='apg-compare' id='gen-result-pair'>"
            f"<figure><div class='apg-thumb' style='{RESULT_BOX}'><img id='gen-result-image' "
            f"alt='{say('generate.result_alt')}' style='{RESULT_IMG}' src='{esc(file_url(pose.image_path))}'></div>"
            f"<figcaption>{say('generate.result')} <a href='{esc(file_url(pose.image_path))}' target='_blank'>"
            f"{say('generate.open')}</a></figcaption></figure>"
            f"<figure><div class='apg-thumb' style='{RESULT_BOX};background:#000'><img id='gen-result-control' "
            f"alt='{say('generate.control_alt')}' style='{RESULT_IMG}' src='{esc(file_url(pose.control_path))}'>"
            f"</div><figcaption>{say('generate.control')}</figcaption></figure></div>"
            f"<div class='apg-meta' id='gen-result-score'>{say('generate.pose_check')} <b>{esc(score)}</b></div>"
            f"{checks_line}"
            f"<div class='apg-meta' id='gen-result-seed'>{say('generate.seed_word')} <b>{pose.seed}</b> · "
            f"{esc(size)} · {say('generate.attempts', n=pose.attempts)} · {esc(seconds)}</div>"
            f"<details open><summary class='apg-meta'>{say('generate.prompt')}</summary>"
            f"<div class='apg-meta' id='gen-result-prompt'>{esc(pose.prompt)}</div>"
            f"<div class='apg-meta'><i>{say('generate.negative')}</i> {esc(pose.negative_prompt)}</div>"
            f"</details>")


def build(services, demo: gr.Blocks) -> None:
    cost = credits.cost(APP, "generatePose")
    badge = header(services, demo, "generate.header")
    sizes = size_choices(services.settings, in_browser=True)
    default_size = "portrait" if any(v == "portrait" for _, v in sizes) else (sizes[0][1] if sizes else None)
    with gr.Row():
        kit = gr.Dropdown(label=t("generate.kit"), choices=[], value=None, elem_id="gen-kit")
        avatar = gr.Dropdown(label=t("generate.avatar"), choices=[], value=None, elem_id="gen-avatar")
        product = gr.Dropdown(label=t("generate.product"), choices=[], value=None, elem_id="gen-product")
    with gr.Tabs():
        with gr.Tab(t("generate.tab_try"), elem_id="gen-tab-try"):
            with gr.Row():
                with gr.Column(scale=3):
                    with gr.Row():
                        category = gr.Dropdown(label=t("generate.category"), choices=[(t("generate.all"), ALL)],
                                               value=ALL, elem_id="gen-category")
                        template = gr.Dropdown(label=t("generate.pose"), choices=[], value=None,
                                               elem_id="gen-template")
                    with gr.Row():
                        seed = gr.Textbox(label=t("generate.seed"), max_lines=1,
                                          placeholder=t("generate.seed_placeholder"), elem_id="gen-seed")
                        size = gr.Dropdown(label=t("generate.size"), choices=sizes, value=default_size,
                                           elem_id="gen-size")
                    extra = gr.Textbox(label=t("generate.extra"), max_length=500, lines=2,
                                       placeholder=t("generate.extra_placeholder"), elem_id="gen-extra")
                    go = gr.Button(t("generate.try"), variant="primary", elem_id="gen-try")
                    try_checks = gr.HTML(elem_id="gen-try-checks")   # what will run, next to the price on the button
                    gr.Markdown(t("generate.batch_note"), elem_id="gen-batch-note")
                with gr.Column(scale=2):
                    preview = gr.HTML(elem_id="gen-template-preview")
            message_box = gr.HTML(elem_id="gen-message")
            result = gr.HTML(elem_id="gen-result")
        with gr.Tab(t("generate.tab_batch"), elem_id="gen-tab-batch"):
            batch_section(services, demo, badge, [kit, avatar, product], sizes, default_size)
    current = gr.State(None)
    timer = gr.Timer(1.0, active=False)

    def _templates(session, user, cat):
        return templates_of(session, user, services.settings, cat)

    def category_choices(request, cats) -> list[tuple[str, str]]:
        return [(tr(request, "generate.all"), ALL), *((named(request, "category", c), c) for c in cats)]

    def on_load(request: gr.Request):
        def run(session, user):
            kits, _ = brand_kits.list_kits(session, user=user, limit=200)
            avs, _ = avatars.list_avatars(session, user=user, limit=200)
            prods, _ = products.list_products(session, user=user, limit=200)
            cats = sorted(lib.facets(session, user=user)["category"])
            temps = _templates(session, user, ALL)
            return kits, avs, [p for p in prods if _usable(p)], cats, temps
        labels = (gr.update(value=tr(request, "generate.try_cost", n=cost)),
                  gr.update(choices=size_choices(services.settings, request)),
                  checks_html(checks.planned(services.settings), request, elem_id="gen-try-checks-text"))
        try:
            kits, avs, prods, cats, temps = act(services, request, run, write=False)
        except Failed as exc:
            return *[gr.update()] * 6, err(str(exc)), *labels
        kit_choices = [f"{k.id} · {k.brand_name}" for k in kits]
        first_kit = kits[0].id if kits else None
        av_choices = [f"{a.id} · {a.name}" for a in avs if first_kit is None or a.brand_kit_id == first_kit]
        pr_choices = [f"{p.id} · {p.name}" for p in prods]
        t_choices = [f"{tpl.id} · {tpl.name}" for tpl in temps]
        hint = ""
        if not kits or not avs or not prods:
            missing = [tr(request, key) for key, rows in (("generate.need_kit", kits), ("generate.need_avatar", avs),
                                                           ("generate.need_product", prods)) if not rows]
            hint = err(tr(request, "generate.need", missing=", ".join(missing)))
        return (gr.update(choices=kit_choices, value=kit_choices[0] if kit_choices else None),
                gr.update(choices=av_choices, value=av_choices[0] if av_choices else None),
                gr.update(choices=pr_choices, value=pr_choices[0] if pr_choices else None),
                gr.update(choices=category_choices(request, cats), value=ALL),
                gr.update(choices=t_choices, value=t_choices[0] if t_choices else None),
                _preview_html(temps[0] if temps else None, request), hint, *labels)

    demo.load(on_load, outputs=[kit, avatar, product, category, template, preview, message_box, go, size, try_checks])

    def on_kit(kit_choice, request: gr.Request):
        kit_id = choice_id(kit_choice)
        try:
            avs, _ = act(services, request, lambda s, u: avatars.list_avatars(s, user=u, limit=200,
                                                                               brand_kit_id=kit_id), write=False)
        except Failed as exc:
            return gr.update(), err(str(exc))
        choices = [f"{a.id} · {a.name}" for a in avs]
        return gr.update(choices=choices, value=choices[0] if choices else None), (
            "" if choices else err(tr(request, "generate.kit_no_avatar")))

    kit.input(on_kit, inputs=kit, outputs=[avatar, message_box])

    def on_category(cat, request: gr.Request):
        try:
            temps = act(services, request, lambda s, u: _templates(s, u, cat), write=False)
        except Failed as exc:
            return gr.update(), gr.update(), err(str(exc))
        choices = [f"{tpl.id} · {tpl.name}" for tpl in temps]
        return (gr.update(choices=choices, value=choices[0] if choices else None),
                _preview_html(temps[0] if temps else None, request), "")

    category.input(on_category, inputs=category, outputs=[template, preview, message_box])

    def on_template(choice, request: gr.Request):
        template_id = choice_id(choice)
        if template_id is None:
            return _preview_html(None, request)
        try:
            return act(services, request,
                       lambda s, u: _preview_html(lib.get(s, user=u, template_id=template_id), request), write=False)
        except Failed as exc:
            return err(str(exc))

    template.input(on_template, inputs=template, outputs=preview)

    def do_try(kit_c, av_c, pr_c, t_c, seed_text, size_name, extra_text, request: gr.Request):
        keep = [gr.update(), gr.update(), gr.update(active=False)]
        text = (seed_text or "").strip()
        if seed_error(text):
            return *keep, err(tr(request, "generate.seed_invalid", max=SEED_LIMIT)), gr.update()
        for value, key in ((kit_c, "generate.pick_kit"), (av_c, "generate.pick_avatar"),
                           (pr_c, "generate.pick_product"), (t_c, "generate.pick_template")):
            if choice_id(value) is None:
                return *keep, err(tr(request, key)), gr.update()
        try:
            req = TryOne(brand_kit_id=choice_id(kit_c), avatar_id=choice_id(av_c), product_id=choice_id(pr_c),
                         template_id=choice_id(t_c), seed=int(text) if text else None,
                         size=size_name or "portrait", extra_prompt=(extra_text or "").strip() or None)
        except ValueError as exc:
            return *keep, err(pydantic_message(exc, LABELS, request)), gr.update()
        try:
            g = act(services, request, lambda s, u: planning.start_single(
                s, user=u, request=req, settings=services.settings, runner=services.runner))
        except Failed as exc:
            return *keep, err(str(exc)), gr.update()
        waiting = (f"<div class='apg-empty' id='gen-result-pending'>{esc(tr(request, 'generate.rendering_wait'))}"
                   f"</div>")
        return (g.id, waiting, gr.Timer(active=True), ok(tr(request, "generate.started", id=g.id)),
                credits_text(services, request))

    go.click(do_try, inputs=[kit, avatar, product, template, seed, size, extra],
             outputs=[current, result, timer, message_box, badge])

    def tick(generation_id, request: gr.Request):
        if generation_id is None:
            return gr.update(), gr.update(), gr.Timer(active=False), gr.update()

        def run(session, user):
            g = generation_state.get(session, user=user, generation_id=generation_id)
            poses = generation_state.poses_of(session, user=user, generation_id=generation_id)
            return g, (poses[0] if poses else None)
        try:
            g, pose = act(services, request, run)
        except Failed as exc:
            return err(str(exc)), gr.update(), gr.Timer(active=False), gr.update()
        if g.status not in ("completed", "failed", "cancelled"):
            state = tr(request, "generate.state_rendering" if g.status == "running" else "generate.state_waiting")
            waiting = downloads_html(system.model_downloads(services.settings), request, "gen-downloads")
            return (f"<div class='apg-empty' id='gen-result-pending'>"
                    f"{esc(tr(request, 'generate.progress', id=g.id, state=state))}{waiting}</div>",
                    gr.update(), gr.update(), gr.update())
        done = g.status == "completed"
        note = ok(tr(request, "generate.done", id=g.id)) if done else err(tr(request, "generate.failed", id=g.id))
        return result_html(g, pose, request), note, gr.Timer(active=False), credits_text(services, request)

    timer.tick(tick, inputs=current, outputs=[result, message_box, timer, badge], show_progress="hidden")
