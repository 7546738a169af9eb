"""Generation-engine throughput. Prints figures; asserts nothing about time. Nothing is downloaded.

(b) micro-batching: images/s of the tiny engine (ENGINE=tiny, 64x64) by micro-batch size, through
    Engine.render (the real call path), median of --runs runs, ratio vs batch 1; on CPU with and without
    ENGINE_EXACT_BATCHES (bit-identical batches cost some of the batching gain).
(c) full size: Stable Diffusion 1.5 + ControlNet built from the real architectures (the UNet, ControlNet,
    VAE and CLIP text-encoder configs of stable-diffusion-v1-5 / control_v11p_sd15_openpose, written
    below) with random weights, called as the engine calls it (one CPU generator per image, PIL control
    images): s/image at batch 1/4/8, fp16 on a GPU, without and with torch.compile of the UNet.

    python bench/bench_engine.py b [--batches 1,2,4,8] [--runs 5] [--steps 2] [--threads 1]
    python bench/bench_engine.py c [--batches 1,4,8] [--steps 25] [--size 512] [--compile both|off|on]
                                   [--compile-mode max-autotune-no-cudagraphs] [--runs 3]
    python bench/bench_engine.py c --device cpu --size 64 --tiny-steps 1 --batches 1,2 --compile off   # smoke
"""
from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

# stable-diffusion-v1-5/stable-diffusion-v1-5 unet/config.json, vae/config.json, text_encoder/config.json and
# lllyasviel/control_v11p_sd15_openpose config.json (the fields that shape the networks).
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
SD15_VAE = dict(in_channels=3, out_channels=3, latent_channels=4, layers_per_block=2, norm_num_groups=32,
                block_out_channels=(128, 256, 512, 512), down_block_types=("DownEncoderBlock2D",) * 4,
                up_block_types=("UpDecoderBlock2D",) * 4, act_fn="silu", sample_size=512, scaling_factor=0.18215)
SD15_TEXT = dict(vocab_size=49408, hidden_size=768, intermediate_size=3072, num_hidden_layers=12,
                 num_attention_heads=12, max_position_embeddings=77, hidden_act="quick_gelu", layer_norm_eps=1e-5,
                 projection_dim=768, bos_token_id=0, eos_token_id=2, pad_token_id=1)
SD15_SCHEDULER = dict(beta_start=0.00085, beta_end=0.012, beta_schedule="scaled_linear", num_train_timesteps=1000,
                      set_alpha_to_one=False, steps_offset=1, clip_sample=False)


def median_time(fn, runs: int) -> float:
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        fn()
        times.append(time.perf_counter() - started)
    return statistics.median(times)


def skeletons(count: int, size: int):
    """`count` distinct OpenPose skeletons drawn by the library's renderer at size x size."""
    import numpy as np
    from PIL import Image

    from core.poses.render import draw_bodypose

    out = []
    for i in range(count):
        dx, arm = 0.15 * ((i % 5) - 2) / 2, 0.05 * (i % 4)
        pts = [None] * 18
        pts[0], pts[1] = (0.5 + dx, 0.15), (0.5 + dx, 0.3)
        pts[2], pts[5] = (0.35 + dx, 0.3), (0.65 + dx, 0.3)
        pts[3], pts[6] = (0.3 + dx, 0.45 - arm), (0.7 + dx, 0.45)
        pts[4], pts[7] = (0.28 + dx, 0.6 - 2 * arm), (0.72 + dx, 0.6)
        pts[8], pts[11] = (0.42 + dx, 0.6), (0.58 + dx, 0.6)
        pts[9], pts[12] = (0.42 + dx, 0.78), (0.58 + dx, 0.78)
        pts[10], pts[13] = (0.42 + dx, 0.95), (0.58 + dx, 0.95)
        out.append(Image.fromarray(draw_bodypose(np.zeros((size, size, 3), np.uint8), pts)))
    return out


# --------------------------------------------------------------------------- (b) micro-batching, tiny engine

def bench_batches(args) -> None:
    import torch

    from core.settings import Settings
    from engine.pipeline import RenderRequest, get_engine

    torch.set_num_threads(args.threads)
    batches = [int(b) for b in args.batches.split(",")]
    controls = skeletons(max(batches), 64)
    with tempfile.TemporaryDirectory() as tmp:
        print(f"(b) tiny engine, 64x64, {args.steps} steps, median of {args.runs} runs, "
              f"torch threads {torch.get_num_threads()}")
        for exact in (True, False):
            settings = Settings(engine="tiny", tiny_model_dir=Path(tmp) / "tiny", storage_dir=Path(tmp),
                                model_downloads=False, engine_steps=args.steps, engine_batch_size=max(batches),
                                engine_exact_batches=exact)
            engine = get_engine(settings)
            label = "exact batches on" if exact and engine.device == "cpu" else "exact batches off"
            print(f"  [{label}] device {engine.device}")
            print(f"  {'batch':>5} {'s/call':>8} {'images/s':>9} {'vs batch 1':>10}")
            base = None
            for b in batches:
                reqs = [RenderRequest("a person holding a mug", controls[i], 1000 + i) for i in range(b)]
                engine.render(reqs)                                       # warm-up
                per_call = median_time(lambda: engine.render(reqs), args.runs)
                ips = b / per_call
                base = base or ips
                print(f"  {b:>5} {per_call:>8.3f} {ips:>9.2f} {ips / base:>9.2f}x")


# --------------------------------------------------------------------------- (c) full-size SD 1.5 + ControlNet

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


def build_full_size(device: str, dtype):
    import torch
    from diffusers import (AutoencoderKL, ControlNetModel, StableDiffusionControlNetPipeline,
                           UNet2DConditionModel, UniPCMultistepScheduler)
    from transformers import CLIPTextConfig, CLIPTextModel, CLIPTokenizer

    from diffusers.utils import logging as dlogging

    from engine.tiny import write_tiny_tokenizer

    dlogging.set_verbosity_error()                  # .to(dtype) on fresh modules warns about fp32 modules: none here
    started = time.perf_counter()
    nets = []
    for cls, cfg in ((UNet2DConditionModel, SD15_UNET), (ControlNetModel, SD15_CONTROLNET), (AutoencoderKL, SD15_VAE)):
        with torch.device("meta"):
            net = cls(**cfg)
        net = net.to_empty(device=device)
        random_init_(net)
        nets.append(net.to(dtype).eval())
    unet, controlnet, vae = nets
    torch.manual_seed(0)
    text_encoder = CLIPTextModel(CLIPTextConfig(**SD15_TEXT)).to(device, dtype).eval()
    with tempfile.TemporaryDirectory() as tmp:
        tokenizer = CLIPTokenizer.from_pretrained(write_tiny_tokenizer(Path(tmp)))
    pipe = StableDiffusionControlNetPipeline(
        vae=vae, text_encoder=text_encoder, tokenizer=tokenizer, unet=unet, controlnet=controlnet,
        scheduler=UniPCMultistepScheduler.from_config(SD15_SCHEDULER), safety_checker=None, feature_extractor=None,
        image_encoder=None, requires_safety_checker=False)
    pipe.set_progress_bar_config(disable=True)
    params = sum(p.numel() for m in (unet, controlnet, vae, text_encoder) for p in m.parameters())
    print(f"(c) SD 1.5 + ControlNet, real shapes, random weights: {params / 1e6:.0f} M parameters, "
          f"{dtype}, {device}, built in {time.perf_counter() - started:.1f} s")
    return pipe


def bench_full_size(args) -> None:
    import torch

    device = args.device or ("cuda" if torch.cuda.is_available() else "cpu")
    if device == "cpu" and not args.tiny_steps and args.size == 512:
        print("(c) on CPU: using the smoke settings --size 64 --tiny-steps 1 --batches 1,2 --compile off "
              "(pass --size/--tiny-steps to choose)")
        args.size, args.tiny_steps, args.batches, args.compile = 64, 1, "1,2", "off"
    dtype = torch.float16 if device == "cuda" and not args.fp32 else torch.float32
    if device == "cpu":
        torch.set_num_threads(args.threads)
    steps = args.tiny_steps or args.steps
    batches = [int(b) for b in args.batches.split(",")]
    pipe = build_full_size(device, dtype)
    controls = skeletons(max(batches), args.size)
    if device == "cuda":
        print(f"    GPU: {torch.cuda.get_device_name()}")
    modes = {"off": [False], "on": [True], "both": [False, True]}[args.compile]
    eager_unet = pipe.unet
    results: dict[tuple[bool, int], float] = {}
    for compiled in modes:
        pipe.unet = torch.compile(eager_unet, mode=args.compile_mode) if compiled else eager_unet
        label = f"compile {args.compile_mode}" if compiled else "eager"
        print(f"  [{label}] {args.size}x{args.size}, {steps} steps, guidance 7, median of {args.runs} runs")
        print(f"  {'batch':>5} {'warm-up s':>10} {'s/call':>8} {'s/image':>8} {'images/s':>9}")
        for b in batches:
            def call():
                gens = [torch.Generator("cpu").manual_seed(i) for i in range(b)]
                with torch.inference_mode():
                    pipe(["a person holding a mug, studio photo"] * b, controls[:b], negative_prompt=["blurry"] * b,
                         generator=gens, num_inference_steps=steps, guidance_scale=7.0, width=args.size,
                         height=args.size, output_type="pil")
                if device == "cuda":
                    torch.cuda.synchronize()
            started = time.perf_counter()
            call()                                                      # warm-up (and compile for this shape)
            warm = time.perf_counter() - started
            per_call = median_time(call, args.runs)
            results[(compiled, b)] = per_call / b
            print(f"  {b:>5} {warm:>10.2f} {per_call:>8.3f} {per_call / b:>8.3f} {b / per_call:>9.2f}")
    if len(modes) == 2:
        print("  compile speed-up (s/image eager / compiled): " +
              ", ".join(f"batch {b}: {results[(False, b)] / results[(True, b)]:.2f}x" for b in batches))
    if device == "cuda":
        print(f"  peak GPU memory: {torch.cuda.max_memory_allocated() / 2**30:.1f} GiB")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("part", choices=["b", "c", "all"], nargs="?", default="all")
    parser.add_argument("--batches", default=None, help="comma-separated micro-batch sizes")
    parser.add_argument("--runs", type=int, default=None, help="timed runs per point (median)")
    parser.add_argument("--steps", type=int, default=None)
    parser.add_argument("--tiny-steps", type=int, default=0, help="(c) override steps for a quick smoke run")
    parser.add_argument("--size", type=int, default=512, help="(c) image side")
    parser.add_argument("--device", default=None, help="(c) cuda | cpu (default: cuda when available)")
    parser.add_argument("--fp32", action="store_true", help="(c) fp32 on the GPU too")
    parser.add_argument("--compile", choices=["off", "on", "both"], default="both", help="(c) torch.compile the UNet")
    parser.add_argument("--compile-mode", default="max-autotune-no-cudagraphs")
    parser.add_argument("--threads", type=int, default=1, help="torch CPU threads")
    args = parser.parse_args()
    if args.part in ("b", "all"):
        bench_batches(argparse.Namespace(**{**vars(args), "batches": args.batches or "1,2,4,8",
                                            "runs": args.runs or 5, "steps": args.steps or 2}))
    if args.part in ("c", "all"):
        bench_full_size(argparse.Namespace(**{**vars(args), "batches": args.batches or "1,4,8",
                                              "runs": args.runs or 3, "steps": args.steps or 25}))


if __name__ == "__main__":
    main()
