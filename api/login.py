"""Browser sign-in for AUTH=password: a small login page that sets an HttpOnly session cookie holding an
API token (the same tokens as REST, so they survive restarts and work across processes).

The Gradio app is mounted with `auth_dependency=username_from_cookie`; browsers without a valid cookie
are redirected here. With AUTH=none nothing here is needed and /login just goes home.

Sign-in attempts (this form and POST /api/auth/login) are limited per account and per client address
(core.accounts.login_limits); a refused form shows the wait on the page, with status 429 and Retry-After. Signing
out is a POST (GET /logout shows a one-button form). The cookie is Secure whenever the request came over
https, also through a proxy in FORWARDED_ALLOW_IPS that says so (X-Forwarded-Proto; uvicorn's
ProxyHeadersMiddleware, which also gives the client address from X-Forwarded-For).
"""
from __future__ import annotations

import html
import threading
from urllib.parse import quote

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse
from starlette.concurrency import run_in_threadpool

from core.accounts import users
from core.errors import Unauthorized
from core.messages import EN as MESSAGES_EN, Message
from core.accounts.login_limits import LoginLimiter, TooManyAttempts

COOKIE = "apg_session"
router = APIRouter(include_in_schema=False)
_limiter_lock = threading.Lock()

PAGE = """<!doctype html><html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width">
<title>Sign in · Avatar & Pose Generator</title><style>
body{{font-family:system-ui,sans-serif;background:#f6f5f3;display:flex;min-height:100vh;align-items:center;justify-content:center;margin:0}}
form{{background:#fff;padding:32px;border-radius:16px;box-shadow:0 4px 24px rgba(0,0,0,.08);width:320px}}
h1{{font-size:20px;margin:0 0 16px}} label{{display:block;font-size:13px;margin:12px 0 4px}}
input{{width:100%;box-sizing:border-box;padding:10px;border:1px solid #ccc;border-radius:8px;font-size:15px}}
button{{margin-top:20px;width:100%;padding:11px;border:0;border-radius:8px;background:#e4572e;color:#fff;font-size:15px;cursor:pointer}}
.err{{background:#ffebee;color:#b71c1c;padding:8px 10px;border-radius:8px;font-size:14px}}</style></head>
<body><form method="post" action="/login"><h1>Sign in</h1>{error}
<input type="hidden" name="next" value="{next}">
<label for="username">Username</label><input id="username" name="username" autocomplete="username" required autofocus>
<label for="password">Password</label><input id="password" name="password" type="password" autocomplete="current-password" required>
<button type="submit" id="login-submit">Sign in</button></form></body></html>"""

LOGOUT_PAGE = PAGE.split("<body>")[0].format().replace("<title>Sign in ", "<title>Sign out ") + """<body>
<form method="post" action="/logout"><h1>Sign out?</h1>
<button type="submit" id="logout-submit">Sign out</button>
<p style="text-align:center;font-size:14px"><a href="/">Stay signed in</a></p></form></body></html>"""


def _safe_next(target: str | None) -> str:
    """A path on this site, else "/". Browsers read "/\\host" and "/<tab>/host" as "//host" (another site)."""
    if not target or not target.startswith("/") or any(c == "\\" or ord(c) < 32 for c in target):
        return "/"
    return "/" if target.startswith("//") else target


def client_address(request: Request) -> str | None:
    """The client's address: the peer's, or the one a trusted proxy (FORWARDED_ALLOW_IPS) reports."""
    return request.client.host if request.client else None


def login_limiter(request: Request) -> LoginLimiter:
    """The app's sign-in limiter, made on first use from the settings (one per app)."""
    state = request.app.state
    limiter = getattr(state, "login_limiter", None)
    if limiter is None:
        with _limiter_lock:
            limiter = getattr(state, "login_limiter", None)
            if limiter is None:
                limiter = state.login_limiter = LoginLimiter.from_settings(state.services.settings)
    return limiter


def is_https(request: Request) -> bool:
    return request.url.scheme == "https"


def token_from_request(request: Request) -> str | None:
    header = request.headers.get("authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() == "bearer" and token.strip():
        return token.strip()
    return request.cookies.get(COOKIE)


def username_from_cookie(services):
    """For gr.mount_gradio_app(auth_dependency=...): the signed-in username, or None. Async, because Gradio
    calls it on the event loop: the lookup runs in a thread, in a read-only session (no SQLite write lock)."""
    def lookup(token: str) -> str | None:
        with services.session(write=False) as session:
            try:
                return users.user_for_token(session, token).username
            except Unauthorized:
                return None

    async def dependency(request: Request) -> str | None:
        token = request.cookies.get(COOKIE)
        return await run_in_threadpool(lookup, token) if token else None
    return dependency


def _login_html(request: Request, next: str, error, *, status_code: int = 200, headers=None) -> HTMLResponse:
    """The sign-in page: the app's own (in the visitor's language, ui/login_page.py) when the composition root
    set `app.state.login_pages`, else this plain English one. `error`: a message code from the redirect
    (only auth.* codes are shown, never text from the URL) or a DomainError's message."""
    pages = getattr(request.app.state, "login_pages", None)
    if pages is not None:
        return HTMLResponse(pages.login(request, next=_safe_next(next), error=error), status_code=status_code,
                            headers=headers)
    text = None
    if isinstance(error, str):
        text = Message(error).english if error.startswith("auth.") and error in MESSAGES_EN else None
    elif error is not None:
        text = error.english
    box = f"<p class='err' role='alert'>{html.escape(text)}</p>" if text else ""
    return HTMLResponse(PAGE.format(error=box, next=html.escape(_safe_next(next))), status_code=status_code,
                        headers=headers)


@router.get("/login", response_class=HTMLResponse)
def login_page(request: Request, next: str = "/", error: str | None = None):
    if request.app.state.services.settings.auth == "none":
        return RedirectResponse("/", status_code=303)
    return _login_html(request, next, error)


@router.post("/login")
def login_submit(request: Request, username: str = Form(""), password: str = Form(""), next: str = Form("/")):
    services = request.app.state.services
    if services.settings.auth == "none":
        return RedirectResponse("/", status_code=303)
    with services.session() as session:
        try:
            user = users.sign_in(session, username=username, password=password, address=client_address(request),
                                 limiter=login_limiter(request))
        except TooManyAttempts as exc:  # the page again, saying how long to wait (not a bare 429 JSON)
            return _login_html(request, next, exc.msg, status_code=429, headers=exc.headers)
        except Unauthorized as exc:     # the code travels, not the text: the page says it in the visitor's language
            return RedirectResponse(f"/login?error={quote(exc.code)}&next={quote(_safe_next(next))}",
                                    status_code=303)
        token = users.issue_token(session, user=user, settings=services.settings, name="browser")
    response = RedirectResponse(_safe_next(next), status_code=303)
    response.set_cookie(COOKIE, token, httponly=True, samesite="lax", secure=is_https(request),
                        max_age=services.settings.token_ttl_hours * 3600)
    return response


@router.get("/logout", response_class=HTMLResponse)
def logout_page(request: Request):
    """A link or a typed /logout asks first: signing out changes state, so only a POST does it."""
    if request.app.state.services.settings.auth == "none" or not request.cookies.get(COOKIE):
        return RedirectResponse("/" if request.app.state.services.settings.auth == "none" else "/login",
                                status_code=303)
    pages = getattr(request.app.state, "login_pages", None)
    return HTMLResponse(pages.logout(request) if pages is not None else LOGOUT_PAGE)


@router.post("/logout")
def logout(request: Request):
    services = request.app.state.services
    token = request.cookies.get(COOKIE)
    if token:
        with services.session() as session:
            users.revoke_token(session, token)
    response = RedirectResponse("/login", status_code=303)
    response.delete_cookie(COOKIE, httponly=True, samesite="lax", secure=is_https(request))
    return response


def install_login_redirect(app, services) -> None:
    """Send a signed-out browser asking for a page to /login instead of a bare 401; and (outside that, so
    every route sees it) trust the proxy headers of FORWARDED_ALLOW_IPS only."""
    if services.settings.auth != "none":
        _install_redirect(app, services)
    install_proxy_headers(app, services.settings)


def install_proxy_headers(app, settings) -> None:
    """uvicorn's ProxyHeadersMiddleware inside the app, so the same trust rule holds under any server and in
    tests (app.py runs uvicorn with proxy_headers=False: the headers are read once, here)."""
    from uvicorn.middleware.proxy_headers import ProxyHeadersMiddleware

    app.add_middleware(ProxyHeadersMiddleware, trusted_hosts=settings.forwarded_allow_ips)


def _install_redirect(app, services) -> None:
    signed_in = username_from_cookie(services)

    @app.middleware("http")
    async def redirect_to_login(request: Request, call_next):
        path = request.url.path
        wants_page = request.method == "GET" and "text/html" in request.headers.get("accept", "")
        open_path = path.startswith(("/login", "/logout", "/api/", "/assets/", "/docs", "/openapi.json", "/redoc"))
        # A cookie whose token is gone (expired, revoked) counts as signed out, not as a bare 401 page.
        if wants_page and not open_path and not await signed_in(request):
            response = RedirectResponse(f"/login?next={quote(path)}", status_code=303)
            response.delete_cookie(COOKIE)
            return response
        return await call_next(request)
