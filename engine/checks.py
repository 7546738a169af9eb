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
            raise ValidationFailed("checks.side", field=name, side=name, low=MIN_SIDE, high=MAX_SIDE, value=v)


def _image(i: int, value, label: str, field: str) -> None:
    from PIL import Image

    if value is not None and not isinstance(value, Image.Image):
        raise ValidationFailed("checks.not_an_image", field=field, request=i, image_role=label)


def check_request(i: int, r, first, steps: int) -> None:
    """One request of a micro-batch (`first` is request 0: all share its size)."""
    from PIL import Image

    if not isinstance(r.prompt, str) or not isinstance(r.negative_prompt, str):
        raise ValidationFailed("checks.prompt_not_text", field="prompt", request=i)
    if not isinstance(r.control_image, Image.Image):
        raise ValidationFailed("checks.not_an_image", field="control_image", request=i, image_role="control image")
    _image(i, r.ip_adapter_image, "IP-Adapter image", "ip_adapter_image")
    _image(i, r.garment_image, "garment image", "garment_image")
    _image(i, r.init_image, "init image", "init_image")
    _image(i, r.mask_image, "mask image", "mask_image")
    if isinstance(r.seed, bool) or not isinstance(r.seed, int) or not 0 <= r.seed <= MAX_SEED:
        raise ValidationFailed("checks.seed", field="seed", request=i, value=r.seed)
    check_size(*r.size)
    if r.control_image.size != r.size:
        raise ValidationFailed("checks.control_size", field="control_image", request=i,
                               width=r.control_image.size[0], height=r.control_image.size[1],
                               want_width=r.size[0], want_height=r.size[1])
    if r.size != first.size:
        raise ValidationFailed("checks.mixed_sizes", field="requests", first_width=first.size[0],
                               first_height=first.size[1], request=i, width=r.size[0], height=r.size[1])
    if (r.init_image is None) != (r.mask_image is None):
        raise ValidationFailed("checks.inpaint_pair", field="mask_image", request=i,
                               only="init" if r.mask_image is None else "mask")
    for name in ("init_image", "mask_image"):
        image = getattr(r, name)
        if image is not None and image.size != r.size:
            raise ValidationFailed("checks.image_size", field=name, request=i, image_role=name.replace("_", " "),
                                   width=image.size[0], height=image.size[1], want_width=r.size[0],
                                   want_height=r.size[1])
    strength = r.strength
    if isinstance(strength, bool) or not isinstance(strength, (int, float)) or not 0 < strength <= 1:
        raise ValidationFailed("checks.strength_range", field="strength", request=i, value=strength)
    if strength < 1 and r.init_image is None:
        raise ValidationFailed("checks.strength_needs_init", field="strength", request=i)
    if int(steps * strength) < 1:
        raise ValidationFailed("checks.strength_no_step", field="strength", request=i, strength=strength,
                               steps=steps, least=1 / steps)


def check_options(config, steps, guidance, scale) -> tuple[int, float, float]:
    steps = config.steps if steps is None else steps
    guidance = config.guidance if guidance is None else guidance
    scale = config.controlnet_scale if scale is None else scale
    if isinstance(steps, bool) or not isinstance(steps, int) or not 1 <= steps <= 150:
        raise ValidationFailed("checks.steps", field="steps", value=steps)
    if not isinstance(guidance, (int, float)) or not 0 <= guidance <= 30:
        raise ValidationFailed("checks.guidance", field="guidance", value=guidance)
    if not isinstance(scale, (int, float)) or not 0 <= scale <= 2:
        raise ValidationFailed("checks.controlnet_scale", field="controlnet_scale", value=scale)
    return steps, float(guidance), float(scale)


def check_requests(requests, config, steps, guidance, scale, request_type) -> tuple[int, float, float]:
    if not isinstance(requests, (list, tuple)) or not requests:
        raise ValidationFailed("checks.no_requests", field="requests")
    if len(requests) > config.batch_size:
        raise ValidationFailed("checks.batch_too_big", field="requests", most=config.batch_size,
                               count=len(requests))
    for i, r in enumerate(requests):
        if not isinstance(r, request_type):
            raise ValidationFailed("checks.not_a_request", field="requests", request=i, got=type(r).__name__)
    options = check_options(config, steps, guidance, scale)
    for i, r in enumerate(requests):
        check_request(i, r, requests[0], options[0])
    return options
