"""Hosted inference: fal, Replicate and Hugging Face Inference render behind the same engine API as the local
diffusers engine (engine.pipeline.Engine), so the batch runner, retries, credits, the pose check and the manifest
treat them alike.

    engine.providers.base      ProviderEngine: one RenderRequest -> one remote job (submit, poll with backoff,
                               cancel, PROVIDER_TIMEOUT_SECONDS, retries of transient errors), a micro-batch fanned
                               out up to PROVIDER_CONCURRENCY; ProviderError names the provider and what it answered
    engine.providers.fal       fal's queue API through fal-client
    engine.providers.replicate Replicate's predictions API through the replicate client
    engine.providers.hf        Hugging Face Inference (image_to_image) through huggingface_hub's InferenceClient
    engine.providers.fallback  ENGINE_FALLBACK: the poses one engine could not render go to the next

    from engine.providers import PROVIDERS, is_provider
    engine.engines.get_engine(settings)   # chooses this package for ENGINE=fal|replicate|hf or ENGINE_FALLBACK

Nothing here imports a client library at module top: importing costs nothing, and the web process imports
fal_client / replicate only when it renders (it never does with a render process or workers).
"""
from __future__ import annotations

PROVIDERS = ("fal", "replicate", "hf")


def is_provider(name: str | None) -> bool:
    return name in PROVIDERS


def chain(settings) -> list[str]:
    """ENGINE, then ENGINE_FALLBACK's engines in order, each once."""
    out = [settings.engine]
    for name in (settings.engine_fallback or "").split(","):
        name = name.strip()
        if name and name not in out:
            out.append(name)
    return out


def uses_providers(settings) -> bool:
    """Whether get_engine(settings) is this package's (a provider engine, or any engine with a fallback)."""
    return is_provider(settings.engine) or len(chain(settings)) > 1
