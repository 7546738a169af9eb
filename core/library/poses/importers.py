"""Import poses from OpenPose JSON files and from ControlNet skeleton images.

- `from_openpose_json`: `people[].pose_keypoints_2d` flat (x, y, c) triples, COCO-18 (54 numbers)
  or BODY_25 (75: mid-hip and feet dropped), pixel or normalised coordinates, one document or a
  list of them; every person is one candidate.
- `from_skeleton_image`: reads the limb and joint colours of a ControlNet OpenPose skeleton (ours
  or controlnet_aux's drawing). Each joint is the radius-4 disc of its colour; its centre is found
  by fitting that disc to the visible pixels (later discs may cover part of it), which puts an
  unresized render back within a pixel. Several people are told apart by following the limbs.
"""
from __future__ import annotations

import io
import json
from typing import Any, NamedTuple

import cv2
import numpy as np

from core.errors import ValidationFailed
from core.messages import Message
from core.library.poses.keypoints import COLORS, COUNT, LIMB_COLORS, LIMBS, Keypoint, Pose
from core.library.poses.render import JOINT_RADIUS
from core.library.poses.skeleton_fit import fit_disc, limb_ends

BODY25_TO_COCO18 = (0, 1, 2, 3, 4, 5, 6, 7, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18)
MAX_JSON_BYTES = 20 * 1024 * 1024
MAX_IMAGE_PIXELS = 40_000_000


class Candidate(NamedTuple):
    label: Message | str  # where it came from: Message "document 0, person 1", or the document's own id
    pose: Pose
    aspect: float | None = None  # width / height of the source canvas, when known (for fit_to_aspect)


# --- OpenPose JSON -------------------------------------------------------------------------
def from_openpose_json(data: Any, *, width: int | None = None, height: int | None = None,
                       normalised: bool | None = None) -> list[Candidate]:
    """Every person of an OpenPose JSON document (or list of documents) as a candidate pose.

    Pixel coordinates need the canvas size: the document's canvas_width/canvas_height, else
    `width`/`height`. `normalised=None` decides per person (all coordinates within 0..1).
    """
    if isinstance(data, (bytes, bytearray, str)):
        if len(data) > MAX_JSON_BYTES:
            raise ValidationFailed("poses.json_too_large", field="file")
        try:
            data = json.loads(data)
        except ValueError as exc:
            raise ValidationFailed("poses.not_json", field="file", why=str(exc)) from None
    docs = data if isinstance(data, list) else [data]
    out: list[Candidate] = []
    for d, doc in enumerate(docs):
        if not isinstance(doc, dict) or not isinstance(doc.get("people"), list):
            raise ValidationFailed("poses.no_people_list", field="file", document=d)
        w = doc.get("canvas_width", width)
        h = doc.get("canvas_height", height)
        for p, person in enumerate(doc["people"]):
            label = (str(doc["id"]) if "id" in doc and len(doc["people"]) == 1
                     else Message("poses.person_in_document", document=d, person=p))
            flat = person.get("pose_keypoints_2d") if isinstance(person, dict) else None
            sized = isinstance(w, (int, float)) and isinstance(h, (int, float)) and w > 0 and h > 0
            aspect = float(w) / float(h) if sized else None
            out.append(Candidate(label, _person_pose(flat, w, h, normalised, label), aspect))
    return out


def _person_pose(flat: Any, w: Any, h: Any, normalised: bool | None, label: Message | str) -> Pose:
    if not isinstance(flat, list) or len(flat) not in (54, 75):
        n = len(flat) if isinstance(flat, list) else 0
        raise ValidationFailed("poses.keypoint_count", field="file", label=label, n=n)
    try:
        a = np.asarray(flat, dtype=np.float64).reshape(-1, 3)
    except (TypeError, ValueError):
        raise ValidationFailed("poses.keypoints_not_numbers", field="file", label=label) from None
    if len(a) == 25:
        a = a[list(BODY25_TO_COCO18)]
    if not np.isfinite(a).all():
        raise ValidationFailed("poses.keypoints_not_finite", field="file", label=label)
    ok = (a[:, 2] > 0) & ~((a[:, 0] == 0) & (a[:, 1] == 0))
    norm = normalised if normalised is not None else bool((a[ok, :2] <= 1.0 + 1e-6).all() and (a[ok, :2] >= -1e-6).all())
    xy = a[:, :2].copy()
    if not norm:
        if not (isinstance(w, (int, float)) and isinstance(h, (int, float)) and w > 0 and h > 0):
            raise ValidationFailed("poses.needs_canvas_size", field="file", label=label)
        xy /= (float(w), float(h))
    conf = np.clip(a[:, 2], 0.0, 1.0)
    return Pose(tuple(Keypoint(float(x), float(y), float(c)) if k else None
                      for (x, y), c, k in zip(xy, conf, ok)))


# --- skeleton images -----------------------------------------------------------------------
def load_rgb(image: Any) -> np.ndarray:
    """(H, W, 3) uint8 RGB from an array, a PIL image, PNG/JPEG bytes or a file-like object."""
    if isinstance(image, np.ndarray):
        arr = image
    else:
        from PIL import Image

        if isinstance(image, (bytes, bytearray)):
            image = io.BytesIO(image)
        if hasattr(image, "read"):
            try:
                with Image.open(image) as im:
                    if im.width * im.height > MAX_IMAGE_PIXELS:
                        raise ValidationFailed("poses.skeleton_too_large", field="file")
                    arr = np.asarray(im.convert("RGB"))
            except (OSError, Image.DecompressionBombError):
                raise ValidationFailed("poses.not_readable_image", field="file") from None
        else:
            arr = np.asarray(image.convert("RGB"))
    if arr.ndim == 2:
        arr = np.repeat(arr[:, :, None], 3, axis=2)
    if arr.ndim != 3 or arr.shape[2] not in (3, 4) or arr.dtype != np.uint8:
        raise ValidationFailed("poses.not_rgb", field="file")
    return np.ascontiguousarray(arr[:, :, :3])


_PALETTE = np.array(COLORS + LIMB_COLORS, dtype=np.int16)  # labels 0..17 joints, 18.. limbs
_KEYS = (_PALETTE[:, 0].astype(np.int32) << 16) | (_PALETTE[:, 1].astype(np.int32) << 8) | _PALETTE[:, 2]
_KEY_ORDER = np.argsort(_KEYS)
_SORTED_KEYS = _KEYS[_KEY_ORDER]


def classify(rgb: np.ndarray, tolerance: int = 24) -> np.ndarray:
    """Label image: joint index, 18 + limb index, or -1 (background / anything else).

    Exact palette colours are looked up directly; other lit pixels (a resized or re-compressed
    image) take the nearest palette colour within `tolerance` per channel.
    """
    labels = np.full(rgb.shape[:2], -1, dtype=np.int16)
    lit = np.maximum(np.maximum(rgb[:, :, 0], rgb[:, :, 1]), rgb[:, :, 2]) > tolerance
    pix = rgb[lit].astype(np.int32)
    if not len(pix):
        return labels
    keys = (pix[:, 0] << 16) | (pix[:, 1] << 8) | pix[:, 2]
    pos = np.minimum(np.searchsorted(_SORTED_KEYS, keys), len(_KEYS) - 1)
    exact = _SORTED_KEYS[pos] == keys
    out = np.where(exact, _KEY_ORDER[pos], -1).astype(np.int16)
    rest = ~exact
    if rest.any():
        diff = np.abs(pix[rest, None, :] - _PALETTE[None]).max(axis=2)
        best = diff.argmin(axis=1)
        out[rest] = np.where(diff[np.arange(len(best)), best] <= tolerance, best, -1)
    labels[lit] = out
    return labels


def _pixels_by_label(labels: np.ndarray) -> dict[int, tuple[np.ndarray, np.ndarray]]:
    ys, xs = np.nonzero(labels >= 0)
    lab = labels[ys, xs]
    order = np.argsort(lab, kind="stable")
    lab, xs, ys = lab[order], xs[order], ys[order]
    cuts = np.flatnonzero(np.diff(lab)) + 1
    return {int(l[0]): (x, y) for l, x, y in zip(np.split(lab, cuts), np.split(xs, cuts), np.split(ys, cuts)) if len(l)}


def components(xs: np.ndarray, ys: np.ndarray) -> list[tuple[np.ndarray, np.ndarray]]:
    """8-connected pieces of a pixel set, each as (xs, ys)."""
    if not len(xs):
        return []
    x0, y0 = xs.min(), ys.min()
    mask = np.zeros((ys.max() - y0 + 1, xs.max() - x0 + 1), np.uint8)
    mask[ys - y0, xs - x0] = 1
    n, comp = cv2.connectedComponents(mask, connectivity=8)
    ids = comp[ys - y0, xs - x0]
    if n == 2:
        return [(xs, ys)]
    return [(xs[ids == c], ys[ids == c]) for c in range(1, n)]


def from_skeleton_image(image: Any, *, min_joints: int = 3) -> list[Candidate]:
    """Poses drawn in a ControlNet OpenPose skeleton image, one candidate per person."""
    rgb = load_rgb(image)
    H, W = rgb.shape[:2]
    labels = classify(rgb)
    by_label = _pixels_by_label(labels)
    empty = (np.zeros(0, np.int64), np.zeros(0, np.int64))
    joints = [_joint_candidates(labels, by_label.get(j, empty), j) for j in range(COUNT)]
    orphan_limb = any(COUNT + k in by_label and not (joints[a] and joints[b]) for k, (a, b) in enumerate(LIMBS))
    if all(len(c) <= 1 for c in joints) and not orphan_limb:  # one person, nothing hidden: no limbs needed
        limbs: list[list] = [[] for _ in LIMBS]
    else:
        limbs = [limb_ends(components(*by_label.get(COUNT + k, empty))) for k in range(len(LIMBS))]
    people = _group(joints, labels)
    out = []
    for person in people:
        _fill_hidden(person, limbs)
        if sum(v is not None for v in person) < min_joints:
            continue
        pose = Pose(tuple(None if v is None else Keypoint((v[0] + 0.5) / W, (v[1] + 0.5) / H, v[2]) for v in person))
        out.append(Candidate(Message("poses.person", person=len(out)), pose, W / H))
    return out


def _joint_candidates(labels: np.ndarray, pixels: tuple[np.ndarray, np.ndarray], j: int) -> list[tuple]:
    pieces = components(*pixels)
    groups: list[list[int]] = []  # merge pieces of one disc cut apart by later discs
    cents = [(float(x.mean()), float(y.mean())) for x, y in pieces]
    for c, cent in enumerate(cents):
        for g in groups:
            if np.hypot(cents[g[0]][0] - cent[0], cents[g[0]][1] - cent[1]) <= 2 * JOINT_RADIUS + 1:
                g.append(c)
                break
        else:
            groups.append([c])
    out = []
    for g in groups:
        xs = np.concatenate([pieces[c][0] for c in g])
        ys = np.concatenate([pieces[c][1] for c in g])
        out.append(fit_disc(labels, xs, ys, j))
    return out


def _group(joints: list[list], labels: np.ndarray) -> list[list]:
    """Split joint candidates into people; the common single-person case is direct.

    Two candidates are joined by limb k when the straight line between them runs over drawn
    pixels all the way (a limb of that colour, partly covered by what was drawn later), never
    over background; pairs are taken best-supported first, each candidate once per limb.
    """
    if all(len(c) <= 1 for c in joints):
        return [[c[0] if c else None for c in joints]]
    nodes = [(j, i) for j in range(COUNT) for i in range(len(joints[j]))]
    parent = {n: n for n in nodes}
    drawn = cv2.dilate((labels >= 0).astype(np.uint8), np.ones((3, 3), np.uint8)).astype(bool)

    def root(n):
        while parent[n] != n:
            parent[n] = parent[parent[n]]
            n = parent[n]
        return n

    for k, (a, b) in enumerate(LIMBS):
        strict, covered = [], []
        for ia, pa in enumerate(joints[a]):
            for ib, pb in enumerate(joints[b]):
                support, own = _line_support(labels, drawn, pa, pb, COUNT + k)
                if support >= 0.95 and own >= 0.1:
                    strict.append((-support, -own, ia, ib))
                elif support >= 0.98:  # a limb hidden under later ones (side views): shortest first
                    covered.append((float(np.hypot(pa[0] - pb[0], pa[1] - pb[1])), 0.0, ia, ib))
        used_a, used_b = set(), set()
        for _, _, ia, ib in sorted(strict) + sorted(covered):
            if ia not in used_a and ib not in used_b:
                used_a.add(ia)
                used_b.add(ib)
                parent[root((a, ia))] = root((b, ib))
    people: dict[Any, list] = {}
    for n in nodes:
        person = people.setdefault(root(n), [None] * COUNT)
        j, i = n
        if person[j] is None:
            person[j] = joints[j][i]
    return sorted(people.values(), key=lambda p: -sum(v is not None for v in p))


def _line_support(labels: np.ndarray, drawn: np.ndarray, p: tuple, q: tuple, own: int) -> tuple[float, float]:
    """Between two joint centres (their discs left out): the share of samples on drawn pixels
    (within a pixel: limb angles are drawn rounded to whole degrees) and the share in colour `own`."""
    H, W = labels.shape
    length = float(np.hypot(q[0] - p[0], q[1] - p[1]))
    skip = min(0.25, (JOINT_RADIUS + 2) / max(length, 1e-9))
    t = np.linspace(skip, 1.0 - skip, max(int(length), 2) + 1)
    xs = np.clip(np.rint(p[0] + (q[0] - p[0]) * t).astype(int), 0, W - 1)
    ys = np.clip(np.rint(p[1] + (q[1] - p[1]) * t).astype(int), 0, H - 1)
    return float(drawn[ys, xs].mean()), float((labels[ys, xs] == own).mean())


def _fill_hidden(person: list, limbs: list[list]) -> None:
    """A joint whose disc is covered entirely: take the far end of a limb that reaches it."""
    for k, (a, b) in enumerate(LIMBS):
        for known, missing in ((a, b), (b, a)):
            if person[known] is None or person[missing] is not None:
                continue
            for e1, e2 in limbs[k]:
                kx, ky = person[known][:2]
                near, far = (e1, e2) if np.hypot(*(e1 - (kx, ky))) < np.hypot(*(e2 - (kx, ky))) else (e2, e1)
                if np.hypot(*(near - (kx, ky))) < 2 * JOINT_RADIUS + 2:
                    step = far - near
                    far = far + step / max(float(np.hypot(*step)), 1e-9) * JOINT_RADIUS
                    person[missing] = (float(far[0]), float(far[1]), 0.5)
                    break
