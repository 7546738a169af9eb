"""English and Bahasa Indonesia for the whole interface (gr.I18n), picked from the browser's language, with a
switch that remembers the choice in a cookie.

- Static text of components: `t("page.key")` (labels, values, choices, info, placeholders, Markdown/HTML).
  Gradio's frontend translates it from navigator.language; one key per string.
- Text built in handlers (messages with numbers, HTML cards): `tr(request, "page.key", n=3)`, translated
  on the server for the same language: the `apg_lang` cookie when set, else the Accept-Language header.
- Messages core gives by code (errors, stored failures, notes): `message(request, msg)` with a DomainError, a
  core.messages.Message or its stored dict; English from core/messages/, Indonesian from ui/locales/errors_*.py.
- The switch sets the cookie and reloads; `LangMiddleware` then makes the page start in that language by
  overriding navigator.language before Gradio boots (Gradio has no other way to pick a language).
"""
from __future__ import annotations

import gradio as gr

from core.errors import DomainError
from core.messages import LANGUAGES, Message, render
from ui.locales import EN, ID, MESSAGES_ID, WORDS_ID

LANGS = ("en", "id")
COOKIE = "apg_lang"
I18N = gr.I18n(en=EN, id=ID)
TABLES = {"en": EN, "id": ID}


def t(key: str):
    """A translated string for a component (resolved in the browser)."""
    if key not in EN:
        raise KeyError(f"no translation key {key!r}: add it to ui/locales/")
    return I18N(key)


def lang(request) -> str:
    """The language of the person behind a Gradio or Starlette request: cookie, else Accept-Language."""
    if request is None:
        return "en"
    cookies = getattr(request, "cookies", None) or {}
    chosen = cookies.get(COOKIE)
    if chosen in LANGS:
        return chosen
    headers = getattr(request, "headers", None) or {}
    accept = (headers.get("accept-language") or "").lower()
    for part in accept.split(","):
        code = part.split(";")[0].strip()
        if code.startswith("id") or code.startswith("in"):
            return "id"
        if code.startswith("en"):
            return "en"
    return "en"


def tr(request, key: str, **values) -> str:
    """A string in the request's language, formatted with `values` ({n}, {name}...)."""
    if key not in EN:
        raise KeyError(f"no translation key {key!r}: add it to ui/locales/")
    text = TABLES[lang(request)].get(key) or EN[key]
    return text.format(**values) if values else text


def message_text(msg, language: str) -> str:
    """A message from core in `language`: a DomainError, a Message, its dict ({"code", "params"}), or a plain
    string (text written before messages had codes: shown as it is)."""
    if msg is None or msg == "":
        return ""
    if isinstance(msg, DomainError):
        msg = msg.msg
    if isinstance(msg, dict):
        msg = Message.from_dict(msg)
        if msg is None:
            return ""
    if isinstance(msg, str):
        return msg
    if language == "id":
        return render(msg.code, msg.params, MESSAGES_ID, WORDS_ID, LANGUAGES["id"])
    return msg.english


def message(request, msg) -> str:
    return message_text(msg, lang(request))


def number(request, value, spec: str = "") -> str:
    """`value` written the reader's way, with the message format specs ("rp": IDR 2,437,500 / Rp 2.437.500;
    ",": 1,200 / 1.200; "short"; ".1f")."""
    from core.messages import Formatter

    return Formatter({}, {}, LANGUAGES[lang(request)]).format_field(value, spec)


_SET_LANG = ("(lang) => { document.cookie = '" + COOKIE + "=' + lang + '; path=/; max-age=31536000; samesite=lax';"
             " location.reload(); }")
_OVERRIDE = ("<script>(function(){var m=document.cookie.match(/(?:^|; )" + COOKIE + "=(en|id)(?:;|$)/);"
             "if(m){var l=m[1];Object.defineProperty(Navigator.prototype,'language',{get:function(){return l},"
             "configurable:true});Object.defineProperty(Navigator.prototype,'languages',{get:function(){return [l]},"
             "configurable:true});}})();</script>").encode()


def language_switch() -> None:
    """The EN / ID buttons shown on every page."""
    with gr.Row(elem_classes="apg-lang"):
        gr.Button(t("lang.en"), size="sm", elem_id="apg-lang-en", scale=0, min_width=90).click(
            None, js=f"() => ({_SET_LANG})('en')")
        gr.Button(t("lang.id"), size="sm", elem_id="apg-lang-id", scale=0, min_width=150).click(
            None, js=f"() => ({_SET_LANG})('id')")


class LangMiddleware:
    """Pure ASGI: in HTML pages, a tiny script at the top of <head> makes navigator.language follow the
    apg_lang cookie, so Gradio starts in the chosen language. Other responses pass through untouched."""

    def __init__(self, app):
        self.app = app

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http" or scope.get("method") != "GET":
            return await self.app(scope, receive, send)
        state: dict = {}

        async def wrapped(msg):
            if msg["type"] == "http.response.start":
                headers = {k.lower(): v for k, v in msg.get("headers", [])}
                if headers.get(b"content-type", b"").startswith(b"text/html") and b"content-encoding" not in headers:
                    state["start"], state["body"] = msg, b""
                    return None
                return await send(msg)
            if msg["type"] == "http.response.body" and "start" in state:
                state["body"] += msg.get("body", b"")
                if msg.get("more_body"):
                    return None
                body = state["body"].replace(b"<head>", b"<head>" + _OVERRIDE, 1)
                start = state.pop("start")
                start["headers"] = [(k, v) for k, v in start["headers"] if k.lower() != b"content-length"] + [
                    (b"content-length", str(len(body)).encode())]
                await send(start)
                return await send({"type": "http.response.body", "body": body})
            return await send(msg)

        return await self.app(scope, receive, wrapped)
