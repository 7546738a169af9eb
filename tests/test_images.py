"""core.images: the one image intake. The bad-input corpus is made here, with Pillow, at test time."""
from __future__ import annotations

import io
import struct
import warnings
import zlib

import numpy as np
import pytest
from PIL import Image, ImageCms, ImageFile, PngImagePlugin

from core.errors import ImageRejected
from core.images import ingest_image, make_thumbnail, safe_display_name, thumbnail_from_bytes
from core.settings import Settings

pytestmark = pytest.mark.filterwarnings("error")  # a Pillow warning (bomb, truncation) is a failure

MB = 1024 * 1024
RED, GREEN, BLUE, WHITE = (255, 0, 0), (0, 255, 0), (0, 0, 255), (255, 255, 255)


@pytest.fixture(scope="module")
def settings() -> Settings:
    return Settings()


# --------------------------------------------------------------------------- corpus builders


def save(image: Image.Image, fmt: str, **params) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, fmt, **params)
    return buffer.getvalue()


def noise(width: int, height: int, seed: int = 0) -> Image.Image:
    rng = np.random.default_rng(seed)
    return Image.fromarray(rng.integers(0, 256, (height, width, 3), dtype=np.uint8))


def quadrants(width: int = 80, height: int = 40) -> Image.Image:
    """Top-left red, top-right green, bottom-left blue, bottom-right white."""
    image = Image.new("RGB", (width, height), WHITE)
    w, h = width // 2, height // 2
    image.paste(RED, (0, 0, w, h))
    image.paste(GREEN, (w, 0, width, h))
    image.paste(BLUE, (0, h, w, height))
    return image


def corners(image: Image.Image) -> tuple:
    """Colours at the centres of the four quadrants: TL, TR, BL, BR."""
    w, h = image.size
    return tuple(image.convert("RGB").getpixel((x, y)) for y in (h // 4, 3 * h // 4) for x in (w // 4, 3 * w // 4))


def close(a: tuple, b: tuple, tol: int = 12) -> bool:
    return all(abs(x - y) <= tol for x, y in zip(a, b))


def png_chunk(kind: bytes, payload: bytes) -> bytes:
    return struct.pack(">I", len(payload)) + kind + payload + struct.pack(">I", zlib.crc32(kind + payload))


def png_chunks(data: bytes) -> list[bytes]:
    out, pos = [], 8
    while pos < len(data):
        (length,) = struct.unpack(">I", data[pos : pos + 4])
        out.append(data[pos + 4 : pos + 8])
        pos += 12 + length
    return out


def declared_png(width: int, height: int) -> bytes:
    """A PNG header declaring width × height (8-bit grey) with one tiny IDAT: a huge declared size."""
    ihdr = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + png_chunk(b"IHDR", ihdr) + png_chunk(b"IDAT", zlib.compress(b"\0" * 64)) + png_chunk(b"IEND", b"")


def bomb_png(side: int) -> bytes:
    """A complete, valid 1-bit PNG of side × side black pixels: tiny file, huge decode."""
    row = b"\0" * (1 + (side + 7) // 8)
    packer = zlib.compressobj(9)
    idat = b"".join(packer.compress(row) for _ in range(side)) + packer.flush()
    ihdr = struct.pack(">IIBBBBB", side, side, 1, 0, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + png_chunk(b"IHDR", ihdr) + png_chunk(b"IDAT", idat) + png_chunk(b"IEND", b"")


def declared_jpeg(width: int, height: int) -> bytes:
    """A real small JPEG whose frame header (SOF0) is patched to claim width × height."""
    data = bytearray(save(Image.new("RGB", (16, 16), RED), "JPEG"))
    sof = data.find(b"\xff\xc0")
    struct.pack_into(">HH", data, sof + 5, height, width)
    return bytes(data)


def padded_png(total: int) -> bytes:
    """A valid PNG of exactly `total` bytes: a private ancillary chunk (prVt) fills the gap."""
    base = save(quadrants(), "PNG")
    filler = total - len(base) - 12
    assert filler >= 0
    ihdr_end = 8 + 25
    return base[:ihdr_end] + png_chunk(b"prVt", b"\0" * filler) + base[ihdr_end:]


def swapped_profile() -> bytes:
    """An RGB ICC profile that is sRGB with red and green primaries swapped: red pixels mean green."""
    icc = bytearray(ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes())
    count = struct.unpack(">I", icc[128:132])[0]
    table = {bytes(icc[132 + 12 * i : 136 + 12 * i]): 132 + 12 * i for i in range(count)}
    r, g = table[b"rXYZ"], table[b"gXYZ"]
    icc[r + 4 : r + 12], icc[g + 4 : g + 12] = icc[g + 4 : g + 12], icc[r + 4 : r + 12]
    name = icc.find("sRGB".encode("utf-16-be"))
    icc[name : name + 8] = "Swap".encode("utf-16-be")
    return bytes(icc)


class OneWayStream(io.RawIOBase):
    """A non-seekable stream (like a socket) that counts what was read from it."""

    def __init__(self, data: bytes):
        self._data, self.consumed = data, 0

    def readable(self) -> bool:
        return True

    def readinto(self, buffer) -> int:
        chunk = self._data[self.consumed : self.consumed + len(buffer)]
        buffer[: len(chunk)] = chunk
        self.consumed += len(chunk)
        return len(chunk)


def reject(data, settings: Settings, kind: str = "product", **kwargs) -> ImageRejected:
    with pytest.raises(ImageRejected) as caught:
        ingest_image(data, kind=kind, settings=settings, **kwargs)
    return caught.value


# --------------------------------------------------------------------------- refusals

ASK = "Please upload a JPEG, PNG, WebP, HEIC or AVIF image."
DAMAGED = (
    "This {} file is damaged or incomplete, so we can't open it (it may have been cut off while saving "
    "or uploading). Please save or export it again and re-upload."
)
UNREADABLE = "This file is not a picture we can read"
LOOKS_LIKE = UNREADABLE + " (it looks like {}). " + ASK
_noise_png = save(noise(300, 200), "PNG")
_noise_jpeg = save(noise(300, 200), "JPEG", quality=90)

BAD_FILES = [
    ("empty", b"", 400, f"This file is empty (0 bytes). {ASK}"),
    ("truncated-png", _noise_png[: len(_noise_png) * 6 // 10], 400, DAMAGED.format("PNG")),
    ("truncated-jpeg", _noise_jpeg[: len(_noise_jpeg) * 6 // 10], 400, DAMAGED.format("JPEG")),
    ("png-header-only", _noise_png[:40], 400, DAMAGED.format("PNG")),
    ("png-garbage-after-signature", b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 4, 400, DAMAGED.format("PNG")),
    ("jpeg-no-image-data", _noise_jpeg[: _noise_jpeg.find(b"\xff\xda")] + b"\xff\xd9", 400, DAMAGED.format("JPEG")),
    ("jpeg-broken-huffman-table", _noise_jpeg.replace(b"\xff\xc4", b"\xff\xc4\x00\x03\xff", 1), 400, DAMAGED.format("JPEG")),
    ("webp-truncated", save(noise(64, 64), "WEBP")[:60], 400, DAMAGED.format("WebP")),
    ("text.png", b"Hello, this is my product list.\nBottle 1\nBottle 2\n", 415, LOOKS_LIKE.format("a text file")),
    ("html.png", b"<!DOCTYPE html>\n<html><body><script>alert(1)</script></body></html>", 415, LOOKS_LIKE.format("an HTML web page")),
    ("svg.png", b"<?xml version=\"1.0\"?>\n<svg width=\"9\" height=\"9\"></svg>", 415, LOOKS_LIKE.format("an SVG drawing")),
    ("pdf.png", save(quadrants(), "PDF"), 415, LOOKS_LIKE.format("a PDF document")),
    ("tiff.png", save(quadrants(), "TIFF"), 415, LOOKS_LIKE.format("a TIFF image")),
    ("bmp.png", save(quadrants(), "BMP"), 415, LOOKS_LIKE.format("a BMP image")),
    ("heic-header-only", b"\0\0\0\x18ftypheic\0\0\0\0mif1heic" + b"\0" * 64, 400, DAMAGED.format("HEIC")),
    ("random.png", bytes(np.random.default_rng(1).integers(0, 256, 2048, dtype=np.uint8)), 415, f"{UNREADABLE}. {ASK}"),
    ("bomb-62-megapixels", bomb_png(7900), 422,
     "This image is 7900 × 7900 pixels (62.4 megapixels); it can have at most 50 megapixels."),
    ("declared-100000-png", declared_png(100_000, 100_000), 422,
     "This image is 100000 × 100000 pixels; the longest side can be at most 8000 pixels."),
    ("declared-12000x9000-jpeg", declared_jpeg(12_000, 9_000), 422,
     "This image is 12000 × 9000 pixels; the longest side can be at most 8000 pixels."),
]


CODES = {"empty": "intake.empty", "random.png": "intake.not_a_picture", "bomb-62-megapixels": "intake.too_many_pixels",
         "declared-100000-png": "intake.side_too_long", "declared-12000x9000-jpeg": "intake.side_too_long"}


def _code(case_id: str, status: int) -> str:
    return CODES.get(case_id) or {400: "intake.damaged", 415: "intake.not_a_picture_like"}[status]


@pytest.mark.parametrize("data, status, message, code", [(*case[1:], _code(case[0], case[2])) for case in BAD_FILES],
                         ids=[case[0] for case in BAD_FILES])
def test_bad_files_are_refused_with_status_and_message(settings, data, status, message, code):
    error = reject(data, settings, filename="upload.png")
    assert (error.status, error.message, error.code) == (status, message, code)
    body = error.to_dict()
    assert error.field == "file" and body["kind"] == "image_rejected" and body["code"] == code


def test_refusals_read_in_indonesian_with_their_words_and_numbers(settings):
    from ui.i18n import message_text

    cases = {"pdf.png": "File ini bukan gambar yang bisa kami baca (sepertinya dokumen PDF). Silakan unggah gambar "
                        "JPEG, PNG, WebP, HEIC, atau AVIF.",
             "webp-truncated": "File WebP ini rusak atau tidak lengkap, jadi tidak bisa kami buka (mungkin terpotong "
                               "saat disimpan atau diunggah). Silakan simpan atau ekspor ulang, lalu unggah lagi.",
             "bomb-62-megapixels": "Gambar ini berukuran 7900 × 7900 piksel (62,4 megapiksel); maksimal 50 megapiksel."}
    for case_id, data, *_ in BAD_FILES:
        if case_id in cases:
            assert message_text(reject(data, settings), "id") == cases[case_id]


def overhanging_gif(side: int) -> bytes:
    """A Pillow-made 10 × 10 GIF whose first frame is patched to side × side: Pillow grows the canvas."""
    data = bytearray(save(Image.new("P", (10, 10)), "GIF"))
    at = data.rfind(b",\0\0\0\0")  # image descriptor: left 0, top 0, then width, height
    assert struct.unpack_from("<HH", data, at + 5) == (10, 10)
    struct.pack_into("<HH", data, at + 5, side, side)
    return bytes(data)


@pytest.mark.parametrize(
    "data, message",
    [
        (declared_png(60_000, 60_000), "This image is 60000 × 60000 pixels (3,600 megapixels); it can have at most 50 megapixels."),
        (overhanging_gif(10_000), "This image is 10000 × 10000 pixels (100 megapixels); it can have at most 50 megapixels."),
    ],
    ids=["png-3.6-gigapixels", "gif-frame-overhang"],
)
def test_bomb_past_pillows_own_limit_is_our_error_not_pillows(data, message):
    # Pillow alone would warn (> 89 MP) or raise its DecompressionBombError (> 179 MP).
    settings = Settings(max_image_side=65_535)
    before = (Image.MAX_IMAGE_PIXELS, ImageFile.LOAD_TRUNCATED_IMAGES)
    error = reject(data, settings)
    assert (error.status, error.message) == (422, message)
    assert (Image.MAX_IMAGE_PIXELS, ImageFile.LOAD_TRUNCATED_IMAGES) == before  # no global touched


def test_exactly_the_limit_is_accepted_and_one_byte_more_is_not():
    settings = Settings(max_avatar_size_mb=0.05)
    limit = settings.limit_bytes("avatar")
    exact, over = padded_png(limit), padded_png(limit + 1)
    assert (len(exact), len(over)) == (limit, limit + 1)

    for source in (exact, io.BytesIO(exact), io.BufferedReader(OneWayStream(exact))):
        assert ingest_image(source, kind="avatar", settings=settings).original_bytes == limit
    for source, size in ((over, "just over 51.2 KB"), (io.BytesIO(over), "just over 51.2 KB"),
                         (io.BufferedReader(OneWayStream(over)), "over 51.2 KB")):  # one-way: size unknown
        error = reject(source, settings, kind="avatar")
        assert (error.status, error.message) == (413, f"This file is {size}; avatars can be at most 51.2 KB.")


def test_oversized_stream_is_refused_without_reading_it_whole(settings, tmp_path):
    path = tmp_path / "huge.jpg"
    with open(path, "wb") as handle:
        handle.write(save(quadrants(), "JPEG"))
        handle.truncate(int(26.3 * MB))  # sparse: 26.3 MB on paper
    with open(path, "rb") as handle:
        error = reject(handle, settings)
        assert handle.tell() == 0  # its size was known: nothing read
    assert (error.status, error.message) == (413, "This file is 26.3 MB; products can be at most 20 MB.")

    one_way = OneWayStream(b"\xff\xd8\xff" + b"\0" * (25 * MB))
    error = reject(one_way, settings)
    assert (error.status, error.message) == (413, "This file is over 20 MB; products can be at most 20 MB.")
    assert one_way.consumed == settings.limit_bytes("product") + 1

    error = reject(path, Settings(max_product_size_mb=1))  # a path, as Gradio hands it over
    assert error.message == "This file is 26.3 MB; products can be at most 1 MB."


@pytest.mark.parametrize(
    "size, overrides, message",
    [
        ((101, 50), {"max_image_side": 100}, "This image is 101 × 50 pixels; the longest side can be at most 100 pixels."),
        ((50, 101), {"max_image_side": 100}, "This image is 50 × 101 pixels; the longest side can be at most 100 pixels."),
        ((101, 100), {"max_image_pixels": 10_000}, "This image is 101 × 100 pixels (0.01 megapixels); it can have at most 0.01 megapixels."),
    ],
)
def test_side_and_pixel_limits_are_422(size, overrides, message):
    error = reject(save(Image.new("RGB", size, RED), "PNG"), Settings(**overrides))
    assert (error.status, error.message) == (422, message)


def test_limits_are_inclusive():
    settings = Settings(max_image_side=100, max_image_pixels=10_000)
    assert ingest_image(save(Image.new("RGB", (100, 100)), "PNG"), kind="avatar", settings=settings).width == 100


def test_unknown_kind_is_a_programming_error(settings):
    with pytest.raises(ValueError):
        ingest_image(save(quadrants(), "PNG"), kind="banner", settings=settings)


# --------------------------------------------------------------------------- accepted, and cleaned


def test_format_comes_from_content_not_name(settings):
    result = ingest_image(save(quadrants(), "JPEG"), kind="product", settings=settings, filename="photo.png")
    assert (result.original_format, result.ext, result.content_type) == ("JPEG", "jpg", "image/jpeg")
    assert Image.open(io.BytesIO(result.data)).format == "JPEG"


def test_cmyk_jpeg_becomes_rgb(settings):
    cmyk = Image.new("CMYK", (40, 40), (0, 255, 255, 0))  # red ink
    result = ingest_image(save(cmyk, "JPEG", quality=95), kind="product", settings=settings)
    assert result.image.mode == "RGB" and result.ext == "jpg"
    assert close(result.image.getpixel((20, 20)), RED)


def test_16_bit_png_is_scaled_not_clipped(settings):
    ramp = np.array([[0, 256, 32768, 65535]] * 4, dtype=np.uint16)
    data = save(Image.fromarray(ramp), "PNG")
    assert Image.open(io.BytesIO(data)).mode == "I;16"
    result = ingest_image(data, kind="logo", settings=settings)
    assert result.image.mode == "RGB" and result.ext == "png"
    assert [result.image.getpixel((x, 0)) for x in range(4)] == [(0,) * 3, (1,) * 3, (128,) * 3, (255,) * 3]


def test_palette_png_with_transparency_becomes_rgba_png(settings):
    palette = Image.new("P", (20, 10), 1)
    palette.putpalette([0, 0, 0, *RED, *GREEN] + [0] * 759)
    palette.paste(2, (10, 0, 20, 10))
    palette.paste(0, (0, 0, 5, 5))
    result = ingest_image(save(palette, "PNG", transparency=0), kind="product", settings=settings)
    assert (result.image.mode, result.ext, result.thumbnail_ext) == ("RGBA", "png", "png")
    assert result.image.getpixel((1, 1))[3] == 0
    assert result.image.getpixel((7, 7)) == (*RED, 255) and result.image.getpixel((15, 5)) == (*GREEN, 255)
    assert Image.open(io.BytesIO(result.data)).getpixel((15, 5)) == (*GREEN, 255)


@pytest.mark.parametrize(
    "image, keep_alpha, mode",
    [
        (Image.new("LA", (8, 8), (100, 0)), None, "RGBA"),
        (Image.new("L", (8, 8), 100), None, "RGB"),
        (Image.new("1", (8, 8), 1), None, "RGB"),
        (Image.new("RGBA", (8, 8), (*RED, 255)), None, "RGB"),  # alpha present but unused
        (Image.new("RGBA", (8, 8), (*RED, 255)), True, "RGBA"),
        (Image.new("RGB", (8, 8), RED), True, "RGBA"),
        (Image.new("RGBA", (8, 8), (*RED, 0)), False, "RGB"),  # flattened onto white
    ],
    ids=["LA", "L", "1-bit", "opaque-RGBA", "keep-alpha", "add-alpha", "flatten"],
)
def test_modes_end_as_rgb_or_rgba(settings, image, keep_alpha, mode):
    result = ingest_image(save(image, "PNG"), kind="avatar", settings=settings, keep_alpha=keep_alpha)
    assert result.image.mode == mode
    assert result.ext == ("png" if mode == "RGBA" else "jpg")
    if keep_alpha is False:
        assert result.image.getpixel((4, 4)) == WHITE


@pytest.mark.parametrize("fmt", ["GIF", "WEBP"])
def test_animation_gives_its_first_frame(settings, fmt):
    frames = [Image.new("RGB", (32, 32), colour) for colour in (RED, GREEN, BLUE)]
    params = {"lossless": True} if fmt == "WEBP" else {}
    data = save(frames[0], fmt, save_all=True, append_images=frames[1:], duration=100, loop=0, **params)
    assert Image.open(io.BytesIO(data)).n_frames == 3
    result = ingest_image(data, kind="product", settings=settings)
    assert result.original_format == fmt
    assert result.image.mode == "RGB" and close(result.image.getpixel((16, 16)), RED, tol=2)


# Raw pixels are quadrants(); what a viewer shows after honouring the tag (TL, TR, BL, BR).
ORIENTATIONS = {
    1: (RED, GREEN, BLUE, WHITE),
    3: (WHITE, BLUE, GREEN, RED),  # turned 180°
    6: (BLUE, RED, WHITE, GREEN),  # turned 90° clockwise
    8: (GREEN, WHITE, RED, BLUE),  # turned 90° counter-clockwise
}


@pytest.mark.parametrize("fmt", ["JPEG", "PNG"])
@pytest.mark.parametrize("orientation", sorted(ORIENTATIONS))
def test_exif_orientation_is_applied(settings, orientation, fmt):
    exif = Image.Exif()
    exif[0x0112] = orientation
    data = save(quadrants(80, 40), fmt, exif=exif.tobytes(), **({"quality": 95} if fmt == "JPEG" else {}))
    result = ingest_image(data, kind="product", settings=settings)
    assert result.orientation == orientation
    assert (result.width, result.height) == ((40, 80) if orientation in (6, 8) else (80, 40))
    for got, want in zip(corners(result.image), ORIENTATIONS[orientation]):
        assert close(got, want), (got, want)
    stored = Image.open(io.BytesIO(result.data))
    assert 0x0112 not in stored.getexif()  # upright pixels, no tag to turn them twice
    assert all(close(g, w) for g, w in zip(corners(stored), ORIENTATIONS[orientation]))
    thumb = Image.open(io.BytesIO(result.thumbnail))
    assert all(close(g, w, tol=20) for g, w in zip(corners(thumb), ORIENTATIONS[orientation]))


def test_metadata_is_stripped_from_jpeg(settings):
    exif = Image.Exif()
    exif[0x010F] = "SecretCam"  # Make
    exif[0x0132] = "2024:01:01 10:00:00"
    srgb = ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes()
    data = save(quadrants(), "JPEG", exif=exif.tobytes(), icc_profile=srgb, comment=b"hello")
    data += b"<script>alert(1)</script>"  # a polyglot tail
    result = ingest_image(data, kind="product", settings=settings)
    stored = Image.open(io.BytesIO(result.data))
    assert result.kept   # its own bytes, less the metadata (tests/test_upload_size.py)
    assert not {"exif", "comment", "xmp"} & set(stored.info)
    assert stored.info["icc_profile"] == srgb   # how its colours are meant is not metadata: it stays
    assert b"SecretCam" not in result.data and b"<script>" not in result.data
    assert b"SecretCam" not in result.thumbnail
    assert "icc_profile" not in Image.open(io.BytesIO(result.thumbnail)).info


def test_metadata_is_stripped_from_png(settings):
    info = PngImagePlugin.PngInfo()
    info.add_text("Comment", "private note")
    info.add_itxt("Author", "Ann", zip=True)
    image = Image.new("RGBA", (20, 20), (*RED, 128))
    icc = ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes()
    result = ingest_image(save(image, "PNG", pnginfo=info, icc_profile=icc), kind="product", settings=settings)
    assert set(png_chunks(result.data)) == {b"IHDR", b"IDAT", b"IEND"}
    assert set(png_chunks(result.thumbnail)) == {b"IHDR", b"IDAT", b"IEND"}


def test_icc_profile_is_converted_to_srgb_then_dropped(settings):
    data = save(Image.new("RGB", (16, 16), RED), "PNG", icc_profile=swapped_profile())
    result = ingest_image(data, kind="logo", settings=settings)
    assert result.image.getpixel((8, 8)) == GREEN  # what the profile says the pixels mean
    assert b"iCCP" not in png_chunks(result.data)


def test_logo_is_lossless_and_product_is_jpeg(settings):
    data = save(quadrants(), "PNG")
    logo = ingest_image(data, kind="logo", settings=settings)
    product = ingest_image(data, kind="product", settings=settings)
    assert (logo.ext, logo.content_type, product.ext, product.content_type) == ("png", "image/png", "jpg", "image/jpeg")
    assert np.array_equal(np.asarray(Image.open(io.BytesIO(logo.data))), np.asarray(quadrants()))


def test_thumbnail_fits_the_box_and_never_upscales(settings):
    big = ingest_image(save(noise(1200, 900), "JPEG"), kind="product", settings=settings)
    assert Image.open(io.BytesIO(big.thumbnail)).size == (384, 288)
    assert (big.thumbnail_ext, big.thumbnail_content_type) == ("jpg", "image/jpeg")
    small = ingest_image(save(quadrants(), "PNG"), kind="product", settings=settings, thumbnail_side=128)
    assert Image.open(io.BytesIO(small.thumbnail)).size == (80, 40)
    assert Image.open(io.BytesIO(make_thumbnail(quadrants(400, 100), 100))).size == (100, 25)
    rgba = Image.open(io.BytesIO(make_thumbnail(Image.new("RGBA", (500, 500), (*RED, 10)), 50)))
    assert (rgba.format, rgba.mode, rgba.size) == ("PNG", "RGBA", (50, 50))


def test_thumbnail_from_bytes_with_draft_matches_the_full_decode(settings):
    data = save(quadrants(2400, 1600), "JPEG", quality=90)
    fast = Image.open(io.BytesIO(thumbnail_from_bytes(data, settings=settings)))
    slow = Image.open(io.BytesIO(thumbnail_from_bytes(data, settings=settings, draft=False)))
    assert fast.size == slow.size == (384, 256)
    diff = np.abs(np.asarray(fast, dtype=int) - np.asarray(slow, dtype=int)).mean()
    assert diff < 3
    with pytest.raises(ImageRejected) as caught:
        thumbnail_from_bytes(data[: len(data) // 2], settings=settings)  # draft still reads it all
    assert caught.value.status == 400


# --------------------------------------------------------------------------- names

LONG = "ü" * 300 + ".jpeg"


@pytest.mark.parametrize(
    "filename, expected",
    [
        ("../../etc/passwd.png", "passwd.png"),
        ("..\\..\\windows\\win.ini.jpg", "win.ini.jpg"),
        ("C:\\Users\\Ann\\Pictures\\Rote Flasche.jpg", "Rote Flasche.jpg"),
        ("/tmp/gradio/abc123/Café Crème ☕.png", "Café Crème ☕.png"),
        ("商品写真 01.jpg", "商品写真 01.jpg"),
        ("Cafe\u0301.png", "Café.png"),  # NFD -> NFC
        ("invoice\u202egnp.exe", "invoicegnp.exe"),  # bidi override dropped
        ("a\x00b\r\nc\t.png", "abc.png"),
        ("   many    spaces  .png", "many spaces .png"),
        ("..", "image"),
        ("../", "image"),
        (".htaccess", "htaccess"),
        ("", "image"),
        (None, "image"),
        (LONG, "ü" * 115 + ".jpeg"),
    ],
)
def test_display_name_is_safe(filename, expected):
    name = safe_display_name(filename)
    assert name == expected and len(name) <= 120
    assert "/" not in name and "\\" not in name and not name.startswith(".")


def test_display_name_travels_through_intake(settings, tmp_path):
    data = save(quadrants(), "PNG")
    assert ingest_image(data, kind="avatar", settings=settings, filename="../../Ünïcödé 😀.png").display_name == "Ünïcödé 😀.png"
    path = tmp_path / "Profilbild Jürgen.png"
    path.write_bytes(data)
    assert ingest_image(path, kind="avatar", settings=settings).display_name == "Profilbild Jürgen.png"


def test_no_global_changes_across_the_corpus(settings):
    before = (Image.MAX_IMAGE_PIXELS, ImageFile.LOAD_TRUNCATED_IMAGES, list(warnings.filters))
    for _, data, _, _ in BAD_FILES:
        with pytest.raises(ImageRejected):
            ingest_image(data, kind="product", settings=settings)
    assert (Image.MAX_IMAGE_PIXELS, ImageFile.LOAD_TRUNCATED_IMAGES, list(warnings.filters)) == before
