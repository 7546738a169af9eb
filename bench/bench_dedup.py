"""Pose de-duplication at 1k / 10k / 50k templates: the grid pre-filter (similarity.dedupe today) against the
old all-pairs matrix. Prints the median time of --runs, the peak memory, and the ratio old / new.

    python bench/bench_dedup.py [--runs 3] [--sizes 1000,10000,50000] [--old-10k] [--old-runs 1]

The templates are the shipped library's shapes repeated, each copy moved, scaled and jittered: 15 % by
0.1-0.6 % of the canvas per joint (near-duplicates of their shape), the rest by 2-6 % (other poses of the
same recipe, almost all kept); a tenth are mirrored and one in twenty misses a limb joint. Inputs are the
stored JSON keypoint lists, as the importer and the generator pass them; the time includes reading them.

Every (method, size) runs in a fresh subprocess. Memory is reported two ways: "RSS" is resource.getrusage
ru_maxrss after the first call minus ru_maxrss just before it (the process's peak resident growth), and
"traced" is tracemalloc's peak during one more call (Python and numpy allocations only). The old path runs
at 1k, at 10k only with --old-10k (about two minutes and 1.7 GB here), never at 50k (two float64 matrices
of 50k x 50k would take 37 GiB). At the sizes both run, the decisions are compared and must be the same.
Nothing is asserted about time.
"""
from __future__ import annotations

import argparse
import gc
import json
import resource
import statistics
import subprocess
import sys
import time
import tracemalloc
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from core.library.poses.keypoints import Pose, as_pose  # noqa: E402
from core.library.poses.library import load_library  # noqa: E402
from core.library.poses.similarity import DEDUP_THRESHOLD, DedupReport, dedupe, distance_matrix  # noqa: E402
from core.library.poses.transforms import mirror  # noqa: E402
from core.messages import Message  # noqa: E402

OLD_10K_FLAG = "--old-10k"
NEAR_SHARE = 0.15


def make_templates(n: int, seed: int = 0) -> list[list]:
    """n stored keypoint lists: the shipped shapes in turn, each copy moved, scaled and jittered."""
    rng = np.random.default_rng(seed)
    shapes = [Pose.from_json(t["keypoints"]) for t in load_library()]
    shapes = shapes + [mirror(p) for p in shapes]
    out = []
    for k in range(n):
        base = shapes[k % (len(shapes) // 2) + (len(shapes) // 2 if rng.random() < 0.1 else 0)]
        a = base.to_array()
        near = rng.random() < NEAR_SHARE  # a re-import of the same pose, or another pose on the same recipe
        sigma = np.exp(rng.uniform(np.log(0.001), np.log(0.006))) if near else rng.uniform(0.02, 0.06)
        a[:, :2] = (a[:, :2] - 0.5) * rng.uniform(0.85, 1.05) + 0.5 + rng.uniform(-0.03, 0.03, 2)
        a[:, :2] += rng.normal(0, sigma, (18, 2))
        if rng.random() < 0.05:
            a[rng.choice([3, 4, 6, 7, 9, 10, 12, 13])] = np.nan
        out.append(Pose.from_array(a).to_json())
    return out


def old_dedupe(candidates, existing=(), *, aspect="2:3", threshold=DEDUP_THRESHOLD, min_joints=6) -> DedupReport:
    """The de-duplication before the pre-filter: whole distance matrices, then the same greedy pass."""
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


METHODS = {"new": dedupe, "old": old_dedupe}


def _decisions(report: DedupReport) -> list:
    return [report.kept, [(i, m.code, m.params, other) for i, m, other in report.skipped]]


def child(method: str, n: int, runs: int, trace: bool) -> dict:
    """One (method, size) in this fresh process: peak RSS growth of the first call, median time, traced peak."""
    fn = METHODS[method]
    templates = make_templates(n)
    gc.collect()
    base = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    times = []
    t0 = time.perf_counter()
    report = fn(templates)
    times.append(time.perf_counter() - t0)
    rss_kib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - base  # KiB on Linux
    for _ in range(runs - 1):
        t0 = time.perf_counter()
        fn(templates)
        times.append(time.perf_counter() - t0)
    traced = None
    if trace:
        gc.collect()
        tracemalloc.start()
        fn(templates)
        traced = tracemalloc.get_traced_memory()[1]
        tracemalloc.stop()
    return {"time": statistics.median(times), "rss_mib": rss_kib / 1024, "traced_mib": None if traced is None
            else traced / 2**20, "kept": len(report.kept), "decisions": _decisions(report)}


def run_child(method: str, n: int, runs: int, trace: bool) -> dict:
    cmd = [sys.executable, __file__, "--child", method, str(n), str(runs), "1" if trace else "0"]
    out = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, check=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if argv[:1] == ["--child"]:
        method, n, runs, trace = argv[1], int(argv[2]), int(argv[3]), argv[4] == "1"
        print(json.dumps(child(method, n, runs, trace)))
        return 0
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3, help="timed calls per size (median)")
    parser.add_argument("--sizes", default="1000,10000,50000")
    parser.add_argument(OLD_10K_FLAG, action="store_true", help="also time the old all-pairs path at 10k")
    parser.add_argument("--old-runs", type=int, default=1, help="timed calls of the old path (it is slow)")
    args = parser.parse_args(argv)
    sizes = [int(s) for s in args.sizes.split(",")]
    print(f"dedupe of n templates (threshold {DEDUP_THRESHOLD}), median of {args.runs} runs (old: {args.old_runs});"
          " memory: RSS = ru_maxrss growth during the first call, traced = tracemalloc peak; fresh process each")
    print(f"{'n':>7} {'method':<6} {'time s':>9} {'RSS MiB':>9} {'traced MiB':>11} {'kept':>7}  notes")
    for n in sizes:
        new = run_child("new", n, args.runs, trace=True)
        print(f"{n:>7} {'new':<6} {new['time']:>9.3f} {new['rss_mib']:>9.1f} {new['traced_mib']:>11.1f} "
              f"{new['kept']:>7}  {n - new['kept']} skipped as duplicates")
        if n > 10000:
            print(f"{n:>7} {'old':<6} {'—':>9} {'—':>9} {'—':>11} {'—':>7}  out of reach: two {n}x{n} float64 "
                  f"matrices are {2 * n * n * 8 / 2**30:.0f} GiB")
            continue
        if n > 1000 and not args.old_10k:
            print(f"{n:>7} {'old':<6} {'—':>9} {'—':>9} {'—':>11} {'—':>7}  skipped (about two minutes and 1.7 GB: "
                  f"pass {OLD_10K_FLAG})")
            continue
        old = run_child("old", n, args.old_runs, trace=n <= 1000)
        traced = "skipped" if old["traced_mib"] is None else f"{old['traced_mib']:.1f}"
        same = "same decisions" if old["decisions"] == new["decisions"] else "DIFFERENT DECISIONS"
        print(f"{n:>7} {'old':<6} {old['time']:>9.3f} {old['rss_mib']:>9.1f} {traced:>11} {old['kept']:>7}  {same}")
        ratio_mem = f"{old['rss_mib'] / new['rss_mib']:.1f}x" if new["rss_mib"] > 0 else "n/a (no RSS growth)"
        print(f"{n:>7} {'old/new':<6} {old['time'] / new['time']:>8.1f}x {ratio_mem:>9}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
