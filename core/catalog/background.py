"""Product cut-outs: the background of a product photo removed, the result trimmed and checked.

    from core.catalog.background import cut_out
    result = cut_out(store.read(product.original_path), settings=settings)
    result.png, result.coverage, result.dominant_color, result.flag, result.flag_message

The mask comes from a rembg session in engine.background (imported lazily, inside cut_out: core never
imports rembg). Missing model weights raise core.errors.ModelUnavailable (503) naming the file to add; that
is checked first (require_model, a file check without rembg's import), before the photo is decoded.

Decisions:
- Input is our intake's stored bytes (upright; a kept JPEG with its ICC profile, converted to sRGB here like
  the intake does, or a re-encode: RGB or RGBA). The model sees RGB; an RGBA input is shown to it on white,
  and its own transparency is kept (alpha = min(mask, alpha)).
- The cut-out is straight (un-premultiplied) alpha: every pixel keeps its input RGB exactly and only
  gets the mask as alpha, so where alpha is 255 the product pixels are the input's, bit for bit
  (compositing relies on it). rembg's own naive_cutout would darken soft edges instead.
- Mask values below ALPHA_FLOOR are model noise and become fully transparent, so they neither widen
  the trim nor leave a haze.
- Trimmed to the bounding box of the visible (alpha > 0) pixels, with no margin: the PNG's edges are
  the product's edges, so later placement can use its size directly. bbox says where it was.
- coverage: share of the ORIGINAL picture's pixels with alpha >= 128. Below EMPTY_BELOW (0.5%) the
  result is flagged "empty" (nothing found); above FULL_ABOVE (97%) "full" (the background was probably
  not removed). A flagged result is still returned (png included) for the caller to keep aside and
  show with flag_message (a core.messages.Message); when nothing at all is visible, png is one
  transparent pixel and bbox None.
  Note: rembg's U2Net/ISNet sessions stretch each prediction to its own min..max, so a picture that
  is all one thing (all product or all background) comes back as an empty mask: flagged "empty".
- dominant_color: the mode of the opaque (alpha >= 200) pixels, found on a 16-level-per-channel colour
  histogram smoothed over neighbouring bins, then refined by a few mean-shift steps on the real
  pixels (at most 60k of them, evenly strided). Robust to edges, highlights, small labels; None when
  no pixel is opaque.
"""
from __future__ import annotations

import io
import math
from dataclasses import dataclass
from typing import Literal

import numpy as np
from PIL import Image

from core.messages import Message

ALPHA_FLOOR = 10
COVERAGE_ALPHA = 128
EMPTY_BELOW = 0.005
FULL_ABOVE = 0.97
OPAQUE_ALPHA = 200
PNG_COMPRESS_LEVEL = 3   # zlib 3 vs Pillow's 6: ~2.5x faster to write a photo-like cut-out, ~15% bigger

Flag = Literal["empty", "full"]


@dataclass(frozen=True)
class CutOut:
    """One cut-out. png: RGBA PNG bytes, trimmed; width/height: its size; bbox: (left, top, right, bottom)
    of the trimmed area in the original picture (right/bottom exclusive), None if nothing is visible."""

    png: bytes
    width: int
    height: int
    coverage: float
    dominant_color: str | None
    bbox: tuple[int, int, int, int] | None
    flag: Flag | None
    flag_message: Message | None   # why it is flagged, for the person (products keep it as bg_error)
    model: str


def require_model(settings) -> None:
    """ModelUnavailable (503, naming the file and the folder) unless the background model's weights are here
    or arrive now (downloads allowed): a file check that imports neither rembg nor onnxruntime. A removal asks
    it before it reads or decodes the photo."""
    from engine.background import require_weights  # the ML room, lazily (this part of it imports no rembg)

    require_weights(settings)


def cut_out(image_bytes: bytes, *, settings) -> CutOut:
    """Remove the background of a product photo with the model from settings (rembg_model, rembg_home). The
    model's weights are checked first (require_model), then the photo is decoded: a stored original keeps
    its ICC profile, and its colours are taken in sRGB (core.images.to_rgb_or_rgba), as the intake shows them."""
    from core.images import to_rgb_or_rgba

    require_model(settings)
    from engine.background import hub_for, predict_mask  # the ML room, lazily

    with Image.open(io.BytesIO(image_bytes)) as opened:
        opened.load()
        rgba = to_rgb_or_rgba(opened, keep_alpha=True)
    pixels = np.array(rgba)                                  # H x W x 4, a private copy
    has_alpha = bool((pixels[..., 3] < 255).any())
    if has_alpha:
        white = Image.new("RGBA", rgba.size, (255, 255, 255, 255))
        model_input = Image.alpha_composite(white, rgba).convert("RGB")
    else:
        model_input = rgba.convert("RGB")

    mask = np.asarray(predict_mask(model_input, model=settings.rembg_model, home=settings.rembg_home,
                                  hub=hub_for(settings)))
    return cut_out_with_mask(pixels, mask, model=settings.rembg_model)


PRECUT_MODEL = "transparency"   # bg_model of a product whose photo was already cut out
BORDER_CLEAR = 0.98               # share of the outermost pixel ring that must be transparent


def precut(image: Image.Image) -> CutOut | None:
    """The cut-out a photo already is: an RGBA picture whose outer border is transparent around a visible
    object (a PNG or WebP exported from a cut-out tool) is used as it is — its own alpha is the mask, trimmed
    and checked like a removal's result. None when it is not one (no alpha, a border that is not clear, or
    nothing / everything visible), so the photo goes to background removal instead."""
    if image.mode != "RGBA":
        return None
    pixels = np.array(image)
    alpha = pixels[..., 3]
    h, w = alpha.shape
    if h < 3 or w < 3:
        return None
    ring = np.concatenate([alpha[0], alpha[-1], alpha[1:-1, 0], alpha[1:-1, -1]])
    if np.count_nonzero(ring < ALPHA_FLOOR) < BORDER_CLEAR * ring.size:
        return None
    result = cut_out_with_mask(pixels, alpha, model=PRECUT_MODEL)
    return result if result.flag is None else None


def cut_out_with_mask(pixels: np.ndarray, mask: np.ndarray, *, model: str = "") -> CutOut:
    """The cut-out of an RGBA pixel array (H x W x 4, uint8) given a soft mask (H x W, uint8, 255 = keep)."""
    height, width = mask.shape
    alpha = np.where(mask < ALPHA_FLOOR, 0, mask).astype(np.uint8)
    alpha = np.minimum(alpha, pixels[..., 3])
    coverage = float(np.count_nonzero(alpha >= COVERAGE_ALPHA)) / float(width * height)

    out = pixels.copy()
    out[..., 3] = alpha
    rows = np.flatnonzero(alpha.any(axis=1))
    cols = np.flatnonzero(alpha.any(axis=0))
    if rows.size:
        bbox = (int(cols[0]), int(rows[0]), int(cols[-1]) + 1, int(rows[-1]) + 1)
        trimmed = Image.fromarray(out[bbox[1]:bbox[3], bbox[0]:bbox[2]], "RGBA")
    else:
        bbox, trimmed = None, Image.new("RGBA", (1, 1), (0, 0, 0, 0))

    try:
        colour = dominant_color(trimmed, min_alpha=OPAQUE_ALPHA, fallback=False)
    except ValueError:
        colour = None
    flag, message = _flag(coverage)
    buf = io.BytesIO()
    trimmed.save(buf, "PNG", compress_level=PNG_COMPRESS_LEVEL)
    return CutOut(png=buf.getvalue(), width=trimmed.width, height=trimmed.height, coverage=coverage,
                  dominant_color=colour, bbox=bbox, flag=flag, flag_message=message, model=model)


def _flag(coverage: float) -> tuple[Flag | None, Message | None]:
    if coverage < EMPTY_BELOW:
        return "empty", Message("background.nothing_found", percent=coverage * 100)
    if coverage > FULL_ABOVE:
        return "full", Message("background.not_removed", percent=coverage * 100)
    return None, None


def dominant_color(image: Image.Image, *, min_alpha: int = OPAQUE_ALPHA, fallback: bool = True,
                   max_samples: int = 60_000) -> str:
    """"#RRGGBB" of the most common colour among an image's opaque pixels (alpha >= min_alpha; every
    pixel of an image without alpha). With `fallback`, an image with no opaque pixel uses its visible
    ones (alpha > 0). ValueError if no pixel qualifies."""
    arr = np.asarray(image if image.mode == "RGBA" else image.convert("RGBA"))
    alpha = arr[..., 3]
    px = arr[..., :3][alpha >= min_alpha]
    if not len(px) and fallback:
        px = arr[..., :3][alpha > 0]
    if not len(px):
        raise ValueError("the image has no opaque pixels")
    if len(px) > max_samples:
        px = px[:: math.ceil(len(px) / max_samples)]

    q = (px >> 4).astype(np.intp)                            # 16 levels per channel
    hist = np.bincount(q[:, 0] * 256 + q[:, 1] * 16 + q[:, 2], minlength=4096).reshape(16, 16, 16)
    padded = np.pad(hist, 1)
    votes = sum(padded[i:i + 16, j:j + 16, k:k + 16] for i in range(3) for j in range(3) for k in range(3))
    peak = np.array(np.unravel_index(int(votes.argmax()), votes.shape))
    centre = px[np.all(np.abs(q - peak) <= 1, axis=1)].mean(axis=0)

    values = px.astype(np.float32)
    for _ in range(4):                                       # mean-shift: settle on the cluster's centre
        near = np.abs(values - centre).max(axis=1) <= 24
        if not near.any():
            break
        moved = values[near].mean(axis=0)
        if np.abs(moved - centre).max() < 0.5:
            centre = moved
            break
        centre = moved
    r, g, b = (int(v) for v in np.clip(np.rint(centre), 0, 255))
    return f"#{r:02X}{g:02X}{b:02X}"
