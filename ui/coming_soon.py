"""Pages whose issues are not built yet: say what is coming, so the navigation already shows the whole product."""
from __future__ import annotations

import gradio as gr

from ui.common import header


def page(title: str, subtitle: str, coming: list[str]):
    def build(services, demo: gr.Blocks) -> None:
        header(services, demo, title, subtitle)
        gr.Markdown("**Coming soon.** This page is being built. It will let you:\n" +
                    "\n".join(f"- {line}" for line in coming))
    return build
