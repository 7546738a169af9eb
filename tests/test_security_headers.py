"""Every answer, page or API, success or error, carries the security headers (CSP with frame-ancestors from
FRAME_ANCESTORS, X-Content-Type-Options, Referrer-Policy, X-Frame-Options when it can say the same); and a
change signed by the session cookie but sent from another site is refused with 403 (issue 11: a
cross-origin multipart POST created a product), on the REST API, Gradio's API and the sign-in form alike.
Bearer-token clients and clients that send no Origin (curl, SDKs) are not affected. Real app (REST +
Gradio), real cookies; the browser side is tests/browser/test_security_browser.py."""
from __future__ import annotations

import io

import pytest
from fastapi.testclient import TestClient
from PIL import Image
from sqlmodel import select

import app as composition_root
from core.accounts import users
from db.models import Product

PASSWORD = "correct horse battery"
PRODUCTS = "/api/apps/product-manager/products"
EVIL = "http://evil.example"
HEADERS = ("content-security-policy", "x-content-type-options", "referrer-policy")


def png() -> bytes:
    buf = io.BytesIO()
    Image.new("RGB", (64, 64), (20, 120, 200)).save(buf, "PNG")
    return buf.getvalue()


@pytest.fixture(params=["sqlite"])
def db_kind(request):  # headers and origins do not touch the database
    return request.param


def full_app(services):
    return TestClient(composition_root.create_app(services.settings, services=services), follow_redirects=False)


def assert_secured(r, *, frame_ancestors: str):
    missing = [h for h in HEADERS if h not in r.headers]
    assert not missing, (r.request.url, r.status_code, missing)
    csp = r.headers["content-security-policy"]
    assert f"frame-ancestors {frame_ancestors}" in csp and "object-src 'none'" in csp and "base-uri 'self'" in csp
    assert r.headers["x-content-type-options"] == "nosniff"
    assert r.headers["referrer-policy"] == "same-origin"


@pytest.fixture
def settings(make_settings, db_url):
    return make_settings(auth="none", database_url=db_url)


def test_every_kind_of_answer_carries_the_headers(services):
    client = full_app(services)

    answers = {
        "page": client.get("/", headers={"Accept": "text/html"}),
        "gradio config": client.get("/config"),
        "rest": client.get("/api/apps"),
        "font": client.get("/assets/fonts/Poppins/Poppins-Regular.ttf"),
        "404": client.get("/api/apps/brand-kit/kits/999"),
        "422": client.get("/api/apps/brand-kit/kits", params={"limit": 0}),
        "413": client.post("/api/apps/brand-kit/kits", content=b"{" + b" " * (3 * 1024 * 1024) + b"}",
                           headers={"Content-Type": "application/json"}),
        "403": client.post(PRODUCTS, headers={"Origin": EVIL}),
        "openapi": client.get("/openapi.json"),
    }
    for name, r in answers.items():
        assert_secured(r, frame_ancestors="'self' https://huggingface.co https://*.hf.space")
        # A list of sites cannot be said with X-Frame-Options (it would stop the Hugging Face Space embed).
        assert "x-frame-options" not in r.headers, name
    assert answers["page"].status_code == 200 and answers["font"].status_code == 200
    assert [answers[k].status_code for k in ("404", "422", "413", "403")] == [404, 422, 413, 403]
    page_csp = answers["page"].headers["content-security-policy"]
    assert "script-src 'self' 'unsafe-inline' 'unsafe-eval'" in page_csp and "connect-src 'self'" in page_csp
    assert "cdn.jsdelivr.net" not in page_csp
    # /docs loads Swagger UI from jsDelivr: its own policy allows exactly that.
    docs = client.get("/docs")
    assert docs.status_code == 200 and "https://cdn.jsdelivr.net" in docs.headers["content-security-policy"]


def test_frame_ancestors_is_a_setting_and_self_also_sends_x_frame_options(make_settings, db_url):
    from services import Services

    for value, xfo in (("'self'", "SAMEORIGIN"), ("'none'", "DENY")):
        services = Services.build(make_settings(database_url=db_url, frame_ancestors=value), migrate=False,
                                  runner=False)
        try:
            client = full_app(services)
            for r in (client.get("/", headers={"Accept": "text/html"}), client.get("/api/apps")):
                assert_secured(r, frame_ancestors=value)
                assert r.headers["x-frame-options"] == xfo
        finally:
            services.close()
    with pytest.raises(ValueError):  # the value goes into a header: no way to add another directive
        make_settings(database_url=db_url, frame_ancestors="'self'; script-src *")


@pytest.fixture
def signed_in(make_settings, db_url):
    """The full app with AUTH=password and a browser-like client signed in through the /login form."""
    from services import Services

    services = Services.build(make_settings(auth="password", database_url=db_url,
                                            trusted_origins="https://shop.example"), migrate=False, runner=False)
    with services.session() as s:
        user = users.create_user(s, username="siti", password=PASSWORD, settings=services.settings)
        token = users.issue_token(s, user=user, settings=services.settings)
    client = full_app(services)
    r = client.post("/login", data={"username": "siti", "password": PASSWORD, "next": "/"},
                    headers={"Origin": "http://testserver"})
    assert r.status_code == 303 and "apg_session" in client.cookies, r.text
    yield client, services, token
    services.close()


def products(services) -> int:
    with services.session() as s:
        return len(s.exec(select(Product)).all())


def upload(client, **headers):
    return client.post(PRODUCTS, files={"file": ("serum.png", png(), "image/png")}, data={"name": "Serum"},
                       headers=headers)


def test_a_cookie_signed_change_from_another_site_is_refused(signed_in):
    client, services, token = signed_in
    for headers in ({"Origin": EVIL}, {"Referer": f"{EVIL}/shop.html"}, {"Origin": "null"},
                    {"Origin": "http://testserver.evil.example"}, {"Origin": "http://testserver:8080"}):
        r = upload(client, **headers)
        assert r.status_code == 403, (headers, r.text)
        body = r.json()
        assert body["code"] == "cross_site_request" and "another site" in body["detail"], body
        assert "Authorization: Bearer" in body["detail"]
    assert products(services) == 0

    # Gradio's own API and a state change without a body are covered the same way.
    r = client.post("/gradio_api/queue/join", json={"data": [], "fn_index": 0, "session_hash": "x"},
                    headers={"Origin": EVIL})
    assert r.status_code == 403 and r.json()["code"] == "cross_site_request"
    assert client.delete(f"{PRODUCTS}/1", headers={"Origin": EVIL}).status_code == 403
    # Reading is not a change: a cross-site GET still answers (the browser keeps the answer from the other site).
    assert client.get(PRODUCTS, headers={"Origin": EVIL}).status_code == 200


def test_the_same_site_bearer_clients_and_trusted_origins_pass(signed_in):
    client, services, token = signed_in
    assert upload(client, Origin="http://testserver").status_code == 201                  # the app's own page
    assert upload(client, Referer="http://testserver/products").status_code == 201       # Referer, no Origin
    assert upload(client).status_code == 201                                              # curl with a cookie
    assert upload(client, Origin="https://shop.example").status_code == 201              # TRUSTED_ORIGINS
    # behind a proxy that keeps the public host in X-Forwarded-Host
    assert upload(client, Origin="https://photos.example", **{"X-Forwarded-Host": "photos.example"}).status_code == 201
    # a bearer token is not sent by a browser on its own: another site's page cannot forge it
    assert upload(client, Origin=EVIL, Authorization=f"Bearer {token}").status_code == 201
    assert upload(client, Origin="http://[::1]:8000", Host="[::1]:8000").status_code == 201   # IPv6 loopback
    assert products(services) == 7


def test_signing_in_from_another_site_is_refused(make_settings, db_url):
    """Login CSRF: another site cannot sign a visitor in to an account of its choosing."""
    from services import Services

    services = Services.build(make_settings(auth="password", database_url=db_url), migrate=False, runner=False)
    try:
        with services.session() as s:
            users.create_user(s, username="attacker", password=PASSWORD, settings=services.settings)
        client = full_app(services)
        r = client.post("/login", data={"username": "attacker", "password": PASSWORD}, headers={"Origin": EVIL})
        assert r.status_code == 403 and "apg_session" not in client.cookies
        r = client.post("/api/auth/login", json={"username": "attacker", "password": PASSWORD},
                        headers={"Origin": EVIL})
        assert r.status_code == 403
    finally:
        services.close()
