import io
import json

import numpy as np
import pytest
from PIL import Image

from core.errors import ValidationFailed
from core.library.poses.importers import from_openpose_json, from_skeleton_image
from core.library.poses.keypoints import Pose
from core.library.poses.render import render_preview, render_skeleton
from core.messages import Message

W, H = 512, 768


def _max_px_error(found: Pose, truth: Pose, width=W, height=H) -> float:
    assert found.present.tolist() == truth.present.tolist()
    d = (found.xy() - truth.xy()) * (width, height)
    return float(np.nanmax(np.hypot(d[:, 0], d[:, 1])))


# --- skeleton images --------------------------------------------------------------------------
def test_round_trip_recovers_every_library_joint_within_2px(library):
    for t in library[::12]:
        truth = Pose.from_json(t["keypoints"])
        found = from_skeleton_image(render_skeleton(truth, W, H))
        assert len(found) == 1 and found[0].aspect == W / H, t["id"]
        assert _max_px_error(found[0].pose, truth) <= 2.0, t["id"]


def test_round_trip_of_random_poses_with_overlapping_joints(make_pose):
    rng = np.random.default_rng(11)
    for _ in range(40):
        truth = make_pose(rng, lo=0.02, hi=0.98, missing=0.15)
        found = from_skeleton_image(render_skeleton(truth, W, H))
        assert len(found) == 1
        assert _max_px_error(found[0].pose, truth) <= 2.0


def test_reads_controlnet_aux_drawings_and_png_bytes(aux_draw, library):
    truth = Pose.from_json(library[3]["keypoints"])
    found = from_skeleton_image(aux_draw([truth], W, H))[0].pose
    assert _max_px_error(found, truth) <= 2.0
    from_png = from_skeleton_image(render_preview(truth, W, H))[0].pose
    assert from_png == found
    from_pil = from_skeleton_image(Image.open(io.BytesIO(render_preview(truth, W, H))))[0].pose
    assert from_pil == found


def test_several_people_become_several_candidates(library):
    """Two library poses squeezed side by side (and overlapping) into one 1024x768 picture."""
    rng = np.random.default_rng(12)
    shift = lambda p, dx: Pose.from_array(p.to_array() * (0.5, 1, 1) + (dx, 0, 0))  # noqa: E731
    for k in range(16):
        i, j = rng.choice(len(library), 2, replace=False)
        left = shift(Pose.from_json(library[i]["keypoints"]), 0.0)
        right = shift(Pose.from_json(library[j]["keypoints"]), 0.5 if k < 12 else 0.4)
        found = from_skeleton_image(render_skeleton([left, right], 2 * W, H))
        assert len(found) == 2, (library[i]["id"], library[j]["id"])
        got = sorted((c.pose for c in found), key=lambda p: p.xy()[1, 0])
        for pose, truth in zip(got, (left, right)):
            assert _max_px_error(pose, truth, 2 * W, H) <= 2.0, (library[i]["id"], library[j]["id"])


def test_a_resized_skeleton_still_imports_roughly(library):
    truth = Pose.from_json(library[5]["keypoints"])
    img = Image.fromarray(render_skeleton(truth, 1024, 1536)).resize((W, H), Image.BILINEAR)
    found = from_skeleton_image(np.asarray(img))[0].pose
    assert _max_px_error(found, truth) <= 4.0


def test_blank_or_broken_images():
    assert from_skeleton_image(np.zeros((64, 64, 3), np.uint8)) == []
    with pytest.raises(ValidationFailed):
        from_skeleton_image(b"not an image")


# --- OpenPose JSON ------------------------------------------------------------------------------
def _flat(pose: Pose, width=None, height=None) -> list[float]:
    out = []
    for kp in pose.keypoints:
        if kp is None:
            out += [0, 0, 0]
        else:
            out += [kp.x * (width or 1), kp.y * (height or 1), 0.9]
    return out


def test_coco18_pixel_coordinates_with_canvas_size(library):
    truth = Pose.from_json(library[10]["keypoints"])
    doc = {"canvas_width": W, "canvas_height": H, "people": [{"pose_keypoints_2d": _flat(truth, W, H)}]}
    [cand] = from_openpose_json(json.dumps(doc))
    assert _max_px_error(cand.pose, truth) < 1e-6
    assert cand.pose[1].confidence == pytest.approx(0.9) and cand.aspect == W / H


def test_normalised_coordinates_need_no_canvas(library):
    truth = Pose.from_json(library[11]["keypoints"])
    [cand] = from_openpose_json({"people": [{"pose_keypoints_2d": _flat(truth)}]})
    assert _max_px_error(cand.pose, truth) < 1e-6


def test_body25_drops_mid_hip_and_feet(library):
    truth = Pose.from_json(library[12]["keypoints"])
    coco = np.array(_flat(truth, W, H)).reshape(18, 3)
    body25 = np.zeros((25, 3))
    body25[[0, 1, 2, 3, 4, 5, 6, 7, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18]] = coco
    body25[8] = (coco[8] + coco[11]) / 2  # mid-hip
    body25[19:25] = (100, 700, 0.8)  # feet
    [cand] = from_openpose_json(json.dumps({"people": [{"pose_keypoints_2d": body25.ravel().tolist()}]}),
                                width=W, height=H)
    assert _max_px_error(cand.pose, truth) < 1e-6


def test_several_people_and_several_documents(library):
    a, b = (Pose.from_json(library[i]["keypoints"]) for i in (20, 21))
    doc = {"canvas_width": W, "canvas_height": H,
           "people": [{"pose_keypoints_2d": _flat(a, W, H)}, {"pose_keypoints_2d": _flat(b, W, H)}]}
    found = from_openpose_json([doc, {"people": [{"pose_keypoints_2d": _flat(a)}]}])
    assert [str(c.label) for c in found] == ["document 0, person 0", "document 0, person 1", "document 1, person 0"]
    assert found[1].label == Message("poses.person_in_document", document=0, person=1)
    assert _max_px_error(found[1].pose, b) < 1e-6


def test_zero_confidence_means_missing(library):
    truth = Pose.from_json(library[30]["keypoints"])
    flat = _flat(truth, W, H)
    flat[4 * 3 + 2] = 0.0  # right wrist confidence 0
    [cand] = from_openpose_json({"canvas_width": W, "canvas_height": H, "people": [{"pose_keypoints_2d": flat}]})
    assert cand.pose[4] is None and cand.pose[3] is not None


@pytest.mark.parametrize("doc,message", [
    ({"people": [{"pose_keypoints_2d": [1.0] * 10}]}, "54 (COCO-18) or 75 (BODY_25)"),
    ({"nobody": []}, "no 'people' list"),
    ({"people": [{"pose_keypoints_2d": [200.0, 300.0, 1.0] * 18}]}, "need the canvas size"),
    ("{broken", "Not a JSON file"),
])
def test_bad_json_gives_a_clear_message(doc, message):
    with pytest.raises(ValidationFailed) as err:
        from_openpose_json(doc if isinstance(doc, str) else json.dumps(doc))
    assert message in err.value.message
