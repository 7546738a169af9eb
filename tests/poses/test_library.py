"""Plausibility of the WHOLE shipped library, checked from the 2D keypoints alone.

Reference proportions are POSE_FACTS.md's (fractions of standing height H). A 2D projection can
only shorten a segment, so the least-shortened of a few reference segments (torso, shoulders, hips,
neck-to-nose) gives a scale S <= H; no limb may be much longer than S says it can be.
"""
import re
from collections import Counter

import numpy as np

from core.library.poses.generator import dumps
from core.library.poses.keypoints import BONES, NAMES
from core.library.poses.library import CATEGORIES, LIBRARY_PATH, PLACEMENTS, check_template
from core.library.poses.similarity import DEDUP_THRESHOLD, distance_matrix

FACTS = {"upper_arm": 0.186, "forearm": 0.146, "thigh": 0.245, "shank": 0.246, "torso": 0.818 - 0.530,
         "shoulders": 0.259, "hip_joints": 0.191 * 0.88, "neck_nose": 0.107}
MAX_BONE_RATIO = 1.45  # +-10 % people, rounding, and the reference's own foreshortening
ASPECT = 2 / 3
I = {n: i for i, n in enumerate(NAMES)}


def _points(t):
    return np.array([p[:2] if p else [np.nan, np.nan] for p in t["keypoints"]]) * (ASPECT, 1.0)


def _d(P, a, b):
    return float(np.linalg.norm(P[a] - P[b]))


def _has(P, *names):
    return not np.isnan(P[[I[n] for n in names]]).any()


def _scale(P):
    """S: a lower bound of the standing height H seen in this picture."""
    refs = [_d(P, I["right_shoulder"], I["left_shoulder"]) / FACTS["shoulders"]]
    if _has(P, "right_hip", "left_hip"):
        mid = (P[I["right_hip"]] + P[I["left_hip"]]) / 2
        refs.append(float(np.linalg.norm(P[I["neck"]] - mid)) / FACTS["torso"])
        refs.append(_d(P, I["right_hip"], I["left_hip"]) / FACTS["hip_joints"])
    if _has(P, "neck", "nose"):
        refs.append(_d(P, I["neck"], I["nose"]) / FACTS["neck_nose"])
    return max(refs)


def _wrists(t):
    return {"hand-left": ["left_wrist"], "hand-right": ["right_wrist"],
            "both-hands": ["right_wrist", "left_wrist"]}.get(t["product_placement"], [])


def test_size_categories_and_fields(library):
    assert len(library) >= 600
    per_cat = Counter(t["category"] for t in library)
    assert set(per_cat) == set(CATEGORIES)
    assert all(n >= 40 for n in per_cat.values()), per_cat
    subs = {(t["category"], t["subcategory"]) for t in library}
    for sub in ("hand-left", "hand-right", "both-hands"):
        assert ("product-holding", sub) in subs
    for sub in ("leaning", "hands-on-hips", "arms-crossed", "pointing", "waving"):
        assert ("lifestyle", sub) in subs
    per_sub = Counter((t["category"], t["subcategory"]) for t in library)
    assert min(per_sub.values()) >= 8, per_sub.most_common()[-3:]
    assert {t["view"] for t in library} >= {"front", "three-quarter-left", "three-quarter-right", "side-left",
                                             "side-right"}
    assert {t["gender"] for t in library} == {"female", "male", "unisex"}
    assert {t["difficulty"] for t in library} == {"easy", "medium", "hard"}
    assert {t["product_placement"] for t in library} <= set(PLACEMENTS)
    for t in library:
        check_template(t)
        assert t["aspect"] == "2:3"
        assert re.fullmatch(rf"{t['category']}-{t['subcategory']}-{t['view']}-\d{{3}}", t["id"])
        assert "\n" not in t["description"] and len(t["description"]) < 160
    assert len({t["id"] for t in library}) == len(library)


def test_bone_lengths_are_human_for_the_view(library):
    for t in library:
        P = _points(t)
        S = _scale(P)
        for name, (a, b) in BONES.items():
            if not np.isnan(P[[a, b]]).any():
                ratio = _d(P, a, b) / (FACTS[name.split("_", 1)[1]] * S)
                assert ratio <= MAX_BONE_RATIO, (t["id"], name, ratio)
        # the head stays head-sized
        assert _d(P, I["neck"], I["nose"]) <= 0.16 * S, t["id"]
        for a, b, most in (("right_eye", "left_eye", 0.06), ("right_ear", "left_ear", 0.13)):
            if _has(P, a, b):
                assert _d(P, I[a], I[b]) <= most * S, (t["id"], a)


def test_joints_inside_the_frame(library):
    legs = [I[n] for n in ("right_hip", "right_knee", "right_ankle", "left_hip", "left_knee", "left_ankle")]
    for t in library:
        xy = np.array([p[:2] for p in t["keypoints"] if p])
        if t["category"] == "upper-body":
            assert all(t["keypoints"][i] is None for i in legs), t["id"]
            assert xy.min() >= 0.0 and xy.max() <= 1.0, t["id"]
        else:
            assert all(t["keypoints"][i] is not None for i in range(14)), t["id"]
            assert xy.min() >= 0.03 and xy.max() <= 0.97, t["id"]
        assert t["keypoints"][I["nose"]] is not None, t["id"]  # the face is always shown
        for side in ("right", "left"):  # no wrist without its forearm
            if t["keypoints"][I[f"{side}_wrist"]] is not None:
                assert t["keypoints"][I[f"{side}_elbow"]] is not None, t["id"]


def test_left_and_right_are_where_the_view_puts_them(library):
    for t in library:
        P = _points(t)
        if t["view"].startswith("side"):
            facing_left = t["view"] == "side-left"
            assert (P[I["nose"], 0] < P[I["neck"], 0]) == facing_left, t["id"]
            continue
        for a, b in (("right_shoulder", "left_shoulder"), ("right_hip", "left_hip"), ("right_eye", "left_eye")):
            if _has(P, a, b):
                assert P[I[a], 0] < P[I[b], 0], (t["id"], a)
        if t["view"] == "three-quarter-left":  # turned to image left: the subject's left side is nearer
            assert t["keypoints"][I["right_ear"]] is None or t["keypoints"][I["left_ear"]] is not None


def test_product_placement_agrees_with_the_hands(library):
    for t in library:
        P = _points(t)
        T = FACTS["torso"] * _scale(P)
        wrists = _wrists(t)
        for w in wrists:
            assert _has(P, w), t["id"]
            x, y = P[I[w]]
            assert y <= P[I["neck"], 1] + 0.8 * T, (t["id"], w, "below the chest")
            assert y >= P[I["nose"], 1] - 0.5 * T, (t["id"], w, "above the head")
            assert abs(x - P[I["neck"], 0]) <= 1.2 * T, (t["id"], w, "away from the body")
        if t["product_placement"] == "both-hands":
            assert _d(P, I["right_wrist"], I["left_wrist"]) <= 0.8 * T, t["id"]
        if t["category"] == "skincare-application":
            assert wrists, t["id"]
            for w in wrists:
                assert _d(P, I[w], I["nose"]) <= 0.9 * T, (t["id"], w, "hand not at the face")
        if t["product_placement"] == "table":
            mid_hip = (P[I["right_hip"], 1] + P[I["left_hip"], 1]) / 2
            for w in ("right_wrist", "left_wrist"):
                assert P[I["neck"], 1] < P[I[w], 1] < mid_hip + 0.3 * T, (t["id"], w)
        if t["product_placement"] == "displayed":
            reach = max(_d(P, I["right_shoulder"], I["right_wrist"]), _d(P, I["left_shoulder"], I["left_wrist"]))
            assert reach >= 0.75 * T, t["id"]
        if t["category"] == "product-holding":
            assert t["product_placement"] == t["subcategory"]
        side = {"hand-left": "left hand", "hand-right": "right hand", "both-hands": "both hands"}.get(
            t["product_placement"])
        if side:
            assert side in t["description"], t["id"]


def test_no_two_templates_closer_than_the_dedup_threshold(library):
    d = distance_matrix([t["keypoints"] for t in library])
    np.fill_diagonal(d, np.inf)
    i, j = np.unravel_index(np.argmin(d), d.shape)
    assert d[i, j] >= DEDUP_THRESHOLD, (library[i]["id"], library[j]["id"], d[i, j])


def test_committed_library_equals_a_regeneration(regenerated):
    committed = LIBRARY_PATH.read_text(encoding="utf-8")
    assert dumps(regenerated) == committed, "run: python -m core.library.poses.generator --out assets/poses/library.json"
    assert len(committed) < 3_000_000
