"""Fixtures of the pose tests: the shipped library, one regeneration of it, random poses, and
controlnet_aux's own drawing (imported here only; core/poses never imports it)."""
from __future__ import annotations

import warnings

import numpy as np
import pytest

from core.library.poses.keypoints import Pose


@pytest.fixture(scope="session")
def library():
    from core.library.poses.library import load_library

    return load_library()


@pytest.fixture(scope="session")
def regenerated():
    from core.library.poses import generator

    return generator.library_document(generator.DEFAULT_SEED)


@pytest.fixture(scope="session")
def aux_draw():
    """controlnet_aux.open_pose.draw_poses wrapped to take our Pose. controlnet-aux is pinned in
    requirements.txt: missing, the tests that compare with it fail (a broken install), they do not skip."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        import controlnet_aux.open_pose as open_pose
    from controlnet_aux.open_pose.body import BodyResult, Keypoint as AuxKeypoint

    def draw(poses, width, height):
        results = [
            open_pose.PoseResult(BodyResult([None if k is None else AuxKeypoint(k.x, k.y) for k in p.keypoints],
                                            1.0, 18), None, None, None)
            for p in poses
        ]
        return open_pose.draw_poses(results, height, width, draw_hand=False, draw_face=False)

    return draw


def random_pose(rng: np.random.Generator, *, lo: float = 0.05, hi: float = 0.95, missing: float = 0.0) -> Pose:
    a = rng.uniform(lo, hi, (18, 2))
    a[14:18] = a[0] + rng.normal(0, 0.02, (4, 2))  # face points near the nose, like real poses
    a = np.clip(a, lo, hi)
    drop = rng.random(18) < missing
    return Pose.from_points(None if d else (float(x), float(y)) for (x, y), d in zip(a, drop))


@pytest.fixture
def make_pose():
    return random_pose
