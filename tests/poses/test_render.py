import subprocess
import sys

import cv2
import numpy as np
import pytest

from core.errors import ValidationFailed
from core.library.poses.keypoints import Pose
from core.library.poses.render import draw_bodypose, render_preview, render_skeleton

SIZES = [(512, 768), (768, 512), (64, 64), (1024, 1024), (333, 517)]  # (width, height)


def _edge_cases(rng):
    """Poses that hit every rounding path: integer pixels, vertical/horizontal limbs, off-canvas."""
    out = []
    for k in range(12):
        a = rng.uniform(-0.15, 1.15, (18, 2))
        if k % 3 == 0:
            a = np.round(a * 64) / 64  # exact pixel positions on several sizes
        if k % 4 == 1:
            a[:, 0] = a[1, 0]  # every limb vertical
        if k % 4 == 2:
            a[:, 1] = a[1, 1]  # every limb horizontal
        out.append(Pose.from_array(a))
    out.append(Pose.from_points([(0.5, 0.5)] * 18))  # zero-length limbs
    out.append(Pose.from_points([None] * 18))
    return out


@pytest.mark.parametrize("width,height", SIZES)
def test_pixel_identical_to_controlnet_aux(aux_draw, make_pose, library, width, height):
    rng = np.random.default_rng(width * 7 + height)
    poses = [make_pose(rng, lo=0.0, hi=1.0, missing=m) for m in (0.0, 0.1, 0.3) for _ in range(10)]
    poses += _edge_cases(rng)
    poses += [Pose.from_json(t["keypoints"]) for t in library[:: max(1, len(library) // 25)]]
    for pose in poses:
        ours = render_skeleton(pose, width, height)
        theirs = aux_draw([pose], width, height)
        assert ours.shape == (height, width, 3) and ours.dtype == np.uint8
        assert np.array_equal(ours, theirs), pose.to_json()


def test_several_people_draw_in_order_like_controlnet_aux(aux_draw, make_pose):
    rng = np.random.default_rng(5)
    poses = [make_pose(rng) for _ in range(3)]
    assert np.array_equal(render_skeleton(poses, 512, 768), aux_draw(poses, 512, 768))


def test_draw_bodypose_draws_in_place_and_accepts_stored_json(make_pose):
    pose = make_pose(np.random.default_rng(1))
    canvas = np.zeros((100, 80, 3), np.uint8)
    assert draw_bodypose(canvas, pose.to_json()) is canvas and canvas.any()
    stored = pose.to_json()
    assert np.array_equal(render_skeleton(stored, 80, 100), render_skeleton(Pose.from_json(stored), 80, 100))


def test_preview_png_decodes_to_the_skeleton(make_pose):
    pose = make_pose(np.random.default_rng(2))
    png = render_preview(pose, 192, 288)
    assert png[:8] == b"\x89PNG\r\n\x1a\n"
    decoded = cv2.imdecode(np.frombuffer(png, np.uint8), cv2.IMREAD_COLOR)[:, :, ::-1]
    assert np.array_equal(decoded, render_skeleton(pose, 192, 288))


@pytest.mark.parametrize("w,h", [(0, 10), (10, 0), (9000, 10), (1.5, 10)])
def test_bad_sizes_are_rejected(w, h):
    with pytest.raises(ValidationFailed):
        render_skeleton(Pose.from_points([None] * 18), w, h)


def test_core_poses_imports_no_heavy_stack():
    code = ("import sys, core.library.poses, core.library.poses.importers, core.library.poses.export, core.library.poses.generator, "
            "core.library.poses.library; heavy = [m for m in ('controlnet_aux', 'torch', 'diffusers', 'gradio', "
            "'fastapi', 'rq') if m in sys.modules]; print(heavy); sys.exit(1 if heavy else 0)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert out.returncode == 0, out.stdout + out.stderr
