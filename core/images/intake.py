"""`ingest_image`: the one door every uploaded image comes through (avatars, products, logos, ...)."""
from __future__ import annotations

import io
import os
from dataclasses import dataclass, field
from typing import BinaryIO, Union

from PIL import Image

from core.errors import ImageRejected
from core.messages import human_size
from core.settings import Settings

from .decode import apply_orientation, exif_orientation, load_checked, open_checked, to_rgb_or_rgba
from .encode import LOSSLESS_KINDS, THUMBNAIL_SIDE, encode_image, make_thumbnail, output_format
from .names import safe_display_name
from .sniff import SNIFF_BYTES, describe, sniff_format

Source = Union[BinaryIO, bytes, bytearray, memoryview, str, os.PathLike]

KIND_LABELS = {"avatar": "avatars", "product": "products", "logo": "logos", "pose": "pose files"}
_CHUNK = 1024 * 1024


@dataclass(frozen=True, eq=False)
class IngestedImage:
    """A checked, decoded and cleaned upload. Nothing is on disk yet: the caller stores `data` and
    `thumbnail` under names it generates itself (never from `display_name`)."""

    image: Image.Image  # RGB or RGBA, upright, sRGB, no metadata
    data: bytes = field(repr=False)  # the re-encoded file: PNG (alpha, or a lossless kind) else JPEG q92 4:4:4
    ext: str  # "png" | "jpg"
    content_type: str  # "image/png" | "image/jpeg"
    width: int
    height: int
    original_format: str  # what the content was: "JPEG" | "PNG" | "WEBP" | "GIF"
    original_bytes: int  # size of the upload
    thumbnail: bytes = field(repr=False)  # longest side THUMBNAIL_SIDE (or as asked), never upscaled
    thumbnail_ext: str
    thumbnail_content_type: str
    display_name: str  # from the upload's filename, safe to show (still escape it for HTML)
    orientation: int = field(default=1)  # the EXIF orientation that was applied (1 = none)

    @property
    def has_alpha(self) -> bool:
        return self.image.mode == "RGBA"


def ingest_image(
    source: Source,
    *,
    kind: str,
    settings: Settings,
    filename: str | None = None,
    keep_alpha: bool | None = None,
    thumbnail_side: int = THUMBNAIL_SIDE,
) -> IngestedImage:
    """Check, decode, clean and re-encode one upload; raise ImageRejected (400/413/415/422) with a
    message a shop owner understands. Writes nothing anywhere.

    source: bytes, a binary file object (read from its current position, at most limit + 1 bytes),
    or a path (str / PathLike, e.g. what Gradio hands over; its name is the default `filename`).
    kind: "avatar" | "product" | "logo"; picks the size limit and whether output is lossless.
    keep_alpha: None keeps transparency only when some pixel uses it; False flattens onto white;
    True always gives RGBA (PNG).
    """
    if kind not in KIND_LABELS:
        raise ValueError(f"unknown image kind {kind!r}; expected one of {sorted(KIND_LABELS)}")
    if filename is None and isinstance(source, (str, os.PathLike)):
        filename = os.path.basename(os.fspath(source))
    data = read_limited(source, limit=settings.limit_bytes(kind), kind=kind)
    fmt = identify(data)

    image = open_checked(data, fmt, settings)  # header only; size limits checked here
    load_checked(image, fmt)  # every pixel of the first frame decoded now
    orientation = exif_orientation(image)
    clean = apply_orientation(to_rgb_or_rgba(image, keep_alpha=keep_alpha), orientation)

    encoded, ext, content_type = encode_image(clean, lossless=kind in LOSSLESS_KINDS)
    thumbnail = make_thumbnail(clean, thumbnail_side)
    thumb_ext, thumb_type = output_format(clean)
    return IngestedImage(
        image=clean,
        data=encoded,
        ext=ext,
        content_type=content_type,
        width=clean.width,
        height=clean.height,
        original_format=fmt,
        original_bytes=len(data),
        thumbnail=thumbnail,
        thumbnail_ext=thumb_ext,
        thumbnail_content_type=thumb_type,
        display_name=safe_display_name(filename),
        orientation=orientation,
    )


def thumbnail_from_bytes(data: bytes, *, settings: Settings, max_side: int = THUMBNAIL_SIDE, draft: bool = True) -> bytes:
    """A thumbnail straight from a file that only needs one (e.g. re-making thumbnails of stored
    images). Same identification and size limits as ingest_image; a JPEG is decoded with libjpeg's
    DCT scaling (`draft`), which still reads the whole stream but skips most of the work. This does
    not replace ingest_image for new uploads, which must decode at full size anyway to re-encode."""
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
    while total <= limit:
        chunk = source.read(min(_CHUNK, limit + 1 - total))
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
