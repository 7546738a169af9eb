"""A line at the door: at most `limit` HTTP requests are served at once; the rest wait, first come first
served, and one that waits longer than `wait_seconds` gets a 503 with Retry-After instead of a 500 later.

Why (README "Performance"): sync routes, their sync dependencies and file responses share AnyIO's default
thread limiter. Unbounded, 50 clients were enough for requests holding a database connection to wait
for a thread while every thread waited for a connection, until the pool timed out and everything
failed. A request in flight needs at most one thread and one connection at a time, so with no more of
them than threads (`threads` sets the default limiter's size, per event loop) and fewer than pooled
connections (core.settings checks both), every wait for a thread or a connection ends.

A request gives its slot back when its response starts: by then its database session is closed
(api.deps), so a slow client reading a big file holds no slot, no connection and no thread. Gradio's
long-lived event streams (queue data, heartbeats, upload progress) never take one: they would hold it for
as long as a tab stays open; nor do Gradio's uploads, which would hold one for as long as a slow phone
takes to send a photo (they use a thread and a connection only for the short sign-in check). A REST
upload does hold its slot while its body arrives (a proxy that buffers request bodies avoids that).
"""
from __future__ import annotations

import json

import anyio
import anyio.to_thread
from anyio.lowlevel import RunVar

RETRY_AFTER_SECONDS = 5
UNGATED = ("/gradio_api/queue/data", "/gradio_api/heartbeat/", "/gradio_api/upload")  # + /upload_progress
BUSY = json.dumps({"detail": f"The server is busy; try again in {RETRY_AFTER_SECONDS} seconds.",
                   "code": "busy", "kind": "busy", "params": {}}).encode()


class RequestGate:
    def __init__(self, app, *, limit: int, threads: int, wait_seconds: float, exempt: tuple[str, ...] = UNGATED):
        self.app, self.limit, self.threads, self.wait_seconds, self.exempt = app, limit, threads, wait_seconds, exempt
        self._slots: RunVar[anyio.Semaphore] = RunVar("apg_request_slots")

    def slots(self) -> anyio.Semaphore:
        """This event loop's slots (a test client may run several loops); sizes the thread limiter too."""
        try:
            return self._slots.get()
        except LookupError:
            anyio.to_thread.current_default_thread_limiter().total_tokens = self.threads
            slots = anyio.Semaphore(self.limit)
            self._slots.set(slots)
            return slots

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http" or scope["path"].startswith(self.exempt):
            return await self.app(scope, receive, send)
        slots = self.slots()
        admitted = False
        with anyio.move_on_after(self.wait_seconds):
            await slots.acquire()
            admitted = True
        if not admitted:
            return await busy(send)
        held = True

        def give_back() -> None:
            nonlocal held
            if held:
                held = False
                slots.release()

        async def send_and_give_back(message) -> None:
            if message["type"] == "http.response.start":
                give_back()
            await send(message)

        try:
            await self.app(scope, receive, send_and_give_back)
        finally:
            give_back()


async def busy(send) -> None:
    await send({"type": "http.response.start", "status": 503, "headers": [
        (b"content-type", b"application/json"), (b"content-length", str(len(BUSY)).encode()),
        (b"retry-after", str(RETRY_AFTER_SECONDS).encode())]})
    await send({"type": "http.response.body", "body": BUSY})
