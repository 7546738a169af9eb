"""A small 3D human body for the template generator: proportions, kinematics, limits, projection.

Units are standing heights (H = 1). Body frame: x = the subject's left, y = up, z = forward (where
the subject faces). Segment lengths are POSE_FACTS.md's fractions of H (Drillis & Contini) with a
seeded +-6 % per-person variation and gender-typical shoulder/hip widths. Arms and legs are placed
by angles (elevation from hanging down, plane of elevation: 0 forward, 90 sideways, 180 backward)
or by two-bone IK to a target; every result is checked against the ranges of motion in the facts.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np

FACTS = {"upper_arm": 0.186, "forearm": 0.146, "hand": 0.108, "thigh": 0.245, "shank": 0.246,
         "foot": 0.152, "shoulder_width": 0.259, "hip_width": 0.191, "shoulder_h": 0.818, "hip_h": 0.530,
         "ankle_h": 0.039, "chin_h": 0.870, "eye_h": 0.936}
SEGMENT_VARIATION = 0.06
HIP_JOINTS_OF_HIP_WIDTH = 0.88  # OpenPose hip keypoints sit inside the hip breadth
GENDER_WIDTHS = {"female": (0.94, 1.06), "male": (1.04, 0.95), "unisex": (1.0, 1.0)}  # shoulders, hips
# Head points relative to the neck keypoint (x left, y up, z forward), before the head turns.
HEAD_POINTS = {"nose": (0.0, 0.087, 0.062), "right_eye": (-0.019, 0.118, 0.048), "left_eye": (0.019, 0.118, 0.048),
               "right_ear": (-0.044, 0.105, -0.004), "left_ear": (0.044, 0.105, -0.004),
               "top": (0.0, 0.182, 0.0), "centre": (0.0, 0.11, 0.012), "chin": (0.0, 0.052, 0.05)}
HEAD_PIVOT_Y = 0.05
HEAD_RADIUS = 0.066
LIMITS = {  # degrees, from POSE_FACTS.md
    "shoulder_flexion": (-60, 180), "shoulder_abduction": (-50, 180), "elbow": (0, 150),
    "hip_flexion": (-30, 125), "hip_abduction": (-30, 45), "knee": (0, 135),
    "trunk_flexion": (-15, 90), "trunk_rotation": (-40, 40), "neck_flexion": (-30, 50),
    "neck_rotation": (-80, 80), "neck_lateral": (-45, 45),
}


def rot(axis: str, deg: float) -> np.ndarray:
    c, s = math.cos(math.radians(deg)), math.sin(math.radians(deg))
    if axis == "x":  # positive tips +y towards +z (a forward bow)
        return np.array([[1, 0, 0], [0, c, -s], [0, s, c]])
    if axis == "y":  # positive turns +z towards +x (to the subject's left)
        return np.array([[c, 0, s], [0, 1, 0], [-s, 0, c]])
    return np.array([[c, -s, 0], [s, c, 0], [0, 0, 1]])  # z: positive tips +y towards -x


def unit(v: np.ndarray) -> np.ndarray:
    n = float(np.linalg.norm(v))
    return v / n if n > 1e-12 else v


@dataclass(frozen=True)
class Body:
    gender: str
    upper_arm: float
    forearm: float
    hand: float
    thigh: float
    shank: float
    foot: float
    shoulder_half: float
    hip_half: float
    torso: float
    head: float  # scale of HEAD_POINTS
    ankle_h: float


def make_body(rng: np.random.Generator, gender: str) -> Body:
    j = lambda: 1.0 + rng.uniform(-SEGMENT_VARIATION, SEGMENT_VARIATION)  # noqa: E731
    sw, hw = GENDER_WIDTHS[gender]
    f = FACTS
    return Body(gender, f["upper_arm"] * j(), f["forearm"] * j(), f["hand"] * j(), f["thigh"] * j(),
                f["shank"] * j(), f["foot"] * j(), f["shoulder_width"] / 2 * sw * j(),
                f["hip_width"] * HIP_JOINTS_OF_HIP_WIDTH / 2 * hw * j(), (f["shoulder_h"] - f["hip_h"]) * j(),
                j(), f["ankle_h"])


def direction(elev: float, plane: float, side: int) -> np.ndarray:
    """Limb direction: `elev` degrees up from hanging down, in the plane `plane` (0 fwd, 90 out)."""
    e, p = math.radians(elev), math.radians(plane)
    return np.array([side * math.sin(e) * math.sin(p), -math.cos(e), math.sin(e) * math.cos(p)])


def two_bone(root: np.ndarray, target: np.ndarray, a: float, b: float, pole: np.ndarray,
             max_flex: float) -> tuple[np.ndarray, np.ndarray, float]:
    """Middle and end joint reaching for `target`; the middle joint bends towards `pole`.

    The reach is clamped so the end never overshoots and the flexion stays <= `max_flex`.
    Returns (middle, end, flexion in degrees).
    """
    to = target - root
    d_min = math.sqrt(a * a + b * b - 2 * a * b * math.cos(math.radians(180 - max_flex)))
    d = min(max(float(np.linalg.norm(to)), d_min), a + b - 1e-9)
    u = unit(to) if np.linalg.norm(to) > 1e-9 else np.array([0.0, -1.0, 0.0])
    v = unit(pole - np.dot(pole, u) * u)
    cos_root = (a * a + d * d - b * b) / (2 * a * d)
    alpha = math.acos(max(-1.0, min(1.0, cos_root)))
    mid = root + a * (math.cos(alpha) * u + math.sin(alpha) * v)
    end = root + d * u
    inner = (a * a + b * b - d * d) / (2 * a * b)
    return mid, end, 180.0 - math.degrees(math.acos(max(-1.0, min(1.0, inner))))


def bend(upper: np.ndarray, anterior: np.ndarray, flex: float, sign: int) -> np.ndarray:
    """Lower segment direction: `upper` turned by `flex` degrees towards `sign * anterior`."""
    a = unit(anterior - np.dot(anterior, upper) * upper)
    f = math.radians(flex)
    return math.cos(f) * upper + sign * math.sin(f) * a


@dataclass
class Skeleton:
    """World positions of the 18 OpenPose joints plus framing points and the frames used."""

    joints: dict[str, np.ndarray] = field(default_factory=dict)
    extras: dict[str, np.ndarray] = field(default_factory=dict)  # head top, hand tips, toes, soles
    trunk: np.ndarray = field(default_factory=lambda: np.eye(3))
    pelvis: np.ndarray = field(default_factory=lambda: np.eye(3))
    head: np.ndarray = field(default_factory=lambda: np.eye(3))
    angles: dict[str, float] = field(default_factory=dict)


def joint_angles(sk: Skeleton) -> dict[str, float]:
    """Shoulder/hip flexion + abduction, elbow and knee flexion of a built skeleton (degrees)."""
    out = dict(sk.angles)
    for side, s in (("right", -1), ("left", 1)):
        for limb, frame, top, mid, end in (("shoulder", sk.trunk, "shoulder", "elbow", "wrist"),
                                           ("hip", sk.pelvis, "hip", "knee", "ankle")):
            j = sk.joints
            d = frame.T @ unit(j[f"{side}_{mid}"] - j[f"{side}_{top}"])
            out[f"{side}_{limb}_flexion"] = math.degrees(math.atan2(d[2], -d[1]))
            out[f"{side}_{limb}_abduction"] = math.degrees(math.atan2(s * d[0], math.hypot(d[1], d[2])))
            u1, u2 = unit(j[f"{side}_{mid}"] - j[f"{side}_{top}"]), unit(j[f"{side}_{end}"] - j[f"{side}_{mid}"])
            name = "elbow" if limb == "shoulder" else "knee"
            out[f"{side}_{name}"] = math.degrees(math.acos(max(-1.0, min(1.0, float(np.dot(u1, u2))))))
    return out


def limit_violations(angles: dict[str, float]) -> list[str]:
    bad = []
    for name, value in angles.items():
        key = name.replace("right_", "").replace("left_", "")
        if key in LIMITS:
            lo, hi = LIMITS[key]
            if not lo - 1e-6 <= value <= hi + 1e-6:
                bad.append(f"{name}={value:.1f}")
    return bad


def inside_torso(sk: Skeleton, body: Body, point: np.ndarray) -> bool:
    """Whether a point lies inside the torso, an elliptic cylinder from pelvis to neck."""
    p = sk.trunk.T @ (point - sk.joints["pelvis"])
    if not 0.02 < p[1] < body.torso - 0.02:
        return False
    return (p[0] / (0.78 * body.shoulder_half)) ** 2 + (p[2] / 0.07) ** 2 < 1.0


def camera(yaw: float, pitch: float) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(right, up, towards-camera) axes in body coordinates for an orthographic camera.

    `yaw` turns the subject: +90 faces image right (profile). `pitch` > 0 looks down from above.
    """
    turn = rot("y", yaw)
    p = math.radians(pitch)
    towards = np.array([0.0, math.sin(p), math.cos(p)])
    up = np.array([0.0, math.cos(p), -math.sin(p)])
    right = np.array([1.0, 0.0, 0.0])
    return turn.T @ right, turn.T @ up, turn.T @ towards


def project(points: np.ndarray, cam: tuple[np.ndarray, np.ndarray, np.ndarray]) -> tuple[np.ndarray, np.ndarray]:
    """Image coordinates (x right, y down, unscaled) and depth (bigger = nearer the camera)."""
    right, up, towards = cam
    return np.column_stack([points @ right, -(points @ up)]), points @ towards


def hidden(sk: Skeleton, body: Body, point: np.ndarray, towards: np.ndarray) -> bool:
    """Whether the torso or the head stands between `point` and the camera."""
    for t in np.linspace(0.02, 0.6, 30):
        q = point + towards * t
        if inside_torso(sk, body, q):
            return True
        if np.linalg.norm(q - sk.extras["head_centre"]) < HEAD_RADIUS * body.head:
            return True
    return False
