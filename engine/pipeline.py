"""The generation engine: Stable Diffusion (1.5 or XL) + ControlNet OpenPose [+ inpainting] [+ IP-Adapters],
one per process per settings.

    from engine.pipeline import RenderRequest, get_engine, capabilities
    engine = get_engine(settings)                       # created on first use, then reused (thread-safe)
    results = engine.render([RenderRequest(prompt, control_image, seed=7, width=512, height=768), ...])
    results[0].image, results[0].timings                # PIL RGB, {"batch_s", "per_image_s", "batch_size", "steps"}
    results[0].mode, .likeness, .garment, .left_out     # "controlnet" | "inpaint"; which adapters conditioned it;
                                                        # prompt phrases cut to fit the text encoder's window
    candidates = engine.text_to_image("studio portrait of ...", seeds=[1, 2, 3, 4], width=512, height=512)
    engine.describe()                                   # model ids, revisions, commits, device, dtype, ... (manifests)
    engine.capabilities()                               # likeness / garment / inpaint / embeddings: on, or why not
    capabilities(settings)                              # the same plus the pose check, WITHOUT loading anything
    engine.embed_images([crop_a, crop_b])               # IP-Adapter image-encoder embeddings (engine.likeness)
    engine.fit_prompt(prompt, negative)                 # engine.tokens.FittedPrompt, measured with its tokenizers

Inpainting (engine.inpaint): a request with init_image + mask_image (white = paint) is rendered by the
ControlNet inpaint pipeline built from the same loaded modules (from_pipe), at its `strength`; afterwards the
pixels the mask keeps are the init image's exactly (diffusers' apply_overlay). The product's cut-out placed on
the canvas first, or the garment warped onto the body, is therefore bit-identical where the mask is black.

A micro-batch of B requests is ONE pipeline call with one seeded CPU torch.Generator per image, so each
image's starting noise depends on its own seed only: image i of a batch is the image its seed gives alone
(bit-identical on CPU with ENGINE_EXACT_BATCHES, see engine/device.py; on a GPU equal up to float
rounding). Seeds give the same noise on every device, because the generators live on the CPU.
Requests that differ in what a call shares go in separate calls: plain vs inpaint (an inpaint call also
draws the init image's latents from each generator), strength, the IP-Adapter images (avatar face,
garment). A batch of one avatar and one product at one strength is one call.

Importing this module is cheap: torch and diffusers are imported when the first engine is built.
Missing weights raise core.errors.ModelUnavailable (503) with a message saying what to do; bad input
raises core.errors.ValidationFailed (422) before any work starts (engine.checks).
"""
from __future__ import annotations

import contextlib
import threading
import time
from typing import TYPE_CHECKING, Any, Callable, NamedTuple

from core.errors import ModelUnavailable, ValidationFailed
from engine.checks import MAX_SEED, check_requests, check_size
from engine.config import EngineConfig
from engine.zerogpu import GpuJob, on_gpu   # before torch: on ZeroGPU, `spaces` patches it
from engine import render_thread
from engine.requests import RenderRequest, RenderResult

if TYPE_CHECKING:  # pragma: no cover
    import numpy as np
    from PIL import Image

    from engine.tokens import FittedPrompt, PromptBudget

__all__ = ["MAX_SEED", "RenderRequest", "RenderResult", "Engine", "get_engine", "loaded_engines", "clear_engines",
           "size_presets", "capabilities"]
Progress = Callable[[int, int], None]      # (steps done, steps in the whole call)

_engines: dict[EngineConfig, "Engine"] = {}
_lock = threading.Lock()


class _Group(NamedTuple):
    inpaint: bool
    strength: float
    face: Any
    garment: Any


def get_engine(settings) -> "Engine":
    """The process's local diffusers engine for these settings: built on first call (loading weights), then
    reused. engine.engines.get_engine chooses between it and a hosted provider."""
    config = EngineConfig.from_settings(settings)
    engine = _engines.get(config)
    if engine is not None:
        return engine
    render_thread.configure(getattr(settings, "engine_threads", 0))
    with _lock:
        engine = _engines.get(config)
        if engine is None:   # loaded on the render thread, which owns torch; a failure is not cached: fix, retry
            engine = _engines[config] = render_thread.run(Engine, config)
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


def capabilities(settings) -> dict:
    """What a render with these settings will do, before anything is loaded (engine.capabilities): likeness,
    garment, pose_check, inpaint, embeddings, each {"on": bool, "reason": str | None, ...}. When this
    process already loaded the engine, its own state (what really loaded) replaces the probe."""
    from engine.capabilities import probe_capabilities
    from engine.detector import pose_check_state
    engine = _engines.get(EngineConfig.from_settings(settings))
    if engine is None:
        return probe_capabilities(settings)
    return {**engine.capabilities(), "pose_check": pose_check_state(settings)}


def models_state(settings) -> dict:
    """Whether the base model and ControlNet can be loaded now (a loaded engine, the tiny engine that builds its
    own, or files that are here or may be downloaded), WITHOUT loading them: {"on": bool, "reason": str | None, "message": Message | None} (reason is message's English)."""
    from engine.sources import locate

    config = EngineConfig.from_settings(settings)
    if config.is_tiny or _engines.get(config) is not None:
        return {"on": True, "reason": None}
    try:
        for ref in (config.base, config.controlnet):
            locate(ref, config.policy)
    except ModelUnavailable as exc:
        return {"on": False, "reason": exc.message, "message": exc.msg}
    return {"on": True, "reason": None}


class Engine:
    """A loaded ControlNet pipeline plus its twins on the same modules (from_pipe): text-to-image, inpaint."""

    def __init__(self, config: EngineConfig, loaded=None):
        """Loads what `config` describes; or wraps `loaded`, an engine.build.Loaded made elsewhere (the
        benchmark's full-size random-weight pipelines), so it renders through exactly this code."""
        from engine.build import load_pipeline

        self.config = config
        self._loaded = loaded if loaded is not None else load_pipeline(config)
        self.pipe = self._loaded.pipe
        self._twins: dict[str, Any] = {}
        self._lock = threading.Lock()        # one call at a time: schedulers and IP scales are state
        self._blank = None
        self._budget = None

    # --- public API (each runs on the process's render thread: engine.render_thread) --------------
    @render_thread.on_render_thread
    def render(self, requests: list[RenderRequest], *, steps: int | None = None, guidance: float | None = None,
               controlnet_scale: float | None = None, progress: Progress | None = None) -> list[RenderResult]:
        """Render a micro-batch of poses (at most ENGINE_BATCH_SIZE, one size): one pipeline call per group."""
        steps, guidance, scale = check_requests(requests, self.config, steps, guidance, controlnet_scale,
                                                RenderRequest)
        width, height = requests[0].size

        def call_for(idx: list[int], group: _Group):
            controls = [requests[i].control_image.convert("RGB") for i in idx]
            args = {"controlnet_conditioning_scale": scale}
            if group.inpaint or self.unet_in_channels == 9:
                inits, masks = self._masks([requests[i] for i in idx], width, height)
                return self.inpaint_pipe, {**args, "image": inits, "mask_image": masks, "control_image": controls,
                                           "strength": group.strength}
            return self.pipe, {**args, "image": controls}

        return self._run(requests, width, height, steps, guidance, progress, call_for)

    @render_thread.on_render_thread
    def text_to_image(self, prompt: str, *, seeds: list[int], width: int, height: int, negative_prompt: str = "",
                      steps: int | None = None, guidance: float | None = None,
                      ip_adapter_image: "Image.Image | None" = None,
                      progress: Progress | None = None) -> list[RenderResult]:
        """One image per seed from text alone (AI avatars), micro-batched by ENGINE_BATCH_SIZE; same weights."""
        if not isinstance(seeds, (list, tuple)) or not seeds:
            raise ValidationFailed("engine.no_seeds", field="seeds")
        check_size(width, height)
        from PIL import Image

        canvas = Image.new("RGB", (width, height))          # unused by text-to-image; keeps the checks in one place
        requests = [RenderRequest(prompt, canvas, s, negative_prompt, width, height, ip_adapter_image) for s in seeds]

        def call_for(idx: list[int], group: _Group):
            if self.unet_in_channels == 9:
                inits, masks = self._masks([requests[i] for i in idx], width, height)
                return self._twin("text_inpaint"), {"image": inits, "mask_image": masks, "strength": 1.0}
            return self.text_pipe, {}

        out: list[RenderResult] = []
        size = self.config.batch_size
        for start in range(0, len(requests), size):
            chunk = requests[start:start + size]
            steps_, guidance_, _ = check_requests(chunk, self.config, steps, guidance, None, RenderRequest)
            out += self._run(chunk, width, height, steps_, guidance_, progress, call_for)
        return out

    def describe(self) -> dict:
        """What a manifest records: models (ids, revisions, commits), device, dtype, sampler..., torch's threads."""
        return {**self._loaded.facts, "threads": render_thread.state()["threads"]}

    def capabilities(self) -> dict:
        """likeness / garment / inpaint / embeddings as the loaded engine has them (engine.capabilities' shape)."""
        from engine.capabilities import adapter_entries, embeddings_entry

        out = adapter_entries(self.config, self._loaded.adapter_states)
        out["inpaint"] = {"on": True, "reason": None, "unet_in_channels": self.unet_in_channels}
        out["embeddings"] = embeddings_entry(self._loaded.adapter_states)
        return out

    @render_thread.on_render_thread
    def embed_images(self, images: "list[Image.Image]") -> "list[np.ndarray]":
        """L2-normalised image-encoder embeddings (engine.likeness); EmbeddingUnavailable when none is loaded."""
        from engine.capabilities import embeddings_why
        from engine.device import exact_batches
        from engine.likeness import embed

        why = embeddings_why(self._loaded.adapter_states)
        with self._lock, exact_batches(self.config.exact_batches and self.device == "cpu"):
            return embed(self.pipe, images, device=self.device, why=why)

    @property
    def prompt_budget(self) -> "PromptBudget":
        """The token budget measured with this pipeline's own tokenizer(s) (engine.tokens)."""
        if self._budget is None:
            from engine.tokens import budget_of

            self._budget = budget_of(self.pipe)
        return self._budget

    def fit_prompt(self, prompt: str, negative_prompt: str = "") -> "FittedPrompt":
        return self.prompt_budget.fit(prompt, negative_prompt)

    @property
    def text_pipe(self):
        """The text-to-image pipeline sharing this engine's components (built on first use)."""
        return self._twin("text")

    @property
    def inpaint_pipe(self):
        """The ControlNet inpaint pipeline sharing this engine's components (built on first use)."""
        return self._twin("inpaint")

    @property
    def unet_in_channels(self) -> int:
        return int(self.pipe.unet.config.in_channels)

    @property
    def device(self) -> str:
        return self._loaded.device

    # --- the call ------------------------------------------------------------------------------
    def _twin(self, kind: str):
        if kind not in self._twins:
            from engine import inpaint

            family, dtype = self.config.family, self._loaded.dtype
            if kind == "text":
                self._twins[kind] = inpaint.text_pipe(self.pipe, family, dtype)
            elif kind == "inpaint":
                self._twins[kind] = inpaint.inpaint_pipe(self.pipe, family, dtype)
            else:
                self._twins[kind] = inpaint.text_inpaint_pipe(self.pipe, family, dtype)
        return self._twins[kind]

    def _masks(self, requests, width, height) -> tuple[list, list]:
        from engine.inpaint import full_mask

        pairs = [(r.init_image.convert("RGB"), r.mask_image.convert("L")) if r.mask_image is not None
                 else full_mask(width, height) for r in requests]
        return [p[0] for p in pairs], [p[1] for p in pairs]

    def _groups(self, requests) -> list[tuple[_Group, list[int]]]:
        """[(what one call shares, request indexes)], in order of first appearance."""
        roles = self._loaded.adapters
        groups: dict[tuple, tuple[_Group, list[int]]] = {}
        for i, r in enumerate(requests):
            face = r.ip_adapter_image if "face" in roles else None
            garment = r.garment_image if "garment" in roles else None
            group = _Group(r.mask_image is not None, float(r.strength), face, garment)
            key = (group.inpaint, group.strength, id(face) if face is not None else 0,
                   id(garment) if garment is not None else 0)
            groups.setdefault(key, (group, []))[1].append(i)
        return list(groups.values())

    def _ip_args(self, pipe, group: _Group) -> dict:
        roles = self._loaded.adapters
        if not roles:
            return {}
        scales = {a.role: a.scale for a in self.config.adapters}
        images = [group.face if role == "face" else group.garment for role in roles]
        weights = [scales[role] if image is not None else 0.0 for role, image in zip(roles, images)]
        images = [image if image is not None else self._blank_image() for image in images]
        pipe.set_ip_adapter_scale(weights[0] if len(weights) == 1 else weights)
        return {"ip_adapter_image": images[0] if len(images) == 1 else images}

    def _run(self, requests, width, height, steps, guidance, progress, call_for) -> list[RenderResult]:
        import torch

        from engine.device import exact_batches
        from engine.inpaint import restore, steps_run

        groups = self._groups(requests)
        total = sum(steps_run(steps, g.strength) for g, _ in groups)
        fitted = [self.fit_prompt(r.prompt, r.negative_prompt) for r in requests]
        done = [0]

        def on_step(_pipe, _i, _t, kwargs):
            done[0] = min(done[0] + 1, total)
            if progress is not None:
                progress(done[0], total)
            return kwargs

        images: list[Any] = [None] * len(requests)

        def calls():     # every pipeline call of the micro-batch: on ZeroGPU, one GPU request (engine.zerogpu)
            with torch.inference_mode():
                for group, idx in groups:
                    pipe, call = call_for(idx, group)
                    call.update(self._ip_args(pipe, group))
                    out = pipe(
                        prompt=[fitted[i].prompt for i in idx],
                        negative_prompt=[fitted[i].negative_prompt for i in idx],
                        generator=[torch.Generator("cpu").manual_seed(requests[i].seed) for i in idx],
                        width=width, height=height, num_inference_steps=steps, guidance_scale=guidance,
                        callback_on_step_end=on_step, output_type="pil", **call,
                    )
                    for i, image in zip(idx, out.images):
                        r = requests[i]
                        image = image.convert("RGB")
                        images[i] = restore(image, r.init_image, r.mask_image) if r.mask_image is not None else image

        with self._lock, exact_batches(self.config.exact_batches and self.device == "cpu"), \
                _out_of_memory_is_clear(len(requests), width, height):
            started = time.perf_counter()                 # after the lock: the call's own time
            on_gpu(GpuJob(calls, image_steps=sum(len(idx) * steps_run(steps, g.strength) for g, idx in groups)))
            batch_s = time.perf_counter() - started
        n = len(requests)
        timings = {"batch_s": round(batch_s, 4), "per_image_s": round(batch_s / n, 4), "batch_size": n,
                   "steps": steps}
        by_index = {i: g for g, idx in groups for i in idx}
        return [RenderResult(image=images[i], seed=r.seed, width=width, height=height, timings=dict(timings),
                             mode="inpaint" if r.mask_image is not None else "controlnet",
                             likeness=by_index[i].face is not None, garment=by_index[i].garment is not None,
                             left_out=fitted[i].left_out, negative_left_out=fitted[i].negative_left_out)
                for i, r in enumerate(requests)]

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
        raise ModelUnavailable("engine.out_of_memory", batch=batch, width=width, height=height) from exc
