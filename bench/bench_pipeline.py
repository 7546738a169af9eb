"""Per-pose pipeline overhead. Prints figures; asserts nothing about time. Nothing is downloaded.

(a) core.generation.render_generation for N single-pose generations (template fit -> control image ->
    generate -> composite the product -> pose check -> store image, thumbnail and control -> database
    rows, credits and template statistics) against bare Engine.render calls on identical inputs (the
    same prompt, negative prompt, control image and seed), in one process with the tiny engine
    (ENGINE=tiny) on a throwaway SQLite database. Prints both medians and the overhead share
    (pipeline - bare) / pipeline. The pose detector is off by default (its weights are not here; the
    pose is then recorded "not checked"); --detector auto also times the missing-weights lookup.

    python bench/bench_pipeline.py a [--n 8] [--steps 2] [--size portrait] [--threads 1] [--detector none|auto]
"""
from __future__ import annotations

import argparse
import io
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))


def _photo(color) -> bytes:
    from PIL import Image

    buf = io.BytesIO()
    Image.new("RGB", (64, 96), color).save(buf, "PNG")
    return buf.getvalue()


def _shop(svc):
    """A user, kit, avatar and hand-held product with a cut-out, and matching templates (tests.factories)."""
    from tests.factories import ready_shop

    sh = ready_shop(svc, "bench")
    return sh.user, sh.kit, sh.avatar, sh.product, sh.templates


def bench_a(args) -> None:
    import torch
    from PIL import Image

    from core.generation import state, render as generation_render, planning
    from core.generation.planning import TryOne
    from core.library.poses.render import render_skeleton
    from core.library.poses.transforms import fit_to_aspect
    from services import Services
    from core.settings import Settings
    from db.models import PoseGeneration, PoseTemplate
    from engine.pipeline import RenderRequest, get_engine

    from transformers.utils import logging as hf_logging

    hf_logging.set_verbosity_error()  # CLIP's "truncated to 77 tokens" notice, once per call
    if args.threads:
        torch.set_num_threads(args.threads)
    root = Path(tempfile.mkdtemp(prefix="apg-bench-pipeline-"))
    settings = Settings(database_url=f"sqlite:///{root / 'bench.db'}", storage_dir=root / "files", auth="none",
                        starting_credits=10 * (args.n + 10) + 100, engine="tiny", tiny_model_dir=root / "tiny",
                        hf_cache_dir=root / "hf", model_downloads=False, engine_steps=args.steps,
                        engine_batch_size=1, max_attempts=1)
    svc = Services.build(settings, migrate=True, runner=False)
    user, kit, avatar, product, templates = _shop(svc)
    t0 = time.perf_counter()
    engine = get_engine(settings)
    d = engine.describe()
    print(f"tiny engine loaded in {time.perf_counter() - t0:.1f}s: {d.get('family')} {d.get('device')} "
          f"{d.get('dtype')} scheduler {d.get('scheduler')}; load average {os.getloadavg()[0]:.1f} "
          f"on {os.cpu_count()} CPUs")
    detector = None if args.detector == "none" else "auto"

    # plan N single-pose generations (seeds fixed, templates cycled), charged like the UI does
    planned = []
    with svc.session() as s:
        for i in range(args.n + 1):  # +1: a warm-up round, not counted
            req = TryOne(brand_kit_id=kit.id, avatar_id=avatar.id, product_id=product.id,
                         template_id=templates[i % len(templates)].id, seed=1000 + i, size=args.size)
            planned.append(planning.start_single(s, user=user, request=req, settings=settings, runner=None).id)
        inputs = []  # identical inputs for the bare calls: the pose's prompt, seed and control image
        for gid in planned:
            g = s.get(PoseGeneration, gid)
            (pose,) = state.poses_of(s, user=user, generation_id=gid)
            t = s.get(PoseTemplate, pose.template_id)
            w, h = g.options["width"], g.options["height"]
            fitted = fit_to_aspect(t.keypoints, w / h, source_aspect=t.aspect).to_json()
            control = Image.fromarray(render_skeleton(fitted, w, h))
            inputs.append(RenderRequest(pose.prompt or "", control, pose.seed, pose.negative_prompt or ""))
    print(f"{args.n} single-pose generations at {args.size} {w}x{h}, {args.steps} steps, "
          f"torch threads {torch.get_num_threads()}, detector {args.detector}")

    bare, full = [], []
    engine.render([inputs[0]])  # warm-up
    with svc.session() as s:
        generation_render.render_generation(s, generation_id=planned[0], store=svc.store, settings=settings, engine=engine,
                                     detector=detector)  # warm-up
        # interleaved, so drift in the machine's load hits both sides alike
        for gid, req in zip(planned[1:], inputs[1:]):
            t = time.perf_counter()
            engine.render([req])
            bare.append(time.perf_counter() - t)
            t = time.perf_counter()
            g = generation_render.render_generation(s, generation_id=gid, store=svc.store, settings=settings, engine=engine,
                                             detector=detector)
            full.append(time.perf_counter() - t)
            if g.status != "completed":
                (pose,) = state.poses_of(s, user=user, generation_id=gid)
                print(f"  generation {gid}: {g.status} ({pose.error})")
        same = 0
        for gid, req in zip(planned[1:], inputs[1:]):
            (pose,) = state.poses_of(s, user=user, generation_id=gid)
            same += pose.seed == req.seed
    mb, mf = statistics.median(bare), statistics.median(full)
    for label, xs, m in (("bare Engine.render   ", bare, mb), ("render_generation (a)", full, mf)):
        print(f"{label}    median {m * 1000:8.1f} ms  (min {min(xs) * 1000:.1f}, max {max(xs) * 1000:.1f})")
    print(f"overhead per pose        {(mf - mb) * 1000:8.1f} ms  = {100 * (mf - mb) / mf:.1f}% of the pipeline's time "
          f"({same}/{len(full)} poses kept their planned seed)")
    svc.close()


def main(argv=None) -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = p.add_subparsers(dest="which", required=True)
    a = sub.add_parser("a", help="per-pose pipeline vs bare engine calls")
    a.add_argument("--n", type=int, default=8)
    a.add_argument("--steps", type=int, default=2)
    a.add_argument("--size", default="portrait")
    a.add_argument("--threads", type=int, default=0, help="torch threads (0: torch's default)")
    a.add_argument("--detector", choices=("none", "auto"), default="none")
    args = p.parse_args(argv)
    bench_a(args)


if __name__ == "__main__":
    main()
