"""Skeleton rendering speed: 1,000 previews of shipped templates, ours vs controlnet_aux's drawing.

Prints the median over several runs of ms per preview for: our draw (numpy canvas), our PNG preview
(draw + encode), controlnet_aux 0.0.10 `draw_poses` (same canvas, same pixels) when installed, the
ratio ours / theirs in the same process, and the skeleton-image importer. Asserts nothing.

    python bench/bench_poses.py [--previews 1000] [--runs 5] [--size 512x768]
"""
from __future__ import annotations

import argparse
import statistics
import sys
import time
import warnings
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from core.library.poses.importers import from_skeleton_image  # noqa: E402
from core.library.poses.keypoints import Pose  # noqa: E402
from core.library.poses.library import load_library  # noqa: E402
from core.library.poses.render import render_preview, render_skeleton  # noqa: E402


def _median_ms(fn, items, runs: int) -> float:
    times = []
    for _ in range(runs):
        t0 = time.perf_counter()
        for item in items:
            fn(item)
        times.append((time.perf_counter() - t0) * 1000 / len(items))
    return statistics.median(times)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--previews", type=int, default=1000)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--size", default="512x768", help="WIDTHxHEIGHT")
    args = parser.parse_args(argv)
    w, h = (int(v) for v in args.size.split("x"))
    library = load_library()
    poses = [Pose.from_json(library[i % len(library)]["keypoints"]) for i in range(args.previews)]
    print(f"{len(poses)} previews of {len(library)} templates at {w}x{h}, median of {args.runs} runs")

    ours = _median_ms(lambda p: render_skeleton(p, w, h), poses, args.runs)
    png = _median_ms(lambda p: render_preview(p, w, h), poses, args.runs)
    print(f"ours  draw          {ours:7.3f} ms/preview")
    print(f"ours  draw + PNG    {png:7.3f} ms/preview")
    small = _median_ms(lambda p: render_preview(p, 192, 288), poses, args.runs)
    print(f"ours  PNG 192x288   {small:7.3f} ms/preview  (grid thumbnail)")

    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            from controlnet_aux.open_pose import PoseResult, draw_poses
            from controlnet_aux.open_pose.body import BodyResult, Keypoint
    except ImportError as exc:
        print(f"controlnet_aux not importable ({exc}); no comparison")
        return 0
    theirs_in = [[PoseResult(BodyResult([None if k is None else Keypoint(k.x, k.y) for k in p.keypoints], 1.0, 18),
                             None, None, None)] for p in poses]
    theirs = _median_ms(lambda r: draw_poses(r, h, w, draw_hand=False, draw_face=False), theirs_in, args.runs)
    print(f"controlnet_aux draw {theirs:7.3f} ms/preview")
    print(f"ratio ours/theirs   {ours / theirs:7.2f}  (draw only, same process)")

    images = [render_skeleton(p, w, h) for p in poses[: max(1, args.previews // 10)]]
    imp = _median_ms(from_skeleton_image, images, max(1, args.runs // 2))
    print(f"image importer      {imp:7.3f} ms/image  ({len(images)} skeleton images)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
