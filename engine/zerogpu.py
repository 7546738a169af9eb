"""ZeroGPU (Hugging Face Spaces' shared H200 slices): the engine's pipeline calls run inside `spaces.GPU`.

    out = on_gpu(GpuJob(lambda: pipe(...), image_steps=4 * 25))

When the `spaces` package is importable (it is on every Space), the ONE function that runs a micro-batch's
pipeline calls is decorated at import with `spaces.GPU(duration=...)`, its duration read from the job: a
fixed start-up allowance plus a per image-step time, so a 4-image, 25-step micro-batch asks for about 27 s and
a single image for less (ZeroGPU schedules short requests first and counts them against the visitor's quota).
Outside a ZeroGPU Space (SPACES_ZERO_GPU unset) `spaces.GPU` returns the function unchanged: the same call
path, no cost. Without the package, the plain function runs.

This module is imported by engine.pipeline at module level, before torch: on ZeroGPU, `spaces` must be
imported before CUDA is touched (it patches torch so the weights load to "cuda" lazily).
"""
from __future__ import annotations

import math
import threading
from dataclasses import dataclass
from typing import Any, Callable

START_S = 10.0                 # the GPU slice's attach and the first kernels
PER_IMAGE_STEP_S = 0.12        # SD 1.5 at 512x768 on an H200 slice, with room (SDXL at 1024 fits under it too)
MAX_S = 120                    # ZeroGPU's longest request for a Space

try:  # pragma: no cover - present on Spaces and in the dev requirements
    import spaces as _spaces
except ImportError:  # pragma: no cover
    _spaces = None

calls = 0                      # micro-batches run through on_gpu in this process (tests, the System page)
_count = threading.Lock()


@dataclass
class GpuJob:
    run: Callable[[], Any]
    image_steps: int            # the denoising steps of every image of the micro-batch, summed

    @property
    def seconds(self) -> int:
        return int(min(MAX_S, math.ceil(START_S + PER_IMAGE_STEP_S * self.image_steps)))


def _duration(job: GpuJob) -> int:
    return job.seconds


def _call(job: GpuJob):
    global calls
    with _count:
        calls += 1
    return job.run()


# decorated once, at import (what ZeroGPU requires); a no-op wrapper outside ZeroGPU
on_gpu: Callable[[GpuJob], Any] = _spaces.GPU(_call, duration=_duration) if _spaces is not None else _call


def available() -> bool:
    """The `spaces` package is here (its decorator is applied); whether this is a ZeroGPU Space is its call."""
    return _spaces is not None


def zero_gpu() -> bool:
    """This process runs on a ZeroGPU Space (spaces' own reading of SPACES_ZERO_GPU)."""
    return bool(_spaces is not None and getattr(getattr(_spaces, "config", None), "Config", None)
                and _spaces.config.Config.zero_gpu)
