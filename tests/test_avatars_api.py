"""Avatar Manager over REST (TestClient over api.create_api), on SQLite and Postgres, with real accounts
(AUTH=password) so that every route is also tried by a second user who must see nothing of the first.

Covers: upload (multipart `file` + form fields) -> 201 camelCase, files stored, thumbnail smaller; list
filters and paging; get; PATCH traits (bad enum -> 422 naming the field); crop/rotate (pixels checked,
old files gone); delete (files gone); stats; the seed's prices via GET /api/credits; an avatar can't go
into another user's brand kit; 404 (never 403) across users on every route and file URL.
"""
from __future__ import annotations

import io

import pytest
from fastapi.testclient import TestClient
from PIL import Image
from sqlalchemy import update
from sqlmodel import func, select

from api import create_api
from db.models import Avatar, User

BASE = "/api/apps/avatar-manager"
RED, BLUE = (220, 30, 30), (30, 40, 220)


# --- fixtures ---------------------------------------------------------------------------------

@pytest.fixture
def settings(make_settings, db_url):
    """Real accounts, so two users can be told apart (AUTH=none is one local admin)."""
    return make_settings(database_url=db_url, auth="password")


@pytest.fixture
def app(services):
    return create_api(services)


@pytest.fixture
def login(app, make_user, services):
    """A TestClient acting as a new user with a bearer token of its own; .user is the row. (Accounts
    without a password and a token issued by core, as POST /api/auth/login would: hashing passwords
    costs a second per user, and login itself is tested elsewhere.)"""
    from core.accounts import users

    def make(username: str | None = None) -> TestClient:
        user = make_user(username, password=None)
        with services.session() as s:
            token = users.issue_token(s, user=user, settings=services.settings)
        client = TestClient(app)
        client.headers["Authorization"] = f"Bearer {token}"
        client.user = user
        return client
    return make


# --- helpers ----------------------------------------------------------------------------------

def two_colour_png(size=(64, 32)) -> bytes:
    """Left half red, right half blue."""
    im = Image.new("RGB", size, BLUE)
    im.paste(RED, (0, 0, size[0] // 2, size[1]))
    buf = io.BytesIO()
    im.save(buf, "PNG")
    return buf.getvalue()


def photo_jpeg(size=(800, 600)) -> bytes:
    im = Image.linear_gradient("L").resize(size).convert("RGB")
    buf = io.BytesIO()
    im.save(buf, "JPEG", quality=90)
    return buf.getvalue()


def new_kit(client: TestClient, name: str = "Kopi Senja") -> int:
    r = client.post("/api/apps/brand-kit/kits", json={"brandName": name, "colors": ["#112233"], "fonts": ["Poppins"]})
    assert r.status_code == 201, r.text
    return r.json()["id"]


def upload(client: TestClient, kit_id: int, data: bytes | None = None, *, filename: str = "model.png",
           **fields):
    form = {"brandKitId": str(kit_id), "name": fields.pop("name", "Aisyah")}
    form.update({k: v for k, v in fields.items() if v is not None})
    return client.post(f"{BASE}/avatars", data=form,
                       files={"file": (filename, data if data is not None else two_colour_png(), "image/png")})


def balance(client: TestClient) -> int:
    r = client.get("/api/credits")
    assert r.status_code == 200, r.text
    return r.json()["balance"]


def key_of(url: str) -> str:
    assert url.startswith("/api/files/")
    return url.removeprefix("/api/files/")


def stored_image(services, url: str) -> Image.Image:
    im = Image.open(services.store.path(key_of(url)))
    im.load()
    return im


def avatar_rows(services) -> int:
    with services.session() as s:
        return s.exec(select(func.count()).select_from(Avatar)).one()


def close(pixel, colour, tol=40) -> bool:
    return all(abs(int(a) - int(b)) <= tol for a, b in zip(pixel[:3], colour))


# --- upload, get, list --------------------------------------------------------------------------

def test_upload_gives_201_camel_case_json_and_stores_image_and_smaller_thumbnail(login, services):
    a = login()
    kit = new_kit(a)
    r = upload(a, kit, photo_jpeg((800, 600)), filename="aisyah.jpg", name="Aisyah", gender="female",
               ageRange="25-34", style="modest-hijab", ethnicity="southeast-asian")
    assert r.status_code == 201, r.text
    body = r.json()
    assert {"brandKitId", "imageUrl", "thumbnailUrl", "ageRange", "sourceType", "usageCount", "createdAt",
            "updatedAt"} <= body.keys()
    assert not {"brand_kit_id", "image_url", "age_range"} & body.keys()
    assert (body["brandKitId"], body["name"], body["gender"], body["ageRange"], body["style"], body["ethnicity"]) \
        == (kit, "Aisyah", "female", "25-34", "modest-hijab", "southeast-asian")
    assert (body["width"], body["height"], body["sourceType"], body["usageCount"]) == (800, 600, "upload", 0)

    image_key, thumb_key = key_of(body["imageUrl"]), key_of(body["thumbnailUrl"])
    assert image_key.startswith(f"u{a.user.id}/avatar/") and thumb_key.startswith(f"u{a.user.id}/avatar-thumb/")
    assert services.store.exists(image_key) and services.store.exists(thumb_key)
    assert services.store.path(image_key).is_relative_to(services.settings.storage_dir.resolve())
    full, thumb = stored_image(services, body["imageUrl"]), stored_image(services, body["thumbnailUrl"])
    assert full.size == (800, 600)
    assert max(thumb.size) == 384 and thumb.size[0] < full.size[0]
    assert services.store.path(thumb_key).stat().st_size < services.store.path(image_key).stat().st_size

    # the owner can fetch both files through the owner-checking route
    for url in (body["imageUrl"], body["thumbnailUrl"]):
        f = a.get(url)
        assert f.status_code == 200 and f.headers["content-type"] == "image/jpeg"
        assert Image.open(io.BytesIO(f.content)).format == "JPEG"

    got = a.get(f"{BASE}/avatars/{body['id']}")
    assert got.status_code == 200 and got.json() == body


def test_upload_form_is_checked_and_refusals_leave_nothing(login, services):
    a = login()
    kit = new_kit(a)
    before, keys = balance(a), services.store.all_keys()
    r = upload(a, kit, gender="robot")
    assert r.status_code == 422 and r.json()["field"] == "gender", r.text
    for name in ("", "   ", "x" * 101):  # whitespace only is empty once stripped (was a 500)
        r = upload(a, kit, name=name)
        assert r.status_code == 422 and r.json()["field"] == "name", (name, r.text)
    r = a.post(f"{BASE}/avatars", data={"name": "No kit"}, files={"file": ("a.png", two_colour_png(), "image/png")})
    assert r.status_code == 422 and r.json()["field"] == "brandKitId", r.text
    r = a.post(f"{BASE}/avatars", data={"brandKitId": str(kit), "name": "No file"})
    assert r.status_code == 422 and r.json()["field"] == "file", r.text
    r = upload(a, kit, b"not an image at all", filename="x.png")
    assert r.status_code == 415 and "JPEG, PNG, WebP, HEIC or AVIF" in r.json()["detail"], r.text
    r = upload(a, kit + 999)
    assert r.status_code == 404, r.text
    assert (balance(a), services.store.all_keys(), avatar_rows(services)) == (before, keys, 0)


def test_list_filters_by_brand_kit_and_traits_and_pages_and_stats_count(login):
    a = login()
    k1, k2 = new_kit(a, "Kopi Senja"), new_kit(a, "Batik Lestari")
    made = [
        upload(a, k1, name="A1", gender="female", style="casual").json(),
        upload(a, k1, name="A2", gender="male", style="formal").json(),
        upload(a, k2, name="A3", gender="female", style="formal").json(),
        upload(a, k2, name="A4", style="sporty").json(),
    ]
    assert all("id" in m for m in made), made

    def names(**params):
        r = a.get(f"{BASE}/avatars", params=params)
        assert r.status_code == 200, r.text
        body = r.json()
        assert set(body) == {"items", "total", "limit", "offset"}
        return [i["name"] for i in body["items"]], body["total"]

    assert names() == (["A4", "A3", "A2", "A1"], 4)  # newest first
    assert names(brandKitId=k1) == (["A2", "A1"], 2)
    assert names(gender="female") == (["A3", "A1"], 2)
    assert names(style="formal") == (["A3", "A2"], 2)
    assert names(brandKitId=k2, gender="female", style="formal") == (["A3"], 1)
    assert names(brandKitId=k1, style="sporty") == ([], 0)
    page = a.get(f"{BASE}/avatars", params={"limit": 2, "offset": 1}).json()
    assert ([i["name"] for i in page["items"]], page["total"], page["limit"], page["offset"]) == (["A3", "A2"], 4, 2, 1)
    r = a.get(f"{BASE}/avatars", params={"gender": "robot"})
    assert r.status_code == 422 and r.json()["field"] == "gender"
    r = a.get(f"{BASE}/avatars", params={"limit": 0})
    assert r.status_code == 422 and r.json()["field"] == "limit"

    r = a.get(f"{BASE}/stats")
    assert r.status_code == 200, r.text
    s = r.json()
    assert s["totalAvatars"] == 4 and s["bySource"] == {"upload": 4}
    assert s["byGender"] == {"female": 2, "male": 1, "unset": 1}
    assert s["byStyle"] == {"casual": 1, "formal": 2, "sporty": 1}
    assert s["byAgeRange"] == {"unset": 4} and s["byEthnicity"] == {"unset": 4}
    assert s["byBrandKit"] == {str(k1): 2, str(k2): 2}
    assert len(s["mostUsed"]) == 4 and {"id", "name", "usageCount"} <= s["mostUsed"][0].keys()


# --- update, crop, delete -----------------------------------------------------------------------

def test_patch_updates_name_and_traits_and_refuses_bad_values_naming_the_field(login):
    a = login()
    kit = new_kit(a)
    avatar = upload(a, kit, gender="female").json()
    r = a.patch(f"{BASE}/avatars/{avatar['id']}", json={"name": "Aisyah Putri", "ageRange": "35-44",
                                                          "style": "elegant", "ethnicity": "mixed"})
    assert r.status_code == 200, r.text
    body = r.json()
    assert (body["name"], body["gender"], body["ageRange"], body["style"], body["ethnicity"]) \
        == ("Aisyah Putri", "female", "35-44", "elegant", "mixed")
    assert body["updatedAt"] >= avatar["updatedAt"]
    assert a.get(f"{BASE}/avatars/{avatar['id']}").json()["ageRange"] == "35-44"

    for payload, field, words in (({"gender": "robot"}, "gender", "'female'"),
                                  ({"ageRange": "12-17"}, "ageRange", "'18-24'"),
                                  ({"style": "goth"}, "style", "'casual'"),
                                  ({"ethnicity": "martian"}, "ethnicity", "'mixed'"),
                                  ({"name": ""}, "name", "name"), ({"name": None}, "name", "name"),
                                  ({"height": 3}, "height", "height"),
                                  ({"brandKitId": None}, "brandKitId", "brand kit")):  # was a 500
        r = a.patch(f"{BASE}/avatars/{avatar['id']}", json=payload)
        assert r.status_code == 422, (payload, r.text)
        assert r.json()["field"] == field and words in r.json()["detail"], (payload, r.json())
    assert a.get(f"{BASE}/avatars/{avatar['id']}").json() == body  # nothing changed by the refusals


def test_rotate_90_swaps_width_and_height_turns_pixels_and_replaces_files(login, services):
    a = login()
    avatar = upload(a, new_kit(a), two_colour_png((64, 32))).json()
    assert (avatar["width"], avatar["height"]) == (64, 32)
    old = [key_of(avatar["imageUrl"]), key_of(avatar["thumbnailUrl"])]
    before = balance(a)

    r = a.post(f"{BASE}/avatars/{avatar['id']}/crop", json={"rotate": 90})
    assert r.status_code == 200, r.text
    body = r.json()
    assert (body["width"], body["height"]) == (32, 64)
    im = stored_image(services, body["imageUrl"]).convert("RGB")
    assert im.size == (32, 64)
    # 90° counter-clockwise: the left (red) half ends up at the bottom, the right (blue) half on top.
    assert close(im.getpixel((16, 8)), BLUE) and close(im.getpixel((16, 56)), RED), \
        (im.getpixel((16, 8)), im.getpixel((16, 56)))
    assert stored_image(services, body["thumbnailUrl"]).size == (32, 64)  # never upscaled
    new = [key_of(body["imageUrl"]), key_of(body["thumbnailUrl"])]
    assert not set(new) & set(old)
    assert all(services.store.exists(k) for k in new) and not any(services.store.exists(k) for k in old)
    assert a.get(body["imageUrl"]).status_code == 200 and a.get(avatar["imageUrl"]).status_code == 404
    assert balance(a) == before - 2  # updateAvatar

    # -90 turns it back
    back = a.post(f"{BASE}/avatars/{avatar['id']}/crop", json={"rotate": -90}).json()
    im = stored_image(services, back["imageUrl"]).convert("RGB")
    assert im.size == (64, 32) and close(im.getpixel((8, 16)), RED) and close(im.getpixel((56, 16)), BLUE)


def test_crop_keeps_the_transparency_of_an_avatar_with_alpha(login, services):
    """A cut-out model photo (PNG with a transparent background) stays transparent after rotate/crop."""
    a = login()
    im = Image.new("RGBA", (64, 32), (0, 0, 0, 0))
    im.paste((*RED, 255), (16, 8, 48, 24))
    buf = io.BytesIO()
    im.save(buf, "PNG")
    avatar = upload(a, new_kit(a), buf.getvalue(), filename="cutout.png").json()
    assert stored_image(services, avatar["imageUrl"]).mode == "RGBA"
    for payload, size in (({"rotate": 90}, (32, 64)), ({"x": 0, "y": 0, "width": 32, "height": 40}, (32, 40)),
                          ({"rotate": 45}, None)):
        body = a.post(f"{BASE}/avatars/{avatar['id']}/crop", json=payload).json()
        out = stored_image(services, body["imageUrl"])
        assert out.format == "PNG" and out.mode == "RGBA", (payload, out.format, out.mode)
        assert size is None or out.size == size
        assert out.getpixel((0, 0))[3] == 0, (payload, out.getpixel((0, 0)))  # the background stays clear
        assert close(out.getpixel((out.width // 2, out.height // 2)), RED)
        assert stored_image(services, body["thumbnailUrl"]).mode == "RGBA"


def test_crop_box_gives_the_new_size_and_a_box_outside_is_422_changing_nothing(login, services):
    a = login()
    avatar = upload(a, new_kit(a), two_colour_png((64, 32))).json()
    r = a.post(f"{BASE}/avatars/{avatar['id']}/crop", json={"x": 32, "y": 0, "width": 32, "height": 20})
    assert r.status_code == 200, r.text
    body = r.json()
    assert (body["width"], body["height"]) == (32, 20)
    im = stored_image(services, body["imageUrl"]).convert("RGB")
    assert im.size == (32, 20) and close(im.getpixel((2, 10)), BLUE) and close(im.getpixel((29, 10)), BLUE)
    assert not services.store.exists(key_of(avatar["imageUrl"]))
    assert not services.store.exists(key_of(avatar["thumbnailUrl"]))

    # rotate and crop in one go: rotate first, then the box is in the rotated image's pixels
    r = a.post(f"{BASE}/avatars/{avatar['id']}/crop", json={"rotate": 90, "x": 0, "y": 0, "width": 20, "height": 16})
    assert r.status_code == 200 and (r.json()["width"], r.json()["height"]) == (20, 16), r.text
    body = r.json()

    keys, before = services.store.all_keys(), balance(a)
    for payload, field in (({"x": 10, "y": 0, "width": 16, "height": 16}, "width"),   # past the right edge
                           ({"x": 0, "y": 4, "width": 16, "height": 16}, "width"),    # past the bottom
                           ({"x": 0, "y": 0, "width": 16}, "width"),                  # incomplete box
                           ({}, "rotate"),                                            # nothing to do
                           ({"x": -1, "y": 0, "width": 16, "height": 16}, "x"),
                           ({"x": 0, "y": 0, "width": 4, "height": 16}, "width"),     # too small
                           ({"rotate": 400}, "rotate")):
        r = a.post(f"{BASE}/avatars/{avatar['id']}/crop", json=payload)
        assert r.status_code == 422, (payload, r.text)
        assert r.json()["field"] == field and r.json()["detail"], (payload, r.json())
    assert "20 × 16" in a.post(f"{BASE}/avatars/{avatar['id']}/crop",
                               json={"x": 10, "y": 0, "width": 16, "height": 16}).json()["detail"]
    assert (services.store.all_keys(), balance(a)) == (keys, before)
    assert a.get(f"{BASE}/avatars/{avatar['id']}").json() == body


def test_delete_removes_the_row_and_its_files(login, services):
    a = login()
    kit = new_kit(a)
    keep = upload(a, kit, name="Keep").json()
    gone = upload(a, kit, name="Gone").json()
    a.post(f"{BASE}/avatars/{gone['id']}/crop", json={"rotate": 90})  # files replaced once first
    gone = a.get(f"{BASE}/avatars/{gone['id']}").json()
    r = a.delete(f"{BASE}/avatars/{gone['id']}")
    assert r.status_code == 204 and r.content == b""
    assert a.get(f"{BASE}/avatars/{gone['id']}").status_code == 404
    assert a.delete(f"{BASE}/avatars/{gone['id']}").status_code == 404
    for url in (gone["imageUrl"], gone["thumbnailUrl"]):
        assert not services.store.exists(key_of(url)) and a.get(url).status_code == 404
    assert services.store.all_keys() == sorted([key_of(keep["imageUrl"]), key_of(keep["thumbnailUrl"]),
                                                key_of(keep["faceUrl"])])
    assert [i["id"] for i in a.get(f"{BASE}/avatars").json()["items"]] == [keep["id"]]


def test_credits_upload_5_update_2_delete_1_and_not_enough_is_402_leaving_nothing(login, services):
    a = login()
    kit = new_kit(a)
    start = balance(a)
    avatar = upload(a, kit).json()
    assert balance(a) == start - 5
    assert a.patch(f"{BASE}/avatars/{avatar['id']}", json={"style": "formal"}).status_code == 200
    assert balance(a) == start - 7
    # an update that changes nothing is not charged
    assert a.patch(f"{BASE}/avatars/{avatar['id']}", json={"style": "formal"}).status_code == 200
    assert balance(a) == start - 7
    assert a.post(f"{BASE}/avatars/{avatar['id']}/crop", json={"rotate": 180}).status_code == 200
    assert balance(a) == start - 9
    assert a.delete(f"{BASE}/avatars/{avatar['id']}").status_code == 204
    assert balance(a) == start - 10
    history = a.get("/api/credits").json()["history"]
    mine = [(h["action"], h["delta"]) for h in history if h["appId"] == "avatar-manager"]
    assert mine == [("deleteAvatar", -1), ("updateAvatar", -2), ("updateAvatar", -2), ("uploadAvatar", -5)]

    # not enough credits: 402, and no row or file is left behind
    with services.session() as s:
        s.execute(update(User).where(User.id == a.user.id).values(credits=4))
        s.commit()
    keys = services.store.all_keys()
    r = upload(a, kit)
    assert r.status_code == 402 and "credits" in r.json()["detail"], r.text
    assert (balance(a), services.store.all_keys(), avatar_rows(services)) == (4, keys, 0)


def test_an_avatar_cannot_go_into_another_users_brand_kit(login, services):
    a, b = login(), login()
    kit_a, kit_b = new_kit(a), new_kit(b)
    before_b, keys = balance(b), services.store.all_keys()
    r = upload(b, kit_a)
    assert r.status_code == 404 and "not found" in r.json()["detail"].lower(), r.text
    assert (balance(b), services.store.all_keys(), avatar_rows(services)) == (before_b, keys, 0)
    # nor be moved into one
    mine = upload(b, kit_b).json()
    r = b.patch(f"{BASE}/avatars/{mine['id']}", json={"brandKitId": kit_a})
    assert r.status_code == 404, r.text
    assert b.get(f"{BASE}/avatars/{mine['id']}").json()["brandKitId"] == kit_b
    assert a.get(f"{BASE}/avatars").json()["total"] == 0


# --- two users on every route ---------------------------------------------------------------------

def test_another_user_gets_404_on_every_avatar_route_and_file_and_changes_nothing_and_no_token_401(login, services):
    a, b = login(), login()
    kit_a, kit_b = new_kit(a), new_kit(b)
    avatar = upload(a, kit_a, name="Secret", gender="female").json()
    mine = upload(b, kit_b, name="Mine").json()
    snapshot_a = (balance(a), a.get(f"{BASE}/avatars/{avatar['id']}").json(), services.store.all_keys())
    before_b = balance(b)

    url = f"{BASE}/avatars/{avatar['id']}"
    attempts = [
        b.get(url),
        b.patch(url, json={"name": "Stolen"}),
        b.patch(url, json={"brandKitId": kit_b}),
        b.post(f"{url}/crop", json={"rotate": 90}),
        b.delete(url),
        b.get(avatar["imageUrl"]),
        b.get(avatar["thumbnailUrl"]),
    ]
    for r in attempts:
        assert r.status_code == 404, (r.request.method, r.request.url, r.status_code, r.text)
        assert "Secret" not in r.text
    # the same answer as for an id that does not exist at all: nothing is revealed
    assert b.get(f"{BASE}/avatars/999999").json()["detail"].replace("999999", "X") \
        == attempts[0].json()["detail"].replace(str(avatar["id"]), "X")

    listed = b.get(f"{BASE}/avatars").json()
    assert [i["id"] for i in listed["items"]] == [mine["id"]] and listed["total"] == 1
    assert b.get(f"{BASE}/avatars", params={"brandKitId": kit_a}).json() == {"items": [], "total": 0, "limit": 50,
                                                                           "offset": 0}
    assert b.get(f"{BASE}/stats").json()["totalAvatars"] == 1
    assert a.get(f"{BASE}/stats").json()["totalAvatars"] == 1
    assert balance(b) == before_b  # refusals cost nothing

    # A's avatar, balance and files are exactly as they were; B's own files were added, nothing removed
    assert balance(a) == snapshot_a[0]
    assert a.get(f"{BASE}/avatars/{avatar['id']}").json() == snapshot_a[1]
    assert services.store.all_keys() == snapshot_a[2]
    assert a.get(avatar["imageUrl"]).status_code == 200
    # and A still cannot see B's
    assert a.get(f"{BASE}/avatars/{mine['id']}").status_code == 404
    assert a.get(mine["imageUrl"]).status_code == 404

    # and without a token: 401 everywhere
    anon = TestClient(a.app)
    for r in (anon.get(f"{BASE}/avatars"), anon.get(url), anon.patch(url, json={"name": "x"}),
              anon.post(f"{url}/crop", json={"rotate": 90}), anon.delete(url), anon.get(f"{BASE}/stats"),
              anon.get(avatar["imageUrl"]), upload(anon, kit_a)):
        assert r.status_code == 401, (r.request.method, r.request.url, r.text)
    assert a.get(url).json() == snapshot_a[1]
