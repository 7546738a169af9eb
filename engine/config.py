"""The engine's part of Settings as one frozen, hashable value: the key of the per-process engine cache.

    config = EngineConfig.from_settings(settings)     # cheap: no torch, no file access
    config.sizes                                      # {"square": (512, 512), "portrait": (512, 768), ...}
    config.adapters                                   # the IP-Adapters to attach: (Adapter(role="face"), ...)

IP_ADAPTER (likeness) is a three-way switch, read by `switch()` from a bool or a string:
  auto   on when the IP-Adapter weights and their image encoder are here or can be downloaded
         (MODEL_DOWNLOADS); otherwise off, and capabilities() / describe() say why;
  true   required: missing or unloadable weights are a ModelUnavailable (503) naming the file and folder;
  false  off.
The garment adapter (issue 14: a second, general IP-Adapter conditioned on the shop's garment) has the same
switch, read from the optional settings garment_ip_adapter / garment_ip_adapter_weight /
garment_ip_adapter_scale (defaults: unset = "auto" unless IP_ADAPTER is false; GARMENT_DEFAULTS; 0.5).
It lives in the same repository as the face adapter and shares its image encoder (diffusers loads one
encoder for all adapters of a pipeline).
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from core.errors import ModelUnavailable
from engine.sources import ModelRef, Policy, policy_of

FAMILY = {"sd15": "sd15", "sdxl": "sdxl", "tiny": "sd15", "tiny-sdxl": "sdxl",
          # hosted providers (engine.providers) render SDXL-class models remotely: their sizes are SDXL's
          "fal": "sdxl", "replicate": "sdxl", "hf": "sdxl"}
# IP-Adapter "plus face" (likeness of a face from one photo); the SDXL ViT-H variant uses SD 1.5's image encoder.
IP_DEFAULTS = {
    "sd15": ("models/ip-adapter-plus-face_sd15.safetensors", "image_encoder"),
    "sdxl": ("sdxl_models/ip-adapter-plus-face_sdxl_vit-h.safetensors", "models/image_encoder"),
}
# The general ("plus") adapters for the garment: same repository, same ViT-H image encoder as the face ones.
GARMENT_DEFAULTS = {
    "sd15": "models/ip-adapter-plus_sd15.safetensors",
    "sdxl": "sdxl_models/ip-adapter-plus_sdxl_vit-h.safetensors",
}
MIN_SIDE, MAX_SIDE = 64, 2048
SWITCH = {"auto": "auto", "true": "on", "on": "on", "yes": "on", "1": "on",
          "false": "off", "off": "off", "no": "off", "0": "off", "": "off", "none": "off"}


def switch(value, name: str = "IP_ADAPTER") -> str:
    """A likeness switch as "auto" | "on" | "off": accepts True/False, None and the strings auto/true/false
    (also on/off, yes/no, 1/0; any case)."""
    if value is None or isinstance(value, bool):
        return "on" if value else "off"
    mode = SWITCH.get(str(value).strip().lower())
    if mode is None:
        raise ModelUnavailable("engine.switch_invalid", setting=name, value=value)
    return mode


@dataclass(frozen=True)
class Adapter:
    """One IP-Adapter to attach. role: "face" (the avatar's likeness) or "garment"; mode: "auto" | "on";
    weights: the adapter file; encoder: the image-encoder folder's config.json (same repository)."""

    role: str
    mode: str
    weights: ModelRef
    encoder: ModelRef
    scale: float

    @property
    def weight_path(self) -> str:
        return f"{self.weights.subfolder}/{self.weights.marker}" if self.weights.subfolder else self.weights.marker


def _adapter(role: str, mode: str, model: str, weight: str, encoder: str, scale: float, setting: str) -> Adapter:
    sub, _, name = weight.strip("/").rpartition("/")
    # diffusers' rule (load_ip_adapter): a folder name without "/" is inside the adapter's subfolder
    enc = f"{sub}/{encoder}".strip("/") if "/" not in encoder else encoder
    lead = ("Avatar likeness (IP-Adapter) is off, renders go on without it" if role == "face" else
            "Garment conditioning (second IP-Adapter) is off, renders go on without it")
    if mode == "on":
        lead = ("Avatar likeness (IP_ADAPTER=true) is not available" if role == "face" else
                "Garment conditioning (GARMENT_IP_ADAPTER=true) is not available")
    weights = ModelRef("IP-Adapter" if role == "face" else "garment IP-Adapter", setting, model, None, name,
                       sub or None, lead=lead)
    encoder_ref = ModelRef("IP-Adapter image encoder", setting, model, None, "config.json", enc, lead=lead)
    return Adapter(role, mode, weights, encoder_ref, scale)


@dataclass(frozen=True)
class EngineConfig:
    engine: str
    base: ModelRef
    controlnet: ModelRef
    policy: Policy
    device: str = "auto"
    dtype: str = "auto"
    scheduler: str = "unipc"
    steps: int = 25
    guidance: float = 7.0
    controlnet_scale: float = 1.0
    compile: bool = False
    channels_last: bool = False
    exact_batches: bool = True
    batch_size: int = 4
    fast_lora: ModelRef | None = None
    fast_steps: int = 6
    fast_guidance: float = 1.5
    ip_adapter: ModelRef | None = None
    ip_image_encoder: str = "image_encoder"
    ip_scale: float = 0.6
    ip_mode: str = "off"                              # auto | on | off (IP_ADAPTER)
    adapters: tuple[Adapter, ...] = ()                # face first, then garment; empty when both are off
    sizes: tuple[tuple[str, int, int], ...] = ()
    tiny_dir: Path | None = None

    @property
    def family(self) -> str:
        return FAMILY[self.engine]

    @property
    def is_tiny(self) -> bool:
        return self.engine.startswith("tiny")

    @property
    def size_presets(self) -> dict[str, tuple[int, int]]:
        return {name: (w, h) for name, w, h in self.sizes}

    @classmethod
    def from_settings(cls, s) -> "EngineConfig":
        family = FAMILY[s.engine]
        policy = policy_of(s)
        tiny_dir = None
        if s.engine.startswith("tiny"):
            from engine.tiny import tiny_paths

            tiny_dir = Path(s.tiny_model_dir or Path(s.storage_dir) / "cache" / "tiny-engine").expanduser().resolve()
            base_path, cn_path = tiny_paths(tiny_dir, family)
            base = ModelRef("tiny base model", "TINY_MODEL_DIR", str(base_path), None, "model_index.json")
            controlnet = ModelRef("tiny ControlNet", "TINY_MODEL_DIR", str(cn_path), None, "config.json")
        elif family == "sdxl":
            base = ModelRef("SDXL base model", "SDXL_BASE_MODEL", s.sdxl_base_model, s.sdxl_base_revision,
                            "model_index.json")
            controlnet = ModelRef("SDXL OpenPose ControlNet", "SDXL_CONTROLNET_MODEL", s.sdxl_controlnet_model,
                                  s.sdxl_controlnet_revision, "config.json")
        else:
            base = ModelRef("SD 1.5 base model", "SD15_BASE_MODEL", s.sd15_base_model, s.sd15_base_revision,
                            "model_index.json")
            controlnet = ModelRef("SD 1.5 OpenPose ControlNet", "SD15_CONTROLNET_MODEL", s.sd15_controlnet_model,
                                  s.sd15_controlnet_revision, "config.json")
        fast = None
        if s.fast_lora:
            fast = ModelRef("few-step LoRA", "FAST_LORA", s.fast_lora, None,
                            s.fast_lora_weight_name or "pytorch_lora_weights.safetensors")
        ip, encoder = None, IP_DEFAULTS[family][1]
        ip_mode = switch(s.ip_adapter)
        weight = s.ip_adapter_weight or IP_DEFAULTS[family][0]
        if s.ip_adapter_weight and "vit-h" not in weight.rpartition("/")[2] and family == "sdxl":
            encoder = "image_encoder"              # SDXL's own adapters use the ViT-bigG encoder next to them
        adapters = []
        if ip_mode != "off":
            face = _adapter("face", ip_mode, s.ip_adapter_model, weight, encoder, s.ip_adapter_scale,
                            "IP_ADAPTER_MODEL")
            ip = face.weights
            adapters.append(face)
        garment_mode = getattr(s, "garment_ip_adapter", None)     # unset: auto while likeness is not off
        garment_mode = switch(garment_mode, "GARMENT_IP_ADAPTER") if garment_mode is not None else \
            "off" if ip_mode == "off" else "auto"
        garment_weight = getattr(s, "garment_ip_adapter_weight", None) or GARMENT_DEFAULTS[family]
        if garment_mode != "off":
            adapters.append(_adapter("garment", garment_mode, s.ip_adapter_model, garment_weight, encoder,
                                     float(getattr(s, "garment_ip_adapter_scale", 0.5)),
                                     "GARMENT_IP_ADAPTER_WEIGHT"))
        return cls(
            engine=s.engine, base=base, controlnet=controlnet, policy=policy, device=s.engine_device,
            dtype=s.engine_dtype, scheduler="lcm" if fast else s.engine_scheduler,
            steps=s.fast_lora_steps if fast else s.engine_steps,
            guidance=s.fast_lora_guidance if fast else s.engine_guidance, controlnet_scale=s.controlnet_scale,
            compile=s.engine_compile, channels_last=s.engine_channels_last, exact_batches=s.engine_exact_batches,
            batch_size=s.engine_batch_size, fast_lora=fast, fast_steps=s.fast_lora_steps,
            fast_guidance=s.fast_lora_guidance, ip_adapter=ip, ip_image_encoder=encoder,
            ip_scale=s.ip_adapter_scale, ip_mode=ip_mode, adapters=tuple(adapters),
            sizes=tuple((name, w, h) for name, (w, h) in s.size_presets.items()), tiny_dir=tiny_dir)
