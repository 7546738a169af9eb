"""The /login and /logout pages (AUTH=password) in the app's look and the visitor's language: the app's name,
an EN / ID switch (the same apg_lang cookie as the app), and every text translated (ui/locales/login.py).

api/login.py owns the routes and the cookie; it renders through `request.app.state.login_pages`, which the
composition root (app.py) sets to `LoginPages()` — so api/ never imports ui/ and a bare REST app still has
a plain English page. An error is shown only for a sign-in message code (auth.*), never for text taken
from the URL."""
from __future__ import annotations

import html

from core.messages import EN as MESSAGES_EN, Message
from ui.i18n import COOKIE, lang, message_text, tr

_STYLE = """
body{font-family:'Source Sans Pro',ui-sans-serif,system-ui,sans-serif;background:#f6f5f3;display:flex;min-height:100vh;
align-items:center;justify-content:center;margin:0;color:#1f2937}
main{width:340px;max-width:calc(100vw - 32px)}
.brand{text-align:center;margin-bottom:18px} .brand b{display:block;font-size:22px}
.brand span{font-size:14px;color:#6b7280}
form{background:#fff;padding:28px;border-radius:16px;box-shadow:0 4px 24px rgba(0,0,0,.08)}
h1{font-size:19px;margin:0 0 14px} label{display:block;font-size:13px;margin:12px 0 4px}
input{width:100%;box-sizing:border-box;padding:10px;border:1px solid #ccc;border-radius:8px;font-size:15px}
button{margin-top:20px;width:100%;padding:11px;border:0;border-radius:8px;background:#e4572e;color:#fff;font-size:15px;
cursor:pointer}
.err{background:#ffebee;color:#b71c1c;padding:8px 10px;border-radius:8px;font-size:14px}
.langs{text-align:center;margin-top:14px;font-size:13px} .langs a{color:#6b7280;margin:0 6px}
.langs a[aria-current]{color:#1f2937;font-weight:600;text-decoration:none}"""

_SWITCH = ("<script>document.querySelectorAll('.langs a').forEach(function(a){a.addEventListener('click',function(e){"
           "e.preventDefault();document.cookie='" + COOKIE + "='+a.dataset.lang+'; path=/; max-age=31536000; "
           "samesite=lax';location.reload();});});</script>")


def _page(request, title_key: str, body: str) -> str:
    code = lang(request)
    here = ' aria-current="true"'
    langs = "".join(f'<a href="#" data-lang="{c}" id="login-lang-{c}"{here if c == code else ""}>{name}</a>'
                    for c, name in (("en", "English"), ("id", "Bahasa Indonesia")))
    return (f'<!doctype html><html lang="{code}"><head><meta charset="utf-8">'
            f'<meta name="viewport" content="width=device-width, initial-scale=1">'
            f"<title>{html.escape(tr(request, title_key))} · {html.escape(tr(request, 'login.app_name'))}</title>"
            f"<style>{_STYLE}</style></head><body><main>"
            f"<div class='brand'><b>{html.escape(tr(request, 'login.app_name'))}</b>"
            f"<span>{html.escape(tr(request, 'login.tagline'))}</span></div>{body}"
            f"<div class='langs'>{langs}</div></main>{_SWITCH}</body></html>")


class LoginPages:
    """What api/login.py renders with (see the module doc)."""

    def login(self, request, *, next: str, error: Message | str | None) -> str:
        if isinstance(error, str):    # a code from the redirect: only sign-in messages are shown
            error = Message(error) if error.startswith("auth.") and error in MESSAGES_EN else None
        esc = html.escape
        box = f'<p class="err" role="alert">{esc(message_text(error, lang(request)))}</p>' if error else ""
        body = (f'<form method="post" action="/login"><h1>{esc(tr(request, "login.title"))}</h1>{box}'
                f'<input type="hidden" name="next" value="{esc(next)}">'
                f'<label for="username">{esc(tr(request, "login.username"))}</label>'
                f'<input id="username" name="username" autocomplete="username" required autofocus>'
                f'<label for="password">{esc(tr(request, "login.password"))}</label>'
                f'<input id="password" name="password" type="password" autocomplete="current-password" required>'
                f'<button type="submit" id="login-submit">{esc(tr(request, "login.submit"))}</button></form>')
        return _page(request, "login.title", body)

    def logout(self, request) -> str:
        esc = html.escape
        body = (f'<form method="post" action="/logout"><h1>{esc(tr(request, "login.sign_out_question"))}</h1>'
                f'<button type="submit" id="logout-submit">{esc(tr(request, "login.sign_out"))}</button>'
                f'<p style="text-align:center;font-size:14px"><a href="/">{esc(tr(request, "login.stay"))}</a></p>'
                f'</form>')
        return _page(request, "login.sign_out", body)
