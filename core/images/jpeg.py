"""JPEG without re-encoding: its metadata segments removed losslessly, and the quality it was saved at.

    layout = strip_metadata(data)          # None: not a file this walker can vouch for (re-encode it instead)
    layout.data                            # the same file without EXIF/XMP/IPTC/comments, image data untouched
    estimate_quality(image.quantization)   # 1..100, the IJG quality whose tables match the file's best

A JPEG is a list of segments (marker, length, payload) and, after each start-of-scan, entropy-coded data
that runs to the next marker that is not a stuffed 0xFF00, a restart marker or a fill byte. The walker
copies every segment and all entropy-coded data byte for byte, except:
- APP1 (EXIF with GPS, XMP), APP3..APP13 (IPTC/Photoshop, Ducky, ...), APP15, COM: dropped;
- APP2 is kept only when it is an ICC profile ("ICC_PROFILE"): MPF (multi-picture index) and FlashPix go;
- APP0 JFIF is kept without its thumbnail (the header fields only), other APP0 (JFXX thumbnails) go;
- APP14 "Adobe" is kept: it says whether the components are YCbCr, RGB or YCCK (colours depend on it);
- anything after the end-of-image marker (a second MPO picture, a phone's motion-photo video, a polyglot
  tail) is dropped.
A file the walker cannot follow (no end-of-image, a segment longer than the file, bytes where a marker should
be) answers None: the caller decodes and re-encodes it as before, and Pillow decides whether it is damaged.
"""
from __future__ import annotations

import re
from dataclasses import dataclass

_KEEP = {0xE0: b"JFIF\x00", 0xE2: b"ICC_PROFILE\x00", 0xEE: b"Adobe"}   # APPn kept when the payload starts so
_STANDALONE = {0x01, *range(0xD0, 0xD8)}                              # TEM, RST0..7: no length field
_SCAN_END = re.compile(rb"\xff[^\x00\xd0-\xd7\xff]")                  # the marker ending entropy-coded data
_SOF = {*range(0xC0, 0xC4), *range(0xC5, 0xC8), *range(0xC9, 0xCC), *range(0xCD, 0xD0)}
BROWSER_SOF = (0xC0, 0xC1, 0xC2)   # baseline, extended and progressive Huffman: what every viewer decodes


@dataclass(frozen=True)
class JpegLayout:
    data: bytes      # the file without its metadata segments (the input object itself when nothing went)
    sof: int         # the start-of-frame marker (0xC0 baseline, 0xC2 progressive, ...)
    removed: int     # bytes removed


def strip_metadata(data: bytes) -> JpegLayout | None:
    """`data` without its metadata segments and trailing bytes (module doc), or None if it can't be walked."""
    if data[:2] != b"\xff\xd8":
        return None
    pieces: list[bytes | tuple[int, int]] = [(0, 2)]
    pos, size, sof = 2, len(data), None
    while True:
        if pos + 1 >= size or data[pos] != 0xFF:
            return None
        while data[pos + 1] == 0xFF:   # fill bytes before a marker
            pos += 1
            if pos + 1 >= size:
                return None
        marker = data[pos + 1]
        if marker == 0xD9:
            pieces.append((pos, pos + 2))
            break
        if marker in _STANDALONE:
            pieces.append((pos, pos + 2))
            pos += 2
            continue
        if marker in (0x00, 0xD8) or pos + 4 > size:
            return None
        end = pos + 2 + int.from_bytes(data[pos + 2:pos + 4], "big")
        if end < pos + 4 or end > size:
            return None
        if 0xE0 <= marker <= 0xEF or marker == 0xFE:
            sign = _KEEP.get(marker)
            if sign is not None and data.startswith(sign, pos + 4, end):
                pieces.append(_jfif_header(data, pos, end) if marker == 0xE0 else (pos, end))
        else:
            if marker in _SOF and sof is None:
                sof = marker
            pieces.append((pos, end))
        pos = end
        if marker == 0xDA:   # start of scan: entropy-coded data up to the next real marker
            found = _SCAN_END.search(data, pos)
            if found is None:
                return None
            pieces.append((pos, found.start()))
            pos = found.start()
    if sof is None:
        return None
    if len(pieces) and all(isinstance(p, tuple) for p in pieces) and _contiguous(pieces, size):
        return JpegLayout(data, sof, 0)   # nothing to remove: the very bytes, no copy
    out = b"".join(p if isinstance(p, bytes) else data[p[0]:p[1]] for p in _merged(pieces))
    return JpegLayout(out, sof, size - len(out))


def _jfif_header(data: bytes, pos: int, end: int) -> bytes | tuple[int, int]:
    """The JFIF APP0 segment without its thumbnail: version, units and density only (16 bytes)."""
    if end - pos < 18:
        return (pos, end)   # shorter than a JFIF header: keep it as it is (it holds no thumbnail)
    header = data[pos + 4:pos + 16]   # "JFIF\0", version (2), units (1), X/Y density (2 + 2)
    if end - pos == 18 and data[pos + 16:pos + 18] == b"\x00\x00":
        return (pos, end)
    return b"\xff\xe0\x00\x10" + header + b"\x00\x00"


def _contiguous(pieces, size: int) -> bool:
    at = 0
    for start, stop in pieces:
        if start != at:
            return False
        at = stop
    return at == size


def _merged(pieces):
    """Adjacent byte ranges joined, so the output is built from a few large slices."""
    run = None
    for piece in pieces:
        if isinstance(piece, tuple) and run is not None and run[1] == piece[0]:
            run = (run[0], piece[1])
            continue
        if run is not None:
            yield run
            run = None
        if isinstance(piece, tuple):
            run = piece
        else:
            yield piece
    if run is not None:
        yield run


# The example tables of the JPEG standard (Annex K), natural order: what libjpeg scales by quality.
_LUMA = (16, 11, 10, 16, 24, 40, 51, 61, 12, 12, 14, 19, 26, 58, 60, 55, 14, 13, 16, 24, 40, 57, 69, 56,
         14, 17, 22, 29, 51, 87, 80, 62, 18, 22, 37, 56, 68, 109, 103, 77, 24, 35, 55, 64, 81, 104, 113, 92,
         49, 64, 78, 87, 103, 121, 120, 101, 72, 92, 95, 98, 112, 100, 103, 99)
_CHROMA = (17, 18, 24, 47, 99, 99, 99, 99, 18, 21, 26, 66, 99, 99, 99, 99, 24, 26, 56, 99, 99, 99, 99, 99,
           47, 66, 99, 99, 99, 99, 99, 99) + (99,) * 32


def _scaled(table: tuple[int, ...], quality: int) -> list[int]:
    scale = 5000 // quality if quality < 50 else 200 - 2 * quality
    return [min(255, max(1, (v * scale + 50) // 100)) for v in table]


_SCALED = {q: (_scaled(_LUMA, q), _scaled(_CHROMA, q)) for q in range(1, 101)}


def estimate_quality(quantization: dict | None) -> int | None:
    """The IJG quality (1..100) whose scaled standard tables are nearest the file's (`image.quantization`,
    natural order, as Pillow gives it); None without tables. Exact for files libjpeg wrote at a quality;
    the nearest such quality for a camera's own tables."""
    if not quantization:
        return None
    tables = [list(t) for _, t in sorted(quantization.items())]
    if any(len(t) != 64 for t in tables[:2]):
        return None
    best, best_error = None, None
    for quality, (luma, chroma) in _SCALED.items():
        error = sum(abs(a - b) for a, b in zip(tables[0], luma))
        if len(tables) > 1:
            error += sum(abs(a - b) for a, b in zip(tables[1], chroma))
        if best_error is None or error <= best_error:   # ties: the higher quality
            best, best_error = quality, error
    return best
