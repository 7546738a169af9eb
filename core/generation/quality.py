"""Is a rendered image good enough to keep? Two checks, both honest about what they know.

1. `is_blank`: black or nearly uniform images fail (the safety checker's black output, a NaN
   decode, a washed-out render). No model needed.
2. The pose check: a pose detector (the engine's OpenPose, passed in as a callable) finds the
   people in the image; the one that best matches the template scores
   `score = PCK of the template's joints`: the share of the joints the template has that the
   detection also has, within PCK_ALPHA torso units of the template's (core.library.poses.similarity,
   torso-normalised, so position and size in the frame do not matter). Joints the template leaves
   out (an upper-body close-up's legs) are not held against the image.

With no detector the result says "not checked" and carries no score: a number is only ever a
measurement. Detector errors propagate (the caller decides whether to retry or record them).

    result = check_image(image=img, template_keypoints=fitted, detector=detector.detect, threshold=0.6)
    result.accepted, result.score, result.checked, result.reason
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable, Sequence

import numpy as np
from PIL import Image

from core.errors import ValidationFailed
from core.messages import Message
from core.library.poses.keypoints import Pose, as_pose, parse_aspect
from core.library.poses.similarity import PCK_ALPHA, compare

DEFAULT_THRESHOLD = 0.6
BLANK_STD = 4.0           # largest per-channel standard deviation (0..255) of a blank image
BLANK_SIDE = 64           # blankness is judged on a thumbnail this big
NOT_CHECKED = Message("quality.not_checked")
Detector = Callable[[Image.Image], Sequence[Any]]


@dataclass(frozen=True)
class QualityScore:
    score: float | None        # 0..1, None when nothing could be measured
    checked: bool
    reason: Message
    person: int | None = None  # index of the best-matching detected person
    matched: int = 0           # template joints found within PCK_ALPHA
    expected: int = 0          # joints the template has


@dataclass(frozen=True)
class QualityResult:
    accepted: bool
    score: float | None
    checked: bool
    reason: Message
    people: int = 0            # how many people the detector found (0 when not run)


def _pose_of(item: Any) -> Pose:
    """A detected person: a Pose, its JSON list, an array, or anything with a `.pose` (an importer
    Candidate)."""
    return as_pose(getattr(item, "pose", item))


def score_pose(*, detected: Sequence[Any], template: Any, aspect: str | float,
               alpha: float = PCK_ALPHA) -> QualityScore:
    """How well the best of the `detected` people matches `template` (both normalised to a canvas of
    `aspect` = width / height). See the module docstring for the score."""
    asp = parse_aspect(aspect)
    tpl = _pose_of(template)
    keep = tpl.present
    expected = int(keep.sum())
    if expected == 0:
        return QualityScore(None, False, Message("quality.template_empty"))
    if not detected:
        return QualityScore(0.0, True, Message("quality.nobody_matched"), None, 0, expected)
    best: tuple[float, int, int] | None = None
    for i, item in enumerate(detected):
        pose = _pose_of(item)
        only = pose.without(np.flatnonzero(~keep))          # joints the template does not ask for don't count
        match = compare(tpl, only, aspect=asp, alpha=alpha)
        score = match.pck                                    # union == the template's joints here
        if best is None or score > best[0]:
            best = (score, i, round(score * match.union))
    score, person, matched = best
    reason = Message("quality.joints", matched=matched, expected=expected, alpha=alpha)
    return QualityScore(round(float(score), 4), True, reason, person, matched, expected)


def is_blank(image: Image.Image, *, max_std: float = BLANK_STD) -> bool:
    """True for a black or nearly uniform image (every channel's spread on a small thumbnail is below
    `max_std`); a picture of anything at all has far more."""
    if not isinstance(image, Image.Image):
        raise ValidationFailed("quality.not_image", field="image")
    small = image.convert("RGB")
    if max(small.size) > BLANK_SIDE:
        small = small.resize((max(1, round(small.width * BLANK_SIDE / max(small.size))),
                              max(1, round(small.height * BLANK_SIDE / max(small.size)))),
                             Image.Resampling.BOX)
    arr = np.asarray(small, dtype=np.float64).reshape(-1, 3)
    return bool(arr.std(axis=0).max() < max_std)


def check_image(*, image: Image.Image, template_keypoints: Any, detector: Detector | None,
                threshold: float = DEFAULT_THRESHOLD, alpha: float = PCK_ALPHA) -> QualityResult:
    """Accept or reject one render (see the module docstring). `template_keypoints` are normalised to
    this image (the fitted template that drew its control image)."""
    if not 0.0 <= threshold <= 1.0:
        raise ValidationFailed("quality.threshold_range", field="threshold")
    if is_blank(image):
        # a uniform image holds no person: with a detector that is a measured 0, without one no score
        return QualityResult(False, 0.0 if detector is not None else None, detector is not None,
                             Message("quality.blank"))
    if detector is None:
        return QualityResult(True, None, False, NOT_CHECKED)
    people = list(detector(image) or [])
    result = score_pose(detected=people, template=template_keypoints, aspect=image.width / image.height,
                        alpha=alpha)
    if not result.checked:
        return QualityResult(True, None, False, result.reason, len(people))
    if not people:
        return QualityResult(False, 0.0, True, Message("quality.no_person"), 0)
    if result.score < threshold:
        return QualityResult(False, result.score, True,
                             Message("quality.below_threshold", score=result.score, threshold=threshold,
                                     detail=result.reason),
                             len(people))
    return QualityResult(True, result.score, True, Message("quality.passed", score=result.score, detail=result.reason),
                         len(people))
