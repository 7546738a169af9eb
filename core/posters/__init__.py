"""Posters: one generated on-model photo laid out with the shop's brand kit, in a platform's size. This package
is pure layout and text fitting (no database); service.py is the app around it (charging, storing, ZIP).

    poster = render_poster(photo=image, keypoints=pose_json, product_box=(210, 380, 330, 520),
                           brand=BrandStyle("Batik Sari", ["#8B1E3F", "#F2C14E"], ["Poppins", "Open Sans"],
                                            logo=logo_rgba, tagline="Batik tulis asli Solo"),
                           text=PosterText("Kemeja batik parang", "Rp 149.000", "Beli sekarang di Shopee!"),
                           format="instagram-post", layout="clean-frame")
    poster.image       RGB, exactly FORMATS[format].size
    poster.regions     {"photo", "photo_pixels", "text", "logo" | "brand", and per layout "frame",
                        "panel", "banner", "badge", "price", "cta"}: poster px, x1/y1 exclusive
    poster.crop        the part of the photo shown (photo px); poster.map_point(x, y) photo -> poster
    poster.lines       every text line drawn, with its ink bbox and the box it was fitted to

Pure Pillow + numpy; a 1080x1920 poster renders in well under a second on one CPU core.
"""
from __future__ import annotations

import re
import unicodedata
from typing import Any

from PIL import Image

from core.errors import ValidationFailed
from core.posters.canvas import Ctx
from core.posters.crop import check_box, parse_keypoints
from core.posters.formats import FORMATS, PosterFormat, get_format
from core.posters.layouts import LAYOUTS, Layout, get_layout
from core.posters.model import BrandStyle, DrawnLine, Poster, PosterText

__all__ = [
    "FORMATS", "LAYOUTS", "BrandStyle", "DrawnLine", "Layout", "Poster", "PosterFormat", "PosterText",
    "get_format", "get_layout", "poster_filename", "render_poster",
]


def render_poster(*, photo: Image.Image, keypoints: list | None, product_box: tuple[int, int, int, int] | None,
                  brand: BrandStyle, text: PosterText, format: str, layout: str) -> Poster:
    """Lay the photo out in `format` with `layout`, applying the brand's colours, fonts and logo.

    keypoints: OpenPose-18 entries [x, y, confidence] normalised to the photo (or None); the head and
    product_box (photo px) are never cut off, covered by text or by the logo. Raises
    ValidationFailed (field "format", "layout", "keypoints", "product_box", "colors", "fonts", "photo").
    """
    fmt = get_format(format)
    chosen = get_layout(layout)
    if not isinstance(photo, Image.Image) or photo.width < 1 or photo.height < 1:
        raise ValidationFailed("posters.photo_empty", field="photo")
    rgb = photo.convert("RGB") if photo.mode != "RGB" else photo
    points = parse_keypoints(keypoints)
    product = check_box(product_box, rgb.size)
    ctx = Ctx(fmt=fmt, photo=rgb, points=points, product=product, brand=brand, text=text)
    chosen.draw(ctx)
    plan = ctx.plan
    assert plan is not None, f"layout {layout} placed no photo"
    vx0, vy0, vx1, vy1 = plan.visible
    return Poster(
        image=ctx.canvas, format=fmt.key, layout=chosen.key, regions=dict(ctx.regions),
        crop=(round(vx0), round(vy0), round(vx1), round(vy1)), scale=plan.scale, offset=plan.offset,
        head_box=plan.map_box(ctx.head), person_box=plan.map_box(ctx.person), product_box=plan.map_box(product),
        lines=list(ctx.lines), padded=plan.padded,
    )


def _slug(text: str | None, limit: int = 40) -> str:
    ascii_text = unicodedata.normalize("NFKD", text or "").encode("ascii", "ignore").decode("ascii")
    slug = re.sub(r"[^a-z0-9]+", "-", ascii_text.lower()).strip("-")
    if len(slug) > limit:
        slug = slug[:limit].rsplit("-", 1)[0] if "-" in slug[:limit] else slug[:limit]
    return slug


def poster_filename(*, index: int, product_name: str | None, format: str, layout: str, ext: str = "png") -> str:
    """"003_kemeja-batik_instagram-post_clean-frame.png": sortable, ASCII, safe in ZIPs on any OS."""
    parts: list[Any] = [f"{max(0, int(index)):03d}"]
    name = _slug(product_name)
    if name:
        parts.append(name)
    parts += [_slug(format) or "format", _slug(layout) or "layout"]
    return "_".join(parts) + "." + (_slug(ext) or "png")
