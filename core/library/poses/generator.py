"""The pose-template library generator: seeded 3D bodies, posed per recipe, seen from several views.

    python -m core.library.poses.generator --out assets/poses/library.json [--seed N]

Each (recipe, sample index) gets its own random stream derived from the seed and the recipe's
name, so ids (category-subcategory-view-NNN, NNN = sample index) stay stable when other recipes
change, and a sample dropped as a duplicate leaves a gap instead of renumbering the rest.
"""
from __future__ import annotations

import argparse
import json
import sys
import zlib
from pathlib import Path
from typing import Any

import numpy as np

from core.library.poses.body import Body, Skeleton, camera, hidden, inside_torso, limit_violations, make_body, project
from core.library.poses.catalog import RECIPES, Meta, Recipe
from core.library.poses.keypoints import NAMES, Keypoint, Pose
from core.library.poses.rig import build
from core.library.poses.similarity import DEDUP_THRESHOLD, close_pairs, first_kept

GENERATOR_VERSION = 1
DEFAULT_SEED = 424242
ASPECT = "2:3"
FULL_MARGIN = 0.045
UPPER_MARGIN = 0.05
VIEWS = {  # yaw (the subject turns; + faces image right), yaw jitter, words for the description
    "front": (0.0, 8.0, "front view"),
    "three-quarter-left": (-38.0, 7.0, "three-quarter view facing left"),
    "three-quarter-right": (38.0, 7.0, "three-quarter view facing right"),
    "side-left": (-84.0, 5.0, "side view facing left"),
    "side-right": (84.0, 5.0, "side view facing right"),
}
VIEW_DIFFICULTY = {"front": 0, "three-quarter-left": 1, "three-quarter-right": 1, "side-left": 2, "side-right": 2}
GENDERS = ("female", "male", "unisex")
LEGS = ("right_hip", "right_knee", "right_ankle", "left_hip", "left_knee", "left_ankle")


def _stream(seed: int, *parts: Any) -> np.random.Generator:
    return np.random.default_rng([seed, *(zlib.crc32(str(p).encode()) for p in parts)])


def pose_sample(recipe: Recipe, seed: int, index: int, attempts: int = 12) -> tuple[Body, Skeleton, Meta] | None:
    """One posed body for a recipe, or None when no attempt stays inside the joint limits."""
    rng = _stream(seed, recipe.category, recipe.subcategory, index)
    body = make_body(rng, str(rng.choice(GENDERS, p=[0.45, 0.3, 0.25])))
    for _ in range(attempts):
        spec, meta = recipe.build(rng, body)
        sk = build(body, spec)
        if not limit_violations(sk.angles) and not _arms_collide(sk, body):
            return body, sk, meta
    return None


def _arms_collide(sk: Skeleton, body: Body) -> bool:
    J = sk.joints
    for side in ("right", "left"):
        s, e, w = J[f"{side}_shoulder"], J[f"{side}_elbow"], J[f"{side}_wrist"]
        for p in (e, w, (s + e) / 2, (e + w) / 2, e + 0.8 * (w - e)):
            if inside_torso(sk, body, p):
                return True
        if np.linalg.norm(w - sk.extras["head_centre"]) < 0.075 * body.head:
            return True
    return False


def _face_visible(sk: Skeleton, towards: np.ndarray) -> dict[str, bool]:
    """Eyes and ears a camera would see (the far ones hide behind the head), nose nearly always."""
    normals = {"nose": (0.0, 0.0, 1.0), "right_eye": (-0.45, 0.0, 0.9), "left_eye": (0.45, 0.0, 0.9),
               "right_ear": (-1.0, 0.0, -0.1), "left_ear": (1.0, 0.0, -0.1)}
    limits = {"nose": -0.05, "right_eye": 0.08, "left_eye": 0.08, "right_ear": -0.3, "left_ear": -0.3}
    return {k: float(np.dot(sk.head @ (np.array(n) / np.linalg.norm(n)), towards)) > limits[k]
            for k, n in normals.items()}


def view_pose(sk: Skeleton, body: Body, meta: Meta, recipe: Recipe, yaw: float, pitch: float) -> Pose | None:
    """Project, frame into the canvas and drop what the view cannot show; None if the view fails."""
    cam = camera(yaw, pitch)
    towards = cam[2]
    if any(hidden(sk, body, sk.joints[f"{h}_wrist"], towards) for h in meta.product_hands):
        return None
    names = list(NAMES)
    pts3 = np.array([sk.joints[n] for n in names])
    xy, _ = project(pts3, cam)
    for side in meta.extended:  # a pointing arm must not point at the camera
        a, b = names.index(f"{side}_shoulder"), names.index(f"{side}_wrist")
        if np.linalg.norm(xy[a] - xy[b]) < 0.75 * np.linalg.norm(pts3[a] - pts3[b]):
            return None
    visible = _face_visible(sk, towards)
    if not visible["nose"]:  # product photos show the face, at least in profile
        return None
    keep = np.array([visible.get(n, True) for n in names])
    extra_names = ["head_top", "right_hand", "left_hand"]
    if recipe.framing == "full":
        extra_names += ["right_toe", "left_toe", "right_heel", "left_heel"]
        box_pts = np.vstack([xy[keep], project(np.array([sk.extras[n] for n in extra_names]), cam)[0]])
    else:
        keep &= np.array([n not in LEGS for n in names])
        chest = sk.joints["neck"] + sk.trunk @ np.array([0.0, -0.55 * body.torso, 0.0])
        raised = [s for s in ("right", "left") if (sk.trunk.T @ (sk.joints[f"{s}_wrist"] - chest))[1] > 0]
        need = ["neck", "right_shoulder", "left_shoulder"] + [n for n in ("nose", "right_eye", "left_eye", "right_ear",
                                                                           "left_ear") if visible[n]]
        need += [f"{s}_{j}" for s in raised for j in ("elbow", "wrist")]
        pads = [sk.joints[f"{s}_shoulder"] + sk.trunk @ np.array([x * 0.04, 0.0, 0.0])
                for s, x in (("right", -1), ("left", 1))]
        box3 = [sk.joints[n] for n in need] + [sk.extras["head_top"], chest] + pads
        box3 += [sk.extras[f"{s}_hand"] for s in raised]
        box_pts = project(np.array(box3), cam)[0]
    # fit the framing box into the canvas, then carry the joints along with it
    margin = FULL_MARGIN if recipe.framing == "full" else UPPER_MARGIN
    lo, hi = box_pts.min(axis=0), box_pts.max(axis=0)
    aspect = 2 / 3
    k = min(aspect * (1 - 2 * margin) / (hi[0] - lo[0]), (1 - 2 * margin) / (hi[1] - lo[1]))
    centre = (lo + hi) / 2
    if recipe.framing == "upper":  # head at the top; the canvas shows as much body as fits below
        centre[1], offset = lo[1], margin
    else:
        offset = 0.5
    norm = ((xy - centre) * k + (aspect / 2, offset)) / (aspect, 1.0)
    inside = (norm >= 0.02).all(axis=1) & (norm <= 0.98).all(axis=1)
    if recipe.framing == "upper":
        keep &= inside
        for s in ("right", "left"):  # no wrist floating without its forearm
            if not keep[names.index(f"{s}_elbow")]:
                keep[names.index(f"{s}_wrist")] = False
    if recipe.framing == "full" and not inside.all():
        return None
    for h in meta.product_hands:
        if not keep[names.index(f"{h}_wrist")]:
            return None
    return Pose(tuple(Keypoint(round(float(x), 4), round(float(y), 4), 1.0) if ok else None
                      for (x, y), ok in zip(norm, keep)))


def _left_right_ok(pose: Pose, view: str) -> bool:
    """Front and three-quarter views: the subject's right shoulder/hip appear left of the left ones."""
    if view.startswith("side"):
        return True
    for r, l in ((2, 5), (8, 11)):
        if pose[r] is not None and pose[l] is not None and not pose[r].x < pose[l].x:
            return False
    return True


def _difficulty(view: str, meta: Meta) -> str:
    score = VIEW_DIFFICULTY[view] + meta.complexity
    return "easy" if score == 0 else "medium" if score <= 2 else "hard"


def _title(text: str) -> str:
    return text.replace("-", " ")


def template(recipe: Recipe, index: int, view: str, body: Body, meta: Meta, pose: Pose) -> dict[str, Any]:
    words = VIEWS[view][2]
    posture = "close-up, head and shoulders" if recipe.framing == "upper" else meta.posture
    tags = sorted(set(meta.tags) | {view, recipe.subcategory, recipe.category})
    return {
        "id": f"{recipe.category}-{recipe.subcategory}-{view}-{index:03d}",
        "name": f"{_title(recipe.category).capitalize()}: {_title(recipe.subcategory)}, {_title(view)} #{index + 1}",
        "category": recipe.category,
        "subcategory": recipe.subcategory,
        "view": view,
        "difficulty": _difficulty(view, meta),
        "tags": tags,
        "gender": body.gender,
        "product_placement": meta.placement,
        "description": f"{posture}, {words}, {meta.detail}",
        "aspect": ASPECT,
        "keypoints": pose.to_json(),
    }


def generate(seed: int = DEFAULT_SEED, recipes: tuple[Recipe, ...] | None = None) -> list[dict[str, Any]]:
    """All templates (of `recipes`, default the whole catalogue), de-duplicated, in catalogue order."""
    out: list[dict[str, Any]] = []
    for recipe in RECIPES if recipes is None else recipes:
        for i in range(recipe.count):
            sample = pose_sample(recipe, seed, i)
            if sample is None:
                continue
            body, sk, meta = sample
            for view in recipe.views:
                vr = _stream(seed, recipe.category, recipe.subcategory, i, view)
                base, jitter, _ = VIEWS[view]
                pose = view_pose(sk, body, meta, recipe, base + vr.uniform(-jitter, jitter), vr.uniform(-4, 10))
                if pose is not None and _left_right_ok(pose, view):
                    out.append(template(recipe, i, view, body, meta, pose))
    return dedupe_templates(out)


def dedupe_templates(templates: list[dict[str, Any]], threshold: float = DEDUP_THRESHOLD) -> list[dict[str, Any]]:
    """The templates (in order) not within `threshold` of an earlier kept one: the all-pairs rule
    `distance_matrix[i, kept].min() >= threshold`, decided from the close pairs only."""
    if not templates:
        return []
    if threshold != threshold:  # NaN: nothing is >= it, so the all-pairs rule keeps the first template only
        return templates[:1]
    i, j, _ = close_pairs([t["keypoints"] for t in templates], aspect=ASPECT, threshold=threshold)
    kept = first_kept(len(templates), i, j)  # a NaN distance (never >= threshold) counts as near, as it did
    return [t for t, keep in zip(templates, kept) if keep]


def library_document(seed: int = DEFAULT_SEED) -> dict[str, Any]:
    templates = generate(seed)
    return {"format": "openpose-18-templates", "generator_version": GENERATOR_VERSION, "seed": seed,
            "dedup_threshold": DEDUP_THRESHOLD, "count": len(templates), "templates": templates}


def dumps(doc: dict[str, Any]) -> str:
    """Stable JSON: one template per line (small diffs), keys sorted."""
    head = {k: v for k, v in doc.items() if k != "templates"}
    lines = [json.dumps(t, sort_keys=True, separators=(",", ":")) for t in doc["templates"]]
    body = ",\n".join(lines)
    return json.dumps(head, sort_keys=True)[:-1] + ', "templates": [\n' + body + "\n]}\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, required=True, help="where to write the library JSON")
    parser.add_argument("--seed", type=int, default=DEFAULT_SEED)
    args = parser.parse_args(argv)
    doc = library_document(args.seed)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(dumps(doc), encoding="utf-8")
    counts: dict[str, int] = {}
    for t in doc["templates"]:
        counts[t["category"]] = counts.get(t["category"], 0) + 1
    print(f"wrote {doc['count']} templates to {args.out}: " + ", ".join(f"{k} {v}" for k, v in counts.items()))
    return 0


if __name__ == "__main__":
    sys.exit(main())
