"""The composition root: app.create_app builds REST + the Gradio UI; the web process stays free of torch;
with AUTH=password the browser signs in through /login and its cookie also opens the user's own files."""
from __future__ import annotations

import io
import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from PIL import Image

import app as composition_root
from core.catalog import brand_kits
from core.accounts import users
from core.catalog.brand_kits import BrandKitCreate

ROOT = Path(__file__).resolve().parent.parent
PASSWORD = "correct horse battery"
HTML = {"Accept": "text/html,application/xhtml+xml"}


def logo_png() -> bytes:
    buf = io.BytesIO()
    Image.new("RGBA", (16, 16), (10, 20, 30, 128)).save(buf, "PNG")
    return buf.getvalue()


def test_the_app_starts_serves_ui_and_api_without_torch(tmp_path):
    """The real start in a fresh process: settings from the environment, an empty SQLite file migrated on
    start, REST + Gradio mounted; and neither torch nor diffusers imported by the web process."""
    code = textwrap.dedent("""
        import json, sys
        import app
        from fastapi.testclient import TestClient
        asgi = app.create_app()
        out = {}
        with TestClient(asgi, follow_redirects=False) as client:
            home = client.get("/", headers={"Accept": "text/html"})
            out["home"] = [home.status_code, home.headers["content-type"], "<html" in home.text.lower()]
            config = client.get("/config")
            out["config"] = [config.status_code, "Brand Kits" in config.text, "Avatars" in config.text]
            out["apps"] = client.get("/api/apps").json()["total"]
            out["kits"] = client.get("/api/apps/brand-kit/kits").json()  # AUTH=none: the local admin
            out["me"] = client.get("/api/auth/me").json()["username"]
            out["login"] = client.get("/login").headers.get("location")  # no login page with AUTH=none
        out["heavy"] = sorted(m for m in ("torch", "diffusers", "transformers", "rembg", "onnxruntime")
                              if m in sys.modules)
        print("RESULT " + json.dumps(out))
    """)
    env = {**os.environ, "DATABASE_URL": f"sqlite:///{tmp_path / 'app.db'}", "STORAGE_DIR": str(tmp_path / "files"),
           "AUTH": "none"}
    env.pop("REDIS_URL", None)
    done = subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True, timeout=240)
    assert done.returncode == 0, done.stdout + done.stderr
    out = json.loads(done.stdout.split("RESULT ", 1)[1])
    assert out["home"][0] == 200 and out["home"][1].startswith("text/html") and out["home"][2]
    assert out["config"] == [200, True, True]
    assert out["apps"] == 4
    assert out["kits"] == {"items": [], "total": 0, "limit": 50, "offset": 0}
    assert out["me"] == "admin"
    assert out["login"] == "/"
    assert out["heavy"] == []
    assert (tmp_path / "app.db").exists()  # the app created and migrated its database on start


@pytest.fixture
def settings(make_settings, db_url):
    return make_settings(auth="password", database_url=db_url)


def test_password_mode_browser_signs_in_and_its_cookie_opens_own_files(services, make_user):
    alice = make_user("alice", password=PASSWORD)
    bob = make_user("bob", password=None)
    with services.session() as s:
        kit = brand_kits.create(s, user=alice, data=BrandKitCreate(brandName="A", colors=["#000000"],
                                                                   fonts=["Poppins"]))
        logo_url = "/api/files/" + brand_kits.upload_logo(
            s, user=alice, kit_id=kit.id, source=logo_png(), filename="l.png", store=services.store,
            settings=services.settings).logo_path
        bob_token = users.issue_token(s, user=bob, settings=services.settings)

    asgi = composition_root.create_app(services.settings, services=services)
    with TestClient(asgi, follow_redirects=False) as client:
        r = client.get("/", headers=HTML)
        assert r.status_code in (302, 303, 307) and r.headers["location"].startswith("/login")
        page = client.get("/login")
        assert page.status_code == 200 and 'name="password"' in page.text
        assert client.get(logo_url).status_code == 401  # no cookie, no token

        r = client.post("/login", data={"username": "alice", "password": "wrong password", "next": "/"})
        assert r.status_code == 303 and r.headers["location"].startswith("/login?error=")
        assert "apg_session" not in client.cookies
        assert "Wrong username or password." in client.get(r.headers["location"]).text

        # `next` only ever leads back into this site: "/\\host" and "/<tab>/host" are read by browsers as
        # "//host", another site (an open redirect after sign-in).
        for evil in ("//evil.example", "/\\evil.example", "/\t/evil.example", "https://evil.example"):
            assert 'name="next" value="/"' in client.get("/login", params={"next": evil}).text, evil
        assert 'name="next" value="/avatars"' in client.get("/login", params={"next": "/avatars"}).text
        r = client.post("/login", data={"username": "alice", "password": PASSWORD, "next": "/\\evil.example"})
        assert r.status_code == 303 and r.headers["location"] == "/"
        cookie = r.headers["set-cookie"]
        assert cookie.startswith("apg_session=") and "httponly" in cookie.lower() and "samesite=lax" in cookie.lower()

        home = client.get("/", headers=HTML)
        assert home.status_code == 200 and "<html" in home.text.lower()
        assert client.get("/config").status_code == 200

        served = client.get(logo_url)
        assert served.status_code == 200 and served.headers["content-type"] == "image/png"
        assert served.content == (services.settings.storage_dir / logo_url.removeprefix("/api/files/")).read_bytes()
        assert client.get("/api/auth/me").json()["username"] == "alice"
        # Bob (by his own token, which beats the cookie) gets a 404 for Alice's file.
        assert client.get(logo_url, headers={"Authorization": f"Bearer {bob_token}"}).status_code == 404

        confirm = client.get("/logout")  # a link only asks: signing out is a POST
        assert confirm.status_code == 200 and 'method="post" action="/logout"' in confirm.text
        assert client.get("/api/auth/me").status_code == 200
        r = client.post("/logout")
        assert r.status_code == 303 and r.headers["location"] == "/login"
        client.cookies.clear()
        assert client.get(logo_url).status_code == 401
        assert client.get("/", headers=HTML).status_code in (302, 303, 307)

        # A browser still holding a cookie whose token is gone (expired, revoked, database reset) is sent to
        # the login page too, not left on a bare 401.
        client.cookies.set("apg_session", bob_token + "-stale")
        r = client.get("/", headers=HTML)
        assert r.status_code in (302, 303, 307) and r.headers["location"].startswith("/login")


def test_the_sign_in_page_speaks_the_visitors_language_and_shows_only_sign_in_messages(services, make_user):
    """Issue 16: /login has the app's name, an EN / ID switch and the visitor's language (the apg_lang cookie,
    else Accept-Language); a refused sign-in says why in that language; an `error` typed into the URL that is
    not a sign-in message code is never shown."""
    make_user("alice", password=PASSWORD)
    asgi = composition_root.create_app(services.settings, services=services)
    with TestClient(asgi, follow_redirects=False) as client:
        en = client.get("/login").text
        assert '<html lang="en">' in en and "Avatar &amp; Pose Generator" in en and ">Sign in</h1>" in en
        assert 'id="login-lang-id"' in en and 'id="login-lang-en" aria-current="true"' in en
        by_browser = client.get("/login", headers={"Accept-Language": "id-ID,id;q=0.9,en;q=0.5"}).text
        assert '<html lang="id">' in by_browser and ">Masuk</h1>" in by_browser and "Kata sandi" in by_browser
        client.cookies.set("apg_lang", "id")
        r = client.post("/login", data={"username": "alice", "password": "wrong password", "next": "/avatars"})
        assert r.status_code == 303 and r.headers["location"] == "/login?error=auth.wrong_password&next=/avatars"
        refused = client.get(r.headers["location"]).text
        assert "Nama pengguna atau kata sandi salah." in refused and 'value="/avatars"' in refused
        crafted = client.get("/login", params={"error": "Your account is locked, call +62 800 now"}).text
        assert "call +62" not in crafted and 'class="err"' not in crafted
        client.cookies.set("apg_lang", "en")
        r = client.post("/login", data={"username": "alice", "password": PASSWORD, "next": "/"})
        assert r.status_code == 303
        client.cookies.set("apg_lang", "id")
        bye = client.get("/logout").text
        assert ">Keluar?</h1>" in bye and "Tetap masuk" in bye and 'id="logout-submit"' in bye


def test_the_posters_progress_is_drawn_over_the_gallery_only(make_settings, db_url):
    """Issue 16: "14/18 · 3.2s" ran over its own bar on the small message and credit boxes: the Make posters
    event shows its progress on the gallery the posters fill (the app's real Gradio config says so)."""
    from services import Services

    settings = make_settings(database_url=db_url)
    services = Services.build(settings)
    try:
        with TestClient(composition_root.create_app(settings, services=services)) as client:
            config = client.get("/config").json()
    finally:
        services.close()
    elem = {c["id"]: c.get("props", {}).get("elem_id") for c in config["components"]}
    (make,) = [d for d in config["dependencies"] if [elem.get(t[0]) for t in d.get("targets", [])] == ["post-make"]]
    assert [elem[i] for i in make["show_progress_on"]] == ["post-gallery"]
    assert len(make["outputs"]) > 1                                   # it still updates the other boxes
