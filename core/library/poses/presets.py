"""Arm, leg and head building blocks the catalog combines; ranges stay inside POSE_FACTS.md limits.

x in targets and foot placements points to the limb's own side (outward), so one preset serves
both arms. Trunk/head targets are measured from the neck keypoint, pelvis targets from the pelvis.
"""
from __future__ import annotations

import numpy as np

from core.library.poses.body import Body, direction
from core.library.poses.rig import Arm, Leg, Spec

Rng = np.random.Generator


def u(rng: Rng, lo: float, hi: float) -> float:
    return float(rng.uniform(lo, hi))


def other(side: str) -> str:
    return "left" if side == "right" else "right"


def sign(side: str) -> int:
    return -1 if side == "right" else 1


# --- arms -------------------------------------------------------------------------------------
def hang(rng: Rng) -> Arm:
    return Arm(elev=u(rng, 4, 18), plane=u(rng, 45, 100), rot=u(rng, -10, 25), elbow=u(rng, 5, 30))


def on_hip(rng: Rng, body: Body) -> Arm:
    return Arm(target=(body.hip_half + u(rng, 0.045, 0.07), u(rng, 0.03, 0.08), u(rng, -0.03, 0.03)), frame="pelvis",
               pole=(1.0, u(rng, -0.3, 0.2), u(rng, -0.5, -0.1)))


def in_pocket(rng: Rng, body: Body) -> Arm:
    return Arm(target=(body.hip_half + u(rng, 0.02, 0.045), u(rng, -0.04, 0.0), u(rng, 0.05, 0.08)), frame="pelvis",
               pole=(0.8, -1.0, u(rng, -0.6, -0.2)))


def at_hair(rng: Rng) -> Arm:
    return Arm(target=(u(rng, 0.07, 0.11), u(rng, 0.13, 0.2), u(rng, -0.03, 0.05)), frame="head",
               pole=(1.0, u(rng, -0.4, 0.3), u(rng, -0.2, 0.3)))


def at_face(rng: Rng) -> Arm:
    """Palm on the cheek or jaw: the wrist sits in front of and below the cheek."""
    return Arm(target=(u(rng, 0.045, 0.085), u(rng, -0.005, 0.05), u(rng, 0.075, 0.11)), frame="head",
               pole=(u(rng, 0.3, 0.9), -1.0, u(rng, 0.0, 0.4)))


def at_chin(rng: Rng) -> Arm:
    """Chin resting on the hand: the wrist just below and in front of the chin."""
    return Arm(target=(u(rng, -0.01, 0.03), u(rng, 0.0, 0.03), u(rng, 0.1, 0.13)), frame="head",
               pole=(u(rng, 0.2, 0.5), -1.0, 0.3))


def counter_arm(rng: Rng) -> Arm:
    """Elbow resting on a counter at the side, forearm forward."""
    return Arm(elev=u(rng, 18, 32), plane=u(rng, 55, 85), rot=u(rng, -20, 10), elbow=u(rng, 75, 100))


def hold(rng: Rng, height: str) -> Arm:
    """Holding a product in front of the chest or beside the face, facing the camera."""
    if height == "face":
        return Arm(target=(u(rng, 0.06, 0.14), u(rng, 0.02, 0.1), u(rng, 0.15, 0.24)),
                   pole=(u(rng, 0.1, 0.6), -1.0, u(rng, 0.1, 0.5)))
    return Arm(target=(u(rng, 0.0, 0.1), -u(rng, 0.05, 0.13), u(rng, 0.14, 0.22)), pole=(u(rng, 0.4, 0.9), -1.0, -0.2))


def both_hands(rng: Rng, height: str) -> dict[str, Arm]:
    cx = u(rng, -0.03, 0.03)
    cy = u(rng, 0.0, 0.08) if height == "face" else -u(rng, 0.05, 0.13)
    cz, gap = u(rng, 0.15, 0.23), u(rng, 0.04, 0.075)
    pole = (u(rng, 0.5, 0.9), -1.0, -0.2)
    return {"right": Arm(target=(gap - cx, cy, cz), pole=pole), "left": Arm(target=(gap + cx, cy, cz), pole=pole)}


def crossed(rng: Rng) -> dict[str, Arm]:
    y = -u(rng, 0.15, 0.2)
    top = rng.choice(["right", "left"])
    arms = {}
    for side in ("right", "left"):
        z = u(rng, 0.11, 0.14) if side == top else u(rng, 0.075, 0.1)
        arms[side] = Arm(target=(-u(rng, 0.0, 0.05), y + u(rng, -0.02, 0.02), z), pole=(1.0, -1.0, -0.2))
    return arms


def pointing(rng: Rng) -> Arm:
    return Arm(elev=u(rng, 60, 100), plane=u(rng, 40, 100), rot=0.0, elbow=u(rng, 0, 15))


def waving(rng: Rng) -> Arm:
    return Arm(target=(u(rng, 0.22, 0.32), u(rng, 0.04, 0.18), u(rng, 0.0, 0.12)),
               pole=(1.0, u(rng, -0.6, -0.2), u(rng, -0.4, 0.0)))


def swing(rng: Rng, forward: bool, amount: float = 1.0) -> Arm:
    if forward:
        return Arm(elev=u(rng, 10, 28) * amount, plane=u(rng, -10, 15), rot=u(rng, 0, 20), elbow=u(rng, 15, 40))
    return Arm(elev=u(rng, 8, 24) * amount, plane=u(rng, 160, 180), rot=0.0, elbow=u(rng, 5, 20))


def free_arm(rng: Rng, body: Body, choices: tuple[str, ...] = ("hang", "hip", "pocket")) -> tuple[Arm, str]:
    pick = str(rng.choice(choices))
    return {"hang": hang, "hip": lambda r: on_hip(r, body), "pocket": lambda r: in_pocket(r, body)}[pick](rng), pick


def seated_hand(rng: Rng, body: Body, leg: Leg, side: str, where: str) -> Arm:
    """A hand resting on the thigh (own side), in the lap, or forearm on an armrest."""
    if where == "armrest":
        return Arm(elev=u(rng, 10, 25), plane=u(rng, 60, 90), rot=u(rng, 10, 30), elbow=u(rng, 70, 95))
    s = sign(side)
    d = direction(leg.elev, leg.plane, s)
    p = np.array([s * body.hip_half, 0.0, 0.0]) + u(rng, 0.45, 0.7) * body.thigh * d + np.array([0.0, 0.05, 0.0])
    if where == "lap":
        p = np.array([s * u(rng, 0.02, 0.06), u(rng, 0.06, 0.1), u(rng, 0.18, 0.26)])
    return Arm(target=(s * float(p[0]), float(p[1]), float(p[2])), frame="pelvis", pole=(0.6, -1.0, -0.4))


# --- legs -------------------------------------------------------------------------------------
def stance_neutral(rng: Rng, spec: Spec) -> str:
    for side in ("right", "left"):
        spec.legs[side] = Leg(foot=(u(rng, 0.05, 0.1), u(rng, -0.02, 0.03)), toe_out=u(rng, 4, 14))
    spec.support = str(rng.choice(["right", "left"]))
    spec.support_knee = u(rng, 0, 6)
    spec.pelvis_tilt = u(rng, -2, 2)
    return "standing"


def stance_contrapposto(rng: Rng, spec: Spec) -> str:
    sup = spec.support = str(rng.choice(["right", "left"]))
    spec.legs[sup] = Leg(foot=(u(rng, 0.0, 0.04), u(rng, -0.02, 0.02)), toe_out=u(rng, 5, 15))
    spec.legs[other(sup)] = Leg(foot=(u(rng, 0.08, 0.16), u(rng, 0.0, 0.12)), toe_out=u(rng, 5, 25))
    spec.support_knee = u(rng, 0, 4)
    spec.pelvis_tilt = sign(sup) * u(rng, 3, 8)
    spec.trunk_lateral = -sign(sup) * u(rng, 3, 8)
    return "standing with the weight on one leg"


def stance_crossed(rng: Rng, spec: Spec) -> str:
    sup = spec.support = str(rng.choice(["right", "left"]))
    spec.legs[sup] = Leg(foot=(u(rng, 0.0, 0.05), u(rng, -0.02, 0.02)), toe_out=u(rng, 5, 15))
    spec.legs[other(sup)] = Leg(foot=(-u(rng, 0.0, 0.06), u(rng, 0.06, 0.12)), toe_out=u(rng, -5, 10))
    spec.support_knee = u(rng, 0, 4)
    spec.pelvis_tilt = sign(sup) * u(rng, 0, 4)
    return "standing with crossed legs"


def stance_wide(rng: Rng, spec: Spec) -> str:
    for side in ("right", "left"):
        spec.legs[side] = Leg(foot=(u(rng, 0.15, 0.22), u(rng, -0.03, 0.03)), toe_out=u(rng, 8, 20))
    spec.support = str(rng.choice(["right", "left"]))
    spec.support_knee = u(rng, 0, 5)
    return "standing with feet apart"


def stance_stride(rng: Rng, spec: Spec, front: str, catwalk: bool = False) -> None:
    """Walking: `front` foot ahead (weight on it), the back heel up or the back foot swinging."""
    stride = u(rng, 0.2, 0.34)
    spec.support = front
    x_front = -u(rng, 0.0, 0.03) if catwalk else u(rng, 0.02, 0.06)
    spec.legs[front] = Leg(foot=(x_front, stride * u(rng, 0.35, 0.55)), toe_out=u(rng, 0, 12))
    swinging = rng.random() < 0.35
    lift = u(rng, 0.08, 0.14) if swinging else u(rng, 0.015, 0.06)
    back_z = -stride * u(rng, 0.2, 0.4) if swinging else -stride * u(rng, 0.45, 0.65)
    spec.legs[other(front)] = Leg(foot=(u(rng, 0.02, 0.06), back_z), lift=lift, toe_out=u(rng, 0, 12))
    spec.support_knee = u(rng, 2, 12)
    spec.pelvis_yaw = sign(front) * -u(rng, 0, 6)
    spec.trunk_twist = sign(front) * u(rng, 0, 8)
    spec.pelvis_tilt = sign(front) * u(rng, 2, 6) if catwalk else 0.0


def seat(rng: Rng, spec: Spec, crossed_legs: bool = False) -> str:
    spec.stance = "sitting"
    spec.trunk_flex = u(rng, 0, 10)
    for side in ("right", "left"):
        spec.legs[side] = Leg(elev=u(rng, 78, 95), plane=u(rng, 0, 15), rot=u(rng, -5, 10), knee=u(rng, 70, 105))
    if crossed_legs:
        top = str(rng.choice(["right", "left"]))
        base = spec.legs[other(top)]
        spec.legs[top] = Leg(elev=base.elev + u(rng, 6, 14), plane=-u(rng, 14, 24), rot=u(rng, 0, 10),
                             knee=u(rng, 60, 90))
        return "sitting with crossed legs"
    return "sitting"


def head(rng: Rng, spec: Spec, look: str | None = None, lively: float = 1.0) -> None:
    """Head pose; `look` = 'right'/'left' turns it towards that hand, 'down' looks at the hands."""
    spec.neck_flex = u(rng, -8, 12) * lively
    spec.neck_rot = u(rng, -22, 22) * lively
    spec.neck_lat = u(rng, -10, 10) * lively
    if look in ("right", "left"):
        spec.neck_rot = sign(look) * u(rng, 8, 30)
        spec.neck_flex = u(rng, 4, 16)
    elif look == "down":
        spec.neck_flex = u(rng, 15, 35)
