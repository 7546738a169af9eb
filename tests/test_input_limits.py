"""Input no database can store is a 422 naming the field and the limit, never a 500 (issue 11): whole numbers
past 64 bits (SQLite overflowed), NUL characters (PostgreSQL text cannot hold them, the unauthenticated
sign-in included), analytics months before the year 1000; bodies are capped before they are read (413
naming the limit, by Content-Length and by counting a streamed body); a 500 leaves the client's keep-alive
connection usable; an empty PATCH changes nothing. Real HTTP against the real app, on SQLite and Postgres."""
from __future__ import annotations

import io
import threading
import time
import tracemalloc
from contextlib import contextmanager

import httpx
import pytest
from fastapi.testclient import TestClient
from PIL import Image
from sqlmodel import select

from api import create_api
from core.accounts import users
from db.models import BrandKit, Product, User
from tests.support import free_port

PASSWORD = "correct horse battery"
LIMIT = "9223372036854775807"
HUGE = 2**70
KITS = "/api/apps/brand-kit/kits"
PRODUCTS = "/api/apps/product-manager/products"


def png() -> bytes:
    buf = io.BytesIO()
    Image.new("RGB", (64, 64), (200, 40, 40)).save(buf, "PNG")
    return buf.getvalue()


@pytest.fixture
def settings(make_settings, db_url):
    return make_settings(auth="password", database_url=db_url)


@pytest.fixture
def services(settings):
    """No job runner: a product's cut-out (and its refund when rembg has no weights here) stays queued."""
    from services import Services

    s = Services.build(settings, migrate=False, runner=False)
    yield s
    s.close()


@pytest.fixture
def shop(services, make_user):
    """(client with siti's token, siti) and a brand kit of hers."""
    user = make_user("siti", password=PASSWORD)
    with services.session() as s:
        token = users.issue_token(s, user=user, settings=services.settings)
    client = TestClient(create_api(services), headers={"Authorization": f"Bearer {token}"})
    kit = client.post(KITS, json={"brandName": "Toko Siti", "colors": ["#aa3355"], "fonts": ["Poppins"]})
    assert kit.status_code == 201, kit.text
    return client, user, kit.json()


@contextmanager
def served(app):
    """The app on a free loopback port under uvicorn (real sockets, real keep-alive)."""
    import uvicorn

    port = free_port()
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="critical", lifespan="off"))
    server.install_signal_handlers = lambda: None
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started:
        assert thread.is_alive() and time.monotonic() < deadline, "the test server did not start"
        time.sleep(0.02)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=10)


def refused(r, field: str | None, *words: str):
    assert r.status_code == 422, (r.request.url, r.text)
    body = r.json()
    assert body["kind"] == "validation_error" and body["field"] == field, body
    assert isinstance(body["detail"], str) and all(w in body["detail"] for w in words), body
    assert "Traceback" not in r.text and "/work" not in r.text


def test_numbers_past_64_bits_are_422_naming_the_limit(shop, services):
    client, user, kit = shop
    refused(client.get(KITS, params={"offset": HUGE}), "offset", LIMIT)
    refused(client.get(KITS, params={"offset": 2**64, "limit": 10}), "offset", LIMIT)
    refused(client.get(f"{KITS}/{HUGE}"), "kit_id", LIMIT)
    refused(client.get(PRODUCTS, params={"brandKitId": HUGE}), "brandKitId", LIMIT)
    refused(client.get("/api/apps/pose-generator/generations", params={"projectId": HUGE}), "projectId", LIMIT)
    refused(client.get("/api/analytics/dashboard", params={"brandKitId": HUGE}), "brandKitId", LIMIT)
    refused(client.post("/api/apps/pose-generator/generate", json={
        "brandKitId": kit["id"], "avatarId": HUGE, "productId": 1, "templateIds": [1]}), "avatarId", LIMIT)
    refused(client.post("/api/apps/pose-generator/posters", json={"resultIds": [1, -HUGE]}), "resultIds.1", LIMIT)
    refused(client.get("/api/apps/pose-generator/results/1/export", params={"ids": f"1,{HUGE}"}), "ids", LIMIT)
    refused(client.post(PRODUCTS, files={"file": ("p.png", png(), "image/png")}, data={"brandKitId": str(HUGE)}),
            "brandKitId", LIMIT)
    # Inside 64 bits an id that names nothing is still "not found", and the limit itself is fine.
    assert client.get(f"{KITS}/{2**63 - 1}").status_code == 404
    assert client.get(KITS, params={"offset": 2**63 - 1}).json()["items"] == []
    with services.session() as s:
        assert len(s.exec(select(Product)).all()) == 0


def test_nul_characters_are_422_and_nothing_is_stored(shop, services):
    client, user, kit = shop
    refused(client.post(KITS, json={"brandName": "Toko\u0000", "colors": ["#000000"], "fonts": ["Poppins"]}),
            "brandName", "NUL")
    refused(client.patch(f"{KITS}/{kit['id']}", json={"tagline": "a\u0000b"}), "tagline", "NUL")
    refused(client.post(KITS, json={"brandName": "ok", "colors": ["#000000"], "fonts": ["Poppins"], "x\u0000": 1}),
            None, "NUL")
    refused(client.get("/api/apps/pose-generator/templates", params={"q": "a\u0000b"}), "q", "NUL")
    refused(client.get("/api/files/a%00b.png"), None, "NUL")
    refused(client.post(PRODUCTS, files={"file": ("p.png", png(), "image/png")}, data={"name": "Serum\u0000"}),
            "name", "NUL")
    # httpx would percent-encode it; a hand-made client sends the raw byte in the part's file name
    raw = (b'--XX\r\nContent-Disposition: form-data; name="file"; filename="p\x00.png"\r\nContent-Type: image/png'
           b"\r\n\r\n" + png() + b"\r\n--XX--\r\n")
    refused(client.post(PRODUCTS, content=raw, headers={"Content-Type": "multipart/form-data; boundary=XX"}),
            "file", "NUL")
    with services.session() as s:
        assert [k.brand_name for k in s.exec(select(BrandKit)).all()] == ["Toko Siti"]
        assert s.exec(select(Product)).all() == []


def test_signing_in_with_a_nul_is_422_without_a_token(services, make_user):
    make_user("dewi", password=PASSWORD)
    client = TestClient(create_api(services), follow_redirects=False)
    refused(client.post("/api/auth/login", json={"username": "de\u0000wi", "password": PASSWORD}), "username", "NUL")
    refused(client.post("/api/auth/login", json={"username": "dewi", "password": "\u0000"}), "password", "NUL")
    refused(client.post("/login", data={"username": "de\u0000wi", "password": PASSWORD}), "username", "NUL")
    assert client.post("/api/auth/login", json={"username": "dewi", "password": PASSWORD}).status_code == 200


def test_json_no_database_can_hold_is_422_not_500(shop):
    client, _, _ = shop
    headers = {"Content-Type": "application/json"}
    for body, words in ((b'{"brandName": NaN}', ["NaN"]), (b'{"brandName": 1e999}', ["too large"]),
                        (b"[" * 50_000 + b"]" * 50_000, ["nested too deeply"]),
                        (b'{"brandName": 1' + b"0" * 5000 + b"}", [LIMIT]),
                        (b'{"brandName": "x"', ["not valid JSON"]), (b"\xff\xfe\x00", ["not valid JSON"])):
        r = client.post(KITS, content=body, headers=headers)
        assert r.status_code == 422, (body[:30], r.text)
        assert all(w in r.json()["detail"] for w in words), r.text


def test_analytics_months_run_from_the_year_1000(shop):
    client, _, _ = shop
    for name, value in (("from", "0999-01"), ("from", "0000-01"), ("to", "null"), ("to", "2025-13")):
        refused(client.get("/api/analytics/dashboard", params={name: value}), name, "YYYY-MM", "1000")
        refused(client.get("/api/analytics/export.csv", params={name: value}), name, "YYYY-MM")
    r = client.get("/api/analytics/dashboard", params={"from": "9999-12", "to": "9999-12"})
    assert r.status_code == 200 and r.json()["filters"]["months"] == ["9999-12"], r.text
    r = client.get("/api/analytics/dashboard", params={"from": "1000-01"})
    assert r.status_code == 422 and "at most 120 months" in r.json()["detail"], r.text
    assert client.get("/api/analytics/dashboard", params={"to": ""}).status_code == 200  # empty: no filter


def test_an_empty_patch_changes_nothing_and_costs_nothing(shop, services):
    client, user, kit = shop
    product = client.post(PRODUCTS, files={"file": ("p.png", png(), "image/png")}, data={"name": "Serum"})
    assert product.status_code == 201, product.text
    with services.session() as s:
        before = s.get(User, user.id).credits
    for url, original in ((f"{KITS}/{kit['id']}", kit), (f"{PRODUCTS}/{product.json()['id']}", product.json())):
        r = client.patch(url, json={})
        assert r.status_code == 200, r.text
        assert {k: v for k, v in r.json().items() if k != "updatedAt"} == \
            {k: v for k, v in original.items() if k != "updatedAt"}
    with services.session() as s:
        assert s.get(User, user.id).credits == before
    r = client.patch(f"{KITS}/{kit['id']}", json={"tone": None})  # tone always has a value: was a 500
    assert r.status_code == 422 and r.json()["field"] == "tone", r.text


@pytest.mark.parametrize("db_kind", ["sqlite"], indirect=True)
def test_bodies_are_capped_before_they_are_read(make_settings, db_url, make_user):
    """413 naming the limit: by Content-Length at once, and by counting a streamed (chunked) body, whose
    bytes past the limit the server never keeps: a 100 MB JSON body costs it a few MB, not 100+."""
    from services import Services

    settings = make_settings(auth="password", database_url=db_url, max_json_body_mb=1, max_avatar_size_mb=0.01,
                             max_product_size_mb=0.01, max_logo_size_mb=0.01, max_pose_file_size_mb=0.01)
    services = Services.build(settings, migrate=False, runner=False)
    user = make_user("siti", password=PASSWORD)
    with services.session() as s:
        token = users.issue_token(s, user=user, settings=settings)
    auth = {"Authorization": f"Bearer {token}"}
    try:
        with served(create_api(services)) as base, httpx.Client(base_url=base, headers=auth, timeout=60) as http:
            big = b'{"brandName": "' + b"x" * (1024 * 1024) + b'"}'
            r = http.post(KITS, content=big, headers={"Content-Type": "application/json"})
            assert r.status_code == 413 and r.json()["code"] == "body_too_large", r.text
            assert "1 MB" in r.json()["detail"] and "MAX_JSON_BODY_MB" in r.json()["detail"]

            chunk = b" " * (1024 * 1024)

            def stream():
                yield b'{"brandName": "'
                for _ in range(100):
                    yield chunk
                yield b'"}'

            tracemalloc.start()
            try:
                r = http.post(KITS, content=stream(), headers={"Content-Type": "application/json"})
                peak = tracemalloc.get_traced_memory()[1]
            finally:
                tracemalloc.stop()
            assert r.status_code == 413 and "1 MB" in r.json()["detail"], r.text
            assert peak < 20 * 1024 * 1024, f"{peak / 2**20:.0f} MB kept for a body over the limit"

            upload = {"file": ("p.png", b"\x89PNG" + b"0" * (2 * 1024 * 1024), "image/png")}
            r = http.post(PRODUCTS, files=upload)
            assert r.status_code == 413, r.text
            assert "File uploads are limited to" in r.json()["detail"] and "50 files" in r.json()["detail"]
            # under the request cap, the file's own limit answers (core: the product photo limit)
            r = http.post(PRODUCTS, files={"file": ("p.png", b"\x89PNG" + b"0" * 20_000, "image/png")})
            assert r.status_code == 413 and r.json()["field"] == "file" and "at most" in r.json()["detail"], r.text
            # and the connection still serves the next request
            assert http.get(KITS).status_code == 200
    finally:
        services.close()


@pytest.mark.parametrize("db_kind", ["sqlite"], indirect=True)
def test_a_500_leaves_the_keep_alive_connection_usable(services):
    """Starlette's ServerErrorMiddleware re-raises after its 500, and uvicorn then closes the connection:
    the client's next request on it failed (connection reset). Now the 500 stops at our boundary."""
    app = create_api(services)

    @app.get("/api/test-boom")
    def boom():
        raise RuntimeError("secret detail /srv/data")

    with served(app) as base, httpx.Client(base_url=base, timeout=30) as http:
        ports = []
        for _ in range(3):
            r = http.get("/api/test-boom")
            assert r.status_code == 500 and r.json() == {
                "detail": "Something went wrong on our side; please try again.", "code": "internal_error",
                "kind": "internal_error", "params": {}}
            assert "secret" not in r.text
            ports.append(r.extensions["network_stream"].get_extra_info("client_addr")[1])
        assert http.get("/api/apps").status_code == 200
        assert len(set(ports)) == 1, f"a new connection after each 500: local ports {ports}"


@pytest.mark.parametrize("db_kind", ["sqlite"], indirect=True)
def test_a_database_that_cannot_serve_in_time_is_a_503_with_retry_after(services):
    """The pool's wait running out, or SQLite's busy timeout, is capacity, not a bug: 503 + Retry-After, and the
    connection stays usable (the request gate makes both rare; this is the answer when it happens anyway)."""
    import sqlite3

    import sqlalchemy.exc

    app = create_api(services)

    @app.get("/api/test-pool")
    def pool_timeout():
        raise sqlalchemy.exc.TimeoutError("QueuePool limit of size 5 overflow 10 reached")

    @app.get("/api/test-locked")
    def locked():
        try:
            raise sqlite3.OperationalError("database is locked")
        except sqlite3.OperationalError as exc:
            raise sqlalchemy.exc.OperationalError("INSERT ...", {}, exc) from exc

    with served(app) as base, httpx.Client(base_url=base, timeout=30) as http:
        for path in ("/api/test-pool", "/api/test-locked"):
            r = http.get(path)
            assert r.status_code == 503, path
            assert r.headers["retry-after"] == "5"
            assert r.json()["code"] == "busy" and "QueuePool" not in r.text and "INSERT" not in r.text
        assert http.get("/api/apps").status_code == 200
