"""iPhone HEIC and AVIF photos are accepted wherever images are (issue 15): identified by their ftyp box, decoded
with the same limits (pillow-heif for HEIC, Pillow's own AVIF), turned the way the photo says exactly once,
stored as a plain re-encoded JPEG/PNG without metadata. Broken or oversized ones are refused like any other."""
from __future__ import annotations

import io

import pillow_heif
import pytest
from PIL import Image

from core.errors import ImageRejected
from core.images import ingest_image
from core.images.sniff import sniff_format
from tests.test_avatars_api import BASE, key_of, login, new_kit, settings, app  # noqa: F401 - fixtures

BLUE, RED = (20, 20, 200), (200, 30, 30)


def photo(fmt: str, *, orientation: int = 1, size=(40, 20), alpha: bool = False) -> bytes:
    """A red picture with a blue stripe along its left edge, EXIF orientation and a GPS tag attached."""
    im = Image.new("RGBA" if alpha else "RGB", size, RED + ((255,) if alpha else ()))
    im.paste(BLUE + ((255,) if alpha else ()), (0, 0, size[0] // 4, size[1]))
    if alpha:
        im.paste((0, 0, 0, 0), (size[0] - 4, 0, size[0], size[1]))
    exif = Image.Exif()
    exif[0x0112] = orientation
    exif[0x8825] = {1: "S", 2: (6.0, 10.0, 0.0)}   # GPS: where the photo was taken
    out = io.BytesIO()
    if fmt == "HEIC":
        pillow_heif.from_pillow(im).save(out, format="HEIF", exif=exif.tobytes(), quality=95)
    else:
        im.save(out, "AVIF", exif=exif.tobytes(), quality=95)
    return out.getvalue()


@pytest.mark.parametrize("fmt", ["HEIC", "AVIF"])
def test_heic_and_avif_are_identified_and_stored_upright_without_metadata(fmt, make_settings):
    data = photo(fmt, orientation=6)
    assert sniff_format(data[:64]) == ("HEIF" if fmt == "HEIC" else "AVIF")
    got = ingest_image(data, kind="avatar", settings=make_settings(), filename=f"IMG_0001.{fmt.lower()}")
    stored = Image.open(io.BytesIO(got.data))
    assert stored.format == "JPEG" and got.ext == "jpg"
    assert stored.size == (20, 40)   # orientation 6: turned a quarter clockwise, once
    top, bottom = stored.convert("RGB").getpixel((10, 2)), stored.convert("RGB").getpixel((10, 37))
    assert abs(top[2] - BLUE[2]) < 30 and abs(bottom[0] - RED[0]) < 30   # the left stripe is now at the top
    assert not stored.getexif() and "icc_profile" not in stored.info


@pytest.mark.parametrize("fmt", ["HEIC", "AVIF"])
def test_a_transparent_heic_or_avif_keeps_its_alpha(fmt, make_settings):
    got = ingest_image(photo(fmt, alpha=True), kind="product", settings=make_settings())
    stored = Image.open(io.BytesIO(got.data))
    assert stored.format == "PNG" and stored.mode == "RGBA"
    assert stored.getpixel((39, 10))[3] == 0 and stored.getpixel((2, 10))[3] == 255


@pytest.mark.parametrize("fmt", ["HEIC", "AVIF"])
def test_broken_and_oversized_ones_are_refused_with_their_reason(fmt, make_settings):
    data = photo(fmt, size=(160, 96))
    with pytest.raises(ImageRejected) as cut:
        ingest_image(data[: len(data) * 2 // 3], kind="avatar", settings=make_settings())
    assert cut.value.status == 400 and "damaged or incomplete" in cut.value.message
    with pytest.raises(ImageRejected) as big:
        ingest_image(data, kind="avatar", settings=make_settings(max_image_side=128))
    assert big.value.status == 422 and "160 × 96" in big.value.message and "128" in big.value.message


def test_a_heic_photo_uploads_as_an_avatar_over_rest(login, services):
    a = login()
    kit = new_kit(a)
    r = a.post(f"{BASE}/avatars", data={"brandKitId": str(kit), "name": "Dewi"},
               files={"file": ("IMG_4031.HEIC", photo("HEIC", orientation=6, size=(80, 40)), "image/heic")})
    assert r.status_code == 201, r.text
    body = r.json()
    assert (body["width"], body["height"]) == (40, 80)
    f = a.get(body["imageUrl"])
    assert f.status_code == 200 and f.headers["content-type"] == "image/jpeg"
    assert key_of(body["imageUrl"]).startswith(f"u{a.user.id}/avatar/")
