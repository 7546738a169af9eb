"""Pose detector on random weights (the real controlnet_aux code path), the tiny SDXL family, the few-step
LoRA and the IP-Adapter on tiny weights, and their missing-weights behaviour."""
from __future__ import annotations

import numpy as np
import pytest

from core.errors import ModelUnavailable
from engine.pipeline import RenderRequest, get_engine

pytestmark = pytest.mark.filterwarnings("ignore:__array__ implementation doesn't accept a copy:DeprecationWarning")


def pixels(image) -> np.ndarray:
    return np.asarray(image, dtype=np.int16)


# --------------------------------------------------------------------------- pose detector

@pytest.fixture(scope="module")
def detector_dir(tmp_path_factory):
    from engine.detector import write_random_openpose_weights

    return write_random_openpose_weights(tmp_path_factory.mktemp("openpose"))


def test_detector_runs_the_real_network_on_random_weights(detector_dir, make_settings, engine_root, control_images,
                                                          one_thread, no_network):
    from engine.detector import BODY_FILE, get_pose_detector

    settings = make_settings(engine_root, pose_detector=str(detector_dir), pose_detector_resolution=128)
    detector = get_pose_detector(settings)
    assert get_pose_detector(settings) is detector                      # loaded once, cached per process
    assert detector.weights == detector_dir / BODY_FILE and detector.resolution == 128
    poses = detector.detect(control_images[0].resize((128, 128)))
    assert no_network == []                                             # the folder's weights, nothing fetched
    assert isinstance(poses, list)                                      # random weights: usually nobody
    for pose in poses:                                                  # whatever it finds has the stored shape
        assert len(pose) == 18
        assert all(p is None or (len(p) == 3 and all(0 <= v <= 1 for v in p)) for p in pose)


def test_detector_without_weights_says_how_to_get_them(tmp_path, make_settings, no_network):
    from engine.detector import get_pose_detector

    with pytest.raises(ModelUnavailable, match=r"pose check is not available.*body_pose_model\.pth is missing"):
        get_pose_detector(make_settings(tmp_path, pose_detector=str(tmp_path / "empty")))
    hub = make_settings(tmp_path, pose_detector="lllyasviel/Annotators", hf_cache_dir=tmp_path)
    with pytest.raises(ModelUnavailable, match=r"hf download lllyasviel/Annotators"):
        get_pose_detector(hub)
    assert no_network == []                                             # said before any download was tried


# --------------------------------------------------------------------------- SDXL family (tiny)

def test_tiny_sdxl_renders_batches_exactly_and_skips_a_missing_ip_adapter(make_settings, engine_root,
                                                                           control_images, one_thread):
    engine = get_engine(make_settings(engine_root, engine="tiny-sdxl", ip_adapter="auto"))
    facts = engine.describe()
    assert facts["family"] == "sdxl" and type(engine.pipe).__name__ == "StableDiffusionXLControlNetPipeline"
    assert facts["ip_adapter"]["state"] == "missing"
    assert "renders go on without it" in facts["ip_adapter"]["reason"]
    assert "h94/IP-Adapter" in facts["ip_adapter"]["reason"]
    requests = [RenderRequest("a person", control_images[i], 40 + i) for i in range(2)]
    batch = engine.render(requests)
    for i, req in enumerate(requests):
        assert np.array_equal(pixels(engine.render([req])[0].image), pixels(batch[i].image))
    assert engine.text_to_image("a person", seeds=[3], width=64, height=64)[0].image.size == (64, 64)


# --------------------------------------------------------------------------- few-step LoRA + IP-Adapter (tiny)


@pytest.fixture(scope="module")
def extras_engine(make_settings, engine_root, one_thread):
    """Tiny engine with a tiny IP-Adapter and a tiny few-step LoRA (peft is pinned: missing, it fails here)."""
    from engine.tiny import write_tiny_ip_adapter, write_tiny_lora

    tiny = engine_root / "tiny"
    ip = write_tiny_ip_adapter(engine_root / "ip", tiny_dir=tiny)
    lora = dict(fast_lora=str(write_tiny_lora(engine_root / "lora", tiny_dir=tiny)), fast_lora_steps=2,
                fast_lora_guidance=1.5)
    settings = make_settings(engine_root, ip_adapter=True, ip_adapter_model=str(ip),
                             ip_adapter_weight="models/ip-adapter_tiny.safetensors", **lora)
    return get_engine(settings)


def test_few_step_lora_is_fused_with_the_lcm_scheduler(extras_engine, tiny_engine, control_images):
    facts = extras_engine.describe()
    assert facts["scheduler"] == "lcm" and facts["steps"] == 2 and facts["guidance"] == 1.5
    assert facts["fast_lora"]["weight_name"] == "pytorch_lora_weights.safetensors"
    assert type(extras_engine.pipe.scheduler).__name__ == "LCMScheduler"
    assert not any("lora" in name for name, _ in extras_engine.pipe.unet.named_modules())   # fused, unloaded
    fused = extras_engine.pipe.unet.state_dict()
    plain = tiny_engine.pipe.unet.state_dict()
    changed = [k for k in plain if k in fused and not np.array_equal(plain[k].numpy(), fused[k].numpy())]
    assert any("to_q" in k for k in changed)


def test_ip_adapter_conditions_on_the_avatar_and_batches_per_avatar(extras_engine, control_images):
    assert extras_engine.describe()["ip_adapter"] == {
        "state": "on", "reason": None, "model": extras_engine.config.ip_adapter.model_id,
        "weight": "models/ip-adapter_tiny.safetensors", "scale": 0.6}
    rng = np.random.default_rng(0)
    from PIL import Image

    faces = [Image.fromarray(rng.integers(0, 255, (48, 48, 3), dtype=np.uint8)) for _ in range(2)]
    control = control_images[0]
    requests = [RenderRequest("p", control, 9, ip_adapter_image=faces[0]),
                RenderRequest("p", control, 9, ip_adapter_image=faces[1]),
                RenderRequest("p", control, 9),
                RenderRequest("p", control, 10, ip_adapter_image=faces[0])]
    steps = []
    batch = extras_engine.render(requests, progress=lambda done, total: steps.append(total))
    assert set(steps) == {2 * 3}                                      # three avatar groups of 2 steps
    a, b, none = (pixels(r.image) for r in batch[:3])
    assert np.abs(a - b).max() > 0 and np.abs(a - none).max() > 0     # the avatar image changes the picture
    for i, req in enumerate(requests):
        assert np.array_equal(pixels(extras_engine.render([req])[0].image), pixels(batch[i].image)), i
    avatars = extras_engine.text_to_image("a face", seeds=[1, 1], width=64, height=64)      # the unet needs an
    assert np.array_equal(pixels(avatars[0].image), pixels(avatars[1].image))            # image: a blank one
