"""A micro-batch's model work, run as ONE task on the process's render thread (engine.render_thread): the render (and
a worn garment's second call), the product finished into each image, the pose check, the likeness score and the
product's fidelity. core.generation.render submits it and, while the render thread works on the next micro-batch,
stores what this one decided (files, rows, credits) on the job's own thread."""
from __future__ import annotations

import logging
import time
from dataclasses import dataclass

from PIL import Image

from core.generation.identity import below, identity_scores
from core.generation.state import retry_seed
from core.messages import Message
from core.settings import Settings

log = logging.getLogger(__name__)


@dataclass
class Judged:
    """What the render thread made of one pose of a micro-batch: its image and checks, or why it broke."""
    work: object
    image: Image.Image | None = None
    quality: object = None
    face: object = None
    broken: tuple[Exception, Message] | None = None
    rendered_by: dict | None = None      # provider, model id, provider job id, fallbacks (provider_fields)


def provider_fields(result) -> dict:
    """The row values saying who rendered an image (engine.requests.RenderResult): the local engine or a hosted
    provider, its model id and job id, and the engines that failed it first."""
    if result is None:
        return {}
    return {"provider": result.provider, "provider_model": result.model_id, "provider_job_id": result.provider_job_id,
            "provider_fallback": list(result.fallback) or None}


@dataclass
class Judge:
    """A micro-batch's model work, run as ONE task on the render thread (engine.render_thread): the render (and a
    worn garment's second call), the product finished into it, the pose check, the likeness score and the
    product's fidelity. What it decides is stored by _store on the job's own thread."""
    engine: object
    detect: object
    cutout: object
    ip_image: object
    settings: Settings
    steps: int | None = None
    still_mine: object = None     # (pose ids) -> the ids still this worker's: a hosted job of a cancelled pose stops

    def _cancelled(self, batch: list):
        """cancelled(i) for a provider engine: asks the database at most once a second for the whole batch."""
        if self.still_mine is None or not getattr(self.engine, "remote_engine", False):
            return None
        seen = {"at": 0.0, "gone": set()}

        def cancelled(i: int) -> bool:
            now = time.monotonic()
            if now - seen["at"] >= 1.0:
                ids = [w.pose.id for w in batch]
                seen["gone"], seen["at"] = set(ids) - set(self.still_mine(ids)), now
            return batch[i].pose.id in seen["gone"]
        return cancelled

    def _render(self, requests: list, batch: list):
        cancelled = self._cancelled(batch)
        if cancelled is None:
            return self.engine.render(requests, steps=self.steps)
        return self.engine.render(requests, steps=self.steps, cancelled=cancelled)

    def __call__(self, batch: list) -> list[Judged]:
        from core.generation.quality import check_image
        from engine.requests import RenderRequest

        engine, settings, ip_image = self.engine, self.settings, self.ip_image
        garment = _garment_image(self.cutout) if any(w.plan is not None and w.plan.mode == "worn" for w in batch) \
            else None

        def request(w, args: dict) -> RenderRequest:
            worn = w.plan is not None and w.plan.mode == "worn"
            return RenderRequest(w.pose.prompt or "", w.control, retry_seed(w.pose.seed, w.attempt),
                                 w.pose.negative_prompt or "", ip_adapter_image=ip_image,
                                 garment_image=garment if worn else None, **args)

        t0 = time.perf_counter()
        try:
            results = self._render([request(w, w.plan.first() if w.plan else {}) for w in batch], batch)
            images = [r.image for r in results]
            worn = [(k, w.plan.second(images[k], settings.worn_strength)) for k, w in enumerate(batch)
                    if w.plan is not None and w.plan.mode == "worn" and results[k].failure is None]
            if worn:   # the garment warped onto the first image, its region redrawn: one more call for them all
                again = self._render([request(batch[k], args) for k, args in worn], [batch[k] for k, _ in worn])
                for (k, _), result in zip(worn, again):
                    if result.failure is not None:
                        results[k] = result
                        continue
                    images[k] = result.image
                    batch[k].pipeline += float(result.timings.get("per_image_s", 0.0))
        except Exception as exc:  # noqa: BLE001 - the engine broke (out of memory, a bad weight...): not the poses' fault
            log.exception("the engine failed on a micro-batch of %d poses", len(batch))
            return [Judged(w, broken=(exc, Message("render.engine_failed"))) for w in batch]
        waited = (time.perf_counter() - t0) / len(batch)
        out: list[Judged] = []
        for w, result, image in zip(batch, results, images):
            if result.failure is not None:   # a hosted job that failed (or was cancelled): this pose alone
                out.append(Judged(w, broken=(result.failure, Message("render.engine_failed")),
                                  rendered_by=provider_fields(result)))
                continue
            # the engine's own per-image time (taken after its lock), not time spent waiting for another job
            w.pipeline += float(result.timings.get("per_image_s", waited))
            w.box = None
            if w.plan is not None:
                image = w.plan.finish(image)
                w.box = list(w.plan.box) if w.plan.box else None
            try:
                quality = check_image(image=image, template_keypoints=w.keypoints, detector=self.detect,
                                      threshold=settings.quality_threshold)
            except Exception as exc:  # noqa: BLE001 - the detector broke: the pose was not judged, so it did not fail
                log.exception("the pose check failed on pose %s", w.pose.position)
                out.append(Judged(w, broken=(exc, Message("render.detector_failed"))))
                continue
            w.attempt += 1
            out.append(Judged(w, image, quality, rendered_by=provider_fields(result)))
        passed = [j for j in out if j.broken is None and j.quality.accepted]
        for j, face in zip(passed, identity_scores(
                engine=engine, images=[j.image for j in passed], keypoints=[j.work.keypoints for j in passed],
                reference=ip_image,
                off_reason=None if settings.ip_adapter != "false" else Message("identity.likeness_off"))):
            j.face = face
            if j.work.plan is not None and below(face, settings.identity_threshold) is None:   # it will be kept
                j.work.fidelity = j.work.plan.fidelity(j.image, engine=engine, settings=settings)
        return out


def _garment_image(cutout):
    """The garment cut-out on white, RGB: the garment IP-Adapter's image (when one is loaded)."""
    if cutout is None:
        return None
    white = Image.new("RGBA", cutout.size, (255, 255, 255, 255))
    white.alpha_composite(cutout.convert("RGBA"))
    return white.convert("RGB")
