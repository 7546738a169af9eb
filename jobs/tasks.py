"""Job entry points. Each takes the process's services and ids (never ORM objects or images), opens its
own session, and calls core. The same functions run in the in-process runner and in rq workers."""
from __future__ import annotations

import logging
import threading
from contextlib import contextmanager

from core.catalog import products

log = logging.getLogger(__name__)


def remove_background(services, product_id: int) -> str | None:
    with services.session() as session:
        product = products.run_removal(session, product_id=product_id, store=services.store,
                                       settings=services.settings)
        return product.bg_status if product else None


@contextmanager
def heartbeat(services, *, generation_id: int, worker: str):
    """While the block runs, mark this worker's running poses alive every HEARTBEAT_SECONDS (its own
    session on its own thread), so a long model load or a slow micro-batch never looks like a dead worker,
    and a killed one stops beating at once."""
    from core.generation import work

    stop = threading.Event()

    def beat():
        while not stop.wait(services.settings.heartbeat_seconds):
            try:
                with services.session() as session:
                    work.touch(session, generation_id=generation_id, worker=worker)
            except Exception as exc:  # noqa: BLE001  (the database blinked: try again next beat)
                log.warning("heartbeat for generation %s failed: %s", generation_id, exc)

    thread = threading.Thread(target=beat, name=f"heartbeat-{generation_id}", daemon=True)
    thread.start()
    try:
        yield
    finally:
        stop.set()
        thread.join(timeout=5)


def render_poses(services, generation_id: int, positions: str = "", job_id: str | None = None) -> str | None:
    """Render the poses of one queue job: `positions` is "0,1,2" (empty: every pending pose)."""
    from core.generation import render, work

    worker = work.worker_id(job_id)
    wanted = work.parse_positions(positions) if positions else None
    try:
        with heartbeat(services, generation_id=generation_id, worker=worker):
            with services.session() as session:
                row = render.render_poses(session, generation_id=generation_id, positions=wanted,
                                              store=services.store, settings=services.settings, worker=worker)
                return row.status if row else None
    except Exception:
        with services.session() as session:  # hand back what we held at once, not after STALE_AFTER_SECONDS
            work.release(session, generation_id=generation_id, worker=worker)
        raise


def hand_back(services, *, generation_id: int, job_id: str, pid: int) -> int:
    """The poses of a render job whose process died (jobs.child): pending again at once, for the reaper."""
    from core.generation import work

    with services.session() as session:
        return work.forget_job(session, generation_id=generation_id, job_id=job_id,
                               worker=work.worker_id(job_id, pid=pid))


def reap(services) -> dict:
    """One reaper pass (core.generation.work.reap) with this process's runner."""
    from core.generation import work

    with services.session() as session:
        return work.reap(session, runner=services.runner, settings=services.settings)
