"""Finished results to make posters from, fast: a batch planned and charged by core (no runner), each pose then
left the way a worker leaves an accepted one (status done, a real image file and its thumbnail, the product box).
The drawn model of core.posters.service's previews stands in for the rendered photo, so posters have a head and
a product to keep. Used by tests/test_posters_api.py and tests/browser/test_posters_browser.py."""
from __future__ import annotations

from PIL import Image
from sqlmodel import select

from core.generation import planning
from core.generation.planning import BatchRequest
from core.images import encode_image, make_thumbnail
from core.posters.service import _sample_photo
from db.models import GeneratedPose, PoseGeneration, User, utcnow


def finished_results(svc, *, user_id: int, kit_id: int, avatar_id: int, product_id: int, template_ids: list[int],
                     n: int = 2) -> list[int]:
    """Ids of n finished results of one new batch of the user's (templates used in turn)."""
    photo, _, box = _sample_photo()
    with svc.session() as s:
        user = s.get(User, user_id)
        req = BatchRequest(brand_kit_id=kit_id, avatar_id=avatar_id, product_id=product_id,
                           template_ids=[template_ids[i % len(template_ids)] for i in range(n)], allow_repeats=True)
        g = planning.start_batch(s, user=user, request=req, settings=svc.settings, runner=None)
        rows = list(s.exec(select(GeneratedPose).where(GeneratedPose.generation_id == g.id)
                           .order_by(GeneratedPose.position)))
        for i, pose in enumerate(rows):
            # each photo a little different, so a poster's bytes tell which result it came from
            image = Image.blend(photo, Image.new("RGB", photo.size, (40 * i % 255, 90, 160)), 0.06 * (i + 1))
            data, ext, _ = encode_image(image, lossless=True)
            pose.image_path = svc.store.save(data, user_id=user.id, kind="pose", ext=ext)
            pose.thumbnail_path = svc.store.save(make_thumbnail(image), user_id=user.id, kind="pose-thumb",
                                                 ext="jpg")
            pose.status, pose.attempts, pose.render_seconds = "done", 1, 1.5
            pose.finished_at, pose.product_box = utcnow(), list(box)
            s.add(pose)
        generation = s.get(PoseGeneration, g.id)
        generation.status, generation.completed_count, generation.progress = "completed", n, 100.0
        generation.credits_used = generation.credits_reserved
        s.add(generation)
        s.commit()
        return [p.id for p in rows]
