"""The poster layouts a shop posts: each draws on a Ctx and adapts to wide, square and tall formats.

Sizes are fractions of u = the poster's shorter side, so a 1080 px post and a 1024 px marketplace
square look alike. Text sizes stay readable on a phone: a heading starts near 9% of u and never
goes below ~3.2% (35 px on a 1080 px post); body text never below ~2.6%.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

from core.errors import ValidationFailed
from core.posters.canvas import Ctx, Item, inset, intersect
from core.posters.palette import WHITE, contrast_ratio, mix
from core.posters.model import Box


@dataclass(frozen=True)
class Layout:
    key: str
    label: str
    description: str
    draw: Callable[[Ctx], None]

    def to_dict(self) -> dict:
        return {"key": self.key, "label": self.label, "description": self.description}


# --- text items shared by the layouts ---------------------------------------------------------
def _px(c: Ctx, frac: float) -> int:
    return max(1, round(frac * c.u))


def _heading(c: Ctx, *, big: float = 0.09, upper: bool = False, lines: int = 3) -> Item:
    text = c.text.product_name or c.brand.brand_name
    return Item(text.upper() if upper and text else text, c.heading_font, _px(c, big), _px(c, 0.042), bold=True,
                max_lines=lines, prefer_brand=True)


def _price(c: Ctx, *, big: float = 0.075, pill: str | None = None) -> Item:
    return Item(c.text.price, c.heading_font, _px(c, big), _px(c, 0.04), bold=True, max_lines=1,
                prefer=None if pill else c.palette.accent, pill=pill)


def _cta(c: Ctx, *, pill: bool = True, big: float = 0.042) -> Item:
    return Item(c.text.cta, c.body_font, _px(c, big), _px(c, 0.032), bold=True,
                max_lines=2, pill="cta" if pill else None)


def _tagline(c: Ctx, *, big: float = 0.04, family: str | None = None) -> Item:
    return Item(c.brand.tagline, family or c.body_font, _px(c, big), _px(c, 0.03), max_lines=2, priority=0)


def _corner_slots(c: Ctx, area: Box, *, w: float = 0.3, h: float = 0.1, margin: float = 0.035) -> list[Box]:
    """Logo slots in the four corners of area (kept inside the safe zone): TL, TR, BL, BR."""
    box = intersect(inset(area, _px(c, margin)), c.safe) or area
    sw, sh = min(_px(c, w), box[2] - box[0]), min(_px(c, h), box[3] - box[1])
    x0, y0, x1, y1 = box
    return [(x0, y0, x0 + sw, y0 + sh), (x1 - sw, y0, x1, y0 + sh),
            (x0, y1 - sh, x0 + sw, y1), (x1 - sw, y1 - sh, x1, y1)]


def _logo_in_corners(c: Ctx, area: Box, **kw) -> None:
    slots = _corner_slots(c, area, **kw)
    slot = c.free_slot(slots)
    c.place_logo([slot], align="left" if slot[0] == slots[0][0] else "right")


# --- layouts ------------------------------------------------------------------------------------
def clean_frame(c: Ctx) -> None:
    """Photo inside a brand-colour frame that widens into a text band (a side panel on wide formats)."""
    W, H, S = c.W, c.H, c.safe
    t = _px(c, 0.028)
    pad = _px(c, 0.045)
    c.regions["frame"] = (0, 0, W, H)
    if c.wide:
        split = W - round(0.36 * W)
        photo, band = (t, t, split, H - t), (split, t, W - t, H - t)
        content = intersect(inset(band, pad, pad), S) or band
    else:
        band_h = round({True: 0.15, False: 0.21}[c.tall] * H)
        top = S[3] - band_h
        photo, band = (t, t, W - t, top), (t, top, W - t, H - t)
        content = intersect((band[0] + pad, top + round(0.6 * pad), band[2] - pad, S[3] - round(0.4 * pad)), S) or band
    if c.tall:
        # story: the platform's reply bar covers the bottom of the safe inset; the photo runs on under it instead
        # of a flat band, and the text band ends at the safe line (head and product kept above the band)
        band = (t, top, W - t, S[3])
        c.place_photo((t, t, W - t, H - t), keep=(t, t, W - t, top))
        c.draw.rectangle((band[0], band[1], band[2] - 1, band[3] - 1), fill=c.palette.primary)
        photo = (t, t, W - t, top)
    else:
        c.place_photo(photo)
    c.regions["text"] = content
    if c.text.price and not c.wide:
        cols = content[0] + round(0.62 * (content[2] - content[0]))
        c.text_stack("text", (content[0], content[1], cols - pad // 2, content[3]),
                     [_heading(c, big=0.07), _cta(c, pill=False)])
        c.text_stack("text", (cols + pad // 2, content[1], content[2], content[3]), [_price(c, big=0.08)],
                     align="right")
    else:
        c.text_stack("text", content, [_heading(c, big=0.075), _price(c), _cta(c, pill=False)])
    _logo_in_corners(c, photo)


def split_panel(c: Ctx) -> None:
    """Photo on one side, a brand-colour panel with logo, name, price and a CTA button on the other:
    side by side on square and wide formats, stacked on portrait and story formats."""
    W, H, S = c.W, c.H, c.safe
    pad = _px(c, 0.06)
    bar = _px(c, 0.012)
    if c.fmt.aspect >= 0.9:
        split = round(0.5 * W)
        photo, panel = (0, 0, split, H), (split, 0, W, H)
        c.place_photo(photo)
        c.draw.rectangle((split, 0, split + bar - 1, H), fill=c.palette.accent)
        content = intersect((split + bar + pad, pad, W - pad, H - pad), S) or panel
        align = "left"
    else:
        split = round((0.56 if c.tall else 0.62) * H)
        photo, panel = (0, 0, W, split), (0, split, W, H)
        if c.tall:   # story: the panel ends at the safe line; under the reply bar the photo runs on (clean_frame)
            panel = (0, split, W, S[3])
            c.place_photo((0, 0, W, H), keep=photo)
            c.draw.rectangle((0, split, W - 1, S[3] - 1), fill=c.palette.primary)
        else:
            c.place_photo(photo)
        c.draw.rectangle((0, split, W, split + bar - 1), fill=c.palette.accent)
        content = intersect((pad, split + bar + round(0.8 * pad), W - pad, panel[3] - round(0.8 * pad)), S) or panel
        align = "center"
    c.regions["panel"] = panel
    if align == "left":  # side by side: the logo heads the panel
        logo_h, logo_w = _px(c, 0.1 if c.wide else 0.09), min(content[2] - content[0], _px(c, 0.4))
        c.place_logo([(content[0], content[1], content[0] + logo_w, content[1] + logo_h)], align="left")
        text_box = (content[0], content[1] + logo_h + pad // 2, content[2], content[3])
    else:  # stacked: the panel's height is precious, the logo goes on a photo corner
        _logo_in_corners(c, photo)
        text_box = content
    c.regions["text"] = text_box
    c.text_stack("text", text_box, [_heading(c, big=0.08), _price(c), _tagline(c), _cta(c)], align=align)


def bold_banner(c: Ctx) -> None:
    """Full-bleed photo under a big slanted brand banner with the name in capitals, a price tag and
    the CTA. The head and the product are kept clear of the banner."""
    W, H, S = c.W, c.H, c.safe
    pad = _px(c, 0.045)
    slant = _px(c, 0.06)
    stripe = _px(c, 0.018)
    if c.wide:
        bw = round(0.4 * W)
        x_in = W - bw  # the banner's inner edge at the top; it leans out by `slant` at the bottom
        poly = [(x_in, 0), (W, 0), (W, H), (x_in - slant, H)]
        strip = [(x_in - stripe, 0), (x_in, 0), (x_in - slant, H), (x_in - slant - stripe, H)]
        keep = (0, 0, x_in - slant - stripe, H)
        content = intersect((x_in + pad, pad, W - pad, H - pad), S) or (x_in, 0, W, H)
        banner = (x_in - slant, 0, W, H)
    else:
        bh = round((0.25 if c.tall else 0.3) * H)
        bottom = H
        top = S[3] - bh
        poly = [(0, top - slant), (W, top), (W, bottom), (0, bottom)]
        strip = [(0, top - slant - stripe), (W, top - stripe), (W, top), (0, top - slant)]
        keep = (0, 0, W, top - slant - stripe)
        content = intersect((pad, top + pad, W - pad, bottom - pad), S) or (0, top, W, bottom)
        banner = (0, top - slant, W, bottom)
    c.place_photo((0, 0, W, H), keep=keep)
    c.draw.polygon(strip, fill=c.palette.accent)
    c.draw.polygon(poly, fill=c.palette.primary)
    c.regions["banner"] = banner
    c.regions["text"] = content
    c.text_stack("text", content, [_heading(c, big=0.1, upper=True, lines=2), _price(c, pill="price"),
                                   _cta(c, pill=False)], align="left", gap=_px(c, 0.02))
    _logo_in_corners(c, keep)


def minimal(c: Ctx) -> None:
    """The photo as a rounded card on a pale brand background, a small logo, the tagline in the
    heading font and one quiet line of name and price."""
    W, H, S = c.W, c.H, c.safe
    bg = c.palette.light
    c.draw.rectangle((0, 0, W, H), fill=bg)
    m = _px(c, 0.07)
    gap = _px(c, 0.04)
    offer = " \u00b7 ".join(t for t in (c.text.price, c.text.cta) if t) or None
    items = [
        Item(c.brand.tagline or c.brand.brand_name, c.heading_font, _px(c, 0.065), _px(c, 0.036), max_lines=2,
             prefer=c.palette.primary),
        Item(c.text.product_name, c.body_font, _px(c, 0.04), _px(c, 0.03), max_lines=1),
        Item(offer, c.body_font, _px(c, 0.036), _px(c, 0.03), bold=True, max_lines=1, prefer=c.palette.primary),
    ]
    if c.wide:
        split = round(0.5 * W)
        photo = intersect((m, m, split, H - m), (S[0], 0, W, H)) or (m, m, split, H - m)
        right = intersect((split + gap, m, W - m, H - m), S) or (split, m, W - m, H - m)
        logo_h = _px(c, 0.12)
        c.place_logo([(right[0], right[1], right[2], right[1] + logo_h)], align="center")
        text = (right[0], right[1] + logo_h + gap, right[2], right[3])
    else:
        area = intersect((m, m, W - m, H - m), S) or (m, m, W - m, H - m)
        logo_h = _px(c, 0.085)
        c.place_logo([(area[0], area[1], area[2], area[1] + logo_h)], align="center")
        text_h = round((0.15 if c.tall else 0.2) * H)
        photo = (area[0], area[1] + logo_h + gap, area[2], area[3] - text_h)
        text = (area[0], area[3] - text_h + gap, area[2], area[3])
    c.place_photo(photo, pad=bg, radius=_px(c, 0.025))
    c.regions["text"] = text
    c.text_stack("text", text, items, align="center", gap=_px(c, 0.018))


def promo(c: Ctx) -> None:
    """Sale poster: name in capitals on a brand band, the photo, a round price badge in the accent
    colour on a photo corner clear of the face and product, and a big CTA button."""
    W, H, S = c.W, c.H, c.safe
    pad = _px(c, 0.04)
    if c.wide:
        split = round(0.44 * W)
        band, photo = (0, 0, split, H), (split, 0, W, H)
        content = intersect(inset(band, pad), S) or band
        c.place_photo(photo)
        c.regions["panel"] = band
        c.regions["text"] = content
        c.text_stack("text", content, [_heading(c, big=0.1, upper=True), _tagline(c), _cta(c, big=0.05)],
                     align="center")
    else:
        top_h = S[1] + round((0.13 if c.tall else 0.16) * H)
        bottom_top = S[3] - round((0.1 if c.tall else 0.13) * H)
        photo = (0, top_h, W, bottom_top)
        c.place_photo(photo)
        c.regions["panel"] = (0, 0, W, top_h)
        head_box = intersect((pad, S[1] + pad // 2, W - pad, top_h - pad // 2), S) or (0, 0, W, top_h)
        foot_box = intersect((pad, bottom_top + pad // 2, W - pad, H - pad // 2), S) or (0, bottom_top, W, H)
        c.regions["text"] = head_box
        c.text_stack("text", head_box, [_heading(c, big=0.1, upper=True, lines=2)], align="center")
        c.text_stack("text", foot_box, [_cta(c, big=0.05)], align="center")
    _badge(c, photo)
    _logo_in_corners(c, photo, w=0.26, h=0.085)


def _badge(c: Ctx, photo: Box) -> None:
    """A round accent badge with the price (or PROMO) in the photo corner that covers nothing."""
    area = intersect(inset(photo, _px(c, 0.03)), c.safe) or photo
    d = min(_px(c, 0.3), (area[2] - area[0]) // 2, (area[3] - area[1]) // 2)
    x0, y0, x1, y1 = area
    corners = [(x1 - d, y0, x1, y0 + d), (x1 - d, y1 - d, x1, y1), (x0, y1 - d, x0 + d, y1), (x0, y0, x0 + d, y0 + d)]
    box = c.free_slot(corners)
    ring = _px(c, 0.012)
    accent = c.palette.accent
    if contrast_ratio(accent, c.palette.primary) < 1.3:
        accent = mix(accent, WHITE, 0.5)
    c.draw.ellipse((box[0], box[1], box[2] - 1, box[3] - 1), fill=WHITE)
    c.draw.ellipse((box[0] + ring, box[1] + ring, box[2] - 1 - ring, box[3] - 1 - ring), fill=accent)
    c.regions["badge"] = box
    inner = inset(box, round(d * 0.17))  # a square inside the circle
    items = [Item(c.text.price or "PROMO", c.heading_font, _px(c, 0.075), _px(c, 0.03), bold=True, max_lines=2)]
    c.text_stack("badge", inner, items, align="center", gap=0)


LAYOUTS: dict[str, Layout] = {
    layout.key: layout
    for layout in (
        Layout("clean-frame", "Clean frame", "Photo in a brand-colour frame, logo in a corner, text band.",
               clean_frame),
        Layout("split-panel", "Split panel", "Photo beside (or above) a brand-colour panel with a button.",
               split_panel),
        Layout("bold-banner", "Bold banner", "Full-bleed photo, big slanted banner with name, price and CTA.",
               bold_banner),
        Layout("minimal", "Minimal", "Photo card on a pale brand background, small logo, tagline.", minimal),
        Layout("promo", "Promo / sale", "Name band, price badge on the photo and a big CTA button.", promo),
    )
}


def get_layout(key: str) -> Layout:
    layout = LAYOUTS.get(key) if isinstance(key, str) else None
    if layout is None:
        raise ValidationFailed("layouts.unknown", field="layout", key=key, known=list(LAYOUTS))
    return layout
