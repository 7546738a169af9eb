"""What the engines take and give back: one RenderRequest per pose, one RenderResult per image. Shared by the local
diffusers engine (engine.pipeline) and the hosted providers (engine.providers); no heavy imports.

    RenderRequest(prompt, control_image, seed=7, width=512, height=768, ip_adapter_image=face, ...)
    RenderResult(image, seed, width, height, timings, mode, likeness, garment, left_out, provider, model_id, ...)
    off_entry(message)      a capability that is off, with its reason (engine.capabilities' shape)
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # pragma: no cover
    from PIL import Image

__all__ = ["RenderRequest", "RenderResult", "off_entry"]


@dataclass(frozen=True)
class RenderRequest:
    """One pose to render. width/height default to the control image's size (they must match it).

    ip_adapter_image: the avatar's face crop (likeness adapter); garment_image: the garment cut-out (second
    adapter, when loaded). init_image + mask_image (both or neither, at the output size): inpaint, white =
    paint, black = keep exactly; strength (0, 1]: how much of the init image inside the mask is replaced."""

    prompt: str
    control_image: "Image.Image"
    seed: int
    negative_prompt: str = ""
    width: int | None = None
    height: int | None = None
    ip_adapter_image: "Image.Image | None" = None
    init_image: "Image.Image | None" = None
    mask_image: "Image.Image | None" = None
    strength: float = 1.0
    garment_image: "Image.Image | None" = None

    @property
    def size(self) -> tuple[int, int]:
        w, h = self.control_image.size
        return (self.width or w, self.height or h)


@dataclass
class RenderResult:
    image: "Image.Image"
    seed: int
    width: int
    height: int
    timings: dict[str, float] = field(default_factory=dict)
    mode: str = "controlnet"                   # "inpaint": rendered around a mask, kept pixels restored
    likeness: bool = False                     # the face IP-Adapter conditioned this image on its face crop
    garment: bool = False                      # the garment IP-Adapter conditioned it on the garment image
    left_out: tuple[str, ...] = ()             # prompt phrases cut to fit the text encoder (engine.tokens)
    negative_left_out: tuple[str, ...] = ()
    # who rendered it: "local" (this engine) or a hosted provider (engine.providers), its model and job ids
    provider: str = "local"
    model_id: str | None = None
    provider_job_id: str | None = None
    failure: Exception | None = None           # a provider job that failed (image is None): refunded by core
    cancelled: bool = False                    # given up on because its pose was cancelled
    fallback: tuple[dict, ...] = ()            # the engines that failed it first: ({"provider", "error"}, ...)


def off_entry(msg) -> dict:
    """A capability entry that is off, with its reason (engine.capabilities' shape)."""
    return {"on": False, "reason": msg.english, "message": msg.to_dict()}
