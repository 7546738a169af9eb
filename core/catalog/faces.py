"""The avatar's face: the square of the avatar photo that likeness (IP-Adapter "plus face") is taken from, and
the reference its identity score compares with.

Where the box comes from (Avatar.face_source):
- "detector": the pose detector's head keypoints (nose, eyes, ears; OpenPose-18) on the avatar photo. The
  box is centred on the face points and sized from the widest of ear-to-ear, 2.2 x eye-to-eye and
  1.2 x nose-to-neck, times FACE_MARGIN, so hair and chin are inside. Made by the first render on a
  machine that has the detector (the web process never loads it), once per photo.
- "portrait": without a detector, or when it finds no head: a portrait's face is assumed in the upper middle
  — a square of PORTRAIT_SIDE x the photo's width (at most its height), centred horizontally, its top at
  PORTRAIT_TOP x the height. Right for the head-and-shoulders photos avatars usually are; the user moves it
  otherwise.
- "user": set by the user on the Avatars page or with PUT .../avatars/{id}/face.
The crop is stored as a PNG (FACE_SIDE px at most) beside the photo.
"""
from __future__ import annotations

import io
import math

from PIL import Image

from core.errors import ValidationFailed

NOSE, NECK, R_EYE, L_EYE, R_EAR, L_EAR = 0, 1, 14, 15, 16, 17
FACE_POINTS = (NOSE, R_EYE, L_EYE, R_EAR, L_EAR)
FACE_MARGIN = 1.6
PORTRAIT_SIDE, PORTRAIT_TOP = 0.55, 0.06
MIN_SIDE = 32          # px: a smaller face box holds too little to be a likeness
FACE_SIDE = 512        # px: the stored crop's longest side (the image encoder sees 224)
SOURCES = ("detector", "portrait", "user")

Box = tuple[int, int, int, int]


def portrait_box(width: int, height: int) -> Box:
    """The documented fallback: the upper-middle square of a portrait."""
    side = max(1, min(round(width * PORTRAIT_SIDE), height))
    left = (width - side) // 2
    top = min(round(height * PORTRAIT_TOP), height - side)
    return left, top, left + side, top + side


def box_from_people(width: int, height: int, people: list) -> Box | None:
    """The face box of the person whose head the detector saw best ([x, y, conf] in 0..1 per keypoint, or
    None), or None when no one shows at least a nose or an eye plus one more face point."""
    best, best_n = None, 0
    for person in people or []:
        pts = {i: (person[i][0] * width, person[i][1] * height) for i in FACE_POINTS + (NECK,)
               if i < len(person) and person[i] is not None}
        face = [pts[i] for i in FACE_POINTS if i in pts]
        if len(face) < 2 or not ({NOSE, R_EYE, L_EYE} & pts.keys()):
            continue
        if len(face) > best_n:
            best, best_n = pts, len(face)
    if best is None:
        return None
    face = [best[i] for i in FACE_POINTS if i in best]
    cx, cy = sum(p[0] for p in face) / len(face), sum(p[1] for p in face) / len(face)
    spans = [_dist(best, R_EAR, L_EAR), 2.2 * _dist(best, R_EYE, L_EYE), 1.2 * _dist(best, NOSE, NECK)]
    side = max([s for s in spans if s] + [MIN_SIDE]) * FACE_MARGIN
    side = min(side, width, height)
    left = min(max(0, round(cx - side / 2)), width - round(side))
    top = min(max(0, round(cy - side / 2)), height - round(side))
    return left, top, left + round(side), top + round(side)


def _dist(pts: dict, a: int, b: int) -> float:
    if a in pts and b in pts:
        return math.dist(pts[a], pts[b])
    return 0.0


def check_box(box, width: int, height: int) -> Box:
    """A user's box: four whole numbers inside the photo, at least MIN_SIDE px each way."""
    try:
        left, top, right, bottom = (int(v) for v in box)
    except (TypeError, ValueError):
        raise ValidationFailed("faces.box_not_numbers", field="box") from None
    if not (0 <= left < right <= width and 0 <= top < bottom <= height):
        raise ValidationFailed("faces.box_outside", field="box", left=left, top=top, right=right, bottom=bottom,
                               width=width, height=height)
    if right - left < MIN_SIDE or bottom - top < MIN_SIDE:
        raise ValidationFailed("faces.box_too_small", field="box", side=MIN_SIDE)
    return left, top, right, bottom


def crop_png(image: Image.Image, box: Box) -> bytes:
    """The face as a PNG, FACE_SIDE px at most."""
    face = image.convert("RGB").crop(box)
    if max(face.size) > FACE_SIDE:
        face.thumbnail((FACE_SIDE, FACE_SIDE), Image.Resampling.LANCZOS)
    out = io.BytesIO()
    face.save(out, "PNG", compress_level=3)
    return out.getvalue()
