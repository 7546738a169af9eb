"""Input checks for Engine.render / text_to_image: concise errors before any work (as diffusers' check_inputs),
nothing silently corrected. Every failure is a core.errors.ValidationFailed (422) naming the request, the field
and the limit."""
from __future__ import annotations

from core.errors import ValidationFailed
from engine.config import MAX_SIDE, MIN_SIDE

MAX_SEED = 2**63 - 1


def valid_side(v) -> bool:
    return isinstance(v, int) and not isinstance(v, bool) and MIN_SIDE <= v <= MAX_SIDE and v % 8 == 0


def check_size(width, height) -> None:
    for name, v in (("width", width), ("height", height)):
        if not valid_side(v):
            raise ValidationFailed(f"{name} must be a multiple of 8 in {MIN_SIDE}..{MAX_SIDE}, got {v!r}.", field=name)


def _image(i: int, value, label: str, field: str) -> None:
    from PIL import Image

    if value is not None and not isinstance(value, Image.Image):
        raise ValidationFailed(f"Request {i}: the {label} must be a PIL image.", field=field)


def check_request(i: int, r, first, steps: int) -> None:
    """One request of a micro-batch (`first` is request 0: all share its size)."""
    from PIL import Image

    if not isinstance(r.prompt, str) or not isinstance(r.negative_prompt, str):
        raise ValidationFailed(f"Request {i}: prompt and negative prompt must be text.", field="prompt")
    if not isinstance(r.control_image, Image.Image):
        raise ValidationFailed(f"Request {i}: the control image must be a PIL image.", field="control_image")
    _image(i, r.ip_adapter_image, "IP-Adapter image", "ip_adapter_image")
    _image(i, r.garment_image, "garment image", "garment_image")
    _image(i, r.init_image, "init image", "init_image")
    _image(i, r.mask_image, "mask image", "mask_image")
    if isinstance(r.seed, bool) or not isinstance(r.seed, int) or not 0 <= r.seed <= MAX_SEED:
        raise ValidationFailed(f"Request {i}: seed must be an integer in 0..2^63-1, got {r.seed!r}.", field="seed")
    check_size(*r.size)
    if r.control_image.size != r.size:
        raise ValidationFailed(f"Request {i}: the control image is {r.control_image.size[0]}x"
                               f"{r.control_image.size[1]} but the request asks for {r.size[0]}x"
                               f"{r.size[1]}; render the skeleton at the output size.", field="control_image")
    if r.size != first.size:
        raise ValidationFailed(f"All images of a micro-batch share one size: request 0 is "
                               f"{first.size[0]}x{first.size[1]}, request {i} is "
                               f"{r.size[0]}x{r.size[1]}.", field="requests")
    if (r.init_image is None) != (r.mask_image is None):
        raise ValidationFailed(f"Request {i}: inpainting needs both an init image and a mask image (white = "
                               f"paint, black = keep); got only the "
                               f"{'init' if r.mask_image is None else 'mask'} image.", field="mask_image")
    for name in ("init_image", "mask_image"):
        image = getattr(r, name)
        if image is not None and image.size != r.size:
            raise ValidationFailed(f"Request {i}: the {name.replace('_', ' ')} is {image.size[0]}x{image.size[1]} "
                                   f"but the request asks for {r.size[0]}x{r.size[1]}.", field=name)
    strength = r.strength
    if isinstance(strength, bool) or not isinstance(strength, (int, float)) or not 0 < strength <= 1:
        raise ValidationFailed(f"Request {i}: strength must be in (0, 1], got {strength!r}.", field="strength")
    if strength < 1 and r.init_image is None:
        raise ValidationFailed(f"Request {i}: strength below 1 keeps part of an init image; give init_image and "
                               f"mask_image.", field="strength")
    if int(steps * strength) < 1:
        raise ValidationFailed(f"Request {i}: strength {strength} of {steps} steps runs no step; raise strength "
                               f"to at least {1 / steps:.2f} or the steps.", field="strength")


def check_options(config, steps, guidance, scale) -> tuple[int, float, float]:
    steps = config.steps if steps is None else steps
    guidance = config.guidance if guidance is None else guidance
    scale = config.controlnet_scale if scale is None else scale
    if isinstance(steps, bool) or not isinstance(steps, int) or not 1 <= steps <= 150:
        raise ValidationFailed(f"steps must be an integer in 1..150, got {steps!r}.", field="steps")
    if not isinstance(guidance, (int, float)) or not 0 <= guidance <= 30:
        raise ValidationFailed(f"guidance must be in 0..30, got {guidance!r}.", field="guidance")
    if not isinstance(scale, (int, float)) or not 0 <= scale <= 2:
        raise ValidationFailed(f"controlnet_scale must be in 0..2, got {scale!r}.", field="controlnet_scale")
    return steps, float(guidance), float(scale)


def check_requests(requests, config, steps, guidance, scale, request_type) -> tuple[int, float, float]:
    if not isinstance(requests, (list, tuple)) or not requests:
        raise ValidationFailed("Give at least one render request.", field="requests")
    if len(requests) > config.batch_size:
        raise ValidationFailed(f"A micro-batch holds at most {config.batch_size} images "
                               f"(ENGINE_BATCH_SIZE); got {len(requests)}.", field="requests")
    for i, r in enumerate(requests):
        if not isinstance(r, request_type):
            raise ValidationFailed(f"Request {i} is a {type(r).__name__}, not a RenderRequest.", field="requests")
    options = check_options(config, steps, guidance, scale)
    for i, r in enumerate(requests):
        check_request(i, r, requests[0], options[0])
    return options
