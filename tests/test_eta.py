"""The time left of a running batch (issue 16): from the batch's own pace up to its latest finished pose, counting
down while the next one renders instead of growing; nothing is claimed before the first image is done (the page
says "warming up")."""
from __future__ import annotations

from datetime import timedelta

import sqlalchemy as sa
import pytest

from core.generation import batches
from db.models import GeneratedPose, PoseGeneration, utcnow
from tests.test_batches import make_svc, plan, svc  # noqa: F401 - fixtures
from tests.factories import ready_shop
from ui.results_view import progress_html


def finish(svc, gid, positions, at):
    """What workers write when poses finish (status, time), and the batch's start."""
    with svc.session() as s:
        s.execute(sa.update(GeneratedPose).where(GeneratedPose.generation_id == gid,
                                                 GeneratedPose.position.in_(positions))
                  .values(status="done", finished_at=at))
        s.commit()


def started(svc, gid, at, running=()):
    with svc.session() as s:
        s.execute(sa.update(PoseGeneration).where(PoseGeneration.id == gid).values(status="running", started_at=at))
        if running:
            s.execute(sa.update(GeneratedPose).where(GeneratedPose.generation_id == gid,
                                                     GeneratedPose.position.in_(running)).values(status="running"))
        s.commit()


def eta(svc, shop, gid):
    with svc.session() as s:
        return batches.status(s, user=shop.user, generation_id=gid)


def test_the_eta_counts_down_between_images_and_waits_for_the_first(svc):
    shop = ready_shop(svc)
    gid = plan(svc, shop, template_ids=[t.id for t in shop.templates[:10]])
    now = utcnow()
    started(svc, gid, now - timedelta(seconds=30), running=[0])
    st = eta(svc, shop, gid)
    assert st.eta_seconds is None
    assert "warming up" in progress_html(st, live=True)
    # started 50 s ago, 4 images done 40 s in (10 s each), the latest 10 s ago: 6 left at 10 s, minus the 10 s
    # the next one has already had. (The old estimate, elapsed / finished x left = 50 / 4 x 6, said 75 s and
    # kept growing while nothing finished.)
    started(svc, gid, now - timedelta(seconds=50))
    finish(svc, gid, [0, 1, 2, 3], now - timedelta(seconds=10))
    first = eta(svc, shop, gid).eta_seconds
    assert first == pytest.approx(6 * 10 - 10, abs=2)
    finish(svc, gid, [4], now - timedelta(seconds=30))   # one more: 5 in 40 s = 8 s each, 5 left
    later = eta(svc, shop, gid).eta_seconds
    assert later == pytest.approx(5 * 8 - 10, abs=2) and later < first
    html = progress_html(eta(svc, shop, gid), live=True)
    assert "left" in html and "warming up" not in html
