"""IP-Adapters (avatar likeness, garment conditioning): where they are, whether they can be used, attaching them.

    state = probe(adapter, policy)           # no torch: {"on", "reason", "download"} from files / the Hub's reach
    states = attach(pipe, config)            # at engine load: {"face": AdapterState, "garment": AdapterState}

An adapter is usable when its weight file AND the image encoder folder of the same repository are here
(MODEL_DIR, the Hugging Face cache, a local folder) or can be downloaded now (MODEL_DOWNLOADS on, Hub
reachable, HF_HUB_OFFLINE unset). Mode "auto": an unusable adapter is skipped and its state says why;
mode "on" (IP_ADAPTER=true): it is a ModelUnavailable (503) naming the file and the folders looked in.
All usable adapters are loaded by ONE diffusers `load_ip_adapter([...])` call (the face adapter first), so
the pipeline's adapter order is config.adapters' order and the image encoder is loaded once.
"""
from __future__ import annotations

import logging
from dataclasses import dataclass

from core.errors import ModelUnavailable
from engine.config import Adapter, EngineConfig
from engine.sources import Policy, Source, hub_cache_dir, locate

log = logging.getLogger(__name__)


@dataclass
class AdapterState:
    adapter: Adapter
    on: bool = False
    reason: str | None = None
    download: bool = False           # (probe) the files are not here yet: they download on first use

    def as_dict(self) -> dict:
        return {"on": self.on, "reason": self.reason, "setting": {"auto": "auto", "on": "true"}[self.adapter.mode],
                "model": self.adapter.weights.model_id, "weight": self.adapter.weight_path,
                "scale": self.adapter.scale if self.on else None, "download": self.download}


def _locate(adapter: Adapter, policy: Policy) -> tuple[Source, Source]:
    return locate(adapter.weights, policy), locate(adapter.encoder, policy)


def probe(adapter: Adapter, policy: Policy) -> AdapterState:
    """Usable or not, and why, from the files and the network only (no torch). Never raises for "auto"."""
    try:
        weights, encoder = _locate(adapter, policy)
    except ModelUnavailable as exc:
        return AdapterState(adapter, False, exc.message)
    return AdapterState(adapter, True, None, download=not (weights.local_files_only and encoder.local_files_only))


def off_state(role: str) -> dict:
    """The capabilities entry of an adapter whose switch is off."""
    why = ("Avatar likeness is off (IP_ADAPTER=false)." if role == "face" else
           "Garment conditioning is off (GARMENT_IP_ADAPTER=false, or unset while IP_ADAPTER=false).")
    return {"on": False, "reason": why, "setting": "false", "model": None, "weight": None, "scale": None,
            "download": False}


def _load(pipe, items: list[tuple[Adapter, Source, Source]], config: EngineConfig) -> None:
    first = items[0][1]
    kwargs = {k: v for k, v in first.kwargs().items() if k != "revision"}
    # one repository for all: any file still to download means the call may download
    kwargs["local_files_only"] = all(w.local_files_only and e.local_files_only for _, w, e in items)
    pipe.load_ip_adapter([first.path_or_id] * len(items),
                         subfolder=[a.weights.subfolder or "" for a, _, _ in items],
                         weight_name=[a.weights.marker for a, _, _ in items],
                         image_encoder_folder=items[0][0].encoder.subfolder, **kwargs)
    pipe.set_ip_adapter_scale([a.scale for a, _, _ in items])


def _unload(pipe) -> None:
    try:
        pipe.unload_ip_adapter()
    except Exception:  # noqa: BLE001 - nothing was attached
        pass


def _failure(adapter: Adapter, source: Source, policy: Policy, exc: BaseException) -> str:
    ref = adapter.weights
    where = source.path_or_id if source.is_folder else f"{ref.model_id} in {hub_cache_dir(policy)}"
    return (f"{ref.lead}: '{ref.model_id}' file {adapter.weight_path} with its image encoder folder "
            f"{adapter.encoder.subfolder} could not be loaded from {where} ({type(exc).__name__}: "
            f"{str(exc).strip()[:200]}).")


def attach(pipe, config: EngineConfig) -> dict[str, AdapterState]:
    """Locate and load config.adapters onto `pipe`; {role: state}. Raises ModelUnavailable for a required one."""
    states: dict[str, AdapterState] = {}
    located: list[tuple[Adapter, Source, Source]] = []
    for adapter in config.adapters:
        try:
            weights, encoder = _locate(adapter, config.policy)
        except ModelUnavailable as exc:
            if adapter.mode == "on":
                raise
            log.warning("IP-Adapter (%s) not available; rendering without it. %s", adapter.role, exc.message)
            states[adapter.role] = AdapterState(adapter, False, exc.message)
            continue
        located.append((adapter, weights, encoder))
    if not located:
        return states
    try:
        _load(pipe, located, config)
        loaded = located
    except Exception:  # noqa: BLE001 - find which one fails, keep the others
        _unload(pipe)
        loaded = []
        for item in located:
            adapter, weights, _ = item
            try:
                _load(pipe, [item], config)
                loaded.append(item)
            except Exception as exc:  # noqa: BLE001
                reason = _failure(adapter, weights, config.policy, exc)
                if adapter.mode == "on":
                    raise ModelUnavailable(reason) from exc
                log.warning("IP-Adapter (%s) not loaded; rendering without it. %s", adapter.role, reason)
                states[adapter.role] = AdapterState(adapter, False, reason)
            finally:
                _unload(pipe)
        if loaded:
            _load(pipe, loaded, config)
    for adapter, _, _ in loaded:
        states[adapter.role] = AdapterState(adapter, True)
    return states
