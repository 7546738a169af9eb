"""core.generation.quality: blank images fail, the pose score is measured agreement with the template, and without a
detector nothing is made up. The detector here reads our own skeleton drawings back
(core.library.poses.importers.from_skeleton_image), which tests the scoring logic on exact, known poses."""
from __future__ import annotations

import numpy as np
import pytest
from PIL import Image

from core.errors import ValidationFailed
from core.messages import Message
from core.library.poses.importers import from_skeleton_image
from core.library.poses.keypoints import L_ANKLE, L_HIP, L_KNEE, R_ANKLE, R_HIP, R_KNEE
from core.library.poses.library import load_library
from core.library.poses.render import render_skeleton
from core.generation.quality import DEFAULT_THRESHOLD, NOT_CHECKED, check_image, is_blank, score_pose

W, H = 512, 768
STANDING = "fashion-standing-relaxed-front-000"
LEANING = "sitting-leaning-forward-three-quarter-left-000"
UPPER = "upper-body-portrait-front-001"


@pytest.fixture(scope="module")
def library() -> dict[str, dict]:
    return {t["id"]: t for t in load_library()}


def skeleton_detector(image: Image.Image) -> list:
    return from_skeleton_image(image)          # Candidates: score_pose reads their .pose


def drawing(*keypoints) -> Image.Image:
    return Image.fromarray(render_skeleton(list(keypoints), W, H))


def test_the_templates_own_skeleton_scores_high_and_is_accepted(library):
    for key in (STANDING, LEANING, UPPER, "product-holding-both-hands-three-quarter-left-001"):
        kps = library[key]["keypoints"]
        r = check_image(image=drawing(kps), template_keypoints=kps, detector=skeleton_detector,
                        threshold=DEFAULT_THRESHOLD)
        assert r.accepted and r.checked and r.score > 0.9, (key, r)
        assert r.people == 1 and r.reason.english.startswith(f"pose score {r.score:.2f}")


def test_a_different_pose_scores_low_and_is_rejected(library):
    r = check_image(image=drawing(library[LEANING]["keypoints"]), template_keypoints=library[STANDING]["keypoints"],
                    detector=skeleton_detector, threshold=DEFAULT_THRESHOLD)
    assert r.checked and not r.accepted
    assert r.score < 0.3
    assert "below threshold 0.60" in r.reason.english


def test_the_best_matching_person_counts(library):
    standing, leaning = library[STANDING]["keypoints"], library[LEANING]["keypoints"]
    image = Image.fromarray(render_skeleton([leaning, [None if k is None else [k[0] * 0.5, k[1] * 0.5, 1.0]
                                                       for k in standing]], W, H))
    r = check_image(image=image, template_keypoints=standing, detector=skeleton_detector, threshold=0.6)
    assert r.accepted and r.score > 0.9 and r.people >= 2          # (overlapping drawings may split)
    s = score_pose(detected=[leaning, standing], template=standing, aspect="2:3")
    assert s.person == 1 and s.score == 1.0 and s.matched == s.expected == 18


def test_joints_the_template_leaves_out_are_not_held_against_the_image(library):
    upper = library[UPPER]["keypoints"]
    assert upper[R_HIP] is None and upper[L_ANKLE] is None
    legs = {R_HIP: [0.42, 0.9], R_KNEE: [0.42, 1.2], R_ANKLE: [0.42, 1.5],
            L_HIP: [0.58, 0.9], L_KNEE: [0.58, 1.2], L_ANKLE: [0.58, 1.5]}
    full = [legs.get(i, k) for i, k in enumerate(upper)]
    assert score_pose(detected=[full], template=upper, aspect="2:3").score == 1.0
    missing = [None if i in (0, 14, 15) else k for i, k in enumerate(upper)]   # nose and eyes not found
    s = score_pose(detected=[missing], template=upper, aspect="2:3")
    assert s.expected == sum(k is not None for k in upper) and s.matched == s.expected - 3
    assert s.score == pytest.approx(s.matched / s.expected, abs=1e-4)


def test_black_and_uniform_images_are_blank():
    assert is_blank(Image.new("RGB", (W, H)))
    assert is_blank(Image.new("RGB", (W, H), (240, 240, 240)))
    rng = np.random.default_rng(0)
    faint = np.clip(128 + rng.normal(0, 1.0, (H, W, 3)), 0, 255).astype(np.uint8)
    assert is_blank(Image.fromarray(faint))
    assert not is_blank(Image.fromarray(rng.integers(0, 256, (H, W, 3), dtype=np.uint8)))
    assert not is_blank(drawing(load_library()[0]["keypoints"]))       # thin lines on black are content


def test_a_black_image_fails_without_asking_the_detector(library):
    def detector(_image):
        raise AssertionError("a blank image needs no detector")

    kps = library[STANDING]["keypoints"]
    r = check_image(image=Image.new("RGB", (W, H)), template_keypoints=kps, detector=detector, threshold=0.6)
    assert not r.accepted and r.score == 0.0 and r.checked and "blank" in r.reason.english
    r = check_image(image=Image.new("RGB", (W, H)), template_keypoints=kps, detector=None, threshold=0.6)
    assert not r.accepted and r.score is None and not r.checked and "blank" in r.reason.english


def test_noise_without_a_person_scores_zero(library):
    grey = np.random.default_rng(3).integers(0, 256, (H // 4, W // 4), dtype=np.uint8)   # small: reading is slow
    image = Image.fromarray(np.stack([grey] * 3, axis=2))
    assert not is_blank(image)
    r = check_image(image=image, template_keypoints=library[STANDING]["keypoints"], detector=skeleton_detector,
                    threshold=0.6)
    assert r == type(r)(False, 0.0, True, Message("quality.no_person"), 0)
    assert r.reason.english == "no person found in the image"


def test_without_a_detector_nothing_is_made_up(library):
    kps = library[STANDING]["keypoints"]
    r = check_image(image=drawing(kps), template_keypoints=kps, detector=None, threshold=0.6)
    assert r.accepted and r.score is None and not r.checked and r.reason == NOT_CHECKED


def test_threshold_and_template_checks(library):
    kps = library[STANDING]["keypoints"]
    with pytest.raises(ValidationFailed):
        check_image(image=drawing(kps), template_keypoints=kps, detector=skeleton_detector, threshold=1.5)
    s = score_pose(detected=[kps], template=[None] * 18, aspect="2:3")
    assert s.score is None and not s.checked
    assert score_pose(detected=[], template=kps, aspect="2:3").score == 0.0
    r = check_image(image=drawing(kps), template_keypoints=kps, detector=skeleton_detector, threshold=1.0)
    assert r.accepted and r.score == 1.0                     # an exact read-back reaches the top
