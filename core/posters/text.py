"""Fit text into a box: wrap at word boundaries, shrink step by step, ellipsise as the last resort.

Measurements use each line's ink box (Pillow's getbbox at the baseline), so what is drawn stays
inside the box it was fitted to: no line is cut, no glyph crosses the edge.
"""
from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

from PIL import ImageDraw, ImageFont

from core.catalog.fonts import load_font

SHRINK = 0.92  # each step is 8% smaller
SPACING = 1.14  # baseline-to-baseline, times the font size


@lru_cache(maxsize=32)
def _ellipsis_for(path: str, size: int) -> str:
    """"…" when the font has the glyph (its mask differs from a surely-missing code point), else "..."."""
    font = ImageFont.truetype(path, size)
    missing = font.getmask("\U000E01EF")
    real = font.getmask("\u2026")
    return "\u2026" if (real.size != missing.size or bytes(real) != bytes(missing)) else "..."


def ellipsis(font: ImageFont.FreeTypeFont) -> str:
    return _ellipsis_for(font.path, int(font.size))


def ink(font: ImageFont.FreeTypeFont, line: str) -> tuple[int, int, int, int]:
    """(left, top, right, bottom) of the line's ink relative to its baseline origin."""
    return font.getbbox(line, anchor="ls")


def ink_width(font: ImageFont.FreeTypeFont, line: str) -> int:
    left, _, right, _ = ink(font, line)
    return right - left


def wrap_words(text: str, font: ImageFont.FreeTypeFont, width: int) -> list[str] | None:
    """Greedy wrap at spaces (explicit newlines kept); None if a single word is wider than width."""
    lines: list[str] = []
    for paragraph in text.splitlines():
        line = ""
        for word in paragraph.split():
            candidate = f"{line} {word}" if line else word
            if ink_width(font, candidate) <= width:
                line = candidate
            elif ink_width(font, word) > width:
                return None
            else:
                lines.append(line)
                line = word
        if line:
            lines.append(line)
    return lines


def _greedy(text: str, font: ImageFont.FreeTypeFont, width: int) -> list[str]:
    """Like wrap_words but a too-wide word gets its own line (it is cut with an ellipsis later)."""
    lines: list[str] = []
    for paragraph in text.splitlines():
        line = ""
        for word in paragraph.split():
            candidate = f"{line} {word}" if line else word
            if line and ink_width(font, candidate) > width:
                lines.append(line)
                line = word
            else:
                line = candidate
        if line:
            lines.append(line)
    return lines


def shorten(line: str, font: ImageFont.FreeTypeFont, width: int, *, force: bool = False) -> str:
    """line + ellipsis within width: whole words dropped from the end first; characters of a single
    word only when nothing else fits. force adds the ellipsis even if the line already fits."""
    mark = ellipsis(font)
    if not force and ink_width(font, line) <= width:
        return line
    words = line.split()
    while len(words) > 1:
        candidate = " ".join(words).rstrip(",.;:-") + mark
        if ink_width(font, candidate) <= width:
            return candidate
        words.pop()
    word = words[0] if words else ""
    while word:
        candidate = word + mark
        if ink_width(font, candidate) <= width:
            return candidate
        word = word[:-1]
    return mark if ink_width(font, mark) <= width else ""


@dataclass(frozen=True)
class Fitted:
    lines: tuple[str, ...]
    font: ImageFont.FreeTypeFont
    size: int
    pitch: int  # baseline to baseline
    ascent: int  # ink above the first baseline
    descent: int  # ink below the last baseline
    width: int  # widest line's ink
    complete: bool  # False when shortened with an ellipsis

    @property
    def height(self) -> int:
        return (len(self.lines) - 1) * self.pitch + self.ascent + self.descent


def _measure(lines: list[str], font: ImageFont.FreeTypeFont, size: int, complete: bool) -> Fitted:
    boxes = [ink(font, line) for line in lines]
    return Fitted(
        lines=tuple(lines), font=font, size=size, pitch=round(size * SPACING),
        ascent=max(0, -min(b[1] for b in boxes)), descent=max(0, max(b[3] for b in boxes)),
        width=max(b[2] - b[0] for b in boxes), complete=complete,
    )


def fit_text(text: str, family: str, *, width: int, height: int, max_size: int, min_size: int,
             bold: bool = False, max_lines: int | None = None) -> Fitted | None:
    """The largest size in [min_size, max_size] at which text wraps into width x height (and at most
    max_lines lines); at min_size, the lines that fit with the last one ellipsised. None when not
    even one shortened line fits (the caller leaves the text out)."""
    text = " ".join(text.split()) if "\n" not in text else text.strip()
    if not text or width <= 0 or height <= 0:
        return None
    min_size = max(1, min(min_size, max_size))
    size = max_size
    while True:
        font = load_font(family, size, bold=bold)
        lines = wrap_words(text, font, width)
        if lines and (max_lines is None or len(lines) <= max_lines):
            fitted = _measure(lines, font, size, True)
            if fitted.height <= height and fitted.width <= width:
                return fitted
        if size <= min_size:
            break
        size = max(min_size, min(size - 1, int(size * SHRINK)))
    font = load_font(family, min_size, bold=bold)
    lines = _greedy(text, font, width)
    keep = len(lines) if max_lines is None else min(len(lines), max_lines)
    while keep > 0:
        cut = lines[:keep]
        shortened = keep < len(lines)
        cut[-1] = shorten(cut[-1], font, width, force=shortened)
        cut = [shorten(line, font, width) for line in cut[:-1]] + [cut[-1]]
        if all(cut):
            fitted = _measure(cut, font, min_size, not shortened and cut == lines[:keep])
            if fitted.height <= height and fitted.width <= width:
                return fitted
        keep -= 1
    return None


def draw_fitted(draw: ImageDraw.ImageDraw, fitted: Fitted, box: tuple[int, int, int, int], *, fill,
                align: str = "left", valign: str = "top") -> list[tuple[int, int, int, int]]:
    """Draw the lines inside box; returns each line's ink bbox as drawn."""
    x0, y0, x1, y1 = box
    if valign == "middle":
        top = y0 + (y1 - y0 - fitted.height) // 2
    elif valign == "bottom":
        top = y1 - fitted.height
    else:
        top = y0
    out = []
    for i, line in enumerate(fitted.lines):
        left, _, right, _ = ink(fitted.font, line)
        w = right - left
        if align == "center":
            x = x0 + (x1 - x0 - w) // 2 - left
        elif align == "right":
            x = x1 - w - left
        else:
            x = x0 - left
        baseline = top + fitted.ascent + i * fitted.pitch
        draw.text((x, baseline), line, font=fitted.font, fill=fill, anchor="ls")
        out.append(tuple(int(v) for v in draw.textbbox((x, baseline), line, font=fitted.font, anchor="ls")))
    return out
