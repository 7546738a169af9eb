"""The Brand Kit REST surface (the seed's paths, camelCase JSON) with AUTH=password and real bearer tokens,
on SQLite and Postgres; two users on every route; GET /api/apps, OpenAPI and the error envelope."""
from __future__ import annotations

import io
from dataclasses import dataclass

import pytest
import sqlalchemy as sa
from fastapi.testclient import TestClient
from PIL import Image

from api import create_api
from core.accounts import users
from services import Services

KITS = "/api/apps/brand-kit/kits"
PUBLIC_FIELDS = {"id", "brandName", "category", "colors", "fonts", "fontFaces", "logoUrl", "tone", "tagline", "isDefault",
                 "usageCount", "createdAt", "updatedAt"}


@pytest.fixture
def settings(make_settings, db_url):
    return make_settings(auth="password", database_url=db_url)


@pytest.fixture
def client(services):
    with TestClient(create_api(services)) as c:
        yield c


@dataclass
class Person:
    id: int
    username: str
    headers: dict


@pytest.fixture
def person(services, make_user):
    """A user with a real API token (issued the way login issues it, without paying for a password hash)."""
    def make(name: str, credits: int | None = None) -> Person:
        user = make_user(name, password=None, credits=credits)
        with services.session() as s:
            token = users.issue_token(s, user=user, settings=services.settings)
        return Person(user.id, user.username, {"Authorization": f"Bearer {token}"})
    return make


@pytest.fixture
def alice(person):
    return person("alice")


@pytest.fixture
def bob(person):
    return person("bob")


def body(name: str = "Kopi Senja", **extra) -> dict:
    return {"brandName": name, "colors": ["#6f4e37", "#F5F5DC"], "fonts": ["Poppins"], **extra}


def create(client, who: Person, **extra) -> dict:
    r = client.post(KITS, json=body(**extra), headers=who.headers)
    assert r.status_code == 201, r.text
    return r.json()


def balance(client, who: Person) -> int:
    r = client.get("/api/credits", headers=who.headers)
    assert r.status_code == 200
    return r.json()["balance"]


def png_with_alpha() -> bytes:
    image = Image.new("RGBA", (48, 24), (0, 90, 200, 255))
    image.paste((0, 0, 0, 0), (0, 0, 24, 24))
    buf = io.BytesIO()
    image.save(buf, "PNG")
    return buf.getvalue()


def jpeg() -> bytes:
    buf = io.BytesIO()
    Image.new("RGB", (30, 30), (200, 30, 30)).save(buf, "JPEG")
    return buf.getvalue()


def upload(client, who: Person, kit_id: int, data: bytes, name: str = "logo.png", ctype: str = "image/png"):
    return client.post(f"{KITS}/{kit_id}/logo", files={"file": (name, data, ctype)}, headers=who.headers)


# --------------------------------------------------------------------------- CRUD


def test_create_get_and_list_speak_camelcase_with_paging(client, alice):
    kit = create(client, alice, tagline="Kopi untuk semua", tone="playful", category="beverage")
    assert set(kit) == PUBLIC_FIELDS
    assert kit["brandName"] == "Kopi Senja" and kit["colors"] == ["#6F4E37", "#F5F5DC"]
    assert kit["isDefault"] is True and kit["logoUrl"] is None and kit["usageCount"] == 0
    assert (kit["tone"], kit["category"], kit["tagline"]) == ("playful", "beverage", "Kopi untuk semua")
    assert client.get(f"{KITS}/{kit['id']}", headers=alice.headers).json() == kit

    create(client, alice, name="Two", category="food")
    create(client, alice, name="Three", category="food")
    page = client.get(KITS, headers=alice.headers).json()
    assert set(page) == {"items", "total", "limit", "offset"}
    assert (page["total"], page["limit"], page["offset"], len(page["items"])) == (3, 50, 0, 3)
    assert page["items"][0]["id"] == kit["id"]  # the default comes first
    page = client.get(KITS, params={"limit": 2, "offset": 1}, headers=alice.headers).json()
    assert (page["total"], page["limit"], page["offset"], len(page["items"])) == (3, 2, 1, 2)
    food = client.get(KITS, params={"category": "food"}, headers=alice.headers).json()
    assert food["total"] == 2 and {k["brandName"] for k in food["items"]} == {"Two", "Three"}
    for params, field in (({"limit": 0}, "limit"), ({"limit": 201}, "limit"), ({"offset": -1}, "offset"),
                          ({"category": "weapons"}, "category")):
        r = client.get(KITS, params=params, headers=alice.headers)
        assert r.status_code == 422 and r.json()["field"] == field, (params, r.text)
    assert balance(client, alice) == 1000 - 3 * 5


BAD_BODIES = [
    ({"brandName": ""}, "brandName"),
    ({"brandName": "x" * 101}, "brandName"),
    ({"colors": []}, "colors"),
    ({"colors": ["#000000"] * 11}, "colors"),
    ({"colors": ["#12345G"]}, "colors"),
    ({"colors": ["#FFF"]}, "colors"),
    ({"fonts": ["Comic Sans MS"]}, "fonts"),
    ({"tone": "angry"}, "tone"),
    ({"tagline": "x" * 141}, "tagline"),
    ({"category": "weapons"}, "category"),
    ({"brandName": None}, "brandName"),
    ({"surprise": True}, "surprise"),
]


def test_bad_input_is_422_naming_the_field_and_costs_nothing(client, alice):
    for change, field in BAD_BODIES:
        r = client.post(KITS, json={**body(), **change}, headers=alice.headers)
        assert r.status_code == 422, (change, r.text)
        out = r.json()
        assert out["field"] == field and out["kind"] == "validation_error", (change, out)
        assert out["detail"].startswith(f"{field}: ") and len(out["detail"]) > len(field) + 5, out
    r = client.post(KITS, json={"colors": ["#000000"], "fonts": ["Poppins"]}, headers=alice.headers)
    assert r.status_code == 422 and r.json()["field"] == "brandName"
    # The message for a bad colour says what is expected.
    assert "#RRGGBB" in client.post(KITS, json=body(colors=["red"]), headers=alice.headers).json()["detail"]
    assert "Poppins" in client.post(KITS, json=body(fonts=["Comic Sans MS"]), headers=alice.headers).json()["detail"]

    kit = create(client, alice)
    for change, field in BAD_BODIES:
        if change == {"brandName": None}:
            continue  # covered below: PATCH null is refused by core
        r = client.patch(f"{KITS}/{kit['id']}", json=change, headers=alice.headers)
        assert r.status_code == 422 and r.json()["field"] == field, (change, r.text)
    r = client.patch(f"{KITS}/{kit['id']}", json={"brandName": None}, headers=alice.headers)
    assert r.status_code == 422 and r.json()["field"] == "brandName"
    assert client.get(f"{KITS}/{kit['id']}", headers=alice.headers).json() == kit
    assert client.get(KITS, headers=alice.headers).json()["total"] == 1
    assert balance(client, alice) == 1000 - 5


def test_patch_and_delete_charge_the_seed_prices_and_keep_one_default(client, alice):
    a = create(client, alice, name="A")
    b = create(client, alice, name="B")
    assert (a["isDefault"], b["isDefault"]) == (True, False)
    assert balance(client, alice) == 990

    r = client.patch(f"{KITS}/{b['id']}", json={"isDefault": True}, headers=alice.headers)
    assert r.status_code == 200 and r.json()["isDefault"] is True
    assert client.get(f"{KITS}/{a['id']}", headers=alice.headers).json()["isDefault"] is False
    assert balance(client, alice) == 990  # setting the default alone is free

    r = client.patch(f"{KITS}/{a['id']}", json={"colors": ["#000000", "#ffffff"], "tone": "luxury"},
                     headers=alice.headers)
    assert r.status_code == 200
    assert r.json()["colors"] == ["#000000", "#FFFFFF"] and r.json()["tone"] == "luxury"
    assert r.json()["updatedAt"] > a["updatedAt"]
    assert balance(client, alice) == 988

    r = client.patch(f"{KITS}/{b['id']}", json={"isDefault": False}, headers=alice.headers)
    assert r.status_code == 422 and r.json()["field"] == "isDefault"

    r = client.delete(f"{KITS}/{b['id']}", headers=alice.headers)  # the default
    assert r.status_code == 204 and r.content == b""
    assert balance(client, alice) == 987
    assert client.get(f"{KITS}/{b['id']}", headers=alice.headers).status_code == 404
    assert client.delete(f"{KITS}/{b['id']}", headers=alice.headers).status_code == 404
    assert client.get(f"{KITS}/{a['id']}", headers=alice.headers).json()["isDefault"] is True  # the heir
    assert balance(client, alice) == 987

    history = client.get("/api/credits", headers=alice.headers).json()["history"]
    assert [(h["action"], h["delta"]) for h in reversed(history)] == [
        ("startingCredits", 1000), ("createBrandKit", -5), ("createBrandKit", -5), ("updateBrandKit", -2),
        ("deleteBrandKit", -1)]


def test_not_enough_credits_is_402_and_nothing_changes(client, services, person):
    poor = person("poor", credits=3)
    r = client.post(KITS, json=body(), headers=poor.headers)
    assert r.status_code == 402
    assert r.json()["kind"] == "insufficient_credits" and "credits" in r.json()["detail"]
    assert client.get(KITS, headers=poor.headers).json()["total"] == 0
    assert balance(client, poor) == 3

    with services.session() as s:  # give exactly enough for one kit and one delete
        s.execute(sa.text("UPDATE users SET credits = 6 WHERE id = :id"), {"id": poor.id})
        s.commit()
    kit = create(client, poor)
    r = client.patch(f"{KITS}/{kit['id']}", json={"brandName": "Renamed"}, headers=poor.headers)
    assert r.status_code == 402
    r = upload(client, poor, kit["id"], png_with_alpha())
    assert r.status_code == 402
    assert client.get(f"{KITS}/{kit['id']}", headers=poor.headers).json() == kit
    assert services.store.all_keys() == []
    assert client.delete(f"{KITS}/{kit['id']}", headers=poor.headers).status_code == 204
    assert balance(client, poor) == 0


# --------------------------------------------------------------------------- logo


def test_logo_upload_is_stored_served_to_the_owner_and_replaced(client, services, alice):
    kit = create(client, alice)
    r = upload(client, alice, kit["id"], png_with_alpha(), name="../../my logo.png")
    assert r.status_code == 200, r.text
    first = r.json()["logoUrl"]
    assert first.startswith(f"/api/files/u{alice.id}/logo/") and first.endswith(".png") and "my logo" not in first
    key = first.removeprefix("/api/files/")
    assert (services.settings.storage_dir / key).is_file()
    assert balance(client, alice) == 1000 - 5 - 3

    served = client.get(first, headers=alice.headers)
    assert served.status_code == 200 and served.headers["content-type"] == "image/png"
    assert "private" in served.headers["cache-control"]
    image = Image.open(io.BytesIO(served.content))
    assert image.mode == "RGBA" and image.getpixel((2, 2))[3] == 0 and image.getpixel((40, 2))[3] == 255
    assert client.get(f"{KITS}/{kit['id']}", headers=alice.headers).json()["logoUrl"] == first

    r = upload(client, alice, kit["id"], jpeg(), name="photo.jpg", ctype="image/jpeg")
    assert r.status_code == 200
    second = r.json()["logoUrl"]
    assert second != first
    assert not (services.settings.storage_dir / key).exists()  # the old file is deleted
    assert client.get(first, headers=alice.headers).status_code == 404
    assert client.get(second, headers=alice.headers).status_code == 200
    assert services.store.all_keys() == [second.removeprefix("/api/files/")]

    # A file that is not an image is refused and changes nothing.
    r = upload(client, alice, kit["id"], b"I am a text file pretending to be a PNG\n" * 20)
    assert r.status_code == 415
    assert r.json()["field"] == "file" and r.json()["kind"] == "image_rejected"
    assert r.json()["code"] == "intake.not_a_picture_like" and r.json()["params"] == {"looks_like": "a text file"}
    assert "JPEG, PNG, WebP, HEIC or AVIF" in r.json()["detail"]
    assert upload(client, alice, kit["id"], b"").status_code == 400
    r = client.post(f"{KITS}/{kit['id']}/logo", headers=alice.headers)  # no file at all
    assert r.status_code == 422 and r.json()["field"] == "file"
    assert client.get(f"{KITS}/{kit['id']}", headers=alice.headers).json()["logoUrl"] == second
    assert services.store.all_keys() == [second.removeprefix("/api/files/")]
    assert balance(client, alice) == 1000 - 5 - 3 - 3

    # Deleting the kit deletes its logo file.
    assert client.delete(f"{KITS}/{kit['id']}", headers=alice.headers).status_code == 204
    assert services.store.all_keys() == []
    assert client.get(second, headers=alice.headers).status_code == 404


# --------------------------------------------------------------------------- two users


def test_another_users_kit_is_404_on_every_route_and_no_token_is_401(client, services, alice, bob):
    kit = create(client, alice, tagline="Alice's")
    kit = upload(client, alice, kit["id"], png_with_alpha()).json()
    files_before = services.store.all_keys()
    alice_balance = balance(client, alice)
    kit_url = f"{KITS}/{kit['id']}"
    missing_url = f"{KITS}/{kit['id'] + 999}"

    attempts = {
        "GET": lambda url: client.get(url, headers=bob.headers),
        "PATCH": lambda url: client.patch(url, json={"brandName": "Bob's now"}, headers=bob.headers),
        "PATCH default": lambda url: client.patch(url, json={"isDefault": True}, headers=bob.headers),
        "DELETE": lambda url: client.delete(url, headers=bob.headers),
        "logo": lambda url: client.post(f"{url}/logo", files={"file": ("l.png", png_with_alpha(), "image/png")},
                                        headers=bob.headers),
    }
    for what, attempt in attempts.items():
        theirs, missing = attempt(kit_url), attempt(missing_url)
        assert theirs.status_code == 404, (what, theirs.text)
        # Exactly what a kit that does not exist answers: its existence is not revealed.
        assert theirs.json()["kind"] == missing.json()["kind"] == "not_found"
        assert theirs.json()["code"] == missing.json()["code"] == "records.not_found"
        assert theirs.json()["detail"].replace(str(kit["id"]), "N") == \
            missing.json()["detail"].replace(str(kit["id"] + 999), "N")

    logo = client.get(kit["logoUrl"], headers=bob.headers)
    assert logo.status_code == 404 and logo.json()["kind"] == "not_found"
    assert client.get(f"/api/files/u{alice.id}/logo/doesnotexist1234.png", headers=bob.headers).json() == logo.json()

    assert client.get(KITS, headers=bob.headers).json() == {"items": [], "total": 0, "limit": 50, "offset": 0}
    assert client.get("/api/apps/brand-kit/stats", headers=bob.headers).json()["totalKits"] == 0

    assert client.get(kit_url, headers=alice.headers).json() == kit
    assert client.get(kit["logoUrl"], headers=alice.headers).status_code == 200
    assert services.store.all_keys() == files_before
    assert balance(client, alice) == alice_balance
    assert balance(client, bob) == 1000

    # Without a token, every route is 401 (and nothing is revealed either).
    for method, url in (("GET", KITS), ("POST", KITS), ("GET", kit_url), ("PATCH", kit_url), ("DELETE", kit_url),
                        ("POST", f"{kit_url}/logo"), ("GET", "/api/apps/brand-kit/stats"), ("GET", kit["logoUrl"])):
        r = client.request(method, url, json=body() if method in ("POST", "PATCH") else None)
        assert r.status_code == 401 and r.json()["kind"] == "unauthorized", (method, url, r.text)
    assert client.get(kit_url, headers=alice.headers).json() == kit

    # Bob's own kit is his default: Alice's default does not count for him.
    mine = create(client, bob)
    assert mine["isDefault"] is True
    assert client.get(kit_url, headers=alice.headers).json()["isDefault"] is True
    assert [k["id"] for k in client.get(KITS, headers=bob.headers).json()["items"]] == [mine["id"]]


# --------------------------------------------------------------------------- stats


def test_stats(client, services, alice, bob):
    a = create(client, alice, name="A", category="food", tone="playful")
    b = create(client, alice, name="B", category="food", fonts=["Poppins", "Noto Serif"])
    c = create(client, alice, name="C", category="beauty", tone="luxury", isDefault=True)
    create(client, bob, name="Bob's", category="kids")
    upload(client, alice, b["id"], png_with_alpha())
    with services.session() as s:
        s.execute(sa.text("UPDATE brand_kits SET usage_count = 4 WHERE id = :id"), {"id": c["id"]})
        s.commit()
    r = client.get("/api/apps/brand-kit/stats", headers=alice.headers)
    assert r.status_code == 200
    stats = r.json()
    assert stats["totalKits"] == 3 and stats["withLogo"] == 1 and stats["defaultKitId"] == c["id"]
    assert stats["byCategory"] == {"food": 2, "beauty": 1}
    assert stats["byTone"] == {"playful": 1, "friendly": 1, "luxury": 1}
    assert stats["mostUsed"][0] == {"id": c["id"], "brandName": "C", "usageCount": 4}
    assert [m["id"] for m in stats["mostUsed"]] == [c["id"], a["id"], b["id"]]
    assert stats["fontsInUse"] == {"Poppins": 3, "Noto Serif": 1}


# --------------------------------------------------------------------------- the error envelope


def test_an_unexpected_error_is_a_json_500_without_a_traceback(services, alice):
    with TestClient(create_api(services), raise_server_exceptions=False) as client:
        assert client.get(KITS, headers=alice.headers).status_code == 200
        with services.db.engine.begin() as conn:  # the database loses a column under the app's feet
            conn.execute(sa.text("ALTER TABLE brand_kits RENAME COLUMN tagline TO tagline_gone"))
        try:
            r = client.get(KITS, headers=alice.headers)
        finally:  # the database outlives this test (Postgres is shared by the session): put it back
            with services.db.engine.begin() as conn:
                conn.execute(sa.text("ALTER TABLE brand_kits RENAME COLUMN tagline_gone TO tagline"))
    assert r.status_code == 500
    assert r.headers["content-type"].startswith("application/json")
    assert r.json() == {"detail": "Something went wrong on our side; please try again.", "code": "internal_error",
                        "kind": "internal_error", "params": {}}
    for leak in ("Traceback", "tagline", "SELECT", "sqlalchemy", "File \""):
        assert leak not in r.text


# --------------------------------------------------------------------------- apps and OpenAPI (no database)


@pytest.fixture
def bare_client(make_settings, tmp_path):
    services = Services.build(make_settings(database_url=f"sqlite:///{tmp_path / 'unused.db'}"), migrate=False,
                              runner=False)
    with TestClient(create_api(services)) as c:
        yield c
    services.close()


def test_apps_lists_the_four_apps_with_their_configs(bare_client):
    r = bare_client.get("/api/apps")
    assert r.status_code == 200
    apps = r.json()["items"]
    assert [a["appId"] for a in apps] == ["brand-kit", "avatar-manager", "product-manager", "pose-generator"]
    assert r.json()["total"] == 4
    for app in apps:
        for key in ("appId", "name", "description", "icon", "version", "routePrefix", "credits", "access",
                    "features", "dashboard"):
            assert app.get(key), (app["appId"], key)
        assert app["routePrefix"] == f"/api/apps/{app['appId']}"
        assert all(isinstance(v, int) and v > 0 for v in app["credits"].values())
    brand = apps[0]
    assert brand["credits"] == {"createBrandKit": 5, "updateBrandKit": 2, "deleteBrandKit": 1, "uploadLogo": 3}
    assert brand["dashboard"]["statsEndpoint"] == "/api/apps/brand-kit/stats"
    assert apps[3]["credits"]["generatePose"] == 10


def test_openapi_documents_the_brand_kit_paths(bare_client):
    spec = bare_client.get("/openapi.json").json()
    paths = spec["paths"]
    assert set(paths[KITS]) >= {"get", "post"}
    assert set(paths[KITS + "/{kit_id}"]) >= {"get", "patch", "delete"}
    assert "post" in paths[KITS + "/{kit_id}/logo"]
    assert "get" in paths["/api/apps/brand-kit/stats"]
    assert "post" in paths["/api/auth/login"] and "get" in paths["/api/apps"]
    create_schema = spec["paths"][KITS]["post"]["requestBody"]["content"]["application/json"]["schema"]["$ref"]
    fields = spec["components"]["schemas"][create_schema.rsplit("/", 1)[-1]]["properties"]
    assert {"brandName", "colors", "fonts", "tone", "tagline"} <= set(fields)
