"""Re-encoding and thumbnails. PNG whenever there is alpha or the kind needs lossless (logos),
otherwise a JPEG: quality 92 without chroma subsampling, or the quality and subsampling a re-encoded JPEG
source had (core.images.intake). Nothing but pixels is written: no EXIF, ICC, XMP or text chunks."""
from __future__ import annotations

import io

from PIL import Image

JPEG_QUALITY = 92
THUMBNAIL_QUALITY = 85
THUMBNAIL_SIDE = 384
PNG_COMPRESS_LEVEL = 6
LOSSLESS_KINDS = frozenset({"logo", "pose"})  # flat colours and text: JPEG artefacts would show

_TYPES = {"png": "image/png", "jpg": "image/jpeg"}


def output_format(image: Image.Image, *, lossless: bool = False) -> tuple[str, str]:
    """(ext, content_type) that `encode_image` will write for this image."""
    ext = "png" if lossless or image.mode in ("RGBA", "LA", "P", "PA") else "jpg"
    return ext, _TYPES[ext]


def encode_image(image: Image.Image, *, lossless: bool = False, quality: int = JPEG_QUALITY,
                 subsampling: int | None = None) -> tuple[bytes, str, str]:
    """(data, ext, content_type) of `image` re-encoded without any metadata. JPEG chroma subsampling:
    `subsampling` (0 = 4:4:4, 1 = 4:2:2, 2 = 4:2:0, e.g. the source photo's own), else 4:4:4 from quality 90."""
    ext, content_type = output_format(image, lossless=lossless)
    buffer = io.BytesIO()
    if image.info:  # PNG writes image.info's ICC profile on its own; never carry anything over
        image = image.copy()
        image.info = {}
    if ext == "png":
        image.save(buffer, "PNG", compress_level=PNG_COMPRESS_LEVEL)
    else:
        if image.mode not in ("RGB", "L"):
            image = image.convert("RGB")
        if subsampling not in (0, 1, 2):
            subsampling = 0 if quality >= 90 else 2
        image.save(buffer, "JPEG", quality=quality, subsampling=subsampling)
    return buffer.getvalue(), ext, content_type


def resize_to_fit(image: Image.Image, max_side: int) -> Image.Image:
    """`image` scaled down (never up) so its longest side is `max_side`. Large reductions shrink by
    whole factors first (`reducing_gap`), then finish with Lanczos: fast and still sharp."""
    width, height = image.size
    scale = max_side / max(width, height)
    if scale >= 1:
        return image
    size = (max(1, round(width * scale)), max(1, round(height * scale)))
    return image.resize(size, Image.Resampling.LANCZOS, reducing_gap=3.0)


def make_thumbnail(image: Image.Image, max_side: int = THUMBNAIL_SIDE) -> bytes:
    """A thumbnail of an already-decoded image, longest side `max_side`: PNG when the image has
    alpha, JPEG otherwise (see `output_format`). Reusable for crops and generated images."""
    if image.mode not in ("RGB", "RGBA", "L"):
        image = image.convert("RGBA" if "A" in image.mode or "transparency" in image.info else "RGB")
    thumb = resize_to_fit(image, max_side)
    data, _, _ = encode_image(thumb, quality=THUMBNAIL_QUALITY)
    return data
