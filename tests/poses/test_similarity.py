import numpy as np
import pytest

from core.library.poses.keypoints import Pose, R_WRIST
from core.library.poses.similarity import DEDUP_THRESHOLD, compare, dedupe, distance_matrix, is_duplicate, similarity
from core.library.poses.transforms import mirror, scale, translate
from core.messages import Message


@pytest.fixture
def poses(library):
    return [Pose.from_json(t["keypoints"]) for t in library[::40]]


def test_invariant_to_translation_and_scale(poses):
    for pose in poses:
        moved = translate(scale(pose, 0.6, center=(0.3, 0.2)), 0.12, -0.04)
        m = compare(pose, moved)
        assert m.pck == 1.0 and m.max < 1e-6 and m.mean < 1e-6
        assert similarity(pose, moved) == 1.0
        assert is_duplicate(pose, moved)


def test_different_poses_score_lower(poses):
    a, b = poses[0], poses[5]
    m = compare(a, b)
    assert m.pck < 1.0 and m.max > DEDUP_THRESHOLD and not is_duplicate(a, b)
    assert compare(a, b).pck == pytest.approx(compare(b, a).pck)


def test_one_moved_wrist_is_measured_in_torso_units(library):
    pose = Pose.from_json(library[0]["keypoints"])
    neck, hip = pose.xy()[1], (pose.xy()[8] + pose.xy()[11]) / 2
    torso = np.linalg.norm((neck - hip) * (2 / 3, 1))
    arr = pose.to_array()
    arr[R_WRIST, 1] += 0.3 * torso  # 0.3 torso lengths straight down
    m = compare(pose, Pose.from_array(arr))
    assert m.max == pytest.approx(0.3, abs=0.03)
    assert m.pck == pytest.approx(17 / 18)


def test_missing_joints_lower_pck_and_block_dedup(poses):
    pose = poses[0]
    partial = pose.without([R_WRIST])
    m = compare(pose, partial)
    assert m.common == 17 and m.union == 18 and m.pck == pytest.approx(17 / 18)
    assert not is_duplicate(pose, partial)  # a body joint less is another template
    no_ears = pose.without([16, 17])
    assert is_duplicate(pose, no_ears)  # eye/ear visibility alone is not


def test_upper_body_poses_compare_without_hips(library):
    close = [Pose.from_json(t["keypoints"]) for t in library if t["category"] == "upper-body"][:5]
    for pose in close:
        assert pose["right_hip"] is None
        assert compare(pose, translate(scale(pose, 1.3), 0.05, 0.0)).max < 1e-6


def test_a_mirrored_one_hand_pose_is_another_template(library):
    t = next(t for t in library if t["product_placement"] == "hand-right" and t["view"] == "front")
    pose = Pose.from_json(t["keypoints"])
    assert distance_matrix([pose], [mirror(pose)])[0, 0] > DEDUP_THRESHOLD
    assert compare(mirror(pose), mirror(pose)).pck == 1.0


def test_dedupe_reports_what_it_skipped_and_why(poses):
    extra = translate(poses[1], 0.02, 0.0)
    tiny = Pose.from_points([(0.5, 0.5), (0.5, 0.6)] + [None] * 16)
    report = dedupe([poses[0], extra, tiny, poses[2], poses[2]], existing=[poses[1]])
    assert report.kept == [0, 3]
    reasons = {i: (why, ref) for i, why, ref in report.skipped}
    assert reasons[1][0].code == "poses.duplicate_of_existing" and reasons[1][1] == 0
    assert reasons[1][0].english.startswith("duplicate of existing pose (distance 0.0")
    assert reasons[2][0] == Message("poses.too_few_keypoints", n=2, need=6)
    assert reasons[2][0].english == "only 2 keypoints (need 6)"
    assert reasons[4][0].code == "poses.duplicate_of_candidate" and reasons[4][0].params["candidate"] == 3
    assert reasons[4][0].english.startswith("duplicate of candidate 3 (distance ")
