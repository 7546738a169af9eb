"""The engine's part of Settings as one frozen, hashable value: the key of the per-process engine cache.

    config = EngineConfig.from_settings(settings)     # cheap: no torch, no file access
    config.sizes                                      # {"square": (512, 512), "portrait": (512, 768), ...}
"""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from core.errors import ModelUnavailable
from engine.sources import ModelRef, Policy

FAMILY = {"sd15": "sd15", "sdxl": "sdxl", "tiny": "sd15", "tiny-sdxl": "sdxl"}
# auto size presets per engine: SD 1.5 was trained at 512 px, SDXL at ~1 megapixel; the tiny VAE is slow above 64.
AUTO_SIZES = {
    "sd15": (("square", 512, 512), ("portrait", 512, 768), ("landscape", 768, 512)),
    "sdxl": (("square", 1024, 1024), ("portrait", 832, 1216), ("landscape", 1216, 832)),
    "tiny": (("square", 64, 64), ("portrait", 64, 96), ("landscape", 96, 64)),
    "tiny-sdxl": (("square", 64, 64), ("portrait", 64, 96), ("landscape", 96, 64)),
}
# IP-Adapter "plus face" (likeness of a face from one photo); the SDXL ViT-H variant uses SD 1.5's image encoder.
IP_DEFAULTS = {
    "sd15": ("models/ip-adapter-plus-face_sd15.safetensors", "image_encoder"),
    "sdxl": ("sdxl_models/ip-adapter-plus-face_sdxl_vit-h.safetensors", "models/image_encoder"),
}
MIN_SIDE, MAX_SIDE = 64, 2048


def parse_sizes(value: str, engine: str) -> tuple[tuple[str, int, int], ...]:
    """'square=512x512,portrait=512x768' -> (("square", 512, 512), ...); 'auto' -> the engine's presets."""
    if value.strip() == "auto":
        return AUTO_SIZES[engine]
    out = []
    for item in value.split(","):
        name, _, size = item.strip().partition("=")
        w, _, h = size.partition("x")
        width, height = int(w), int(h)
        for side in (width, height):
            if side % 8 or not MIN_SIDE <= side <= MAX_SIDE:
                raise ModelUnavailable(f"Image generation is not configured: OUTPUT_SIZES entry {item.strip()!r} "
                                       f"needs sides that are multiples of 8 in {MIN_SIDE}..{MAX_SIDE}.")
        out.append((name, width, height))
    return tuple(out)


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
    sizes: tuple[tuple[str, int, int], ...] = field(default=AUTO_SIZES["sd15"])
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
        policy = Policy(model_dir=s.model_dir, cache_dir=s.hf_cache_dir, downloads=s.model_downloads)
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
        if s.ip_adapter:
            weight = s.ip_adapter_weight or IP_DEFAULTS[family][0]
            sub, _, name = weight.strip("/").rpartition("/")
            if s.ip_adapter_weight and "vit-h" not in name and family == "sdxl":
                encoder = "image_encoder"
            ip = ModelRef("IP-Adapter", "IP_ADAPTER_MODEL", s.ip_adapter_model, None, name, sub or None,
                          lead="Avatar likeness (IP-Adapter) is off, renders go on without it")
        return cls(
            engine=s.engine, base=base, controlnet=controlnet, policy=policy, device=s.engine_device,
            dtype=s.engine_dtype, scheduler="lcm" if fast else s.engine_scheduler,
            steps=s.fast_lora_steps if fast else s.engine_steps,
            guidance=s.fast_lora_guidance if fast else s.engine_guidance, controlnet_scale=s.controlnet_scale,
            compile=s.engine_compile, channels_last=s.engine_channels_last, exact_batches=s.engine_exact_batches,
            batch_size=s.engine_batch_size, fast_lora=fast, fast_steps=s.fast_lora_steps,
            fast_guidance=s.fast_lora_guidance, ip_adapter=ip, ip_image_encoder=encoder,
            ip_scale=s.ip_adapter_scale, sizes=parse_sizes(s.output_sizes, s.engine), tiny_dir=tiny_dir)
