"""Load the ControlNet pipeline an EngineConfig describes: the same calls for real and tiny weights.

    loaded = load_pipeline(config)      # torch/diffusers imported here, never at module import
    loaded.pipe, loaded.facts           # the diffusers pipeline, and what describe() reports

Order: locate every model first (engine.sources: no torch, fails in milliseconds when weights are
missing), then import torch + diffusers and `from_pretrained` the ControlNet and the base pipeline with
the same arguments for a Hub id, a cache entry or a local folder; swap the scheduler through
`from_config`; fuse the few-step LoRA; attach the IP-Adapter; move to the device; channels_last; compile.

IP-Adapter policy (engine.adapters): IP_ADAPTER=auto renders without a missing or unloadable adapter and
describe() / capabilities() say why (the prompt still carries the avatar's traits); IP_ADAPTER=true makes it
a ModelUnavailable (503) naming the file and the folders looked in, before torch is imported when the files
are simply not there. The face and garment adapters are loaded together (one image encoder).
A few-step LoRA that is set but missing is an error: it changes steps and guidance, so running without
it would give bad pictures quietly.
"""
from __future__ import annotations

import logging
import time
from dataclasses import dataclass, field
from typing import Any

from core.errors import ModelUnavailable
from engine import device as devices
from engine.adapters import AdapterState, attach
from engine.config import EngineConfig
from engine.downloads import arrive, load_kwargs, snapshot_commit
from engine.sources import Source, load_failed, locate

log = logging.getLogger(__name__)
COMPILE_MODE = "max-autotune-no-cudagraphs"   # CUDA graphs would pin one batch shape and the ControlNet's inputs


@dataclass
class Loaded:
    pipe: Any
    device: str
    dtype: Any
    facts: dict = field(default_factory=dict)
    ip_adapter: bool = False
    adapters: tuple[str, ...] = ()            # roles of the loaded IP-Adapters, in the pipeline's order
    adapter_states: dict = field(default_factory=dict)


def make_scheduler(name: str, config):
    """A scheduler of kind `name` built from the model's own scheduler config (betas, offsets)."""
    import diffusers

    if name == "unipc":
        return diffusers.UniPCMultistepScheduler.from_config(config)
    if name == "dpm++2m":
        return diffusers.DPMSolverMultistepScheduler.from_config(config, algorithm_type="dpmsolver++",
                                                                 solver_order=2, use_karras_sigmas=True)
    if name == "euler_a":
        return diffusers.EulerAncestralDiscreteScheduler.from_config(config)
    if name == "ddim":
        return diffusers.DDIMScheduler.from_config(config)
    if name == "lcm":
        return diffusers.LCMScheduler.from_config(config)
    raise ModelUnavailable("engine.unknown_scheduler", value=name)


def _from_pretrained(cls, source: Source, policy, **kwargs):
    try:
        return cls.from_pretrained(source.path_or_id, **source.kwargs(), **kwargs)
    except ModelUnavailable:
        raise
    except Exception as exc:  # noqa: BLE001 - any loading failure becomes one clear message
        raise load_failed(source, policy, exc) from exc


def load_pipeline(config: EngineConfig) -> Loaded:
    started = time.perf_counter()
    if config.is_tiny:
        from engine.tiny import ensure_tiny_models

        ensure_tiny_models(config.tiny_dir, config.family)
    policy = config.policy
    base_src = locate(config.base, policy)
    cn_src = locate(config.controlnet, policy)
    fast_src = locate(config.fast_lora, policy) if config.fast_lora else None
    for adapter in config.adapters:          # a required adapter that is missing fails here, before torch
        if adapter.mode == "on":
            locate(adapter.weights, policy), locate(adapter.encoder, policy)

    from engine.render_thread import torch_ready

    torch = torch_ready()   # on the render thread: ENGINE_THREADS before the first op
    import diffusers

    device = devices.resolve_device(config.device)
    dtype = devices.resolve_dtype(config.dtype, device)
    sdxl = config.family == "sdxl"
    # what is not here arrives now (engine.downloads): safetensors only, the fp16 files where the device runs fp16
    fp16 = devices.dtype_name(dtype) == "fp16"
    cn_src, base_src = arrive(config.controlnet, policy, fp16=fp16), arrive(config.base, policy, fp16=fp16)
    if config.fast_lora:
        fast_src = arrive(config.fast_lora, policy)
    controlnet = _from_pretrained(diffusers.ControlNetModel, cn_src, policy, dtype=dtype,
                                  **load_kwargs(cn_src, policy, fp16=fp16))
    if sdxl:
        pipe = _from_pretrained(diffusers.StableDiffusionXLControlNetPipeline, base_src, policy,
                                controlnet=controlnet, dtype=dtype, **load_kwargs(base_src, policy, fp16=fp16))
    else:
        pipe = _from_pretrained(diffusers.StableDiffusionControlNetPipeline, base_src, policy, controlnet=controlnet,
                                dtype=dtype, safety_checker=None, requires_safety_checker=False,
                                **load_kwargs(base_src, policy, fp16=fp16))
    pipe.scheduler = make_scheduler(config.scheduler, pipe.scheduler.config)
    pipe.set_progress_bar_config(disable=True)

    fast_state = None
    if fast_src is not None:
        _fuse_fast_lora(pipe, fast_src, policy)
        fast_state = {**fast_src.describe(), "weight_name": config.fast_lora.marker,
                      "commit": snapshot_commit(fast_src, policy)}
    states = attach(pipe, config) if config.adapters else {}

    pipe.to(device)
    if config.channels_last:
        for module in (pipe.unet, pipe.controlnet, pipe.vae):
            module.to(memory_format=torch.channels_last)
    if config.compile:
        pipe.unet = torch.compile(pipe.unet, mode=COMPILE_MODE)

    facts = {
        "engine": config.engine, "family": config.family,
        "base_model": {**base_src.describe(), "commit": snapshot_commit(base_src, policy)},
        "controlnet": {**cn_src.describe(), "commit": snapshot_commit(cn_src, policy)},
        "device": device, "dtype": devices.dtype_name(dtype), "scheduler": config.scheduler,
        "steps": config.steps, "guidance": config.guidance, "controlnet_scale": config.controlnet_scale,
        "compile": COMPILE_MODE if config.compile else False, "channels_last": config.channels_last,
        "exact_batches": bool(config.exact_batches and device == "cpu"), "batch_size": config.batch_size,
        "fast_lora": fast_state,
        "ip_adapter": _ip_fact(states.get("face")), "garment_ip_adapter": _ip_fact(states.get("garment")),
        "unet_in_channels": int(pipe.unet.config.in_channels),
        "sizes": config.size_presets,
        "versions": {"diffusers": diffusers.__version__, "torch": torch.__version__},
        "load_s": round(time.perf_counter() - started, 3),
    }
    roles = tuple(a.role for a in config.adapters if a.role in states and states[a.role].on)
    return Loaded(pipe=pipe, device=device, dtype=dtype, facts=facts, ip_adapter=bool(roles), adapters=roles,
                  adapter_states=states)


def _ip_fact(state: AdapterState | None) -> dict:
    """describe()'s record of one adapter: state on | off | missing, the reason, model, weight, scale."""
    if state is None:
        return {"state": "off", "reason": None, "model": None, "weight": None, "scale": None}
    return {"state": "on" if state.on else "missing", "reason": state.reason, "model": state.adapter.weights.model_id,
            "weight": state.adapter.weight_path, "scale": state.adapter.scale if state.on else None}


def _fuse_fast_lora(pipe, source: Source, policy) -> None:
    try:
        import peft  # noqa: F401 - diffusers' LoRA loading needs the PEFT backend
    except ImportError:
        raise ModelUnavailable("engine.peft_missing") from None
    kwargs = {k: v for k, v in source.kwargs().items() if k != "revision"}
    try:
        pipe.load_lora_weights(source.path_or_id, weight_name=source.ref.marker, adapter_name="fast", **kwargs)
        pipe.fuse_lora(adapter_names=["fast"], lora_scale=1.0)
        pipe.unload_lora_weights()          # keeps the fused weights, drops the LoRA layers (no per-step cost)
    except ModelUnavailable:
        raise
    except Exception as exc:  # noqa: BLE001
        raise load_failed(source, policy, exc) from exc
