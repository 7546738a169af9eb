"""The Gradio app: one page per file, mounted with demo.route(); every page starts with the navigation and the
language switch (ui.i18n). Gradio's own navbar cannot translate page names, so it is hidden and ours, a
row of links rendered on the server in the visitor's language, takes its place.

ui/ imports core and the jobs facade only (never db, sqlmodel, torch, diffusers, rq).
"""
from __future__ import annotations

from pathlib import Path

import gradio as gr

from ui import analytics, avatars, brand_kits, generate, poses, posters, products, results, system
from ui.common import Failed, act, esc
from ui.i18n import language_switch, tr

CSS_PATH = Path(__file__).resolve().parent.parent / "assets" / "ui.css"

# (translation key of the page name, path, build(services, demo)). The first page is the home page at "/".
PAGES = [
    ("nav.brand_kits", "", brand_kits.build),
    ("nav.avatars", "avatars", avatars.build),
    ("nav.products", "products", products.build),
    ("nav.poses", "poses", poses.build),
    ("nav.generate", "generate", generate.build),
    ("nav.results", "results", results.build),
    ("nav.posters", "posters", posters.build),
    ("nav.analytics", "analytics", analytics.build),
    ("nav.system", "system", system.build),
]


ADMIN_PAGES = {"system"}       # linked for admins only (the page itself tells anyone else it is not theirs)


def nav_html(request, current: str, *, admin: bool = True) -> str:
    """The page links in the visitor's language; the current page is marked."""
    links = []
    for key, path, _ in PAGES:
        if path in ADMIN_PAGES and not admin and path != current:
            continue
        here = " aria-current='page' class='apg-nav-here'" if path == current else ""
        links.append(f"<a href='/{path}'{here}>{esc(tr(request, key))}</a>")
    return f"<nav class='apg-nav' id='apg-nav'>{''.join(links)}</nav>"


def chrome(demo: gr.Blocks, current: str, services=None) -> None:
    """Navigation + language switch at the top of a page, and the one-line banner of what is off on this
    server (core.system.notices: likeness, pose check, background removal, image generation)."""
    gr.Navbar(main_page_name=False)
    with gr.Row(elem_classes="apg-top"):
        nav = gr.HTML("", elem_id="apg-nav-box")   # filled on load, in the visitor's language
        language_switch()
    banner = gr.HTML("", elem_id="apg-notices-box")

    def render(request: gr.Request):
        if services is None:
            return nav_html(request, current), ""
        try:
            admin = act(services, request, lambda _s, user: user.is_admin, write=False)
        except Failed:
            admin = False
        return nav_html(request, current, admin=admin), system.notices_html(services, request)

    demo.load(render, outputs=[nav, banner], show_progress="hidden")


def build_ui(services) -> gr.Blocks:
    from ui.i18n import EN

    _key, path, build_home = PAGES[0]
    with gr.Blocks(title="Avatar & Pose Generator") as demo:
        chrome(demo, path, services)
        build_home(services, demo)
    for key, path, build in PAGES[1:]:
        with demo.route(EN[key], f"/{path}", show_in_navbar=False):
            chrome(demo, path, services)
            build(services, demo)
    return demo


def css() -> str:
    """The page CSS plus @font-face rules for the shipped fonts (served by api at /assets/fonts)."""
    from core.catalog.fonts import font_face_css

    return (font_face_css("/assets/fonts") + "\n" + (CSS_PATH.read_text() if CSS_PATH.exists() else "")
            + "\n.nav-holder { display: none !important; }\n")
