"""How alike two poses are, ignoring where they stand in the frame and how big they are.

Each pose is moved to its torso centre (the midpoint of neck and mid-hip; the neck when a pose has
no hips) and divided by its torso scale (neck-to-mid-hip length, or for upper-body poses
max(0.9 x shoulder width, 2.5 x neck-to-nose)). Per joint present in both, the displacement is then
measured in torso units:

- `pck`: share of joints (present in either pose) displaced by at most `alpha` (0..1, 1 = same);
- `mean` / `max`: mean and largest displacement over the joints both have.

De-duplication uses `max`: two templates with the same body joints whose every joint lies within
DEDUP_THRESHOLD torso units of its twin are duplicates (eye/ear visibility is ignored).

`dedupe` (and the generator's `dedupe_templates`) never build the all-pairs matrix: `close_pairs` puts poses
with the same body joints in one bucket (they share a frame: the same joints decide torso / neck / centroid),
hashes a few of their frame coordinates into grid cells of side >= the threshold (grid.chebyshev_pairs: a
displacement under t moves every coordinate by under t, so a duplicate lies in the same or a neighbouring
cell), checks every coordinate of the pairs found there, and computes the exact distance (the same float32
arithmetic as `distance_matrix`) on the pairs left. Same decisions as the matrix, in near-linear time and memory.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Sequence

import numpy as np

from core.library.poses.grid import chebyshev_pairs
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


# --- de-duplication without the all-pairs matrix ----------------------------------------------------------------
# No duplicate escapes the grid: a distance d < t means sqrt(dx^2 + dy^2) < t (float32) for every joint both poses
# have, and that is >= |dx| and >= |dy|, the same float32 differences the grid checks against t * (1 + _SLACK)
# (the slack covers the rounding of the square and the root); every other pair gets the exact distance.
_SLACK = 1e-5
_WILD = 1e6  # a pose with a frame coordinate beyond this (a degenerate scale) is compared with its whole bucket
_PAIR_CHUNK = 1 << 18  # pairs measured at once (bounds the memory of one step)
_BODY_BITS = (1 << np.arange(int(_BODY.sum()), dtype=np.int64))


def _kinds(P: dict) -> np.ndarray:
    """The frame a pose is compared in (0 torso, 1 neck, 2 centroid); a pair uses max(kind_a, kind_b)."""
    return np.where(P["torso_ok"], 0, np.where(P["neck_ok"], 1, 2))


def _pair_max(A: dict, B: dict, frame: int, ia: np.ndarray, ib: np.ndarray) -> np.ndarray:
    """The de-dup distance of the pairs (A[ia], B[ib]), all with the same body joints (so body_equal holds and the
    pair's frame is their common kind), computed with exactly _stats' float32 operations: the same values."""
    out = np.empty(len(ia))
    FA, FB = A["frames"][frame], B["frames"][frame]
    for start in range(0, len(ia), _PAIR_CHUNK):
        a, b = ia[start:start + _PAIR_CHUNK], ib[start:start + _PAIR_CHUNK]
        diff = FA[a] - FB[b]
        d = np.sqrt(diff[..., 0] ** 2 + diff[..., 1] ** 2)
        common = A["present"][a] & B["present"][b]
        n_common = common.sum(-1)
        d *= common
        out[start:start + len(a)] = np.where(n_common > 0, d.max(-1), np.inf)
    return out


def _close_pairs(A: dict, B: dict | None, threshold: float) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(i, j, distance) for every pair of prepared poses A[i], B[j] (A[i], A[j] with i > j when B is None) whose
    de-dup distance is < threshold or NaN; every other pair's distance is >= threshold (or inf), as in
    distance_matrix. Distances are distance_matrix's values exactly."""
    same = B is None
    B = A if same else B
    body_a = A["present"][:, _BODY].astype(np.int64) @ _BODY_BITS
    body_b = body_a if same else B["present"][:, _BODY].astype(np.int64) @ _BODY_BITS
    kind_a = _kinds(A)
    r = threshold * (1 + _SLACK)
    grid = bool(r > 0)  # False for threshold <= 0 or NaN: no distance is < it
    out_i, out_j, out_d = [], [], []
    order_a, order_b = np.argsort(body_a, kind="stable"), np.argsort(body_b, kind="stable")
    sa, sb = body_a[order_a], body_b[order_b]
    for key in np.intersect1d(sa, sb):
        ia = order_a[np.searchsorted(sa, key, "left"):np.searchsorted(sa, key, "right")]
        ib = ia if same else order_b[np.searchsorted(sb, key, "left"):np.searchsorted(sb, key, "right")]
        if same and len(ia) < 2:
            continue
        frame = int(kind_a[ia[0]])  # the same joints: the same kind
        joints = np.flatnonzero((key >> np.arange(len(_BODY_BITS))) & 1)
        joints = np.flatnonzero(_BODY)[joints]
        FA, FB = A["frames"][frame][ia], B["frames"][frame][ib]
        wild_a = ~(np.abs(FA) <= _WILD).all(axis=(1, 2))  # NaN / inf included
        wild_b = wild_a if same else ~(np.abs(FB) <= _WILD).all(axis=(1, 2))
        tame_a, tame_b = np.flatnonzero(~wild_a), np.flatnonzero(~wild_b)
        pi, pj = [], []
        if grid:
            # float32, the frames' own values: a coordinate's difference is the one _pair_max squares
            X = FA[tame_a][:, joints].reshape(len(tame_a), 2 * len(joints))
            Y = None if same else FB[tame_b][:, joints].reshape(len(tame_b), 2 * len(joints))
            gi, gj = chebyshev_pairs(X, Y, r)
            pi.append(tame_a[gi])
            pj.append(tame_b[gj])
        # a wild pose is checked against its whole bucket (these are rare: a pose with a vanishing scale)
        for w in np.flatnonzero(wild_a):
            if same:
                others = np.flatnonzero((np.arange(len(ib)) != w) & ~(wild_b & (np.arange(len(ib)) > w)))
                pi.append(np.maximum(others, w))
                pj.append(np.minimum(others, w))
            else:
                pi.append(np.full(len(ib), w))
                pj.append(np.arange(len(ib)))
        if not same:
            for w in np.flatnonzero(wild_b):
                pi.append(tame_a)
                pj.append(np.full(len(tame_a), w))
        if not pi:
            continue
        li, lj = np.concatenate(pi).astype(np.int64), np.concatenate(pj).astype(np.int64)
        if not len(li):
            continue
        gi, gj = ia[li], ib[lj]
        d = _pair_max(A, B, frame, gi, gj)
        keep = (d < threshold) | np.isnan(d)
        out_i.append(gi[keep])
        out_j.append(gj[keep])
        out_d.append(d[keep])
    if not out_i:
        return np.zeros(0, np.int64), np.zeros(0, np.int64), np.zeros(0)
    return np.concatenate(out_i), np.concatenate(out_j), np.concatenate(out_d)


def close_pairs(poses: Sequence[Any], others: Sequence[Any] | None = None, *, aspect: str | float = "2:3",
                threshold: float = DEDUP_THRESHOLD) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(i, j, distance): the pairs whose distance_matrix(poses, others) entry is < threshold (or NaN), i > j
    without `others`; every entry not listed is >= threshold. Near-linear, never the whole matrix."""
    A = _prepare(poses, aspect)
    return _close_pairs(A, None if others is None else _prepare(others, aspect), threshold)


def _neighbours(n: int, i: np.ndarray, j: np.ndarray, d: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The pairs sorted by (i, j), and where each i's run starts (CSR): starts[i]:starts[i + 1]."""
    order = np.lexsort((j, i))
    i, j, d = i[order], j[order], d[order]
    return j, d, np.searchsorted(i, np.arange(n + 1))


def first_kept(n: int, i: np.ndarray, j: np.ndarray) -> np.ndarray:
    """Greedy in order over n poses, given the pairs (i, j), j < i, that count as near: pose x is kept unless a
    pose j it is near was kept before it. Returns the kept mask."""
    j_sorted, _, starts = _neighbours(n, i, j, np.zeros(len(i)))
    kept = np.zeros(n, bool)
    for x in range(n):
        lo, hi = starts[x], starts[x + 1]
        kept[x] = hi == lo or not kept[j_sorted[lo:hi]].any()
    return kept


@dataclass
class DedupReport:
    kept: list[int] = field(default_factory=list)
    # (candidate index, reason (a Message), index into `existing` or into the candidates, or None)
    skipped: list[tuple[int, Message, int | None]] = field(default_factory=list)


def dedupe(candidates: Sequence[Any], existing: Sequence[Any] = (), *, aspect: str | float = "2:3",
           threshold: float = DEDUP_THRESHOLD, min_joints: int = 6) -> DedupReport:
    """Keep candidates (in order) that are not near an existing pose or an earlier kept candidate.

    The same decisions as comparing with the whole distance_matrix (the nearest existing pose, the lowest index on
    a tie; else the first earlier kept candidate), found from close pairs only."""
    report = DedupReport()
    if not candidates:
        return report
    n = len(candidates)
    C = _prepare(candidates, aspect)
    present = C["present"].sum(axis=1)  # as_pose(c).present.sum(): the joints that are not None
    match = np.full(n, -1, np.int64)  # the nearest existing pose under the threshold (argmin of the matrix row)
    match_d = np.full(n, np.inf)
    if len(existing):
        ei, ej, ed = _close_pairs(C, _prepare(existing, aspect), threshold)
        nan_rows = np.unique(ei[np.isnan(ed)])  # argmin of a row holding NaN is that NaN: never < threshold
        ok = ~np.isin(ei, nan_rows)
        ei, ej, ed = ei[ok], ej[ok], ed[ok]
        order = np.lexsort((ej, ed, ei))  # per candidate: smallest distance, then lowest index
        ei, ej, ed = ei[order], ej[order], ed[order]
        head = np.flatnonzero(np.r_[True, ei[1:] != ei[:-1]]) if len(ei) else np.zeros(0, np.int64)
        match[ei[head]], match_d[ei[head]] = ej[head], ed[head]
    si, sj, sd = _close_pairs(C, None, threshold)
    near = sd < threshold  # NaN is not near
    sj_sorted, sd_sorted, starts = _neighbours(n, si[near], sj[near], sd[near])
    kept = np.zeros(n, bool)
    for i in range(n):
        if present[i] < min_joints:
            report.skipped.append((i, Message("poses.too_few_keypoints", n=int(present[i]), need=min_joints), None))
            continue
        if match[i] >= 0:
            report.skipped.append((i, Message("poses.duplicate_of_existing", distance=float(match_d[i])),
                                   int(match[i])))
            continue
        lo, hi = starts[i], starts[i + 1]
        if hi > lo:
            hit = kept[sj_sorted[lo:hi]]
            if hit.any():
                at = lo + int(np.argmax(hit))
                k = int(sj_sorted[at])
                report.skipped.append((i, Message("poses.duplicate_of_candidate", candidate=k,
                                                  distance=float(sd_sorted[at])), k))
                continue
        kept[i] = True
        report.kept.append(i)
    return report
