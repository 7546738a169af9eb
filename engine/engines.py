"""Which engine renders: the local diffusers engine (engine.pipeline) or a hosted provider (engine.providers, with an
ENGINE_FALLBACK chain). core/ asks here; the two kinds never import each other's chooser, so neither knows the other.

    from engine.engines import get_engine, capabilities, models_state
    get_engine(settings)      # engine.pipeline.Engine, a ProviderEngine, or a FallbackEngine over ENGINE_FALLBACK
    capabilities(settings)    # likeness / garment / pose_check / inpaint / embeddings (+ "provider"), no loading
    models_state(settings)    # can the models be had now: {"on", "reason", "message"}
    clear_engines()           # forget every engine, local and hosted (tests)
"""
from __future__ import annotations

from engine import pipeline
from engine.providers import is_provider, uses_providers

__all__ = ["get_engine", "capabilities", "models_state", "clear_engines", "loaded_engines"]
loaded_engines = pipeline.loaded_engines


def get_engine(settings):
    """The process's engine for these settings, built on first use and reused."""
    if uses_providers(settings):
        from engine.providers.fallback import provider_engine

        return provider_engine(settings)
    return pipeline.get_engine(settings)


def capabilities(settings) -> dict:
    """What a render with these settings will do, before anything is loaded. A provider's come from what it
    offers (no IP-Adapter, inpaint only with an inpainting model set); the pose check runs here either way."""
    if is_provider(settings.engine):
        from engine.detector import pose_check_state
        from engine.providers.base import remote_capabilities
        from engine.providers.fallback import remote_of

        return {**remote_capabilities(remote_of(settings, settings.engine)), "pose_check": pose_check_state(settings)}
    return pipeline.capabilities(settings)


def models_state(settings) -> dict:
    """For a provider: whether its key and model are set (nothing to download); else engine.pipeline's."""
    if is_provider(settings.engine):
        from engine.providers.fallback import remote_of

        missing = remote_of(settings, settings.engine).missing()
        return {"on": True, "reason": None} if missing is None else \
            {"on": False, "reason": missing.english, "message": missing}
    return pipeline.models_state(settings)


def clear_engines() -> None:
    from engine.providers import fallback

    pipeline.clear_engines()
    fallback.clear()
