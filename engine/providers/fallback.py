"""ENGINE_FALLBACK: the poses one engine could not render (provider down, timed out, key refused, the local engine
broke) go to the next engine of the chain, in order; the image records who rendered it and who failed it first
(RenderResult.fallback), and a pose no engine could render fails with every engine's answer, refunded.

    engine = provider_engine(settings)       # a ProviderEngine, or a FallbackEngine over ENGINE + ENGINE_FALLBACK
    remote_of(settings, "fal")               # the provider's protocol object (engine.providers.base.Remote)

Engines of the chain are made when first needed: a fallback that is never used loads nothing and calls no one.
"""
from __future__ import annotations

import dataclasses
import logging
import threading

from engine.providers import chain, is_provider
from engine.providers.base import ProviderEngine, ProviderError, Remote

log = logging.getLogger(__name__)
_engines: dict = {}
_lock = threading.Lock()


def remote_of(settings, name: str) -> Remote:
    from engine.providers.fal import FalRemote
    from engine.providers.hf import HfRemote
    from engine.providers.replicate import ReplicateRemote

    return {"fal": FalRemote, "replicate": ReplicateRemote, "hf": HfRemote}[name](settings)


def _single(settings, name: str):
    if is_provider(name):
        return ProviderEngine(remote_of(settings, name), settings)
    from engine.pipeline import get_engine

    return get_engine(settings.model_copy(update={"engine": name, "engine_fallback": ""}))


def provider_engine(settings):
    """The process's engine for these settings (reused: a provider's clients keep their connections)."""
    names = tuple(chain(settings))
    key = (names, settings)
    with _lock:
        engine = _engines.get(key)
        if engine is None:
            engine = _engines[key] = (_single(settings, names[0]) if len(names) == 1
                                      else FallbackEngine(settings, names))
        return engine


def clear() -> None:
    with _lock:
        _engines.clear()


class FallbackEngine:
    remote_engine = True      # render() takes `cancelled` (passed on to the provider engines of the chain)

    def __init__(self, settings, names: tuple[str, ...]):
        self.settings = settings
        self.names = names
        self._made: dict[str, object] = {}
        self._lock = threading.Lock()

    def engine(self, name: str):
        with self._lock:
            if name not in self._made:
                self._made[name] = _single(self.settings, name)
            return self._made[name]

    @property
    def primary(self):
        return self.engine(self.names[0])

    def render(self, requests: list, *, cancelled=None, **kwargs) -> list:
        from engine.requests import RenderResult

        results: list = [None] * len(requests)
        tried: list[list[dict]] = [[] for _ in requests]
        last: list = [None] * len(requests)
        pending = list(range(len(requests)))
        for name in self.names:
            try:
                engine = self.engine(name)
                sub = [requests[i] for i in pending]
                if getattr(engine, "remote_engine", False):
                    def mine(k, pending=pending):
                        return cancelled is not None and cancelled(pending[k])
                    out = engine.render(sub, cancelled=mine, **kwargs)
                else:
                    out = engine.render(sub, **kwargs)
            except Exception as exc:  # noqa: BLE001 - a whole engine down (weights missing, broke): try the next
                log.warning("engine %s failed a micro-batch of %d: %s", name, len(pending), exc)
                error = exc if isinstance(exc, ProviderError) else ProviderError(
                    "provider.failed", provider=name, answer=getattr(exc, "message", None) or type(exc).__name__)
                out = [RenderResult(None, int(requests[i].seed), *requests[i].size, provider=name, failure=error)
                       for i in pending]
            for i, result in zip(pending, out):
                if result.failure is None or result.cancelled:
                    results[i] = dataclasses.replace(result, fallback=tuple(tried[i]))
                else:
                    tried[i].append({"provider": name, "error": result.failure.message})
                    last[i] = result
            pending = [i for i in pending if results[i] is None]
            if not pending:
                break
        for i in pending:
            attempts = "; ".join(f"{t['provider']}: {t['error']}" for t in tried[i])
            results[i] = dataclasses.replace(last[i], failure=ProviderError(
                "provider.all_failed", attempts=attempts, job_id=last[i].provider_job_id), fallback=tuple(tried[i]))
        return results

    def text_to_image(self, prompt: str, **kwargs):
        error = None
        for name in self.names:
            try:
                return self.engine(name).text_to_image(prompt, **kwargs)
            except Exception as exc:  # noqa: BLE001 - the next one may make it
                error = exc
        raise error

    def describe(self) -> dict:
        return {**self.primary.describe(), "fallback": list(self.names[1:])}

    def capabilities(self) -> dict:
        return self.primary.capabilities()

    def embed_images(self, images):
        return self.primary.embed_images(images)
