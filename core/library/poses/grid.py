"""All pairs of points within a Chebyshev radius, without the all-pairs matrix (numpy only).

`chebyshev_pairs(X, Y, r)` finds every (i, j) with max_d |X[i, d] - Y[j, d]| <= r. A few coordinates are cut
into cells of side >= r (a pair within r lies in cells at most one apart on each), the occupied cells look up
their 3^k neighbours in the sorted cell keys, and the point pairs of neighbouring cells are checked on every
coordinate. k (0..6) is chosen per call from the estimated work, so clustered data stays near-linear in
the number of points plus the number of close pairs. similarity.dedupe uses it as the pre-filter before the
exact pose distance.
"""
from __future__ import annotations

import itertools

import numpy as np

PAIR_CHUNK = 1 << 18  # candidate pairs handled at once (bounds the memory of one step)
MAX_GRID_DIMS = 6
LOOKUP_COST = 4.0  # one neighbour-cell lookup against checking one candidate pair (measured)


def chebyshev_pairs(X: np.ndarray, Y: np.ndarray | None, r: float) -> tuple[np.ndarray, np.ndarray]:
    """Every (i, j) with max_d |X[i, d] - Y[j, d]| <= r (the differences taken in X's dtype), and only those;
    with Y None, the pairs of X with i > j.

    A few coordinates (the most spread out, as many as pay off) are cut into cells of side >= r; a pair within r
    lies in cells at most one apart on each, so each occupied cell looks up its 3^k neighbours among the occupied
    cells, and the pairs of points of neighbouring cells are then checked on every coordinate."""
    same = Y is None
    Y = X if same else Y
    n, m, D = len(X), len(Y), X.shape[1]
    empty = (np.zeros(0, np.int64), np.zeros(0, np.int64))
    if n == 0 or m == 0 or (same and n < 2):
        return empty
    Z = X if same else np.vstack([X, Y])
    lo = Z.min(axis=0).astype(np.float64) if D else np.zeros(0)
    span = Z.max(axis=0).astype(np.float64) - lo if D else np.zeros(0)
    # cell side: r, widened by what float64 rounding of (x - lo) / side can move a point, and so that no axis has
    # more than 2^20 cells (a wider cell only lets more pairs through to the exact check)
    side = np.maximum(r * (1 + 1e-6) + 1e-15 * span, span / 2.0**20)
    with np.errstate(invalid="ignore", divide="ignore"):
        cells = np.where(np.isfinite(side), np.floor(span / side), 0.0) + 3
        spread = np.where(np.isfinite(side), Z.std(axis=0) / side, 0.0) if D else np.zeros(0)
    by_spread = [int(d) for d in np.argsort(-spread, kind="stable")]
    dims = _choose_grid_dims(X, Y, same, lo, side, cells, by_spread)
    strides = _strides(cells, dims)
    cx = _Cells(_cell_keys(X, dims, lo, side, strides))
    cy = cx if same else _Cells(_cell_keys(Y, dims, lo, side, strides))
    # the coordinates in cell order, one row per coordinate: a cell's points are neighbours in memory
    XT = np.ascontiguousarray(X[cx.order].T)
    YT = XT if same else np.ascontiguousarray(Y[cy.order].T)
    found_i, found_j = [], []
    for offset in itertools.product((-1, 0, 1), repeat=len(dims)):
        nonzero = [o for o in offset if o]
        if same and nonzero and nonzero[0] < 0:
            continue  # the pair is found from its other end
        a, b = cx.neighbours(cy, int(np.dot(offset, strides)) if dims else 0)
        if not len(a):
            continue
        ends = np.cumsum(cx.count[a] * cy.count[b])
        start = 0
        while start < len(a):  # cell pairs in groups of about PAIR_CHUNK point pairs
            base = ends[start - 1] if start else 0
            stop = max(int(np.searchsorted(ends, base + PAIR_CHUNK, "right")), start + 1)
            i, j = _expand(cx, cy, a[start:stop], b[start:stop])  # positions in cell order
            if same and not nonzero:
                keep = i > j
                i, j = i[keep], j[keep]
            for d in by_spread:
                keep = np.abs(XT[d][i] - YT[d][j]) <= r
                i, j = i[keep], j[keep]
                if not len(i):
                    break
            i, j = cx.order[i], cy.order[j]
            if same:
                i, j = np.maximum(i, j), np.minimum(i, j)
            found_i.append(i)
            found_j.append(j)
            start = stop
    if not found_i:
        return empty
    return np.concatenate(found_i), np.concatenate(found_j)


class _Cells:
    """Points grouped by cell key: the occupied keys (sorted), and for each its points (order[start:start+count])."""

    def __init__(self, keys: np.ndarray):
        self.order = np.argsort(keys, kind="stable")
        sorted_keys = keys[self.order]
        self.start = np.flatnonzero(np.r_[True, sorted_keys[1:] != sorted_keys[:-1]])
        self.keys = sorted_keys[self.start]
        self.count = np.diff(np.r_[self.start, len(keys)])

    def neighbours(self, other: "_Cells", shift: int) -> tuple[np.ndarray, np.ndarray]:
        """(a, b): the occupied cells a here whose key + shift is the occupied cell b there."""
        target = self.keys + shift
        pos = np.minimum(np.searchsorted(other.keys, target), len(other.keys) - 1)
        a = np.flatnonzero(other.keys[pos] == target)
        return a, pos[a]


def _expand(cx: _Cells, cy: _Cells, a: np.ndarray, b: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Every (point of cell a[k], point of cell b[k]) pair, as positions in cell order."""
    na, nb = cx.count[a], cy.count[b]
    size = na * nb
    first = np.cumsum(size) - size
    pair = np.repeat(np.arange(len(a)), size)
    within = np.arange(int(size.sum())) - first[pair]
    nbp = nb[pair]
    return cx.start[a][pair] + within // nbp, cy.start[b][pair] + within % nbp


def _strides(cells: np.ndarray, dims: list[int]) -> np.ndarray:
    return np.cumprod([1] + [int(cells[d]) for d in dims[:-1]]).astype(np.int64) if dims else np.zeros(0, np.int64)


def _cell_keys(P: np.ndarray, dims: list[int], lo: np.ndarray, side: np.ndarray, strides: np.ndarray) -> np.ndarray:
    """Each point's cell as one integer (mixed radix; coordinates start at 1 so that a neighbour -1 stays >= 0)."""
    if not dims:
        return np.zeros(len(P), np.int64)
    return (np.floor((P[:, dims].astype(np.float64) - lo[dims]) / side[dims]).astype(np.int64) + 1) @ strides


def _choose_grid_dims(X, Y, same, lo, side, cells, by_spread) -> list[int]:
    """The coordinates to hash: the k most spread out, k (0..MAX_GRID_DIMS) minimising the estimated work:
    the candidate pairs (counted for a sample of X) plus one lookup per occupied cell and neighbour."""
    n, m = len(X), len(Y)
    half = 2 if same else 1
    sample = X[np.linspace(0, n - 1, min(n, 1024)).astype(np.int64)]
    scale = n / len(sample) / half
    best, best_cost = [], float(n) * m / half
    dims: list[int] = []
    for d in by_spread[:MAX_GRID_DIMS]:
        if not np.isfinite(side[d]) or cells[d] <= 3 or np.prod([cells[e] for e in dims + [d]]) > 2.0**62:
            break
        dims.append(d)
        strides = _strides(cells, dims)
        cy = _Cells(_cell_keys(Y, dims, lo, side, strides))
        offsets = np.array(list(itertools.product((-1, 0, 1), repeat=len(dims)))) @ strides
        target = (_cell_keys(sample, dims, lo, side, strides)[:, None] + offsets[None]).ravel()
        pos = np.minimum(np.searchsorted(cy.keys, target), len(cy.keys) - 1)
        pairs = np.where(cy.keys[pos] == target, cy.count[pos], 0).sum()
        cost = pairs * scale + LOOKUP_COST * (len(cy.keys) if same else n) * len(offsets) / half
        if cost < best_cost:
            best, best_cost = list(dims), cost
        elif len(dims) - len(best) >= 2:
            break
    return best
