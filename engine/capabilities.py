"""What a batch will run, as data the UI shows before the user pays: computed from the settings and the files,
WITHOUT loading a pipeline (no torch import; file checks, and a 2-second Hub reachability check cached for a
minute when downloads are allowed).

    from engine.engines import capabilities
    caps = capabilities(settings)       # a loaded engine's own state when one is loaded, else this probe
    caps["likeness"]     {"on": False, "reason": "Avatar likeness (IP-Adapter) is off, ... file models/... is not
                          on this server ...", "setting": "auto", "model": "h94/IP-Adapter", "weight": "...",
                          "scale": None, "download": False}
    caps["garment"]      the same for the second (garment) IP-Adapter
    caps["pose_check"]   {"on": True, "reason": None, "download": True, "weights": "lllyasviel/Annotators ..."}
    caps["inpaint"]      {"on": True, "reason": None, "unet_in_channels": 4 | 9 | None (not known yet)}
    caps["embeddings"]   {"on": ..., "reason": ...}: identity / garment CLIP scores can be computed (= an
                          IP-Adapter, hence its image encoder, will be loaded)

Each "reason" is the English of "message" ({"code", "params"}: core.messages), which pages show in the reader's
language. "on" with "download": True means the files are not here yet and will be fetched on first use. Every "off" has
a reason a shop owner can pass to whoever runs the server. The probe can be wrong in one direction only: a
download that fails later, or a file that is there but corrupt, turns "on" into off at load time, and the
loaded engine's capabilities() (and describe()) then say so.
"""
from __future__ import annotations

import dataclasses
import json
from pathlib import Path

from core.errors import Message
from engine.adapters import AdapterState, off_message, off_state, probe
from engine.config import EngineConfig


def adapter_entries(config: EngineConfig, states: dict[str, AdapterState]) -> dict:
    """{"likeness": ..., "garment": ...}: the adapters' states, or "off" with the switch that turned it off."""
    out = {"likeness": off_state("face"), "garment": off_state("garment")}
    for role, key in (("face", "likeness"), ("garment", "garment")):
        if role in states:
            out[key] = states[role].as_dict()
    return out


def embeddings_why(states: dict[str, AdapterState]) -> Message | None:
    """None when an IP-Adapter (hence its image encoder) is loaded, else why identity / garment scores are not
    checked (with the reason likeness is off)."""
    if any(state.on for state in states.values()):
        return None
    face = states.get("face")
    return Message("likeness.scores_off", reason=face.why if face is not None and face.why else off_message("face"))


def embeddings_entry(states: dict[str, AdapterState]) -> dict:
    why = embeddings_why(states)
    if why is None:
        return {"on": True, "reason": None}
    return {"on": False, "reason": why.english, "message": why.to_dict()}


def _unet_channels(config: EngineConfig) -> int | None:
    """The base UNet's in_channels from its config.json when it is on disk (folder, MODEL_DIR, cache)."""
    from engine.sources import ModelRef, locate

    ref = config.base
    try:
        source = locate(ModelRef(ref.role, ref.setting, ref.model_id, ref.revision, "config.json", "unet"),
                        dataclasses.replace(config.policy, downloads=False))
    except Exception:  # noqa: BLE001 - not here yet: unknown until loaded
        return None
    if source.is_folder:
        path = Path(source.path_or_id) / "unet" / "config.json"
    else:
        from huggingface_hub import try_to_load_from_cache

        hit = try_to_load_from_cache(ref.model_id, "unet/config.json", revision=ref.revision,
                                     cache_dir=source.cache_dir)
        if not isinstance(hit, str):
            return None
        path = Path(hit)
    try:
        return int(json.loads(path.read_text())["in_channels"])
    except (OSError, ValueError, KeyError, TypeError):
        return None


def probe_capabilities(settings) -> dict:
    """capabilities() for settings whose engine is not loaded (see the module doc)."""
    from engine.detector import pose_check_state

    config = EngineConfig.from_settings(settings)
    states = {a.role: probe(a, config.policy) for a in config.adapters}
    out = adapter_entries(config, states)
    out["pose_check"] = pose_check_state(settings)
    out["inpaint"] = {"on": True, "reason": None, "unet_in_channels": _unet_channels(config)}
    out["embeddings"] = embeddings_entry(states)
    return out
