"""The queue facade the rest of the code sees: `runner.submit("module:function", *ids)`.

Jobs take ids, never ORM objects or images. Without REDIS_URL the work runs in the app's child render process
(jobs.child.ChildRunner, the default) or, with RENDER_PROCESS=thread, in this process on a small thread pool
(InProcessRunner); with REDIS_URL it goes to rq workers (jobs.rq_runner, jobs.worker).
Entry points are named by import path so the same name works in both runners.
"""
from __future__ import annotations

from jobs.runner import Runner
from jobs.threads import InProcessRunner, resolve

__all__ = ["InProcessRunner", "Runner", "make_runner", "resolve"]


def make_runner(services):
    """rq when REDIS_URL is set (workers: `python -m jobs.worker`); else the app's own render process
    (jobs.child, RENDER_PROCESS=auto|child), or threads of this process (RENDER_PROCESS=thread, and on ZeroGPU)."""
    if services.settings.redis_url:
        from jobs.rq_runner import RqRunner

        return RqRunner(services.settings.redis_url)
    from jobs.child import ChildRunner, wants_child

    if wants_child(services.settings):
        return ChildRunner(services)
    return InProcessRunner(services)
