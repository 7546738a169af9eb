"""Smart crop: which part of the photo a layout's photo area shows, and how it is pasted there.

The photo area has its own aspect. The "must" box (the head, grown upward past the nose, and the
product box) has to land inside the area's keep rectangle (the area minus the format's safe zone);
the "want" box (the whole person and the product) is centred when there is room.

    plan = plan_crop(photo_size=(512, 768), rect=(0, 0, 1080, 1080), keep=(43, 43, 1037, 1037),
                     must=(150, 40, 360, 500), want=(120, 40, 390, 740))

1. The largest window of the area's aspect inside the photo is tried first (no zoom, no padding).
2. If the must box does not fit it (a standing model in a wide banner), the window grows past the
   photo's edges just enough for the must box, then up to 25% more (never past the whole photo)
   so more of the person shows; the part outside the photo is filled (the photo's edges stretched
   and blurred, or a brand colour). Heads and products are never cut; the letterbox is the price.
3. The centre of the person (or of the product; else of the photo) goes to the keep area's centre,
   then the window slides so the must box is inside the keep area.
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, Sequence

import numpy as np
from PIL import Image, ImageDraw, ImageFilter

from core.errors import ValidationFailed
from core.posters.palette import RGB

FBox = tuple[float, float, float, float]
NOSE, NECK, R_SHOULDER, L_SHOULDER = 0, 1, 2, 5
FACE = (0, 14, 15, 16, 17)  # nose, eyes, ears
COUNT = 18
PRODUCT_MARGIN = 0.02  # of the photo's longer side, around the product box


def parse_keypoints(keypoints: Any) -> list[tuple[float, float] | None] | None:
    """18 OpenPose entries ([x, y, confidence] normalised, or None) -> points; confidence 0 = missing."""
    if keypoints is None:
        return None
    if hasattr(keypoints, "keypoints"):  # a core.library.poses Pose
        keypoints = keypoints.keypoints
    if not isinstance(keypoints, (list, tuple)) or len(keypoints) != COUNT:
        raise ValidationFailed("crop.keypoints_count", field="keypoints", count=COUNT)
    out: list[tuple[float, float] | None] = []
    for entry in keypoints:
        if entry is None:
            out.append(None)
            continue
        try:
            x, y = float(entry[0]), float(entry[1])
            conf = float(entry[2]) if len(entry) > 2 else 1.0
        except (TypeError, ValueError, IndexError):
            raise ValidationFailed("crop.keypoint_invalid", field="keypoints") from None
        if not (math.isfinite(x) and math.isfinite(y) and math.isfinite(conf)):
            raise ValidationFailed("crop.keypoints_not_finite", field="keypoints")
        out.append((x, y) if conf > 0 else None)
    return out if any(p is not None for p in out) else None


def check_box(box: Any, size: tuple[int, int], *, field: str = "product_box") -> FBox | None:
    """A pixel box (x0, y0, x1, y1; x1/y1 exclusive) clipped to the photo; None stays None."""
    if box is None:
        return None
    try:
        x0, y0, x1, y1 = (float(v) for v in box)
    except (TypeError, ValueError):
        raise ValidationFailed("crop.box_invalid", field=field) from None
    w, h = size
    x0, y0, x1, y1 = max(0.0, x0), max(0.0, y0), min(float(w), x1), min(float(h), y1)
    if x1 <= x0 or y1 <= y0:
        raise ValidationFailed("crop.box_empty", field=field)
    return x0, y0, x1, y1


def _px(points: list, size: tuple[int, int]) -> list[tuple[float, float] | None]:
    w, h = size
    return [None if p is None else (p[0] * w, p[1] * h) for p in points]


def _unit(pts: list, size: tuple[int, int]) -> float:
    """Nose-to-neck distance in px, estimated from the shoulders when the face is missing."""
    nose, neck = pts[NOSE], pts[NECK]
    if nose and neck:
        return max(math.dist(nose, neck), 0.02 * size[1])
    rs, ls = pts[R_SHOULDER], pts[L_SHOULDER]
    if rs and ls:
        return max(math.dist(rs, ls) / 3.15, 0.02 * size[1])
    return 0.08 * size[1]


def head_box(points: list | None, size: tuple[int, int]) -> FBox | None:
    """The head in photo px, d = nose-to-neck: from 0.8 d above the eyes/ears (1.0 d above the nose
    when they are missing; room for hair or a hijab) down to the neck, 0.45 d beside the face.
    Without a face, 1.7 d above the neck. None when neither the face nor the neck is known."""
    if not points:
        return None
    pts = _px(points, size)
    d = _unit(pts, size)
    face = [pts[i] for i in FACE if pts[i] is not None]
    neck = pts[NECK]
    if face:
        xs, ys = [p[0] for p in face], [p[1] for p in face]
        tops = [pts[i][1] - (1.0 if i == NOSE else 0.8) * d for i in FACE if pts[i] is not None]
        box = (min(xs) - 0.45 * d, min(tops), max(xs) + 0.45 * d, neck[1] if neck else max(ys) + 0.5 * d)
    elif neck:
        box = (neck[0] - 0.5 * d, neck[1] - 1.7 * d, neck[0] + 0.5 * d, neck[1])
    else:
        return None
    return _clip(box, size)


def person_box(points: list | None, size: tuple[int, int]) -> FBox | None:
    """Every known joint and the head, with room for hands and feet."""
    if not points:
        return None
    pts = _px(points, size)
    known = [p for p in pts if p is not None]
    d = _unit(pts, size)
    xs, ys = [p[0] for p in known], [p[1] for p in known]
    box = (min(xs) - 0.3 * d, min(ys) - 0.3 * d, max(xs) + 0.3 * d, max(ys) + 0.35 * d)
    head = head_box(points, size)
    return _clip(union(box, head) or box, size)


def union(*boxes: FBox | None) -> FBox | None:
    real = [b for b in boxes if b is not None]
    if not real:
        return None
    return min(b[0] for b in real), min(b[1] for b in real), max(b[2] for b in real), max(b[3] for b in real)


def grow(box: FBox | None, margin: float) -> FBox | None:
    return None if box is None else (box[0] - margin, box[1] - margin, box[2] + margin, box[3] + margin)


def _clip(box: FBox, size: tuple[int, int]) -> FBox:
    w, h = size
    return max(0.0, box[0]), max(0.0, box[1]), min(float(w), box[2]), min(float(h), box[3])


@dataclass(frozen=True)
class CropPlan:
    """The window of photo px (may reach past the photo) shown in `rect` of the poster."""

    window: FBox
    rect: tuple[int, int, int, int]
    photo_size: tuple[int, int]

    @property
    def scale(self) -> float:
        return (self.rect[2] - self.rect[0]) / (self.window[2] - self.window[0])

    @property
    def offset(self) -> tuple[float, float]:
        s = self.scale
        return self.rect[0] - self.window[0] * s, self.rect[1] - self.window[1] * s

    def map_box(self, box: FBox | None) -> tuple[int, int, int, int] | None:
        if box is None:
            return None
        s, (ox, oy) = self.scale, self.offset
        return (math.floor(ox + box[0] * s), math.floor(oy + box[1] * s),
                math.ceil(ox + box[2] * s), math.ceil(oy + box[3] * s))

    @property
    def visible(self) -> FBox:
        """The part of the photo inside the window (photo px)."""
        w, h = self.photo_size
        x0, y0, x1, y1 = self.window
        return max(0.0, x0), max(0.0, y0), min(float(w), x1), min(float(h), y1)

    @property
    def padded(self) -> bool:
        x0, y0, x1, y1 = self.window
        w, h = self.photo_size
        eps = 1e-6
        return x0 < -eps or y0 < -eps or x1 > w + eps or y1 > h + eps


def _place(length: float, photo: float, must: tuple[float, float] | None, keep: tuple[float, float],
           centre: float, frame: tuple[float, float] | None = None) -> float:
    """Start of the window on one axis: `centre` at the middle of `frame` (default: of the keep
    area), the window inside the photo when it is smaller, and `must` inside the keep area."""
    frame = frame or keep
    start = centre - length * (frame[0] + frame[1]) / 2
    start = min(max(start, 0.0), photo - length) if length <= photo else (photo - length) / 2
    if must is not None:
        lo, hi = must[1] - length * keep[1], must[0] - length * keep[0]
        start = min(max(start, lo), hi)
    return start


def plan_crop(*, photo_size: tuple[int, int], rect: Sequence[int], keep: Sequence[int] | None = None,
              must: FBox | None = None, want: FBox | None = None) -> CropPlan:
    """Choose the window of the photo that fills `rect` (poster px) with `must` inside `keep`."""
    w, h = photo_size
    rx0, ry0, rx1, ry1 = (int(v) for v in rect)
    rw, rh = rx1 - rx0, ry1 - ry0
    kx0, ky0, kx1, ky1 = keep if keep is not None else (rx0, ry0, rx1, ry1)
    fx = ((kx0 - rx0) / rw, (kx1 - rx0) / rw)  # keep rectangle as fractions of the area
    fy = ((ky0 - ry0) / rh, (ky1 - ry0) / rh)
    aspect = rw / rh
    cw, ch = (h * aspect, float(h)) if w / h > aspect else (float(w), w / aspect)

    def need(box: FBox | None) -> float:
        if box is None:
            return 0.0
        return max((box[2] - box[0]) / ((fx[1] - fx[0]) * cw), (box[3] - box[1]) / ((fy[1] - fy[0]) * ch))

    k = max(1.0, need(must))
    if k > 1.0:  # padding is unavoidable: show a little more of the person while at it
        k = max(k, min(need(want), max(w / cw, h / ch), 1.25 * k))
    lw, lh = cw * k, ch * k
    target = want or must
    cx = (target[0] + target[2]) / 2 if target else w / 2
    cy = (target[1] + target[3]) / 2 if target else h / 2
    mid = (0.0, 1.0) if target is None else None  # nothing to look at: a plain centre crop
    x0 = _place(lw, w, None if must is None else (must[0], must[2]), fx, cx, mid)
    y0 = _place(lh, h, None if must is None else (must[1], must[3]), fy, cy, mid)
    return CropPlan(window=(x0, y0, x0 + lw, y0 + lh), rect=(rx0, ry0, rx1, ry1), photo_size=(w, h))


def _extended_fill(part: Image.Image, at: tuple[int, int], size: tuple[int, int], tint: RGB | None) -> Image.Image:
    """A background of `size` that continues the photo `part` (placed at `at`) past its edges: the
    edge pixels are stretched outward and blurred, at 1/8 scale so it costs nothing; tinted lightly."""
    f = 8
    w, h = size
    sw, sh = max(1, -(-w // f)), max(1, -(-h // f))
    pw, ph = max(1, round(part.width / f)), max(1, round(part.height / f))
    x, y = min(max(0, round(at[0] / f)), sw - 1), min(max(0, round(at[1] / f)), sh - 1)
    pw, ph = min(pw, sw - x), min(ph, sh - y)
    small = np.asarray(part.resize((pw, ph), Image.BOX))
    arr = np.pad(small, ((y, sh - y - ph), (x, sw - x - pw), (0, 0)), mode="edge")
    out = Image.fromarray(arr).filter(ImageFilter.GaussianBlur(3)).resize((sw * f, sh * f), Image.BICUBIC)
    out = out.crop((0, 0, w, h))
    if tint is not None:
        out = Image.blend(out, Image.new("RGB", size, tint), 0.2)
    return out


def paste_photo(canvas: Image.Image, photo: Image.Image, plan: CropPlan, *, pad: RGB | None = None,
                tint: RGB | None = None, radius: int = 0) -> tuple[int, int, int, int]:
    """Draw the plan's window into canvas; returns where the photo's own pixels went (poster px).

    The area outside the photo gets `pad` (a flat colour) or, when pad is None, the photo's edges
    stretched outward and blurred, tinted toward `tint`. radius rounds the photo's own corners.
    """
    rx0, ry0, rx1, ry1 = plan.rect
    s, (ox, oy) = plan.scale, plan.offset
    vx0, vy0, vx1, vy1 = plan.visible
    dx0, dy0 = max(rx0, round(ox + vx0 * s)), max(ry0, round(oy + vy0 * s))
    dx1, dy1 = min(rx1, round(ox + vx1 * s)), min(ry1, round(oy + vy1 * s))
    part = photo.resize((dx1 - dx0, dy1 - dy0), Image.LANCZOS, box=(vx0, vy0, vx1, vy1))
    if (dx0, dy0, dx1, dy1) != (rx0, ry0, rx1, ry1):
        size = (rx1 - rx0, ry1 - ry0)
        if pad is not None:
            fill = Image.new("RGB", size, pad)
        else:
            fill = _extended_fill(part, (dx0 - rx0, dy0 - ry0), size, tint)
        canvas.paste(fill, (rx0, ry0))
    mask = None
    if radius > 0:
        mask = Image.new("L", part.size, 0)
        ImageDraw.Draw(mask).rounded_rectangle((0, 0, part.width - 1, part.height - 1), radius=radius, fill=255)
    canvas.paste(part, (dx0, dy0), mask)
    return dx0, dy0, dx1, dy1
