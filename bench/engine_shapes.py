"""Full-size Stable Diffusion 1.5 / SDXL + OpenPose ControlNet + IP-Adapter Plus shapes with random weights, for
bench_engine.py's GPU run (nothing is downloaded). The dicts are the fields that shape the networks in
stable-diffusion-v1-5/stable-diffusion-v1-5, lllyasviel/control_v11p_sd15_openpose,
stabilityai/stable-diffusion-xl-base-1.0, xinsir/controlnet-openpose-sdxl-1.0 and h94/IP-Adapter
(models/image_encoder: ViT-H/14; ip-adapter-plus[-face]: a 4-layer Resampler, 16 queries).
`arch="tiny"` gives the same code at the tiny engine's shapes (CPU smoke runs of the bench itself).

    pipe = build_pipeline("sd15", device, dtype)          # StableDiffusion[XL]ControlNetPipeline, random weights
    attach_plus_adapters(pipe, family, n=2)               # face + garment IP-Adapters, shared ViT-H encoder
"""
from __future__ import annotations

import tempfile
import time
from pathlib import Path

SD15_UNET = dict(sample_size=64, in_channels=4, out_channels=4, layers_per_block=2,
                 block_out_channels=(320, 640, 1280, 1280),
                 down_block_types=("CrossAttnDownBlock2D", "CrossAttnDownBlock2D", "CrossAttnDownBlock2D",
                                   "DownBlock2D"),
                 up_block_types=("UpBlock2D", "CrossAttnUpBlock2D", "CrossAttnUpBlock2D", "CrossAttnUpBlock2D"),
                 cross_attention_dim=768, attention_head_dim=8, norm_num_groups=32, norm_eps=1e-5, act_fn="silu",
                 downsample_padding=1, flip_sin_to_cos=True, freq_shift=0, mid_block_scale_factor=1)
SD15_CONTROLNET = dict(in_channels=4, layers_per_block=2, block_out_channels=(320, 640, 1280, 1280),
                       down_block_types=SD15_UNET["down_block_types"], cross_attention_dim=768, attention_head_dim=8,
                       norm_num_groups=32, norm_eps=1e-5, act_fn="silu", downsample_padding=1, flip_sin_to_cos=True,
                       freq_shift=0, conditioning_embedding_out_channels=(16, 32, 96, 256),
                       controlnet_conditioning_channel_order="rgb")
VAE = dict(in_channels=3, out_channels=3, latent_channels=4, layers_per_block=2, norm_num_groups=32,
           block_out_channels=(128, 256, 512, 512), down_block_types=("DownEncoderBlock2D",) * 4,
           up_block_types=("UpDecoderBlock2D",) * 4, act_fn="silu", sample_size=512, scaling_factor=0.18215)
CLIP_L = dict(vocab_size=49408, hidden_size=768, intermediate_size=3072, num_hidden_layers=12, num_attention_heads=12,
              max_position_embeddings=77, hidden_act="quick_gelu", layer_norm_eps=1e-5, projection_dim=768,
              bos_token_id=0, eos_token_id=2, pad_token_id=1)
CLIP_G = dict(CLIP_L, hidden_size=1280, intermediate_size=5120, num_hidden_layers=32, num_attention_heads=20,
              hidden_act="gelu", projection_dim=1280)
SDXL_COMMON = dict(in_channels=4, layers_per_block=2, block_out_channels=(320, 640, 1280),
                   down_block_types=("DownBlock2D", "CrossAttnDownBlock2D", "CrossAttnDownBlock2D"),
                   transformer_layers_per_block=(1, 2, 10), attention_head_dim=(5, 10, 20), cross_attention_dim=2048,
                   use_linear_projection=True, addition_embed_type="text_time", addition_time_embed_dim=256,
                   projection_class_embeddings_input_dim=2816, norm_num_groups=32)
SDXL_UNET = dict(SDXL_COMMON, sample_size=128, out_channels=4,
                 up_block_types=("CrossAttnUpBlock2D", "CrossAttnUpBlock2D", "UpBlock2D"))
SDXL_CONTROLNET = dict(SDXL_COMMON, conditioning_embedding_out_channels=(16, 32, 96, 256))
SDXL_VAE = dict(VAE, sample_size=1024, scaling_factor=0.13025)
VIT_H = dict(hidden_size=1280, intermediate_size=5120, num_hidden_layers=32, num_attention_heads=16, image_size=224,
             patch_size=14, projection_dim=1024, hidden_act="gelu")
# Resampler of ip-adapter-plus(-face): width, heads (x64), depth, queries; its output is the UNet's cross dim
RESAMPLER = {"sd15": (768, 12, 4, 16), "sdxl": (1280, 20, 4, 16)}
SCHEDULER = dict(beta_start=0.00085, beta_end=0.012, beta_schedule="scaled_linear", num_train_timesteps=1000,
                 steps_offset=1)
TINY_VIT = dict(hidden_size=32, intermediate_size=37, num_hidden_layers=2, num_attention_heads=4, image_size=32,
                patch_size=4, projection_dim=32)
TINY_RESAMPLER = (64, 1, 4, 4)                # diffusers builds the Resampler with depth 4


def random_init_(module, std: float = 0.02) -> None:
    """Fill weights fast (meta-built modules have none): N(0, std) matrices/convs, 1 for norm scales, 0 biases."""
    import torch

    with torch.no_grad():
        for name, p in module.named_parameters():
            if p.dim() >= 2:
                p.normal_(0.0, std)
            elif name.endswith("weight"):
                p.fill_(1.0)
            else:
                p.zero_()


def _net(cls, config: dict, device: str, dtype):
    import torch

    with torch.device("meta"):
        net = cls(**config)
    net = net.to_empty(device=device)
    random_init_(net)
    return net.to(dtype).eval()


def build_pipeline(family: str, device: str, dtype, *, arch: str = "full"):
    """The ControlNet pipeline of `family` at full size (random weights) or, arch="tiny", the tiny engine's."""
    import diffusers
    from diffusers.utils import logging as dlogging
    from transformers import CLIPTextConfig, CLIPTextModel, CLIPTextModelWithProjection, CLIPTokenizer

    from engine.tiny import _sd15_components, _sdxl_components
    from engine.tiny_text import write_tiny_tokenizer

    dlogging.set_verbosity_error()
    started = time.perf_counter()
    with tempfile.TemporaryDirectory() as tmp:
        tokenizer = CLIPTokenizer.from_pretrained(write_tiny_tokenizer(Path(tmp)))
    sdxl = family == "sdxl"
    if arch == "tiny":
        import torch

        parts, controlnet = (_sdxl_components if sdxl else _sd15_components)(torch)
        parts = {k: v.to(device, dtype) if hasattr(v, "to") else v for k, v in parts.items()}
        controlnet = controlnet.to(device, dtype)
    else:
        unet = _net(diffusers.UNet2DConditionModel, SDXL_UNET if sdxl else SD15_UNET, device, dtype)
        controlnet = _net(diffusers.ControlNetModel, SDXL_CONTROLNET if sdxl else SD15_CONTROLNET, device, dtype)
        vae = _net(diffusers.AutoencoderKL, SDXL_VAE if sdxl else VAE, device, dtype)
        text = _net(CLIPTextModel, {"config": CLIPTextConfig(**CLIP_L)}, device, dtype)
        parts = {"unet": unet, "vae": vae, "text_encoder": text}
        if sdxl:
            parts["text_encoder_2"] = _net(CLIPTextModelWithProjection, {"config": CLIPTextConfig(**CLIP_G)},
                                           device, dtype)
    parts["scheduler"] = diffusers.UniPCMultistepScheduler.from_config(SCHEDULER)
    if sdxl:
        pipe = diffusers.StableDiffusionXLControlNetPipeline(**parts, tokenizer=tokenizer, tokenizer_2=tokenizer,
                                                             controlnet=controlnet)
    else:
        pipe = diffusers.StableDiffusionControlNetPipeline(**parts, tokenizer=tokenizer, controlnet=controlnet,
                                                           safety_checker=None, feature_extractor=None,
                                                           image_encoder=None, requires_safety_checker=False)
    pipe.set_progress_bar_config(disable=True)
    params = sum(p.numel() for m in pipe.components.values() if hasattr(m, "parameters") for p in m.parameters())
    print(f"  built {type(pipe).__name__} ({arch} shapes, random weights): {params / 1e6:.0f} M parameters, "
          f"{dtype}, {device}, {time.perf_counter() - started:.1f} s")
    return pipe


def plus_adapter_state(unet, embed_dims: int, width: int, heads: int, depth: int, queries: int, seed: int) -> dict:
    """An IP-Adapter Plus state dict in h94's original key layout (image_proj.* Resampler + ip_adapter.<n>.to_k_ip /
    to_v_ip), random, for `unet`: what load_ip_adapter reads from ip-adapter-plus[-face]_*.safetensors."""
    import torch

    g = torch.Generator().manual_seed(seed)
    r = lambda *shape: torch.randn(*shape, generator=g) * 0.02   # noqa: E731
    cross, inner = unet.config.cross_attention_dim, heads * 64
    proj = {"latents": r(1, queries, width), "proj_in.weight": r(width, embed_dims), "proj_in.bias": torch.zeros(width),
            "proj_out.weight": r(cross, width), "proj_out.bias": torch.zeros(cross),
            "norm_out.weight": torch.ones(cross), "norm_out.bias": torch.zeros(cross)}
    for i in range(depth):
        for norm in ("0.norm1", "0.norm2", "1.0"):
            proj[f"layers.{i}.{norm}.weight"], proj[f"layers.{i}.{norm}.bias"] = torch.ones(width), torch.zeros(width)
        proj.update({f"layers.{i}.0.to_q.weight": r(inner, width), f"layers.{i}.0.to_kv.weight": r(2 * inner, width),
                     f"layers.{i}.0.to_out.weight": r(width, inner), f"layers.{i}.1.1.weight": r(4 * width, width),
                     f"layers.{i}.1.3.weight": r(width, 4 * width)})
    ip, key, channels = {}, 1, list(unet.config.block_out_channels)
    for name in unet.attn_processors:
        if name.endswith("attn1.processor"):
            continue
        block = name.split(".")[1]
        hidden = channels[-1] if name.startswith("mid_block") else \
            channels[::-1][int(block)] if name.startswith("up_blocks") else channels[int(block)]
        ip[f"{key}.to_k_ip.weight"], ip[f"{key}.to_v_ip.weight"] = r(hidden, cross), r(hidden, cross)
        key += 2
    return {"image_proj": proj, "ip_adapter": ip}


def attach_plus_adapters(pipe, family: str, n: int = 2, *, arch: str = "full") -> tuple[str, ...]:
    """Face (+ garment when n=2) IP-Adapter Plus on `pipe` with a random ViT-H image encoder, loaded by diffusers'
    own load_ip_adapter from state dicts (the engine loads the same kind of files). Returns the roles."""
    import torch
    from transformers import CLIPImageProcessor, CLIPVisionConfig, CLIPVisionModelWithProjection

    unet = pipe.unet
    device, dtype = unet.device, unet.dtype
    vit = TINY_VIT if arch == "tiny" else VIT_H
    if arch == "tiny":
        torch.manual_seed(0)
        encoder = CLIPVisionModelWithProjection(CLIPVisionConfig(**vit)).to(device, dtype).eval()
    else:
        encoder = _net(CLIPVisionModelWithProjection, {"config": CLIPVisionConfig(**vit)}, device, dtype)
    pipe.register_modules(image_encoder=encoder, feature_extractor=CLIPImageProcessor(
        size=vit["image_size"], crop_size=vit["image_size"]))
    shape = TINY_RESAMPLER if arch == "tiny" else RESAMPLER[family]
    states = [plus_adapter_state(unet, vit["hidden_size"], *shape, seed=i) for i in range(n)]
    pipe.load_ip_adapter(states, subfolder=[""] * n, weight_name=[""] * n, image_encoder_folder=None,
                         low_cpu_mem_usage=False)           # strict: every key of the state dicts must fit
    pipe.unet.to(device, dtype)
    return ("face", "garment")[:n]
