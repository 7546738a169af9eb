"""Hugging Face Inference through huggingface_hub's InferenceClient: image_to_image, the skeleton in, the photo out.

    InferenceClient(model=HF_MODEL, provider=HF_INFERENCE_PROVIDER, token=HF_TOKEN)      the router; or
    InferenceClient(base_url=HF_INFERENCE_BASE_URL, token=HF_TOKEN)                       an Inference Endpoint
    client.image_to_image(skeleton_png, prompt, negative_prompt=, num_inference_steps=, guidance_scale=,
                          target_size={"width", "height"}, seed=, controlnet_conditioning_scale=)

This protocol has no queue: one request is held open until the image comes back (at most what is left of
PROVIDER_TIMEOUT_SECONDS); there is no job id and nothing to cancel at the provider — a cancelled pose's answer is
dropped when it arrives. A model still loading (HTTP 503) or a rate limit (429) is retried like any transient
error. Inpainting is not offered (image_to_image takes one image).
"""
from __future__ import annotations

from core.errors import Message
from engine.providers.base import Job, ProviderError, Remote


class HfRemote(Remote):
    name = "hf"
    label = "Hugging Face Inference"
    key_setting = "HF_TOKEN"
    base_setting = "HF_INFERENCE_BASE_URL"
    queued = False

    @property
    def key(self):
        return self.settings.hf_token

    @property
    def base_url(self) -> str:
        return self.settings.hf_inference_base_url or f"https://router.huggingface.co/{self.provider}"

    @property
    def provider(self) -> str:
        return self.settings.hf_inference_provider

    def model(self, inpaint: bool = False) -> str:
        return self.settings.hf_model or self.settings.hf_inference_base_url or "?"

    def missing(self) -> Message | None:
        from engine.sources import hub_offline

        why = super().missing()
        if why is None and hub_offline():
            return Message("provider.hf_offline", provider=self.label)
        if why is None and not (self.settings.hf_model or self.settings.hf_inference_base_url):
            why = Message("provider.no_model", provider=self.label,
                          detail="set HF_MODEL to an image-to-image model with a pose ControlNet that "
                                 "HF_INFERENCE_PROVIDER serves, or HF_INFERENCE_BASE_URL to your Inference Endpoint")
        return why

    def run(self, job: Job, timeout: float) -> bytes:
        import io

        from huggingface_hub import InferenceClient

        s = self.settings
        if s.hf_inference_base_url:
            client = InferenceClient(base_url=s.hf_inference_base_url, token=self.key, timeout=timeout)
        else:
            client = InferenceClient(model=s.hf_model, provider=self.provider, token=self.key, timeout=timeout)
        try:
            image = client.image_to_image(job.control, prompt=job.prompt, negative_prompt=job.negative_prompt or None,
                                          num_inference_steps=job.steps, guidance_scale=job.guidance,
                                          target_size={"width": job.width, "height": job.height}, seed=job.seed,
                                          controlnet_conditioning_scale=job.scale)
        except Exception as exc:  # noqa: BLE001
            raise self.classify(exc) from exc
        out = io.BytesIO()
        image.save(out, "PNG")
        return out.getvalue()

    def classify(self, exc: Exception, job_id: str | None = None) -> ProviderError:
        from huggingface_hub.errors import HfHubHTTPError, InferenceTimeoutError, OfflineModeIsEnabled

        if isinstance(exc, ProviderError):
            return exc
        if isinstance(exc, OfflineModeIsEnabled):
            return ProviderError("provider.hf_offline", provider=self.label)
        if isinstance(exc, InferenceTimeoutError):
            return ProviderError("provider.timeout", provider=self.label,
                                 seconds=round(self.settings.provider_timeout_seconds))
        if isinstance(exc, HfHubHTTPError) and exc.response is not None:
            return self.http_error(exc.response.status_code, exc.server_message or str(exc).splitlines()[0])
        return self.network_error(exc, job_id)

    def describe(self) -> dict:
        return {**super().describe(), "inferenceProvider": None if self.settings.hf_inference_base_url
                else self.provider}
