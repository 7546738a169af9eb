"""Put the product's transparent cut-out into a rendered image, where the pose says it belongs.

    c = place_product(image=render, cutout=cutout_rgba, keypoints=fitted_pose, placement="hand-left",
                      product_type="bottle")
    c.image (PIL RGB), c.box (x0, y0, x1, y1) px or None, c.mode ("hand-left"... or "prompt-only"),
    c.note (how the spot differs from the plain rule: a missing wrist, no free room...; else None)

Geometry (pixels of the image; keypoints are normalised to it, OpenPose-18, "left" = the subject's):
- body unit = the person's shoulder width, estimated as the largest of: the shoulder-to-shoulder
  distance, 0.9 x neck-to-mid-hip and 3.15 x neck-to-nose (ratios of Drillis & Contini's table,
  /work/shared/POSE_FACTS.md). A 2D projection only shortens segments, so the largest estimate is
  the one least shortened by a turned body.
- product size: its longest side = PRODUCT_SCALE[product_type] x body unit, aspect ratio kept,
  never larger than the image.
- hand-left / hand-right: centred on the hand, beyond the wrist along the forearm
  (wrist + 0.35 x (wrist - elbow)); both-hands: between the two hands. A missing wrist falls back
  to the other hand, then to the chest (`note` says so).
- table: standing on a table top. Seated (thighs near level): at the resting wrists' height, else
  0.7 body units above the hips; standing: 0.3 below the hips; no hips: the bottom of the frame.
  displayed: standing on the floor in the frame's lower third. Either way at the x nearest the
  body's centre where the product is clear of the body's box (the joints' box grown by a quarter
  body unit), else of the body itself (limbs drawn as capsules on a coarse grid), else of the arms,
  hands and head ("in front of the body", as on a table before a seated person); two lower heights
  are tried before giving up. Both get a soft contact shadow.
- worn (and "none"): nothing pasted, the image is returned unchanged, mode "prompt-only".
- the box is moved (never cut) to lie inside the image.

Blending: the cut-out is resized once (Pillow's premultiplied LANCZOS, so transparent colours do
not bleed in). Every pixel that is fully opaque after that resize is copied into the image exactly;
partly transparent edge pixels are alpha-blended, and a FEATHER-pixel halo of the blurred alpha,
coloured with the nearest product colours, softens the cut line on the outside.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
from PIL import Image

from core.errors import ValidationFailed
from core.library.poses.keypoints import (L_ELBOW, L_HIP, L_KNEE, L_SHOULDER, L_WRIST, NECK, NOSE, R_ELBOW, R_HIP, R_KNEE, R_SHOULDER, R_WRIST, FACE, LIMBS, as_pose)

PLACEMENTS = ("hand-left", "hand-right", "both-hands", "worn", "table", "displayed", "none")
PASTED = ("hand-left", "hand-right", "both-hands", "table", "displayed")
# longest side of the product / shoulder width (shoulders ~38 cm: a 15 cm serum bottle is 0.4)
PRODUCT_SCALE = {
    "bottle": 0.4, "tube": 0.4, "jar": 0.3, "sachet": 0.3, "pouch": 0.45, "box": 0.55, "bag": 0.8,
    "shoes": 0.65, "clothing": 1.0, "top": 1.0, "dress": 1.3, "gamis": 1.4, "bottom": 1.2, "hijab": 0.9, "accessory": 0.3, "jewelry": 0.2, "food": 0.45,
    "drink": 0.45, "device": 0.4, "other": 0.45,
}
DEFAULT_SCALE = 0.45
HAND_BEYOND_WRIST = 0.35       # hand centre = wrist + this x forearm vector
FEATHER = 2                    # px of soft halo outside the cut-out's alpha edge
MIN_SIDE = 4                   # px: a product is never drawn smaller
BODY_RADIUS = 0.15             # half the thickness of a limb, in body units (table / displayed spots)
HEAD_RADIUS = 0.35             # the head (and hair) around the nose, in body units
SILHOUETTE = tuple((a, b) for a, b in LIMBS if a not in FACE[1:] and b not in FACE[1:]) + (
    (R_SHOULDER, R_HIP), (L_SHOULDER, L_HIP), (R_HIP, L_HIP), (R_SHOULDER, L_SHOULDER))
ARMS = ((R_SHOULDER, R_ELBOW), (R_ELBOW, R_WRIST), (L_SHOULDER, L_ELBOW), (L_ELBOW, L_WRIST))
WRISTS = {"hand-left": (L_WRIST, L_ELBOW), "hand-right": (R_WRIST, R_ELBOW)}
OTHER_HAND = {"hand-left": "hand-right", "hand-right": "hand-left"}


@dataclass(frozen=True)
class Composite:
    image: Image.Image                          # RGB, the same size as the input
    box: tuple[int, int, int, int] | None       # product box (x0, y0, x1, y1), x1/y1 exclusive; None if not pasted
    mode: str                                   # where it went: a placement, "chest", or "prompt-only"
    anchor: tuple[float, float] | None = None   # the point it was placed at (px), before clamping
    note: str | None = None                     # a missing wrist, no free room...: see the module docstring


# --- body geometry --------------------------------------------------------------------------
def _points(keypoints: Any, width: int, height: int) -> np.ndarray:
    """(18, 2) px, NaN where missing (None or zero confidence)."""
    arr = as_pose(keypoints).to_array()
    arr[arr[:, 2] <= 0] = np.nan
    return arr[:, :2] * (width, height)


def _has(pts: np.ndarray, *idx: int) -> bool:
    return all(not np.isnan(pts[i, 0]) for i in idx)


def body_unit(pts: np.ndarray, height: int) -> float:
    """Shoulder width in px, estimated from whatever the pose has (see the module docstring)."""
    est = []
    if _has(pts, R_SHOULDER, L_SHOULDER):
        est.append(float(np.linalg.norm(pts[R_SHOULDER] - pts[L_SHOULDER])))
    if _has(pts, NECK, R_HIP, L_HIP):
        est.append(0.9 * float(np.linalg.norm(pts[NECK] - (pts[R_HIP] + pts[L_HIP]) / 2)))
    if _has(pts, NECK, NOSE):
        est.append(3.15 * float(np.linalg.norm(pts[NECK] - pts[NOSE])))
    unit = max(est, default=0.0)
    return unit if unit >= 1.0 else 0.25 * height   # no usable joints: a person filling the frame


def hand_point(pts: np.ndarray, side: str) -> tuple[float, float] | None:
    """Centre of the subject's hand ("hand-left" / "hand-right"), or None without that wrist."""
    wrist, elbow = WRISTS[side]
    if not _has(pts, wrist):
        return None
    p = pts[wrist]
    if _has(pts, elbow):
        p = p + HAND_BEYOND_WRIST * (p - pts[elbow])
    return float(p[0]), float(p[1])


def chest_point(pts: np.ndarray, unit: float, width: int, height: int) -> tuple[float, float]:
    if _has(pts, NECK, R_HIP, L_HIP):
        p = pts[NECK] + 0.3 * ((pts[R_HIP] + pts[L_HIP]) / 2 - pts[NECK])
    elif _has(pts, NECK):
        p = pts[NECK] + (0.0, 0.35 * unit)
    elif _has(pts, R_SHOULDER, L_SHOULDER):
        p = (pts[R_SHOULDER] + pts[L_SHOULDER]) / 2 + (0.0, 0.35 * unit)
    else:
        ok = ~np.isnan(pts[:, 0])
        p = pts[ok].mean(axis=0) if ok.any() else np.array([width / 2, height / 2])
    return float(p[0]), float(p[1])


def body_box(pts: np.ndarray, unit: float, width: int, height: int) -> tuple[float, float, float, float] | None:
    """The person's box: the joints' box grown by a quarter body unit (flesh and clothes beyond the
    joints), within the image. None for a pose without joints."""
    ok = ~np.isnan(pts[:, 0])
    if not ok.any():
        return None
    lo, hi = pts[ok].min(axis=0) - 0.25 * unit, pts[ok].max(axis=0) + 0.25 * unit
    return (max(0.0, float(lo[0])), max(0.0, float(lo[1])), min(float(width), float(hi[0])),
            min(float(height), float(hi[1])))


def body_mask(pts: np.ndarray, unit: float, width: int, height: int, *, cell: int, grow: float = 0.0,
              arms_only: bool = False) -> np.ndarray:
    """Where the body is, on a grid of `cell`-px squares: every limb (the torso's outline, and each
    hand beyond its wrist) as a capsule BODY_RADIUS x unit (+ `grow` px) thick, and the head as a disc
    around the nose; `arms_only`: just the arms, hands and head. (rows, cols) bool."""
    ys = (np.arange(-(-height // cell)) + 0.5) * cell
    xs = (np.arange(-(-width // cell)) + 0.5) * cell
    mask = np.zeros((len(ys), len(xs)), bool)
    r = BODY_RADIUS * unit + grow

    def window(lo: np.ndarray, hi: np.ndarray):        # the grid cells within a box, as index slices
        return (slice(int(np.searchsorted(ys, lo[1])), int(np.searchsorted(ys, hi[1], side="right"))),
                slice(int(np.searchsorted(xs, lo[0])), int(np.searchsorted(xs, hi[0], side="right"))))

    segments = [(pts[a], pts[b]) for a, b in (ARMS if arms_only else SILHOUETTE) if _has(pts, a, b)]
    for side in WRISTS:
        hand = hand_point(pts, side)
        if hand is not None:
            segments.append((pts[WRISTS[side][0]], np.array(hand)))
    for p, q in segments:
        rows, cols = window(np.minimum(p, q) - r, np.maximum(p, q) + r)
        gx, gy = np.meshgrid(xs[cols], ys[rows])
        d = q - p
        t = np.clip(((gx - p[0]) * d[0] + (gy - p[1]) * d[1]) / max(float(d @ d), 1e-9), 0.0, 1.0)
        mask[rows, cols] |= (gx - p[0] - t * d[0]) ** 2 + (gy - p[1] - t * d[1]) ** 2 <= r * r
    if _has(pts, NOSE):
        rh = HEAD_RADIUS * unit + grow
        rows, cols = window(pts[NOSE] - rh, pts[NOSE] + rh)
        gx, gy = np.meshgrid(xs[cols], ys[rows])
        mask[rows, cols] |= (gx - pts[NOSE, 0]) ** 2 + (gy - pts[NOSE, 1]) ** 2 <= rh * rh
    return mask


def product_size(cutout_size: tuple[int, int], *, unit: float, product_type: str | None,
                 limit: tuple[int, int]) -> tuple[int, int]:
    """(w, h) px of the pasted product: longest side = scale x unit, aspect kept, within `limit`."""
    cw, ch = cutout_size
    longest = PRODUCT_SCALE.get(product_type or "", DEFAULT_SCALE) * unit
    k = min(longest / max(cw, ch), limit[0] / cw, limit[1] / ch)
    return max(MIN_SIDE, min(limit[0], round(cw * k))), max(MIN_SIDE, min(limit[1], round(ch * k)))


def _clamp_box(cx: float, cy: float, w: int, h: int, width: int, height: int) -> tuple[int, int, int, int]:
    x0 = int(round(min(max(cx - w / 2, 0), width - w)))
    y0 = int(round(min(max(cy - h / 2, 0), height - h)))
    return x0, y0, x0 + w, y0 + h


def _surface_levels(pts, unit, h, height, placement) -> list[float]:
    """Candidate y of the product's base, preferred first; never higher than the surface (no floating)."""
    margin = 0.03 * height
    hips = [pts[i] for i in (R_HIP, L_HIP) if _has(pts, i)]
    if placement == "table" and hips:
        hip = float(np.mean([p[1] for p in hips]))
        knees = [pts[i, 1] for i in (R_KNEE, L_KNEE) if _has(pts, i)]
        wrists = [pts[i, 1] for i in (R_WRIST, L_WRIST) if _has(pts, i)]
        top = pts[NECK, 1] if _has(pts, NECK) else hip - 2 * unit
        if bool(knees) and min(knees) - hip < 0.5 * unit:            # thighs near level: seated
            resting = [y for y in wrists if top < y < hip]             # forearms resting on the table
            surface = max(resting) + 0.1 * unit if resting else hip - 0.7 * unit
        else:
            surface = hip + 0.3 * unit
        levels = [surface + k * unit for k in (0, 0.25, 0.5)]
    else:                                     # the floor, in the frame's lower third
        levels = [height - margin - k * unit for k in (0, 0.25, 0.5)]
        levels = [y for y in levels if y - h / 2 >= 2 * height / 3] or levels[:1]
    return [float(min(max(y, h + 1), height)) for y in levels]


def _surface_spot(pts, unit, size, width, height, placement) -> tuple[tuple[float, float], str | None]:
    """Centre of the product standing on a surface (table / displayed). Per candidate height, preferred
    first, the x nearest the body's centre where the product is clear of: the body's box, else the
    body itself (under an outstretched arm), else the arms, hands and head (in front of the body, as
    on a table before a seated person)."""
    w, h = size
    ok = ~np.isnan(pts[:, 0])
    centre_x = float(np.mean(pts[ok, 0])) if ok.any() else width / 2
    cell = max(1, round(max(width, height) / 256))
    starts = np.arange(0, width - w + 1)                               # every product left edge, px
    c0 = starts // cell
    dist = np.abs(starts + w / 2 - centre_x)
    boxed = np.zeros((-(-height // cell), -(-width // cell)), bool)
    box = body_box(pts, unit, width, height)
    if box is not None:
        boxed[int(box[1] // cell):int(-(-box[3] // cell)), int(box[0] // cell):int(-(-box[2] // cell))] = True
    masks = [(boxed, None)] + [(body_mask(pts, unit, width, height, cell=cell, grow=0.1 * unit, arms_only=arms), note)
                               for arms, note in ((False, None), (True, "in front of the body"))]
    best = None
    for bottom in _surface_levels(pts, unit, h, height, placement):
        r0, r1 = int((bottom - h) // cell), int(-(-bottom // cell))
        for mask, note in masks:
            c1 = np.minimum(-(-(starts + w) // cell), mask.shape[1])
            cols = np.concatenate([[0], np.cumsum(mask[r0:r1].sum(axis=0))])
            covered = cols[c1] - cols[c0]
            i = int(np.lexsort((dist, covered))[0])
            spot = (float(starts[i] + w / 2), bottom - h / 2)
            if covered[i] == 0:
                return spot, note
            best = best or (spot if note else None)        # least arm cover at the preferred height
    return best, "no free spot: the product covers part of the arms"


def place_anchor(pts: np.ndarray, placement: str, *, unit: float, size: tuple[int, int], width: int,
                 height: int) -> tuple[tuple[float, float], str, str | None]:
    """(point, mode used, note) for a pasted placement."""
    if placement in ("table", "displayed"):
        point, note = _surface_spot(pts, unit, size, width, height, placement)
        return point, placement, note
    if placement == "both-hands":
        hands = {s: hand_point(pts, s) for s in ("hand-left", "hand-right")}
        found = [p for p in hands.values() if p is not None]
        if len(found) == 2:
            return (float(np.mean([p[0] for p in found])), float(np.mean([p[1] for p in found]))), placement, None
        if found:
            side = next(s for s, p in hands.items() if p is not None)
            missing = OTHER_HAND[side].split("-")[1]
            return found[0], side, f"{missing} wrist missing: placed at the {side.split('-')[1]} hand"
        return chest_point(pts, unit, width, height), "chest", "both wrists missing: placed at the chest"
    p = hand_point(pts, placement)
    if p is not None:
        return p, placement, None
    other = OTHER_HAND[placement]
    q = hand_point(pts, other)
    side = placement.split("-")[1]
    if q is not None:
        return q, other, f"{side} wrist missing: placed at the {other.split('-')[1]} hand"
    return chest_point(pts, unit, width, height), "chest", "both wrists missing: placed at the chest"


# --- pixels ------------------------------------------------------------------------------
def resize_cutout(cutout: Image.Image, size: tuple[int, int]) -> Image.Image:
    """The one resize of the cut-out (RGBA; Pillow premultiplies alpha for it). place_product first trims
    the cut-out to its visible pixels (a no-op for core.catalog.background's cut-outs), then calls this."""
    rgba = cutout.convert("RGBA")
    return rgba if rgba.size == tuple(size) else rgba.resize(tuple(size), Image.Resampling.LANCZOS)


def _blur(a: np.ndarray, radius: int) -> np.ndarray:
    """Separable Gaussian blur (sigma = radius / 2) of a 2D or 3D float array, edges padded with 0."""
    if radius <= 0:
        return a
    x = np.arange(-radius, radius + 1, dtype=np.float64)
    k = np.exp(-0.5 * (x / max(radius / 2, 0.5)) ** 2)
    k /= k.sum()
    out = a
    for axis in (0, 1):
        pad = [(0, 0)] * a.ndim
        pad[axis] = (radius, radius)
        p = np.pad(out, pad)
        n = out.shape[axis]
        out = sum(w * np.take(p, np.arange(i, i + n), axis=axis) for i, w in enumerate(k))
    return out


def _shadow(canvas: np.ndarray, box: tuple[int, int, int, int], strength: float = 0.35) -> None:
    """Darken a soft ellipse under the product's base, in place (float RGB canvas, box in its frame)."""
    x0, y0, x1, y1 = box
    H, W = canvas.shape[:2]
    w, h = x1 - x0, y1 - y0
    cx, cy = (x0 + x1) / 2, y1 - 0.02 * h
    rx, ry = 0.6 * w, max(2.0, 0.08 * h)
    r = int(max(2, ry))
    ys = slice(max(0, int(cy - ry) - r), min(H, int(cy + ry) + r + 1))
    xs = slice(max(0, int(cx - rx) - r), min(W, int(cx + rx) + r + 1))
    if ys.start >= ys.stop or xs.start >= xs.stop:
        return
    yy, xx = np.mgrid[ys, xs]
    inside = (((xx - cx) / rx) ** 2 + ((yy - cy) / ry) ** 2 <= 1.0).astype(np.float64)
    canvas[ys, xs] *= (1.0 - _blur(inside, r) * strength)[..., None]


def paste(image: Image.Image, product: Image.Image, box: tuple[int, int, int, int], *, feather: int = FEATHER,
          shadow: bool = False) -> Image.Image:
    """`product` (RGBA, already the box's size) over `image` (RGB) at `box`: fully opaque product pixels
    are copied exactly, partly transparent ones alpha-blended, a `feather`-px halo outside."""
    image = image.convert("RGB")
    W, H = image.size
    x0, y0, x1, y1 = box
    if product.size != (x1 - x0, y1 - y0) or x0 < 0 or y0 < 0 or x1 > W or y1 > H:
        raise ValidationFailed("compositing.box_invalid", field="box")
    f = max(0, int(feather))
    grow = f + (int(0.15 * max(x1 - x0, y1 - y0)) + 4 if shadow else 0)   # room for halo and shadow
    gx0, gy0, gx1, gy1 = max(0, x0 - grow), max(0, y0 - grow), min(W, x1 + grow), min(H, y1 + grow)
    region = np.asarray(image.crop((gx0, gy0, gx1, gy1)), dtype=np.float64)   # only this part changes
    local = (x0 - gx0, y0 - gy0, x1 - gx0, y1 - gy0)
    if shadow:
        _shadow(region, local)
    prod = np.asarray(product.convert("RGBA"))
    a = np.zeros(region.shape[:2])
    col = np.zeros(region.shape)
    a[local[1]:local[3], local[0]:local[2]] = prod[..., 3] / 255.0
    col[local[1]:local[3], local[0]:local[2]] = prod[..., :3]
    if f:
        halo = _blur(a, f)
        spread = _blur(col * a[..., None], f) / np.maximum(halo, 1e-6)[..., None]   # product colours, outward
        col = np.where((a > 0)[..., None], col, spread)
        a = np.where(a > 0, a, 0.6 * halo)
    blended = np.clip(np.rint(region * (1.0 - a[..., None]) + col * a[..., None]), 0, 255).astype(np.uint8)
    opaque = prod[..., 3] == 255                                       # exactly the resized cut-out
    blended[local[1]:local[3], local[0]:local[2]][opaque] = prod[..., :3][opaque]
    out = image.copy()
    out.paste(Image.fromarray(blended, "RGB"), (gx0, gy0))
    return out


# --- the call ----------------------------------------------------------------------------
@dataclass(frozen=True)
class Layout:
    """Where a pasted placement puts the product on a canvas, before any pixel is touched."""
    product: Image.Image                        # RGBA, the box's size: the one resize of the cut-out
    box: tuple[int, int, int, int]
    mode: str
    anchor: tuple[float, float]
    note: str | None
    shadow: bool                                # whether a paste draws a contact shadow (table / displayed)


def check_placement(placement: str) -> None:
    if placement not in PLACEMENTS:
        raise ValidationFailed("compositing.unknown_placement", placement=placement, known=list(PLACEMENTS),
                               field="placement")


def layout(*, size: tuple[int, int], cutout: Image.Image | None, keypoints: Any, placement: str,
           product_type: str | None = None, shadow: bool | None = None) -> Layout:
    """The product's box and resized cut-out for a pasted placement (PASTED) on a canvas of `size`."""
    check_placement(placement)
    if not isinstance(cutout, Image.Image):
        raise ValidationFailed("compositing.cutout_required", placement=placement, field="cutout")
    cut = cutout.convert("RGBA")
    bbox = cut.getchannel("A").getbbox()
    if bbox is None:
        raise ValidationFailed("compositing.cutout_transparent", field="cutout")
    cut = cut.crop(bbox)                               # pre-trimmed cut-outs are unchanged by this
    W, H = size
    pts = _points(keypoints, W, H)
    unit = body_unit(pts, H)
    psize = product_size(cut.size, unit=unit, product_type=product_type, limit=(W, H))
    anchor, mode, note = place_anchor(pts, placement, unit=unit, size=psize, width=W, height=H)
    box = _clamp_box(anchor[0], anchor[1], psize[0], psize[1], W, H)
    use_shadow = placement in ("table", "displayed") if shadow is None else shadow
    return Layout(resize_cutout(cut, psize), box, mode, (round(anchor[0], 2), round(anchor[1], 2)), note,
                  use_shadow)


def place_product(*, image: Image.Image, cutout: Image.Image | None, keypoints: Any, placement: str,
                  product_type: str | None = None, feather: int = FEATHER, shadow: bool | None = None) -> Composite:
    """Paste the product where `placement` puts it (module docstring). `keypoints`: a Pose, its JSON
    list or an (18, 2|3) array, normalised to `image`. `shadow`: None = on for table / displayed."""
    check_placement(placement)
    if not isinstance(image, Image.Image):
        raise ValidationFailed("compositing.image_invalid", field="image")
    image = image.convert("RGB")
    if placement not in PASTED:
        return Composite(image, None, "prompt-only")
    at = layout(size=image.size, cutout=cutout, keypoints=keypoints, placement=placement,
                product_type=product_type, shadow=shadow)
    out = paste(image, at.product, at.box, feather=feather, shadow=at.shadow)
    return Composite(out, at.box, at.mode, at.anchor, at.note)
