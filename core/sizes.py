"""Output sizes: the presets a user picks from ("square", "portrait", "landscape") and their pixels.

OUTPUT_SIZES names them (name=WxH,...); `auto` takes the engine family's native sizes: SD 1.5 was trained at
512 px, SDXL at about one megapixel, the tiny test engine stays at 64 px (its VAE is slow above). Planning
asks here, never the engine room; the engine reads the same presets from Settings.size_presets.
"""
from __future__ import annotations

from core.errors import ModelUnavailable, ValidationFailed

AUTO_SIZES = {
    "sd15": (("square", 512, 512), ("portrait", 512, 768), ("landscape", 768, 512)),
    "sdxl": (("square", 1024, 1024), ("portrait", 832, 1216), ("landscape", 1216, 832)),
    "tiny": (("square", 64, 64), ("portrait", 64, 96), ("landscape", 96, 64)),
    "tiny-sdxl": (("square", 64, 64), ("portrait", 64, 96), ("landscape", 96, 64)),
}
MIN_SIDE, MAX_SIDE = 64, 2048   # what the diffusion engines accept (sides in multiples of 8)


def parse_sizes(value: str, engine: str) -> tuple[tuple[str, int, int], ...]:
    """'square=512x512,portrait=512x768' -> (("square", 512, 512), ...); 'auto' -> the engine's presets."""
    if value.strip() == "auto":
        return AUTO_SIZES.get(engine, AUTO_SIZES["sdxl"])
    out = []
    for item in value.split(","):
        name, _, size = item.strip().partition("=")
        w, _, h = size.partition("x")
        width, height = int(w), int(h)
        for side in (width, height):
            if side % 8 or not MIN_SIDE <= side <= MAX_SIDE:
                raise ModelUnavailable("sizes.not_configured", entry=item.strip(), least=MIN_SIDE, most=MAX_SIDE)
        out.append((name, width, height))
    return tuple(out)


def size_presets(settings) -> dict[str, tuple[int, int]]:
    """{"square": (w, h), ...} for these settings."""
    return {name: (w, h) for name, w, h in parse_sizes(settings.output_sizes, settings.engine)}


def output_size(settings, name: str) -> tuple[int, int]:
    """The pixels of preset `name`; a name that is not offered is a ValidationFailed naming the choices."""
    presets = size_presets(settings)
    if name not in presets:
        raise ValidationFailed("sizes.unknown", field="size", size_names=list(presets))
    return presets[name]
