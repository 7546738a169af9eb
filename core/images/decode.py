"""Decode an identified upload with our own limits, then clean it into plain RGB or RGBA.

Pillow's own decompression-bomb check lives in `Image.open` and reads a process-wide setting
(`Image.MAX_IMAGE_PIXELS`) that only *warns* below twice its value. We neither change that global
nor rely on warnings: the file is opened with the plugin class of the format we sniffed (what
`Image.open` does inside), and the declared size is checked against Settings (max_image_side,
max_image_pixels) before a single pixel is decoded (for a GIF, the canvas its first frame needs is
read from the blocks before Pillow grows it). Then the whole first frame is loaded, so a truncated
or corrupt file fails here, never later.
"""
from __future__ import annotations

import io
import logging
import struct

import numpy as np
from PIL import (AvifImagePlugin, GifImagePlugin, Image, ImageCms, ImageFile, JpegImagePlugin, PngImagePlugin,
                 WebPImagePlugin)

from core.errors import ImageRejected
from core.settings import Settings

from .sniff import ALLOWED_FORMATS

log = logging.getLogger(__name__)

_OPENERS: dict[str, type[ImageFile.ImageFile]] = {
    "JPEG": JpegImagePlugin.JpegImageFile,  # also reads MPO (multi-picture) camera files: first picture
    "PNG": PngImagePlugin.PngImageFile,
    "WEBP": WebPImagePlugin.WebPImageFile,
    "GIF": GifImagePlugin.GifImageFile,
    "AVIF": AvifImagePlugin.AvifImageFile,   # Pillow's own (libavif); applies the file's rotation itself
}


def _opener(fmt: str) -> type[ImageFile.ImageFile]:
    """The plugin class for `fmt`. HEIC comes from pillow-heif (libheif), imported on the first HEIC upload;
    libheif applies the photo's rotation and pillow-heif then reports EXIF orientation 1, so it is not
    turned twice."""
    if fmt == "HEIF" and fmt not in _OPENERS:
        from pillow_heif.as_plugin import HeifImageFile

        _OPENERS[fmt] = HeifImageFile
    return _OPENERS[fmt]
_SRGB = ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB"))


def damaged(fmt: str) -> ImageRejected:
    return ImageRejected("intake.damaged", field="file", status=400, format=ALLOWED_FORMATS[fmt])


def check_dimensions(size: tuple[int, int], settings: Settings) -> None:
    """422 when a side is longer than settings.max_image_side or the area exceeds max_image_pixels."""
    width, height = size
    if max(width, height) > settings.max_image_side:
        raise ImageRejected("intake.side_too_long", field="file", status=422, width=width, height=height,
                            most=settings.max_image_side)
    if width * height > settings.max_image_pixels:
        raise ImageRejected("intake.too_many_pixels", field="file", status=422, width=width, height=height,
                            megapixels=width * height / 1e6, most=settings.max_image_pixels / 1e6)


def open_checked(data: bytes, fmt: str, settings: Settings) -> ImageFile.ImageFile:
    """Read the header of `data` as `fmt` and check its size; nothing is decoded yet."""
    if fmt == "GIF" and (canvas := gif_canvas(data)):
        check_dimensions(canvas, settings)  # before Pillow grows the canvas and warns on its own
    try:
        image = _opener(fmt)(io.BytesIO(data))
    except Image.DecompressionBombError as exc:  # only if gif_canvas missed a canvas Pillow grows
        raise ImageRejected("intake.bomb", field="file", status=422,
                            most=settings.max_image_pixels / 1e6) from exc
    except Exception as exc:  # noqa: BLE001 - hostile bytes raise SyntaxError, struct.error, EOFError, ...
        raise damaged(fmt) from exc
    if image.width < 1 or image.height < 1:
        raise damaged(fmt)
    check_dimensions(image.size, settings)
    return image


def gif_canvas(data: bytes) -> tuple[int, int] | None:
    """The canvas a GIF's first frame needs: the screen, grown by a frame that overhangs it
    (Pillow grows it the same way). None when the blocks can't be walked; Pillow then refuses it."""
    try:
        width, height, flags = struct.unpack_from("<HHB", data, 6)
        pos = 13 + (3 << ((flags & 7) + 1) if flags & 0x80 else 0)
        while data[pos] == 0x21:  # extensions: label, then sub-blocks up to a zero length
            pos += 2
            while data[pos]:
                pos += data[pos] + 1
            pos += 1
        if data[pos] != 0x2C:
            return None
        left, top, frame_w, frame_h = struct.unpack_from("<HHHH", data, pos + 1)
    except (IndexError, struct.error):
        return None
    return max(width, left + frame_w), max(height, top + frame_h)


def load_checked(image: ImageFile.ImageFile, fmt: str) -> None:
    """Decode all pixels of the first frame now (truncated files fail here)."""
    try:
        image.load()
    except Exception as exc:  # noqa: BLE001 - OSError "truncated", zlib.error, ValueError, ...
        raise damaged(fmt) from exc


def exif_orientation(image: Image.Image) -> int:
    """The EXIF orientation tag (1..8), 1 when absent or unreadable."""
    try:
        value = image.getexif().get(0x0112, 1)
    except Exception:  # noqa: BLE001 - broken EXIF is metadata we drop anyway
        return 1
    return value if isinstance(value, int) and 1 <= value <= 8 else 1


def apply_orientation(image: Image.Image, orientation: int) -> Image.Image:
    """Turn the pixels the way the EXIF orientation says (ImageOps.exif_transpose's table)."""
    method = {
        2: Image.Transpose.FLIP_LEFT_RIGHT,
        3: Image.Transpose.ROTATE_180,
        4: Image.Transpose.FLIP_TOP_BOTTOM,
        5: Image.Transpose.TRANSPOSE,
        6: Image.Transpose.ROTATE_270,
        7: Image.Transpose.TRANSVERSE,
        8: Image.Transpose.ROTATE_90,
    }.get(orientation)
    return image.transpose(method) if method is not None else image


def to_rgb_or_rgba(image: Image.Image, *, keep_alpha: bool | None = None) -> Image.Image:
    """Plain RGB or RGBA, colours in sRGB, no metadata.

    - An embedded ICC profile other than sRGB (Display P3 phone photos, CMYK print files) is
      converted to sRGB with LittleCMS, then dropped; an unreadable profile is ignored.
    - CMYK -> RGB; 16-bit and 32-bit grey (I;16, I, F) scaled to 8-bit, not clipped; L, 1 -> RGB;
      P, LA, PA, RGB with a transparency colour -> RGBA.
    - keep_alpha None: keep alpha only when some pixel is actually transparent; False: flatten onto
      white; True: always RGBA.
    """
    icc = image.info.get("icc_profile")
    transparency = image.info.get("transparency")
    if image.mode in ("I;16", "I;16L", "I;16B", "I;16N", "I", "F"):
        image = _wide_grey_to_l(image, transparency)
    elif icc and image.mode in ("RGB", "RGBA", "CMYK"):
        image = _to_srgb(image, icc)
    if image.mode not in ("RGB", "RGBA"):
        has_alpha = "A" in image.mode or "a" in image.mode or transparency is not None
        image = image.convert("RGBA" if has_alpha else "RGB")
    elif image.mode == "RGB" and transparency is not None:
        image = image.convert("RGBA")

    if image.mode == "RGBA" and keep_alpha is not True:
        opaque = image.getchannel("A").getextrema()[0] == 255
        if opaque:
            image = image.convert("RGB")
        elif keep_alpha is False:
            white = Image.new("RGB", image.size, (255, 255, 255))
            white.paste(image, mask=image.getchannel("A"))
            image = white
    elif image.mode == "RGB" and keep_alpha is True:
        image = image.convert("RGBA")
    image.info = {}  # EXIF, ICC, XMP, text chunks, comments: none of it travels on
    return image


def colours_need_converting(image: Image.Image) -> bool:
    """Whether to_rgb_or_rgba would change the colours of `image` through its ICC profile: an RGB or CMYK
    picture with a readable profile that is not sRGB (Display P3, Adobe RGB, a print profile)."""
    icc = image.info.get("icc_profile")
    if not icc or image.mode not in ("RGB", "RGBA", "CMYK"):
        return False
    if image.mode == "CMYK":
        return True
    try:
        return not _is_srgb(ImageCms.ImageCmsProfile(io.BytesIO(icc)))
    except Exception:  # noqa: BLE001 - an unreadable profile is ignored: the pixels are used as they are
        return False


def _is_srgb(profile: ImageCms.ImageCmsProfile) -> bool:
    return ImageCms.getProfileDescription(profile).strip().startswith("sRGB")


def _to_srgb(image: Image.Image, icc: bytes) -> Image.Image:
    try:
        profile = ImageCms.ImageCmsProfile(io.BytesIO(icc))
        if image.mode != "CMYK" and _is_srgb(profile):
            return image
        out_mode = "RGBA" if image.mode == "RGBA" else "RGB"
        return ImageCms.profileToProfile(image, profile, _SRGB, outputMode=out_mode)
    except Exception as exc:  # noqa: BLE001 - a broken profile: keep the pixels as they are
        log.info("ignoring unusable ICC profile: %s", exc)
        return image


def _wide_grey_to_l(image: Image.Image, transparency: object) -> Image.Image:
    """16/32-bit or float grey to 8-bit L (LA with a transparent grey value), keeping contrast."""
    values = np.asarray(image)
    if image.mode.startswith("I;16"):
        grey = (values.astype(np.uint32) + 128) // 257
    elif image.mode == "F":
        scale = 255.0 if np.nanmax(values, initial=0.0) <= 1.0 else 1.0
        grey = np.nan_to_num(values * scale)
    else:
        top = int(values.max(initial=0))
        if values.min(initial=0) >= 0 and top <= 255:
            grey = values
        elif values.min(initial=0) >= 0 and top <= 65535:
            grey = (values.astype(np.int64) + 128) // 257
        else:
            low = int(values.min())
            grey = (values.astype(np.float64) - low) * 255.0 / max(1, top - low)
    out = Image.fromarray(np.clip(grey, 0, 255).astype(np.uint8))  # uint8 2-D -> L
    if isinstance(transparency, int):
        alpha = np.where(values == transparency, 0, 255).astype(np.uint8)
        out = Image.merge("LA", (out, Image.fromarray(alpha)))
    return out
