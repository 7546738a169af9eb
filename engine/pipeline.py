"""The generation engine: Stable Diffusion (1.5 or XL) + ControlNet OpenPose, one per process per settings.

    from engine.pipeline import RenderRequest, get_engine
    engine = get_engine(settings)                       # created on first use, then reused (thread-safe)
    results = engine.render([RenderRequest(prompt, control_image, seed=7, width=512, height=768), ...])
    results[0].image, results[0].timings                # PIL RGB, {"batch_s", "per_image_s", "batch_size", "steps"}
    candidates = engine.text_to_image("studio portrait of ...", seeds=[1, 2, 3, 4], width=512, height=512)
    engine.describe()                                   # model ids, revisions, commits, device, dtype, ... (manifests)

A micro-batch of B requests is ONE pipeline call with one seeded CPU torch.Generator per image, so each
image's starting noise depends on its own seed only: image i of a batch is the image its seed gives alone
(bit-identical on CPU with ENGINE_EXACT_BATCHES, see engine/device.py; on a GPU equal up to float
rounding). Seeds give the same noise on every device, because the generators live on the CPU.
Requests with different IP-Adapter images (avatars) go in one call per image.

Importing this module is cheap: torch and diffusers are imported when the first engine is built.
Missing weights raise core.errors.ModelUnavailable (503) with a message saying what to do; bad input
raises core.errors.ValidationFailed (422) before any work starts.
"""
from __future__ import annotations

import contextlib
import threading
import time
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Callable

from core.errors import ModelUnavailable, ValidationFailed
from engine.config import MAX_SIDE, MIN_SIDE, EngineConfig

if TYPE_CHECKING:  # pragma: no cover
    from PIL import Image

MAX_SEED = 2**63 - 1
Progress = Callable[[int, int], None]      # (steps done, steps in the whole call)

_engines: dict[EngineConfig, "Engine"] = {}
_lock = threading.Lock()


@dataclass(frozen=True)
class RenderRequest:
    """One pose to render. width/height default to the control image's size (they must match it)."""

    prompt: str
    control_image: "Image.Image"
    seed: int
    negative_prompt: str = ""
    width: int | None = None
    height: int | None = None
    ip_adapter_image: "Image.Image | None" = None

    @property
    def size(self) -> tuple[int, int]:
        w, h = self.control_image.size
        return (self.width or w, self.height or h)


@dataclass
class RenderResult:
    image: "Image.Image"
    seed: int
    width: int
    height: int
    timings: dict[str, float] = field(default_factory=dict)


def get_engine(settings) -> "Engine":
    """The process's engine for these settings: built on first call (loading weights), then reused."""
    config = EngineConfig.from_settings(settings)
    engine = _engines.get(config)
    if engine is not None:
        return engine
    with _lock:
        engine = _engines.get(config)
        if engine is None:
            engine = _engines[config] = Engine(config)    # a failure is not cached: fix the weights, retry
        return engine


def loaded_engines() -> dict[EngineConfig, "Engine"]:
    with _lock:
        return dict(_engines)


def clear_engines() -> None:
    """Forget every engine (tests; frees the weights once nothing else holds them)."""
    with _lock:
        _engines.clear()


def size_presets(settings) -> dict[str, tuple[int, int]]:
    """{"square": (w, h), ...} from OUTPUT_SIZES (auto: the engine's native sizes). No torch."""
    return EngineConfig.from_settings(settings).size_presets


class Engine:
    """A loaded ControlNet pipeline plus its text-to-image twin (same weights, via from_pipe)."""

    def __init__(self, config: EngineConfig):
        from engine.build import load_pipeline

        self.config = config
        self._loaded = load_pipeline(config)
        self.pipe = self._loaded.pipe
        self._t2i = None
        self._lock = threading.Lock()        # one call at a time: schedulers and IP scales are state
        self._blank = None

    # --- public API --------------------------------------------------------------------------
    def render(self, requests: list[RenderRequest], *, steps: int | None = None, guidance: float | None = None,
               controlnet_scale: float | None = None, progress: Progress | None = None) -> list[RenderResult]:
        """Render a micro-batch of poses (at most ENGINE_BATCH_SIZE, one size) in one pipeline call."""
        steps, guidance, scale = self._check(requests, steps, guidance, controlnet_scale)
        width, height = requests[0].size
        return self._run(self.pipe, requests, width, height, steps, guidance, progress,
                         image=[r.control_image.convert("RGB") for r in requests],
                         controlnet_conditioning_scale=scale)

    def text_to_image(self, prompt: str, *, seeds: list[int], width: int, height: int, negative_prompt: str = "",
                      steps: int | None = None, guidance: float | None = None,
                      ip_adapter_image: "Image.Image | None" = None,
                      progress: Progress | None = None) -> list[RenderResult]:
        """One image per seed from text alone (AI avatars), micro-batched by ENGINE_BATCH_SIZE; same weights."""
        if not isinstance(seeds, (list, tuple)) or not seeds:
            raise ValidationFailed("Give at least one seed.", field="seeds")
        _check_size(width, height)
        from PIL import Image

        canvas = Image.new("RGB", (width, height))          # unused by text-to-image; keeps the checks in one place
        requests = [RenderRequest(prompt, canvas, s, negative_prompt, width, height, ip_adapter_image) for s in seeds]
        out: list[RenderResult] = []
        size = self.config.batch_size
        for start in range(0, len(requests), size):
            chunk = requests[start:start + size]
            steps_, guidance_, _ = self._check(chunk, steps, guidance, None)
            out += self._run(self.text_pipe, chunk, width, height, steps_, guidance_, progress)
        return out

    def describe(self) -> dict:
        """What a manifest records about the engine: models (ids, revisions, commits), device, dtype, sampler..."""
        return dict(self._loaded.facts)

    @property
    def text_pipe(self):
        """The text-to-image pipeline sharing this engine's components (built on first use)."""
        if self._t2i is None:
            import diffusers
            from diffusers.utils import logging as dlogging

            cls = diffusers.StableDiffusionXLPipeline if self.config.family == "sdxl" else \
                diffusers.StableDiffusionPipeline
            level = dlogging.get_verbosity()
            dlogging.set_verbosity_error()   # from_pipe's .to(dtype) warns about fp32 modules even when there are none
            try:
                # dtype: from_pipe casts the SHARED modules to it (fp32 when omitted), so pass ours.
                self._t2i = cls.from_pipe(self.pipe, dtype=self._loaded.dtype)
            finally:
                dlogging.set_verbosity(level)
            self._t2i.set_progress_bar_config(disable=True)
        return self._t2i

    @property
    def device(self) -> str:
        return self._loaded.device

    # --- checks --------------------------------------------------------------------------------
    def _check(self, requests, steps, guidance, scale) -> tuple[int, float, float]:
        """Concise errors before any work (as diffusers' check_inputs): nothing is silently corrected."""
        from PIL import Image

        if not isinstance(requests, (list, tuple)) or not requests:
            raise ValidationFailed("Give at least one render request.", field="requests")
        if len(requests) > self.config.batch_size:
            raise ValidationFailed(f"A micro-batch holds at most {self.config.batch_size} images "
                                   f"(ENGINE_BATCH_SIZE); got {len(requests)}.", field="requests")
        for i, r in enumerate(requests):
            if not isinstance(r, RenderRequest):
                raise ValidationFailed(f"Request {i} is a {type(r).__name__}, not a RenderRequest.", field="requests")
            if not isinstance(r.prompt, str) or not isinstance(r.negative_prompt, str):
                raise ValidationFailed(f"Request {i}: prompt and negative prompt must be text.", field="prompt")
            if not isinstance(r.control_image, Image.Image):
                raise ValidationFailed(f"Request {i}: the control image must be a PIL image.", field="control_image")
            if r.ip_adapter_image is not None and not isinstance(r.ip_adapter_image, Image.Image):
                raise ValidationFailed(f"Request {i}: the IP-Adapter image must be a PIL image.",
                                       field="ip_adapter_image")
            if isinstance(r.seed, bool) or not isinstance(r.seed, int) or not 0 <= r.seed <= MAX_SEED:
                raise ValidationFailed(f"Request {i}: seed must be an integer in 0..2^63-1, got {r.seed!r}.",
                                       field="seed")
            _check_size(*r.size)
            if r.control_image.size != r.size:
                raise ValidationFailed(f"Request {i}: the control image is {r.control_image.size[0]}x"
                                       f"{r.control_image.size[1]} but the request asks for {r.size[0]}x"
                                       f"{r.size[1]}; render the skeleton at the output size.",
                                       field="control_image")
            if r.size != requests[0].size:
                raise ValidationFailed(f"All images of a micro-batch share one size: request 0 is "
                                       f"{requests[0].size[0]}x{requests[0].size[1]}, request {i} is "
                                       f"{r.size[0]}x{r.size[1]}.", field="requests")
        steps = self.config.steps if steps is None else steps
        guidance = self.config.guidance if guidance is None else guidance
        scale = self.config.controlnet_scale if scale is None else scale
        if isinstance(steps, bool) or not isinstance(steps, int) or not 1 <= steps <= 150:
            raise ValidationFailed(f"steps must be an integer in 1..150, got {steps!r}.", field="steps")
        if not isinstance(guidance, (int, float)) or not 0 <= guidance <= 30:
            raise ValidationFailed(f"guidance must be in 0..30, got {guidance!r}.", field="guidance")
        if not isinstance(scale, (int, float)) or not 0 <= scale <= 2:
            raise ValidationFailed(f"controlnet_scale must be in 0..2, got {scale!r}.", field="controlnet_scale")
        return steps, float(guidance), float(scale)

    # --- the call ------------------------------------------------------------------------------
    def _run(self, pipe, requests, width, height, steps, guidance, progress, **extra) -> list[RenderResult]:
        import torch

        from engine.device import exact_batches

        groups = self._ip_groups(requests)
        total = steps * len(groups)
        done = [0]

        def on_step(_pipe, _i, _t, kwargs):
            done[0] += 1
            if progress is not None:
                progress(done[0], total)
            return kwargs

        images: list[Any] = [None] * len(requests)
        with self._lock, exact_batches(self.config.exact_batches and self.device == "cpu"), \
                torch.inference_mode(), _out_of_memory_is_clear(len(requests), width, height):
            started = time.perf_counter()                 # after the lock: the call's own time
            for ip_image, idx in groups:
                call = {k: [v[i] for i in idx] if isinstance(v, list) else v for k, v in extra.items()}
                if self._loaded.ip_adapter:
                    pipe.set_ip_adapter_scale(self.config.ip_scale if ip_image is not None else 0.0)
                    call["ip_adapter_image"] = ip_image if ip_image is not None else self._blank_image()
                out = pipe(
                    prompt=[requests[i].prompt for i in idx],
                    negative_prompt=[requests[i].negative_prompt for i in idx],
                    generator=[torch.Generator("cpu").manual_seed(requests[i].seed) for i in idx],
                    width=width, height=height, num_inference_steps=steps, guidance_scale=guidance,
                    callback_on_step_end=on_step, output_type="pil", **call,
                )
                for i, image in zip(idx, out.images):
                    images[i] = image.convert("RGB")
            batch_s = time.perf_counter() - started
        n = len(requests)
        timings = {"batch_s": round(batch_s, 4), "per_image_s": round(batch_s / n, 4), "batch_size": n,
                   "steps": steps}
        return [RenderResult(image=images[i], seed=r.seed, width=width, height=height, timings=dict(timings))
                for i, r in enumerate(requests)]

    def _ip_groups(self, requests) -> list[tuple[Any, list[int]]]:
        """[(ip image or None, request indexes)]: one pipeline call per distinct IP-Adapter image."""
        if not self._loaded.ip_adapter:
            return [(None, list(range(len(requests))))]
        groups: dict[int, tuple[Any, list[int]]] = {}
        for i, r in enumerate(requests):
            image = r.ip_adapter_image
            groups.setdefault(id(image) if image is not None else 0, (image, []))[1].append(i)
        return list(groups.values())

    def _blank_image(self):
        if self._blank is None:
            from PIL import Image

            self._blank = Image.new("RGB", (224, 224))
        return self._blank


@contextlib.contextmanager
def _out_of_memory_is_clear(batch: int, width: int, height: int):
    """A GPU out-of-memory error becomes a ModelUnavailable that says what to lower (no traceback for users)."""
    import torch

    try:
        yield
    except torch.OutOfMemoryError as exc:
        if torch.cuda.is_available():
            torch.cuda.empty_cache()
        raise ModelUnavailable(f"Image generation ran out of GPU memory rendering {batch} image(s) of {width}x"
                               f"{height}. Lower ENGINE_BATCH_SIZE or the output size, or use a larger GPU.") from exc


def _valid_side(v) -> bool:
    return isinstance(v, int) and not isinstance(v, bool) and MIN_SIDE <= v <= MAX_SIDE and v % 8 == 0


def _check_size(width, height) -> None:
    for name, v in (("width", width), ("height", height)):
        if not _valid_side(v):
            raise ValidationFailed(f"{name} must be a multiple of 8 in {MIN_SIDE}..{MAX_SIDE}, got {v!r}.", field=name)
