"""The request plumbing every route goes through, pages and Gradio included: pure ASGI middlewares,
installed once by install_security (api/__init__.py), outermost first:

    SecurityHeaders   CSP (frame-ancestors from FRAME_ANCESTORS), X-Frame-Options when it can say the
                      same, X-Content-Type-Options, Referrer-Policy on every answer.
    ErrorBoundary     an unexpected exception becomes a JSON 500 and stops here: it never reaches the
                      server, which would close the client's keep-alive connection after the answer.
    CrossSiteGuard    a change (POST/PUT/PATCH/DELETE) sent by a browser from another site is a 403:
                      Origin (or Referer) must name this host. Bearer-token clients are not affected.
    BodyLimit         bodies are capped before anything reads them: by Content-Length, and by counting
                      the bytes of a streamed body (413 naming the limit).
    InputGuard        REST and sign-in input that no database can store is a 422 naming the field:
                      NUL characters (PostgreSQL text), whole numbers beyond 64 bits (both databases).

Starlette's own RequestBodyLimitMiddleware answers plain text with one limit; ours answers ErrorOut
JSON and gives file uploads (multipart) the upload limits and everything else a small one.
"""
from __future__ import annotations

import json
import logging
import math
from urllib.parse import parse_qsl, urlsplit

from starlette.datastructures import Headers, MutableHeaders
from starlette.exceptions import HTTPException
from starlette.responses import JSONResponse

from api.errors import validation_body
from api.params import INT64_MAX, NUL

log = logging.getLogger(__name__)

UNSAFE = frozenset({"POST", "PUT", "PATCH", "DELETE"})
MB = 1024 * 1024
INTERNAL = {"detail": "Something went wrong on our side; please try again.", "code": "internal_error",
            "kind": "internal_error", "params": {}}
RETRY_AFTER_SECONDS = 5
BUSY = {"detail": f"The server is busy; try again in {RETRY_AFTER_SECONDS} seconds.", "code": "busy", "kind": "busy",
        "params": {"seconds": RETRY_AFTER_SECONDS}}
DOCS_PATHS = ("/docs", "/redoc")

# Gradio 6 needs inline scripts (its config is written into the page), eval (gr.HTML templates and js=
# handlers run through Function()), inline styles, data:/blob: images and media. Everything else is ours.
APP_CSP = ("default-src 'self'; script-src 'self' 'unsafe-inline' 'unsafe-eval'; style-src 'self' 'unsafe-inline'; "
           "img-src 'self' data: blob:; font-src 'self' data:; media-src 'self' data: blob:; connect-src 'self'; "
           "worker-src 'self' blob:; frame-src 'self'; object-src 'none'; base-uri 'self'; form-action 'self'")
# FastAPI's /docs and /redoc load Swagger UI / ReDoc from jsDelivr.
DOCS_CSP = ("default-src 'self'; script-src 'self' 'unsafe-inline' https://cdn.jsdelivr.net; "
            "style-src 'self' 'unsafe-inline' https://cdn.jsdelivr.net https://fonts.googleapis.com; "
            "img-src 'self' data: https://fastapi.tiangolo.com https://cdn.redoc.ly; font-src 'self' "
            "https://fonts.gstatic.com; worker-src 'self' blob:; connect-src 'self'; object-src 'none'; "
            "base-uri 'self'")


async def _answer(scope, receive, send, status: int, body: dict, headers: dict | None = None) -> None:
    await JSONResponse(body, status_code=status, headers=headers)(scope, receive, send)


def _tracking(send, state: dict):
    async def tracked(message):
        if message["type"] == "http.response.start":
            state["started"] = True
        await send(message)
    return tracked


class SecurityHeaders:
    def __init__(self, app, *, frame_ancestors: str):
        self.app = app
        ancestors = f"; frame-ancestors {frame_ancestors}"
        common = [("X-Content-Type-Options", "nosniff"), ("Referrer-Policy", "same-origin")]
        # X-Frame-Options can only say DENY or SAMEORIGIN; with a list of sites CSP alone decides.
        xfo = {"'none'": "DENY", "'self'": "SAMEORIGIN"}.get(frame_ancestors.strip())
        if xfo:
            common.append(("X-Frame-Options", xfo))
        self.page = [("Content-Security-Policy", APP_CSP + ancestors), *common]
        self.docs = [("Content-Security-Policy", DOCS_CSP + ancestors), *common]

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        extra = self.docs if scope["path"].rstrip("/") in DOCS_PATHS else self.page

        async def with_headers(message):
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                for name, value in extra:
                    headers[name] = value
            await send(message)

        await self.app(scope, receive, with_headers)


def database_busy(exc: BaseException) -> bool:
    """A database that could not serve in time: the connection pool's wait ran out (SQLAlchemy's pool
    TimeoutError) or SQLite's busy_timeout did ("database is locked"). Told apart by name, so api/ does not
    import the database layer; the request gate makes both rare (README "Performance")."""
    seen = 0
    while exc is not None and seen < 5:
        module = type(exc).__module__ or ""
        if module.startswith("sqlalchemy") and type(exc).__name__ == "TimeoutError":
            return True
        if module.startswith(("sqlalchemy", "sqlite3")) and "database is locked" in str(exc):
            return True
        exc, seen = exc.__cause__ or exc.__context__, seen + 1
    return False


class ErrorBoundary:
    def __init__(self, app):
        self.app = app

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        state: dict = {}
        try:
            await self.app(scope, receive, _tracking(send, state))
        except Exception as exc:  # noqa: BLE001 - the one place an unexpected error is logged and answered
            if database_busy(exc):   # capacity, not a bug: the client may try again
                log.warning("database busy on %s %s: %s", scope.get("method"), scope.get("path"), exc)
                if not state.get("started"):
                    await _answer(scope, receive, send, 503, BUSY, {"Retry-After": str(RETRY_AFTER_SECONDS)})
                return
            log.exception("unhandled error on %s %s", scope.get("method"), scope.get("path"))
            if not state.get("started"):
                await _answer(scope, receive, send, 500, INTERNAL)
            # A response already under way cannot be taken back; the server ends it and its connection.


def _origin(url: str) -> tuple[str, str] | None:
    """(scheme, host[:port]) of an Origin or Referer value, default ports left out; None for "null"."""
    try:
        parts = urlsplit(url.strip())
        host, port = parts.hostname, parts.port
    except ValueError:
        return None
    if not parts.scheme or not host:
        return None
    default = {"http": 80, "https": 443}.get(parts.scheme)
    host = f"[{host}]" if ":" in host else host  # IPv6, as the Host header writes it
    return parts.scheme.lower(), host.lower() + (f":{port}" if port and port != default else "")


def _host(value: str | None) -> str | None:
    if not value:
        return None
    value = value.split(",")[0].strip().lower()
    for default in (":80", ":443"):
        if value.endswith(default):
            return value[: -len(default)]
    return value


class CrossSiteGuard:
    """Browsers send Origin with every cross-site POST (and a page cannot add an Authorization header or
    X-Forwarded-Host to one without a CORS preflight we never grant), so: a change that carries neither
    a bearer token nor a same-site Origin/Referer is refused. Clients that send neither header (curl,
    SDKs, gradio_client) are not browsers acting for someone else and pass."""

    def __init__(self, app, *, trusted_origins: str | None = None):
        self.app = app
        self.trusted = {o for o in (_origin(t) for t in (trusted_origins or "").split(",") if t.strip()) if o}

    def _allowed(self, headers: Headers) -> tuple[bool, str | None]:
        if headers.get("authorization", "").lower().startswith("bearer "):
            return True, None
        source = headers.get("origin") or headers.get("referer")
        if source is None:
            return True, None
        origin = _origin(source)
        if origin is None:
            return False, source
        hosts = {_host(headers.get("host")), _host(headers.get("x-forwarded-host"))} - {None}
        return origin[1] in hosts or origin in self.trusted, source

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http" or scope["method"] not in UNSAFE:
            return await self.app(scope, receive, send)
        allowed, source = self._allowed(Headers(scope=scope))
        if allowed:
            return await self.app(scope, receive, send)
        shown = (source or "")[:100]
        await _answer(scope, receive, send, 403, {
            "detail": f"This change was sent from another site ({shown}), not from this app's own pages, so it "
                      "was refused to protect the signed-in account. API clients: send Authorization: Bearer "
                      "<token> (POST /api/auth/login).",
            "code": "cross_site_request", "kind": "forbidden", "params": {}})


class BodyTooLarge(HTTPException):
    """Raised while a body is read past its limit. An HTTPException, so FastAPI passes it through its body
    parsing untouched and answers it with the 413 below."""

    code = "body_too_large"

    def __init__(self, detail: str):
        super().__init__(status_code=413, detail=detail)


def _find(exc: BaseException, kind: type) -> BaseException | None:
    if isinstance(exc, kind):
        return exc
    if isinstance(exc, BaseExceptionGroup):
        for inner in exc.exceptions:
            if found := _find(inner, kind):
                return found
    return None


class BodyLimit:
    def __init__(self, app, *, body_limit: int, upload_limit: int, upload_files: int, file_limit: int):
        self.app = app
        self.body_limit, self.upload_limit = body_limit, upload_limit
        self.body_text = (f"Request bodies other than file uploads are limited to {body_limit / MB:g} MB "
                          f"(MAX_JSON_BODY_MB).")
        self.upload_text = (f"File uploads are limited to {upload_limit / MB:g} MB per request ({upload_files} "
                            f"files of at most {file_limit / MB:g} MB each).")

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        headers = Headers(scope=scope)
        upload = headers.get("content-type", "").lower().startswith("multipart/")
        limit, text = (self.upload_limit, self.upload_text) if upload else (self.body_limit, self.body_text)
        too_large = {"detail": text, "code": "body_too_large", "kind": "body_too_large", "params": {}}
        length = headers.get("content-length", "")
        if length.isdigit() and int(length) > limit:
            return await _answer(scope, receive, send, 413, too_large)
        received = 0

        async def counted():
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > limit:
                    raise BodyTooLarge(text)
            return message

        state: dict = {}
        try:
            await self.app(scope, counted, _tracking(send, state))
        except Exception as exc:
            if _find(exc, BodyTooLarge) is None or state.get("started"):
                raise
            await _answer(scope, receive, send, 413, too_large)


class _Refused(Exception):
    def __init__(self, field: str | None, message: str):
        super().__init__(message)
        self.field, self.message = field, message


def _name(path: tuple) -> str | None:
    return ".".join(str(p) for p in path) or None


def _refuse_constant(name: str):
    raise _Refused(None, f"{name} is not a number JSON allows.")


def check_json(body: bytes) -> None:
    """_Refused for JSON no database can store: a whole number beyond 64 bits, a number too large for a
    float, a NUL character in a string or a key; also for a body that is not JSON at all."""
    try:
        data = json.loads(body, parse_constant=_refuse_constant)
    except json.JSONDecodeError as exc:
        raise _Refused(None, f"The body is not valid JSON: {exc.msg} (line {exc.lineno}, column {exc.colno}).") \
            from None
    except UnicodeDecodeError:
        raise _Refused(None, "The body is not valid JSON: it is not UTF-8 text.") from None
    except RecursionError:
        raise _Refused(None, "The body is nested too deeply.") from None
    except ValueError:  # Python refuses to read whole numbers of more than 4300 digits
        raise _Refused(None, f"A whole number in the body is too large; the most is {INT64_MAX}.") from None
    stack = [(data, ())]
    while stack:
        value, path = stack.pop()
        if isinstance(value, bool) or value is None:
            continue
        if isinstance(value, int) and not -INT64_MAX - 1 <= value <= INT64_MAX:
            shown = str(value) if len(str(value)) <= 30 else str(value)[:20] + "..."
            raise _Refused(_name(path), f"{shown} is too large; whole numbers here are at most {INT64_MAX}.")
        if isinstance(value, float) and not math.isfinite(value):
            raise _Refused(_name(path), "the number is too large.")
        if isinstance(value, str) and NUL in value:
            raise _Refused(_name(path), "must not contain NUL characters (\\u0000).")
        if isinstance(value, dict):
            for key, item in reversed(list(value.items())):
                if NUL in key:
                    raise _Refused(_name(path), "field names must not contain NUL characters (\\u0000).")
                stack.append((item, (*path, key)))
        elif isinstance(value, list):
            stack.extend((item, (*path, i)) for i, item in reversed(list(enumerate(value))))


def check_pairs(text: str) -> None:
    for key, value in parse_qsl(text, keep_blank_values=True):
        if NUL in key or NUL in value:
            raise _Refused(key.replace(NUL, "") or None, "must not contain NUL characters (\\u0000).")


class InputGuard:
    """NUL characters in the path or query string (every route); JSON and form bodies of the REST API and
    the sign-in form (Gradio's own payloads are Gradio's to check). Query, path and form-field numbers
    are bounded by their types (api/params.py), where the OpenAPI schema shows the bound."""

    BODY_PATHS = ("/api/", "/login")

    def __init__(self, app):
        self.app = app

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        try:
            if NUL in scope["path"]:
                raise _Refused(None, "The address must not contain NUL characters (%00).")
            check_pairs(scope.get("query_string", b"").decode("latin-1"))
        except _Refused as refused:
            return await _answer(scope, receive, send, 422,
                                 validation_body([{"field": refused.field, "message": refused.message}]))
        kind = Headers(scope=scope).get("content-type", "").split(";")[0].strip().lower()
        checked = kind in ("", "application/json", "application/x-www-form-urlencoded") or kind.endswith("+json")
        if scope["method"] not in UNSAFE or not checked or not scope["path"].startswith(self.BODY_PATHS):
            return await self.app(scope, receive, send)
        chunks, last = [], None
        while True:  # BodyLimit, outside us, caps what this reads
            message = await receive()
            if message["type"] != "http.request":
                last = message
                break
            chunks.append(message.get("body", b""))
            if not message.get("more_body"):
                break
        body = b"".join(chunks)
        try:
            if body and kind == "application/x-www-form-urlencoded":
                check_pairs(body.decode("latin-1"))
            elif body:
                check_json(body)
        except _Refused as refused:
            return await _answer(scope, receive, send, 422,
                                 validation_body([{"field": refused.field, "message": refused.message}]))
        replayed = False

        async def replay():
            nonlocal replayed
            if not replayed:
                replayed = True
                return last or {"type": "http.request", "body": body, "more_body": False}
            return await receive()

        await self.app(scope, replay, send)


def install_security(app, settings) -> None:
    """The middlewares above, in their order (Starlette runs the last added first)."""
    from core.catalog.products import MAX_BULK_FILES

    file_limit = max(settings.limit_bytes(kind) for kind in ("avatar", "product", "logo", "pose"))
    app.add_middleware(InputGuard)
    app.add_middleware(BodyLimit, body_limit=int(settings.max_json_body_mb * MB),
                       upload_limit=MAX_BULK_FILES * file_limit + MB, upload_files=MAX_BULK_FILES,
                       file_limit=file_limit)
    app.add_middleware(CrossSiteGuard, trusted_origins=settings.trusted_origins)
    app.add_middleware(ErrorBoundary)
    app.add_middleware(SecurityHeaders, frame_ancestors=settings.frame_ancestors)
