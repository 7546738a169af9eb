"""What an upload is stored as: a JPEG that needs nothing else keeps its own bytes, less its metadata
segments (EXIF with GPS, XMP, IPTC, comments, a second MPO picture) and never larger than the upload; one
that must be turned upright is re-encoded at its own quality. And the background removal of a product asks
for its model's weights before it reads the photo, so the web process never imports rembg to learn that
they are missing.

The expected stored file is built independently of the code under test: the camera-like upload is a Pillow
JPEG (JFIF + ICC profile + image data) with metadata segments spliced in, so "the upload minus its metadata"
is that Pillow file exactly.
"""
from __future__ import annotations

import io
import os
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pytest
from PIL import Image, ImageCms

from core.images import ingest_image
from core.images.jpeg import estimate_quality, strip_metadata
from core.settings import Settings
from tests.test_images import corners, quadrants, swapped_profile

ROOT = Path(__file__).resolve().parent.parent
SRGB = ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes()
GPS = {1: "S", 2: (6.0, 10.0, 30.5), 3: "E", 4: (106.0, 49.0, 7.25)}   # Jakarta
RED, GREEN = (255, 0, 0), (0, 255, 0)


@pytest.fixture(scope="module")
def cfg() -> Settings:
    return Settings()


def save(image: Image.Image, fmt: str = "JPEG", **params) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, fmt, **params)
    return buffer.getvalue()


def segment(marker: int, payload: bytes) -> bytes:
    return bytes([0xFF, marker]) + (len(payload) + 2).to_bytes(2, "big") + payload


def phone_photo(width: int = 4000, height: int = 3000, seed: int = 0) -> Image.Image:
    """Photo-like content (smooth shapes, edges, a little sensor noise): JPEG sizes like a phone's."""
    rng = np.random.default_rng(seed)
    coarse = Image.fromarray(rng.integers(0, 256, (height // 64, width // 64, 3), dtype=np.uint8))
    smooth = np.asarray(coarse.resize((width, height), Image.Resampling.BICUBIC), dtype=np.int16)
    grain = rng.integers(-4, 5, (height, width, 1), dtype=np.int16)
    return Image.fromarray(np.clip(smooth + grain, 0, 255).astype(np.uint8))


def exif_segment(orientation: int | None = None) -> bytes:
    exif = Image.Exif()
    exif[0x010F] = "SecretCam"                  # Make
    exif[0x0132] = "2026:11:30 09:41:00"        # DateTime
    if orientation is not None:
        exif[0x0112] = orientation
    exif.get_ifd(0x8825).update(GPS)
    return segment(0xE1, exif.tobytes())        # tobytes() starts with b"Exif\0\0"


METADATA = (
    segment(0xE1, b"http://ns.adobe.com/xap/1.0/\x00<x:xmpmeta><exif:GPSLatitude>6,10.5S</exif:GPSLatitude>"
                  b"</x:xmpmeta>"),
    segment(0xED, b"Photoshop 3.0\x008BIM\x04\x04\x00\x00\x00\x00\x00\x0b\x1c\x02\x5a\x00\x07Jakarta"),   # IPTC city
    segment(0xFE, b"shot at home, Jl. Kenanga 12"),
)
TAIL = b"\xff\xd8" + b"second MPO picture / motion-photo video" + b"\xff\xd9"


def camera_jpeg(image: Image.Image, *, quality: int = 90, icc: bytes | None = SRGB, orientation: int | None = None,
                **params) -> tuple[bytes, bytes]:
    """(upload, what it is without its metadata): Pillow's JPEG, then the camera's segments spliced in
    (EXIF right after SOI as cameras write it, the rest after JFIF) and a second picture after the end."""
    clean = save(image, quality=quality, icc_profile=icc, **params)
    assert clean[2:4] == b"\xff\xe0"             # Pillow writes JFIF first
    jfif_end = 4 + int.from_bytes(clean[4:6], "big")
    upload = clean[:2] + exif_segment(orientation) + clean[2:jfif_end] + b"".join(METADATA) + clean[jfif_end:] + TAIL
    return upload, clean


@pytest.fixture(scope="module")
def photo() -> Image.Image:
    return phone_photo()


# --------------------------------------------------------------------------- kept, without metadata


def test_phone_jpeg_is_stored_as_its_own_bytes_minus_metadata(cfg, photo):
    upload, clean = camera_jpeg(photo)
    result = ingest_image(upload, kind="product", settings=cfg)
    assert result.kept and result.ext == "jpg" and (result.width, result.height) == (4000, 3000)
    assert result.data == clean                  # byte for byte: image data, tables, JFIF and ICC untouched
    assert len(result.data) <= len(upload) and result.original_bytes == len(upload)
    assert result.quality == 90
    stored = Image.open(io.BytesIO(result.data))
    exif = stored.getexif()
    assert len(exif) == 0 and exif.get_ifd(0x8825) == {}                      # no GPS, no camera
    assert not {"exif", "xmp", "comment", "photoshop", "mp"} & set(stored.info)
    assert stored.info["icc_profile"] == SRGB                                   # the colour profile is kept
    for secret in (b"SecretCam", b"GPSLatitude", b"Jakarta", b"Kenanga", b"motion-photo"):
        assert secret not in result.data
    assert Image.open(io.BytesIO(result.thumbnail)).size == (384, 288)


def test_a_jpeg_without_metadata_is_stored_as_the_very_upload(cfg):
    upload = save(phone_photo(1200, 900, seed=1), quality=85)
    result = ingest_image(upload, kind="product", settings=cfg)
    assert result.kept and result.data == upload and result.quality == 85


@pytest.mark.parametrize("params", [{"progressive": True}, {"subsampling": 0}, {"restart_marker_blocks": 4}],
                         ids=["progressive", "4:4:4", "restart-markers"])
def test_other_jpeg_layouts_are_kept_byte_for_byte(cfg, params):
    upload, clean = camera_jpeg(phone_photo(640, 480, seed=2), quality=88, **params)
    result = ingest_image(upload, kind="product", settings=cfg)
    assert result.kept and result.data == clean
    assert np.array_equal(np.asarray(Image.open(io.BytesIO(result.data))), np.asarray(Image.open(io.BytesIO(upload))))


def test_a_comment_between_progressive_scans_goes_too():
    clean = save(phone_photo(320, 240, seed=3), quality=80, progressive=True)
    second_scan = clean.find(b"\xff\xda", clean.find(b"\xff\xda") + 2)
    assert second_scan > 0
    upload = clean[:second_scan] + segment(0xFE, b"between scans") + clean[second_scan:]
    layout = strip_metadata(upload)
    assert layout is not None and layout.data == clean and layout.removed == len(upload) - len(clean)


def test_jfif_thumbnail_is_dropped_but_the_jfif_header_kept():
    clean = save(quadrants(), quality=90, icc_profile=None)
    jfif_end = 4 + int.from_bytes(clean[4:6], "big")
    assert jfif_end == 20 and clean[18:20] == b"\x00\x00"   # JFIF, version, units, density; no thumbnail
    thumb = bytes([2, 1]) + bytes(6)               # a 2 x 1 RGB thumbnail
    with_thumb = clean[:4] + (16 + 6).to_bytes(2, "big") + clean[6:18] + thumb + clean[jfif_end:]
    assert Image.open(io.BytesIO(with_thumb)).size == (80, 40)
    assert strip_metadata(with_thumb).data == clean


def test_an_mpo_is_stored_as_its_first_picture_without_the_index(cfg):
    first, second = phone_photo(640, 480, seed=8), phone_photo(640, 480, seed=9)
    upload = save(first, "MPO", quality=90, save_all=True, append_images=[second])
    assert Image.open(io.BytesIO(upload)).n_frames == 2
    result = ingest_image(upload, kind="product", settings=cfg)
    stored = Image.open(io.BytesIO(result.data))
    assert result.kept and stored.format == "JPEG" and "mp" not in stored.info
    assert len(result.data) < len(upload) * 0.6                 # the second picture is gone
    frame = Image.open(io.BytesIO(upload))
    assert np.array_equal(np.asarray(stored), np.asarray(frame.convert("RGB")))


@pytest.mark.parametrize("bad", [b"\xff\xd8\xff\xe1\xff\xff", b"\xff\xd8garbage",
                                 b"\xff\xd8\xff\xdb\x00\x43" + bytes(10)],
                         ids=["segment-past-the-end", "no-marker", "cut-short"])
def test_files_the_walker_cannot_follow_are_left_to_the_decoder(bad):
    assert strip_metadata(bad) is None


def test_quality_is_estimated_exactly_for_libjpeg_tables():
    image = quadrants()
    for quality in range(1, 101):
        assert estimate_quality(Image.open(io.BytesIO(save(image, quality=quality))).quantization) == quality
    assert estimate_quality(None) is None


# --------------------------------------------------------------------------- re-encoded when it must be


def test_rotated_phone_photo_is_stored_upright_and_about_as_large(cfg, photo):
    upload, clean = camera_jpeg(photo, quality=90, orientation=6)
    result = ingest_image(upload, kind="product", settings=cfg)
    assert not result.kept and result.orientation == 6 and (result.width, result.height) == (3000, 4000)
    assert result.quality == 90
    assert len(result.data) <= 1.1 * len(upload), len(result.data) / len(upload)
    stored = Image.open(io.BytesIO(result.data))
    assert 0x0112 not in stored.getexif() and stored.getexif().get_ifd(0x8825) == {}
    assert b"SecretCam" not in result.data and b"Jakarta" not in result.data
    upright = np.asarray(Image.open(io.BytesIO(clean)).transpose(Image.Transpose.ROTATE_270), dtype=np.int16)
    assert np.abs(np.asarray(stored, dtype=np.int16) - upright).mean() < 2


def test_a_rotated_high_quality_jpeg_is_re_encoded_at_95_at_most(cfg):
    upload, _ = camera_jpeg(quadrants(), quality=99, orientation=3)
    result = ingest_image(upload, kind="product", settings=cfg)
    assert result.quality == 95 and estimate_quality(Image.open(io.BytesIO(result.data)).quantization) == 95
    upside_down = [(255, 255, 255), (0, 0, 255), GREEN, RED]        # quadrants() turned 180°: TL, TR, BL, BR
    for got, want in zip(corners(Image.open(io.BytesIO(result.data))), upside_down):
        assert max(abs(a - b) for a, b in zip(got, want)) < 12, (got, want)


def test_display_p3_like_profile_is_kept_for_products_and_converted_for_avatars(cfg):
    # swapped_profile: red pixels that mean green. A product photo keeps its bytes and profile (its only reader,
    # the cut-out, applies it); an avatar is opened with plain Pillow elsewhere, so it is converted as before.
    upload = save(Image.new("RGB", (64, 64), RED), quality=95, icc_profile=swapped_profile())
    product = ingest_image(upload, kind="product", settings=cfg)
    assert product.kept and product.data == upload
    assert max(abs(a - b) for a, b in zip(product.image.getpixel((32, 32)), GREEN)) < 12   # what it means
    assert max(abs(a - b) for a, b in zip(Image.open(io.BytesIO(product.thumbnail)).getpixel((10, 10)), GREEN)) < 12
    avatar = ingest_image(upload, kind="avatar", settings=cfg)
    assert not avatar.kept and "icc_profile" not in Image.open(io.BytesIO(avatar.data)).info
    assert max(abs(a - b) for a, b in zip(Image.open(io.BytesIO(avatar.data)).getpixel((32, 32)), GREEN)) < 12


def test_kept_pixels_are_decoded_on_first_use_and_match_the_file(cfg):
    upload, clean = camera_jpeg(phone_photo(800, 600, seed=4))
    result = ingest_image(upload, kind="product", settings=cfg)
    assert "image" not in vars(result)                # not decoded at full size yet
    assert result.image.size == (800, 600) and result.image.mode == "RGB" and not result.has_alpha
    assert np.array_equal(np.asarray(result.image), np.asarray(Image.open(io.BytesIO(clean)).convert("RGB")))
    avatar = ingest_image(upload, kind="avatar", settings=cfg)
    assert avatar.kept and "image" not in vars(avatar) and avatar.pixels is not None and not callable(avatar.pixels)


def test_a_damaged_kept_jpeg_is_still_refused(cfg):
    upload = save(phone_photo(640, 480, seed=5), quality=90)
    scan = upload.find(b"\xff\xda")
    damaged = upload[:scan] + b"\xff\xda\x00\x08\x03\x01\x00\x02\x11\x03\x11" + upload[scan + 12:]  # a bad scan header
    from core.errors import ImageRejected

    with pytest.raises(ImageRejected) as caught:
        ingest_image(damaged, kind="product", settings=cfg)
    assert caught.value.status == 400 and caught.value.code == "intake.damaged"


# --------------------------------------------------------------------------- other formats


def webp_with_metadata(image: Image.Image, **params) -> bytes:
    exif = Image.Exif()
    exif[0x010F] = "SecretCam"
    exif.get_ifd(0x8825).update(GPS)
    return save(image, "WEBP", exif=exif.tobytes(), xmp=b"<x:xmpmeta>Jl. Kenanga 12</x:xmpmeta>", **params)


@pytest.mark.parametrize("params", [{"quality": 80}, {"lossless": True}], ids=["lossy", "lossless"])
def test_a_still_webp_keeps_its_own_picture_without_exif_and_xmp(cfg, params):
    image = phone_photo(1200, 900, seed=10)
    upload = webp_with_metadata(image, **params)
    result = ingest_image(upload, kind="product", settings=cfg)
    assert result.kept and (result.ext, result.content_type) == ("webp", "image/webp")
    assert len(result.data) < len(upload) and b"SecretCam" not in result.data and b"Kenanga" not in result.data
    stored = Image.open(io.BytesIO(result.data))
    assert len(stored.getexif()) == 0 and not {"exif", "xmp"} & set(stored.info)
    assert np.array_equal(np.asarray(stored.convert("RGB")), np.asarray(Image.open(io.BytesIO(upload)).convert("RGB")))
    plain = save(image, "WEBP", **params)            # the same picture saved without metadata: its picture chunk,
    assert plain[12:16] in (b"VP8 ", b"VP8L") and result.data.endswith(plain[12:])   # byte for byte,
    assert result.data[12:16] == b"VP8X" and len(result.data) == len(plain) + 18     # after the extended header


def test_a_webp_cut_out_keeps_its_transparency_as_its_own_file(cfg):
    image = phone_photo(400, 300, seed=11).convert("RGBA")
    alpha = Image.new("L", image.size, 0)
    alpha.paste(255, (100, 75, 300, 225))
    image.putalpha(alpha)
    upload = save(image, "WEBP", quality=85)
    result = ingest_image(upload, kind="product", settings=cfg)
    assert result.kept and result.data == upload and result.has_alpha and result.image.mode == "RGBA"


def test_a_rotated_or_animated_webp_is_re_encoded_as_before(cfg):
    exif = Image.Exif()
    exif[0x0112] = 6
    turned = ingest_image(save(quadrants(), "WEBP", quality=90, exif=exif.tobytes()), kind="product", settings=cfg)
    assert not turned.kept and turned.ext == "jpg" and (turned.width, turned.height) == (40, 80)
    frames = [Image.new("RGB", (32, 32), c) for c in (RED, GREEN)]
    moving = save(frames[0], "WEBP", save_all=True, append_images=frames[1:], duration=100, lossless=True)
    assert not ingest_image(moving, kind="product", settings=cfg).kept


def test_a_heic_photo_is_re_encoded_with_its_own_4_2_0_chroma(cfg):
    pillow_heif = pytest.importorskip("pillow_heif")
    from PIL import JpegImagePlugin

    buf = io.BytesIO()
    pillow_heif.from_pillow(phone_photo(800, 600, seed=12)).save(buf, quality=60)
    result = ingest_image(buf.getvalue(), kind="product", settings=cfg)
    assert result.ext == "jpg" and JpegImagePlugin.get_sampling(Image.open(io.BytesIO(result.data))) == 2


# --------------------------------------------------------------------------- the removal asks for its model first


@pytest.fixture
def settings(make_settings, db_url, tmp_path) -> Settings:
    """The conftest services' settings: a real database, the background model missing (an empty folder)."""
    home = tmp_path / "rembg"
    home.mkdir()
    return make_settings(database_url=db_url, rembg_home=home, rembg_model="custom:tiny.onnx")


def _stored_product(services, make_user, data: bytes):
    from core.catalog import products

    user = make_user(password=None)
    with services.session() as session:
        product = products.upload(session, user=user, data=products.ProductCreate(), source=data, filename="p.jpg",
                                  store=services.store, settings=services.settings, runner=None)
        return product.id, product.original_path


def _removal(services, product_id):
    from sqlmodel import select

    from core.catalog import products
    from db.models import CreditLedger

    with services.session() as session:
        product = products.run_removal(session, product_id=product_id, store=services.store,
                                       settings=services.settings)
        actions = [r.action for r in session.exec(select(CreditLedger).order_by(CreditLedger.id))]
        return product.bg_status, products.bg_problem(product), actions


def test_missing_model_is_the_answer_even_for_a_photo_that_would_not_decode(services, make_user):
    upload, clean = camera_jpeg(phone_photo(640, 480, seed=6))
    product_id, key = _stored_product(services, make_user, upload)
    assert services.store.read(key) == clean                          # stored through products.upload
    services.store.path(key).write_bytes(clean[: len(clean) // 3])    # now truncated on disk
    status, problem, actions = _removal(services, product_id)
    # the model check came first: not "the removal failed" (a decode error), but the weights' own message
    assert status == "failed" and problem.code == "background_model.missing_custom"
    assert actions[-2:] == ["removeBackground", "refund:removeBackground"]


def test_with_weights_present_the_same_photo_fails_on_its_decode_not_the_model(services, make_user):
    (services.settings.rembg_home / "tiny.onnx").write_bytes(b"never loaded: the photo fails first")
    upload, clean = camera_jpeg(phone_photo(640, 480, seed=7))
    product_id, key = _stored_product(services, make_user, upload)
    services.store.path(key).write_bytes(clean[: len(clean) // 3])
    status, problem, actions = _removal(services, product_id)
    assert status == "failed" and problem.code == "products.removal_failed"
    assert actions[-1] == "refund:removeBackground"


UPLOAD_IN_A_FRESH_PROCESS = textwrap.dedent("""
    import io, os, sys
    from pathlib import Path
    from fastapi.testclient import TestClient
    from PIL import Image
    from api import create_api
    from core.accounts import users
    from core.catalog import products
    from core.settings import Settings
    from jobs import InProcessRunner
    from services import Services

    tmp = Path(sys.argv[1])
    settings = Settings(database_url=f"sqlite:///{tmp / 'app.db'}", storage_dir=tmp / "files", auth="password",
                        starting_credits=100, rembg_home=None, rembg_model="isnet-general-use")
    services = Services.build(settings, migrate=False, runner=False)
    services.runner = InProcessRunner(services)        # the removal job on a thread of THIS process
    with services.session() as s:
        user = users.create_user(s, username="shop", password=None, settings=settings)
        token = users.issue_token(s, user=user, settings=settings)
    client = TestClient(create_api(services))
    image = Image.new("RGB", (1600, 1200), (200, 60, 40))
    buf = io.BytesIO(); image.save(buf, "JPEG", quality=88)
    r = client.post("/api/apps/product-manager/products", headers={"Authorization": f"Bearer {token}"},
                    files={"file": ("bottle.jpg", buf.getvalue(), "image/jpeg")})
    assert r.status_code == 201, r.text
    services.runner.wait_idle(timeout=60)
    with services.session() as s:
        p = products.get(s, user=user, product_id=r.json()["id"])
        print(p.bg_status, products.bg_problem(p).code, services.store.read(p.original_path) == buf.getvalue())
    print("rembg" in sys.modules, "onnxruntime" in sys.modules)
""")


def test_a_product_upload_with_the_model_missing_never_imports_rembg(tmp_path, sqlite_template):
    # REMBG_HOME unset (rembg's own default folders, here pointed at an empty one by rembg's own variable): the
    # removal job, on a thread of the web process, finds the weights missing with a file check.
    env = {k: v for k, v in os.environ.items() if k not in ("REMBG_HOME", "U2NET_HOME", "XDG_DATA_HOME")}
    env.update(U2NET_HOME=str(tmp_path / "u2net"), HF_HUB_OFFLINE="1", MODEL_DOWNLOADS="false")
    shutil.copy(sqlite_template, tmp_path / "app.db")
    out = subprocess.run([sys.executable, "-c", UPLOAD_IN_A_FRESH_PROCESS, str(tmp_path)], cwd=ROOT, env=env,
                         capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, out.stderr[-3000:]
    assert out.stdout.split() == ["failed", "background_model.missing", "True", "False", "False"], out.stdout
