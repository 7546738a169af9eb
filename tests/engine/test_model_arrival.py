"""Every model arrives the same way (issue 15): found in a folder / MODEL_DIR / the Hub cache, else downloaded
into the Hub cache when MODEL_DOWNLOADS allows, safetensors only, the fp16 files where the device runs fp16,
with progress; else one clear error naming what is missing and how to provide it.

The Hub is tests/hub_server.py: a real HTTP server on 127.0.0.1 speaking the Hub's download protocol, driven
by huggingface_hub's own client (HF_ENDPOINT = the server). The repositories it serves are the run's tiny
random-weight models (plus the files a real repository carries and we must never fetch: pickles, the root
single-file checkpoint, the safety checker), a tiny ONNX net as rembg's u2netp.onnx and random OpenPose
weights.
"""
from __future__ import annotations

import io
import logging
import shutil
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from core.errors import ModelUnavailable
from engine.downloads import FP16, arrive, choose, current, load_kwargs
from engine.sources import ModelRef, Policy
from tests.hub_server import HubServer
from tests.engine import engine_kit

pytestmark = pytest.mark.slow

BASE_ID, CN_ID = "apg-test/tiny-sd15", "apg-test/tiny-openpose"
SD15_LISTING = [
    "model_index.json", "v1-5-pruned.safetensors", "v1-5-pruned.ckpt", "README.md",
    "feature_extractor/preprocessor_config.json",
    "safety_checker/config.json", "safety_checker/model.safetensors", "safety_checker/model.fp16.safetensors",
    "scheduler/scheduler_config.json",
    "text_encoder/config.json", "text_encoder/model.safetensors", "text_encoder/model.fp16.safetensors",
    "text_encoder/pytorch_model.bin",
    "tokenizer/merges.txt", "tokenizer/vocab.json", "tokenizer/tokenizer_config.json",
    "tokenizer/special_tokens_map.json",
    "unet/config.json", "unet/diffusion_pytorch_model.safetensors", "unet/diffusion_pytorch_model.fp16.safetensors",
    "unet/diffusion_pytorch_model.non_ema.safetensors", "unet/diffusion_pytorch_model.bin",
    "vae/config.json", "vae/diffusion_pytorch_model.safetensors", "vae/diffusion_pytorch_model.fp16.safetensors",
]


def base_ref(model_id=BASE_ID):
    return ModelRef("SD 1.5 base model", "SD15_BASE_MODEL", model_id, None, "model_index.json")


def cn_ref(model_id=CN_ID):
    return ModelRef("SD 1.5 OpenPose ControlNet", "SD15_CONTROLNET_MODEL", model_id, None, "config.json")


# --- which files ----------------------------------------------------------------------------------------------
def test_a_pipeline_takes_its_components_safetensors_and_never_pickles_checkpoints_or_the_safety_checker():
    fp32 = choose(SD15_LISTING, base_ref(), fp16=False)
    assert fp32.variant is None
    assert set(fp32.files) == {
        "model_index.json", "feature_extractor/preprocessor_config.json", "scheduler/scheduler_config.json",
        "text_encoder/config.json", "text_encoder/model.safetensors", "tokenizer/merges.txt", "tokenizer/vocab.json",
        "tokenizer/tokenizer_config.json", "tokenizer/special_tokens_map.json", "unet/config.json",
        "unet/diffusion_pytorch_model.safetensors", "vae/config.json", "vae/diffusion_pytorch_model.safetensors"}
    fp16 = choose(SD15_LISTING, base_ref(), fp16=True)
    assert fp16.variant == FP16
    weights = sorted(f for f in fp16.files if f.endswith(".safetensors"))
    assert weights == ["text_encoder/model.fp16.safetensors", "unet/diffusion_pytorch_model.fp16.safetensors",
                       "vae/diffusion_pytorch_model.fp16.safetensors"]
    # a component without an fp16 file: the whole pipeline loads its plain weights (one variant for all)
    no_vae16 = [f for f in SD15_LISTING if f != "vae/diffusion_pytorch_model.fp16.safetensors"]
    assert choose(no_vae16, base_ref(), fp16=True).variant is None


def test_a_controlnet_takes_its_own_folder_and_part_refs_take_exactly_their_part():
    listing = ["config.json", "diffusion_pytorch_model.bin", "diffusion_pytorch_model.fp16.bin",
               "diffusion_pytorch_model.safetensors", "diffusion_pytorch_model.fp16.safetensors", "images/a.png"]
    assert choose(listing, cn_ref(), fp16=True).files == ("config.json", "diffusion_pytorch_model.fp16.safetensors")
    assert choose(listing, cn_ref(), fp16=False).files == ("config.json", "diffusion_pytorch_model.safetensors")
    ip = ["models/ip-adapter-plus-face_sd15.safetensors", "models/ip-adapter-plus-face_sd15.bin",
          "models/image_encoder/config.json", "models/image_encoder/model.safetensors",
          "models/image_encoder/pytorch_model.bin", "sdxl_models/image_encoder/model.safetensors"]
    weight = ModelRef("IP-Adapter", "IP_ADAPTER_MODEL", "h94/IP-Adapter", None, "ip-adapter-plus-face_sd15.safetensors",
                      subfolder="models")
    encoder = ModelRef("IP-Adapter image encoder", "IP_ADAPTER_MODEL", "h94/IP-Adapter", None, "config.json",
                       subfolder="models/image_encoder")
    assert choose(ip, weight, fp16=True).files == ("models/ip-adapter-plus-face_sd15.safetensors",)
    assert choose(ip, encoder, fp16=True).files == ("models/image_encoder/config.json",
                                                    "models/image_encoder/model.safetensors")
    only_pickles = ["config.json", "diffusion_pytorch_model.bin"]
    with pytest.raises(ModelUnavailable) as err:
        choose(only_pickles, cn_ref("someone/old-controlnet"), fp16=False)
    assert "'someone/old-controlnet' has no safetensors weights" in err.value.message
    assert "SD15_CONTROLNET_MODEL" in err.value.message


# --- a local Hub ------------------------------------------------------------------------------------------------
def _fp16_copies(folder: Path) -> None:
    """Each component's weights again as <name>.fp16.safetensors in float16 (what a real repo's variant is)."""
    import torch
    from safetensors.torch import load_file, save_file

    for path in list(folder.rglob("*.safetensors")):
        tensors = {k: v.to(torch.float16) if v.is_floating_point() else v for k, v in load_file(path).items()}
        save_file(tensors, path.with_name(path.name.replace(".safetensors", ".fp16.safetensors")))


@pytest.fixture(scope="module")
def hub(tiny_root, tmp_path_factory):
    """The local Hub serving the tiny SD 1.5 pipeline and ControlNet as Hub repositories (with fp16 variants and
    the files that must never be fetched), rembg's u2netp and the OpenPose body weights."""
    from engine.detector import write_random_openpose_weights
    from tests.tiny_models import build_tiny_u2net_onnx

    root = tmp_path_factory.mktemp("hub")
    base, cn = root / BASE_ID, root / CN_ID
    shutil.copytree(tiny_root / "tiny" / "sd15" / "pipeline", base)
    shutil.copytree(tiny_root / "tiny" / "sd15" / "controlnet", cn)
    _fp16_copies(base)
    _fp16_copies(cn)
    for junk in ("v1-5-pruned.safetensors", "unet/diffusion_pytorch_model.bin", "safety_checker/config.json",
                 "safety_checker/model.safetensors"):
        (base / junk).parent.mkdir(parents=True, exist_ok=True)
        (base / junk).write_bytes(b"never fetched" * 100)
    (cn / "diffusion_pytorch_model.bin").write_bytes(b"never fetched")
    (root / "apg-test" / "rembg").mkdir(parents=True)
    build_tiny_u2net_onnx(root / "apg-test" / "rembg" / "u2netp.onnx")
    write_random_openpose_weights(root / "apg-test" / "annotators")
    with HubServer(root) as server:
        yield server


@pytest.fixture
def online(monkeypatch):
    """The test run is offline (HF_HUB_OFFLINE=1); these tests reach the local Hub only."""
    from huggingface_hub import constants

    monkeypatch.setattr(constants, "HF_HUB_OFFLINE", False)


def sd15_settings(hub, tmp_path, **values):
    return engine_kit.settings(engine="sd15", sd15_base_model=BASE_ID, sd15_controlnet_model=CN_ID,
                               hf_cache_dir=tmp_path / "hf", hf_endpoint=hub.url, model_downloads=True,
                               engine_device="cpu", engine_dtype="fp32", **values)


def test_the_engine_downloads_what_it_needs_once_then_loads_offline_and_renders(hub, online, tmp_path):
    from engine.build import load_pipeline
    from engine.config import EngineConfig

    settings = sd15_settings(hub, tmp_path)
    hub.requests.clear()
    loaded = load_pipeline(EngineConfig.from_settings(settings))
    fetched = hub.fetched()
    assert "model_index.json" in fetched and "unet/diffusion_pytorch_model.safetensors" in fetched
    assert "config.json" in fetched and "diffusion_pytorch_model.safetensors" in fetched     # the ControlNet
    never = [f for f in fetched if f.endswith((".bin", ".ckpt", ".fp16.safetensors")) or
             f.startswith("safety_checker/") or f == "v1-5-pruned.safetensors"]
    assert never == []                                     # fp32 on CPU: the plain weights, no pickles
    assert loaded.facts["base_model"]["id"] == BASE_ID and loaded.facts["base_model"]["commit"] == hub.commit(BASE_ID)
    control = Image.new("RGB", (64, 64))
    out = loaded.pipe("a person", image=control, num_inference_steps=1, height=64, width=64,
                      generator=__import__("torch").Generator().manual_seed(0)).images[0]
    assert out.size == (64, 64) and np.asarray(out).std() > 0

    hub.requests.clear()     # a second process start: everything is in the Hub cache, no request at all
    load_pipeline(EngineConfig.from_settings(settings))
    assert hub.requests == []
    assert current(Policy(cache_dir=tmp_path / "hf")) == []     # no download left "in flight"


def test_fp16_devices_get_the_fp16_files_and_load_them(hub, online, tmp_path):
    import torch
    import diffusers

    policy = Policy(cache_dir=tmp_path / "hf", endpoint=hub.url)
    hub.requests.clear()
    source = arrive(base_ref(), policy, fp16=True)
    weights = [f for f in hub.fetched() if f.endswith(".safetensors")]
    assert weights and all(f.endswith(".fp16.safetensors") for f in weights)
    assert load_kwargs(source, policy, fp16=True) == {"variant": "fp16"}
    pipe = diffusers.StableDiffusionPipeline.from_pretrained(source.path_or_id, **source.kwargs(), variant="fp16",
                                                             safety_checker=None, requires_safety_checker=False)
    from safetensors.torch import load_file

    half = load_file(hub.files(BASE_ID)["unet/diffusion_pytorch_model.fp16.safetensors"])
    full = load_file(hub.files(BASE_ID)["unet/diffusion_pytorch_model.safetensors"])
    name = "conv_in.weight"
    assert half[name].dtype == torch.float16
    assert torch.equal(pipe.unet.state_dict()[name], half[name].float())   # the variant's own weights
    assert not torch.equal(half[name].float(), full[name])
    # the same cache on an fp32 device: loads what is there (fp16 upcast by the dtype), no second download
    hub.requests.clear()
    again = arrive(base_ref(), policy, fp16=False)
    assert hub.requests == [] and load_kwargs(again, policy, fp16=False) == {"variant": "fp16"}


def test_a_download_reports_its_progress_to_every_process_sharing_the_cache(hub, online, tmp_path, caplog):
    policy = Policy(cache_dir=tmp_path / "hf", endpoint=hub.url)
    seen, shared = [], []

    def watch(progress):
        seen.append((progress.done, progress.total))
        shared.append(current(Policy(cache_dir=tmp_path / "hf")))   # what another process reading the cache sees

    hub.chunk_delay = 0.02
    try:
        with caplog.at_level(logging.INFO, logger="engine.downloads"):
            arrive(cn_ref(), policy, fp16=False, on_progress=watch)
    finally:
        hub.chunk_delay = 0.0
    total = sum(p.stat().st_size for n, p in hub.files(CN_ID).items()
                if n in ("config.json", "diffusion_pytorch_model.safetensors"))
    assert seen[-1] == (total, total) and seen[0][0] < total
    assert [d for d, _ in seen] == sorted(d for d, _ in seen)                     # never goes backwards
    assert all(len(s) == 1 and s[0]["model"] == CN_ID and s[0]["total"] == total for s in shared)
    assert any(0 < s[0]["done"] < total for s in shared)                          # seen part-way
    assert current(policy) == []                                                  # gone once it ended
    logged = [r.getMessage() for r in caplog.records]
    assert any(m.startswith(f"Downloading the SD 1.5 OpenPose ControlNet '{CN_ID}' (") and " of " in m
               for m in logged)
    from engine.downloads import status_message
    from ui.i18n import message_text

    msg = status_message({"role": "SD 1.5 base model", "model": BASE_ID, "done": int(1.7 * 2 ** 30),
                          "total": int(2.1 * 2 ** 30)})
    assert msg.english == f"Downloading the SD 1.5 base model '{BASE_ID}' (1.7 GB of 2.1 GB)"
    assert message_text(msg, "id") == f"Mengunduh model dasar SD 1.5 '{BASE_ID}' (1,7 GB dari 2,1 GB)"


def test_missing_weights_say_what_where_and_why_not_downloaded(hub, tmp_path, monkeypatch):
    from huggingface_hub import constants

    off = Policy(cache_dir=tmp_path / "hf", downloads=False, endpoint=hub.url)
    with pytest.raises(ModelUnavailable) as err:
        arrive(base_ref(), off)
    text = err.value.message
    assert f"'{BASE_ID}'" in text and "MODEL_DOWNLOADS=false" in text and str(tmp_path / "hf") in text
    monkeypatch.setattr(constants, "HF_HUB_OFFLINE", True)
    with pytest.raises(ModelUnavailable) as err:
        arrive(base_ref(), Policy(cache_dir=tmp_path / "hf", endpoint=hub.url))
    assert "HF_HUB_OFFLINE is set" in err.value.message and f"hf download {BASE_ID}" in err.value.message
    monkeypatch.setattr(constants, "HF_HUB_OFFLINE", False)
    with pytest.raises(ModelUnavailable) as err:          # reachable, but the repository is not there
        arrive(base_ref("apg-test/no-such-model"), Policy(cache_dir=tmp_path / "hf", endpoint=hub.url))
    assert "'apg-test/no-such-model'" in err.value.message
    assert not list((tmp_path / "hf").glob("models--apg-test--no-such-model/snapshots/*/*"))


def test_rembg_weights_arrive_into_the_hub_cache_and_cut_out(hub, online, tmp_path):
    from core.catalog.background import cut_out
    from core.settings import Settings
    from engine import background

    background.clear_sessions()
    settings = Settings(rembg_model="u2netp", rembg_home=tmp_path / "rembg-empty", rembg_repo="apg-test/rembg",
                        hf_cache_dir=tmp_path / "hf", hf_endpoint=hub.url, model_downloads=True)
    (tmp_path / "rembg-empty").mkdir()
    photo = Image.new("RGB", (200, 160), (255, 255, 255))
    photo.paste((200, 30, 40), (40, 40, 160, 120))
    buf = io.BytesIO()
    photo.save(buf, "PNG")
    hub.requests.clear()
    try:
        result = cut_out(buf.getvalue(), settings=settings)
        assert hub.fetched() == ["u2netp.onnx"]
        assert result.coverage == pytest.approx(0.3, abs=0.03)
        cached = list((tmp_path / "hf").glob("models--apg-test--rembg/snapshots/*/u2netp.onnx"))
        assert len(cached) == 1 and cached[0].read_bytes() == hub.files("apg-test/rembg")["u2netp.onnx"].read_bytes()
        background.clear_sessions()
        hub.requests.clear()
        background.session_for(settings)                   # found in the cache now: no request
        assert hub.requests == []
        # downloads off and not cached: the message names the file, the folders and the reason
        background.clear_sessions()
        off = settings.model_copy(update={"model_downloads": False, "hf_cache_dir": tmp_path / "hf2"})
        with pytest.raises(ModelUnavailable) as err:
            background.session_for(off)
        assert "'u2netp.onnx'" in err.value.message and "MODEL_DOWNLOADS=false" in err.value.message
    finally:
        background.clear_sessions()


def test_the_pose_detector_weights_arrive_the_same_way(hub, online, tmp_path):
    from core.settings import Settings
    from engine.detector import BODY_FILE, find_detector_weights

    settings = Settings(pose_detector="apg-test/annotators", hf_cache_dir=tmp_path / "hf", hf_endpoint=hub.url,
                        model_downloads=True)
    hub.requests.clear()
    path, _ = find_detector_weights(settings)
    assert hub.fetched() == [BODY_FILE] and path.read_bytes() == hub.files("apg-test/annotators")[BODY_FILE].read_bytes()


# --- python app.py download-models ---------------------------------------------------------------------------
def _cli(hub, tmp_path, cache, *extra, offline=False, **values):
    import os
    import subprocess
    import sys

    from tests.support import settings_env

    rembg_home = tmp_path / "rembg-empty"
    rembg_home.mkdir(exist_ok=True)
    env = {k: v for k, v in os.environ.items() if not k.startswith(("HF_", "ENGINE", "SD15_", "REMBG_"))}
    env.update(settings_env(dict(engine="sd15", sd15_base_model=BASE_ID, sd15_controlnet_model=CN_ID,
                                 hf_cache_dir=cache, hf_endpoint=hub.url, model_downloads=True, engine_device="cpu",
                                 ip_adapter="false", pose_detector="apg-test/annotators", rembg_model="u2netp",
                                 rembg_repo="apg-test/rembg", rembg_home=rembg_home,
                                 storage_dir=tmp_path / "files", **values)))
    env["HF_HUB_OFFLINE"] = "1" if offline else "0"
    root = Path(__file__).resolve().parents[2]
    return subprocess.run([sys.executable, "app.py", "download-models", *extra], cwd=root, env=env,
                          capture_output=True, text=True, timeout=300)


def test_download_models_prefetches_everything_then_is_a_no_op_and_offline_lists_what_is_missing(hub, tmp_path):
    cache = tmp_path / "hf"
    hub.requests.clear()
    first = _cli(hub, tmp_path, cache)
    assert first.returncode == 0, first.stderr
    lines = {ln.split()[0]: ln for ln in first.stdout.splitlines()[1:]}
    assert set(lines) == {"base", "controlnet", "pose-detector", "background-removal"}   # IP_ADAPTER=false
    for name in lines:
        assert ": downloaded, " in lines[name] and str(cache) in lines[name], lines[name]
    assert f"{BASE_ID}: downloaded, " in lines["base"] and "kB in " in lines["base"]
    assert "u2netp (u2netp.onnx): downloaded" in lines["background-removal"]
    assert "B/s" in first.stderr or "100%" in first.stderr            # the progress bars, on stderr
    assert any(f.endswith("diffusion_pytorch_model.safetensors") for f in hub.fetched())

    hub.requests.clear()
    again = _cli(hub, tmp_path, cache)
    asked = [p for _, p in hub.requests if p.startswith("/api/models/") or "/resolve/" in p]
    assert again.returncode == 0 and asked == []                      # a no-op: no model asked of the Hub
    assert all(": already here, " in ln for ln in again.stdout.splitlines()[1:]), again.stdout

    only = _cli(hub, tmp_path, tmp_path / "other-cache", "--only", "controlnet", offline=True)
    assert only.returncode == 1
    assert only.stdout.splitlines()[1].startswith("controlnet") and len(only.stdout.splitlines()) == 2
    assert f"{CN_ID}: MISSING." in only.stdout and "HF_HUB_OFFLINE is set" in only.stdout
    assert "hf download apg-test/tiny-openpose" in only.stdout and "1 model(s) missing: controlnet" in only.stderr
    bad = _cli(hub, tmp_path, cache, "--only", "unet")
    assert bad.returncode == 2 and "unknown model name(s) unet" in bad.stderr
