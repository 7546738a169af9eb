"""Pose a Body from a Spec: pelvis, trunk and head angles, arms and legs by angles or targets.

Sign conventions (degrees): trunk_flex > 0 bows forward; trunk_lateral > 0 bends to the subject's
right; trunk_twist / pelvis_yaw / neck_rot > 0 turn to the subject's left; neck_flex > 0 looks
down; neck_lat > 0 tilts the head towards the right shoulder; pelvis_tilt > 0 raises the left hip.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np

from core.library.poses.body import HEAD_PIVOT_Y, HEAD_POINTS, Body, Skeleton, bend, joint_angles, rot, two_bone, unit

SIDES = (("right", -1), ("left", 1))


@dataclass
class Arm:
    elev: float = 8.0  # angles mode: up from hanging, plane (0 fwd, 90 out), humeral rotation, elbow
    plane: float = 80.0
    rot: float = 0.0
    elbow: float = 10.0
    target: tuple[float, float, float] | None = None  # IK mode: wrist target (x towards own side)
    frame: str = "trunk"  # trunk / head: from the neck; pelvis: from the pelvis centre
    pole: tuple[float, float, float] = (0.6, -1.0, -0.3)  # elbow direction hint, x towards own side


@dataclass
class Leg:
    elev: float = 0.0  # angles mode (sitting): thigh elevation, plane, rotation, knee flexion
    plane: float = 0.0
    rot: float = 0.0
    knee: float = 0.0
    target: tuple[float, float, float] | None = None  # sitting: ankle target from the pelvis (x own side)
    pole: tuple[float, float, float] = (0.0, 0.2, 1.0)  # sitting with a target: knee direction hint
    foot: tuple[float, float] = (0.07, 0.0)  # standing: ankle over floor point (x towards own side, z)
    lift: float = 0.0  # standing: ankle raised above its standing height (heel up, foot on a wall)
    toe_out: float = 8.0


@dataclass
class Spec:
    stance: str = "standing"  # standing | sitting
    support: str = "right"  # the leg carrying the weight when standing
    support_knee: float = 3.0
    pelvis_yaw: float = 0.0
    pelvis_tilt: float = 0.0
    pelvis_pitch: float = 0.0
    trunk_flex: float = 0.0
    trunk_lateral: float = 0.0
    trunk_twist: float = 0.0
    neck_flex: float = 0.0
    neck_rot: float = 0.0
    neck_lat: float = 0.0
    lean: float = 0.0  # standing: the whole body tilts about the feet, > 0 towards the subject's right
    arms: dict[str, Arm] = field(default_factory=lambda: {"right": Arm(), "left": Arm()})
    legs: dict[str, Leg] = field(default_factory=lambda: {"right": Leg(), "left": Leg()})


def _rodrigues(v: np.ndarray, k: np.ndarray, deg: float) -> np.ndarray:
    t = math.radians(deg)
    return v * math.cos(t) + np.cross(k, v) * math.sin(t) + k * np.dot(k, v) * (1 - math.cos(t))


def _limb_by_angles(frame: np.ndarray, elev: float, plane: float, twist: float, side: int):
    """Upper-segment direction and its anterior axis (world) for elevation/plane/rotation angles."""
    d0, a0 = np.array([0.0, -1.0, 0.0]), np.array([0.0, 0.0, 1.0])
    h = np.array([side * math.sin(math.radians(plane)), 0.0, math.cos(math.radians(plane))])
    k = unit(np.cross(d0, h))
    d = _rodrigues(d0, k, elev)
    a = _rodrigues(a0, k, elev)
    a = _rodrigues(a, unit(d), side * twist)
    return frame @ d, frame @ a


def build(body: Body, spec: Spec) -> Skeleton:
    sk = Skeleton()
    J, X = sk.joints, sk.extras
    sk.pelvis = rot("y", spec.pelvis_yaw) @ rot("z", spec.pelvis_tilt) @ rot("x", spec.pelvis_pitch)
    sk.trunk = sk.pelvis @ rot("y", spec.trunk_twist) @ rot("x", spec.trunk_flex) @ rot("z", spec.trunk_lateral)
    J["pelvis"] = np.zeros(3)
    J["neck"] = sk.trunk @ np.array([0.0, body.torso, 0.0])
    pivot = J["neck"] + sk.trunk @ np.array([0.0, HEAD_PIVOT_Y * body.head, 0.0])
    sk.head = sk.trunk @ rot("y", spec.neck_rot) @ rot("x", spec.neck_flex) @ rot("z", spec.neck_lat)
    lift = np.array([0.0, HEAD_PIVOT_Y * body.head, 0.0])
    for name, p in HEAD_POINTS.items():
        pos = pivot + sk.head @ (np.array(p) * body.head - lift)
        if name in ("top", "centre", "chin"):
            X[f"head_{name}"] = pos
        else:
            J[name] = pos
    for side, s in SIDES:
        J[f"{side}_shoulder"] = J["neck"] + sk.trunk @ np.array([s * body.shoulder_half, 0.0, 0.0])
        J[f"{side}_hip"] = sk.pelvis @ np.array([s * body.hip_half, 0.0, 0.0])
    for side, s in SIDES:
        _arm(sk, body, spec.arms[side], side, s, pivot)
    _legs(sk, body, spec)
    if spec.lean:
        _tilt(sk, spec.lean)
    sk.angles = {"trunk_flexion": spec.trunk_flex, "trunk_rotation": spec.trunk_twist,
                 "neck_flexion": spec.neck_flex, "neck_rotation": spec.neck_rot, "neck_lateral": spec.neck_lat}
    sk.angles = joint_angles(sk)
    return sk


def _arm(sk: Skeleton, body: Body, arm: Arm, side: str, s: int, pivot: np.ndarray) -> None:
    J = sk.joints
    shoulder = J[f"{side}_shoulder"]
    if arm.target is not None:
        t = np.array([s * arm.target[0], arm.target[1], arm.target[2]])
        if arm.frame == "head":
            target = pivot + sk.head @ (t - np.array([0.0, HEAD_PIVOT_Y * body.head, 0.0]))
        elif arm.frame == "pelvis":
            target = sk.pelvis @ t
        else:
            target = J["neck"] + sk.trunk @ t
        pole = sk.trunk @ np.array([s * arm.pole[0], arm.pole[1], arm.pole[2]])
        elbow, wrist, _ = two_bone(shoulder, target, body.upper_arm, body.forearm, pole, 150.0)
    else:
        d, a = _limb_by_angles(sk.trunk, arm.elev, arm.plane, arm.rot, s)
        elbow = shoulder + body.upper_arm * d
        wrist = elbow + body.forearm * bend(d, a, arm.elbow, +1)
    J[f"{side}_elbow"], J[f"{side}_wrist"] = elbow, wrist
    sk.extras[f"{side}_hand"] = wrist + body.hand * unit(wrist - elbow)


def _tilt(sk: Skeleton, deg: float) -> None:
    """Lean the whole body sideways about the midpoint of the ankles (leaning on a wall)."""
    R = rot("z", deg)
    c = (sk.joints["right_ankle"] + sk.joints["left_ankle"]) / 2
    for d in (sk.joints, sk.extras):
        for k, v in d.items():
            d[k] = c + R @ (v - c)
    sk.pelvis, sk.trunk, sk.head = R @ sk.pelvis, R @ sk.trunk, R @ sk.head


def _legs(sk: Skeleton, body: Body, spec: Spec) -> None:
    J = sk.joints
    a, b = body.thigh, body.shank
    if spec.stance == "standing":
        sup = spec.support
        leg = spec.legs[sup]
        s = -1 if sup == "right" else 1
        hip = J[f"{sup}_hip"]
        dx, dz = s * leg.foot[0] - hip[0], leg.foot[1] - hip[2]
        reach = math.sqrt(a * a + b * b + 2 * a * b * math.cos(math.radians(spec.support_knee)))
        drop = math.sqrt(max(reach * reach - dx * dx - dz * dz, 0.25 * reach * reach))
        floor = hip[1] - drop - body.ankle_h - leg.lift
    for side, s in SIDES:
        leg, hip = spec.legs[side], J[f"{side}_hip"]
        fwd = rot("y", spec.pelvis_yaw + s * leg.toe_out) @ np.array([0.0, 0.0, 1.0])
        if spec.stance == "standing":
            target = np.array([s * leg.foot[0], floor + body.ankle_h + leg.lift, leg.foot[1]])
            knee, ankle, _ = two_bone(hip, target, a, b, fwd + np.array([0.0, 0.05, 0.0]), 135.0)
        elif leg.target is not None:
            t = sk.pelvis @ np.array([s * leg.target[0], leg.target[1], leg.target[2]])
            pole = sk.pelvis @ np.array([s * leg.pole[0], leg.pole[1], leg.pole[2]])
            knee, ankle, _ = two_bone(hip, t, a, b, pole, 135.0)
            fwd = unit(np.array([t[0] - knee[0], 0.0, t[2] - knee[2]]) + 1e-9)
        else:
            d, ant = _limb_by_angles(sk.pelvis, leg.elev, leg.plane, -leg.rot, s)
            knee = hip + a * d
            ankle = knee + b * bend(d, ant, leg.knee, -1)
        J[f"{side}_knee"], J[f"{side}_ankle"] = knee, ankle
        drop = np.array([0.0, -body.ankle_h, 0.0])
        sk.extras[f"{side}_toe"] = ankle + drop + 0.72 * body.foot * fwd
        sk.extras[f"{side}_heel"] = ankle + drop - 0.25 * body.foot * fwd
