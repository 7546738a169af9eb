"""Inpainting around the product (issue 14): the ControlNet inpaint pipelines built from the engine's OWN
loaded components (diffusers `from_pipe`: no second copy of the weights, nothing downloaded), and the
restoration of the kept pixels after generation.

    pipe = inpaint_pipe(engine.pipe, family, dtype)     # StableDiffusion[XL]ControlNetInpaintPipeline
    image = restore(generated, init_image, mask_image)  # kept pixels (mask black) are the init image's, exactly

Masks: white (255) = paint, black (0) = keep; grey is a soft edge. The pipeline binarises the mask at 0.5 for
the model (diffusers' mask processor); `restore` then composites the init image back with the SOFT mask, as
diffusers' VaeImageProcessor.apply_overlay does (it is what it calls): where the mask is 0 the output pixel
IS the init pixel (bit-identical), where it is 255 it is the generated one, in between a blend. Core makes the
product mask as 255 - (the product's alpha eroded by a pixel or two), so the product's opaque pixels come back
exactly and the model paints its edge, the fingers over it, its shadow and its light.

The UNet decides how the pipeline inpaints:
  4 input channels (SD 1.5 / SDXL base, the default: "legacy" inpainting): the pipeline denoises the whole
    latent and, after every step, puts back the init image's latents (noised to that step) where the mask
    keeps them;
  9 input channels (an inpainting checkpoint, e.g. stable-diffusion-v1-5/stable-diffusion-inpainting as
    SD15_BASE_MODEL): the UNet also sees the mask and the masked image. Such a UNet cannot run the plain
    ControlNet or text-to-image pipelines, so with it EVERY render goes through the inpaint pipelines: a
    request without a mask paints everything (white mask over a black init image, strength 1).
strength (0, 1]: how much of the init image's content is replaced inside the mask (1: all of it; 0.6: the
garment's colours and shapes carry, its light and folds are redrawn). One pipeline call has one strength:
requests with different strengths go in separate calls.
"""
from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:  # pragma: no cover
    from PIL import Image

CLASSES = {  # family -> (ControlNet inpaint, plain inpaint for text-to-image on a 9-channel UNet, text-to-image)
    "sd15": ("StableDiffusionControlNetInpaintPipeline", "StableDiffusionInpaintPipeline", "StableDiffusionPipeline"),
    "sdxl": ("StableDiffusionXLControlNetInpaintPipeline", "StableDiffusionXLInpaintPipeline",
             "StableDiffusionXLPipeline"),
}


def unet_channels(pipe) -> int:
    return int(pipe.unet.config.in_channels)


def _from_pipe(name: str, pipe, dtype):
    import diffusers
    from diffusers.utils import logging as dlogging

    level = dlogging.get_verbosity()
    dlogging.set_verbosity_error()       # from_pipe's .to(dtype) warns about fp32 modules even when there are none
    try:
        # dtype: from_pipe casts the SHARED modules to it (fp32 when omitted), so pass the engine's own.
        out = getattr(diffusers, name).from_pipe(pipe, dtype=dtype)
    finally:
        dlogging.set_verbosity(level)
    out.set_progress_bar_config(disable=True)
    return out


def inpaint_pipe(pipe, family: str, dtype):
    """The ControlNet inpaint pipeline sharing every module of the engine's ControlNet pipeline `pipe`."""
    return _from_pipe(CLASSES[family][0], pipe, dtype)


def text_inpaint_pipe(pipe, family: str, dtype):
    """The (ControlNet-free) inpaint pipeline on the same modules: text-to-image on a 9-channel UNet."""
    return _from_pipe(CLASSES[family][1], pipe, dtype)


def text_pipe(pipe, family: str, dtype):
    """The text-to-image pipeline on the same modules (AI avatars on a 4-channel UNet)."""
    return _from_pipe(CLASSES[family][2], pipe, dtype)


def full_mask(width: int, height: int) -> tuple["Image.Image", "Image.Image"]:
    """(black init image, white mask): "paint everything", for a request without a mask on a 9-channel UNet."""
    from PIL import Image

    return Image.new("RGB", (width, height)), Image.new("L", (width, height), 255)


def steps_run(steps: int, strength: float) -> int:
    """Denoising steps a call with this strength runs (diffusers' get_timesteps for inpaint/img2img)."""
    return min(int(steps * strength), steps)


def restore(image: "Image.Image", init_image: "Image.Image", mask_image: "Image.Image") -> "Image.Image":
    """The generated `image` with the init image put back where the mask keeps it (black = the init pixel
    exactly, white = generated, grey = blend): diffusers' VaeImageProcessor.apply_overlay. RGB out."""
    from diffusers.image_processor import VaeImageProcessor

    if image.size != init_image.size or mask_image.size != init_image.size:
        raise ValueError(f"restore: image {image.size}, init image {init_image.size} and mask {mask_image.size} "
                         f"must have one size")
    return VaeImageProcessor().apply_overlay(mask_image.convert("L"), init_image.convert("RGB"), image.convert("RGB"))
