"""Tiny random-weight Stable Diffusion + ControlNet models, written to disk in the diffusers layout so the
engine loads them through the SAME `from_pretrained` calls as real weights (DESIGN rule 7).

    from engine.tiny import ensure_tiny_models
    base, controlnet = ensure_tiny_models(folder, family="sd15")   # folder/<family>/{pipeline,controlnet}

The shapes are those of diffusers' own fast tests (tests/pipelines/controlnet/test_controlnet.py
`get_dummy_components()`), every module seeded, so every machine builds the same weights. The tokenizer
is a real CLIP BPE tokenizer written as vocab.json + merges.txt with a word-level vocabulary of common
English (engine.tiny_text: one token per common word, byte symbols for the rest), so prompt budgets
measured on the tiny engine are realistic.
The scheduler config is Stable Diffusion 1.5's, so the engine's scheduler swap runs as it does for
real weights. The VAE only downsamples x2: keep tiny renders at 64x64 (512x512 takes ~40 s on a CPU).

Writing is idempotent and atomic: built in a temporary sibling folder, then renamed into place; a
folder that is already complete (its marker file present) is reused as is.

Extras for tests and smoke runs of the optional paths: write_tiny_lora(folder) (a few-step LoRA for
FAST_LORA; needs peft) and write_tiny_ip_adapter(folder) (an IP-Adapter + image encoder in
h94/IP-Adapter's layout for IP_ADAPTER_MODEL).
"""
from __future__ import annotations

import json
import os
import shutil
import tempfile
import threading
from pathlib import Path

from engine.tiny_text import fingerprint, tiny_vocab, write_tiny_tokenizer

__all__ = ["ensure_tiny_models", "tiny_paths", "tiny_vocab", "write_tiny_tokenizer", "write_tiny_lora",
           "write_tiny_ip_adapter", "write_tiny_inpainting_model"]

FAMILIES = ("sd15", "sdxl")
MARKER = "tiny-engine.json"
VERSION = 3                           # bump when the shapes change: old folders are rebuilt (3: word vocab)
_lock = threading.Lock()

# Stable Diffusion 1.5's scheduler/scheduler_config.json (PNDM), as the hub ships it.
SD_SCHEDULER = dict(beta_start=0.00085, beta_end=0.012, beta_schedule="scaled_linear", num_train_timesteps=1000,
                    set_alpha_to_one=False, skip_prk_steps=True, steps_offset=1, trained_betas=None)
# SDXL base's (Euler discrete).
SDXL_SCHEDULER = dict(beta_start=0.00085, beta_end=0.012, beta_schedule="scaled_linear", num_train_timesteps=1000,
                      interpolation_type="linear", prediction_type="epsilon",
                      steps_offset=1, timestep_spacing="leading", use_karras_sigmas=False)


def _text_encoder(projection: bool = False, hidden: int = 32):
    from transformers import CLIPTextConfig, CLIPTextModel, CLIPTextModelWithProjection

    vocab = tiny_vocab()
    config = CLIPTextConfig(bos_token_id=vocab["<|startoftext|>"], eos_token_id=vocab["<|endoftext|>"],
                            pad_token_id=vocab["<|endoftext|>"], hidden_size=hidden, intermediate_size=37,
                            layer_norm_eps=1e-05, num_attention_heads=4, num_hidden_layers=5, vocab_size=len(vocab),
                            hidden_act="gelu", projection_dim=32)
    return (CLIPTextModelWithProjection if projection else CLIPTextModel)(config)


def _vae():
    from diffusers import AutoencoderKL

    return AutoencoderKL(block_out_channels=[4, 8], in_channels=3, out_channels=3,
                         down_block_types=["DownEncoderBlock2D", "DownEncoderBlock2D"],
                         up_block_types=["UpDecoderBlock2D", "UpDecoderBlock2D"], latent_channels=4, norm_num_groups=2)


# The tiny UNets (diffusers' fast-test shapes). in_channels 9: an inpainting UNet (latents + mask + masked image).
SD15_UNET = dict(block_out_channels=(4, 8), layers_per_block=2, sample_size=32, in_channels=4, out_channels=4,
                 down_block_types=("DownBlock2D", "CrossAttnDownBlock2D"),
                 up_block_types=("CrossAttnUpBlock2D", "UpBlock2D"), cross_attention_dim=32, norm_num_groups=1)
SDXL_UNET = dict(block_out_channels=(32, 64), layers_per_block=2, sample_size=32, in_channels=4, out_channels=4,
                 down_block_types=("DownBlock2D", "CrossAttnDownBlock2D"),
                 up_block_types=("CrossAttnUpBlock2D", "UpBlock2D"), attention_head_dim=(2, 4),
                 use_linear_projection=True, addition_embed_type="text_time", addition_time_embed_dim=8,
                 transformer_layers_per_block=(1, 2), projection_class_embeddings_input_dim=80, cross_attention_dim=64)


def _unet(family: str, torch, in_channels: int = 4):
    from diffusers import UNet2DConditionModel

    torch.manual_seed(0)
    return UNet2DConditionModel(**{**(SDXL_UNET if family == "sdxl" else SD15_UNET), "in_channels": in_channels})


def _sd15_components(torch) -> tuple[dict, object]:
    from diffusers import ControlNetModel, PNDMScheduler

    unet = _unet("sd15", torch)
    torch.manual_seed(0)
    controlnet = ControlNetModel(block_out_channels=(4, 8), layers_per_block=2, in_channels=4,
                                 down_block_types=("DownBlock2D", "CrossAttnDownBlock2D"), cross_attention_dim=32,
                                 conditioning_embedding_out_channels=(16, 32), norm_num_groups=1)
    _liven(controlnet, torch)
    torch.manual_seed(0)
    vae = _vae()
    torch.manual_seed(0)
    text_encoder = _text_encoder()
    components = {"unet": unet, "vae": vae, "text_encoder": text_encoder,
                  "scheduler": PNDMScheduler(**SD_SCHEDULER)}
    return components, controlnet


def _sdxl_components(torch) -> tuple[dict, object]:
    from diffusers import ControlNetModel, EulerDiscreteScheduler

    common = {k: v for k, v in SDXL_UNET.items() if k not in ("sample_size", "out_channels", "up_block_types")}
    unet = _unet("sdxl", torch)
    torch.manual_seed(0)
    controlnet = ControlNetModel(conditioning_embedding_out_channels=(16, 32), **common)
    _liven(controlnet, torch)
    torch.manual_seed(0)
    vae = _vae()
    torch.manual_seed(0)
    text_encoder = _text_encoder()
    torch.manual_seed(0)
    text_encoder_2 = _text_encoder(projection=True)
    components = {"unet": unet, "vae": vae, "text_encoder": text_encoder, "text_encoder_2": text_encoder_2,
                  "scheduler": EulerDiscreteScheduler(**SDXL_SCHEDULER)}
    return components, controlnet


def _liven(controlnet, torch) -> None:
    """A fresh ControlNet's zero convolutions (the condition embedding's last conv and the residual outputs)
    make it a no-op; give them seeded weights (as diffusers' multi-ControlNet tests do) so the control image
    visibly steers the tiny model."""
    torch.manual_seed(1)
    zero_convs = [controlnet.controlnet_cond_embedding.conv_out, *controlnet.controlnet_down_blocks,
                  controlnet.controlnet_mid_block]
    for module in zero_convs:
        torch.nn.init.normal_(module.weight, std=2.0)
        torch.nn.init.normal_(module.bias, std=0.1)


def _build(target: Path, family: str) -> None:
    import torch
    from diffusers import StableDiffusionControlNetPipeline, StableDiffusionXLControlNetPipeline
    from transformers import CLIPTokenizer

    build = _sdxl_components if family == "sdxl" else _sd15_components
    with torch.random.fork_rng(devices=[]):
        components, controlnet = build(torch)
    tok_dir = write_tiny_tokenizer(target / "_tokenizer")
    tokenizer = CLIPTokenizer.from_pretrained(tok_dir)
    if family == "sdxl":
        pipe = StableDiffusionXLControlNetPipeline(**components, tokenizer=tokenizer, tokenizer_2=tokenizer,
                                                   controlnet=controlnet)
    else:
        pipe = StableDiffusionControlNetPipeline(**components, tokenizer=tokenizer, controlnet=controlnet,
                                                 safety_checker=None, feature_extractor=None, image_encoder=None,
                                                 requires_safety_checker=False)
    # The base pipeline folder is saved WITHOUT the controlnet (as stable-diffusion-v1-5 has none); the
    # ControlNet gets its own folder, as lllyasviel/control_v11p_sd15_openpose is its own repository.
    controlnet.save_pretrained(target / "controlnet")
    pipe.save_pretrained(target / "pipeline")
    index = target / "pipeline" / "model_index.json"
    data = json.loads(index.read_text())
    data.pop("controlnet", None)
    data["_class_name"] = "StableDiffusionXLPipeline" if family == "sdxl" else "StableDiffusionPipeline"
    index.write_text(json.dumps(data, indent=2))
    shutil.rmtree(target / "pipeline" / "controlnet", ignore_errors=True)
    # Lay the tokenizer out as stable-diffusion-v1-5's is (vocab.json + merges.txt + config, no tokenizer.json),
    # so the tiny engine loads it through the same slow-file path as the real one.
    for name in ("tokenizer", "tokenizer_2") if family == "sdxl" else ("tokenizer",):
        shutil.rmtree(target / "pipeline" / name)
        shutil.copytree(tok_dir, target / "pipeline" / name)
    shutil.rmtree(tok_dir)


def tiny_paths(folder: Path | str, family: str = "sd15") -> tuple[Path, Path]:
    """(base pipeline folder, controlnet folder) of the tiny models under `folder` (may not exist yet)."""
    root = Path(folder) / family
    return root / "pipeline", root / "controlnet"


def ensure_tiny_models(folder: Path | str, family: str = "sd15") -> tuple[Path, Path]:
    """Build the tiny models for `family` under folder/<family>/ once (idempotent, atomic); return their folders."""
    if family not in FAMILIES:
        raise ValueError(f"tiny family must be one of {FAMILIES}, got {family!r}")
    root = Path(folder).expanduser().resolve() / family
    marker = root / MARKER
    with _lock:
        if _complete(marker):
            return tiny_paths(root.parent, family)
        root.parent.mkdir(parents=True, exist_ok=True)
        tmp = Path(tempfile.mkdtemp(prefix=f".{family}-", dir=root.parent))
        try:
            _build(tmp, family)
            (tmp / MARKER).write_text(json.dumps({"family": family, "version": VERSION, "vocab": fingerprint()}))
            if root.exists():                      # an old or broken build: replace it
                stale = root.with_name(f".{family}-stale-{os.getpid()}")
                os.replace(root, stale)
                shutil.rmtree(stale, ignore_errors=True)
            try:
                os.replace(tmp, root)
            except OSError:                        # another process won the race: keep its copy
                if not _complete(marker):
                    raise
        finally:
            shutil.rmtree(tmp, ignore_errors=True)
    return tiny_paths(root.parent, family)


def _complete(marker: Path) -> bool:
    try:
        data = json.loads(marker.read_text())
        return data.get("version") == VERSION and data.get("vocab") == fingerprint()
    except (OSError, ValueError):
        return False


# --------------------------------------------------------------------------- optional extras (tests, smoke runs)

def write_tiny_lora(folder: Path | str, *, tiny_dir: Path | str | None = None, family: str = "sd15",
                    seed: int = 0) -> Path:
    """A rank-4 LoRA for the tiny UNet (non-zero, seeded), saved as diffusers' pytorch_lora_weights.safetensors,
    to exercise the few-step LoRA path (load_lora_weights + fuse). Needs the peft package. tiny_dir: where the
    tiny models are (or go); only the UNet's architecture matters."""
    import torch
    from diffusers import StableDiffusionPipeline, UNet2DConditionModel
    from peft import LoraConfig
    from peft.utils import get_peft_model_state_dict

    base, _ = ensure_tiny_models(tiny_dir or Path(folder).parent / ".tiny-base", family)
    unet = UNet2DConditionModel.from_pretrained(base / "unet")
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        unet.add_adapter(LoraConfig(r=4, lora_alpha=4, init_lora_weights=False,
                                    target_modules=["to_q", "to_k", "to_v", "to_out.0"]))
    folder = Path(folder)
    StableDiffusionPipeline.save_lora_weights(folder, unet_lora_layers=get_peft_model_state_dict(unet))
    return folder


TINY_IP_WEIGHTS = {   # family -> (face adapter, garment adapter): h94/IP-Adapter's layout, one shared encoder
    "sd15": ("models/ip-adapter_tiny.safetensors", "models/ip-adapter-garment_tiny.safetensors"),
    "sdxl": ("sdxl_models/ip-adapter_tiny_vit-h.safetensors", "sdxl_models/ip-adapter-garment_tiny_vit-h.safetensors"),
}
TINY_ENCODER = "models/image_encoder"
TINY_EMBED_DIM = 32


def write_tiny_ip_adapter(folder: Path | str, *, tiny_dir: Path | str | None = None, seed: int = 0,
                          family: str = "sd15") -> Path:
    """Tiny IP-Adapters for the tiny UNet of `family` in h94/IP-Adapter's layout (TINY_IP_WEIGHTS): a face
    adapter and a second "garment" adapter (seed + 1), each image_proj.* + ip_adapter.<n>.to_k_ip / to_v_ip for
    every cross-attention (n = 1, 3, 5, ... as diffusers numbers them), and models/image_encoder/ (a tiny
    CLIPVisionModelWithProjection, 32x32 input, shared by both families as ViT-H is by the real ones). Call it
    once per family on the same folder to hold both. Settings: ip_adapter=True (or "auto"),
    ip_adapter_model=<folder>, ip_adapter_weight=TINY_IP_WEIGHTS[family][0],
    garment_ip_adapter_weight=TINY_IP_WEIGHTS[family][1]."""
    import torch
    from diffusers import UNet2DConditionModel
    from safetensors.torch import save_file
    from transformers import CLIPVisionConfig, CLIPVisionModelWithProjection

    folder = Path(folder)
    base, _ = ensure_tiny_models(tiny_dir or folder.parent / ".tiny-base", family)
    unet = UNet2DConditionModel.from_pretrained(base / "unet")
    cross, channels = unet.config.cross_attention_dim, list(unet.config.block_out_channels)
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        encoder = CLIPVisionModelWithProjection(CLIPVisionConfig(
            hidden_size=32, projection_dim=TINY_EMBED_DIM, num_hidden_layers=2, num_attention_heads=4,
            intermediate_size=37, image_size=32, patch_size=4))
        for n, weight in enumerate(TINY_IP_WEIGHTS[family]):
            torch.manual_seed(seed + n)
            tensors = {"image_proj.proj.weight": torch.randn(4 * cross, TINY_EMBED_DIM) * 0.5,
                       "image_proj.proj.bias": torch.zeros(4 * cross),
                       "image_proj.norm.weight": torch.ones(cross), "image_proj.norm.bias": torch.zeros(cross)}
            key = 1
            for name in unet.attn_processors:
                if name.endswith("attn1.processor"):
                    continue
                if name.startswith("mid_block"):
                    hidden = channels[-1]
                elif name.startswith("up_blocks"):
                    hidden = channels[::-1][int(name.split(".")[1])]
                else:
                    hidden = channels[int(name.split(".")[1])]
                for proj in ("to_k_ip", "to_v_ip"):
                    tensors[f"ip_adapter.{key}.{proj}.weight"] = torch.randn(hidden, cross) * 0.5
                key += 2
            (folder / weight).parent.mkdir(parents=True, exist_ok=True)
            save_file({k: v.contiguous() for k, v in tensors.items()}, str(folder / weight))
    if not (folder / TINY_ENCODER / "config.json").is_file():
        encoder.save_pretrained(folder / TINY_ENCODER)
    return folder


def write_tiny_inpainting_model(folder: Path | str, *, tiny_dir: Path | str | None = None,
                                family: str = "sd15") -> Path:
    """A tiny base pipeline whose UNet is an inpainting UNet (9 input channels: latents, mask, masked image), as
    stable-diffusion-v1-5/stable-diffusion-inpainting is for SD 1.5: the tiny pipeline of `family` with its UNet
    replaced (seeded). Use it as SD15_BASE_MODEL / SDXL_BASE_MODEL (engine sd15 / sdxl) with the tiny ControlNet
    folder (tiny_paths(...)[1]) as the ControlNet. Returns the folder."""
    import torch

    folder = Path(folder)
    base, _ = ensure_tiny_models(tiny_dir or folder.parent / ".tiny-base", family)
    if (folder / "model_index.json").is_file():
        return folder
    folder.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=".inpaint-", dir=folder.parent))
    try:
        shutil.copytree(base, tmp / "pipe")
        shutil.rmtree(tmp / "pipe" / "unet")
        with torch.random.fork_rng(devices=[]):
            _unet(family, torch, in_channels=9).save_pretrained(tmp / "pipe" / "unet")
        os.replace(tmp / "pipe", folder)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return folder
