"""Geometric transforms of a pose: mirror, translate, scale, fit into a canvas of another aspect.

Coordinates are normalised to the canvas, so "real" geometry needs the canvas aspect (width /
height): a square in pixels is `w` wide and `w * aspect` high in normalised units. `fit_to_aspect`
works in real units and keeps the body's proportions whatever the two aspects are.
"""
from __future__ import annotations

from typing import Any

import numpy as np

from core.errors import ValidationFailed
from core.library.poses.keypoints import MIRROR, Pose, as_pose, parse_aspect


def _from_xy(xy: np.ndarray, like: Pose) -> Pose:
    arr = like.to_array()
    arr[:, :2] = xy
    return Pose.from_array(arr)


def mirror(pose: Any) -> Pose:
    """Flip horizontally: x -> 1 - x, and every right/left pair swaps its label."""
    pose = as_pose(pose)
    arr = pose.to_array()[list(MIRROR)]
    arr[:, 0] = 1.0 - arr[:, 0]
    return Pose.from_array(arr)


def translate(pose: Any, dx: float, dy: float) -> Pose:
    pose = as_pose(pose)
    return _from_xy(pose.xy() + (dx, dy), pose)


def scale(pose: Any, factor: float, center: tuple[float, float] = (0.5, 0.5)) -> Pose:
    """Scale about `center` (normalised); the same factor on both axes keeps the proportions."""
    if not factor > 0:
        raise ValidationFailed("poses.scale_not_positive", field="factor")
    pose = as_pose(pose)
    c = np.asarray(center, dtype=np.float64)
    return _from_xy((pose.xy() - c) * factor + c, pose)


def bbox(pose: Any) -> tuple[float, float, float, float]:
    """(x0, y0, x1, y1) of the present joints, normalised."""
    xy = as_pose(pose).xy()
    xy = xy[~np.isnan(xy[:, 0])]
    if not len(xy):
        raise ValidationFailed("poses.no_keypoints", field="keypoints")
    return float(xy[:, 0].min()), float(xy[:, 1].min()), float(xy[:, 0].max()), float(xy[:, 1].max())


def fit_to_aspect(
    pose: Any,
    aspect: str | float = "2:3",
    *,
    source_aspect: str | float = "2:3",
    margin: float = 0.06,
    pad: tuple[float, float, float, float] = (0.0, 0.0, 0.0, 0.0),
) -> Pose:
    """Re-frame a pose drawn on a `source_aspect` canvas into an `aspect` canvas.

    The joints' bounding box, grown by `pad` (left, top, right, bottom, in units of the box height:
    room for the head above the eyes, hands beyond the wrists, feet below the ankles), is scaled
    uniformly to fill the target canvas less `margin` (a fraction of each side) and centred.
    """
    if not 0 <= margin < 0.5:
        raise ValidationFailed("poses.margin_out_of_range", field="margin")
    pose = as_pose(pose)
    src, dst = parse_aspect(source_aspect), parse_aspect(aspect)
    xy = pose.xy() * (src, 1.0)  # real units: canvas height 1
    ok = ~np.isnan(xy[:, 0])
    if not ok.any():
        raise ValidationFailed("poses.no_keypoints", field="keypoints")
    lo, hi = xy[ok].min(axis=0), xy[ok].max(axis=0)
    size = max(float(hi[1] - lo[1]), float(hi[0] - lo[0]), 1e-6)
    lo = lo - np.array(pad[:2]) * size
    hi = hi + np.array(pad[2:]) * size
    box = np.maximum(hi - lo, 1e-6)
    room = np.array([dst * (1 - 2 * margin), 1 - 2 * margin])
    k = float(min(room / box))
    centre = (lo + hi) / 2
    out = (xy - centre) * k + (dst / 2, 0.5)
    return _from_xy(out / (dst, 1.0), pose)


def to_pixels(pose: Any, width: int, height: int) -> np.ndarray:
    """(18, 2) pixel coordinates (float, NaN for missing)."""
    return as_pose(pose).xy() * (width, height)


def from_pixels(points: np.ndarray, width: int, height: int, confidence: np.ndarray | None = None) -> Pose:
    """From (18, 2) pixel coordinates with NaN rows for missing joints."""
    xy = np.asarray(points, dtype=np.float64) / (width, height)
    conf = np.ones(len(xy)) if confidence is None else np.asarray(confidence, dtype=np.float64)
    return Pose.from_array(np.column_stack([xy, conf]))
