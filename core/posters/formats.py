"""Poster sizes a small shop posts to, with the zones each platform covers with its own UI.

`safe` insets are fractions of (width, height) on the (left, top, right, bottom) edges: the head, the
product, text, the logo and the CTA stay inside them; backgrounds and the photo may bleed past.

- instagram-post 1080x1080 and instagram-portrait 1080x1350 (4:5): Instagram's feed sizes.
- story 1080x1920 (9:16), also Reels and TikTok: the top ~220 px hold the account name and the
  bottom ~300 px the caption/reply bar, TikTok's buttons sit on the right; hence the wide insets.
- facebook-cover 1640x624: Facebook's recommended Page cover upload (2x of the 820x312 desktop
  view). Phones show the centre at 16:9 (about 1110x624), cutting ~17% off each side, so the
  side insets keep everything important in that centre.
- marketplace 1024x1024: Shopee and Tokopedia product photos are square; 1024 is above both
  platforms' minimums (500 / 300 px) and fills the zoom view.
"""
from __future__ import annotations

from dataclasses import dataclass

from core.errors import ValidationFailed

Box = tuple[int, int, int, int]


@dataclass(frozen=True)
class PosterFormat:
    key: str
    label: str
    width: int
    height: int
    safe: tuple[float, float, float, float] = (0.04, 0.04, 0.04, 0.04)

    @property
    def size(self) -> tuple[int, int]:
        return self.width, self.height

    @property
    def aspect(self) -> float:
        return self.width / self.height

    def safe_box(self) -> Box:
        """The rectangle (poster px, x1/y1 exclusive) that platform overlays never cover."""
        left, top, right, bottom = self.safe
        w, h = self.width, self.height
        return round(left * w), round(top * h), w - round(right * w), h - round(bottom * h)

    def to_dict(self) -> dict:
        return {"key": self.key, "label": self.label, "width": self.width, "height": self.height}


FORMATS: dict[str, PosterFormat] = {
    f.key: f
    for f in (
        PosterFormat("instagram-post", "Instagram post (1:1)", 1080, 1080),
        PosterFormat("instagram-portrait", "Instagram portrait (4:5)", 1080, 1350),
        PosterFormat("story", "Story / Reels / TikTok (9:16)", 1080, 1920, (0.05, 0.115, 0.08, 0.16)),
        PosterFormat("facebook-cover", "Facebook cover", 1640, 624, (0.17, 0.05, 0.17, 0.05)),
        PosterFormat("marketplace", "Shopee / Tokopedia (square)", 1024, 1024),
    )
}


def get_format(key: str) -> PosterFormat:
    fmt = FORMATS.get(key) if isinstance(key, str) else None
    if fmt is None:
        raise ValidationFailed("formats.unknown", field="format", key=key, known=list(FORMATS))
    return fmt
