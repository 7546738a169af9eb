"""Engine settings -> EngineConfig (the engine cache key), size presets, device/dtype choice, model lookup."""
from __future__ import annotations

import pydantic
import pytest

from core.errors import ModelUnavailable
from core.settings import Settings
from core.sizes import parse_sizes
from engine.config import EngineConfig
from engine.sources import ModelRef, Policy, locate


def test_defaults_are_sd15_openpose_from_the_hub():
    config = EngineConfig.from_settings(Settings())
    assert config.engine == "sd15" and config.family == "sd15"
    assert config.base.model_id == "stable-diffusion-v1-5/stable-diffusion-v1-5"
    assert config.controlnet.model_id == "lllyasviel/control_v11p_sd15_openpose"
    assert (config.scheduler, config.steps, config.guidance, config.batch_size) == ("unipc", 25, 7.0, 4)
    assert config.fast_lora is None and config.ip_mode == "auto"
    assert config.size_presets["portrait"] == (512, 768)
    assert hash(config) == hash(EngineConfig.from_settings(Settings()))     # usable as the cache key


def test_sdxl_fast_lora_and_ip_adapter_settings():
    config = EngineConfig.from_settings(Settings(engine="sdxl", fast_lora="latent-consistency/lcm-lora-sdxl",
                                                 fast_lora_steps=4, fast_lora_guidance=1.0, ip_adapter=True,
                                                 sdxl_base_revision="abc123"))
    assert config.base.model_id == "stabilityai/stable-diffusion-xl-base-1.0" and config.base.revision == "abc123"
    assert config.controlnet.model_id == "xinsir/controlnet-openpose-sdxl-1.0"
    assert (config.scheduler, config.steps, config.guidance) == ("lcm", 4, 1.0)    # few-step mode overrides
    assert config.ip_adapter.subfolder == "sdxl_models"
    assert config.ip_adapter.marker == "ip-adapter-plus-face_sdxl_vit-h.safetensors"
    assert config.ip_image_encoder == "models/image_encoder"                       # the ViT-H encoder
    assert config.size_presets["square"] == (1024, 1024)


def test_output_sizes():
    assert parse_sizes("a=512x640,b=768x512", "sd15") == (("a", 512, 640), ("b", 768, 512))
    with pytest.raises(ModelUnavailable, match="multiples of 8"):
        parse_sizes("a=500x640", "sd15")
    with pytest.raises(pydantic.ValidationError):
        Settings(output_sizes="512 by 512")
    assert Settings(fast_lora="", sd15_base_revision="").fast_lora is None          # empty env = unset


def test_device_and_dtype_choice():
    import torch

    from engine.device import resolve_device, resolve_dtype

    assert resolve_dtype("auto", "cpu") == torch.float32
    assert resolve_dtype("auto", "cuda") == torch.float16 and resolve_dtype("bf16", "cuda") == torch.bfloat16
    assert resolve_device("cpu") == "cpu"
    assert resolve_device("auto") in ("cuda", "mps", "cpu")
    if not torch.cuda.is_available():
        with pytest.raises(ModelUnavailable, match="no usable CUDA GPU"):
            resolve_device("cuda")


def test_model_dir_and_hub_cache_are_found_without_network(tmp_path):
    policy = Policy(model_dir=tmp_path / "models", cache_dir=tmp_path / "hf", downloads=False)
    folder = tmp_path / "models" / "acme" / "pose-net"
    folder.mkdir(parents=True)
    (folder / "config.json").write_text("{}")
    source = locate(ModelRef("ControlNet", "SD15_CONTROLNET_MODEL", "acme/pose-net"), policy)
    assert source.is_folder and source.path_or_id == str(folder) and source.kwargs() == {"local_files_only": True}

    snapshot = tmp_path / "hf" / "models--acme--base" / "snapshots" / "0123abcd"
    snapshot.mkdir(parents=True)
    (snapshot / "model_index.json").write_text("{}")
    (tmp_path / "hf" / "models--acme--base" / "refs").mkdir()
    (tmp_path / "hf" / "models--acme--base" / "refs" / "main").write_text("0123abcd")
    cached = locate(ModelRef("base model", "SD15_BASE_MODEL", "acme/base", marker="model_index.json"), policy)
    assert not cached.is_folder and cached.local_files_only                        # cached: no network at all
    assert cached.kwargs() == {"local_files_only": True, "revision": None, "cache_dir": str(tmp_path / "hf")}
