"""ZeroGPU (issue 15): with the real `spaces` package, every micro-batch's pipeline calls go through ONE function
decorated at import with spaces.GPU(duration=...) whose duration comes from the micro-batch's images and
steps. Outside a ZeroGPU Space the decorator hands the function back unchanged: a tiny batch renders through
that same path on CPU here. On a ZeroGPU Space (SPACES_ZERO_GPU=true) the function is the real ZeroGPU
wrapper; that is checked in a fresh interpreter (its GPU requests need the Space's device API, not here)."""
from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import spaces

from engine import zerogpu
from engine.pipeline import RenderRequest

ROOT = Path(__file__).resolve().parents[2]


def test_a_tiny_batch_renders_through_the_spaces_gpu_path(tiny_engine, control_images):
    assert zerogpu.available() and not zerogpu.zero_gpu()
    assert spaces.GPU(zerogpu._call, duration=zerogpu._duration) is zerogpu.on_gpu is zerogpu._call
    before = zerogpu.calls
    results = tiny_engine.render([RenderRequest("a person", c, 7 + i) for i, c in enumerate(control_images)],
                                 steps=2)
    assert zerogpu.calls == before + 1                      # the micro-batch: one GPU request
    assert len(results) == 3 and all(r.image.size == control_images[0].size for r in results)
    again = tiny_engine.render([RenderRequest("a person", control_images[0], 7)], steps=2)
    assert again[0].image.tobytes() == results[0].image.tobytes()   # the same pixels either way


def test_the_duration_follows_the_micro_batch():
    assert zerogpu.GpuJob(lambda: None, image_steps=4 * 25).seconds == 22         # 10 s + 0.12 s per image-step
    assert zerogpu.GpuJob(lambda: None, image_steps=1 * 6).seconds == 11          # a few-step single image
    assert zerogpu.GpuJob(lambda: None, image_steps=16 * 80).seconds == zerogpu.MAX_S   # capped


def test_on_a_zerogpu_space_the_function_is_the_real_zerogpu_wrapper():
    code = ("import engine.zerogpu as z, spaces.zero.decorator as d\n"
            "print(z.zero_gpu(), hasattr(z.on_gpu, 'zerogpu'), z.on_gpu is not z._call,\n"
            "      d.decorated_cache.get(z._call) is z.on_gpu)\n")
    env = {"PATH": "/usr/bin:/bin", "HOME": str(Path.home()), "SPACES_ZERO_GPU": "true",
           "SPACES_ZERO_DEVICE_API_URL": "http://127.0.0.1:9", "PYTHONPATH": str(ROOT)}
    out = subprocess.run([sys.executable, "-W", "ignore", "-c", code], cwd=ROOT, env=env, capture_output=True,
                         text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    assert out.stdout.split() == ["True", "True", "True", "True"]
