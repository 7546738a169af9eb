"""The generation engine with tiny random-weight models: the real from_pretrained path, 64x64, 2 steps."""
from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from core.errors import ModelUnavailable, ValidationFailed
from engine.pipeline import RenderRequest, get_engine, loaded_engines, size_presets

ROOT = Path(__file__).resolve().parents[2]
pytestmark = pytest.mark.filterwarnings("ignore:__array__ implementation doesn't accept a copy:DeprecationWarning")


def pixels(image) -> np.ndarray:
    return np.asarray(image, dtype=np.int16)


def request(control, seed, prompt="a person holding a red mug, studio photo", **kw) -> RenderRequest:
    return RenderRequest(prompt, control, seed, negative_prompt="blurry", **kw)


def test_importing_the_engine_costs_no_torch_and_missing_weights_fail_before_it(tmp_path):
    # A fresh interpreter with a socket guard: every connection attempt is recorded and refused.
    code = f"""
import socket, sys
attempts = []
def refuse(self, address, *args, **kwargs):
    attempts.append(repr(address))
    raise OSError("network access attempted")
socket.socket.connect = socket.socket.connect_ex = refuse
import engine.pipeline, engine.detector, engine.tiny, engine.build, engine.config, engine.device, engine.sources
from core.errors import ModelUnavailable
from core.settings import Settings
from engine.pipeline import get_engine, size_presets
s = Settings(engine="sd15", sd15_base_model="acme/no-such-model", hf_cache_dir={str(tmp_path)!r}, model_downloads=False)
assert size_presets(s)["portrait"] == (512, 768)
try:
    get_engine(s)
except ModelUnavailable as exc:
    print(exc.status, len(attempts))
heavy = sorted(m for m in ("torch", "diffusers", "transformers", "controlnet_aux") if m in sys.modules)
print(heavy)
"""
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    status, attempts, heavy = out.stdout.split()[0], out.stdout.split()[1], out.stdout.strip().splitlines()[-1]
    assert heavy == "[]", f"importing the engine pulled in {heavy}"   # the answer came before torch was imported
    assert status == "503" and attempts == "0"                         # ... and without asking the network


def test_missing_weights_say_what_where_and_how(tmp_path, make_settings, no_network):
    empty = tmp_path / "hf"
    empty.mkdir()
    settings = make_settings(tmp_path, engine="sd15", sd15_base_model="acme/no-such-model", hf_cache_dir=empty,
                               model_dir=tmp_path / "models")
    before = loaded_engines()
    with pytest.raises(ModelUnavailable) as err:
        get_engine(settings)
    assert no_network == [] and loaded_engines() == before                   # nothing fetched, nothing cached
    message = err.value.message
    assert err.value.status == 503
    for part in ("'acme/no-such-model'", str(empty), str(tmp_path / "models" / "acme" / "no-such-model"),
                 "MODEL_DOWNLOADS=false", "`hf download acme/no-such-model`", "HF_HOME", "MODEL_DIR",
                 "SD15_BASE_MODEL"):
        assert part in message, part

    folder = make_settings(tmp_path, engine="sd15", sd15_base_model=str(tmp_path / "nowhere"))
    with pytest.raises(ModelUnavailable, match=r"base model folder .*nowhere does not hold the model "
                                               r"\(model_index\.json is missing\)"):
        get_engine(folder)

    sdxl = make_settings(tmp_path, engine="sdxl", hf_cache_dir=empty)
    with pytest.raises(ModelUnavailable, match="stable-diffusion-xl-base-1.0"):
        get_engine(sdxl)


def test_offline_hub_is_named_as_the_reason(tmp_path, make_settings):
    from engine import sources

    if not sources.hub_offline():
        pytest.skip("huggingface_hub was imported before HF_HUB_OFFLINE=1 was set")
    settings = make_settings(tmp_path, engine="sd15", model_downloads=True, hf_cache_dir=tmp_path)
    with pytest.raises(ModelUnavailable, match="HF_HUB_OFFLINE is set"):
        get_engine(settings)


def test_tiny_models_are_written_once_and_loaded_like_real_ones(tiny_engine, tiny_settings):
    base = Path(tiny_settings.tiny_model_dir) / "sd15" / "pipeline"
    facts = tiny_engine.describe()
    assert facts["base_model"]["path"] == str(base) and facts["base_model"]["revision"] == "local"
    assert facts["controlnet"]["path"] == str(base.parent / "controlnet")
    assert (base / "tokenizer" / "vocab.json").is_file() and (base / "tokenizer" / "merges.txt").is_file()
    index = json.loads((base / "model_index.json").read_text())
    assert index["_class_name"] == "StableDiffusionPipeline" and "controlnet" not in index
    json.dumps(facts)                                                        # manifests store it as is
    assert (facts["device"], facts["dtype"], facts["scheduler"], facts["steps"]) == ("cpu", "fp32", "unipc", 2)
    assert facts["exact_batches"] is True
    # IP_ADAPTER=auto (the default) with no adapter weights and downloads off: off, and it says why
    assert facts["ip_adapter"]["state"] == "missing" and "IP-Adapter" in facts["ip_adapter"]["reason"]
    assert type(tiny_engine.pipe).__name__ == "StableDiffusionControlNetPipeline"
    assert type(tiny_engine.pipe.scheduler).__name__ == "UniPCMultistepScheduler"

    from engine.tiny import ensure_tiny_models

    marker = base.parent / "tiny-engine.json"
    before = marker.stat().st_mtime_ns
    ensure_tiny_models(tiny_settings.tiny_model_dir)
    assert marker.stat().st_mtime_ns == before                                # idempotent: not rebuilt
    assert get_engine(tiny_settings) is tiny_engine                           # one per process per settings
    assert size_presets(tiny_settings) == {"square": (64, 64), "portrait": (64, 96), "landscape": (96, 64)}


def test_same_seed_same_pixels_different_seed_different(tiny_engine, control_images):
    a = tiny_engine.render([request(control_images[0], 7)])[0]
    b = tiny_engine.render([request(control_images[0], 7)])[0]
    c = tiny_engine.render([request(control_images[0], 8)])[0]
    assert a.image.size == (64, 64) and a.image.mode == "RGB" and a.seed == 7
    assert np.array_equal(pixels(a.image), pixels(b.image))
    assert np.abs(pixels(a.image) - pixels(c.image)).mean() > 1
    assert pixels(a.image).std() > 5                     # a picture, not a flat fill
    assert set(a.timings) == {"batch_s", "per_image_s", "batch_size", "steps"}


def test_a_batch_equals_its_images_rendered_alone(tiny_engine, control_images):
    requests = [request(control_images[i], 100 + i, prompt=p)
                for i, p in enumerate(["a woman in a red coat", "a man with a hat", "green dress"])]
    steps = []
    batch = tiny_engine.render(requests, progress=lambda done, total: steps.append((done, total)))
    assert steps == [(1, 2), (2, 2)]
    assert [r.seed for r in batch] == [100, 101, 102] and batch[0].timings["batch_size"] == 3
    for i, req in enumerate(requests):
        alone = tiny_engine.render([req])[0]
        assert np.abs(pixels(alone.image) - pixels(batch[i].image)).max() == 0, f"image {i}"


def test_the_control_image_steers_the_picture(tiny_engine, control_images):
    one = tiny_engine.render([request(control_images[1], 5)])[0]
    other = tiny_engine.render([request(control_images[2], 5)])[0]
    off = tiny_engine.render([request(control_images[1], 5)], controlnet_scale=0.0)[0]
    assert np.abs(pixels(one.image) - pixels(other.image)).mean() > 0.5     # ~1.1 on the tiny model
    assert np.abs(pixels(one.image) - pixels(off.image)).mean() > 2         # ~6


def test_text_to_image_shares_the_weights(tiny_engine):
    out = tiny_engine.text_to_image("portrait of a smiling woman", seeds=[1, 2, 3, 4, 5], width=64, height=64)
    assert [r.seed for r in out] == [1, 2, 3, 4, 5] and out[0].image.size == (64, 64)
    assert np.abs(pixels(out[0].image) - pixels(out[1].image)).mean() > 1
    assert out[0].timings["batch_size"] == 4 and out[4].timings["batch_size"] == 1    # micro-batched
    t2i = tiny_engine.text_pipe
    assert t2i.unet is tiny_engine.pipe.unet and t2i.vae is tiny_engine.pipe.vae        # no second copy
    assert next(t2i.unet.parameters()).dtype == next(tiny_engine.pipe.unet.parameters()).dtype
    again = tiny_engine.text_to_image("portrait of a smiling woman", seeds=[5], width=64, height=64)
    assert np.array_equal(pixels(again[0].image), pixels(out[4].image))


@pytest.mark.parametrize("bad, message", [
    (lambda c: [], "at least one"),
    (lambda c: [request(c, i) for i in range(5)], "at most 4 images"),
    (lambda c: [request(c, -1)], "seed must be an integer"),
    (lambda c: [request(c, 1.5)], "seed must be an integer"),
    (lambda c: [request(c.resize((60, 64)), 1)], "width must be a multiple of 8"),
    (lambda c: [request(c, 1, width=64, height=96)], "control image is 64x64 but the request asks for 64x96"),
    (lambda c: [request(c, 1), request(c.resize((64, 96)), 2)], "share one size"),
    (lambda c: [request("not an image", 1)], "must be a PIL image"),
    (lambda c: [request(c, 1, prompt=None)], "must be text"),
])
def test_inputs_are_checked_first(tiny_engine, control_images, bad, message):
    with pytest.raises(ValidationFailed, match=message):
        tiny_engine.render(bad(control_images[0]))


def test_call_options_are_checked(tiny_engine, control_images):
    with pytest.raises(ValidationFailed, match="steps must be"):
        tiny_engine.render([request(control_images[0], 1)], steps=0)
    with pytest.raises(ValidationFailed, match="guidance must be"):
        tiny_engine.render([request(control_images[0], 1)], guidance=99)
    with pytest.raises(ValidationFailed, match="height must be a multiple of 8"):
        tiny_engine.text_to_image("x", seeds=[1], width=64, height=70)


def test_one_engine_per_settings_shared_by_threads(make_settings, engine_root, control_images, one_thread):
    from concurrent.futures import ThreadPoolExecutor

    settings = make_settings(engine_root, engine_steps=3)
    with ThreadPoolExecutor(4) as pool:
        engines = list(pool.map(lambda _: get_engine(settings), range(4)))
    assert all(e is engines[0] for e in engines) and engines[0].describe()["steps"] == 3
    engine = engines[0]
    requests = [request(control_images[i % 3], 200 + i) for i in range(4)]
    serial = [engine.render([r])[0] for r in requests]
    with ThreadPoolExecutor(2) as pool:                       # calls are serialised by the engine's lock
        threaded = list(pool.map(lambda r: engine.render([r])[0], requests))
    for a, b in zip(serial, threaded):
        assert np.array_equal(pixels(a.image), pixels(b.image))
