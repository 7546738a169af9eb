"""Skeleton renderer: pixel-identical to controlnet_aux 0.0.10 `draw_poses(..., draw_hand=False,
draw_face=False)` (open_pose/util.py `draw_bodypose`), without importing controlnet_aux.

The arithmetic is done in Python floats in the same order as the original's numpy float64 scalars,
so every rounding (int() truncation of centre, half-length and angle) lands on the same pixel:
limbs are `cv2.ellipse2Poly(centre, (int(length / 2), 4), int(angle), 0, 360, 1)` polygons filled with
0.6 x the limb colour, then every joint is a filled radius-4 circle in full colour.
"""
from __future__ import annotations

import math
import struct
import zlib
from typing import Any, Iterable

import cv2
import numpy as np

from core.errors import ValidationFailed
from core.library.poses.keypoints import COLORS, LIMB_COLORS, LIMBS, Pose, as_pose

STICKWIDTH = 4
JOINT_RADIUS = 4
MAX_SIDE = 8192


def draw_bodypose(canvas: np.ndarray, pose: Any) -> np.ndarray:
    """Draw one pose onto an (H, W, 3) uint8 RGB canvas in place; returns the canvas."""
    return _draw(canvas, as_pose(pose), LIMB_COLORS, COLORS)


def _draw(canvas: np.ndarray, pose: Pose, limb_colors: Any, joint_colors: Any) -> np.ndarray:
    H, W = canvas.shape[0], canvas.shape[1]
    fw, fh = float(W), float(H)
    kps = pose.keypoints
    for (a, b), color in zip(LIMBS, limb_colors):
        k1, k2 = kps[a], kps[b]
        if k1 is None or k2 is None:
            continue
        y0, y1 = k1.x * fw, k2.x * fw  # the original names x "Y" and y "X"
        x0, x1 = k1.y * fh, k2.y * fh
        m_x = (x0 + x1) / 2.0
        m_y = (y0 + y1) / 2.0
        length = ((x0 - x1) ** 2 + (y0 - y1) ** 2) ** 0.5
        angle = math.degrees(math.atan2(x0 - x1, y0 - y1))
        polygon = cv2.ellipse2Poly((int(m_y), int(m_x)), (int(length / 2), STICKWIDTH), int(angle), 0, 360, 1)
        cv2.fillConvexPoly(canvas, polygon, color)
    for kp, color in zip(kps, joint_colors):
        if kp is None:
            continue
        cv2.circle(canvas, (int(kp.x * W), int(kp.y * H)), JOINT_RADIUS, color, thickness=-1)
    return canvas


def _check_size(width: int, height: int) -> None:
    if not (isinstance(width, int) and isinstance(height, int)):
        raise ValidationFailed("poses.size_not_integers", field="size")
    if not (1 <= width <= MAX_SIDE and 1 <= height <= MAX_SIDE):
        raise ValidationFailed("poses.size_out_of_range", field="size", most=MAX_SIDE)


def render_skeleton(poses: Any, width: int, height: int) -> np.ndarray:
    """Black (height, width, 3) uint8 RGB canvas with one pose or a list of poses drawn in order."""
    _check_size(width, height)
    canvas = np.zeros((height, width, 3), dtype=np.uint8)
    for pose in _as_pose_list(poses):
        draw_bodypose(canvas, pose)
    return canvas


def _png(width: int, height: int, color_type: int, rows: np.ndarray, plte: bytes = b"", level: int = 6) -> bytes:
    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    raw = np.zeros((height, rows.shape[1] + 1), np.uint8)  # filter byte 0 (none) per row
    raw[:, 1:] = rows
    head = struct.pack(">IIBBBBB", width, height, 8, color_type, 0, 0, 0)
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", head) + (chunk(b"PLTE", plte) if plte else b"")
            + chunk(b"IDAT", zlib.compress(raw.tobytes(), level)) + chunk(b"IEND", b""))


def encode_png(rgb: np.ndarray, level: int = 1) -> bytes:
    """PNG bytes of an (H, W, 3) uint8 RGB array."""
    h, w = rgb.shape[:2]
    return _png(w, h, 2, np.ascontiguousarray(rgb).reshape(h, w * 3), level=level)


# Palette of a skeleton: 0 black, 1..18 joint colours, 19..35 limb colours.
_PLTE = bytes(np.array(((0, 0, 0),) + COLORS + LIMB_COLORS, dtype=np.uint8).ravel())
_JOINT_INDEX = tuple(range(1, 19))
_LIMB_INDEX = tuple(range(19, 19 + len(LIMBS)))


def render_preview(keypoints: Any, width: int, height: int) -> bytes:
    """PNG bytes of the skeleton: the same pixels as render_skeleton (what ControlNet gets).

    Drawn into a palette image (one byte a pixel; every pixel of a skeleton is one of 36 colours),
    which decodes to exactly the RGB drawing and is smaller and faster to encode.
    """
    _check_size(width, height)
    canvas = np.zeros((height, width), dtype=np.uint8)
    for pose in _as_pose_list(keypoints):
        _draw(canvas, pose, _LIMB_INDEX, _JOINT_INDEX)
    return _png(width, height, 3, canvas, _PLTE, level=3)


def _as_pose_list(poses: Any) -> list[Pose]:
    if isinstance(poses, Pose) or isinstance(poses, np.ndarray):
        return [as_pose(poses)]
    if isinstance(poses, (list, tuple)) and poses and _looks_like_points(poses):
        return [as_pose(list(poses))]
    if isinstance(poses, (list, tuple)):
        return [as_pose(p) for p in poses]
    return [as_pose(poses)]


def _looks_like_points(items: Iterable[Any]) -> bool:
    """A stored keypoint list (18 entries of None / [x, y(, c)]) rather than a list of poses."""
    items = list(items)
    return len(items) == 18 and all(
        it is None or (isinstance(it, (list, tuple)) and len(it) in (2, 3) and isinstance(it[0], (int, float)))
        for it in items
    )
