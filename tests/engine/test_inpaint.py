"""Product inpainting (issue 14) on the tiny engines: the ControlNet inpaint pipelines built from the engine's
own modules, on SD 1.5 and SDXL, with the base 4-channel UNet (legacy inpainting) and a 9-channel inpainting
UNet; the product's opaque pixels come back exactly; a micro-batch equals its images rendered alone."""
from __future__ import annotations

import numpy as np
import pytest
from PIL import Image

from core.errors import ValidationFailed
from engine.inpaint import restore
from engine.pipeline import RenderRequest, get_engine
from engine.tiny import TINY_IP_WEIGHTS, tiny_paths, write_tiny_inpainting_model, write_tiny_ip_adapter
from tests.engine.engine_kit import face, kit_root, noise_image, pixels, product_canvas, settings, skeleton

pytestmark = pytest.mark.filterwarnings("ignore:__array__ implementation doesn't accept a copy:DeprecationWarning")
PIPELINES = {"sd15": "StableDiffusionControlNetInpaintPipeline", "sdxl": "StableDiffusionXLControlNetInpaintPipeline"}


@pytest.fixture(scope="module", autouse=True)
def one_torch_thread():
    import torch

    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


def engine_for(family: str, channels: int):
    if channels == 4:
        return get_engine(settings(engine="tiny" if family == "sd15" else "tiny-sdxl"))
    root = kit_root()
    base = write_tiny_inpainting_model(root / f"inpainting-{family}", tiny_dir=root / "tiny", family=family)
    controlnet = tiny_paths(root / "tiny", family)[1]
    return get_engine(settings(engine=family, **{f"{family}_base_model": str(base),
                                                 f"{family}_controlnet_model": str(controlnet)}))


@pytest.mark.parametrize("family,channels", [("sd15", 4), ("sd15", 9), ("sdxl", 4), ("sdxl", 9)])
def test_the_product_stays_exact_the_rest_is_painted_and_batches_equal_singles(family, channels):
    engine = engine_for(family, channels)
    assert engine.unet_in_channels == channels and engine.describe()["unet_in_channels"] == channels
    canvases = [product_canvas(seed, box) for seed, box in ((1, (20, 24, 44, 52)), (2, (8, 30, 30, 60)),
                                                             (3, (36, 10, 60, 40)))]
    requests = [RenderRequest("a woman holding the product", skeleton(0.05 * i), 30 + i, negative_prompt="blurry",
                              init_image=init, mask_image=mask) for i, (init, mask, _) in enumerate(canvases)]
    requests.append(RenderRequest("a woman", skeleton(-0.1), 40))                      # no product: plain render
    totals = []
    batch = engine.render(requests, progress=lambda done, total: totals.append((done, total)))
    assert totals == [(1, 4), (2, 4), (3, 4), (4, 4)]            # one inpaint call + one plain call, 2 steps each
    pipe = engine.inpaint_pipe
    assert type(pipe).__name__ == PIPELINES[family]
    assert pipe.unet is engine.pipe.unet and pipe.vae is engine.pipe.vae     # the same modules: no second copy
    assert pipe.controlnet is engine.pipe.controlnet
    for result, (init, mask, opaque) in zip(batch, canvases):
        out, init_px = pixels(result.image), pixels(init)
        assert result.mode == "inpaint" and result.image.size == (64, 64)
        assert np.array_equal(out[opaque], init_px[opaque])                 # every opaque product pixel exact
        painted = np.asarray(mask) == 255
        assert np.abs(out[painted] - init_px[painted]).mean() > 10          # the grey canvas was painted over
    assert batch[3].mode == "controlnet"
    for i, request in enumerate(requests):
        assert np.array_equal(pixels(engine.render([request])[0].image), pixels(batch[i].image)), i


def test_an_inpainting_unet_also_renders_plain_poses_and_avatars():
    """A 9-channel UNet cannot run the plain pipelines: every render goes through inpainting (paint all)."""
    engine = engine_for("sd15", 9)
    plain = engine.render([RenderRequest("a person", skeleton(), 7)])[0]
    assert plain.mode == "controlnet" and pixels(plain.image).std() > 5
    avatars = engine.text_to_image("a face", seeds=[1, 2], width=64, height=64)
    assert [a.image.size for a in avatars] == [(64, 64)] * 2
    assert np.abs(pixels(avatars[0].image) - pixels(avatars[1].image)).max() > 0
    assert type(engine._twins["text_inpaint"]).__name__ == "StableDiffusionInpaintPipeline"


@pytest.mark.parametrize("family", ["sd15", "sdxl"])
def test_inpainting_with_the_face_and_garment_adapters_is_one_call_and_exact(family):
    """Issue 14's worn path in one call: init image + mask, the avatar's face and the garment as two adapters."""
    root = kit_root()
    ip = write_tiny_ip_adapter(root / "ip-inpaint", tiny_dir=root / "tiny", family=family)
    face_w, garment_w = TINY_IP_WEIGHTS[family]
    engine = get_engine(settings(engine="tiny" if family == "sd15" else "tiny-sdxl", ip_adapter="auto",
                                 ip_adapter_model=str(ip), ip_adapter_weight=face_w,
                                 garment_ip_adapter_weight=garment_w))
    avatar, garment = face(3), face(4)
    canvases = [product_canvas(seed) for seed in (6, 7)]
    requests = [RenderRequest("a woman wearing the shirt", skeleton(0.05 * i), 50 + i, init_image=init,
                              mask_image=mask, strength=0.5, ip_adapter_image=avatar, garment_image=garment)
                for i, (init, mask, _) in enumerate(canvases)]
    totals = []
    batch = engine.render(requests, progress=lambda done, total: totals.append(total))
    assert set(totals) == {1}                                   # one call: strength 0.5 of 2 steps
    for result, (init, _, opaque) in zip(batch, canvases):
        assert (result.mode, result.likeness, result.garment) == ("inpaint", True, True)
        assert np.array_equal(pixels(result.image)[opaque], pixels(init)[opaque])
    for i, request in enumerate(requests):
        assert np.array_equal(pixels(engine.render([request])[0].image), pixels(batch[i].image)), i


def test_strength_runs_that_share_of_the_steps_and_splits_the_call():
    engine = get_engine(settings(engine_steps=4))
    init, mask, opaque = product_canvas(5)
    full = RenderRequest("a person", skeleton(), 3, init_image=init, mask_image=mask)
    half = RenderRequest("a person", skeleton(), 3, init_image=init, mask_image=mask, strength=0.5)
    totals = []
    a, b = engine.render([full, half], progress=lambda done, total: totals.append(total))
    assert set(totals) == {4 + 2}                                 # 4 steps at strength 1, 2 at 0.5: two calls
    assert np.abs(pixels(a.image) - pixels(b.image)).max() > 0
    assert np.array_equal(pixels(b.image)[opaque], pixels(init)[opaque])
    assert np.array_equal(pixels(engine.render([half])[0].image), pixels(b.image))


@pytest.mark.parametrize("change,message", [
    (dict(mask_image=None), "needs both an init image and a mask image .* only the init image"),
    (dict(init_image=None), "got only the mask image"),
    (dict(mask_image=Image.new("L", (64, 96), 255)), "mask image is 64x96 but the request asks for 64x64"),
    (dict(init_image="canvas.png"), "init image must be a PIL image"),
    (dict(strength=0), r"strength must be in \(0, 1\], got 0"),
    (dict(strength=1.5), r"strength must be in \(0, 1\]"),
    (dict(strength=True), r"strength must be in \(0, 1\]"),
    (dict(strength=0.3), "strength 0.3 of 2 steps runs no step"),
    (dict(init_image=None, mask_image=None, strength=0.6), "strength below 1 keeps part of an init image"),
    (dict(garment_image="shirt.png"), "garment image must be a PIL image"),
])
def test_inpaint_inputs_are_checked_first(change, message):
    engine = get_engine(settings())
    init, mask, _ = product_canvas(1)
    values = {"init_image": init, "mask_image": mask, **change}
    with pytest.raises(ValidationFailed, match=message):
        engine.render([RenderRequest("a person", skeleton(), 1, **values)])


def test_restore_puts_back_exactly_what_the_mask_keeps():
    generated, init = noise_image(1), noise_image(2)
    mask = np.full((64, 64), 255, np.uint8)
    mask[:, :20] = 0
    mask[:, 20:30] = 128
    out = pixels(restore(generated, init, Image.fromarray(mask, "L")))
    assert np.array_equal(out[:, :20], pixels(init)[:, :20])                 # black: the init pixel exactly
    assert np.array_equal(out[:, 30:], pixels(generated)[:, 30:])            # white: the generated pixel
    lo = np.minimum(pixels(init), pixels(generated))[:, 20:30] - 1
    hi = np.maximum(pixels(init), pixels(generated))[:, 20:30] + 1
    assert ((out[:, 20:30] >= lo) & (out[:, 20:30] <= hi)).all()             # grey: a blend of the two
    with pytest.raises(ValueError, match="must have one size"):
        restore(generated, init.resize((32, 32)), Image.fromarray(mask, "L"))
