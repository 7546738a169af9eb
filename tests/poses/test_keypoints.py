import json

import numpy as np
import pytest

from core.errors import ValidationFailed
from core.library.poses.keypoints import COLORS, LIMBS, MIRROR, NAMES, Keypoint, Pose, as_pose, parse_aspect


def test_layout_matches_openpose_18():
    assert len(NAMES) == 18 and NAMES[2] == "right_shoulder" and NAMES[13] == "left_ankle"
    assert len(LIMBS) == 17 and len(COLORS) == 18
    assert all(MIRROR[MIRROR[i]] == i for i in range(18))
    assert NAMES[MIRROR[NAMES.index("right_ear")]] == "left_ear"


def test_json_round_trip_keeps_missing_joints(make_pose):
    pose = make_pose(np.random.default_rng(0), missing=0.3)
    data = pose.to_json()
    assert len(data) == 18 and any(d is None for d in data)
    again = Pose.from_json(json.dumps(data))
    assert again.present.tolist() == pose.present.tolist()
    assert np.allclose(np.nan_to_num(again.xy()), np.nan_to_num(pose.xy()), atol=1e-4)
    assert Pose.from_json({"keypoints": data}) == again
    assert as_pose(data) == again and as_pose(again) is again


def test_array_round_trip_and_accessors():
    arr = np.full((18, 3), np.nan)
    arr[1] = (0.5, 0.2, 0.9)
    pose = Pose.from_array(arr)
    assert pose["neck"] == Keypoint(0.5, 0.2, 0.9) and pose[0] is None
    assert np.array_equal(np.isnan(pose.to_array()), np.isnan(arr))
    assert pose.without([1]).present.sum() == 0


@pytest.mark.parametrize("bad", [
    [None] * 17, "not json", {"keypoints": 3}, [[0.1]] + [None] * 17, [["a", 1]] + [None] * 17,
    [[float("nan"), 0.1]] + [None] * 17, [[0.1, 0.1, 1.5]] + [None] * 17,
])
def test_invalid_keypoints_are_rejected_with_a_clear_error(bad):
    with pytest.raises(ValidationFailed) as err:
        Pose.from_json(bad)
    assert err.value.field == "keypoints" and err.value.message


def test_parse_aspect():
    assert parse_aspect("2:3") == pytest.approx(2 / 3)
    assert parse_aspect("16:9") == pytest.approx(16 / 9)
    assert parse_aspect(0.75) == 0.75
    for bad in ("2x3", "0:3", "3:0", -1):
        with pytest.raises(ValidationFailed):
            parse_aspect(bad)
