"""The one gate every Gradio file input enters through: an event reads only files this user uploaded.

Gradio trusts the `path` of a FileData that a client sends. Its own check (processing_utils._check_allowed)
runs only once `Blocks.launch()` has set `has_launched`, which gr.mount_gradio_app never does, and even then
it only asks whether the file lies somewhere in the upload cache, which holds every user's uploads. So
`install()` guards the three doors a file passes, for every handler, including ones added later:

- POST /gradio_api/upload: the cache paths Gradio answers with are noted under the uploader's name.
- Blocks.process_api, where the queue, /run and /call all end: before Gradio touches an event's inputs,
  every FileData in them (and in its event data) must name a file this user uploaded that is still in
  the cache. Anything else
  (another user's upload, a file under STORAGE_DIR or inside the gradio package, a path that climbs out
  of the cache with `..`, a URL) stops the event with a gr.Error that names no path. Files an event hands
  back (a pose export) are noted as that user's.
- GET /gradio_api/file=<a path in the cache>: served to the owner of the file only; 404 for anyone else
  (the app shows its own files through /api/files, which checks the owner). Gradio's proxying of http(s)
  URLs through that route is refused too; nothing here needs it.

It also sets `has_launched`, so Gradio's own check runs behind ours. Handlers call `release(demo, request,
paths)` once they have ingested or refused an upload: the file leaves the cache at once. Uploads nobody
used expire with Gradio's delete_cache after UPLOAD_CACHE_SECONDS.
"""
from __future__ import annotations

import inspect
import json
import logging
import os
import threading
import time
from collections.abc import Callable, Iterable

import gradio as gr
from gradio.utils import get_upload_folder
from gradio_client import utils as client_utils
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import PlainTextResponse

from ui.i18n import tr

log = logging.getLogger(__name__)

UPLOAD_ROUTE = "/gradio_api/upload"
FILE_ROUTES = ("/gradio_api/file=", "/gradio_api/file/")
PRUNE_EVERY_S = 60
_ATTR = "_apg_upload_guard"


def _real(path: str) -> str:
    return os.path.realpath(os.path.abspath(path))


def _is_file_value(value) -> bool:
    """A FileData as a client sends it: a dict with a `path`, or one marked gradio.FileData."""
    if not isinstance(value, dict):
        return False
    meta = value.get("meta")
    return "path" in value or (isinstance(meta, dict) and meta.get("_type") == "gradio.FileData")


def _file_values(data) -> list[dict]:
    found: list[dict] = []
    client_utils.traverse(data, lambda d: found.append(d) or d, _is_file_value)
    return found


def owner_of(request) -> str | None:
    """Whose files an event may read: the signed-in name ("" with AUTH=none, where everyone is the local
    user). A batch of several people's events has no single owner: it may read no file at all."""
    if isinstance(request, list):
        names = {getattr(r, "username", None) or "" for r in request}
        return names.pop() if len(names) == 1 else None
    if request is None:
        return None
    return getattr(request, "username", None) or ""


class UploadGuard:
    """Who uploaded which file of Gradio's upload cache (one process holds one cache and one queue)."""

    def __init__(self, upload_dir: str, blocks: gr.Blocks | None = None):
        self.upload_dir = _real(upload_dir)
        self.blocks = blocks
        self._owners: dict[str, set[str]] = {}
        self._lock = threading.Lock()
        self._pruned = time.monotonic()

    def in_cache(self, real: str) -> bool:
        return real.startswith(self.upload_dir + os.sep)

    def record(self, owner: str, paths: Iterable[str]) -> None:
        with self._lock:
            for path in paths:
                real = _real(path)
                if self.in_cache(real):
                    self._owners.setdefault(real, set()).add(owner)
            if time.monotonic() - self._pruned > PRUNE_EVERY_S:  # forget what delete_cache removed
                self._pruned = time.monotonic()
                for real in [r for r in self._owners if not os.path.exists(r)]:
                    del self._owners[real]

    def may_read(self, owner: str | None, path) -> bool:
        if owner is None or not isinstance(path, str) or not path or "\0" in path:
            return False
        if client_utils.is_http_url_like(path):
            return False
        real = _real(path)
        with self._lock:
            known = owner in self._owners.get(real, ())
        return known and os.path.isfile(real)

    def refused(self, owner: str | None, data) -> list:
        """The paths of the FileData in `data` that `owner` may not read (a data: URL counts as refused:
        Gradio would decode it into the cache instead of reading the path)."""
        bad = []
        for value in _file_values(data):
            url = value.get("url")
            if not self.may_read(owner, value.get("path")) or (isinstance(url, str) and url.startswith("data:")):
                bad.append(value.get("path"))
        return bad

    def release(self, owner: str | None, paths: Iterable[str]) -> None:
        """Delete these uploads of `owner` from the cache (a file two people uploaded stays for the other)."""
        for path in paths:
            real = _real(path)
            with self._lock:
                holders = self._owners.get(real)
                if owner is None or not holders or owner not in holders:
                    continue
                holders.discard(owner)
                if holders:
                    continue
                del self._owners[real]
            try:
                os.remove(real)
            except FileNotFoundError:
                pass
            folder = os.path.dirname(real)
            if os.path.dirname(folder) == self.upload_dir:  # Gradio's <cache>/<hash>/<name>
                try:
                    os.rmdir(folder)
                except OSError:
                    pass  # not empty
            if self.blocks is not None:
                self.blocks.upload_file_set.discard(path)
                self.blocks.upload_file_set.discard(real)


def guard_of(demo: gr.Blocks) -> UploadGuard | None:
    return getattr(demo, _ATTR, None)


def release(demo: gr.Blocks, request, paths) -> None:
    """A handler is done with these uploads (ingested or refused): they leave Gradio's cache now."""
    guard = guard_of(demo)
    if guard is None or not paths:
        return
    guard.release(owner_of(request), [paths] if isinstance(paths, str) else [p for p in paths if p])


def _guard_events(demo: gr.Blocks, guard: UploadGuard) -> None:
    original = demo.process_api
    signature = inspect.signature(original)

    async def process_api(*args, **kwargs):
        bound = signature.bind(*args, **kwargs)
        request = bound.arguments.get("request")
        owner = owner_of(request)
        if not bound.arguments.get("explicit_call"):  # an explicit call comes from our own code, not a client
            event = getattr(bound.arguments.get("event_data"), "_data", None)  # what a handler's gr.EventData reads
            bad = guard.refused(owner, [bound.arguments.get("inputs"), event])
            if bad:
                log.warning("refused a file input of %r that is not theirs: %s", owner, bad)
                first = request[0] if isinstance(request, list) and request else request
                raise gr.Error(tr(first, "common.upload_again"), print_exception=False)
        output = await original(*args, **kwargs)
        if owner is not None and isinstance(output, dict):
            guard.record(owner, [v["path"] for v in _file_values(output.get("data"))
                                 if isinstance(v.get("path"), str)])
        return output

    demo.process_api = process_api


class _Doors:
    """ASGI middleware on the app that mounts Gradio: notes each upload's owner, serves the cache to owners."""

    def __init__(self, app, guard: UploadGuard, who: Callable[[Request], str | None]):
        self.app, self.guard, self.who = app, guard, who

    async def __call__(self, scope, receive, send):
        if scope["type"] == "http":
            path, root = scope["path"], scope.get("root_path") or ""
            if root and path.startswith(root + "/"):  # behind a proxy prefix: what Starlette routes on
                path = path[len(root):]
            path = "/" + path.lstrip("/")
            if path == UPLOAD_ROUTE and scope["method"] == "POST":
                return await self._upload(scope, receive, send)
            if path.startswith(FILE_ROUTES) and scope["method"] in ("GET", "HEAD"):
                target = next(path[len(p):] for p in FILE_ROUTES if path.startswith(p))
                if not await self._may_fetch(scope, target):
                    return await PlainTextResponse("File not found.", status_code=404)(scope, receive, send)
        await self.app(scope, receive, send)

    async def _owner(self, scope) -> str | None:
        """`who` may be a plain function (run in a thread) or a coroutine function (api.login's)."""
        if inspect.iscoroutinefunction(self.who):
            return await self.who(Request(scope))
        return await run_in_threadpool(self.who, Request(scope))

    async def _may_fetch(self, scope, target: str) -> bool:
        if client_utils.is_http_url_like(target):
            return False
        if not target or "\0" in target:
            return True  # Gradio answers these itself (403)
        real = _real(target)
        if not self.guard.in_cache(real) and real != self.guard.upload_dir:
            return True  # outside the cache: Gradio's own rules (allowed_paths=[], static files only)
        return self.guard.may_read(await self._owner(scope), real)

    async def _upload(self, scope, receive, send):
        owner = await self._owner(scope)
        status, body = 0, []

        async def noting(message):
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            elif message["type"] == "http.response.body" and owner is not None and status == 200:
                body.append(message.get("body", b""))
                if not message.get("more_body"):
                    try:
                        paths = json.loads(b"".join(body))
                    except ValueError:
                        paths = []
                    # noted before the answer leaves, so no event can name the file before it is known
                    self.guard.record(owner, [p for p in paths if isinstance(p, str)] if isinstance(paths, list)
                                      else [])
            await send(message)

        await self.app(scope, receive, noting)


def install(app, demo: gr.Blocks, *, who: Callable[[Request], str | None], max_age_seconds: int) -> UploadGuard:
    """Guard `demo` before it is mounted on `app`. `who(request)` names the signed-in user (None: nobody;
    "" with AUTH=none); uploads nobody used leave the cache after `max_age_seconds`."""
    guard = UploadGuard(get_upload_folder(), blocks=demo)
    setattr(demo, _ATTR, guard)
    demo.has_launched = True  # Gradio's own "uploaded, not any server path" check runs too
    demo.delete_cache = (max(1, min(max_age_seconds, 300)), max_age_seconds)
    _guard_events(demo, guard)
    app.add_middleware(_Doors, guard=guard, who=who)
    return guard
