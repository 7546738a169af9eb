"""Gradio file inputs read only what the caller uploaded (issue 11, the critical hole).

The real app runs under uvicorn (AUTH=password, two people); each test talks to it as Gradio's frontend
does: POST /gradio_api/upload, then /gradio_api/queue/join with FileData payloads, reading the answer from
/gradio_api/queue/data. Bob, the attacker, is an admin (so the pose import is open to him); Alice has a
logo in STORAGE_DIR and a photo in Gradio's upload cache. Every handler that takes a file is found in the
app's own /config, so a handler added later is attacked too.
"""
from __future__ import annotations

import io
import json
import os
import uuid
from pathlib import Path

import gradio
import httpx
import pytest
from fastapi.testclient import TestClient
from PIL import Image
from sqlmodel import func, select

import app as composition_root
from core.catalog import brand_kits
from core.accounts import users
from core.catalog.brand_kits import BrandKitCreate
from services import Services
from db.models import Avatar, BrandKit, PoseTemplate, Product
from tests.browser.browser_harness import serve
from ui.locales import EN

PASSWORD = "correct horse battery"
UPLOAD_AGAIN = EN["common.upload_again"]
# components whose value is (or holds) a gradio.FileData
FILE_TYPES = {"file", "image", "gallery", "video", "audio", "model3d", "imageeditor", "uploadbutton",
              "multimodaltextbox", "imageslider", "annotatedimage", "simpleimage", "dialogue"}
KNOWN = {"kit-logo", "avatar-file", "product-files", "pose-import-files"}


def png(colour=(200, 30, 30), size=(64, 64)) -> bytes:
    buf = io.BytesIO()
    Image.new("RGB", size, colour).save(buf, "PNG")
    return buf.getvalue()


def pose_json() -> bytes:
    points = [[0.5, 0.15], [0.5, 0.22], [0.42, 0.23], [0.33, 0.14], [0.26, 0.05], [0.58, 0.23], [0.67, 0.14],
              [0.74, 0.05], [0.45, 0.47], [0.33, 0.66], [0.22, 0.86], [0.55, 0.47], [0.67, 0.66], [0.78, 0.86],
              [0.485, 0.13], [0.515, 0.13], [0.47, 0.14], [0.53, 0.14]]
    flat = [v for x, y in points for v in (round(x * 512, 2), round(y * 768, 2), 1.0)]
    return json.dumps({"canvas_width": 512, "canvas_height": 768, "people": [{"pose_keypoints_2d": flat}]}).encode()


def file_data(path: str, **extra) -> dict:
    return {"path": path, "orig_name": os.path.basename(path) or "x.png", "meta": {"_type": "gradio.FileData"},
            **extra}


class Person:
    """One signed-in browser speaking Gradio's own protocol."""

    def __init__(self, base_url: str, config: dict | None, username: str | None):
        self.http = httpx.Client(base_url=base_url, timeout=60)
        if username is not None:
            r = self.http.post("/login", data={"username": username, "password": PASSWORD, "next": "/"})
            assert r.status_code == 303, r.text
        self.config = config or self.http.get("/config").json()
        self.comps = {c["id"]: c for c in self.config["components"]}

    def upload(self, name: str, data: bytes) -> str:
        r = self.http.post("/gradio_api/upload", files={"files": (name, data, "application/octet-stream")})
        assert r.status_code == 200, r.text
        return r.json()[0]

    def defaults(self, fn: int) -> list:
        return [self.comps[i]["props"].get("value") for i in self.config["dependencies"][fn]["inputs"]]

    def open_page(self, fn: int) -> str:
        """A new session on the page of handler `fn`, its load events run (they fill the pickers)."""
        session = uuid.uuid4().hex[:12]
        page = next(p for p, v in self.config["page"].items() if fn in v["dependencies"])
        self.loaded = {}  # what the load events answered, by elem_id
        for dep in self.config["page"][page]["dependencies"]:
            if any(t[1] == "load" for t in self.config["dependencies"][dep]["targets"]):
                msg = self.call(dep, self.defaults(dep), session)
                assert msg["success"], msg
                for comp, value in zip(self.config["dependencies"][dep]["outputs"], msg["output"]["data"]):
                    self.loaded[self.comps[comp]["props"].get("elem_id")] = value
        return session

    def call(self, fn: int, data: list, session: str, event_data=None) -> dict:
        r = self.http.post("/gradio_api/queue/join", json={"data": data, "fn_index": fn, "session_hash": session,
                                                           "event_data": event_data, "trigger_id": None})
        assert r.status_code == 200, r.text
        event = r.json()["event_id"]
        with self.http.stream("GET", "/gradio_api/queue/data", params={"session_hash": session}) as stream:
            for line in stream.iter_lines():
                if line.startswith("data:"):
                    msg = json.loads(line[5:])
                    if msg.get("msg") == "process_completed" and msg.get("event_id") == event:
                        return msg
        raise AssertionError("the queue closed without completing the event")

    def shown(self, fn: int, msg: dict, elem_id: str):
        """What handler `fn` answered for the component `elem_id`."""
        outputs = [self.comps[i]["props"].get("elem_id") for i in self.config["dependencies"][fn]["outputs"]]
        return msg["output"]["data"][outputs.index(elem_id)]

    def multiple(self, fn: int, pos: int) -> bool:
        comp = self.comps[self.config["dependencies"][fn]["inputs"][pos]]
        return comp["props"].get("file_count") not in (None, "single")

    def handler_of_output(self, elem_id: str) -> int:
        return next(fn for fn, dep in enumerate(self.config["dependencies"])
                    if any(self.comps[i]["props"].get("elem_id") == elem_id for i in dep["outputs"]))

    def handler(self, elem_id: str) -> tuple[int, int]:
        """(fn index, input position) of the button handler whose file input is `elem_id`."""
        for fn, dep in enumerate(self.config["dependencies"]):
            for pos, i in enumerate(dep["inputs"]):
                if self.comps[i]["props"].get("elem_id") == elem_id:
                    return fn, pos
        raise AssertionError(f"no handler takes {elem_id}")


def cache_files(cache: Path) -> set[Path]:
    return {p for p in cache.rglob("*") if p.is_file()}


@pytest.fixture(scope="module")
def cache(tmp_path_factory):
    """Gradio's upload cache of this module's apps: a folder of its own (GRADIO_TEMP_DIR)."""
    folder = tmp_path_factory.mktemp("gradio-cache")
    before = os.environ.get("GRADIO_TEMP_DIR")
    os.environ["GRADIO_TEMP_DIR"] = str(folder)
    yield folder
    if before is None:
        os.environ.pop("GRADIO_TEMP_DIR")
    else:
        os.environ["GRADIO_TEMP_DIR"] = before


def start(tmp: Path, **overrides):
    from core.settings import Settings

    sqlite = tmp / "app.db"
    settings = Settings(database_url=f"sqlite:///{sqlite}", storage_dir=tmp / "files", **overrides)
    services = Services.build(settings)
    return serve(composition_root.create_app(settings, services), services=services, settings=settings)


@pytest.fixture(scope="module")
def world(cache, tmp_path_factory):
    live = start(tmp_path_factory.mktemp("app"), auth="password")
    s = live.services
    with s.session() as session:
        alice = users.create_user(session, username="alice", password=PASSWORD, settings=s.settings)
        bob = users.create_user(session, username="bob", password=PASSWORD, settings=s.settings, role="admin")
        kit = brand_kits.create(session, user=alice, data=BrandKitCreate(brandName="Alice", colors=["#000000"],
                                                                         fonts=["Poppins"]))
        kit = brand_kits.upload_logo(session, user=alice, kit_id=kit.id, source=png((1, 2, 3)), filename="a.png",
                                     store=s.store, settings=s.settings)
        bob_kit = brand_kits.create(session, user=bob, data=BrandKitCreate(brandName="Bob", colors=["#000000"],
                                                                           fonts=["Poppins"]))
    a = Person(live.base_url, None, "alice")
    b = Person(live.base_url, a.config, "bob")
    yield {"live": live, "alice": a, "bob": b, "alice_id": alice.id, "bob_id": bob.id, "bob_kit": bob_kit,
           "alice_logo": s.settings.storage_dir / kit.logo_path}
    live.stop()
    s.close()


def counts(live, user_id: int) -> dict:
    with live.services.session() as s:
        def n(model, *where):
            return s.exec(select(func.count()).select_from(model).where(*where)).one()
        return {"avatars": n(Avatar, Avatar.user_id == user_id), "products": n(Product, Product.user_id == user_id),
                "kits": n(BrandKit, BrandKit.user_id == user_id),
                "logos": n(BrandKit, BrandKit.user_id == user_id, BrandKit.logo_path.is_not(None)),
                "templates": n(PoseTemplate)}


def stored_files(live, user_id: int) -> list[Path]:
    folder = live.settings.storage_dir / f"u{user_id}"
    return [p for p in folder.rglob("*") if p.is_file()] if folder.exists() else []


def fill(person: Person, fn: int, pos: int, value, kit=None) -> list:
    """The handler's inputs as a person would send them: defaults, a name, their own kit, and the file
    (a list of files where the widget takes several)."""
    data = person.defaults(fn)
    for i, comp_id in enumerate(person.config["dependencies"][fn]["inputs"]):
        elem = person.comps[comp_id]["props"].get("elem_id") or ""
        if elem == "avatar-upload-kit" and kit is not None:
            data[i] = f"{kit.id} · {kit.brand_name}"
        elif elem in ("avatar-name", "kit-name"):
            data[i] = "stolen"
    data[pos] = value if not person.multiple(fn, pos) or isinstance(value, list) else [value]
    return data


def test_every_file_handler_refuses_any_path_that_is_not_the_callers_upload(world, cache):
    a, b, live = world["alice"], world["bob"], world["live"]
    handlers = {(fn, pos): a.comps[i]["props"].get("elem_id")
                for fn, dep in enumerate(a.config["dependencies"])
                for pos, i in enumerate(dep["inputs"]) if a.comps[i]["type"] in FILE_TYPES}
    assert KNOWN <= set(handlers.values()), handlers  # the four upload handlers are all found

    alice_photo = a.upload("private.png", png((9, 9, 9)))  # in the cache, Alice's
    bob_photo = b.upload("mine.png", png((4, 5, 6)))  # in the cache, Bob's own
    gradio_png = str(Path(gradio.__file__).parent / "media_assets" / "images" / "avatar.png")
    logo = str(world["alice_logo"])
    attacks = {
        "another user's file in STORAGE_DIR": logo,
        "a PNG inside the gradio package": gradio_png,
        "a climb out of the cache with ..": f"{cache}/{os.path.relpath(logo, cache)}",
        "another user's upload in the cache": alice_photo,
        "a climb from one's own upload to another's": f"{Path(bob_photo).parent}/../{Path(alice_photo).parent.name}"
                                                      f"/private.png",
        "the password file": "/etc/passwd",
        "the process environment": "/proc/self/environ",
        "a folder": "/etc",
        "a URL": "http://127.0.0.1:9/x.png",
    }
    before, files_before = counts(live, world["bob_id"]), cache_files(cache)
    for (fn, pos), elem in sorted(handlers.items()):
        session = b.open_page(fn)
        for what, path in attacks.items():
            msg = b.call(fn, fill(b, fn, pos, file_data(path), world["bob_kit"]), session)
            assert msg["success"] is False, (elem, what, msg)
            assert msg["output"]["error"] == UPLOAD_AGAIN, (elem, what, msg)  # readable, and no path in it
        if b.multiple(fn, pos):  # several files, one of them Bob's own and one not: refused as a whole
            both = [file_data(bob_photo), file_data(alice_photo)]
            msg = b.call(fn, fill(b, fn, pos, both, world["bob_kit"]), session)
            assert msg["success"] is False and msg["output"]["error"] == UPLOAD_AGAIN, (elem, msg)
        # his own photo, with someone else's file in the event data a handler could read
        msg = b.call(fn, fill(b, fn, pos, file_data(bob_photo), world["bob_kit"]), session,
                     event_data={"value": file_data(logo)})
        assert msg["success"] is False and msg["output"]["error"] == UPLOAD_AGAIN, (elem, msg)
        # a data: URL beside his own path would have Gradio decode bytes into the cache instead
        msg = b.call(fn, fill(b, fn, pos, file_data(bob_photo, url="data:image/png;base64,AAAA"),
                              world["bob_kit"]), session)
        assert msg["success"] is False and msg["output"]["error"] == UPLOAD_AGAIN, (elem, msg)

    assert counts(live, world["bob_id"]) == before  # no avatar, product, kit, logo or pose template for Bob
    assert stored_files(live, world["bob_id"]) == []
    assert cache_files(cache) == files_before  # nothing was copied into Gradio's cache on the way
    assert Path(alice_photo).read_bytes() == png((9, 9, 9))  # and Alice's upload is still hers, untouched


def test_user_b_cannot_fetch_user_a_upload_from_the_cache_by_url(world, cache):
    a, b = world["alice"], world["bob"]
    path = a.upload("private.png", png((7, 7, 7)))
    assert Path(path).parent.parent == cache
    own = a.http.get(f"/gradio_api/file={path}")
    assert own.status_code == 200 and own.content == png((7, 7, 7))

    bob_own = b.upload("bob.png", png((8, 8, 8)))
    stranger = httpx.Client(base_url=world["live"].base_url, timeout=30)
    for url in (f"/gradio_api/file={path}", f"/gradio_api/file/{path}",
                "/gradio_api/file=" + path.replace("/", "%2F"),
                f"/gradio_api/file={Path(bob_own).parent}/../{Path(path).parent.name}/private.png",
                f"/gradio_api/file={cache}/../{cache.name}/{Path(path).parent.name}/private.png"):
        for client in (b.http, stranger):
            r = client.get(url)
            assert r.status_code in (401, 404), (url, r.status_code)
            assert r.content != png((7, 7, 7))
        assert b.http.head(url).status_code in (401, 404), url
    # behind a proxy that mounts the app under a prefix (root_path) the same holds
    asgi = world["live"].server.config.app
    for person, expected in ((a, 200), (b, 404)):
        proxied = TestClient(asgi, root_path="/shop", cookies=dict(person.http.cookies))
        assert proxied.get(f"/shop/gradio_api/file={path}").status_code == expected
    # Gradio's fetch-any-URL-through-the-server is closed too
    assert b.http.get("/gradio_api/file=http://127.0.0.1:9/x.png").status_code == 404


def test_a_file_an_event_hands_out_is_served_to_its_owner_only(world, cache):
    """The admin's pose export lands in Gradio's cache (and expires with it); only he can download it."""
    a, b = world["alice"], world["bob"]
    fn = b.handler_of_output("pose-export-file")
    session = b.open_page(fn)
    choice = b.loaded["pose-selection"]["choices"][0][1]
    msg = b.call(fn, [[choice], "json"], session)
    assert msg["success"], msg
    path = b.shown(fn, msg, "pose-export-file")["path"]
    assert cache in Path(path).parents
    download = b.http.get(f"/gradio_api/file={path}")
    assert download.status_code == 200 and json.loads(download.content)
    assert a.http.get(f"/gradio_api/file={path}").status_code == 404
    assert httpx.get(world["live"].url(f"/gradio_api/file={path}")).status_code in (401, 404)


def test_uploads_leave_the_cache_once_ingested_or_refused(world, cache):
    a, b, live = world["alice"], world["bob"], world["live"]
    fn, pos = a.handler("avatar-file")
    with live.services.session() as s:
        kit = brand_kits.list_kits(s, user=users.get(s, world["alice_id"]), limit=5)[0][0]
    session = a.open_page(fn)

    def upload_avatar(path):
        return a.call(fn, fill(a, fn, pos, file_data(path), kit), session)

    before = counts(live, world["alice_id"])
    photo = a.upload("model.png", png((50, 60, 70), (96, 128)))
    msg = upload_avatar(photo)
    assert msg["success"], msg
    assert "✓" in a.shown(fn, msg, "avatar-message")
    assert counts(live, world["alice_id"])["avatars"] == before["avatars"] + 1
    assert not Path(photo).exists() and not Path(photo).parent.exists()  # ingested: gone from the cache
    again = upload_avatar(photo)  # the same FileData a second time: there is nothing to read any more
    assert again["success"] is False and again["output"]["error"] == UPLOAD_AGAIN
    assert counts(live, world["alice_id"])["avatars"] == before["avatars"] + 1

    notes = a.upload("notes.png", b"these are my shopping notes, not a photo\n" * 20)
    msg = upload_avatar(notes)
    assert msg["success"], msg
    shown = a.shown(fn, msg, "avatar-message")
    assert "⚠" in shown and "text" in shown, shown  # refused inline, in words ("...is text, not an image")
    assert str(cache) not in shown and "/tmp" not in shown and " at 0x" not in shown
    assert not Path(notes).exists()  # refused: gone from the cache as well
    assert counts(live, world["alice_id"])["avatars"] == before["avatars"] + 1

    # the admin's own pose import works and cleans up after itself
    fn, pos = b.handler("pose-import-files")
    pose = b.upload("star-jump.json", pose_json())
    templates = counts(live, world["bob_id"])["templates"]
    msg = b.call(fn, fill(b, fn, pos, [file_data(pose)], world["bob_kit"]), b.open_page(fn))
    assert msg["success"], msg
    assert "1 imported" in b.shown(fn, msg, "pose-message"), msg
    assert counts(live, world["bob_id"])["templates"] == templates + 1
    assert not Path(pose).exists()


def test_an_upload_nobody_used_expires(cache, tmp_path):
    """UPLOAD_CACHE_SECONDS: Gradio's delete_cache removes a file that was picked but never saved."""
    import time

    live = start(tmp_path, auth="none", upload_cache_seconds=1)
    try:
        person = Person(live.base_url, None, None)
        path = Path(person.upload("forgotten.png", png()))
        deadline = time.monotonic() + 60  # a bound for a loaded machine, not a speed check
        while path.exists() and time.monotonic() < deadline:
            time.sleep(0.2)
        assert not path.exists()
        fn, pos = person.handler("avatar-file")
        msg = person.call(fn, fill(person, fn, pos, file_data(str(path))), person.open_page(fn))
        assert msg["success"] is False and msg["output"]["error"] == UPLOAD_AGAIN
    finally:
        live.stop()
        live.services.close()
