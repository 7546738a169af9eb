"""Identify an upload by its first bytes, never by its name or Content-Type.

`sniff_format` answers one of ALLOWED_FORMATS (Pillow's format names) or None; `describe` puts a
name on what a refused file looks like, for the message a shop owner reads.
"""
from __future__ import annotations

import codecs

# Pillow format name -> what a person calls it.
ALLOWED_FORMATS: dict[str, str] = {"JPEG": "JPEG", "PNG": "PNG", "WEBP": "WebP", "GIF": "GIF", "HEIF": "HEIC",
                                   "AVIF": "AVIF"}
SNIFF_BYTES = 64   # enough for an ISO-BMFF ftyp box with its compatible brands

_PNG = b"\x89PNG\r\n\x1a\n"
# ISO-BMFF (HEIF family) brands: iPhone photos are "heic"; AVIF is the AV1 flavour of the same container.
_HEIF_BRANDS = {b"heic", b"heix", b"hevc", b"hevx", b"heim", b"heis", b"mif1", b"msf1"}
_AVIF_BRANDS = {b"avif", b"avis"}


def ftyp_brands(head: bytes) -> list[bytes]:
    """The major brand, then the compatible brands, of an ISO-BMFF file's ftyp box ([] if there is none)."""
    if len(head) < 12 or head[4:8] != b"ftyp":
        return []
    size = min(int.from_bytes(head[:4], "big"), len(head))
    brands = [head[8:12]] + [head[i:i + 4] for i in range(16, size - 3, 4)]
    return [b for b in brands if len(b) == 4]


def sniff_format(head: bytes) -> str | None:
    """The allowed image format these bytes start with, or None."""
    if head.startswith(b"\xff\xd8\xff"):
        return "JPEG"
    if head.startswith(_PNG):
        return "PNG"
    if len(head) >= 12 and head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return "WEBP"
    if head[:6] in (b"GIF87a", b"GIF89a"):
        return "GIF"
    brands = ftyp_brands(head)
    if brands:   # an AVIF often names mif1 first: any AV1 brand makes it AVIF, any HEVC/HEIF one HEIC
        if _AVIF_BRANDS & set(brands):
            return "AVIF"
        if _HEIF_BRANDS & set(brands):
            return "HEIF"
    return None


# (prefix, offset, description) for well-known files we refuse.
_SIGNATURES: tuple[tuple[bytes, int, str], ...] = (
    (b"%PDF-", 0, "a PDF document"),
    (b"II*\x00", 0, "a TIFF image"),
    (b"MM\x00*", 0, "a TIFF image"),
    (b"BM", 0, "a BMP image"),
    (b"8BPS", 0, "a Photoshop file"),
    (b"\x00\x00\x01\x00", 0, "an icon file"),
    (b"PK\x03\x04", 0, "a ZIP archive or Office document"),
    (b"\x1f\x8b", 0, "a compressed (gzip) file"),
    (b"Rar!", 0, "a RAR archive"),
    (b"7z\xbc\xaf\x27\x1c", 0, "a 7-Zip archive"),
    (b"\xd0\xcf\x11\xe0", 0, "an old Office document"),
    (b"\xff\xfb", 0, "an MP3 audio file"),
    (b"ID3", 0, "an MP3 audio file"),
    (b"OggS", 0, "an audio or video file"),
    (b"\x1a\x45\xdf\xa3", 0, "a video file"),
    (b"\x00\x00\x00\x0cjP  ", 0, "a JPEG 2000 image"),
    (b"\xff\x4f\xff\x51", 0, "a JPEG 2000 image"),
    (b"\xff\x0a", 0, "a JPEG XL image"),
    (b"\x00\x00\x00\x0cJXL ", 0, "a JPEG XL image"),
    (b"MZ", 0, "a program"),
    (b"\x7fELF", 0, "a program"),
)

_FTYP_BRANDS = {
    b"heic": "a HEIC photo",
    b"heix": "a HEIC photo",
    b"hevc": "a HEIC photo",
    b"heim": "a HEIC photo",
    b"heis": "a HEIC photo",
    b"mif1": "a HEIF photo",
    b"msf1": "a HEIF photo",
    b"avif": "an AVIF image",
    b"avis": "an AVIF image",
    b"crx ": "a camera RAW photo",
    b"qt  ": "a video file",
    b"isom": "a video file",
    b"mp41": "a video file",
    b"mp42": "a video file",
    b"M4A ": "an audio file",
}


def describe(head: bytes) -> str | None:
    """What a refused file looks like ("a PDF document", "an SVG drawing"), or None if we can't tell."""
    for prefix, offset, what in _SIGNATURES:
        if head[offset : offset + len(prefix)] == prefix:
            return what
    if head[4:8] == b"ftyp":
        return _FTYP_BRANDS.get(head[8:12], "a video or HEIF file")
    if head[:4] == b"RIFF":
        return {b"WAVE": "an audio file", b"AVI ": "a video file"}.get(head[8:12], "a RIFF file")
    text = _as_text(head)
    if text is None:
        return None
    lowered = text.lstrip().lower()
    if "<svg" in lowered:
        return "an SVG drawing"
    if lowered.startswith(("<!doctype html", "<html", "<head", "<body")) or "<html" in lowered:
        return "an HTML web page"
    if lowered.startswith("<?xml"):
        return "an XML document"
    if lowered.startswith(("{", "[")):
        return "a data (JSON) file"
    return "a text file"


def _as_text(head: bytes) -> str | None:
    """The start of the file as text when it reads as UTF-8 (or UTF-16 with a BOM) and is printable."""
    sample = head[:4096]
    if sample.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        encoding, sample = "utf-16", sample[: len(sample) // 2 * 2]
    else:
        encoding = "utf-8-sig"
    try:
        text = codecs.getincrementaldecoder(encoding)().decode(sample, final=False)
    except UnicodeDecodeError:
        return None
    if not text:
        return None
    printable = sum(ch.isprintable() or ch in "\r\n\t" for ch in text)
    return text if printable / len(text) > 0.95 else None
