"""Brand colours as RGB, WCAG contrast, and the text colour that reads best on a given background."""
from __future__ import annotations

import colorsys
import re
from dataclasses import dataclass
from typing import Iterable, Sequence

import numpy as np
from PIL import Image

from core.errors import ValidationFailed

RGB = tuple[int, int, int]
WHITE: RGB = (255, 255, 255)
NEAR_BLACK: RGB = (17, 17, 17)
BLACK: RGB = (0, 0, 0)
MIN_CONTRAST = 4.5  # WCAG AA for normal text
_HEX = re.compile(r"^#[0-9A-Fa-f]{6}$")


def parse_hex(value: str, *, field: str = "colors") -> RGB:
    if not isinstance(value, str) or not _HEX.match(value.strip()):
        raise ValidationFailed("palette.bad_colour", field=field, colour=value)
    v = value.strip()
    return int(v[1:3], 16), int(v[3:5], 16), int(v[5:7], 16)


def to_hex(rgb: Sequence[int]) -> str:
    return "#{:02X}{:02X}{:02X}".format(*(int(c) for c in rgb[:3]))


def luminance(rgb: Sequence[float]) -> float:
    """WCAG 2 relative luminance of an sRGB colour (0..255 channels)."""
    c = np.asarray(rgb[:3], dtype=np.float64) / 255.0
    lin = np.where(c <= 0.04045, c / 12.92, ((c + 0.055) / 1.055) ** 2.4)
    return float(lin @ np.array([0.2126, 0.7152, 0.0722]))


def contrast_ratio(a: Sequence[float], b: Sequence[float]) -> float:
    la, lb = luminance(a), luminance(b)
    hi, lo = max(la, lb), min(la, lb)
    return (hi + 0.05) / (lo + 0.05)


def mix(a: Sequence[int], b: Sequence[int], t: float) -> RGB:
    """a blended toward b by t (0 = a, 1 = b)."""
    return tuple(int(round(x + (y - x) * t)) for x, y in zip(a[:3], b[:3]))  # type: ignore[return-value]


def mean_color(image: Image.Image, box: Sequence[int]) -> RGB:
    """Mean RGB of the pixels inside box (clipped to the image)."""
    x0, y0, x1, y1 = (int(v) for v in box)
    x0, y0 = max(0, x0), max(0, y0)
    x1, y1 = min(image.width, x1), min(image.height, y1)
    if x1 <= x0 or y1 <= y0:
        return WHITE
    arr = np.asarray(image.crop((x0, y0, x1, y1)).convert("RGB"), dtype=np.float64)
    return tuple(int(round(v)) for v in arr.reshape(-1, 3).mean(axis=0))  # type: ignore[return-value]


def pick_text_color(background: Sequence[int], brand: Iterable[RGB], *, prefer_brand: bool = False) -> RGB:
    """The most readable of the brand colours, white and near-black on `background`.

    prefer_brand: a brand colour wins whenever it reaches MIN_CONTRAST (keeps headings on-brand).
    If nothing reaches MIN_CONTRAST (a mid-grey background), pure black is the last resort; one of
    white / black always reaches 4.58 on a flat colour.
    """
    brand = [tuple(c) for c in brand]
    if prefer_brand:
        ok = [(contrast_ratio(c, background), c) for c in brand if contrast_ratio(c, background) >= MIN_CONTRAST]
        if ok:
            return max(ok)[1]  # type: ignore[return-value]
    best = max([*brand, WHITE, NEAR_BLACK], key=lambda c: contrast_ratio(c, background))
    if contrast_ratio(best, background) < MIN_CONTRAST:
        best = max((WHITE, BLACK), key=lambda c: contrast_ratio(c, background))
    return best  # type: ignore[return-value]


def _partner(rgb: RGB) -> RGB:
    """A colour of the same hue that stands apart: deep for a light colour, pale for a dark one."""
    h, lightness, s = colorsys.rgb_to_hls(*(c / 255 for c in rgb))
    lightness = 0.3 if luminance(rgb) > 0.3 else 0.78
    s = max(s, 0.45) if s > 0.05 else s
    return tuple(int(round(c * 255)) for c in colorsys.hls_to_rgb(h, lightness, s))  # type: ignore[return-value]


@dataclass(frozen=True)
class Palette:
    """The roles a layout paints with, derived from the brand's colour list."""

    colors: tuple[RGB, ...]
    primary: RGB
    accent: RGB  # second brand colour, or a shade of the primary that stands apart from it
    light: RGB  # a pale background in the brand's hue

    @classmethod
    def from_hex(cls, colors: Sequence[str]) -> "Palette":
        if not colors:
            raise ValidationFailed("palette.no_colours", field="colors")
        rgb = tuple(parse_hex(c) for c in colors)
        primary = rgb[0]
        others = [c for c in rgb[1:] if contrast_ratio(c, primary) >= 1.6]
        accent = others[0] if others else _partner(primary)
        pale = [c for c in rgb if luminance(c) >= 0.8]
        light = pale[0] if pale else mix(primary, WHITE, 0.88)
        return cls(colors=rgb, primary=primary, accent=accent, light=light)
