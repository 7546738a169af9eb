"""What goes into a poster (brand style, text) and what comes out (the image and where things went)."""
from __future__ import annotations

from dataclasses import dataclass, field

from PIL import Image

Box = tuple[int, int, int, int]  # x0, y0, x1, y1; x1/y1 exclusive


@dataclass(frozen=True)
class BrandStyle:
    """A brand kit as the poster renderer needs it.

    colors: "#RRGGBB", at least one; the first is the primary (panels, frames, banners), the second
    the accent (price tags, buttons). fonts: family names of core.catalog.fonts; the first is the heading
    font, the second the body font; empty means the defaults. logo: any mode, alpha is kept.
    """

    brand_name: str
    colors: list[str]
    fonts: list[str] = field(default_factory=list)
    logo: Image.Image | None = None
    tagline: str | None = None


@dataclass(frozen=True)
class PosterText:
    product_name: str | None = None
    price: str | None = None  # shown as given, e.g. "Rp 149.000"
    cta: str | None = None  # e.g. "Beli sekarang di Shopee!"


@dataclass(frozen=True)
class DrawnLine:
    """One line of text as drawn: its ink bbox and the box it had to stay in (both poster px)."""

    region: str  # key in Poster.regions that contains `box`
    text: str
    bbox: Box
    box: Box
    color: str  # "#RRGGBB"
    size: int  # font size in px


@dataclass
class Poster:
    image: Image.Image  # RGB, exactly the format's size
    format: str
    layout: str
    regions: dict[str, Box]
    crop: Box  # the part of the source photo shown (photo px)
    scale: float  # poster px per photo px
    offset: tuple[float, float]  # poster position of photo pixel (0, 0)
    head_box: Box | None = None  # mapped into poster px
    person_box: Box | None = None
    product_box: Box | None = None
    lines: list[DrawnLine] = field(default_factory=list)
    padded: bool = False  # True when the photo did not fill its area and the rest was filled

    def map_point(self, x: float, y: float) -> tuple[float, float]:
        """Photo px -> poster px."""
        return self.offset[0] + x * self.scale, self.offset[1] + y * self.scale
