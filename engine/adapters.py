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

from core.errors import Message, ModelUnavailable
from engine.config import Adapter, EngineConfig
from engine.sources import Policy, Source, locate, where_loaded

log = logging.getLogger(__name__)


@dataclass
class AdapterState:
    adapter: Adapter
    on: bool = False
    why: Message | None = None       # why it is off (the message of the error that turned it off)
    download: bool = False           # (probe) the files are not here yet: they download on first use

    @property
    def reason(self) -> str | None:
        """The English of `why` (capabilities, describe(), logs)."""
        return self.why.english if self.why is not None else None

    def as_dict(self) -> dict:
        return {"on": self.on, "reason": self.reason, **({"message": self.why.to_dict()} if self.why else {}),
                "setting": {"auto": "auto", "on": "true"}[self.adapter.mode],
                "model": self.adapter.weights.model_id, "weight": self.adapter.weight_path,
                "scale": self.adapter.scale if self.on else None, "download": self.download}


def _locate(adapter: Adapter, policy: Policy) -> tuple[Source, Source]:
    return locate(adapter.weights, policy), locate(adapter.encoder, policy)


def probe(adapter: Adapter, policy: Policy) -> AdapterState:
    """Usable or not, and why, from the files and the network only (no torch). Never raises for "auto"."""
    try:
        weights, encoder = _locate(adapter, policy)
    except ModelUnavailable as exc:
        return AdapterState(adapter, False, exc.msg)
    return AdapterState(adapter, True, None, download=not (weights.local_files_only and encoder.local_files_only))


def off_message(role: str) -> Message:
    """Why an adapter whose switch is off is off."""
    return Message("likeness.face_off") if role == "face" else Message("likeness.garment_off")


def off_state(role: str) -> dict:
    """The capabilities entry of an adapter whose switch is off."""
    return {"on": False, "reason": off_message(role).english, "message": off_message(role).to_dict(), "setting": "false", "model": None, "weight": None,
            "scale": None, "download": False}


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


def _failure(adapter: Adapter, source: Source, policy: Policy, exc: BaseException) -> ModelUnavailable:
    ref = adapter.weights
    return ModelUnavailable("models.adapter_load_failed", lead=ref.lead, model=ref.model_id,
                            weight=adapter.weight_path, encoder=adapter.encoder.subfolder,
                            where=where_loaded(source, policy), error=type(exc).__name__,
                            detail=str(exc).strip()[:200])


def attach(pipe, config: EngineConfig) -> dict[str, AdapterState]:
    """Locate and load config.adapters onto `pipe`; {role: state}. Raises ModelUnavailable for a required one."""
    states: dict[str, AdapterState] = {}
    located: list[tuple[Adapter, Source, Source]] = []
    from engine.downloads import arrive

    for adapter in config.adapters:
        try:   # here, or downloaded now (with progress) when MODEL_DOWNLOADS allows
            weights, encoder = arrive(adapter.weights, config.policy), arrive(adapter.encoder, config.policy)
        except ModelUnavailable as exc:
            if adapter.mode == "on":
                raise
            log.warning("IP-Adapter (%s) not available; rendering without it. %s", adapter.role, exc.message)
            states[adapter.role] = AdapterState(adapter, False, exc.msg)
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
                failure = _failure(adapter, weights, config.policy, exc)
                if adapter.mode == "on":
                    raise failure from exc
                log.warning("IP-Adapter (%s) not loaded; rendering without it. %s", adapter.role, failure.message)
                states[adapter.role] = AdapterState(adapter, False, failure.msg)
            finally:
                _unload(pipe)
        if loaded:
            _load(pipe, loaded, config)
    for adapter, _, _ in loaded:
        states[adapter.role] = AdapterState(adapter, True)
    return states
