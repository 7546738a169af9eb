"""The OpenPose-18 body layout ControlNet OpenPose was trained on, and one pose in it.

Coordinates are normalised to the canvas (x right, y down, 0..1 inside the frame) with a confidence
in 0..1; a joint may be missing (None). `Pose.to_json()` is the shape stored in
PoseTemplate.keypoints_json: a list of 18 entries, each `[x, y, confidence]` or `null`.
"""
from __future__ import annotations

import json
import math
from dataclasses import dataclass
from typing import Any, Iterable, NamedTuple, Sequence

import numpy as np

from core.errors import ValidationFailed

NAMES = (
    "nose", "neck",
    "right_shoulder", "right_elbow", "right_wrist",
    "left_shoulder", "left_elbow", "left_wrist",
    "right_hip", "right_knee", "right_ankle",
    "left_hip", "left_knee", "left_ankle",
    "right_eye", "left_eye", "right_ear", "left_ear",
)
(NOSE, NECK, R_SHOULDER, R_ELBOW, R_WRIST, L_SHOULDER, L_ELBOW, L_WRIST, R_HIP, R_KNEE, R_ANKLE,
 L_HIP, L_KNEE, L_ANKLE, R_EYE, L_EYE, R_EAR, L_EAR) = range(18)
COUNT = 18

# controlnet_aux open_pose/util.py draw_bodypose: limbSeq minus one, in drawing order.
LIMBS = (
    (1, 2), (1, 5), (2, 3), (3, 4), (5, 6), (6, 7), (1, 8), (8, 9), (9, 10),
    (1, 11), (11, 12), (12, 13), (1, 0), (0, 14), (14, 16), (0, 15), (15, 17),
)
# The same file's colours (RGB). Joint i is drawn in COLORS[i], limb k in 0.6 * COLORS[k].
COLORS = (
    (255, 0, 0), (255, 85, 0), (255, 170, 0), (255, 255, 0), (170, 255, 0), (85, 255, 0),
    (0, 255, 0), (0, 255, 85), (0, 255, 170), (0, 255, 255), (0, 170, 255), (0, 85, 255),
    (0, 0, 255), (85, 0, 255), (170, 0, 255), (255, 0, 255), (255, 0, 170), (255, 0, 85),
)
LIMB_COLORS = tuple(tuple(int(float(c) * 0.6) for c in color) for color in COLORS[: len(LIMBS)])
# Index of the joint each joint becomes when the picture is mirrored (right <-> left).
MIRROR = (0, 1, 5, 6, 7, 2, 3, 4, 11, 12, 13, 8, 9, 10, 15, 14, 17, 16)
FACE = (NOSE, R_EYE, L_EYE, R_EAR, L_EAR)
BONES = {  # name -> (joint, joint), for plausibility checks
    "right_upper_arm": (R_SHOULDER, R_ELBOW), "right_forearm": (R_ELBOW, R_WRIST),
    "left_upper_arm": (L_SHOULDER, L_ELBOW), "left_forearm": (L_ELBOW, L_WRIST),
    "right_thigh": (R_HIP, R_KNEE), "right_shank": (R_KNEE, R_ANKLE),
    "left_thigh": (L_HIP, L_KNEE), "left_shank": (L_KNEE, L_ANKLE),
}


class Keypoint(NamedTuple):
    x: float
    y: float
    confidence: float = 1.0


@dataclass(frozen=True, slots=True)
class Pose:
    """18 optional keypoints, normalised to the canvas they were drawn on."""

    keypoints: tuple[Keypoint | None, ...]

    def __post_init__(self) -> None:
        if len(self.keypoints) != COUNT:
            raise ValidationFailed("poses.wrong_count", field="keypoints", count=COUNT, got=len(self.keypoints))
        for i, kp in enumerate(self.keypoints):
            if kp is None:
                continue
            if not isinstance(kp, Keypoint):
                raise ValidationFailed("poses.not_a_keypoint", field="keypoints", joint=NAMES[i])
            if not (math.isfinite(kp.x) and math.isfinite(kp.y)):
                raise ValidationFailed("poses.keypoint_not_finite", field="keypoints", joint=NAMES[i])
            if not 0.0 <= kp.confidence <= 1.0:
                raise ValidationFailed("poses.confidence_out_of_range", field="keypoints", joint=NAMES[i])

    # --- construction -------------------------------------------------------------------
    @classmethod
    def from_points(cls, points: Iterable[Sequence[float] | None]) -> "Pose":
        """From 18 entries of (x, y), (x, y, confidence) or None."""
        out = []
        for p in points:
            if p is None:
                out.append(None)
                continue
            if len(p) not in (2, 3):
                raise ValidationFailed("poses.point_shape", field="keypoints")
            try:
                vals = [float(v) for v in p]
            except (TypeError, ValueError):
                raise ValidationFailed("poses.coordinates_not_numbers", field="keypoints") from None
            out.append(Keypoint(*vals))
        return cls(tuple(out))

    @classmethod
    def from_array(cls, array: np.ndarray) -> "Pose":
        """From an (18, 2) or (18, 3) array; rows with NaN are missing joints."""
        a = np.asarray(array, dtype=np.float64)
        if a.ndim != 2 or a.shape[0] != COUNT or a.shape[1] not in (2, 3):
            raise ValidationFailed("poses.array_shape", field="keypoints", shape=str(a.shape))
        return cls.from_points(None if np.isnan(row).any() else tuple(row.tolist()) for row in a)

    @classmethod
    def from_json(cls, data: Any) -> "Pose":
        """Accepts the stored list, a JSON string of it, or a dict with a "keypoints" list."""
        if isinstance(data, (str, bytes, bytearray)):
            try:
                data = json.loads(data)
            except ValueError:
                raise ValidationFailed("poses.keypoints_not_json", field="keypoints") from None
        if isinstance(data, dict):
            data = data.get("keypoints")
        if not isinstance(data, (list, tuple)):
            raise ValidationFailed("poses.keypoints_not_list", field="keypoints")
        return cls.from_points(data)

    # --- views ---------------------------------------------------------------------------
    def to_json(self, ndigits: int = 4) -> list[list[float] | None]:
        return [
            None if kp is None else [round(kp.x, ndigits), round(kp.y, ndigits), round(kp.confidence, 3)]
            for kp in self.keypoints
        ]

    def to_array(self) -> np.ndarray:
        """(18, 3) float64: x, y, confidence; NaN rows for missing joints."""
        a = np.full((COUNT, 3), np.nan)
        for i, kp in enumerate(self.keypoints):
            if kp is not None:
                a[i] = kp
        return a

    def xy(self) -> np.ndarray:
        return self.to_array()[:, :2]

    @property
    def present(self) -> np.ndarray:
        return np.array([kp is not None for kp in self.keypoints])

    def __getitem__(self, index: int | str) -> Keypoint | None:
        return self.keypoints[NAMES.index(index) if isinstance(index, str) else index]

    def without(self, indices: Iterable[int]) -> "Pose":
        drop = set(indices)
        return Pose(tuple(None if i in drop else kp for i, kp in enumerate(self.keypoints)))


def as_pose(value: Any) -> Pose:
    """A Pose from a Pose, the stored JSON (list/str/dict) or an (18, 2|3) array."""
    if isinstance(value, Pose):
        return value
    if isinstance(value, np.ndarray):
        return Pose.from_array(value)
    return Pose.from_json(value)


def parse_aspect(aspect: str | float) -> float:
    """'2:3' -> 0.666.. (width / height); a positive number passes through."""
    if isinstance(aspect, (int, float)):
        value = float(aspect)
    else:
        try:
            w, h = (float(v) for v in str(aspect).split(":"))
            value = w / h
        except (ValueError, ZeroDivisionError):
            raise ValidationFailed("poses.aspect_malformed", field="aspect", aspect=aspect) from None
    if not (math.isfinite(value) and value > 0):
        raise ValidationFailed("poses.aspect_not_positive", field="aspect", aspect=aspect)
    return value
