"""The Batch tab of the Generate page: many poses, spread over the library's categories or picked by name,
with size, quality, seed and an optional project; the price shows before starting, and a link opens the
Results page that watches the batch arrive."""
from __future__ import annotations

import gradio as gr

from core.generation import checks, planning, projects
from core import sizes as generation_sizes
from core.library import templates as lib
from core.generation.planning import BatchRequest
from core.generation.projects import ProjectCreate
from core.errors import DomainError
from core.generation.state import SEED_LIMIT
from ui.common import Failed, act, choice_id, credits_text, err, esc, ok, pydantic_message
from ui.i18n import t, tr
from ui.locales import EN
from ui.poses import named
from ui.results_view import checks_html

ALL = "All"


def seed_error(text: str) -> bool:
    """Whether a typed seed is not blank and not a whole number from 0 to SEED_LIMIT."""
    return bool(text) and (not text.isdigit() or int(text) > SEED_LIMIT)


def size_choices(settings, request=None, *, in_browser: bool = False) -> list[tuple]:
    """(label, preset name) for every output size preset, e.g. ("portrait · 512×768", "portrait").
    in_browser: the names only, translated by the browser (for the page as built; the load fills in the sizes)."""
    raw = settings.output_sizes.strip()
    names = ["square", "portrait", "landscape"] if raw == "auto" else [i.split("=", 1)[0] for i in raw.split(",")]
    out = []
    for name in names:
        try:
            w, h = generation_sizes.output_size(settings, name)
        except DomainError:
            continue
        key = f"generate.size.{name}"
        if in_browser:
            out.append((t(key) if key in EN else name, name))
        else:
            shown = tr(request, key) if key in EN else name
            out.append((tr(request, "generate.size_label", name=shown, w=w, h=h), name))
    return out


def templates_of(session, user, settings, cat) -> list:
    """Active library templates of a category (or all), best success rate first."""
    rows, _ = lib.search(session, user=user, settings=settings, active=True,
                         category=None if cat in (None, "", ALL) else cat, sort="success", limit=200)
    return rows



# --- Batch tab ---------------------------------------------------------------------------------------------

MAX_CATEGORIES = 16  # number boxes made up front; the library's categories fill them on load
DEFAULT_TOTAL = 10
BY_CATEGORY, BY_NAME = "Spread over categories", "Pick poses by name"   # the mode's values (shown translated)
NO_PROJECT = "— no project —"
QUALITIES = ("draft", "standard", "high")
BATCH_LABELS = {"brand_kit_id": "generate.kit", "avatar_id": "generate.avatar", "product_id": "generate.field.product",
                "total_poses": "generate.total", "pose_distribution": "generate.field.pose_distribution",
                "template_ids": "generate.field.template_ids", "seed": "generate.seed_word", "size": "generate.size",
                "quality": "generate.quality", "extra_prompt": "generate.field.extra_prompt",
                "name": "generate.field.project"}


def spread(total: int, cats: list, repeats: bool) -> list[int]:
    """`total` poses dealt round-robin over the categories ([name, available] pairs, in order); a category
    gets no more than it has unless repeats are allowed."""
    counts = [0] * len(cats)
    left = max(0, int(total or 0))
    while left:
        room = [i for i, (_, n) in enumerate(cats) if repeats or counts[i] < n][:left]
        if not room:
            break
        for i in room:
            counts[i] += 1
        left -= len(room)
    return counts


def cost_html(n, request=None) -> str:
    """The price of a batch of n poses, before it starts (10 per pose; 5 per pose from 100 poses)."""
    n = int(n or 0)
    if n < 1:
        return f"<div class='apg-cost' id='gen-batch-cost-text'>{esc(tr(request, 'generate.cost_none'))}</div>"
    _, price = planning.unit_price(n)
    _, bulk = planning.unit_price(planning.BULK_FROM)
    note = (tr(request, "generate.cost_bulk") if n >= planning.BULK_FROM
            else tr(request, "generate.cost_bulk_from", bulk=bulk, n=planning.BULK_FROM))
    line = tr(request, "generate.cost_line_one" if n == 1 else "generate.cost_line_many", n=n, price=price, note=note)
    return (f"<div class='apg-cost' id='gen-batch-cost-text'><span class='apg-cost-total'>"
            f"{esc(tr(request, 'generate.cost_total', n=n * price))}</span><span class='apg-meta'>{esc(line)}</span>"
            f"</div>")


def results_link(generation_id: int, request=None) -> str:
    return (f"<a class='apg-go' id='gen-batch-open' href='/results?generation={generation_id}'>"
            f"{esc(tr(request, 'generate.watch', id=generation_id))}</a>")


def batch_section(services, demo: gr.Blocks, badge, pickers: list, sizes, default_size) -> None:
    """The Batch tab; the brand kit, avatar and product pickers at the top of the page are shared."""
    kit, avatar, product = pickers
    with gr.Row():
        project = gr.Dropdown(label=t("generate.project"), choices=[(t("generate.no_project"), NO_PROJECT)],
                              value=NO_PROJECT, elem_id="gen-batch-project")
        project_new = gr.Textbox(label=t("generate.project_new"), max_length=100, max_lines=1,
                                 placeholder=t("generate.project_placeholder"), elem_id="gen-batch-project-new")
    with gr.Row(equal_height=True):
        mode = gr.Radio([(t("generate.mode_category"), BY_CATEGORY), (t("generate.mode_name"), BY_NAME)],
                        value=BY_CATEGORY, label=t("generate.mode"), elem_id="gen-batch-mode", scale=2)
        total = gr.Number(label=t("generate.total"), value=DEFAULT_TOTAL, precision=0, elem_id="gen-batch-total",
                          scale=1)
        repeats = gr.Checkbox(label=t("generate.repeats"), value=False, elem_id="gen-batch-repeats", scale=2)
    with gr.Column(visible=True, elem_id="gen-batch-by-category") as by_cat:
        gr.Markdown(t("generate.dist_help"), elem_classes="apg-meta")
        with gr.Row(elem_classes="apg-dist"):
            slots = [gr.Number(label=t("generate.slot"), value=0, precision=0, visible=False, min_width=150,
                               elem_id=f"gen-batch-n{i}", elem_classes="apg-dist-slot") for i in range(MAX_CATEGORIES)]
    with gr.Row(visible=False, elem_id="gen-batch-by-name") as by_name:
        tcat = gr.Dropdown(label=t("generate.category"), choices=[(t("generate.all"), ALL)], value=ALL,
                           elem_id="gen-batch-tcat", scale=1)
        picked = gr.Dropdown(label=t("generate.templates"), choices=[], value=[], multiselect=True,
                             elem_id="gen-batch-templates", scale=3)
    with gr.Row():
        size = gr.Dropdown(label=t("generate.size"), choices=sizes, value=default_size, elem_id="gen-batch-size")
        quality = gr.Radio([(t(f"generate.quality.{q}"), q) for q in QUALITIES], value="standard",
                           label=t("generate.quality"), elem_id="gen-batch-quality")
        seed = gr.Textbox(label=t("generate.seed"), max_lines=1, placeholder=t("generate.seed_placeholder"),
                          elem_id="gen-batch-seed")
    extra = gr.Textbox(label=t("generate.extra"), max_length=500, lines=2,
                       placeholder=t("generate.extra_placeholder"), elem_id="gen-batch-extra")
    with gr.Row(equal_height=True, elem_classes="apg-start"):
        cost_box = gr.HTML(elem_id="gen-batch-cost")   # filled on load, in the visitor's language
        checks_box = gr.HTML(elem_id="gen-batch-checks")   # what will run (likeness, pose check), before paying
        start = gr.Button(t("generate.start"), variant="primary", elem_id="gen-batch-start", scale=0, min_width=200)
    message_box = gr.HTML(elem_id="gen-batch-message")
    link = gr.HTML(elem_id="gen-batch-link")
    cats = gr.State([])  # [[category, available], ...] in the order of the number boxes

    def project_choices(session, user, request) -> list[tuple[str, str]]:
        rows, _ = projects.list_projects(session, user=user, limit=200)
        return [(tr(request, "generate.no_project"), NO_PROJECT)] + [(f"{p.id} · {p.name}",) * 2 for p in rows]

    def on_load(request: gr.Request):
        def run(session, user):
            names = sorted(lib.facets(session, user=user)["category"])
            found = [[c, lib.search(session, user=user, settings=services.settings, active=True, category=c,
                                    limit=1)[1]] for c in names]
            temps = templates_of(session, user, services.settings, ALL)
            return project_choices(session, user, request), [c for c in found if c[1]], temps
        labels = (gr.update(choices=size_choices(services.settings, request)), cost_html(DEFAULT_TOTAL, request),
                  checks_html(checks.planned(services.settings), request, elem_id="gen-batch-checks-text"))
        try:
            project_names, found, temps = act(services, request, run, write=False)
        except Failed as exc:
            return *[gr.update()] * (5 + MAX_CATEGORIES), err(str(exc)), *labels
        shown = found[:MAX_CATEGORIES]
        counts = spread(DEFAULT_TOTAL, shown, False)
        boxes = [gr.update(label=tr(request, "generate.slot_label", category=named(request, "category", c), n=n),
                           visible=True, value=k) for (c, n), k in zip(shown, counts)]
        boxes += [gr.update(visible=False, value=0)] * (MAX_CATEGORIES - len(shown))
        note = "" if shown else err(tr(request, "generate.library_empty"))
        if len(found) > MAX_CATEGORIES:
            note = err(tr(request, "generate.too_many_categories", n=MAX_CATEGORIES))
        labels = (labels[0], cost_html(sum(counts), request), labels[2])
        return (gr.update(choices=project_names, value=NO_PROJECT), shown, sum(counts),
                gr.update(choices=[(tr(request, "generate.all"), ALL),
                                   *((named(request, "category", c), c) for c, _ in found)], value=ALL),
                gr.update(choices=[f"{tpl.id} · {tpl.name}" for tpl in temps], value=[]), *boxes, note, *labels)

    demo.load(on_load, outputs=[project, cats, total, tcat, picked, *slots, message_box, size, cost_box, checks_box])

    def on_mode(mode_v, picked_v, *slot_vals):
        by_category = mode_v != BY_NAME
        n = sum(int(v or 0) for v in slot_vals) if by_category else len(picked_v or [])
        return gr.update(visible=by_category), gr.update(visible=not by_category), n

    mode.input(on_mode, inputs=[mode, picked, *slots], outputs=[by_cat, by_name, total])

    def on_total(mode_v, n, repeats_v, cats_v, request: gr.Request):
        """Deal the total over the categories at once, within the real limits, and say which limit applied:
        never a number that Start refuses later."""
        asked, limit = max(0, int(n or 0)), services.settings.max_poses_per_generation
        wanted = min(asked, limit)
        note = err(tr(request, "generate.total_capped", n=asked, limit=limit)) if asked > limit else ""
        if mode_v == BY_NAME or not cats_v:
            return (wanted if wanted != asked else gr.update()), *[gr.update()] * MAX_CATEGORIES, note
        counts = spread(wanted, cats_v, bool(repeats_v))
        dealt = sum(counts)
        if dealt < wanted:
            note = err(tr(request, "generate.total_library", n=wanted, available=dealt))
        boxes = [gr.update(value=counts[i]) if i < len(counts) else gr.update() for i in range(MAX_CATEGORIES)]
        return (dealt if dealt != asked else gr.update()), *boxes, note

    # always_last: while someone types "12", the spread of "1" never lands after the one of "12"
    total.input(on_total, inputs=[mode, total, repeats, cats], outputs=[total, *slots, message_box],
                show_progress="hidden", trigger_mode="always_last")
    for box in slots:
        box.input(lambda *vals: sum(max(0, int(v or 0)) for v in vals), inputs=slots, outputs=total,
                  show_progress="hidden", trigger_mode="always_last")
    def on_cost(n, request: gr.Request):
        return cost_html(n, request)

    total.change(on_cost, inputs=total, outputs=cost_box, show_progress="hidden")

    def on_tcat(cat, picked_v, request: gr.Request):
        try:
            temps = act(services, request, lambda s, u: templates_of(s, u, services.settings, cat), write=False)
        except Failed as exc:
            return gr.update(), err(str(exc))
        keep = list(picked_v or [])
        return gr.update(choices=keep + [c for c in (f"{tpl.id} · {tpl.name}" for tpl in temps) if c not in keep]), ""

    tcat.input(on_tcat, inputs=[tcat, picked], outputs=[picked, message_box])

    def on_picked(picked_v, n, repeats_v):
        k = len(picked_v or [])
        return max(k, int(n or 0)) if repeats_v else k

    picked.input(on_picked, inputs=[picked, total, repeats], outputs=total, show_progress="hidden")

    def do_start(request: gr.Request, kit_c, av_c, pr_c, proj_c, proj_name, mode_v, n, repeats_v, picked_v,
                 size_v, quality_v, seed_text, extra_text, cats_v, *slot_vals):
        def refused(key, **values):
            return err(tr(request, key, **values)), "", gr.update(), gr.update(), gr.update()

        for value, key in ((kit_c, "generate.pick_kit_top"), (av_c, "generate.pick_avatar_top"),
                           (pr_c, "generate.pick_product_top")):
            if choice_id(value) is None:
                return refused(key)
        text = (seed_text or "").strip()
        if seed_error(text):
            return refused("generate.seed_invalid", max=SEED_LIMIT)
        fields = dict(brand_kit_id=choice_id(kit_c), avatar_id=choice_id(av_c), product_id=choice_id(pr_c),
                      allow_repeats=bool(repeats_v), size=size_v or "portrait", quality=quality_v or "standard",
                      seed=int(text) if text else None, extra_prompt=(extra_text or "").strip() or None)
        if mode_v == BY_NAME:
            ids = [choice_id(c) for c in picked_v or [] if choice_id(c) is not None]
            want = int(n or 0) or len(ids)
            if not ids:
                return refused("generate.pick_one")
            if want < len(ids):
                return refused("generate.picked_fewer", picked=len(ids), total=want)
            if want > len(ids) and not repeats_v:
                return refused("generate.picked_more", picked=len(ids), total=want)
            fields["template_ids"] = [ids[i % len(ids)] for i in range(want)]
        else:
            dist = {}
            for (name, _), v in zip(cats_v or [], slot_vals):
                if v is not None and (v < 0 or v != int(v)):
                    return refused("generate.slot_invalid", name=named(request, "category", name))
                if v:
                    dist[name] = int(v)
            if not dist:
                return refused("generate.ask_one")
            fields["pose_distribution"] = dist
        try:
            req = BatchRequest(**fields)
            new_project = ProjectCreate(name=proj_name.strip(), brand_kit_id=req.brand_kit_id) \
                if (proj_name or "").strip() else None
        except ValueError as exc:
            return err(pydantic_message(exc, BATCH_LABELS, request)), "", gr.update(), gr.update(), gr.update()

        def run(session, user):
            project_id = choice_id(proj_c)
            if new_project is not None:  # the same name again reuses the project
                rows, _ = projects.list_projects(session, user=user, limit=200)
                same = [p for p in rows if p.name.casefold() == new_project.name.casefold()]
                project_id = (same[0] if same else projects.create_project(session, user=user, data=new_project)).id
            g = planning.start_batch(session, user=user, request=req.model_copy(update={"project_id": project_id}),
                                    settings=services.settings, runner=services.runner)
            choices = project_choices(session, user, request)
            chosen = next((v for _, v in choices if choice_id(v) == project_id), NO_PROJECT)
            return g.id, g.total_poses, g.credits_reserved, gr.update(choices=choices, value=chosen)
        try:
            gid, count, reserved, project_names = act(services, request, run)
        except Failed as exc:
            return err(str(exc)), "", gr.update(), gr.update(), gr.update()
        return (ok(tr(request, "generate.batch_started", id=gid, n=count, credits=reserved)),
                results_link(gid, request), credits_text(services, request), project_names, "")

    start.click(do_start, inputs=[kit, avatar, product, project, project_new, mode, total, repeats, picked, size,
                                  quality, seed, extra, cats, *slots],
                outputs=[message_box, link, badge, project, project_new])
