"""The Gradio app: one page per file, mounted with demo.route(); the navbar shows every page.

ui/ imports core and the jobs facade only (never db, sqlmodel, torch, diffusers, rq).
"""
from __future__ import annotations

from pathlib import Path

import gradio as gr

from ui import avatars, brand_kits, generate, poses, products
from ui.coming_soon import page

CSS_PATH = Path(__file__).resolve().parent.parent / "assets" / "ui.css"

# (navbar name, path, build(services, demo)). The first page is the home page at "/".
PAGES = [
    ("Brand Kits", "", brand_kits.build),
    ("Avatars", "avatars", avatars.build),
    ("Products", "products", products.build),
    ("Pose Library", "poses", poses.build),
    ("Generate", "generate", generate.build),
    ("Results", "results", page("Results", "Watch your batch arrive, rate and export.", [
        "live gallery with progress", "retry failed poses", "download a ZIP"])),
    ("Posters", "posters", page("Posters", "Turn the best photos into brand-kit posters.", [
        "Instagram, Story, marketplace and Facebook formats", "your logo, colours and fonts applied"])),
    ("Analytics", "analytics", page("Analytics", "What the product saved you.", [
        "images created and exported", "savings in Rupiah against a photoshoot", "success rate by pose category"])),
]


def build_ui(services) -> gr.Blocks:
    name, _path, build_home = PAGES[0]
    with gr.Blocks(title="Avatar & Pose Generator") as demo:
        gr.Navbar(main_page_name=name)
        build_home(services, demo)
    for name, path, build in PAGES[1:]:
        with demo.route(name, f"/{path}"):
            gr.Navbar(main_page_name=PAGES[0][0])
            build(services, demo)
    return demo


def css() -> str:
    """The page CSS plus @font-face rules for the shipped fonts (served by api at /assets/fonts)."""
    from core.fonts import font_face_css

    return font_face_css("/assets/fonts") + "\n" + (CSS_PATH.read_text() if CSS_PATH.exists() else "")
