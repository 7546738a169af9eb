"""ProviderEngine: the local engine's API (render, describe, capabilities, embed_images) over a hosted provider.

One RenderRequest is one remote job. render() fans a micro-batch out on PROVIDER_CONCURRENCY threads; each job
is submitted through the provider's queue API (a Remote: fal, Replicate; Hugging Face Inference has no queue, so
its one request is held open), polled with backoff (PROVIDER_POLL_SECONDS, x1.5 per poll, at most 10 s),
cancelled at the provider when the user cancels the pose (the `cancelled` callback) or when
PROVIDER_TIMEOUT_SECONDS run out, and retried PROVIDER_RETRIES times on transient errors (HTTP 5xx, 429, the
network). A job's outcome is a RenderResult: the image with the provider, its model id and its job id, or
`failure` (a ProviderError naming the provider and what it answered), so one pose that failed does not fail the
others of its micro-batch; core.generation refunds it like any infrastructure failure.

What a provider cannot do is said, never silently dropped: capabilities() has likeness / garment off with the
reason (no IP-Adapter at the provider), inpaint off when no inpainting model is set (core then pastes the product
and the Generate page says so before the user pays), embeddings off (identity and garment scores are "not checked":
no image encoder is loaded here). Keys live in the settings and in the clients' headers only: never in describe(),
in a message or in a log line.
"""
from __future__ import annotations

import io
import logging
import random
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Callable
from urllib.parse import urlparse

from core.errors import DomainError, Message
from engine.checks import check_requests

log = logging.getLogger(__name__)

MAX_POLL_SECONDS = 10.0
ANSWER_CHARS = 300          # how much of a provider's answer a message quotes


class ProviderError(DomainError):
    """A hosted render failed. transient: worth another try (5xx, 429, network); job_id: the provider's id, when
    there was one."""

    status = 502
    kind = "provider_error"

    def __init__(self, code: str, /, *, transient: bool = False, job_id: str | None = None, **params):
        super().__init__(code, **params)
        self.transient = transient
        self.job_id = job_id


class Cancelled(Exception):
    """The pose was cancelled (or handed to another worker) while its job ran at the provider."""


def answer_of(text) -> str:
    """A provider's answer, short and on one line, for a message."""
    text = " ".join(str(text or "").split())
    return text if len(text) <= ANSWER_CHARS else text[:ANSWER_CHARS - 1] + "…"


@dataclass(frozen=True)
class Job:
    """One image to render remotely: PNG bytes for the images (sent as data URIs)."""
    prompt: str
    negative_prompt: str
    control: bytes
    seed: int
    width: int
    height: int
    steps: int
    guidance: float
    scale: float
    init: bytes | None = None
    mask: bytes | None = None
    strength: float = 1.0

    @property
    def inpaint(self) -> bool:
        return self.init is not None

    @staticmethod
    def data_uri(data: bytes) -> str:
        import base64

        return "data:image/png;base64," + base64.b64encode(data).decode("ascii")


@dataclass(frozen=True)
class ProviderConfig:
    """What check_requests reads (engine.checks), plus the loop's settings."""
    engine: str
    batch_size: int
    steps: int
    guidance: float
    controlnet_scale: float
    timeout: float
    concurrency: int
    retries: int
    poll: float

    @classmethod
    def from_settings(cls, s) -> "ProviderConfig":
        return cls(s.engine, s.engine_batch_size, s.engine_steps, s.engine_guidance, s.controlnet_scale,
                   s.provider_timeout_seconds, s.provider_concurrency, s.provider_retries, s.provider_poll_seconds)


class Remote:
    """One provider's protocol. Subclasses set name / label / key_setting and implement submit, status, result and
    cancel (queued=True) or run (queued=False), and classify() of their client library's exceptions."""

    name = "?"
    label = "?"
    key_setting = "?"
    base_setting = "?"
    queued = True

    def __init__(self, settings):
        self.settings = settings

    # --- configuration ---------------------------------------------------------------------------
    @property
    def key(self) -> str | None:
        raise NotImplementedError

    @property
    def base_url(self) -> str:
        raise NotImplementedError

    @property
    def host(self) -> str:
        return urlparse(self.base_url).netloc or self.base_url

    def model(self, inpaint: bool = False) -> str:
        raise NotImplementedError

    @property
    def can_inpaint(self) -> bool:
        return False

    @property
    def inpaint_setting(self) -> str:
        return "?"

    def missing(self) -> Message | None:
        """Why this provider cannot render with these settings (no key, no model), else None."""
        if not self.key:
            return Message("provider.no_key", provider=self.label, setting=self.key_setting, engine=self.name)
        return None

    # --- the protocol ----------------------------------------------------------------------------------
    def submit(self, job: Job) -> str:
        raise NotImplementedError

    def status(self, job_id: str) -> tuple[str, str | None]:
        """("queued" | "running" | "done" | "failed" | "cancelled", the provider's error text or None)."""
        raise NotImplementedError

    def result(self, job_id: str) -> bytes:
        raise NotImplementedError

    def cancel(self, job_id: str) -> None:
        raise NotImplementedError

    def run(self, job: Job, timeout: float) -> bytes:
        raise NotImplementedError

    def classify(self, exc: Exception, job_id: str | None = None) -> ProviderError:
        """A ProviderError for one of the client library's exceptions (or any other)."""
        return self.network_error(exc, job_id)

    # --- shared classification -------------------------------------------------------------------------
    def http_error(self, status: int, answer, job_id: str | None = None) -> ProviderError:
        answer = answer_of(answer) or f"HTTP {status}"
        if status in (401, 403):
            return ProviderError("provider.auth", provider=self.label, setting=self.key_setting, http_status=status,
                                 answer=answer, job_id=job_id)
        if status == 429 or status >= 500:
            return ProviderError("provider.unavailable", transient=True, provider=self.label, http_status=status,
                                 answer=answer, tries=1, job_id=job_id)
        return ProviderError("provider.rejected", provider=self.label, http_status=status, answer=answer, job_id=job_id)

    def network_error(self, exc: Exception, job_id: str | None = None) -> ProviderError:
        return ProviderError("provider.unreachable", transient=True, provider=self.label, host=self.host,
                             error=answer_of(f"{type(exc).__name__}: {exc}"), tries=1, job_id=job_id)

    def download(self, url: str) -> bytes:
        """A result file's bytes (the providers answer with URLs on their CDNs)."""
        import httpx

        try:
            response = httpx.get(url, timeout=60, follow_redirects=True)
        except httpx.HTTPError as exc:
            raise self.network_error(exc) from exc
        if response.status_code >= 400:
            raise self.http_error(response.status_code, response.text)
        return response.content

    def describe(self) -> dict:
        return {"provider": self.name, "model": self.model(False),
                "inpaintModel": self.model(True) if self.can_inpaint else None, "host": self.host}


class ProviderEngine:
    """The engine API (engine.pipeline.Engine's; engine.requests' types) over one Remote."""

    remote_engine = True

    def __init__(self, remote: Remote, settings):
        self.remote = remote
        self.settings = settings
        self.config = ProviderConfig.from_settings(settings)
        self.name = remote.name

    # --- the engine API ------------------------------------------------------------------------------------
    def render(self, requests: list, *, steps: int | None = None, guidance: float | None = None,
               controlnet_scale: float | None = None, progress=None,
               cancelled: Callable[[int], bool] | None = None) -> list:
        """One remote job per request, PROVIDER_CONCURRENCY at a time; a RenderResult per request, in order (a
        failed one has image None and `failure` set). `cancelled(i)`: whether request i's pose was cancelled."""
        from engine.requests import RenderRequest

        steps, guidance, scale = check_requests(requests, self.config, steps, guidance, controlnet_scale,
                                                RenderRequest)
        missing = self.remote.missing()
        if missing is not None:
            error = ProviderError(missing.code, **missing.params)
            return [self._failed(r, error) for r in requests]
        jobs = [self._job(r, steps, guidance, scale) for r in requests]
        done = [0]
        lock = threading.Lock()

        def one(i: int):
            result = self._one(i, requests[i], jobs[i], cancelled)
            with lock:
                done[0] += 1
                if progress is not None:
                    progress(done[0], len(jobs))
            return result

        if len(jobs) == 1:
            return [one(0)]
        with ThreadPoolExecutor(max_workers=min(self.config.concurrency, len(jobs)),
                                thread_name_prefix=f"{self.name}-job") as pool:
            return list(pool.map(one, range(len(jobs))))

    def text_to_image(self, prompt: str, **_):
        raise ProviderError("provider.no_text", provider=self.remote.label, model=self.remote.model(False))

    def describe(self) -> dict:
        """What a manifest records: the provider, its model ids, its host (never the key)."""
        return {"engine": self.name, **self.remote.describe(), "remote": True,
                "timeoutSeconds": self.config.timeout, "concurrency": self.config.concurrency}

    def capabilities(self) -> dict:
        return remote_capabilities(self.remote)

    def embed_images(self, images):
        from engine.likeness import EmbeddingUnavailable

        raise EmbeddingUnavailable("provider.no_encoder", provider=self.remote.label)

    # --- one job ---------------------------------------------------------------------------------------------
    def _job(self, r, steps, guidance, scale) -> Job:
        width, height = r.size
        init = mask = None
        if r.init_image is not None:
            init, mask = _png(r.init_image.convert("RGB")), _png(r.mask_image.convert("L"))
        return Job(r.prompt, r.negative_prompt or "", _png(r.control_image.convert("RGB")), int(r.seed), width,
                   height, steps, guidance, scale, init, mask, float(r.strength))

    def _one(self, i: int, request, job: Job, cancelled):
        from engine.requests import RenderResult

        t0 = time.perf_counter()
        deadline = time.monotonic() + self.config.timeout
        model = self.remote.model(job.inpaint)
        job_id = None
        try:
            if self.remote.queued:
                job_id = self._retrying(lambda: self.remote.submit(job), deadline)
                data = self._wait(i, job_id, deadline, cancelled)
            else:
                data = self._retrying(lambda: self.remote.run(job, max(1.0, deadline - time.monotonic())),
                                      deadline)
                if cancelled is not None and cancelled(i):
                    raise Cancelled()
            image = self._image(data, job)
        except Cancelled:
            return self._failed(request, ProviderError("provider.cancelled", provider=self.remote.label,
                                                       job_id=job_id), model=model, cancelled=True)
        except ProviderError as exc:
            exc.job_id = exc.job_id or job_id
            log.warning("%s job %s failed: %s", self.name, exc.job_id, exc.message)
            return self._failed(request, exc, model=model)
        seconds = time.perf_counter() - t0
        model = self.remote.model(job.inpaint)        # now with what submitting learnt (Replicate's version)
        width, height = request.size
        mode = "inpaint" if job.inpaint else "controlnet"
        return RenderResult(image, job.seed, width, height, {"per_image_s": seconds, "batch_size": 1,
                                                               "steps": job.steps}, mode=mode,
                            provider=self.name, model_id=model, provider_job_id=job_id)

    def _failed(self, request, error: ProviderError, *, model: str | None = None, cancelled: bool = False):
        from engine.requests import RenderResult

        width, height = request.size
        return RenderResult(None, int(request.seed), width, height, {}, provider=self.name,
                            model_id=model or self.remote.model(False), provider_job_id=error.job_id,
                            failure=error, cancelled=cancelled)

    def _retrying(self, call, deadline: float):
        """call(), again after a backoff while it raises a transient ProviderError and tries and time remain."""
        tries = 0
        while True:
            tries += 1
            try:
                return call()
            except ProviderError as exc:
                error = exc
            except Exception as exc:  # noqa: BLE001 - the client library's own exception types
                error = self.remote.classify(exc)
            if not error.transient or tries > self.config.retries:
                if error.transient:
                    error = ProviderError(error.code, transient=True, job_id=error.job_id,
                                          **{**error.params, "tries": tries})
                raise error
            pause = min(MAX_POLL_SECONDS, self.config.poll * (2 ** (tries - 1))) * random.uniform(0.8, 1.2)
            if time.monotonic() + pause >= deadline:
                raise self._timeout(error.job_id)
            log.info("%s: %s; trying again in %.1f s", self.name, error.message, pause)
            time.sleep(pause)

    def _wait(self, i: int, job_id: str, deadline: float, cancelled) -> bytes:
        pause = self.config.poll
        while True:
            if cancelled is not None and cancelled(i):
                self._cancel(job_id)
                raise Cancelled()
            if time.monotonic() >= deadline:
                self._cancel(job_id)
                raise self._timeout(job_id)
            state, error = self._retrying(lambda: self.remote.status(job_id), deadline)
            if state == "done":
                return self._retrying(lambda: self.remote.result(job_id), deadline)
            if state in ("failed", "cancelled"):
                raise ProviderError("provider.failed", provider=self.remote.label,
                                    answer=answer_of(error or state), job_id=job_id)
            time.sleep(max(0.0, min(pause, deadline - time.monotonic())))
            pause = min(MAX_POLL_SECONDS, pause * 1.5)

    def _cancel(self, job_id: str) -> None:
        try:
            self.remote.cancel(job_id)
        except Exception as exc:  # noqa: BLE001 - the pose is given up on either way; say so in the log
            log.warning("%s: cancelling job %s failed: %s", self.name, job_id, type(exc).__name__)

    def _timeout(self, job_id: str | None) -> ProviderError:
        return ProviderError("provider.timeout", provider=self.remote.label, seconds=round(self.config.timeout),
                             job_id=job_id)

    def _image(self, data: bytes, job: Job):
        from PIL import Image, UnidentifiedImageError

        try:
            image = Image.open(io.BytesIO(data))
            image.load()
        except (UnidentifiedImageError, OSError, ValueError) as exc:
            raise ProviderError("provider.bad_image", provider=self.remote.label, width=job.width,
                                height=job.height, detail=type(exc).__name__) from exc
        image = image.convert("RGB")
        if image.size != (job.width, job.height):
            w, h = image.size
            if abs(w / h - job.width / job.height) > 0.02:   # another framing: the pose would not line up
                raise ProviderError("provider.bad_image", provider=self.remote.label, width=job.width,
                                    height=job.height, detail=f"got {w}x{h}")
            image = image.resize((job.width, job.height), Image.LANCZOS)
        return image


def remote_capabilities(remote: Remote) -> dict:
    """engine.capabilities' shape for a provider, without a network call."""
    from engine.requests import off_entry as _off

    label, model = remote.label, remote.model(False)
    out = {"likeness": _off(Message("provider.no_likeness", provider=label, model=model)),
           "garment": _off(Message("provider.no_garment", provider=label, model=model)),
           "embeddings": _off(Message("provider.no_encoder", provider=label))}
    if remote.can_inpaint:
        out["inpaint"] = {"on": True, "reason": None, "unet_in_channels": None, "model": remote.model(True)}
    else:
        out["inpaint"] = _off(Message("provider.no_inpaint", provider=label, setting=remote.inpaint_setting))
    out["provider"] = {"name": remote.name, "label": label, "model": model}
    return out


def _png(image) -> bytes:
    out = io.BytesIO()
    image.save(out, "PNG", compress_level=1)
    return out.getvalue()
