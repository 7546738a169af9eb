"""Image intake: the one function every uploaded picture goes through, and thumbnails.

    from core.images import ingest_image, ImageRejected
    result = ingest_image(upload.file, kind="product", settings=settings, filename=upload.filename)
    store.put(f"{uuid4().hex}.{result.ext}", result.data)          # names are ours, never the user's

Decisions (what ingest_image does, in order):
- Size: over Settings.limit_bytes(kind) -> 413, before reading the file whole (a stream with a known
  size is refused unread; otherwise at most limit + 1 bytes are read). Empty -> 400.
- Type by content only (magic bytes): JPEG, PNG, WebP; GIF too, deliberately, as input only (old
  shop assets and animated stickers): its first frame is taken. Animated WebP likewise. MPO camera
  files read as their first JPEG. Anything else -> 415, naming what it looks like (PDF, SVG,
  HEIC...). Extension and Content-Type are never consulted.
- Size rules before decoding: longest side <= max_image_side, pixels <= max_image_pixels -> else 422.
  This per-call check replaces Pillow's global MAX_IMAGE_PIXELS warning; no global is changed.
- Full decode of the first frame now: truncated or corrupt -> 400.
- EXIF orientation applied; ICC profiles converted to sRGB (then dropped); CMYK, 16-bit grey
  (I;16/I, scaled not clipped), palette, L, LA -> RGB or RGBA; transparency kept only if used.
- Re-encoded with no metadata at all (no EXIF, ICC, XMP, text): PNG when alpha or kind "logo",
  else JPEG quality 92, 4:4:4. Thumbnail: longest side 384, JPEG q85 (PNG with alpha).
- Every refusal is core.errors.ImageRejected("intake.<what>", status=400/413/415/422, field="file", **params):
  a message code (core/messages/intake.py) and what fills it in, shown in the reader's language.
"""
from core.errors import ImageRejected

from .decode import check_dimensions, to_rgb_or_rgba
from .encode import JPEG_QUALITY, LOSSLESS_KINDS, THUMBNAIL_SIDE, encode_image, make_thumbnail, output_format, resize_to_fit
from .intake import KIND_LABELS, IngestedImage, identify, ingest_image, read_limited, thumbnail_from_bytes
from .names import safe_display_name
from .sniff import ALLOWED_FORMATS, describe, sniff_format

__all__ = [
    "ALLOWED_FORMATS",
    "ImageRejected",
    "IngestedImage",
    "JPEG_QUALITY",
    "KIND_LABELS",
    "LOSSLESS_KINDS",
    "THUMBNAIL_SIDE",
    "check_dimensions",
    "describe",
    "encode_image",
    "identify",
    "ingest_image",
    "make_thumbnail",
    "output_format",
    "read_limited",
    "resize_to_fit",
    "safe_display_name",
    "sniff_format",
    "thumbnail_from_bytes",
    "to_rgb_or_rgba",
]
