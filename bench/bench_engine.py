"""Generation-engine throughput. Prints figures; asserts nothing about time. Nothing is downloaded.

(b) micro-batching: images/s of the tiny engine (ENGINE=tiny, 64x64) by micro-batch size, through Engine.render
    (the real call path), median of --runs runs, ratio vs batch 1; on CPU with and without ENGINE_EXACT_BATCHES.
(l) likeness and inpainting on the tiny engine (CPU): s/call with the face + garment IP-Adapters vs without, and
    generating around the product (inpaint: init image + mask, kept pixels restored) vs rendering then pasting
    the cut-out on top (paste), and a worn garment (warped on, its region redrawn: a second call), all planned
    by core.generation.product exactly as the app plans them; medians and ratios against paste.
(c) GPU: full-size SD 1.5 and SDXL + OpenPose ControlNet (+ IP-Adapter Plus x2 with a ViT-H encoder) built from
    the real architectures with random weights (bench/engine_shapes.py), rendered through Engine.render exactly as
    the app renders (one CPU generator per image, PIL in and out), fp16, batch 1/4/8: plain, paste, inpaint,
    worn, likeness, likeness+inpaint, and plain/inpaint again with torch.compile of the UNet. For each: s/image and how
    far it is from the physical limit, (FLOPs per image, counted by torch's FlopCounterMode) / (the GPU's peak
    dense fp16 FLOP/s; table below or --peak-tflops). --time-cap stops measuring in time and prints what it has.
    Without CUDA it says "no CUDA" and stops, unless asked for --device cpu (with --arch tiny: a smoke run of
    this code on the tiny shapes).

    python bench/bench_engine.py b [--batches 1,2,4,8] [--runs 5] [--steps 2] [--threads 1]
    python bench/bench_engine.py l [--batches 1,4] [--runs 5]
    python bench/bench_engine.py c --time-cap 540                        # the GPU run, one command
    python bench/bench_engine.py c --families sd15 --batches 1,4 --steps 20 --compile off --time-cap 300
    python bench/bench_engine.py c --device cpu --arch tiny --size 64 --steps 2 --batches 1,2   # CPU smoke
"""
from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

# Peak dense fp16/bf16 tensor FLOP/s (no sparsity), from NVIDIA's data sheets, matched on the device name.
PEAK_TFLOPS = (("H200", 989.4), ("H100 PCIe", 756.0), ("H100", 989.4), ("A100", 312.0), ("L40S", 362.1),
               ("L4", 121.0), ("RTX 4090", 165.2), ("A10", 125.0))
PROMPT = "a young woman holding a red mug, studio photo"
WORN_STRENGTH = 0.6   # the WORN_STRENGTH default


def median_time(fn, runs: int) -> float:
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        fn()
        times.append(time.perf_counter() - started)
    return statistics.median(times)


def pose_points(i: int) -> list:
    """The i-th bench pose: OpenPose-18 points (x, y) normalised to the frame, None where absent."""
    dx, arm = 0.15 * ((i % 5) - 2) / 2, 0.05 * (i % 4)
    pts = [None] * 18
    pts[0], pts[1] = (0.5 + dx, 0.15), (0.5 + dx, 0.3)
    pts[2], pts[5] = (0.35 + dx, 0.3), (0.65 + dx, 0.3)
    pts[3], pts[6] = (0.3 + dx, 0.45 - arm), (0.7 + dx, 0.45)
    pts[4], pts[7] = (0.28 + dx, 0.6 - 2 * arm), (0.72 + dx, 0.6)
    pts[8], pts[11] = (0.42 + dx, 0.6), (0.58 + dx, 0.6)
    pts[9], pts[12] = (0.42 + dx, 0.78), (0.58 + dx, 0.78)
    pts[10], pts[13] = (0.42 + dx, 0.95), (0.58 + dx, 0.95)
    return pts


def skeletons(count: int, width: int, height: int | None = None):
    """`count` distinct OpenPose skeletons drawn by the library's renderer."""
    import numpy as np
    from PIL import Image

    from core.library.poses.render import draw_bodypose

    return [Image.fromarray(draw_bodypose(np.zeros((height or width, width, 3), np.uint8), pose_points(i)))
            for i in range(count)]


def cutout_of(seed: int = 0, size: tuple[int, int] = (96, 128)):
    """A product cut-out (RGBA): noisy colours inside an oval."""
    import numpy as np
    from PIL import Image

    rng = np.random.default_rng(seed)
    w, h = size
    yy, xx = np.mgrid[0:h, 0:w]
    inside = ((xx - w / 2) / (w / 2)) ** 2 + ((yy - h / 2) / (h / 2)) ** 2 <= 1.0
    px = np.dstack([rng.integers(0, 256, (h, w, 3), dtype=np.uint8), (inside * 255).astype(np.uint8)])
    return Image.fromarray(px, "RGBA")


def requests_for(variant: str, controls, width: int, height: int):
    """(requests, plans) for a variant: plain / likeness (no product), paste / inpaint (a bottle in the right
    hand, planned by core.generation.product as the app plans it), worn (a top warped on, redrawn: two calls)."""
    from PIL import Image

    from core.generation.product import plan_product
    from engine.pipeline import RenderRequest

    plans = [None] * len(controls)
    if variant in ("paste", "inpaint", "likeness+inpaint", "worn"):
        worn = variant == "worn"
        plans = [plan_product(cutout=cutout_of(i), keypoints=[[p[0], p[1], 1.0] if p else None for p in pose_points(i)],
                              placement="worn" if worn else "hand-right", product_type="top" if worn else "bottle",
                              size=(width, height), mode="paste" if variant == "paste" else "inpaint")
                 for i in range(len(controls))]
    extra = {}
    if "likeness" in variant:
        extra.update(ip_adapter_image=Image.new("RGB", (224, 224), (200, 160, 140)),
                     garment_image=Image.new("RGB", (224, 224), (40, 60, 150)))
    reqs = [RenderRequest(PROMPT, c, 1000 + i, negative_prompt="blurry", width=width, height=height, **extra,
                          **(plan.first() if plan else {}))
            for i, (c, plan) in enumerate(zip(controls, plans))]
    return reqs, plans


def render_variant(engine, variant: str, reqs, plans, steps=None, worn_strength: float | None = None):
    """What the app runs for these requests: the engine call(s), then each plan's finish (the paste, or the
    product's pixels put back)."""
    import dataclasses

    out = engine.render(reqs, steps=steps)
    plans = plans[:len(reqs)]
    worn_strength = WORN_STRENGTH if worn_strength is None else worn_strength
    second = [(k, plan.second(out[k].image, worn_strength)) for k, plan in enumerate(plans)
              if plan is not None and plan.mode == "worn"]
    if second:
        again = engine.render([dataclasses.replace(reqs[k], **args) for k, args in second], steps=steps)
        for (k, _), result in zip(second, again):
            out[k] = result
    for result, plan in zip(out, plans):
        if plan is not None:
            result.image = plan.finish(result.image)
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
                reqs = [RenderRequest(PROMPT, controls[i], 1000 + i) for i in range(b)]
                engine.render(reqs)                                       # warm-up
                per_call = median_time(lambda: engine.render(reqs), args.runs)
                ips = b / per_call
                base = base or ips
                print(f"  {b:>5} {per_call:>8.3f} {ips:>9.2f} {ips / base:>9.2f}x")


# --------------------------------------------------------------------------- (l) likeness + inpaint, tiny engine

def bench_tiny_paths(args) -> None:
    import torch

    from core.settings import Settings
    from engine.pipeline import get_engine
    from engine.tiny import TINY_IP_WEIGHTS, write_tiny_ip_adapter

    torch.set_num_threads(args.threads)
    batches = [int(b) for b in args.batches.split(",")]
    controls = skeletons(max(batches), 64)
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        common = dict(engine="tiny", tiny_model_dir=root / "tiny", storage_dir=root, model_downloads=False,
                      hf_cache_dir=root / "hf", engine_steps=args.steps, engine_batch_size=max(batches))
        plain = get_engine(Settings(**common))
        ip = write_tiny_ip_adapter(root / "ip", tiny_dir=root / "tiny")
        liked = get_engine(Settings(**common, ip_adapter=True, ip_adapter_model=str(ip),
                                    ip_adapter_weight=TINY_IP_WEIGHTS["sd15"][0]).model_copy(
            update={"garment_ip_adapter_weight": TINY_IP_WEIGHTS["sd15"][1]}))
        print(f"(l) tiny engine, 64x64, {args.steps} steps, median of {args.runs} runs, "
              f"torch threads {torch.get_num_threads()}, device {plain.device}")
        print(f"  {'batch':>5} {'plain s':>8} {'likeness s':>10} {'ratio':>6} {'paste s':>8} {'inpaint s':>9} "
              f"{'ratio':>6} {'worn s':>8} {'ratio':>6}")
        for b in batches:
            t = {}
            for variant, engine in (("plain", plain), ("likeness", liked), ("paste", plain), ("inpaint", plain),
                                    ("worn", plain)):
                reqs, plans = requests_for(variant, controls[:b], 64, 64)
                render_variant(engine, variant, reqs, plans)                # warm-up
                t[variant] = median_time(lambda: render_variant(engine, variant, reqs, plans), args.runs)
            print(f"  {b:>5} {t['plain']:>8.3f} {t['likeness']:>10.3f} {t['likeness'] / t['plain']:>5.2f}x "
                  f"{t['paste']:>8.3f} {t['inpaint']:>9.3f} {t['inpaint'] / t['paste']:>5.2f}x "
                  f"{t['worn']:>8.3f} {t['worn'] / t['paste']:>5.2f}x")


# --------------------------------------------------------------------------- (c) full size on a GPU

def peak_flops(device: str, override: float | None) -> float | None:
    import torch

    if override:
        return override * 1e12
    if device != "cuda":
        return None
    name = torch.cuda.get_device_name()
    return next((tf * 1e12 for key, tf in PEAK_TFLOPS if key in name), None)


def count_flops(engine, variant: str, reqs, plans) -> float:
    """FLOPs per image of the whole render at engine.config.steps: one call with 1 step and one with 2 give the
    per-step and the fixed part (text encoders, image encoder, VAE), counted by torch's FlopCounterMode."""
    from torch.utils.flop_counter import FlopCounterMode

    from engine.inpaint import steps_run

    def flops(steps: int) -> int:
        counter = FlopCounterMode(display=False)
        with counter:   # worn: the second call counted at strength 1 (every step), scaled below
            render_variant(engine, variant, reqs[:1], plans, steps=steps, worn_strength=1.0)
        return counter.get_total_flops()

    one, two = flops(1), flops(2)
    steps = engine.config.steps
    if variant != "worn":
        return float(one + (two - one) * (steps - 1))
    per_step = (two - one) / 2                  # each of the two calls runs its steps on the same UNet
    fixed = one - 2 * per_step
    return float(fixed + per_step * (steps + steps_run(steps, WORN_STRENGTH)))


def bench_gpu(args) -> None:
    import torch

    device = args.device or ("cuda" if torch.cuda.is_available() else "cpu")
    if device == "cuda" and not torch.cuda.is_available():
        print("no CUDA: torch sees no CUDA GPU here. Run part c on a GPU machine (or --device cpu --arch tiny).")
        return
    if device == "cpu" and not args.device:
        print("no CUDA: the full-size run (c) needs a GPU; nothing measured. For a smoke run of this code on the "
              "CPU: python bench/bench_engine.py c --device cpu --arch tiny --size 64 --steps 2 --batches 1,2")
        return
    from engine.build import Loaded
    from engine.config import EngineConfig
    from engine.pipeline import Engine
    from bench.engine_shapes import attach_plus_adapters, build_pipeline
    from core.settings import Settings

    dtype = torch.float16 if device == "cuda" and not args.fp32 else torch.float32
    if device == "cpu":
        torch.set_num_threads(args.threads)
    batches = [int(b) for b in args.batches.split(",")]
    peak = peak_flops(device, args.peak_tflops)
    started = time.perf_counter()
    rows: dict[tuple, float] = {}
    print(f"(c) {args.arch} shapes, random weights, {device} {dtype}, {args.steps} steps, guidance 7, median of "
          f"{args.runs} runs; time cap {args.time_cap:.0f} s"
          + (f"; GPU {torch.cuda.get_device_name()}" if device == "cuda" else "")
          + (f"; peak {peak / 1e12:.0f} TFLOP/s" if peak else "; peak FLOP/s unknown (--peak-tflops)"))
    for family in args.families.split(","):
        size = args.size or (1024 if family == "sdxl" else 512)
        pipe = build_pipeline(family, device, dtype, arch=args.arch)
        config = EngineConfig.from_settings(Settings(
            engine=family, engine_steps=args.steps, engine_guidance=7.0, engine_batch_size=max(batches),
            engine_exact_batches=False, ip_adapter=True))
        controls = skeletons(max(batches), size)

        def engine_of(roles=()):
            return Engine(config, Loaded(pipe=pipe, device=device, dtype=dtype, ip_adapter=bool(roles),
                                         adapters=tuple(roles)))

        phases = [("eager", ("plain", "paste", "inpaint", "worn"), ())]
        phases.append(("eager", ("likeness", "likeness+inpaint"), "adapters"))
        if args.compile != "off":
            phases.append(("compiled", ("plain", "inpaint"), "compile"))
        if args.compile == "on":
            phases = phases[-1:]
        eager_unet = pipe.unet
        print(f"  [{family}] {size}x{size}")
        print(f"  {'mode':>8} {'variant':>17} {'batch':>5} {'warm-up s':>9} {'s/image':>8} {'GFLOP/img':>10} "
              f"{'limit s':>8} {'x limit':>7}")
        for mode, variants, setup in phases:
            if setup == "adapters":
                engine = engine_of(attach_plus_adapters(pipe, family, 2, arch=args.arch))
            elif setup == "compile":
                if getattr(pipe, "image_encoder", None) is not None:
                    pipe.unload_ip_adapter()
                pipe.unet = torch.compile(eager_unet, mode=args.compile_mode)
                engine = engine_of()
            else:
                engine = engine_of()
            for variant in variants:
                reqs, plans = requests_for(variant, controls, size, size)
                flops = rows.get((family, "eager", variant, "flops"))
                if flops is None and mode == "eager":
                    flops = rows[(family, "eager", variant, "flops")] = count_flops(engine, variant, reqs, plans)
                for b in batches:
                    if time.perf_counter() - started > args.time_cap:
                        print(f"  time cap reached: {mode} {variant} batch {b} and later points skipped")
                        return summary(rows, batches)

                    def call():
                        render_variant(engine, variant, reqs[:b], plans)
                        if device == "cuda":
                            torch.cuda.synchronize()
                    t0 = time.perf_counter()
                    call()                                              # warm-up (and compile for this shape)
                    warm = time.perf_counter() - t0
                    per_image = median_time(call, args.runs) / b
                    rows[(family, mode, variant, b)] = per_image
                    limit = flops / peak if flops and peak else None
                    print(f"  {mode:>8} {variant:>17} {b:>5} {warm:>9.2f} {per_image:>8.3f} "
                          f"{(flops or 0) / 1e9:>10.1f} " + (f"{limit:>8.3f} {per_image / limit:>6.1f}x"
                                                             if limit else f"{'-':>8} {'-':>7}"))
        pipe.unet = eager_unet
        if device == "cuda":
            print(f"  peak GPU memory: {torch.cuda.max_memory_allocated() / 2**30:.1f} GiB")
            del pipe, engine
            torch.cuda.empty_cache()
    summary(rows, batches)


def summary(rows: dict, batches: list[int]) -> None:
    pairs = (("likeness cost (likeness / plain)", "eager", "likeness", "eager", "plain"),
             ("inpaint vs paste (inpaint / paste)", "eager", "inpaint", "eager", "paste"),
             ("worn vs paste (worn / paste: two calls)", "eager", "worn", "eager", "paste"),
             ("likeness+inpaint / plain", "eager", "likeness+inpaint", "eager", "plain"),
             ("compile speed-up (eager / compiled, plain)", "eager", "plain", "compiled", "plain"))
    families = sorted({k[0] for k in rows})
    for family in families:
        for label, m1, v1, m2, v2 in pairs:
            found = [(b, rows[(family, m1, v1, b)] / rows[(family, m2, v2, b)]) for b in batches
                     if (family, m1, v1, b) in rows and (family, m2, v2, b) in rows]
            if found:
                print(f"  {family} {label}: " + ", ".join(f"batch {b}: {r:.2f}x" for b, r in found))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("part", choices=["b", "l", "c", "all"], nargs="?", default="all")
    parser.add_argument("--batches", default=None, help="comma-separated micro-batch sizes")
    parser.add_argument("--runs", type=int, default=None, help="timed runs per point (median)")
    parser.add_argument("--steps", type=int, default=None)
    parser.add_argument("--size", type=int, default=0, help="(c) image side (default 512 sd15, 1024 sdxl)")
    parser.add_argument("--families", default="sd15,sdxl", help="(c) sd15, sdxl or both")
    parser.add_argument("--arch", choices=["full", "tiny"], default="full", help="(c) network shapes")
    parser.add_argument("--device", default=None, help="(c) cuda | cpu (default: cuda; without it: 'no CUDA')")
    parser.add_argument("--fp32", action="store_true", help="(c) fp32 on the GPU too")
    parser.add_argument("--compile", choices=["off", "on", "both"], default="both", help="(c) torch.compile the UNet")
    parser.add_argument("--compile-mode", default="max-autotune-no-cudagraphs", help="(c) the engine's mode")
    parser.add_argument("--peak-tflops", type=float, default=None, help="(c) the GPU's peak dense fp16 TFLOP/s")
    parser.add_argument("--time-cap", type=float, default=540, help="(c) stop measuring after this many seconds")
    parser.add_argument("--threads", type=int, default=1, help="torch CPU threads")
    args = parser.parse_args()
    if args.part in ("b", "all"):
        bench_batches(argparse.Namespace(**{**vars(args), "batches": args.batches or "1,2,4,8",
                                            "runs": args.runs or 5, "steps": args.steps or 2}))
    if args.part in ("l", "all"):
        bench_tiny_paths(argparse.Namespace(**{**vars(args), "batches": args.batches or "1,4",
                                               "runs": args.runs or 5, "steps": args.steps or 2}))
    if args.part in ("c", "all"):
        bench_gpu(argparse.Namespace(**{**vars(args), "batches": args.batches or "1,4,8",
                                        "runs": args.runs or 2, "steps": args.steps or 20}))


if __name__ == "__main__":
    main()
