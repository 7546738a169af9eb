"""The bad-input corpus over REST, for avatar and product uploads, on SQLite and Postgres.

Every file is built here with Pillow or by hand at test time. A refused file gives the right status
(400 empty/damaged, 413 too big, 415 not an image, 422 too many pixels) with a JSON `detail` a shop owner
can act on, and leaves no row, no file and no charge. Awkward but valid files (CMYK, 16-bit, palette with
transparency, animations, EXIF orientation, hostile file names, exactly the size limit) are accepted and
normalised; the stored file is opened to check the pixels.

The upload limit is set small (0.05 MB = 52,428 bytes) so "limit + 1 byte" stays fast. One database per
(kind, database) test; each case is a subtest that compares row counts, stored keys and the balance
before and after.
"""
from __future__ import annotations

import io
import struct
import zlib

import numpy as np
import pytest
from fastapi.testclient import TestClient
from PIL import Image
from sqlmodel import func, select

from api import create_api
from db.models import Avatar, Product

LIMIT_MB = 0.05
LIMIT = int(LIMIT_MB * 1024 * 1024)  # 52,428 bytes, as Settings.limit_bytes counts
RED, GREEN, BLUE = (230, 20, 20), (20, 200, 40), (20, 30, 230)
KINDS = {
    "avatar": ("/api/apps/avatar-manager/avatars", Avatar, "avatars", 5),
    "product": ("/api/apps/product-manager/products", Product, "products", 5 + 3 - 3),  # removal refunded
}
TECHNICAL = ("Traceback", "Error", "PIL", "errno", "cannot identify", "struct", "zlib", "Exception")


# --- the corpus -------------------------------------------------------------------------------------

def save(image: Image.Image, fmt: str, **params) -> bytes:
    buf = io.BytesIO()
    image.save(buf, fmt, **params)
    return buf.getvalue()


def noise(size=(64, 64), seed=0) -> Image.Image:
    rng = np.random.default_rng(seed)
    return Image.fromarray(rng.integers(0, 256, (size[1], size[0], 3), dtype=np.uint8))


def two_colour(size=(64, 32)) -> Image.Image:
    """Left half red, right half blue."""
    im = Image.new("RGB", size, BLUE)
    im.paste(RED, (0, 0, size[0] // 2, size[1]))
    return im


def chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)


def png_declaring(width: int, height: int) -> bytes:
    """A 60-byte PNG whose header claims width x height pixels (its data is a few bytes)."""
    ihdr = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", zlib.compress(b"\x00" * 16))
            + chunk(b"IEND", b""))


def real_bomb() -> bytes:
    """A genuine decompression bomb: 7000 x 7500 black 1-bit pixels (52.5 megapixels) in a few KB."""
    return save(Image.new("1", (7000, 7500)), "PNG", optimize=True)


def png_of_exact_size(total: int) -> bytes:
    """A valid PNG exactly `total` bytes long: a small image plus a filler tEXt chunk before IDAT."""
    base = save(two_colour((48, 48)), "PNG")
    head, rest = base[:33], base[33:]  # signature (8) + IHDR chunk (25)
    overhead = 12 + len(b"Comment\x00")
    filler = total - len(base) - overhead
    assert filler >= 0
    out = head + chunk(b"tEXt", b"Comment\x00" + b"x" * filler) + rest
    assert len(out) == total
    return out


def exif_jpeg(orientation: int) -> bytes:
    exif = Image.Exif()
    exif[0x0112] = orientation
    return save(two_colour((64, 32)), "JPEG", quality=95, exif=exif.tobytes())


def palette_png_with_transparency() -> bytes:
    im = Image.new("P", (40, 40), 0)
    im.putpalette([255, 255, 255, *RED] + [0] * 762)
    im.paste(1, (10, 10, 30, 30))
    return save(im, "PNG", transparency=0)  # index 0 (the border) is transparent


def sixteen_bit_png() -> bytes:
    im = Image.fromarray(np.full((32, 32), 0x8080, dtype=np.uint16))  # mid grey at 16 bits
    assert im.mode.startswith("I;16")
    return save(im, "PNG")


def animation(fmt: str, **params) -> bytes:
    frames = [Image.new("RGB", (32, 32), c) for c in (RED, GREEN, BLUE)]
    return save(frames[0], fmt, save_all=True, append_images=frames[1:], duration=100, loop=0, **params)


BAD = {
    # name: (filename, bytes, status, words the message must contain)
    "0-byte file": ("empty.png", lambda: b"", 400, "empty"),
    "truncated PNG": ("cut.png", lambda: save(noise(), "PNG")[:6000], 400, "damaged or incomplete"),
    "truncated JPEG": ("cut.jpg", lambda: save(noise(), "JPEG", quality=95)[:3000], 400, "damaged or incomplete"),
    "text renamed .png": ("notes.png", lambda: b"Order 17: 3 bottles of serum\n", 415, "text file"),
    "HTML renamed .png": ("page.png", lambda: b"<!DOCTYPE html><html><body>hi</body></html>", 415, "web page"),
    "SVG renamed .png": ("logo.png", lambda: b'<?xml version="1.0"?><svg xmlns="http://www.w3.org/2000/svg" '
                                             b'width="10" height="10"/>', 415, "SVG"),
    "PDF renamed .png": ("flyer.png", lambda: b"%PDF-1.7\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF", 415, "PDF"),
    "decompression bomb": ("bomb.png", real_bomb, 422, "megapixels"),
    "huge declared size": ("huge.png", lambda: png_declaring(100_000, 100_000), 422, "longest side"),
    "limit + 1 byte": ("big.png", lambda: png_of_exact_size(LIMIT + 1), 413, "at most 51.2 KB"),
    "far over the limit": ("bigger.jpg", lambda: save(noise((400, 400)), "JPEG", quality=100), 413, "at most"),
}
CODES = {  # the exact message of each refusal (REST `code`; `kind` is their family, image_rejected)
    "0-byte file": "intake.empty", "truncated PNG": "intake.damaged", "truncated JPEG": "intake.damaged",
    "text renamed .png": "intake.not_a_picture_like", "HTML renamed .png": "intake.not_a_picture_like",
    "SVG renamed .png": "intake.not_a_picture_like", "PDF renamed .png": "intake.not_a_picture_like",
    "decompression bomb": "intake.too_many_pixels", "huge declared size": "intake.side_too_long",
    "limit + 1 byte": "intake.just_over", "far over the limit": "intake.too_large",
}


# --- fixtures ---------------------------------------------------------------------------------------

@pytest.fixture
def settings(make_settings, db_url, tmp_path):
    # One local admin (AUTH=none): this file is about files, not owners. The removal weights are
    # absent (a folder with nothing in it), so accepted products fail removal fast and are refunded.
    return make_settings(database_url=db_url, max_avatar_size_mb=LIMIT_MB, max_product_size_mb=LIMIT_MB,
                         rembg_home=tmp_path / "no-weights", rembg_model="custom:tiny.onnx")


@pytest.fixture
def client(services) -> TestClient:
    return TestClient(create_api(services))


@pytest.fixture
def post(client, services):
    """post(kind, filename, data) -> response, for avatar or product upload (with a brand kit)."""
    r = client.post("/api/apps/brand-kit/kits", json={"brandName": "Kopi Senja", "colors": ["#112233"],
                                                      "fonts": ["Poppins"]})
    assert r.status_code == 201, r.text
    kit = r.json()["id"]

    def send(kind: str, filename: str, data: bytes, content_type: str = "image/png"):
        form = {"brandKitId": str(kit)} | ({"name": "Aisyah"} if kind == "avatar" else {})
        r = client.post(KINDS[kind][0], data=form, files={"file": (filename, data, content_type)})
        if kind == "product" and r.status_code == 201:
            services.runner.wait_idle(timeout=60)  # its (failing, refunded) removal is over
        return r
    return send


def state(services, client, model) -> tuple[int, list[str], int]:
    with services.session() as s:
        rows = s.exec(select(func.count()).select_from(model)).one()
    return rows, services.store.all_keys(), client.get("/api/credits").json()["balance"]


def stored(services, url: str) -> Image.Image:
    im = Image.open(services.store.path(url.removeprefix("/api/files/")))
    im.load()
    return im


def close(pixel, colour, tol=40) -> bool:
    return all(abs(int(a) - int(b)) <= tol for a, b in zip(pixel[:3], colour))


kinds = pytest.mark.parametrize("kind", list(KINDS))


# --- refused -----------------------------------------------------------------------------------------

@kinds
def test_bad_files_are_refused_with_a_clear_message_and_leave_nothing(kind, post, services, client, subtests):
    model, label = KINDS[kind][1], KINDS[kind][2]
    for case, (filename, build, status, words) in BAD.items():
        with subtests.test(case=case):
            data = build()
            if case == "decompression bomb":
                assert len(data) < LIMIT  # small on disk, huge in memory
            before = state(services, client, model)
            r = post(kind, filename, data)
            assert r.status_code == status, (case, r.status_code, r.text)
            body = r.json()
            assert body["kind"] == "image_rejected" and body["field"] == "file", body
            assert body["code"] == CODES[case], body
            detail = body["detail"]
            assert words in detail, (case, detail)
            assert detail[0].isupper() and detail.rstrip().endswith("."), detail
            assert not any(t in detail for t in TECHNICAL), detail
            if status == 415:
                assert "JPEG, PNG, WebP, HEIC or AVIF" in detail
            if status == 413:
                assert label in detail
            assert state(services, client, model) == before, case  # no row, no file, no charge


def made(kind: str, body: dict, price: int) -> tuple[int, int]:
    """(files stored, credits charged) by one accepted upload: an avatar keeps its photo, thumbnail and face
    crop; a product its photo and thumbnail, or, when the photo was already cut out (transparent around the
    product: ready at once), its photo, cut-out and the cut-out's thumbnail. (The removal's 3 credits are not in
    `price`: without weights here a removal is refunded, and a pre-cut photo is never charged one.)"""
    return (3 if kind == "avatar" or body.get("bgStatus") == "done" else 2), price


@kinds
def test_exactly_the_limit_is_accepted_and_one_byte_more_is_413(kind, post, services, client):
    model, label, price = KINDS[kind][1], KINDS[kind][2], KINDS[kind][3]
    rows, keys, balance = state(services, client, model)
    r = post(kind, "big.png", png_of_exact_size(LIMIT + 1))
    assert r.status_code == 413, r.text
    assert r.json()["detail"] == f"This file is just over 51.2 KB; {label} can be at most 51.2 KB."
    assert state(services, client, model) == (rows, keys, balance)
    r = post(kind, "exact.png", png_of_exact_size(LIMIT))
    assert r.status_code == 201, r.text
    im = stored(services, r.json()[{"avatar": "imageUrl", "product": "originalUrl"}[kind]])
    assert im.size == (48, 48) and "Comment" not in im.info  # metadata stripped on re-encode
    after = state(services, client, model)
    files, cost = made(kind, r.json(), price)
    assert (after[0], len(after[1]), after[2]) == (rows + 1, len(keys) + files, balance - cost)


# --- accepted and normalised -------------------------------------------------------------------------

def check_cmyk(im):
    assert im.mode == "RGB" and close(im.getpixel((8, 8)), (255, 0, 0)), im.getpixel((8, 8))


def check_16bit(im):
    assert im.mode == "RGB" and close(im.getpixel((8, 8)), (128, 128, 128), tol=4), im.getpixel((8, 8))


def check_palette(im):
    assert im.format == "PNG" and im.mode == "RGBA", (im.format, im.mode)
    assert im.getpixel((2, 2))[3] == 0 and im.getpixel((20, 20)) == (*RED, 255)


def check_first_frame(im):
    assert im.size == (32, 32) and close(im.getpixel((16, 16)), RED), im.getpixel((16, 16))


def check_orientation(expected_size, top_colour, bottom_colour, left_colour, right_colour):
    def check(im):
        assert im.size == expected_size, im.size
        w, h = im.size
        got = [im.getpixel(p) for p in ((w // 2, 3), (w // 2, h - 4), (3, h // 2), (w - 4, h // 2))]
        want = [top_colour, bottom_colour, left_colour, right_colour]
        assert all(c is None or close(g, c) for g, c in zip(got, want)), (got, want)
    return check


GOOD = {
    # name: (filename, bytes, check of the stored image)
    "CMYK JPEG": ("print.jpg", lambda: save(Image.new("CMYK", (32, 32), (0, 255, 255, 0)), "JPEG", quality=95),
                  check_cmyk),
    "16-bit PNG": ("scan.png", sixteen_bit_png, check_16bit),
    "palette PNG with transparency": ("sticker.png", palette_png_with_transparency, check_palette),
    "animated GIF": ("loop.gif", lambda: animation("GIF"), check_first_frame),
    "animated WebP": ("loop.webp", lambda: animation("WEBP", lossless=True), check_first_frame),
    "JPEG named .png": ("photo.png", lambda: save(two_colour(), "JPEG", quality=95),
                        check_orientation((64, 32), None, None, RED, BLUE)),
    # EXIF orientation: stored upright. 3 = turned 180°, 6 = turn 90° clockwise, 8 = 90° counter-clockwise.
    "EXIF orientation 3": ("o3.jpg", lambda: exif_jpeg(3), check_orientation((64, 32), None, None, BLUE, RED)),
    "EXIF orientation 6": ("o6.jpg", lambda: exif_jpeg(6), check_orientation((32, 64), RED, BLUE, None, None)),
    "EXIF orientation 8": ("o8.jpg", lambda: exif_jpeg(8), check_orientation((32, 64), BLUE, RED, None, None)),
}


@kinds
def test_awkward_but_valid_images_are_accepted_and_stored_normalised(kind, post, services, client, subtests):
    model, price = KINDS[kind][1], KINDS[kind][3]
    url_field = {"avatar": "imageUrl", "product": "originalUrl"}[kind]
    for case, (filename, build, check) in GOOD.items():
        with subtests.test(case=case):
            rows, keys, balance = state(services, client, model)
            r = post(kind, filename, build())
            assert r.status_code == 201, (case, r.text)
            body = r.json()
            im = stored(services, body[url_field])
            check(im)
            assert (body["width"], body["height"]) == im.size
            assert not im.info.get("exif") and not im.getexif(), case  # no metadata travels on
            after = state(services, client, model)
            files, cost = made(kind, body, price)
            assert (after[0], len(after[1]), after[2]) == (rows + 1, len(keys) + files, balance - cost), case


@kinds
def test_hostile_and_unicode_file_names_never_reach_the_disk(kind, post, services, client):
    root = services.settings.storage_dir.resolve()
    names = {
        "../../../etc/passwd.png": "passwd",
        "..\\..\\Windows\\win.ini.png": "win.ini",
        "/tmp/absolute.png": "absolute",
        "Café Crème 🌸 ملابس.png": "Café Crème 🌸 ملابس",
        "....png": "png",  # leading dots dropped: never a hidden or relative name
        "e\u0301clair\u202egnp.exe.png": "éclairgnp.exe",  # NFC, bidi override dropped
    }
    for filename, product_name in names.items():
        r = post(kind, filename, save(two_colour(), "PNG"))
        assert r.status_code == 201, (filename, r.text)
        body = r.json()
        if kind == "product":
            assert body["name"] == product_name, (filename, body["name"])
        for url in (body[{"avatar": "imageUrl", "product": "originalUrl"}[kind]], body["thumbnailUrl"]):
            key = url.removeprefix("/api/files/")
            assert key.startswith("u") and ".." not in key and "\\" not in key and key.isascii(), key
            assert services.store.path(key).resolve().is_relative_to(root)
            assert client.get(url).status_code == 200
    # nothing anywhere but server-named files under the storage folder
    assert all(p.name.isascii() and ".." not in p.name for p in root.rglob("*"))
    assert not (root.parent / "etc").exists() and not (root / "etc").exists()
