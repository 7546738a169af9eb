"""Replicate through its own client (replicate): the predictions API — create, get, cancel.

    GET  {REPLICATE_BASE_URL}/v1/models/{owner}/{name}      once, when REPLICATE_MODEL names no version: its
                                                            latest version, which every image then records
    POST /v1/predictions {"version", "input": {"prompt", "negative_prompt", "image": data URI, "seed", "width",
                          "height", "num_inference_steps", "guidance_scale", "condition_scale"
                          (+ "mask", "prompt_strength" and the init image as "image" when inpainting)}}
    GET  /v1/predictions/{id}   POST /v1/predictions/{id}/cancel

Replicate's models are community models with their own input names: REPLICATE_INPUTS renames ours (a JSON
object, null drops one), e.g. {"image": "controlnet_1_image"}. The pose goes in as our OpenPose drawing; a model
that runs its own pose detector on its input would see no person in it — the pose check then fails those images,
it never passes them. The output (a URL or a list of URLs) is downloaded; the first image is the result.
"""
from __future__ import annotations

import json
import threading

from core.errors import Message
from engine.providers.base import Job, ProviderError, Remote

_versions: dict[tuple, str] = {}
_lock = threading.Lock()
STATES = {"starting": "queued", "processing": "running", "succeeded": "done", "failed": "failed",
          "canceled": "cancelled", "aborted": "cancelled"}


class ReplicateRemote(Remote):
    name = "replicate"
    label = "Replicate"
    key_setting = "REPLICATE_API_TOKEN"
    base_setting = "REPLICATE_BASE_URL"

    def __init__(self, settings):
        super().__init__(settings)
        self._client_obj = None

    @property
    def key(self):
        return self.settings.replicate_api_token

    @property
    def base_url(self) -> str:
        return self.settings.replicate_base_url

    def model(self, inpaint: bool = False) -> str:
        """owner/name:version once the version is known (what each image records), else REPLICATE_MODEL."""
        model = self.settings.replicate_model
        version = _versions.get((self.base_url, model))
        return f"{model}:{version}" if version and ":" not in model else model

    @property
    def can_inpaint(self) -> bool:
        return bool(self.settings.replicate_inpaint)

    @property
    def inpaint_setting(self) -> str:
        return "REPLICATE_INPAINT"

    def missing(self) -> Message | None:
        why = super().missing()
        if why is not None:
            return why
        try:
            self.renames()
        except ValueError as exc:
            return Message("provider.no_model", provider=self.label, detail=f"REPLICATE_INPUTS: {exc}")
        return None

    def renames(self) -> dict:
        try:
            value = json.loads(self.settings.replicate_inputs or "{}")
        except ValueError as exc:
            raise ValueError(f"not JSON ({exc.msg})") from None
        if not isinstance(value, dict) or not all(isinstance(v, str) or v is None for v in value.values()):
            raise ValueError('a JSON object of input names, e.g. {"image": "controlnet_image"}')
        return value

    @property
    def client(self):
        if self._client_obj is None:
            import replicate

            self._client_obj = replicate.Client(api_token=self.key, base_url=self.base_url,
                                                timeout=min(120.0, self.settings.provider_timeout_seconds))
        return self._client_obj

    def version(self) -> str:
        """REPLICATE_MODEL's version: the one it names, or its latest (looked up once per process)."""
        model = self.settings.replicate_model
        if ":" in model:
            return model.split(":", 1)[1]
        key = (self.base_url, model)
        with _lock:
            if key not in _versions:
                try:
                    found = self.client.models.get(model).latest_version
                except Exception as exc:  # noqa: BLE001
                    raise self.classify(exc) from exc
                if found is None:
                    raise ProviderError("provider.no_model", provider=self.label,
                                        detail=f"REPLICATE_MODEL {model} has no version")
                _versions[key] = found.id
            return _versions[key]

    def inputs(self, job: Job) -> dict:
        ours = {"prompt": job.prompt, "negative_prompt": job.negative_prompt, "image": job.data_uri(job.control),
                "seed": job.seed, "width": job.width, "height": job.height, "num_inference_steps": job.steps,
                "guidance_scale": job.guidance, "condition_scale": job.scale}
        if job.inpaint:
            ours.update(image=job.data_uri(job.init), mask=job.data_uri(job.mask), prompt_strength=job.strength,
                        control_image=job.data_uri(job.control))
        out = {}
        renames = self.renames()
        for name, value in ours.items():
            target = renames.get(name, name)
            if target is not None:
                out[target] = value
        return out

    def submit(self, job: Job) -> str:
        version = self.version()
        try:
            prediction = self.client.predictions.create(version=version, input=self.inputs(job))
        except Exception as exc:  # noqa: BLE001
            raise self.classify(exc) from exc
        return prediction.id

    def _get(self, job_id: str):
        try:
            return self.client.predictions.get(job_id)
        except Exception as exc:  # noqa: BLE001
            raise self.classify(exc, job_id) from exc

    def status(self, job_id: str) -> tuple[str, str | None]:
        prediction = self._get(job_id)
        state = STATES.get(prediction.status, "running")
        return state, (str(prediction.error) if prediction.error else None)

    def result(self, job_id: str) -> bytes:
        output = self._get(job_id).output
        url = output[0] if isinstance(output, list) and output else output
        if not isinstance(url, str) or not url:
            raise ProviderError("provider.failed", provider=self.label, answer="no image in the output",
                                job_id=job_id)
        return self.download(url)

    def cancel(self, job_id: str) -> None:
        try:
            self.client.predictions.cancel(job_id)
        except Exception as exc:  # noqa: BLE001
            raise self.classify(exc, job_id) from exc

    def classify(self, exc: Exception, job_id: str | None = None) -> ProviderError:
        from replicate.exceptions import ReplicateError

        if isinstance(exc, ProviderError):
            return exc
        if isinstance(exc, ReplicateError) and exc.status:
            return self.http_error(exc.status, exc.detail or exc.title, job_id)
        return self.network_error(exc, job_id)

    def describe(self) -> dict:
        model = self.settings.replicate_model
        try:
            version = self.version() if self.key else None
        except ProviderError:
            version = None
        return {**super().describe(), "model": model.split(":", 1)[0], "version": version}
