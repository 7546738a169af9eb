"""Geometry helpers of the skeleton-image importer: fit a joint disc, find a limb's ends."""
from __future__ import annotations

import cv2
import numpy as np

from core.library.poses.keypoints import COUNT
from core.library.poses.render import JOINT_RADIUS

_R = JOINT_RADIUS + 1
_DISC = np.zeros((2 * _R + 1, 2 * _R + 1), np.uint8)
cv2.circle(_DISC, (_R, _R), JOINT_RADIUS, 1, thickness=-1)
_DISC = _DISC.astype(bool)
_DY, _DX = (v - _R for v in np.nonzero(_DISC))  # offsets of the disc's pixels
_SEARCH = 6
_DISC_KEYS = np.sort(_DY * 64 + _DX).astype(np.float64)


def fit_disc(labels: np.ndarray, xs: np.ndarray, ys: np.ndarray, joint: int) -> tuple[float, float, float]:
    """Centre (pixel index x, y) and confidence of joint `joint`'s disc from its visible pixels.

    A centre is valid when its disc holds every visible pixel and the rest of the disc is covered
    by discs drawn later (joints with a higher index) or lies outside the image; among valid
    centres the one nearest the visible pixels' centroid wins. Without a valid centre (a resized
    or re-compressed image) the centroid itself is returned with a lower confidence.
    """
    H, W = labels.shape
    mx, my = float(xs.mean()), float(ys.mean())
    if len(xs) > 4 * len(_DX):  # far bigger than one disc: not our drawing scale
        return mx, my, 0.7
    if len(xs) == len(_DX) and mx.is_integer() and my.is_integer():  # a whole disc: the usual case
        if np.array_equal(np.sort((ys - my) * 64 + (xs - mx)), _DISC_KEYS):
            return mx, my, 1.0
    cx = np.arange(int(round(mx)) - _SEARCH, int(round(mx)) + _SEARCH + 1)
    cy = np.arange(int(round(my)) - _SEARCH, int(round(my)) + _SEARCH + 1)
    gx, gy = (g.ravel() for g in np.meshgrid(cx, cy))
    # 1) every visible pixel inside the candidate's disc
    ox, oy = xs[None, :] - gx[:, None], ys[None, :] - gy[:, None]
    inside = (np.abs(ox) <= _R) & (np.abs(oy) <= _R)
    held = np.zeros_like(inside)
    held[inside] = _DISC[(oy[inside] + _R), (ox[inside] + _R)]
    ok = held.all(axis=1)
    # 2) the rest of the disc painted by a later joint (strict) or by anything (relaxed)
    px, py = gx[:, None] + _DX[None, :], gy[:, None] + _DY[None, :]
    in_img = (px >= 0) & (px < W) & (py >= 0) & (py < H)
    lab = np.full(px.shape, COUNT, dtype=np.int16)
    lab[in_img] = labels[py[in_img], px[in_img]]
    strict = ok & ((lab == joint) | ((lab > joint) & (lab < COUNT)) | ~in_img).all(axis=1)
    relaxed = ok & ((lab >= 0) | ~in_img).all(axis=1)
    for valid, conf in ((strict, 1.0), (relaxed, 0.9)):
        if valid.any():
            idx = np.nonzero(valid)[0]
            best = idx[np.argmin((gx[idx] - mx) ** 2 + (gy[idx] - my) ** 2)]
            return float(gx[best]), float(gy[best]), conf
    return mx, my, 0.7


def limb_ends(pieces: list[tuple[np.ndarray, np.ndarray]], min_pixels: int = 4) -> list[tuple[np.ndarray, np.ndarray]]:
    """For every piece (xs, ys) of one limb colour: its two extreme points along the main axis."""
    out = []
    for xs, ys in pieces:
        if len(xs) < min_pixels:
            continue
        pts = np.column_stack([xs, ys]).astype(np.float64)
        centre = pts.mean(axis=0)
        u = np.linalg.eigh(np.cov((pts - centre).T))[1][:, -1]
        t = (pts - centre) @ u
        out.append((centre + u * t.min(), centre + u * t.max()))
    return out
