"""Is it the avatar's face? An identity score per image (issue 13), measured, never made up.

The face of the output is the face box of the fitted template's head keypoints (nose, eyes, ears: the pose the
image was drawn to, so no second detector run; core.catalog.faces.box_from_people, the same rule as the avatar's
own box). Its crop and the avatar's stored face crop go through the IP-Adapter's own CLIP image encoder (already
loaded for likeness: engine.Engine.embed_images), and the score is the cosine of the two embeddings (-1..1; the
same crop scores 1.0). All crops of one micro-batch share one encoder call.

Not checked (score None, with the reason) when there is no reference (no avatar, likeness switched off), no
encoder (no IP-Adapter loaded: engine.likeness.EmbeddingUnavailable says why), or the pose shows no face.
IDENTITY_THRESHOLD (unset: record only) turns the score into a gate: a measured score below it is retried
like a failed pose check and, after the last attempt, fails with failure kind "identity" (the pose itself was
fine, so it is not held against the template).
"""
from __future__ import annotations

import logging
from dataclasses import dataclass

from PIL import Image

from core.catalog.faces import box_from_people
from core.errors import DomainError
from core.messages import Message

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class IdentityScore:
    score: float | None          # cosine -1..1, None when not measured
    checked: bool
    reason: Message              # what was measured, or why nothing was
    box: tuple[int, int, int, int] | None = None   # the face box in the output

    def to_dict(self) -> dict:
        return {"score": self.score, "checked": self.checked, "box": list(self.box) if self.box else None,
                "reason": self.reason.to_dict()}


def not_checked(reason: Message) -> IdentityScore:
    return IdentityScore(None, False, reason)


def face_box(keypoints, width: int, height: int):
    """The output's face box from the fitted template's head keypoints, or None (the pose shows no face)."""
    return box_from_people(width, height, [keypoints])


def identity_scores(*, engine, images: list[Image.Image], keypoints: list, reference: Image.Image | None,
                    off_reason: Message | None = None) -> list[IdentityScore]:
    """One IdentityScore per image (see the module doc). `reference`: the avatar's face crop used for likeness;
    `off_reason`: why there is none."""
    if reference is None:
        return [not_checked(off_reason or Message("identity.no_reference"))] * len(images)
    if not hasattr(engine, "embed_images"):
        return [not_checked(Message("identity.no_encoder_engine"))] * len(images)
    boxes = [face_box(k, im.width, im.height) for im, k in zip(images, keypoints)]
    crops = [im.crop(b) for im, b in zip(images, boxes) if b is not None]
    if not crops:
        return [not_checked(Message("identity.no_face"))] * len(images)
    try:
        vectors = engine.embed_images([reference.convert("RGB"), *crops])
    except DomainError as exc:   # no encoder loaded (likeness off or missing): say why, measure nothing
        return [not_checked(Message("identity.not_checked", reason=exc.msg))] * len(images)
    except Exception as exc:  # noqa: BLE001 - a broken encoder must not fail an image that passed its pose check
        log.exception("identity embeddings failed")
        return [not_checked(Message("identity.encoder_failed", error=type(exc).__name__))] * len(images)
    from engine.likeness import cosine

    ref, found = vectors[0], iter(vectors[1:])
    out = []
    for box in boxes:
        if box is None:
            out.append(not_checked(Message("identity.no_face")))
            continue
        score = round(cosine(ref, next(found)), 4)
        out.append(IdentityScore(score, True, Message("identity.score", score=score), box))
    return out


def below(result: IdentityScore, threshold: float | None) -> Message | None:
    """Why a measured score fails the IDENTITY_THRESHOLD gate, or None (passed, not gated, or not measured: an
    unmeasured face is said so on the image, never failed over)."""
    if threshold is None or not result.checked or result.score is None or result.score >= threshold:
        return None
    return Message("identity.below_threshold", score=result.score, threshold=threshold)


def note_of(pose) -> Message | None:
    """What a stored result's identity check measured, or why it did not (None: rendered before the check)."""
    return Message.from_dict((getattr(pose, "identity", None) or {}).get("reason"))
