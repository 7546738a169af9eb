"""`ingest_image`: the one door every uploaded image comes through (avatars, products, logos, ...)."""
from __future__ import annotations

import io
import os
from dataclasses import dataclass, field
from functools import cached_property, partial
from typing import BinaryIO, Callable, Union

from PIL import Image, JpegImagePlugin

from core.errors import ImageRejected
from core.messages import human_size
from core.settings import Settings

from . import jpeg, webp
from .decode import (apply_orientation, colours_need_converting, exif_orientation, load_checked, open_checked,
                     to_rgb_or_rgba)
from .encode import JPEG_QUALITY, LOSSLESS_KINDS, THUMBNAIL_SIDE, encode_image, make_thumbnail, output_format
from .jpeg import estimate_quality
from .names import safe_display_name
from .sniff import SNIFF_BYTES, describe, sniff_format

Source = Union[BinaryIO, bytes, bytearray, memoryview, str, os.PathLike]

KIND_LABELS = {"avatar": "avatars", "product": "products", "logo": "logos", "pose": "pose files"}
_CHUNK = 1024 * 1024
PIXELS_AT_ONCE = frozenset({"avatar", "pose"})  # their callers use the full-size pixels right away (faces, poses)
MAX_REENCODE_QUALITY = 95  # a JPEG turned upright is re-encoded at its own quality, never above this
LOWEST_QUALITY = 75  # ... and lowered (never below this) only if it would come out over the upload limit
# Kinds whose kept files are decoded only through core.images (the ICC profile applied: to_rgb_or_rgba): a
# product photo goes to the cut-out (core.catalog.background), a pose file is never stored. Avatars and logos
# are still opened with plain Pillow elsewhere, so a kept file of theirs must be sRGB already: a Display P3
# one is converted and re-encoded at its own quality, as before.
ICC_READ_KINDS = frozenset({"product", "pose"})


@dataclass(frozen=True, eq=False)
class IngestedImage:
    """A checked and cleaned upload. Nothing is on disk yet: the caller stores `data` and `thumbnail` under
    names it generates itself (never from `display_name`). `data` is either the upload's own JPEG or WebP
    bytes less their metadata (`kept`) or a re-encode; `image` is its pixels, decoded on first use for a kept
    file of a kind whose callers rarely need them (a product photo goes to storage, not to Pillow)."""

    data: bytes = field(repr=False)  # kept JPEG/WebP bytes, or the re-encode: PNG (alpha, lossless kind) else JPEG
    ext: str  # "png" | "jpg" | "webp" (kept)
    content_type: str  # "image/png" | "image/jpeg" | "image/webp"
    width: int
    height: int
    original_format: str  # what the content was: "JPEG" | "PNG" | "WEBP" | "GIF" | "HEIF" | "AVIF"
    original_bytes: int  # size of the upload
    thumbnail: bytes = field(repr=False)  # longest side THUMBNAIL_SIDE (or as asked), never upscaled
    thumbnail_ext: str
    thumbnail_content_type: str
    display_name: str  # from the upload's filename, safe to show (still escape it for HTML)
    orientation: int = field(default=1)  # the EXIF orientation that was applied (1 = none)
    mode: str = "RGB"  # of `image`: "RGB" or "RGBA"
    kept: bool = False  # `data` is the upload's own JPEG or WebP without its metadata, not re-encoded
    quality: int | None = None  # JPEG quality of `data` (a kept file's: estimated from its tables)
    pixels: Image.Image | Callable[[], Image.Image] | None = field(default=None, repr=False)

    @cached_property
    def image(self) -> Image.Image:
        """RGB or RGBA, upright, sRGB, no metadata (decoded now if it was left for later)."""
        return self.pixels() if callable(self.pixels) else self.pixels

    @property
    def has_alpha(self) -> bool:
        return self.mode == "RGBA"


def ingest_image(
    source: Source,
    *,
    kind: str,
    settings: Settings,
    filename: str | None = None,
    keep_alpha: bool | None = None,
    thumbnail_side: int = THUMBNAIL_SIDE,
) -> IngestedImage:
    """Check, decode and clean one upload; keep a JPEG's or WebP's own bytes (less metadata) when it needs
    nothing else, re-encode anything else; raise ImageRejected (400/413/415/422) with a message a shop owner
    understands. Writes nothing anywhere.

    source: bytes, a binary file object (read from its current position, at most limit + 1 bytes),
    or a path (str / PathLike, e.g. what Gradio hands over; its name is the default `filename`).
    kind: "avatar" | "product" | "logo" | "pose"; picks the size limit and whether a re-encode is lossless.
    keep_alpha: None keeps transparency only when some pixel uses it; False flattens onto white;
    True always gives RGBA (PNG).
    """
    if kind not in KIND_LABELS:
        raise ValueError(f"unknown image kind {kind!r}; expected one of {sorted(KIND_LABELS)}")
    if filename is None and isinstance(source, (str, os.PathLike)):
        filename = os.path.basename(os.fspath(source))
    limit = settings.limit_bytes(kind)
    data = read_limited(source, limit=limit, kind=kind)
    fmt = identify(data)
    name = safe_display_name(filename)

    image = open_checked(data, fmt, settings)  # header only; size limits checked here
    stored = _keepable(data, image, fmt, kind, keep_alpha)
    if stored is not None:
        try:
            return _kept(stored, fmt, image.size, kind=kind, settings=settings, keep_alpha=keep_alpha,
                         thumbnail_side=thumbnail_side, original_bytes=len(data), display_name=name)
        except ImageRejected as exc:  # damaged: the upload itself, decoded as before, has the last word
            if exc.code != "intake.damaged":
                raise
    load_checked(image, fmt)  # every pixel of the first frame decoded now
    orientation = exif_orientation(image)
    quality, subsampling = _source_quality(image, fmt)
    clean = apply_orientation(to_rgb_or_rgba(image, keep_alpha=keep_alpha), orientation)
    encoded, ext, content_type, quality = _encode_within(clean, limit, lossless=kind in LOSSLESS_KINDS,
                                                         quality=quality, subsampling=subsampling)
    thumbnail = make_thumbnail(clean, thumbnail_side)
    thumb_ext, thumb_type = output_format(clean)
    return IngestedImage(data=encoded, ext=ext, content_type=content_type, width=clean.width, height=clean.height,
                         original_format=fmt, original_bytes=len(data), thumbnail=thumbnail, thumbnail_ext=thumb_ext,
                         thumbnail_content_type=thumb_type, display_name=name, orientation=orientation,
                         mode=clean.mode, quality=quality if ext == "jpg" else None, pixels=clean)


_KEPT_TYPES = {"JPEG": ("jpg", "image/jpeg"), "WEBP": ("webp", "image/webp")}


def _keepable(data: bytes, header: Image.Image, fmt: str, kind: str, keep_alpha: bool | None) -> bytes | None:
    """The upload less its metadata when its own bytes can be stored, else None (re-encode it). A JPEG or a
    still WebP that is upright (EXIF orientation 1), in sRGB unless its kind is only ever decoded through its
    ICC profile (ICC_READ_KINDS), and that the walker can follow; a JPEG also YCbCr/RGB or grey (not CMYK) and
    Huffman-coded (what every browser decodes); a WebP only when transparency is left to the picture."""
    if fmt not in _KEPT_TYPES or keep_alpha is True or exif_orientation(header) != 1:
        return None
    if kind not in ICC_READ_KINDS and colours_need_converting(header):
        return None
    if fmt == "WEBP":
        if keep_alpha is not None or getattr(header, "n_frames", 1) != 1:
            return None
        return webp.strip_metadata(data)
    if header.mode not in ("RGB", "L"):
        return None
    layout = jpeg.strip_metadata(data)
    return layout.data if layout is not None and layout.sof in jpeg.BROWSER_SOF else None


def _kept(stored: bytes, fmt: str, size: tuple[int, int], *, kind: str, settings: Settings,
          keep_alpha: bool | None, thumbnail_side: int, original_bytes: int, display_name: str) -> IngestedImage:
    """The stored bytes are decoded here, all of them (a truncated or corrupt file fails now). A WebP, and a
    JPEG of a kind whose callers use the pixels at once, at full size; other JPEGs with libjpeg's DCT scaling
    down to the thumbnail (every coefficient is still read; a fraction of the work), the full pixels left
    for later."""
    image = open_checked(stored, fmt, settings)
    quality = estimate_quality(getattr(image, "quantization", None)) if fmt == "JPEG" else None
    now = fmt != "JPEG" or kind in PIXELS_AT_ONCE
    if not now:
        image.draft(None, (thumbnail_side, thumbnail_side))  # 1/2, 1/4 or 1/8, never below the thumbnail
    load_checked(image, fmt)
    clean = to_rgb_or_rgba(image, keep_alpha=keep_alpha)  # an ICC profile's colours, in sRGB, for the thumbnail
    thumbnail = make_thumbnail(clean, thumbnail_side)
    thumb_ext, thumb_type = output_format(clean)
    pixels = clean if now else partial(_decode, stored, fmt, settings, keep_alpha)
    ext, content_type = _KEPT_TYPES[fmt]
    return IngestedImage(data=stored, ext=ext, content_type=content_type, width=size[0], height=size[1],
                         original_format=fmt, original_bytes=original_bytes, thumbnail=thumbnail,
                         thumbnail_ext=thumb_ext, thumbnail_content_type=thumb_type, display_name=display_name,
                         mode=clean.mode, kept=True, quality=quality, pixels=pixels)


def _decode(data: bytes, fmt: str, settings: Settings, keep_alpha: bool | None) -> Image.Image:
    image = open_checked(data, fmt, settings)
    load_checked(image, fmt)
    return to_rgb_or_rgba(image, keep_alpha=keep_alpha)


def _source_quality(image: Image.Image, fmt: str) -> tuple[int, int | None]:
    """(quality, subsampling) for re-encoding: a JPEG photo's own (quality estimated from its quantisation
    tables, at most MAX_REENCODE_QUALITY), so turning it upright keeps its size; JPEG_QUALITY otherwise, 4:2:0
    for a HEIC whose colour is 4:2:0 already (a phone's: 4:4:4 would store upsampled chroma, ~40 % more)."""
    if fmt == "HEIF" and image.info.get("chroma") == 420:
        return JPEG_QUALITY, 2
    if fmt != "JPEG" or image.mode == "CMYK":
        return JPEG_QUALITY, None
    quality = estimate_quality(getattr(image, "quantization", None))
    if quality is None:
        return JPEG_QUALITY, None
    sampling = JpegImagePlugin.get_sampling(image)
    return min(MAX_REENCODE_QUALITY, quality), sampling if sampling in (0, 1, 2) else None


def _encode_within(image: Image.Image, limit: int, *, lossless: bool, quality: int, subsampling: int | None
                   ) -> tuple[bytes, str, str, int]:
    """encode_image, and a JPEG that came out over the upload limit once more a few qualities lower (never
    below LOWEST_QUALITY): what is stored is never bigger than what the upload was allowed to be."""
    encoded, ext, content_type = encode_image(image, lossless=lossless, quality=quality, subsampling=subsampling)
    while ext == "jpg" and len(encoded) > limit and quality > LOWEST_QUALITY:
        quality = max(LOWEST_QUALITY, quality - 5)
        encoded, ext, content_type = encode_image(image, lossless=lossless, quality=quality, subsampling=subsampling)
    return encoded, ext, content_type, quality


def thumbnail_from_bytes(data: bytes, *, settings: Settings, max_side: int = THUMBNAIL_SIDE, draft: bool = True) -> bytes:
    """A thumbnail straight from a file that only needs one (e.g. re-making thumbnails of stored
    images). Same identification and size limits as ingest_image; a JPEG is decoded with libjpeg's
    DCT scaling (`draft`), which still reads the whole stream but skips most of the work. This does
    not replace ingest_image for new uploads (which keeps a JPEG's bytes and uses the same DCT scaling)."""
    fmt = identify(data)
    image = open_checked(data, fmt, settings)
    if draft and fmt == "JPEG":
        image.draft("RGB", (max_side, max_side))  # scale 1/2, 1/4 or 1/8, never below max_side
    load_checked(image, fmt)
    orientation = exif_orientation(image)
    return make_thumbnail(apply_orientation(to_rgb_or_rgba(image), orientation), max_side)


def identify(data: bytes) -> str:
    """The allowed format of `data` by its content, or 415 naming what it looks like."""
    fmt = sniff_format(data[:SNIFF_BYTES])
    if fmt is None:
        what = describe(data[:4096])
        if what:
            raise ImageRejected("intake.not_a_picture_like", field="file", status=415, looks_like=what)
        raise ImageRejected("intake.not_a_picture", field="file", status=415)
    return fmt


def read_limited(source: Source, *, limit: int, kind: str) -> bytes:
    """All bytes of `source`, refusing (413) anything over `limit` without reading more than
    limit + 1 bytes; a stream whose remaining size is known is refused before any read. 400 if empty."""
    if isinstance(source, (bytes, bytearray, memoryview)):
        data = bytes(source)
        _check_size(len(data), limit, kind)
        return data
    if isinstance(source, (str, os.PathLike)):
        with open(source, "rb") as stream:
            return read_limited(stream, limit=limit, kind=kind)
    known = _remaining_size(source)
    if known is not None and known > limit:
        _check_size(known, limit, kind)
    chunks, total = [], 0
    step = _CHUNK if known is None else known + 1  # a file of known size (a spooled upload): one read, no join
    while total <= limit:
        chunk = source.read(min(step, limit + 1 - total))
        if not chunk:
            break
        chunks.append(chunk)
        total += len(chunk)
    if total > limit:
        raise ImageRejected("intake.over", field="file", status=413, limit=limit, kinds=KIND_LABELS[kind])
    data = b"".join(chunks)
    _check_size(len(data), limit, kind)
    return data


def _check_size(size: int, limit: int, kind: str) -> None:
    if size == 0:
        raise ImageRejected("intake.empty", field="file", status=400)
    if size > limit:
        # 20 MB + 1 byte would read "20 MB; ... at most 20 MB"
        code = "intake.just_over" if human_size(size) == human_size(limit) else "intake.too_large"
        raise ImageRejected(code, field="file", status=413, size=size, limit=limit, kinds=KIND_LABELS[kind])


def _remaining_size(stream: BinaryIO) -> int | None:
    """Bytes left in `stream` when that can be known without reading, else None."""
    try:
        if stream.seekable():
            here = stream.tell()
            end = stream.seek(0, io.SEEK_END)
            stream.seek(here)
            return max(0, end - here)
    except (AttributeError, OSError, ValueError):
        pass
    try:
        return max(0, os.fstat(stream.fileno()).st_size - stream.tell())
    except (AttributeError, OSError, ValueError):
        return None
