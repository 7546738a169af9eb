"""Image intake: the one function every uploaded picture goes through, and thumbnails.

    from core.images import ingest_image, ImageRejected
    result = ingest_image(upload.file, kind="product", settings=settings, filename=upload.filename)
    store.put(f"{uuid4().hex}.{result.ext}", result.data)          # names are ours, never the user's
    result.kept                                                     # the upload's own bytes, less metadata

Decisions (what ingest_image does, in order):
- Size: over Settings.limit_bytes(kind) -> 413, before reading the file whole (a stream with a known
  size is refused unread; otherwise at most limit + 1 bytes are read). Empty -> 400.
- Type by content only (magic bytes): JPEG, PNG, WebP; GIF too, deliberately, as input only (old
  shop assets and animated stickers): its first frame is taken. Animated WebP likewise. MPO camera
  files read as their first JPEG. Anything else -> 415, naming what it looks like (PDF, SVG,
  HEIC...). Extension and Content-Type are never consulted.
- Size rules before decoding: longest side <= max_image_side, pixels <= max_image_pixels -> else 422.
  This per-call check replaces Pillow's global MAX_IMAGE_PIXELS warning; no global is changed.
- Kept when nothing else is needed: a JPEG that is upright (EXIF orientation 1), YCbCr or grey,
  Huffman-coded, is stored as its own bytes less its metadata segments (core/images/jpeg.py: EXIF with
  GPS, XMP, IPTC, comments, MPF and whatever follows the end of the image go; the ICC profile, the JFIF
  header without its thumbnail, Adobe's colour-transform marker and the image data stay byte for byte),
  so the stored file is never larger than the upload. A still WebP likewise (core/images/webp.py: EXIF
  and XMP chunks go). A non-sRGB profile (Display P3) is kept only for kinds decoded through it
  (ICC_READ_KINDS: products, whose cut-out applies it); otherwise the file is converted and re-encoded.
- Every stored byte is decoded now: truncated or corrupt -> 400. A kept product JPEG is decoded with
  libjpeg's DCT scaling to the thumbnail's size (every coefficient still read), its full-size pixels
  (`IngestedImage.image`) only when asked for; avatars and pose files are decoded at full size at once.
- Otherwise: EXIF orientation applied; ICC profiles converted to sRGB (then dropped); CMYK, 16-bit grey
  (I;16/I, scaled not clipped), palette, L, LA -> RGB or RGBA; transparency kept only if used; re-encoded
  with no metadata at all (no EXIF, ICC, XMP, text): PNG when alpha or kind "logo", else JPEG: a JPEG
  source (turned upright) at its own quality, estimated from its quantisation tables, at most 95, and its
  own chroma subsampling; anything else quality 92, 4:4:4 (4:2:0 for a 4:2:0 HEIC). A JPEG re-encode that
  comes out over the upload limit is written again a few qualities lower (not below 75).
  Thumbnail: longest side 384, JPEG q85 (PNG with alpha).
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
