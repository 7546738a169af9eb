"""The drawing surface a layout works on: the canvas, the brand's colours and fonts, the photo's
subject boxes, and the three things every layout does (place the photo, the logo, a text stack).

Everything placed is recorded in `regions` (poster px, x1/y1 exclusive) and every text line in
`lines`, so tests and callers can see where things went.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from PIL import Image, ImageDraw

from core.catalog.fonts import font_info
from core.posters import crop as cropping
from core.posters.formats import PosterFormat
from core.posters.model import Box, BrandStyle, DrawnLine, PosterText
from core.posters.palette import (MIN_CONTRAST, NEAR_BLACK, RGB, WHITE, Palette, contrast_ratio, mean_color,
                                  pick_text_color, to_hex)
from core.posters.text import Fitted, draw_fitted, fit_text

DEFAULT_HEADING = "Poppins"
DEFAULT_BODY = "Open Sans"


@dataclass
class Item:
    """One block of a text stack."""

    text: str | None
    family: str
    max_size: int
    min_size: int
    bold: bool = False
    max_lines: int | None = None
    pill: str | None = None  # drawn on a rounded pill recorded as regions[pill] ("cta", "price")
    fill: RGB | None = None  # the pill's colour (default: the accent)
    prefer: RGB | None = None  # colour to use when it reaches MIN_CONTRAST
    prefer_brand: bool = False
    priority: int = 2  # when the box is too small, lower priorities are left out first (< 2: optional)


def _fonts(brand: BrandStyle) -> tuple[str, str]:
    fonts = [f for f in brand.fonts if f]
    heading = fonts[0] if fonts else DEFAULT_HEADING
    font_info(heading)  # unknown family -> ValidationFailed(field="fonts")
    if len(fonts) > 1:
        body = fonts[1]
        font_info(body)
    else:
        category = font_info(heading).category.lower()
        body = DEFAULT_BODY if ("script" in category or "display" in category) else heading
    return heading, body


def intersect(a: Box, b: Box) -> Box | None:
    x0, y0, x1, y1 = max(a[0], b[0]), max(a[1], b[1]), min(a[2], b[2]), min(a[3], b[3])
    return (x0, y0, x1, y1) if x1 > x0 and y1 > y0 else None


def inset(box: Box, dx: int, dy: int | None = None) -> Box:
    dy = dx if dy is None else dy
    return box[0] + dx, box[1] + dy, box[2] - dx, box[3] - dy


def _area(box: Box | None) -> int:
    return 0 if box is None else (box[2] - box[0]) * (box[3] - box[1])


class Ctx:
    def __init__(self, *, fmt: PosterFormat, photo: Image.Image, points, product, brand: BrandStyle,
                 text: PosterText):
        self.fmt, self.brand, self.text = fmt, brand, text
        self.W, self.H = fmt.size
        self.u = min(self.W, self.H)
        self.wide = fmt.aspect >= 1.3
        self.tall = fmt.aspect < 0.7
        self.palette = Palette.from_hex(brand.colors)
        self.heading_font, self.body_font = _fonts(brand)
        self.canvas = Image.new("RGB", fmt.size, self.palette.primary)
        self.draw = ImageDraw.Draw(self.canvas)
        self.safe = fmt.safe_box()
        self.photo = photo
        size = photo.size
        self.head = cropping.head_box(points, size)
        self.person = cropping.person_box(points, size)
        margin = cropping.PRODUCT_MARGIN * max(size)
        self.product = product
        self.must = cropping.union(self.head, cropping.grow(product, margin))
        self.want = cropping.union(self.person, cropping.grow(product, margin))
        self.plan: cropping.CropPlan | None = None
        self.regions: dict[str, Box] = {}
        self.lines: list[DrawnLine] = []

    # --- photo ----------------------------------------------------------------------------
    def place_photo(self, rect: Box, *, keep: Box | None = None, pad: RGB | None = None, radius: int = 0) -> None:
        """Smart-crop the photo into rect; the head and product land inside keep ∩ safe area."""
        pad_x, pad_y = round(0.03 * (rect[2] - rect[0])), round(0.03 * (rect[3] - rect[1]))
        area = intersect(keep or rect, inset(rect, pad_x, pad_y)) or rect
        keep_box = intersect(area, self.safe) or area
        self.plan = cropping.plan_crop(photo_size=self.photo.size, rect=rect, keep=keep_box,
                                       must=self.must, want=self.want)
        tint = None if pad is not None else self.palette.primary
        self.regions["photo"] = rect
        self.regions["photo_pixels"] = cropping.paste_photo(self.canvas, self.photo, self.plan, pad=pad,
                                                            tint=tint, radius=radius)

    def avoid(self) -> list[Box]:
        """Poster boxes that nothing may cover: the head and the product."""
        if self.plan is None:
            return []
        boxes = (self.plan.map_box(self.head), self.plan.map_box(self.product))
        return [b for b in boxes if b is not None]

    def free_slot(self, slots: list[Box]) -> Box:
        """The first slot that covers none of the head and product (else the one covering least)."""
        avoid = self.avoid()
        return min(slots, key=lambda s: sum(_area(intersect(s, a)) for a in avoid))  # min keeps order on ties

    # --- logo -----------------------------------------------------------------------------
    def place_logo(self, slots: list[Box], *, align: str = "left", plate: bool | None = None) -> None:
        """The logo (or the brand name as a wordmark) in the first free slot, fitted, alpha kept.

        plate: a rounded backing (white, or near-black for a white logo) so the logo reads on a
        photo; None decides: a plate on a textured background or where the logo's contrast is low.
        """
        slot = self.free_slot(slots)
        sw, sh = slot[2] - slot[0], slot[3] - slot[1]
        logo = self.brand.logo
        if logo is None:
            self._wordmark(slot, align, plate)
            return
        logo = logo.convert("RGBA")
        bbox = logo.getchannel("A").getbbox()
        logo = logo.crop(bbox) if bbox else logo
        rgba = np.asarray(logo).reshape(-1, 4)
        solid = rgba[rgba[:, 3] >= 128]
        logo_rgb = tuple(int(v) for v in (solid if len(solid) else rgba)[:, :3].mean(axis=0))
        behind = mean_color(self.canvas, slot)
        if plate is None:
            plate = self._busy(slot) or contrast_ratio(logo_rgb, behind) < 2.0
        pad = round(0.14 * sh) if plate else 0
        s = min((sw - 2 * pad) / logo.width, (sh - 2 * pad) / logo.height)
        size = (max(1, int(logo.width * s)), max(1, int(logo.height * s)))
        x = slot[0] + pad if align == "left" else (slot[2] - pad - size[0] if align == "right"
                                                   else slot[0] + (sw - size[0]) // 2)
        y = slot[1] + pad
        if plate:
            colour = WHITE if contrast_ratio(WHITE, logo_rgb) >= 2.0 else NEAR_BLACK
            self.draw.rounded_rectangle((x - pad, y - pad, x + size[0] + pad - 1, y + size[1] + pad - 1),
                                        radius=pad, fill=colour)
        resized = logo.resize(size, Image.LANCZOS)
        self.canvas.paste(resized.convert("RGB"), (x, y), resized.getchannel("A"))
        self.regions["logo"] = (x, y, x + size[0], y + size[1])

    def _busy(self, box: Box) -> bool:
        """True over a textured background (a photo), where a logo needs a plate to stay readable."""
        grey = np.asarray(self.canvas.crop(box).convert("L"), dtype=np.float32)
        return float(grey.std()) > 12.0

    def _wordmark(self, slot: Box, align: str, plate: bool | None) -> None:
        sh = slot[3] - slot[1]
        if plate is None:
            plate = self._busy(slot)
        pad = round(0.16 * sh) if plate else 0
        box = inset(slot, pad)
        fitted = fit_text(self.brand.brand_name, self.heading_font, width=box[2] - box[0], height=box[3] - box[1],
                          max_size=round(0.62 * sh), min_size=max(10, round(0.026 * self.u)), bold=True, max_lines=1)
        if fitted is None:
            return
        w, h = fitted.width, fitted.height
        x = box[0] if align == "left" else (box[2] - w if align == "right" else box[0] + (box[2] - box[0] - w) // 2)
        tight = (x, box[1], x + w, box[1] + h)
        if plate:
            self.draw.rounded_rectangle((x - pad, slot[1], x + w + pad - 1, box[1] + h + pad - 1),
                                        radius=pad, fill=WHITE)
        self.regions["brand"] = tight
        self._draw_lines("brand", fitted, tight, align="left", prefer=self.palette.primary, prefer_brand=True)

    # --- text -----------------------------------------------------------------------------
    def _draw_lines(self, region: str, fitted: Fitted, box: Box, *, align: str, valign: str = "top",
                    prefer: RGB | None = None, prefer_brand: bool = False) -> None:
        behind = mean_color(self.canvas, box)
        if prefer is not None and contrast_ratio(prefer, behind) >= MIN_CONTRAST:
            colour = prefer
        else:
            colour = pick_text_color(behind, self.palette.colors, prefer_brand=prefer_brand)
        for line, bbox in zip(fitted.lines, draw_fitted(self.draw, fitted, box, fill=colour, align=align,
                                                        valign=valign)):
            self.lines.append(DrawnLine(region=region, text=line, bbox=bbox, box=box, color=to_hex(colour),
                                        size=fitted.size))

    def _fit(self, item: Item, width: int, size: int, max_lines: int | None,
             height: int = 1 << 20) -> tuple[Fitted | None, int]:
        """The item's text at one size wrapped to width (ellipsised past max_lines), and the height
        the item takes, its pill included."""
        if item.pill is None:
            f = fit_text(item.text or "", item.family, width=width, height=height, max_size=size, min_size=size,
                         bold=item.bold, max_lines=max_lines)
            return f, (f.height if f else 0)
        pad = round(0.55 * size)
        f = fit_text(item.text or "", item.family, width=round(width * 0.84), height=height - 2 * pad,
                     max_size=size, min_size=size, bold=item.bold, max_lines=max_lines)
        return f, (f.height + 2 * pad if f else 0)

    def _largest(self, item: Item, width: int) -> int:
        w = width if item.pill is None else round(width * 0.84)
        f = fit_text(item.text or "", item.family, width=w, height=1 << 20, max_size=item.max_size,
                     min_size=item.min_size, bold=item.bold, max_lines=item.max_lines)
        return f.size if f else item.min_size

    def text_stack(self, region: str, box: Box, items: list[Item], *, align: str = "left",
                   valign: str = "middle", gap: int | None = None) -> None:
        """Items top to bottom in box. Each item first takes the largest size at which it wraps
        within its max_lines; then all sizes shrink together (8% a step, each stopping at its
        minimum) until the stack fits the height; at the minimum sizes, the items with the most
        lines lose lines (ellipsis) down to two, optional items are left out, then lines go down
        to one, then the lowest-priority items are left out."""
        items = [i for i in items if i.text and i.text.strip()]
        if not items or box[2] <= box[0] or box[3] <= box[1]:
            return
        gap = round(0.025 * self.u) if gap is None else gap
        width, height = box[2] - box[0], box[3] - box[1]
        # each item alone: the largest size at which it wraps within its max_lines
        start = [self._largest(i, width) for i in items]
        scale = 1.0
        while True:
            sizes = [max(i.min_size, round(s0 * scale)) for i, s0 in zip(items, start)]
            fits = [self._fit(i, width, s, i.max_lines) for i, s in zip(items, sizes)]
            total = sum(h for _, h in fits) + gap * (len(items) - 1)
            wrapped = all(f is not None and (f.complete or s == i.min_size) for (f, _), s, i in zip(fits, sizes, items))
            at_min = all(s == i.min_size for s, i in zip(sizes, items))
            if (wrapped and total <= height) or at_min:
                break
            scale *= 0.92
        caps = [len(f.lines) if f else 0 for f, _ in fits]
        while total > height and items:
            k = max(range(len(items)), key=lambda j: caps[j])
            low = min(range(len(items)), key=lambda j: (items[j].priority, -j))
            if caps[k] > 2 or (caps[k] > 1 and items[low].priority >= 2):
                caps[k] -= 1
                fits[k] = self._fit(items[k], width, sizes[k], caps[k])
            elif len(items) > 1:
                del items[low], fits[low], caps[low], sizes[low]
            else:
                fits = [self._fit(items[0], width, sizes[0], caps[0], height=height)]
                break
            total = sum(h for _, h in fits) + gap * (len(items) - 1)
        shown = [(item, f, h) for item, (f, h) in zip(items, fits) if f is not None]
        total = sum(h for _, _, h in shown) + gap * (len(shown) - 1)
        y = {"top": box[1], "bottom": box[3] - total}.get(valign, box[1] + (box[3] - box[1] - total) // 2)
        for item, fitted, h in shown:
            if item.pill is not None:
                self._button(fitted, (box[0], y, box[2], y + h), align, item)
            else:
                self._draw_lines(region, fitted, (box[0], y, box[2], y + h), align=align, prefer=item.prefer,
                                 prefer_brand=item.prefer_brand)
            y += h + gap

    def _button(self, fitted: Fitted, row: Box, align: str, item: Item) -> None:
        h = row[3] - row[1]
        pad_y = (h - fitted.height) // 2
        pad_x = max(pad_y, round(0.9 * fitted.size))
        w = min(row[2] - row[0], fitted.width + 2 * pad_x)
        x = row[0] if align == "left" else (row[2] - w if align == "right" else row[0] + (row[2] - row[0] - w) // 2)
        pill = (x, row[1], x + w, row[3])
        behind = mean_color(self.canvas, pill)
        fill = item.fill or self.palette.accent
        if contrast_ratio(fill, behind) < 1.6:
            fill = max((WHITE, NEAR_BLACK), key=lambda c: contrast_ratio(c, behind))
        self.draw.rounded_rectangle((pill[0], pill[1], pill[2] - 1, pill[3] - 1), radius=h // 2, fill=fill)
        self.regions[item.pill] = pill
        inner = (x + (w - fitted.width) // 2, row[1] + pad_y, x + (w - fitted.width) // 2 + fitted.width,
                 row[1] + pad_y + fitted.height)
        self._draw_lines(item.pill, fitted, inner, align="center", prefer=item.prefer, prefer_brand=True)
