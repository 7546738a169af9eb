"""The template catalogue: categories, subcategories, camera views and the recipe posing each one.

A recipe turns (rng, body) into a Spec plus Meta: the words a prompt can use, tags, the product
placement and which wrists must stay visible for it. The generator samples every recipe `count`
times and looks at each sample from every view listed.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable

import numpy as np

from core.library.poses import presets as P
from core.library.poses.body import Body
from core.library.poses.rig import Spec

FRONT_34 = ("front", "three-quarter-left", "three-quarter-right")
ALL_VIEWS = FRONT_34 + ("side-left", "side-right")


@dataclass
class Meta:
    posture: str  # "standing", "sitting with crossed legs", ... (first words of the description)
    detail: str  # what the hands do: "right hand holding the product at chest height"
    placement: str  # hand-left, hand-right, both-hands, worn, table, displayed, none
    tags: list[str] = field(default_factory=list)
    product_hands: tuple[str, ...] = ()  # wrists that must be visible and not behind the body
    complexity: int = 0  # added to the view's difficulty
    extended: tuple[str, ...] = ()  # arms that must read as stretched out in the picture (pointing)


@dataclass(frozen=True)
class Recipe:
    category: str
    subcategory: str
    count: int
    views: tuple[str, ...]
    build: Callable[[np.random.Generator, Body], tuple[Spec, Meta]]
    framing: str = "full"  # full body, or "upper" (head to chest; hips and legs dropped)


def _hand_word(side: str) -> str:
    return f"{side} hand"


# --- fashion-standing ---------------------------------------------------------------------------
def standing(kind: str):
    def build(rng, body):
        spec = Spec()
        default = P.stance_contrapposto if rng.random() < 0.6 else P.stance_neutral
        posture = {"relaxed": P.stance_neutral, "contrapposto": P.stance_contrapposto,
                   "crossed-legs": P.stance_crossed}.get(kind, default)(rng, spec)
        side = str(rng.choice(["right", "left"]))
        tags, complexity = ["full-body", kind], 0
        if kind == "relaxed":
            spec.arms = {"right": P.hang(rng), "left": P.hang(rng)}
            detail = "arms relaxed at the sides"
        elif kind == "hand-on-hip":
            spec.arms[side] = P.on_hip(rng, body)
            spec.arms[P.other(side)], free = P.free_arm(rng, body, ("hang", "hang", "pocket"))
            detail = f"{side} hand on the hip"
        elif kind == "hands-in-pockets":
            spec.arms[side] = P.in_pocket(rng, body)
            both = rng.random() < 0.5
            spec.arms[P.other(side)] = P.in_pocket(rng, body) if both else P.hang(rng)
            detail = "both hands in the pockets" if both else f"{side} hand in the pocket"
        elif kind == "touching-hair":
            spec.arms[side] = P.at_hair(rng)
            spec.arms[P.other(side)], free = P.free_arm(rng, body, ("hang", "hip"))
            detail, complexity = f"{side} hand touching the hair", 1
        else:
            spec.arms[side], free = P.free_arm(rng, body)
            spec.arms[P.other(side)] = P.hang(rng)
            detail = {"hang": "arms relaxed", "hip": f"{side} hand on the hip",
                      "pocket": f"{side} hand in the pocket"}[free]
        complexity += kind == "crossed-legs"
        P.head(rng, spec)
        return spec, Meta(posture, detail, "worn", tags, (), complexity)
    return build


# --- fashion-walking ----------------------------------------------------------------------------
def walking(kind: str):
    def build(rng, body):
        spec = Spec()
        front = {"stride-left-forward": "left", "stride-right-forward": "right"}.get(kind) or str(
            rng.choice(["right", "left"]))
        catwalk = kind in ("catwalk", "catwalk-hand-on-hip")
        P.stance_stride(rng, spec, front, catwalk)
        back = P.other(front)
        amount = 0.6 if catwalk else 1.0
        spec.arms[back] = P.swing(rng, True, amount)  # arms swing against the legs
        spec.arms[front] = P.swing(rng, False, amount)
        detail = "arms swinging naturally"
        if kind == "catwalk-hand-on-hip":
            side = str(rng.choice(["right", "left"]))
            spec.arms[side] = P.on_hip(rng, body)
            detail = f"{side} hand on the hip"
        P.head(rng, spec, lively=0.6)
        tags = ["full-body", "walking", "catwalk" if catwalk else "stride", f"{front}-foot-forward"]
        return spec, Meta("walking", f"{front} foot forward, {detail}", "worn", tags, (), 1)
    return build


# --- sitting ------------------------------------------------------------------------------------
def sitting(kind: str):
    def build(rng, body):
        spec = Spec()
        placement, complexity, product = "worn", 1, ()
        if kind == "floor-cross-legged":
            spec.stance, posture = "sitting", "sitting cross-legged on the floor"
            spec.trunk_flex = P.u(rng, 0, 12)
            front = str(rng.choice(["right", "left"]))
            for side in ("right", "left"):  # each ankle in front of the other shin, knees out
                z = P.u(rng, 0.14, 0.2) + (0.05 if side == front else 0.0)
                spec.legs[side] = P.Leg(target=(-P.u(rng, 0.04, 0.1), -P.u(rng, 0.04, 0.08), z),
                                        pole=(1.0, P.u(rng, 0.1, 0.4), P.u(rng, 0.3, 0.7)))
            for s in ("right", "left"):
                spec.arms[s] = P.Arm(target=(P.u(rng, 0.2, 0.3), P.u(rng, 0.0, 0.06), P.u(rng, 0.12, 0.22)),
                                     frame="pelvis", pole=(0.8, -1.0, -0.2))
            detail, complexity = "hands resting on the knees", 2
        else:
            posture = P.seat(rng, spec, crossed_legs=kind == "crossed-legs")
            if kind == "leaning-forward":
                spec.trunk_flex = P.u(rng, 40, 55)
                for s in ("right", "left"):
                    spec.arms[s] = P.Arm(target=(P.u(rng, 0.01, 0.05), P.u(rng, 0.04, 0.1), P.u(rng, 0.34, 0.42)),
                                         frame="pelvis", pole=(0.3, -1.0, 0.1))
                detail, posture = "leaning forward, elbows on the knees, hands together", "sitting"
            elif kind == "at-table":
                for s in ("right", "left"):
                    spec.arms[s] = P.Arm(target=(P.u(rng, 0.04, 0.14), P.u(rng, 0.2, 0.27), P.u(rng, 0.3, 0.38)),
                                         frame="pelvis", pole=(0.7, -1.0, -0.3))
                detail, placement, posture = "forearms resting on a table", "table", "sitting at a table"
            else:
                where = str(rng.choice(["thigh", "lap", "armrest"]))
                for s in ("right", "left"):
                    spec.arms[s] = P.seated_hand(rng, body, spec.legs[s], s, where)
                detail = {"thigh": "hands resting on the thighs", "lap": "hands together in the lap",
                          "armrest": "forearms on the armrests"}[where]
        P.head(rng, spec, lively=0.8)
        if kind == "leaning-forward":
            spec.neck_flex = -P.u(rng, 5, 25)  # looks up at the camera
        return spec, Meta(posture, detail, placement, ["sitting", kind], product, complexity)
    return build


def _maybe_seated(rng, spec: Spec, body: Body) -> str:
    if rng.random() < 0.3:
        posture = P.seat(rng, spec)
        return posture
    return P.stance_neutral(rng, spec) if rng.random() < 0.5 else P.stance_contrapposto(rng, spec)


# --- skincare ----------------------------------------------------------------------------------
def skincare(kind: str):
    def build(rng, body):
        spec = Spec()
        posture = _maybe_seated(rng, spec, body)
        if kind == "both-hands":
            spec.arms = {"right": P.at_face(rng), "left": P.at_face(rng)}
            hands, detail, placement = ("right", "left"), "both hands applying cream to the cheeks", "both-hands"
        else:
            side = kind.split("-")[-1]
            spec.arms[side] = P.at_face(rng) if rng.random() < 0.7 else P.at_chin(rng)
            spec.arms[P.other(side)], _ = P.free_arm(rng, body, ("hang", "hang", "hip"))
            hands, detail, placement = (side,), f"{side} hand touching the face, applying skincare", f"hand-{side}"
        P.head(rng, spec, lively=0.5)
        spec.neck_flex = P.u(rng, -10, 8)
        tags = ["skincare", "hand-at-face", "face-height", "seated" if spec.stance == "sitting" else "full-body"]
        return spec, Meta(posture, detail, placement, tags, hands, 1)
    return build


# --- product-holding ----------------------------------------------------------------------------
def holding(kind: str, framing: str = "full"):
    def build(rng, body):
        spec = Spec()
        posture = P.stance_neutral(rng, spec) if rng.random() < 0.5 else P.stance_contrapposto(rng, spec)
        height = str(rng.choice(["chest", "face"]))
        if kind == "both-hands":
            spec.arms = P.both_hands(rng, height)
            hands, detail = ("right", "left"), f"both hands holding the product at {height} height"
            P.head(rng, spec, look="down" if height == "chest" and rng.random() < 0.4 else None, lively=0.5)
        else:
            side = kind.split("-")[-1]
            spec.arms[side] = P.hold(rng, height)
            spec.arms[P.other(side)], _ = P.free_arm(rng, body, ("hang", "hang", "hip", "pocket"))
            hands, detail = (side,), f"{side} hand holding the product at {height} height"
            P.head(rng, spec, look=side if rng.random() < 0.4 else None, lively=0.5)
        tags = ["product", f"{height}-height"] + (["close-up", "upper-body"] if framing == "upper" else ["full-body"])
        return spec, Meta(posture, detail, kind, tags, hands, 1 if height == "face" else 0)
    return build


# --- lifestyle ----------------------------------------------------------------------------------
def lifestyle(kind: str):
    def build(rng, body):
        spec = Spec()
        side = str(rng.choice(["right", "left"]))
        placement, complexity, hands, tags = "none", 0, (), ["lifestyle", kind, "full-body"]
        if kind == "leaning":
            variant = str(rng.choice(["wall-back", "wall-shoulder", "counter"]))
            if variant == "wall-back":  # back against a wall, one foot up on it
                P.stance_neutral(rng, spec)
                sup = spec.support
                spec.legs[sup] = P.Leg(foot=(P.u(rng, 0.03, 0.07), P.u(rng, 0.06, 0.12)))
                spec.legs[P.other(sup)] = P.Leg(foot=(P.u(rng, 0.05, 0.1), P.u(rng, -0.1, -0.04)),
                                                lift=P.u(rng, 0.16, 0.28))
                spec.trunk_flex = -P.u(rng, 2, 8)
                spec.arms = {s: P.free_arm(rng, body, ("hang", "pocket"))[0] for s in ("right", "left")}
                posture, detail = "leaning back against a wall", "one foot up on the wall"
            else:  # shoulder to a wall or elbow on a counter, ankles crossed, body tilted that way
                P.stance_crossed(rng, spec)
                spec.lean = -P.sign(side) * P.u(rng, 5, 11)
                if variant == "counter":
                    spec.arms[side] = P.counter_arm(rng)
                    spec.arms[P.other(side)], _ = P.free_arm(rng, body, ("hang", "hip"))
                    posture, detail = "leaning on a counter", f"{side} elbow resting on the counter, ankles crossed"
                else:
                    if rng.random() < 0.4:
                        spec.arms = P.crossed(rng)
                        detail = "arms crossed, ankles crossed"
                    else:
                        spec.arms = {s: P.free_arm(rng, body, ("hang", "pocket"))[0] for s in ("right", "left")}
                        detail = "ankles crossed"
                    posture = f"leaning the {side} shoulder against a wall"
            tags.append(variant)
            complexity = 1
        else:
            posture = (P.stance_wide if kind == "hands-on-hips" else P.stance_contrapposto)(rng, spec)
            if kind == "hands-on-hips":
                spec.arms = {s: P.on_hip(rng, body) for s in ("right", "left")}
                detail = "both hands on the hips"
            elif kind == "arms-crossed":
                spec.arms = P.crossed(rng)
                detail, complexity = "arms crossed over the chest", 1
            elif kind == "pointing":
                spec.arms[side] = P.pointing(rng)
                spec.arms[P.other(side)], _ = P.free_arm(rng, body, ("hang", "hip"))
                detail, placement = f"{side} arm pointing at the product beside", "displayed"
            else:
                spec.arms[side] = P.waving(rng)
                spec.arms[P.other(side)], _ = P.free_arm(rng, body, ("hang", "hip", "pocket"))
                detail = f"waving with the {side} hand"
        P.head(rng, spec, look=side if kind == "pointing" else None)
        extended = (side,) if kind == "pointing" else ()
        return spec, Meta(posture, detail, placement, tags, hands, complexity, extended)
    return build


# --- upper-body close-up -------------------------------------------------------------------------
def close_up(kind: str):
    if kind in ("hand-left", "hand-right", "both-hands"):
        return holding(kind, framing="upper")

    def build(rng, body):
        spec = Spec()
        P.stance_neutral(rng, spec)
        spec.trunk_twist = P.u(rng, -12, 12)
        side = str(rng.choice(["right", "left"]))
        spec.arms = {"right": P.hang(rng), "left": P.hang(rng)}
        if kind == "hand-at-chin":
            spec.arms[side] = P.at_chin(rng)
            detail, placement, hands = f"{side} hand under the chin", "none", (side,)
        elif kind == "touching-hair":
            spec.arms[side] = P.at_hair(rng)
            detail, placement, hands = f"{side} hand in the hair", "worn", ()
        else:
            detail, placement, hands = "shoulders relaxed, looking at the camera", "worn", ()
        P.head(rng, spec, lively=1.3 if kind == "portrait" else 0.7)
        return spec, Meta("head and shoulders", detail, placement, ["close-up", "upper-body", kind], hands, 0)
    return build


RECIPES: tuple[Recipe, ...] = (
    *(Recipe("fashion-standing", k, n, v, standing(k)) for k, n, v in (
        ("relaxed", 8, ALL_VIEWS), ("contrapposto", 10, FRONT_34), ("hand-on-hip", 10, FRONT_34),
        ("hands-in-pockets", 14, FRONT_34), ("crossed-legs", 8, FRONT_34), ("touching-hair", 8, FRONT_34))),
    *(Recipe("fashion-walking", k, n, ALL_VIEWS, walking(k)) for k, n in (
        ("stride-left-forward", 8), ("stride-right-forward", 8), ("catwalk", 8), ("catwalk-hand-on-hip", 6))),
    *(Recipe("sitting", k, n, v, sitting(k)) for k, n, v in (
        ("chair-upright", 10, ALL_VIEWS), ("crossed-legs", 10, ALL_VIEWS), ("leaning-forward", 8, ALL_VIEWS),
        ("at-table", 8, ("side-left", "side-right", "three-quarter-left", "three-quarter-right")),
        ("floor-cross-legged", 8, FRONT_34))),
    *(Recipe("skincare-application", k, 14, FRONT_34, skincare(k)) for k in (
        "one-hand-right", "one-hand-left", "both-hands")),
    *(Recipe("product-holding", k, 16, FRONT_34, holding(k)) for k in ("hand-left", "hand-right", "both-hands")),
    *(Recipe("lifestyle", k, n, v, lifestyle(k)) for k, n, v in (
        ("leaning", 10, ALL_VIEWS), ("hands-on-hips", 14, FRONT_34), ("arms-crossed", 8, FRONT_34),
        ("pointing", 10, FRONT_34), ("waving", 10, FRONT_34))),
    *(Recipe("upper-body", k, n, FRONT_34, close_up(k), framing="upper") for k, n in (
        ("portrait", 12, ), ("hand-at-chin", 10), ("touching-hair", 8), ("hand-left", 10), ("hand-right", 10),
        ("both-hands", 10))),
)
