"""What a render will really do, said before it starts and kept with the batch (issue 13, honest states).

    planned(settings)   {"likeness": {"on": bool, "reason": str | None},
                         "poseCheck": {"on": bool, "reason": str | None}}   stored in PoseGeneration.options["checks"]
    models_missing(settings)   why the base model / ControlNet cannot be loaded now, or None

Both come from engine.pipeline (capabilities / models_state): file checks only, nothing is loaded. The reasons
are the short form a shop owner can pass on ("the pose detector 'lllyasviel/Annotators' file body_pose_model.pth
is not on this server ..."); where the server looked and how to fix it is in the server's log.

Failure kinds (GeneratedPose.failure_kind): POSE when the render did not show the pose (held against its
template, counted as failed), IDENTITY when the face scored below IDENTITY_THRESHOLD (counted as failed, not held
against the template), INFRASTRUCTURE when a model is missing or the engine broke (neither).
"""
from __future__ import annotations

import logging

from core.messages import Message
from core.settings import Settings

log = logging.getLogger(__name__)

POSE = "pose"
INFRASTRUCTURE = "infrastructure"
IDENTITY = "identity"   # the pose was right but the face did not pass IDENTITY_THRESHOLD (not held against the template)


def short_reason(reason: str | None) -> str | None:
    """The what and why of a long "not available" message, without where it looked or how to fix it."""
    if not reason:
        return None
    text = reason.split(" Looked in:")[0].split(" To provide it:")[0].strip()
    _, sep, rest = text.partition(": ")
    return (rest if sep and rest else text).strip()


def short(msg: Message) -> Message:
    """The what and why of a "model is missing" message (render.model_missing), without where it looked or how to
    fix it (that is in the server's log); any other message as it is."""
    if msg.code in ("models.missing", "models.missing_no_downloads"):
        return Message("render.model_missing", subject=msg.params.get("subject"), reason=msg.params.get("reason"))
    return msg


def _entry(state: dict | None, default: Message) -> dict:
    """{"on", "reason": the short English, "message": the same by code} of one capability entry."""
    state = state or {"on": False}
    if state.get("on"):
        return {"on": True, "reason": None}
    msg = Message.from_dict(state.get("message"))
    if msg is not None:
        msg = short(msg)
        return {"on": False, "reason": short_reason(msg.english), "message": msg.to_dict()}
    if state.get("reason"):
        return {"on": False, "reason": short_reason(state["reason"]), "message": None}
    return {"on": False, "reason": default.english, "message": default.to_dict()}


def planned(settings: Settings) -> dict:
    """Likeness and pose check, on or off with the reason, for a render with these settings."""
    from engine.engines import capabilities

    try:
        caps = capabilities(settings)
    except Exception as exc:  # noqa: BLE001 - a broken probe must not stop planning; it is said, not hidden
        log.warning("could not tell what the engine will run: %s", exc)
        caps = {}
    out = {"likeness": _entry(caps.get("likeness"), Message("checks.likeness_unknown")),
           "poseCheck": _entry(caps.get("pose_check"), Message("checks.pose_check_unknown"))}
    if caps.get("provider"):   # a hosted provider renders (engine.providers): who, and what it cannot do
        out["renderer"] = dict(caps["provider"])
        if not (caps.get("inpaint") or {}).get("on", True):
            out["inpaint"] = _entry(caps["inpaint"], Message("checks.likeness_unknown"))
    return out


def models_missing(settings: Settings) -> Message | None:
    """Why the engine cannot be loaded now (its base model or ControlNet is not here and cannot be fetched, in
    short), else None."""
    from engine.engines import models_state

    state = models_state(settings)
    return None if state["on"] else short(state["message"])
