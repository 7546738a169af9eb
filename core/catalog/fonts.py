"""The shipped font families: a registry read from assets/fonts/, plus a live preview renderer.

Each family is one folder, named exactly as users see the family ("Open Sans"):

    assets/fonts/<Family>/<Stem>-Regular.ttf|otf   required
    assets/fonts/<Family>/<Stem>-Bold.ttf|otf      optional (bold falls back to Regular)
    assets/fonts/<Family>/LICENSE.txt              the licence text with the copyright lines
    assets/fonts/<Family>/font.json                {"category", "license" (SPDX id), "license_file", "source"}

Adding a family is adding a folder; there is no list in code that could drift from the files.
Brand kits validate their `fonts` with is_known_family(); posters and previews load files via
font_file() / load_font(). Pure Pillow: no torch, no gradio.
"""
from __future__ import annotations

import json
import re
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from urllib.parse import quote

from PIL import Image, ImageDraw, ImageFont

from core.errors import ValidationFailed
from core.settings import ASSETS_DIR

FONTS_DIR = ASSETS_DIR / "fonts"
FONT_SUFFIXES = (".ttf", ".otf")

PREVIEW_MAX_TEXT = 300
PREVIEW_SIZE_RANGE = (8, 200)
PREVIEW_WIDTH_RANGE = (100, 2000)
_HEX_COLOR = re.compile(r"^#[0-9A-Fa-f]{6}$")


@dataclass(frozen=True)
class FontFamily:
    name: str  # as shown to users, case-sensitive: "Open Sans"
    regular: Path
    bold: Path | None  # None: single-weight family, bold requests get the Regular file
    category: str  # "geometric sans", "serif", "script", ...
    license: str  # SPDX id: "OFL-1.1", "Apache-2.0"
    license_file: Path | None
    source: str  # where the files came from

    @property
    def has_bold(self) -> bool:
        return self.bold is not None

    def to_dict(self) -> dict:
        return {
            "name": self.name,
            "category": self.category,
            "license": self.license,
            "hasBold": self.has_bold,
            "source": self.source,
        }


def _weight_file(folder: Path, weight: str) -> Path | None:
    hits = sorted(p for p in folder.iterdir() if p.suffix.lower() in FONT_SUFFIXES and p.stem.endswith(f"-{weight}"))
    return hits[0] if hits else None


def _read_family(folder: Path) -> FontFamily | None:
    regular = _weight_file(folder, "Regular")
    if regular is None:
        return None
    meta_path = folder / "font.json"
    meta = json.loads(meta_path.read_text(encoding="utf-8")) if meta_path.is_file() else {}
    license_file = folder / meta.get("license_file", "LICENSE.txt")
    return FontFamily(
        name=folder.name,
        regular=regular,
        bold=_weight_file(folder, "Bold"),
        category=meta.get("category", "other"),
        license=meta.get("license", "unknown"),
        license_file=license_file if license_file.is_file() else None,
        source=meta.get("source", ""),
    )


class FontRegistry:
    """The families found under one folder (read once; the folder is shipped data)."""

    def __init__(self, root: Path):
        self.root = Path(root)
        folders = sorted(p for p in self.root.iterdir() if p.is_dir()) if self.root.is_dir() else []
        found = (_read_family(p) for p in folders)
        self._families = {f.name: f for f in found if f is not None}

    def names(self) -> list[str]:
        return sorted(self._families, key=str.casefold)

    def __contains__(self, name: object) -> bool:
        return isinstance(name, str) and name in self._families

    def get(self, name: str, *, field: str = "fonts") -> FontFamily:
        family = self._families.get(name) if isinstance(name, str) else None
        if family is None:
            if not self._families:
                raise ValidationFailed("fonts.unknown_family_none", field=field, family=name)
            raise ValidationFailed("fonts.unknown_family", field=field, family=name, families=self.names())
        return family


@lru_cache(maxsize=4)
def _registry(root: Path) -> FontRegistry:
    return FontRegistry(root)


def registry() -> FontRegistry:
    """The registry of the shipped fonts in assets/fonts/."""
    return _registry(FONTS_DIR)


def list_font_families() -> list[str]:
    """Names of the shipped families, sorted case-insensitively."""
    return registry().names()


def is_known_family(name: str) -> bool:
    """True only for an exact (case-sensitive) shipped family name."""
    return name in registry()


def font_info(family: str, *, field: str = "fonts") -> FontFamily:
    """Files, category and licence of one family; ValidationFailed (on `field`) if it is not shipped."""
    return registry().get(family, field=field)


def font_families() -> list[FontFamily]:
    reg = registry()
    return [reg.get(n) for n in reg.names()]


def font_file(family: str, bold: bool = False) -> Path:
    """Path of the Regular (or Bold) file; bold falls back to Regular for single-weight families."""
    info = font_info(family)
    return (info.bold or info.regular) if bold else info.regular


def font_face_css(url_prefix: str) -> str:
    """@font-face rules for every shipped family, so browsers show the real fonts in the UI.

    url_prefix is where the web app serves FONTS_DIR (e.g. "/assets/fonts"); the fonts are public,
    open-licensed files, so a plain static route is fine.
    """
    rules = []
    for info in font_families():
        for weight, path in ((400, info.regular), (700, info.bold or info.regular)):
            url = f"{url_prefix.rstrip('/')}/{quote(info.name)}/{quote(path.name)}"
            fmt = "opentype" if path.suffix.lower() == ".otf" else "truetype"
            rules.append(
                f"@font-face {{ font-family: '{info.name}'; font-weight: {weight}; font-style: normal; "
                f"font-display: swap; src: url('{url}') format('{fmt}'); }}"
            )
    return "\n".join(rules)


@lru_cache(maxsize=64)
def _load(path: str, size: int) -> ImageFont.FreeTypeFont:
    return ImageFont.truetype(path, size)


def load_font(family: str, size: int, *, bold: bool = False) -> ImageFont.FreeTypeFont:
    """A Pillow font object for a shipped family (cached per file and size)."""
    return _load(str(font_file(family, bold)), int(size))


def _check_color(value: str, field: str) -> str:
    if not isinstance(value, str) or not _HEX_COLOR.match(value):
        raise ValidationFailed("fonts.color_invalid", field=field, option=field, value=value)
    return value


def _check_range(value: int, bounds: tuple[int, int], field: str) -> int:
    lo, hi = bounds
    if isinstance(value, bool) or not isinstance(value, int) or not lo <= value <= hi:
        raise ValidationFailed("fonts.number_out_of_range", field=field, option=field, least=lo, most=hi,
                               value=value)
    return value


def wrap_text(text: str, font: ImageFont.FreeTypeFont, max_width: int) -> list[str]:
    """Greedy word wrap to max_width pixels; keeps explicit line breaks; splits words that never fit."""
    lines: list[str] = []
    for paragraph in text.splitlines() or [""]:
        line = ""
        for word in paragraph.split():
            candidate = f"{line} {word}" if line else word
            if font.getlength(candidate) <= max_width:
                line = candidate
                continue
            if line:
                lines.append(line)
            line = ""
            while font.getlength(word) > max_width and len(word) > 1:
                cut = len(word) - 1
                while cut > 1 and font.getlength(word[:cut]) > max_width:
                    cut -= 1
                lines.append(word[:cut])
                word = word[cut:]
            line = word
        lines.append(line)
    return lines


def render_font_preview(
    family: str,
    text: str,
    *,
    color: str = "#111111",
    background: str = "#FFFFFF",
    size: int = 48,
    width: int = 640,
    bold: bool = False,
) -> Image.Image:
    """An RGB image of `text` set in `family`, wrapped to `width` px; its height fits the text.

    Empty text previews the family's own name. Raises ValidationFailed (with the field name) for an
    unknown family, a colour that is not #RRGGBB, text over PREVIEW_MAX_TEXT characters, or a size
    or width outside PREVIEW_SIZE_RANGE / PREVIEW_WIDTH_RANGE.
    """
    info = font_info(family, field="family")
    _check_color(color, "color")
    _check_color(background, "background")
    _check_range(size, PREVIEW_SIZE_RANGE, "size")
    _check_range(width, PREVIEW_WIDTH_RANGE, "width")
    text = (text or "").strip() or info.name
    if len(text) > PREVIEW_MAX_TEXT:
        raise ValidationFailed("fonts.text_too_long", field="text", most=PREVIEW_MAX_TEXT)

    font = load_font(family, size, bold=bold)
    pad = max(8, size // 3)
    lines = wrap_text(text, font, width - 2 * pad)
    ascent, descent = font.getmetrics()
    line_height = ascent + descent + size // 6
    height = 2 * pad + line_height * len(lines)

    image = Image.new("RGB", (width, height), background)
    draw = ImageDraw.Draw(image)
    for i, line in enumerate(lines):
        draw.text((pad, pad + i * line_height), line, font=font, fill=color, anchor="la")
    return image
