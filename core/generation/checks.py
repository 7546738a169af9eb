"""What a render will really do, said before it starts and kept with the batch (issue 13, honest states).

    planned(settings)   {"likeness": {"on": bool, "reason": str | None},
                         "poseCheck": {"on": bool, "reason": str | None}}   stored in PoseGeneration.options["checks"]
    models_missing(settings)   why the base model / ControlNet cannot be loaded now, or None

Both come from engine.pipeline (capabilities / models_state): file checks only, nothing is loaded. The reasons
are the short form a shop owner can pass on ("the pose detector 'lllyasviel/Annotators' file body_pose_model.pth
is not on this server ..."); where the server looked and how to fix it is in the server's log.

Failure kinds (GeneratedPose.failure_kind): POSE when the render did not show the pose (held against its
template, counted as failed), INFRASTRUCTURE when a model is missing or the engine broke (neither).
"""
from __future__ import annotations

import logging

from core.settings import Settings

log = logging.getLogger(__name__)

POSE = "pose"
INFRASTRUCTURE = "infrastructure"


def short_reason(reason: str | None) -> str | None:
    """The what and why of a long "not available" message, without where it looked or how to fix it."""
    if not reason:
        return None
    text = reason.split(" Looked in:")[0].split(" To provide it:")[0].strip()
    _, sep, rest = text.partition(": ")
    return (rest if sep and rest else text).strip()


def _entry(state: dict | None, default_reason: str) -> dict:
    state = state or {"on": False, "reason": default_reason}
    on = bool(state.get("on"))
    return {"on": on, "reason": None if on else (short_reason(state.get("reason")) or default_reason)}


def planned(settings: Settings) -> dict:
    """Likeness and pose check, on or off with the reason, for a render with these settings."""
    from engine.pipeline import capabilities

    try:
        caps = capabilities(settings)
    except Exception as exc:  # noqa: BLE001 - a broken probe must not stop planning; it is said, not hidden
        log.warning("could not tell what the engine will run: %s", exc)
        caps = {}
    return {"likeness": _entry(caps.get("likeness"), "the engine could not say whether likeness is available"),
            "poseCheck": _entry(caps.get("pose_check"), "the engine could not say whether the pose check is "
                                                         "available")}


def models_missing(settings: Settings) -> str | None:
    """Why the engine cannot be loaded now (its base model or ControlNet is not here and cannot be fetched),
    else None."""
    from engine.pipeline import models_state

    state = models_state(settings)
    return None if state["on"] else short_reason(state["reason"])
