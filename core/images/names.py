"""A display name from an upload's filename. Only for showing to people: storage names are made
server-side by the caller and never come from here."""
from __future__ import annotations

import re
import unicodedata

MAX_NAME_LENGTH = 120
_DROP_CATEGORIES = {"Cc", "Cf", "Cs", "Co", "Cn", "Zl", "Zp"}  # controls, bidi/format marks, unassigned...


def safe_display_name(filename: str | bytes | None, *, default: str = "image", max_length: int = MAX_NAME_LENGTH) -> str:
    """The last path component of `filename`, NFC-normalised, without control or format characters
    (bidi overrides included), whitespace collapsed, leading dots dropped, at most `max_length`
    characters (the extension is kept when the stem is shortened). Unicode letters stay.
    Falls back to `default` when nothing is left. Escape it for HTML or headers where it is used.

    >>> safe_display_name("../../etc/Café Crème.JPG")
    'Café Crème.JPG'
    """
    if isinstance(filename, bytes):
        filename = filename.decode("utf-8", errors="replace")
    name = unicodedata.normalize("NFC", filename or "")
    name = "".join(" " if ch.isspace() else ch for ch in name if unicodedata.category(ch) not in _DROP_CATEGORIES)
    name = re.split(r"[/\\]", name)[-1]  # C:\Users\x\a.png, ../../a.png, a/b/c.png -> the file's own name
    name = re.sub(r"\s+", " ", name).strip().lstrip(".").strip()
    if not name:
        return default
    if len(name) > max_length:
        stem, dot, ext = name.rpartition(".")
        if dot and stem and 0 < len(ext) <= 8 and ext.isalnum():
            name = stem[: max_length - len(ext) - 1].rstrip() + "." + ext
        else:
            name = name[:max_length].rstrip()
    return name
