"""Pages whose issues are not built yet: say what is coming, so the navigation already shows the whole product.

page(header_key, body_key) with translation keys; the older page(title, subtitle, coming_lines) form is shown
translated when ui/locales has keys with exactly that text ("## title\\nsubtitle" and the whole body)."""
from __future__ import annotations

import gradio as gr

from ui.common import header
from ui.i18n import EN, t


def _shown(text: str):
    key = next((k for k, v in EN.items() if v == text), None)
    return t(key) if key else text


def page(title: str, subtitle: str, coming: list[str] | None = None):
    def build(services, demo: gr.Blocks) -> None:
        if coming is None:  # keys
            header(services, demo, title)
            gr.Markdown(t(subtitle))
            return
        header(services, demo, title, subtitle)
        gr.Markdown(_shown("**Coming soon.** This page is being built. It will let you:\n" +
                           "\n".join(f"- {line}" for line in coming)))
    return build
