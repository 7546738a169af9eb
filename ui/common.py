"""Helpers every page uses: who is acting, the credits badge, inline error messages, small HTML bits.

Handlers call `act(services, request, fn)`: it opens a session, finds the acting user and runs
fn(session, user); a DomainError comes back as an inline message (in the visitor's language), never a
stack trace. Data choices (tone, gender, product type...) are shown translated with `choices(prefix, codes)`
(components) and `shown(request, prefix, code)` (handler-built HTML); handlers keep the English codes.
"""
from __future__ import annotations

import html
import logging
import secrets
from collections.abc import Callable
from typing import Any

import gradio as gr

from core.accounts import credits, users
from core.errors import DomainError
from core.messages import EN as MESSAGES_EN, Message
from ui.i18n import EN, message, t, tr

log = logging.getLogger(__name__)


class Failed(Exception):
    """Carries the inline message of a failed action back to the handler."""


def act(services, request: gr.Request | None, fn: Callable[[Any, Any], Any], *, write: bool = True):
    """Run fn(session, user) for the person behind `request`. Raises Failed(message) on a domain error.
    write=False for handlers that only read (lists, details, the polled progress): their session takes no
    write lock on SQLite and is READ ONLY on Postgres, so page loads and polls never queue behind writers."""
    username = getattr(request, "username", None) if request is not None else None
    with services.session(write=write) as session:
        try:
            if services.settings.auth == "none":   # found in this session; created (once) in a write one
                user = users.get_by_username(session, services.settings.local_admin_username)
                if user is None:
                    session.rollback()   # a fresh snapshot, so this session sees the row just created
                    user = session.merge(services.local_admin(), load=False)
            else:
                user = users.acting_user(session, settings=services.settings, username=username)
            return fn(session, user)
        except Failed:
            session.rollback()
            raise
        except DomainError as exc:
            session.rollback()
            raise Failed(message(request, exc)) from exc
        except Exception as exc:  # never show a traceback to a shop owner
            session.rollback()
            log.exception("UI action failed")
            raise Failed(tr(request, "common.failed")) from exc


def new_submit_token() -> str:
    """A fresh idempotency key for the next submit of a form that charges (kept in a gr.State; the handler
    passes it to core as request_key and answers with a new one after a success)."""
    return secrets.token_urlsafe(16)


def charging_click(button: gr.Button, fn: Callable, *, inputs: list, outputs: list, **kwargs):
    """button.click(fn) for an action that charges: the button is disabled while its request runs (a double
    click sends nothing twice) and enabled again however the request ended. The server side of the same
    promise is the submit token (new_submit_token)."""
    return (button.click(lambda: gr.update(interactive=False), outputs=button, queue=False, show_progress="hidden")
            .then(fn, inputs=inputs, outputs=outputs, **kwargs)
            .then(lambda: gr.update(interactive=True), outputs=button, queue=False, show_progress="hidden"))


def ok(message: str) -> str:
    return f"<div class='apg-msg apg-ok'>✓ {html.escape(message)}</div>"


def err(message: str) -> str:
    return f"<div class='apg-msg apg-err' role='alert'>⚠ {html.escape(message)}</div>"


def credits_text(services, request: gr.Request | None) -> str:
    try:
        return act(services, request, lambda s, u: tr(request, "common.credits", user=u.username,
                                                      n=credits.balance(s, user_id=u.id)), write=False)
    except Failed as exc:
        return str(exc)


def header(services, demo: gr.Blocks, title: str, subtitle: str | None = None) -> gr.Markdown:
    """The page title with the user's credit balance on the right; refreshed on every page load.
    Handlers that spend credits also return a new badge text.

    header(services, demo, "brand_kits.header"): a translation key whose text is "## Title\\nsubtitle".
    The older header(services, demo, title, subtitle) still works (translated when a key has that text)."""
    if subtitle is None:
        text = t(title)
    else:
        text = f"## {title}\n{subtitle}"
        key = next((k for k, v in EN.items() if v == text), None)
        text = t(key) if key else text
    with gr.Row(elem_classes="apg-header"):
        gr.Markdown(text)
        badge = gr.Markdown(elem_classes="apg-credits", elem_id="apg-credits")
        account = gr.HTML(elem_id="apg-account", visible=services.settings.auth == "password")

    def refresh(request: gr.Request):
        return credits_text(services, request), sign_out_html(services, request)

    demo.load(refresh, outputs=[badge, account])
    return badge


def sign_out_html(services, request) -> str:
    """With AUTH=password: a Sign out button beside the user and credits (a POST form: signing out changes
    state, and /logout refuses a cross-site one). Nothing with AUTH=none (there is no one to sign out)."""
    if services.settings.auth != "password":
        return ""
    label = html.escape(tr(request, "common.sign_out"))
    return (f"<form method='post' action='/logout' class='apg-signout'>"
            f"<button type='submit' id='apg-signout' class='apg-link-button'>{label}</button></form>")


def choices(prefix: str, codes) -> list[tuple]:
    """Dropdown/Radio choices that show "<prefix>.<code>" translated and hand the English code to handlers."""
    return [(t(f"{prefix}.{code}"), code) for code in codes]


def shown(request, prefix: str, code: str | None) -> str:
    """A data code ("female", "hand-right"...) as the visitor reads it; an unknown code as it is."""
    if not code:
        return ""
    key = f"{prefix}.{code}"
    return tr(request, key) if key in EN else code


def esc(value: Any) -> str:
    return html.escape("" if value is None else str(value))


def gallery_html(items: list[dict], *, empty: str, elem_id: str) -> str:
    """A grid of cards whose images come from our owner-checked file route (never Gradio's shared cache).
    Each item: id, img (URL), title, lines (list of str), badge (str|None), badge_kind, checker (bool), details
    ((summary, text) | None: folded text, e.g. the technical reason an admin may open)."""
    if not items:
        return f"<div class='apg-empty' id='{esc(elem_id)}'>{esc(empty)}</div>"
    out = [f"<div class='apg-gallery' id='{esc(elem_id)}'>"]
    for it in items:
        cls = "apg-thumb apg-checker" if it.get("checker") else "apg-thumb"
        badge = (f"<span class='apg-status apg-status-{esc(it.get('badge_kind', 'info'))}'>{esc(it['badge'])}</span>"
                 if it.get("badge") else "")
        lines = "".join(f"<div class='apg-meta'>{esc(line)}</div>" for line in it.get("lines", []) if line)
        if it.get("details"):
            summary, text = it["details"]
            lines += (f"<details class='apg-details'><summary>{esc(summary)}</summary>"
                      f"<div class='apg-meta'>{esc(text)}</div></details>")
        out.append(f"<figure class='apg-tile apg-pickable' data-id='{esc(it['id'])}' role='button' tabindex='0'>"
                   f"<div class='{cls}'>"
                   f"<img loading='lazy' alt='{esc(it['title'])}' src='{esc(it['img'])}'></div>"
                   f"<figcaption><b>#{esc(it['id'])} {esc(it['title'])}</b> {badge}{lines}</figcaption></figure>")
    out.append("</div>")
    return "".join(out)


# A click (or Enter / Space) on a card asks the server for that record (event delegation: the cards re-render);
# links and folded details inside a card keep their own behaviour. gr.HTML(js_on_load=TILE_PICK_JS), then
# html.click(handler) with gr.EventData: evt.item_id. Used by the product, avatar and pose-library cards.
TILE_PICK_JS = """
const pick = (event) => {
  const tile = event.target.closest('.apg-tile[data-id]');
  if (!tile || event.target.closest('a, details, summary, button, input')) return;
  event.preventDefault();
  trigger('click', {item_id: tile.dataset.id});
};
element.addEventListener('click', pick);
element.addEventListener('keydown', (event) => { if (event.key === 'Enter' || event.key === ' ') pick(event); });
"""


def picked_id(evt) -> int | None:
    """The record id a TILE_PICK_JS click carries, or None."""
    value = getattr(evt, "item_id", None)
    return int(value) if isinstance(value, (int, str)) and str(value).isdigit() else None


def open_on_click(services, cards, picker, fetch: Callable[[Any, Any, int], Any], *, tabs=None,
                  tab: str = "edit") -> None:
    """cards.click (an HTML block with TILE_PICK_JS): the clicked record, read with fetch(session, user, id)
    (owner-checked by core), becomes the picker's value "<id> · <name>" (the picker's own change event fills the
    editor) and, with `tabs`, that tab opens. Another user's id, or none, changes nothing."""
    def on_click(evt: gr.EventData, request: gr.Request):
        record_id = picked_id(evt)
        unchanged = (gr.update(), gr.update()) if tabs is not None else gr.update()
        if record_id is None:
            return unchanged
        try:
            row = act(services, request, lambda s, u: fetch(s, u, record_id), write=False)
        except Failed:
            return unchanged
        value = gr.update(value=f"{row.id} · {row.name}")
        return (value, gr.Tabs(selected=tab)) if tabs is not None else value

    cards.click(on_click, outputs=[picker, tabs] if tabs is not None else picker, show_progress="hidden")


def choice_id(choice: str | None) -> int | None:
    """The id of a picker entry written as "<id> · <label>"."""
    if not choice or " · " not in choice:
        return None
    head = choice.split(" · ", 1)[0]
    return int(head) if head.isdigit() else None


def pydantic_message(exc: Exception, labels: dict[str, str] | None = None, request=None) -> str:
    """The first problem of a pydantic ValidationError, named by field, for an inline message.
    `labels` maps field names to the labels the page shows: translation keys ({"brand_name":
    "brand_kits.brand_name"}) or plain text. With `request`, label and problem are in the visitor's language."""
    errors = getattr(exc, "errors", None)
    if not callable(errors) or not exc.errors():  # not pydantic's: its text is not for a shop owner
        log.info("input refused: %r", exc)
        return tr(request, "common.check_input")
    first = exc.errors()[0]
    loc = [str(p) for p in first.get("loc", ())]
    where = ".".join(loc)
    if labels and loc and loc[0] in labels:
        where = labels[loc[0]]
        where = tr(request, where) if where in EN else where
    kind, ctx = first.get("type", ""), dict(first.get("ctx") or {})
    if kind == "string_too_short" and ctx.get("min_length") == 1:
        text = tr(request, "common.this_cannot_be_empty")
    elif kind in MESSAGES_EN:                       # ours: core.messages.invalid(code, ...)
        text = message(request, Message(kind, **ctx))
    elif (code := f"input.{kind}") in MESSAGES_EN:  # pydantic's own, by its error type
        text = message(request, Message(code, **ctx))
    else:
        text = first.get("msg", "").removeprefix("Value error, ")
    return f"{where}: {text}" if where else text


def downloads_html(downloads: list[dict], request=None, elem_id: str = "res-downloads") -> str:
    """'Downloading the SD 1.5 base model (1.7 GB of 2.1 GB)', each with its own bar (core.system.model_downloads):
    what a batch or a background removal is waiting for. Empty when nothing downloads."""
    from ui.i18n import message

    if not downloads:
        return ""
    lines = []
    for d in downloads:
        pct = round(100 * d["done"] / d["total"]) if d["total"] else 0
        lines.append(f"<div class='apg-download' data-model='{esc(d['model'])}'>"
                     f"<span>{esc(message(request, d['message']))}</span>"
                     f"<div class='apg-bar' role='progressbar' aria-valuemin='0' aria-valuemax='100' "
                     f"aria-valuenow='{pct}'><div class='apg-bar-done' style='width:{pct}%'></div></div></div>")
    return f"<div id='{esc(elem_id)}' role='status'>{''.join(lines)}</div>"
