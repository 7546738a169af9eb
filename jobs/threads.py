"""The in-process runner: job functions on a small thread pool of this process (RENDER_PROCESS=thread, and inside the
app's render process, jobs.child, which runs its jobs so)."""
from __future__ import annotations

import importlib
import logging
import threading
from concurrent.futures import Future, ThreadPoolExecutor

from jobs.runner import Runner

log = logging.getLogger(__name__)


def resolve(path: str):
    module, _, name = path.partition(":")
    return getattr(importlib.import_module(module), name)


class InProcessRunner(Runner):
    """Runs job functions on a background thread pool of this process. A job function is called as
    fn(services, *args); errors are logged (the job itself records failures in the database)."""

    def __init__(self, services, workers: int = 2):
        self.services = services
        self._pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="job")
        self._futures: set[Future] = set()
        self._jobs: dict[str, Future] = {}
        self._lock = threading.Lock()

    def submit(self, path: str, *args, job_id: str | None = None) -> Future:
        fn = resolve(path)
        kwargs = {"job_id": job_id} if job_id is not None else {}

        def run():
            try:
                return fn(self.services, *args, **kwargs)
            except Exception:
                log.exception("job %s%r failed", path, args)
                raise

        fut = self._pool.submit(run)
        with self._lock:
            self._futures.add(fut)
            if job_id is not None:
                self._jobs[job_id] = fut
        fut.add_done_callback(lambda f: self._discard(f))
        return fut

    def job_alive(self, job_id: str) -> bool:
        """Queued or running in this process. After a restart nothing is: the reaper queues it again."""
        with self._lock:
            fut = self._jobs.get(job_id)
        return fut is not None and not fut.done()

    def report(self) -> dict:
        """This process's job threads: how many jobs wait and run (the in-process runner has no Redis)."""
        with self._lock:
            futures = list(self._futures)
        running = sum(1 for f in futures if f.running())
        threads = self._pool._max_workers  # noqa: SLF001 - the pool's size, as it was made
        return {"kind": "in-process", "queued": sum(1 for f in futures if not f.running() and not f.done()),
                "running": running, "failed": None, "redis": None,
                "workers": [{"name": f"this process ({threads} job threads)", "state": "busy" if running else "idle",
                             "lastHeartbeat": None, "job": None}]}

    def _discard(self, fut: Future) -> None:
        with self._lock:
            self._futures.discard(fut)
            for key in [k for k, f in self._jobs.items() if f is fut]:
                del self._jobs[key]

    def wait_idle(self, timeout: float | None = None) -> None:
        """Block until every submitted job has finished (tests and shutdown use it)."""
        with self._lock:
            pending = list(self._futures)
        for f in pending:
            f.exception(timeout=timeout)

    def shutdown(self) -> None:
        self._pool.shutdown(wait=True, cancel_futures=False)
