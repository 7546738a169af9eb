"""WebP without re-encoding: its metadata chunks removed losslessly.

    data = strip_metadata(webp_bytes)   # None: not a still WebP this walker can vouch for (re-encode it)

A WebP is a RIFF file: "RIFF", size, "WEBP", then chunks (four-character code, little-endian size, payload,
a pad byte when the size is odd). A still picture is "VP8 " (lossy) or "VP8L" (lossless), or "VP8X" (the
extended header: flags and canvas size) followed by ICCP, ALPH and the picture. Kept byte for byte: VP8X
(its EXIF and XMP flags cleared), ICCP, ALPH, VP8 and VP8L. Dropped: EXIF (GPS), "XMP ", and any chunk
this walker does not know (it could hold anything). An animation (ANIM/ANMF), a chunk running past the end,
a size that disagrees with the RIFF header, or no picture at all answers None.
"""
from __future__ import annotations

_KEEP = {b"VP8X", b"ICCP", b"ALPH", b"VP8 ", b"VP8L"}
_PICTURE = {b"VP8 ", b"VP8L"}
_ANIMATION = {b"ANIM", b"ANMF"}
_EXIF_XMP_FLAGS = 0x08 | 0x04   # VP8X flags: bit 3 EXIF, bit 2 XMP


def strip_metadata(data: bytes) -> bytes | None:
    """The still WebP `data` without EXIF, XMP and unknown chunks (module doc), or None."""
    if len(data) < 20 or data[:4] != b"RIFF" or data[8:12] != b"WEBP":
        return None
    end = 8 + int.from_bytes(data[4:8], "little")
    if end > len(data) or end < 20:
        return None
    kept: list[bytes] = []
    pos, pictures, dropped = 12, 0, end != len(data)   # bytes after the RIFF end are dropped too
    while pos < end:
        if pos + 8 > end:
            return None
        fourcc, size = data[pos:pos + 4], int.from_bytes(data[pos + 4:pos + 8], "little")
        stop = pos + 8 + size + (size & 1)
        if stop > end + (size & 1):   # a missing final pad byte is tolerated, a short payload is not
            return None
        chunk = data[pos:min(stop, end)]
        if fourcc in _ANIMATION:
            return None
        if fourcc == b"VP8X":
            if size < 10:
                return None
            flags = chunk[8]
            if flags & _EXIF_XMP_FLAGS:
                chunk = chunk[:8] + bytes([flags & ~_EXIF_XMP_FLAGS & 0xFF]) + chunk[9:]
                dropped = True
        if fourcc in _KEEP:
            pictures += fourcc in _PICTURE
            kept.append(chunk)
        else:
            dropped = True
        pos = stop
    if pictures != 1:
        return None
    if not dropped:
        return data
    body = b"".join(kept)
    return b"RIFF" + (4 + len(body)).to_bytes(4, "little") + b"WEBP" + body
