"""How alike two poses are, ignoring where they stand in the frame and how big they are.

Each pose is moved to its torso centre (the midpoint of neck and mid-hip; the neck when a pose has
no hips) and divided by its torso scale (neck-to-mid-hip length, or for upper-body poses
max(0.9 x shoulder width, 2.5 x neck-to-nose)). Per joint present in both, the displacement is then
measured in torso units:

- `pck`: share of joints (present in either pose) displaced by at most `alpha` (0..1, 1 = same);
- `mean` / `max`: mean and largest displacement over the joints both have.

De-duplication uses `max`: two templates with the same body joints whose every joint lies within
DEDUP_THRESHOLD torso units of its twin are duplicates (eye/ear visibility is ignored).
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Sequence

import numpy as np

from core.library.poses.keypoints import FACE, L_HIP, NECK, NOSE, R_HIP, R_SHOULDER, L_SHOULDER, as_pose, parse_aspect
from core.messages import Message

DEDUP_THRESHOLD = 0.15
PCK_ALPHA = 0.2
_BODY = np.array([i not in FACE[1:] for i in range(18)])  # nose counts, eyes/ears do not


@dataclass(frozen=True)
class PoseMatch:
    pck: float
    mean: float
    max: float
    common: int
    union: int


def _prepare(poses: Sequence[Any], aspect: str | float) -> dict[str, np.ndarray]:
    """Per pose: presence, and its joints normalised three ways (torso frame, neck frame, centroid)."""
    asp = parse_aspect(aspect)
    xy = np.stack([as_pose(p).xy() for p in poses]) * (asp, 1.0) if len(poses) else np.zeros((0, 18, 2))
    present = ~np.isnan(xy[..., 0])
    filled = np.nan_to_num(xy)
    has = lambda i: present[:, i]  # noqa: E731
    torso_ok = has(NECK) & has(R_HIP) & has(L_HIP)
    mid_hip = (filled[:, R_HIP] + filled[:, L_HIP]) / 2
    torso = np.linalg.norm(filled[:, NECK] - mid_hip, axis=1)
    shoulders = np.where(has(R_SHOULDER) & has(L_SHOULDER),
                         np.linalg.norm(filled[:, R_SHOULDER] - filled[:, L_SHOULDER], axis=1), 0.0)
    head = np.where(has(NECK) & has(NOSE), np.linalg.norm(filled[:, NECK] - filled[:, NOSE], axis=1), 0.0)
    upper = np.maximum(0.9 * shoulders, 2.5 * head)
    count = np.maximum(present.sum(axis=1), 1)
    centroid = filled.sum(axis=1) / count[:, None]
    spread = np.sqrt((((filled - centroid[:, None]) ** 2).sum(-1) * present).sum(1) / count)
    upper = np.where(upper > 1e-9, upper, np.maximum(2 * spread, 1e-9))
    full = np.where(torso_ok, np.maximum(torso, 1e-9), upper)
    norm = lambda anchor, scale: ((filled - anchor[:, None]) / scale[:, None, None]).astype(np.float32)  # noqa: E731
    return {
        "present": present, "torso_ok": torso_ok, "neck_ok": has(NECK),
        "frames": (norm((filled[:, NECK] + mid_hip) / 2, full), norm(filled[:, NECK], upper), norm(centroid, upper)),
    }


ALL_STATS = ("pck", "mean", "max", "common", "union", "body_equal")


def _stats(A: dict, B: dict, alpha: float, keys: Sequence[str] = ALL_STATS, chunk: int = 128) -> dict[str, np.ndarray]:
    """All-pairs statistics of A against B: pck, mean, max, common, union, body_equal."""
    n, m = len(A["present"]), len(B["present"])
    init = {"pck": 0.0, "mean": np.inf, "max": np.inf, "common": 0, "union": 0, "body_equal": False}
    out = {k: np.full((n, m), init[k]) for k in keys}
    # which frame a pair is compared in: both with a torso -> 0, both with a neck -> 1, else 2
    kind_a = np.where(A["torso_ok"], 0, np.where(A["neck_ok"], 1, 2))
    kind_b = np.where(B["torso_ok"], 0, np.where(B["neck_ok"], 1, 2))
    for frame in range(3):
        rows = np.flatnonzero(kind_a <= frame) if frame < 2 else np.arange(n)
        cols = np.flatnonzero(kind_b <= frame) if frame < 2 else np.arange(m)
        for start in range(0, len(rows), chunk):
            r = rows[start:start + chunk]
            pair_kind = np.maximum(kind_a[r][:, None], kind_b[cols][None, :])
            use = pair_kind == frame
            if not use.any():
                continue
            na, nb = A["frames"][frame][r], B["frames"][frame][cols]
            diff = na[:, None] - nb[None]
            d = np.sqrt(diff[..., 0] ** 2 + diff[..., 1] ** 2)
            pa, pb = A["present"][r][:, None], B["present"][cols][None]
            common = pa & pb
            n_common = common.sum(-1)
            d *= common
            stats = {
                "max": lambda: np.where(n_common > 0, d.max(-1), np.inf),
                "body_equal": lambda: ((pa == pb) | ~_BODY).all(-1),
                "pck": lambda: ((d <= alpha) & common).sum(-1) / np.maximum((pa | pb).sum(-1), 1),
                "mean": lambda: np.where(n_common > 0, d.sum(-1) / np.maximum(n_common, 1), np.inf),
                "common": lambda: n_common, "union": lambda: (pa | pb).sum(-1),
            }
            ix = np.ix_(r, cols)
            for key in keys:
                val = stats[key]()
                block = out[key][ix]
                block[use] = val[use]
                out[key][ix] = block
    return out


def compare(a: Any, b: Any, *, aspect: str | float = "2:3", alpha: float = PCK_ALPHA) -> PoseMatch:
    """Similarity of two poses drawn on canvases of the same aspect."""
    st = _stats(_prepare([a], aspect), _prepare([b], aspect), alpha)
    return PoseMatch(float(st["pck"][0, 0]), float(st["mean"][0, 0]), float(st["max"][0, 0]),
                     int(st["common"][0, 0]), int(st["union"][0, 0]))


def similarity(a: Any, b: Any, *, aspect: str | float = "2:3", alpha: float = PCK_ALPHA) -> float:
    """PCK in 0..1: the share of joints that agree within `alpha` torso units."""
    return compare(a, b, aspect=aspect, alpha=alpha).pck


def distance_matrix(poses: Sequence[Any], others: Sequence[Any] | None = None, *,
                    aspect: str | float = "2:3") -> np.ndarray:
    """(N, M) de-dup distance: the largest joint displacement, inf where body joints differ."""
    A = _prepare(poses, aspect)
    B = A if others is None else _prepare(others, aspect)
    st = _stats(A, B, PCK_ALPHA, keys=("max", "body_equal"))
    return np.where(st["body_equal"], st["max"], np.inf)


def is_duplicate(a: Any, b: Any, *, aspect: str | float = "2:3", threshold: float = DEDUP_THRESHOLD) -> bool:
    return bool(distance_matrix([a], [b], aspect=aspect)[0, 0] < threshold)


@dataclass
class DedupReport:
    kept: list[int] = field(default_factory=list)
    # (candidate index, reason (a Message), index into `existing` or into the candidates, or None)
    skipped: list[tuple[int, Message, int | None]] = field(default_factory=list)


def dedupe(candidates: Sequence[Any], existing: Sequence[Any] = (), *, aspect: str | float = "2:3",
           threshold: float = DEDUP_THRESHOLD, min_joints: int = 6) -> DedupReport:
    """Keep candidates (in order) that are not near an existing pose or an earlier kept candidate."""
    report = DedupReport()
    if not candidates:
        return report
    present = np.array([as_pose(c).present.sum() for c in candidates])
    versus_existing = distance_matrix(candidates, existing, aspect=aspect) if len(existing) else None
    self_dist = distance_matrix(candidates, aspect=aspect)
    for i in range(len(candidates)):
        if present[i] < min_joints:
            report.skipped.append((i, Message("poses.too_few_keypoints", n=int(present[i]), need=min_joints), None))
            continue
        if versus_existing is not None:
            j = int(np.argmin(versus_existing[i]))
            if versus_existing[i, j] < threshold:
                report.skipped.append((i, Message("poses.duplicate_of_existing",
                                                  distance=float(versus_existing[i, j])), j))
                continue
        near = [k for k in report.kept if self_dist[i, k] < threshold]
        if near:
            report.skipped.append((i, Message("poses.duplicate_of_candidate", candidate=near[0],
                                              distance=float(self_dist[i, near[0]])), near[0]))
            continue
        report.kept.append(i)
    return report
