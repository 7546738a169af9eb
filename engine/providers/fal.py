"""fal.ai through its own client (fal-client): the queue API — submit, status, result, cancel.

    POST {FAL_BASE_URL}/{FAL_MODEL}           {"prompt", "negative_prompt", "openpose_image_url": data URI,
                                               "openpose_preprocess": false, "image_size": {"width", "height"},
                                               "num_inference_steps", "guidance_scale",
                                               "controlnet_conditioning_scale", "seed", "num_images": 1,
                                               "enable_safety_checker": false, "format": "png"}
                                              (+ "image_url", "mask_url", "strength" on FAL_INPAINT_MODEL)
    GET  <status_url> / GET <response_url> / PUT <cancel_url>   as the submit answer names them

The default model, fal-ai/sdxl-controlnet-union, is SDXL with xinsir's union ControlNet; our skeleton is already
an OpenPose drawing, so fal's own pose preprocessor is off. fal-client's queue host is a module constant
(https://queue.fal.run, from FAL_QUEUE_RUN_HOST at import); FAL_BASE_URL reaches a proxy, a gateway or a test
server through the client's own httpx client, whose transport sends fal's queue URLs to that base instead.
"""
from __future__ import annotations

import threading

import httpx

from engine.providers.base import Job, ProviderError, Remote

_clients: dict[tuple, object] = {}
_lock = threading.Lock()


class Unreachable(OSError):
    """fal could not be reached. Raised instead of httpx's own error so that fal-client's retry loop (up to ten
    tries, ~50 s of backoff, blind to PROVIDER_TIMEOUT_SECONDS) lets it through: ProviderEngine retries it
    within PROVIDER_RETRIES and the deadline, like every provider's."""


class _Rebase(httpx.BaseTransport):
    """An httpx transport that sends requests for fal's queue host to FAL_BASE_URL."""

    def __init__(self, prefix: str, base: str):
        self.prefix, self.base = prefix, base.rstrip("/") + "/"
        self._inner = httpx.HTTPTransport(retries=0)

    def handle_request(self, request):
        url = str(request.url)
        if url.startswith(self.prefix) and self.base != self.prefix:
            request.url = httpx.URL(self.base + url[len(self.prefix):])
            request.headers["Host"] = request.url.netloc.decode("ascii")
        try:
            return self._inner.handle_request(request)
        except httpx.TransportError as exc:
            raise Unreachable(str(exc)) from exc

    def close(self):
        self._inner.close()


def _client(key: str, base: str, timeout: float):
    """One fal SyncClient per (key, base): its httpx client keeps connections alive between polls."""
    cache_key = (key, base, timeout)
    with _lock:
        client = _clients.get(cache_key)
        if client is None:
            import fal_client
            from fal_client import client as fal_module

            client = fal_client.SyncClient(key=key, default_timeout=timeout)
            # the client's own cached httpx client, with the same headers it would build, on our transport
            client.__dict__["_client"] = httpx.Client(
                transport=_Rebase(fal_module.QUEUE_URL_FORMAT, base), timeout=timeout, follow_redirects=True,
                headers={"Authorization": f"Key {key}", "User-Agent": fal_module.USER_AGENT})
            _clients[cache_key] = client
        return client


class FalRemote(Remote):
    name = "fal"
    label = "fal"
    key_setting = "FAL_KEY"
    base_setting = "FAL_BASE_URL"

    def __init__(self, settings):
        super().__init__(settings)
        self._handles: dict[str, object] = {}
        self._handles_lock = threading.Lock()

    @property
    def key(self):
        return self.settings.fal_key

    @property
    def base_url(self) -> str:
        return self.settings.fal_base_url

    def model(self, inpaint: bool = False) -> str:
        return (self.settings.fal_inpaint_model if inpaint else None) or self.settings.fal_model

    @property
    def can_inpaint(self) -> bool:
        return bool(self.settings.fal_inpaint_model)

    @property
    def inpaint_setting(self) -> str:
        return "FAL_INPAINT_MODEL"

    @property
    def _client(self):
        return _client(self.key, self.base_url, min(120.0, self.settings.provider_timeout_seconds))

    def arguments(self, job: Job) -> dict:
        args = {"prompt": job.prompt, "negative_prompt": job.negative_prompt,
                "openpose_image_url": job.data_uri(job.control), "openpose_preprocess": False,
                "image_size": {"width": job.width, "height": job.height}, "num_inference_steps": job.steps,
                "guidance_scale": job.guidance, "controlnet_conditioning_scale": job.scale, "seed": job.seed,
                "num_images": 1, "enable_safety_checker": False, "format": "png"}
        if job.inpaint:
            args.update(image_url=job.data_uri(job.init), mask_url=job.data_uri(job.mask), strength=job.strength)
        return args

    def submit(self, job: Job) -> str:
        try:
            handle = self._client.submit(self.model(job.inpaint), self.arguments(job))
        except Exception as exc:  # noqa: BLE001 - classified below
            raise self.classify(exc) from exc
        with self._handles_lock:
            self._handles[handle.request_id] = handle
        return handle.request_id

    def _handle(self, job_id: str):
        with self._handles_lock:
            return self._handles[job_id]

    def status(self, job_id: str) -> tuple[str, str | None]:
        from fal_client import Completed, InProgress, Queued

        try:
            state = self._handle(job_id).status()
        except Exception as exc:  # noqa: BLE001
            raise self.classify(exc, job_id) from exc
        if isinstance(state, Completed):
            if state.error:
                return "failed", f"{state.error_type or 'error'}: {state.error}" if state.error_type else state.error
            return "done", None
        if isinstance(state, (Queued, InProgress)):
            return ("queued" if isinstance(state, Queued) else "running"), None
        return "running", None

    def result(self, job_id: str) -> bytes:
        handle = self._handle(job_id)
        try:
            response = handle.client.get(handle.response_url)
        except (httpx.HTTPError, Unreachable) as exc:
            raise self.classify(exc, job_id) from exc
        if response.status_code >= 400:
            raise self.http_error(response.status_code, _detail(response), job_id)
        body = response.json()
        images = body.get("images") or ([body["image"]] if body.get("image") else [])
        if not images or not images[0].get("url"):
            raise ProviderError("provider.failed", provider=self.label, answer="no image in the answer",
                                job_id=job_id)
        with self._handles_lock:
            self._handles.pop(job_id, None)
        return self.download_image(images[0]["url"])

    def download_image(self, url: str) -> bytes:
        if url.startswith("data:"):
            import base64

            return base64.b64decode(url.split(",", 1)[1])
        return self.download(url)

    def cancel(self, job_id: str) -> None:
        handle = self._handle(job_id)
        try:
            handle.cancel()
        except Exception as exc:  # noqa: BLE001
            raise self.classify(exc, job_id) from exc
        finally:
            with self._handles_lock:
                self._handles.pop(job_id, None)

    def classify(self, exc: Exception, job_id: str | None = None) -> ProviderError:
        from fal_client.client import FalClientHTTPError

        if isinstance(exc, ProviderError):
            return exc
        if isinstance(exc, FalClientHTTPError):
            return self.http_error(exc.status_code, exc.message, job_id)
        return self.network_error(exc.__cause__ if isinstance(exc, Unreachable) and exc.__cause__ else exc, job_id)


def _detail(response) -> str:
    try:
        body = response.json()
    except ValueError:
        return response.text
    return str(body.get("detail", body)) if isinstance(body, dict) else str(body)
