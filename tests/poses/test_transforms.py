import numpy as np
import pytest

from core.errors import ValidationFailed
from core.library.poses.keypoints import (L_SHOULDER, L_WRIST, MIRROR, R_EAR, R_SHOULDER, R_WRIST, L_EAR, Pose, parse_aspect)
from core.library.poses.transforms import bbox, fit_to_aspect, from_pixels, mirror, scale, to_pixels, translate


def _xy(p):
    return np.nan_to_num(p.xy(), nan=-1.0)


def test_mirror_swaps_labels_and_flips_x(make_pose):
    pose = make_pose(np.random.default_rng(3), missing=0.2)
    m = mirror(pose)
    for a, b in ((R_SHOULDER, L_SHOULDER), (R_WRIST, L_WRIST), (R_EAR, L_EAR)):
        if pose[a] is not None:
            assert m[b].x == pytest.approx(1 - pose[a].x) and m[b].y == pose[a].y
        assert (m[b] is None) == (pose[a] is None)
    assert m.present.tolist() == [pose.present[MIRROR[i]] for i in range(18)]


def test_mirror_is_an_involution(make_pose):
    rng = np.random.default_rng(4)
    for _ in range(20):
        pose = make_pose(rng, missing=0.2)
        twice = mirror(mirror(pose))
        assert twice.present.tolist() == pose.present.tolist()
        assert np.allclose(_xy(twice), _xy(pose), atol=1e-12)


def test_translate_and_scale(make_pose):
    pose = make_pose(np.random.default_rng(5))
    moved = translate(pose, 0.1, -0.05)
    assert np.allclose(moved.xy(), pose.xy() + (0.1, -0.05))
    big = scale(pose, 2.0, center=(0.5, 0.5))
    assert np.allclose(big.xy(), (pose.xy() - 0.5) * 2 + 0.5)
    with pytest.raises(ValidationFailed):
        scale(pose, 0)


@pytest.mark.parametrize("aspect", ["2:3", "3:4", "1:1", "9:16", "16:9"])
def test_fit_to_aspect_keeps_proportions_and_margins(make_pose, aspect):
    pose = make_pose(np.random.default_rng(6), missing=0.1)
    out = fit_to_aspect(pose, aspect, source_aspect="2:3", margin=0.06)
    x0, y0, x1, y1 = bbox(out)
    assert min(x0, y0) >= 0.06 - 1e-9 and max(x1, y1) <= 0.94 + 1e-9
    assert x0 == pytest.approx(0.06) or y0 == pytest.approx(0.06)  # fills one dimension
    # distances in real units keep their ratios (uniform scaling, no stretching)
    src = pose.xy() * (parse_aspect("2:3"), 1)
    dst = out.xy() * (parse_aspect(aspect), 1)
    ok = pose.present
    d_src = np.linalg.norm(src[ok][:, None] - src[ok][None], axis=-1)
    d_dst = np.linalg.norm(dst[ok][:, None] - dst[ok][None], axis=-1)
    ratio = d_dst[d_src > 0] / d_src[d_src > 0]
    assert np.allclose(ratio, ratio[0])


def test_fit_pads_room_for_head_and_feet(make_pose):
    pose = make_pose(np.random.default_rng(7))
    out = fit_to_aspect(pose, "2:3", margin=0.0, pad=(0.0, 0.1, 0.0, 0.1))
    _, y0, _, y1 = bbox(out)
    assert y0 > 0.05 and y1 < 0.95


def test_pixel_conversion_round_trip(make_pose):
    pose = make_pose(np.random.default_rng(8), missing=0.2)
    back = from_pixels(to_pixels(pose, 512, 768), 512, 768)
    assert np.allclose(_xy(back), _xy(pose))


def test_empty_pose_has_no_bbox():
    with pytest.raises(ValidationFailed):
        bbox(Pose.from_points([None] * 18))
