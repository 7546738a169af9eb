"""core.generation.compositing: where the product goes for each placement, how big, and that its pixels stay exact."""
from __future__ import annotations

import numpy as np
import pytest
from PIL import Image

from core.generation import compositing
from core.generation.compositing import PRODUCT_SCALE, SILHOUETTE, body_box, place_product, resize_cutout
from core.errors import ValidationFailed
from core.library.poses import transforms
from core.library.poses.keypoints import L_ELBOW, L_WRIST, R_ELBOW, R_WRIST, Pose
from core.library.poses.library import load_library

W, H = 512, 768
# A narrow front-facing person in the middle of a 2:3 frame; the subject's left is the image's right.
# Shoulders 0.30 W = 153.6 px wide: the largest of the body-size estimates (torso 0.2 H x 0.9 = 138,
# neck-to-nose 0.06 H x 3.15 = 145), so the body unit is the shoulder width.
POINTS = [
    (0.50, 0.19), (0.50, 0.25),                    # nose, neck
    (0.35, 0.25), (0.30, 0.36), (0.32, 0.46),      # right shoulder, elbow, wrist
    (0.65, 0.25), (0.70, 0.36), (0.68, 0.46),      # left shoulder, elbow, wrist
    (0.42, 0.45), (0.42, 0.65), (0.42, 0.85),      # right hip, knee, ankle
    (0.58, 0.45), (0.58, 0.65), (0.58, 0.85),      # left hip, knee, ankle
    (0.48, 0.18), (0.52, 0.18), (0.46, 0.185), (0.54, 0.185),
]
SHOULDER_PX = 0.30 * W


def front_pose() -> Pose:
    return Pose.from_points(POINTS)


def px(pose: Pose, joint: int) -> np.ndarray:
    return np.array([pose[joint].x * W, pose[joint].y * H])


def hand(pose: Pose, wrist: int, elbow: int) -> np.ndarray:
    return px(pose, wrist) + 0.35 * (px(pose, wrist) - px(pose, elbow))


@pytest.fixture(scope="module")
def background() -> Image.Image:
    rng = np.random.default_rng(1)
    return Image.fromarray(rng.integers(0, 256, (H, W, 3), dtype=np.uint8), "RGB")


@pytest.fixture(scope="module")
def cutout() -> Image.Image:
    """60 x 150 product, trimmed like core.catalog.background's cut-outs (visible pixels touch every side): a
    fully opaque textured core, a soft alpha ramp at the edges, rounded corners holding garbage colours
    under alpha 0 (cut-outs keep the original photo's RGB there)."""
    rng = np.random.default_rng(2)
    rgba = np.zeros((150, 60, 4), np.uint8)
    rgba[..., :3] = rng.integers(0, 256, (150, 60, 3), dtype=np.uint8)
    yy, xx = np.mgrid[0:150, 0:60]
    edge = np.minimum.reduce([xx, 59 - xx, yy, 149 - yy]).astype(float)
    alpha = np.clip((edge + 1) * 40, 0, 255)                     # 40 at the border, 255 from 6 px in
    cx, cy = np.clip(xx, 12, 47), np.clip(yy, 12, 137)
    alpha[(xx - cx) ** 2 + (yy - cy) ** 2 > 12 ** 2] = 0         # rounded corners
    rgba[..., 3] = alpha.astype(np.uint8)
    return Image.fromarray(rgba, "RGBA")


def centre(box) -> np.ndarray:
    return np.array([(box[0] + box[2]) / 2, (box[1] + box[3]) / 2])


def longest(box) -> int:
    return max(box[2] - box[0], box[3] - box[1])


def overlaps(a, b) -> bool:
    return a[0] < b[2] and b[0] < a[2] and a[1] < b[3] and b[1] < a[3]


@pytest.mark.parametrize(("placement", "wrist", "elbow"), [("hand-left", L_WRIST, L_ELBOW),
                                                            ("hand-right", R_WRIST, R_ELBOW)])
def test_one_hand_puts_the_product_on_that_hand(background, cutout, placement, wrist, elbow):
    pose = front_pose()
    c = place_product(image=background, cutout=cutout, keypoints=pose, placement=placement, product_type="bottle")
    assert c.mode == placement and c.note is None
    assert np.abs(centre(c.box) - hand(pose, wrist, elbow)).max() <= 1.0
    other = hand(pose, R_WRIST if wrist == L_WRIST else L_WRIST, R_ELBOW if elbow == L_ELBOW else L_ELBOW)
    assert np.linalg.norm(centre(c.box) - other) > 100                    # not the other hand
    assert c.image.size == background.size and c.image.mode == "RGB"


def test_both_hands_between_the_hands(background, cutout):
    pose = front_pose()
    c = place_product(image=background, cutout=cutout, keypoints=pose.to_json(), placement="both-hands",
                      product_type="box")
    expected = (hand(pose, L_WRIST, L_ELBOW) + hand(pose, R_WRIST, R_ELBOW)) / 2
    assert c.mode == "both-hands" and np.abs(centre(c.box) - expected).max() <= 1.0


def test_size_follows_the_shoulders_and_the_product_type(background, cutout):
    pose = front_pose()
    sizes = {}
    for kind in ("jewelry", "jar", "bottle", "box", "bag"):
        c = place_product(image=background, cutout=cutout, keypoints=pose, placement="hand-left", product_type=kind)
        sizes[kind] = longest(c.box)
        assert abs(sizes[kind] - PRODUCT_SCALE[kind] * SHOULDER_PX) <= 1
        w, h = c.box[2] - c.box[0], c.box[3] - c.box[1]
        assert abs(w - h * 60 / 150) <= 1                                    # aspect ratio kept
    assert sizes["jewelry"] < sizes["jar"] < sizes["bottle"] < sizes["box"] < sizes["bag"]
    half = transforms.scale(pose, 0.5, center=(0.5, 0.5))                   # the same person, half as big
    c = place_product(image=background, cutout=cutout, keypoints=half, placement="hand-left", product_type="box")
    assert abs(longest(c.box) - sizes["box"] / 2) <= 1
    assert np.abs(centre(c.box) - hand(half, L_WRIST, L_ELBOW)).max() <= 1.0


def test_body_unit_survives_a_side_view():
    """Shoulders foreshortened to nothing: the torso still says how big the person is."""
    pts = np.array(POINTS) * (W, H)
    side = pts.copy()
    side[5] = side[2] + (2, 0)                                             # shoulders nearly on top of each other
    assert compositing.body_unit(side, H) == pytest.approx(compositing.body_unit(pts, H), rel=0.1)


def test_the_box_stays_inside_the_frame(background, cutout):
    points = list(POINTS)
    points[L_ELBOW], points[L_WRIST] = (0.9, 0.15), (0.99, 0.02)            # arm raised to the top right corner
    c = place_product(image=background, cutout=cutout, keypoints=Pose.from_points(points), placement="hand-left",
                      product_type="bag")
    x0, y0, x1, y1 = c.box
    assert 0 <= x0 < x1 <= W and 0 <= y0 < y1 <= H
    assert (x1, y0) == (W, 0)                                              # moved in, not shrunk
    assert longest(c.box) == round(PRODUCT_SCALE["bag"] * SHOULDER_PX)
    huge = place_product(image=background.resize((40, 60)), cutout=cutout, keypoints=front_pose(),
                         placement="hand-left", product_type="clothing")
    assert huge.box[2] <= 40 and huge.box[3] <= 60


@pytest.mark.parametrize("placement", ["table", "displayed"])
def test_surface_spots_keep_clear_of_the_body(background, cutout, placement):
    pose = front_pose()
    c = place_product(image=background, cutout=cutout, keypoints=pose, placement=placement, product_type="bottle")
    assert c.mode == placement and c.note is None
    pts = np.array(POINTS) * (W, H)
    joints_box = (pts[:, 0].min(), pts[:, 1].min(), pts[:, 0].max(), pts[:, 1].max())
    assert not overlaps(c.box, joints_box)
    assert not overlaps(c.box, body_box(pts, SHOULDER_PX, W, H))
    hips_y = pts[[8, 11], 1].mean()
    if placement == "table":      # standing: a table top a little below the hips
        assert hips_y < c.box[3] < hips_y + 0.5 * SHOULDER_PX
    else:                         # on the floor, in the lower third
        assert c.box[1] > 2 * H / 3 and c.box[3] > 0.95 * H


def _limb_samples(pose) -> np.ndarray:
    pts = transforms.to_pixels(pose, W, H)
    t = np.linspace(0, 1, 50)[:, None]
    return np.concatenate([pts[a] + t * (pts[b] - pts[a]) for a, b in SILHOUETTE
                           if not np.isnan(pts[[a, b], 0]).any()])


def test_library_surface_templates_never_cover_a_limb(cutout):
    blank = Image.new("RGB", (W, H), (128, 128, 128))
    checked = 0
    for t in load_library():
        if t["product_placement"] not in ("table", "displayed"):
            continue
        c = place_product(image=blank, cutout=cutout, keypoints=t["keypoints"], placement=t["product_placement"],
                          product_type="bottle")
        x0, y0, x1, y1 = c.box
        assert 0 <= x0 < x1 <= W and 0 <= y0 < y1 <= H
        if c.note is None:
            s = _limb_samples(t["keypoints"])
            inside = (s[:, 0] > x0) & (s[:, 0] < x1) & (s[:, 1] > y0) & (s[:, 1] < y1)
            assert not inside.any(), t["id"]
            checked += 1
        else:
            assert c.note in ("in front of the body", "no free spot: the product covers part of the arms")
        if t["product_placement"] == "displayed":
            assert (y0 + y1) / 2 > 2 * H / 3, t["id"]
    assert checked >= 40


def test_product_pixels_are_exactly_the_resized_cutout(background, cutout):
    for placement in ("hand-left", "both-hands", "table", "displayed"):
        c = place_product(image=background, cutout=cutout, keypoints=front_pose(), placement=placement,
                          product_type="box")
        x0, y0, x1, y1 = c.box
        resized = np.asarray(resize_cutout(cutout, (x1 - x0, y1 - y0)))
        got = np.asarray(c.image)[y0:y1, x0:x1]
        opaque = resized[..., 3] == 255
        assert opaque.sum() > 0.5 * opaque.size
        assert np.array_equal(got[opaque], resized[..., :3][opaque]), placement


def test_edges_are_blended_and_the_rest_of_the_image_is_untouched(background, cutout):
    c = place_product(image=background, cutout=cutout, keypoints=front_pose(), placement="hand-right",
                      product_type="box")
    x0, y0, x1, y1 = c.box
    before, after = np.asarray(background).astype(int), np.asarray(c.image).astype(int)
    changed = np.argwhere((before != after).any(axis=2))
    f = compositing.FEATHER
    assert changed[:, 1].min() >= x0 - f and changed[:, 1].max() < x1 + f
    assert changed[:, 0].min() >= y0 - f and changed[:, 0].max() < y1 + f
    resized = np.asarray(resize_cutout(cutout, (x1 - x0, y1 - y0))).astype(float)
    a = resized[..., 3:] / 255.0
    soft = (resized[..., 3] > 0) & (resized[..., 3] < 255)
    expected = before[y0:y1, x0:x1] * (1 - a) + resized[..., :3] * a           # straight alpha over
    assert np.abs(after[y0:y1, x0:x1][soft] - expected[soft]).max() <= 1
    ring = after[y0 - 1, x0:x1] != before[y0 - 1, x0:x1]                        # the halo just outside
    assert ring.any()


def test_worn_and_none_leave_the_image_alone(background, cutout):
    for placement in ("worn", "none"):
        c = place_product(image=background, cutout=cutout, keypoints=front_pose(), placement=placement,
                          product_type="clothing")
        assert c.mode == "prompt-only" and c.box is None
        assert np.array_equal(np.asarray(c.image), np.asarray(background))
    assert place_product(image=background, cutout=None, keypoints=front_pose(), placement="worn").box is None


def test_missing_wrist_falls_back_to_the_other_hand_then_the_chest(background, cutout):
    pose = front_pose()
    c = place_product(image=background, cutout=cutout, keypoints=pose.without([L_WRIST]), placement="hand-left",
                      product_type="bottle")
    assert c.mode == "hand-right" and "left wrist missing" in c.note
    assert np.abs(centre(c.box) - hand(pose, R_WRIST, R_ELBOW)).max() <= 1.0
    c = place_product(image=background, cutout=cutout, keypoints=pose.without([R_WRIST]), placement="both-hands",
                      product_type="bottle")
    assert c.mode == "hand-left" and "right wrist missing" in c.note
    c = place_product(image=background, cutout=cutout, keypoints=pose.without([L_WRIST, R_WRIST]),
                      placement="hand-right", product_type="bottle")
    assert c.mode == "chest" and "both wrists missing" in c.note
    neck, hips = px(pose, 1), (px(pose, 8) + px(pose, 11)) / 2
    assert np.abs(centre(c.box) - (neck + 0.3 * (hips - neck))).max() <= 1.0
    # a wrist without its elbow: the wrist itself
    c = place_product(image=background, cutout=cutout, keypoints=pose.without([L_ELBOW]), placement="hand-left",
                      product_type="bottle")
    assert c.note is None and np.abs(centre(c.box) - px(pose, L_WRIST)).max() <= 1.0


def test_bad_input(background, cutout):
    with pytest.raises(ValidationFailed):
        place_product(image=background, cutout=cutout, keypoints=front_pose(), placement="pocket")
    with pytest.raises(ValidationFailed):
        place_product(image=background, cutout=Image.new("RGBA", (10, 10)), keypoints=front_pose(),
                      placement="hand-left")
    with pytest.raises(ValidationFailed):
        place_product(image=background, cutout=None, keypoints=front_pose(), placement="table")
    rgb = place_product(image=background, cutout=Image.new("RGB", (20, 40), (9, 200, 9)), keypoints=front_pose(),
                        placement="hand-left", product_type="tube")
    x0, y0, x1, y1 = rgb.box                                                   # no alpha: an opaque rectangle
    assert (np.asarray(rgb.image)[y0:y1, x0:x1] == (9, 200, 9)).all()
