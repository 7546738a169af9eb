"""The server under load (README "Performance"): many more concurrent requests than threads, slots and
pooled connections all finish, none with an error; a request that waits too long in line gets a 503 with
Retry-After; reads never take SQLite's write lock (the sign-in check included) and read-only sessions
refuse to write; settings that could deadlock are refused at start. bench/bench_load.py measures speed.
"""
from __future__ import annotations

import asyncio
import io
import sqlite3
import threading
import time
from collections import Counter
from contextlib import contextmanager

import anyio
import httpx
import pytest
import sqlalchemy as sa
from PIL import Image
from pydantic import ValidationError
from sqlmodel import select

from core.catalog import brand_kits
from core.accounts import users
from core.catalog.brand_kits import BrandKitCreate
from core.settings import Settings
from db.models import BrandKit
from tests.support import free_port

PASSWORD = "correct horse battery"
# Far below the defaults, so the requests outnumber every limit: 4 slots, 4 route threads, 5 connections.
TIGHT = dict(max_concurrent_requests=4, web_threads=4, ui_threads=2, db_pool_size=3, db_max_overflow=2)


@contextmanager
def live_server(asgi):
    """The app served by uvicorn on a free loopback port, in a thread of this process."""
    import uvicorn

    port = free_port()
    server = uvicorn.Server(uvicorn.Config(asgi, host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 120
    while not server.started:
        assert thread.is_alive() and time.monotonic() < deadline, "the server did not start"
        time.sleep(0.05)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(60)


def png() -> bytes:
    buf = io.BytesIO()
    Image.new("RGBA", (32, 32), (228, 87, 46, 200)).save(buf, "PNG")
    return buf.getvalue()


def run_in_own_loop(coro):
    """asyncio.run on a thread of its own: whatever loop another test left marked as running on this thread
    (Playwright's sync API does while a browser is open) cannot get in the way."""
    out = {}

    def target():
        try:
            out["value"] = asyncio.run(coro)
        except BaseException as exc:  # noqa: BLE001 - re-raised on the test's thread
            out["error"] = exc

    thread = threading.Thread(target=target)
    thread.start()
    thread.join()
    if "error" in out:
        raise out["error"]
    return out["value"]


def shop(services, name: str):
    """A signed-in user with a kit whose logo is a stored file: (user, token, kit)."""
    with services.session() as s:
        user = users.create_user(s, username=name, password=PASSWORD, settings=services.settings)
        kit = brand_kits.create(s, user=user, data=BrandKitCreate(brand_name="Toko", colors=["#E4572E"],
                                                                  fonts=["Poppins"]))
        kit = brand_kits.upload_logo(s, user=user, kit_id=kit.id, source=png(), filename="logo.png",
                                     store=services.store, settings=services.settings)
        return user, users.issue_token(s, user=user, settings=services.settings), kit


@pytest.fixture
def tight_services(make_settings, db_url):
    from services import Services

    services = Services.build(make_settings(auth="password", database_url=db_url, **TIGHT), migrate=False)
    yield services
    services.close()


async def burst(base: str, requests: list[tuple[str, str, dict, dict | None]]) -> list[httpx.Response]:
    """Every request at once, each from a client of its own (as many browsers would)."""
    async def one(method, path, headers, body):
        async with httpx.AsyncClient(base_url=base, timeout=120) as client:
            return await client.request(method, path, headers=headers, json=body)

    return await asyncio.gather(*(one(*r) for r in requests))


@pytest.mark.parametrize("db_kind", ["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def test_a_burst_far_beyond_capacity_finishes_without_errors(tight_services, db_kind):
    """60 (SQLite) or 150 (Postgres) requests at once against 4 slots, 4 threads and 5 connections: list and
    detail routes, a stored file, the page load of "/" and one write in six (a new kit, 5 credits). Before,
    such a burst hung for the pool timeout and then failed with 500s. Every request succeeds, and every
    write happened exactly once."""
    import app

    user, token, kit = shop(tight_services, "burst")
    api = {"Authorization": f"Bearer {token}"}
    page = {"Accept": "text/html", "Cookie": f"apg_session={token}"}
    mix = [("GET", "/api/apps/brand-kit/kits", api, None), ("GET", f"/api/apps/brand-kit/kits/{kit.id}", api, None),
           ("GET", f"/api/files/{kit.logo_path}", api, None), ("GET", "/api/auth/me", api, None),
           ("GET", "/", page, None)]
    count = 60 if db_kind == "sqlite" else 150
    requests = [("POST", "/api/apps/brand-kit/kits", api, {"brandName": f"Kit {i}", "colors": ["#000000"],
                                                           "fonts": ["Poppins"]}) if i % 6 == 5 else mix[i % 5]
                for i in range(count)]

    with live_server(app.create_app(tight_services.settings, tight_services)) as base:
        responses = run_in_own_loop(burst(base, requests))

    statuses = Counter((r.request.method, r.status_code) for r in responses)
    writes = count // 6
    assert statuses == {("GET", 200): count - writes, ("POST", 201): writes}, statuses
    assert all(b"<html" in r.content.lower() for r in responses if r.request.url.path == "/")
    with tight_services.session() as s:
        kits = list(s.exec(select(BrandKit).where(BrandKit.user_id == user.id)))
        assert len(kits) == 1 + writes
        assert users.get(s, user.id).credits == 1000 - 5 - 3 - 5 * writes  # first kit, logo, the burst's kits


def test_a_request_that_waits_too_long_in_line_gets_503_with_retry_after():
    """One slot, held by a request that is still being served: the next request waits its time in line,
    then gets a clean 503 naming the wait; once the slot is free, requests are served again."""
    from api.gate import RETRY_AFTER_SECONDS, RequestGate

    async def scenario():
        entered, finish = anyio.Event(), anyio.Event()

        async def slow_app(scope, receive, send):
            if scope["path"] == "/slow":
                entered.set()
                await finish.wait()
            await send({"type": "http.response.start", "status": 200, "headers": [(b"content-length", b"2")]})
            await send({"type": "http.response.body", "body": b"ok"})

        gate = RequestGate(slow_app, limit=1, threads=4, wait_seconds=0.2)
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=gate), base_url="http://test") as client:
            async with anyio.create_task_group() as tg:
                results = {}

                async def slow():
                    results["slow"] = await client.get("/slow")

                tg.start_soon(slow)
                await entered.wait()
                results["waited"] = await client.get("/other")
                finish.set()
            results["after"] = await client.get("/other")
        return results

    results = run_in_own_loop(scenario())
    waited = results["waited"]
    assert waited.status_code == 503
    assert waited.headers["retry-after"] == str(RETRY_AFTER_SECONDS)
    assert waited.json() == {"detail": f"The server is busy; try again in {RETRY_AFTER_SECONDS} seconds.",
                             "code": "busy", "kind": "busy", "params": {}}
    assert results["slow"].status_code == 200 and results["after"].status_code == 200


@pytest.fixture
def password_services(make_settings, db_url):
    from services import Services

    services = Services.build(make_settings(auth="password", database_url=db_url), migrate=False)
    yield services
    services.close()


@contextmanager
def sqlite_write_lock(url: str):
    """Another connection holds SQLite's write lock (as a render's commit or a batch start does)."""
    conn = sqlite3.connect(sa.engine.make_url(url).database, isolation_level=None, timeout=30)
    conn.execute("BEGIN IMMEDIATE")
    try:
        yield
    finally:
        conn.execute("ROLLBACK")
        conn.close()


@pytest.mark.parametrize("db_kind", ["sqlite"])
def test_reads_and_the_sign_in_check_never_wait_for_sqlite_write_lock(password_services):
    """While another connection holds the write lock, signed-in reads are served: REST lists with a token,
    a stored file, the page load of "/" with the session cookie (Gradio's sign-in check). Before, each
    of these began with BEGIN IMMEDIATE and failed with 'database is locked' after the busy timeout."""
    import app

    _user, token, kit = shop(password_services, "reader")
    api = {"Authorization": f"Bearer {token}"}
    with live_server(app.create_app(password_services.settings, password_services)) as base:
        with sqlite_write_lock(password_services.settings.database_url), httpx.Client(base_url=base, timeout=120) as c:
            kits = c.get("/api/apps/brand-kit/kits", headers=api)
            logo = c.get(f"/api/files/{kit.logo_path}", headers=api)
            me = c.get("/api/auth/me", headers=api)
            home = c.get("/", headers={"Accept": "text/html", "Cookie": f"apg_session={token}"})
    assert kits.status_code == 200 and kits.json()["total"] == 1
    assert logo.status_code == 200 and logo.content.startswith(b"\x89PNG")
    assert me.status_code == 200 and me.json()["username"] == "reader"
    assert home.status_code == 200 and b"<html" in home.content.lower()


def test_read_only_sessions_refuse_writes_and_write_sessions_write(services):
    """A session opened for reading cannot write (so a read never upgrades a stale SQLite snapshot, and
    Postgres runs it READ ONLY); nothing of the attempt is left. The default session writes."""
    with services.session() as s:
        user = users.create_user(s, username="writer", password=None, settings=services.settings)
    with services.session(write=False) as s:
        assert users.get(s, user.id).username == "writer"
        s.add(BrandKit(user_id=user.id, brand_name="Sneaky", colors=["#000000"], fonts=["Poppins"]))
        with pytest.raises(sa.exc.DBAPIError):
            s.commit()
    with services.session() as s:
        assert list(s.exec(select(BrandKit).where(BrandKit.user_id == user.id))) == []
        brand_kits.create(s, user=user, data=BrandKitCreate(brand_name="Real", colors=["#000000"], fonts=["Poppins"]))
    with services.session(write=False) as s:
        assert [k.brand_name for k in s.exec(select(BrandKit).where(BrandKit.user_id == user.id))] == ["Real"]


@pytest.mark.parametrize("values, named", [
    (dict(max_concurrent_requests=41, web_threads=40), "WEB_THREADS (40)"),
    (dict(max_concurrent_requests=16, db_pool_size=10, db_max_overflow=6), "DB_POOL_SIZE + DB_MAX_OVERFLOW (16)"),
])
def test_capacity_settings_that_could_deadlock_are_refused(values, named):
    with pytest.raises(ValidationError) as err:
        Settings(**values)
    assert "MAX_CONCURRENT_REQUESTS" in str(err.value) and named in str(err.value)
    Settings(max_concurrent_requests=8, web_threads=8, db_pool_size=5, db_max_overflow=4)  # fine
