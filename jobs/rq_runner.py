"""The rq side of the job facade: with REDIS_URL set, work goes to a Redis queue and `python -m jobs.worker`
processes run it. Jobs carry only an import path and ids (rq pickles arguments)."""
from __future__ import annotations

from jobs.runner import Runner

QUEUE = "apg"
ALIVE = {"queued", "started", "deferred", "scheduled"}


class RqRunner(Runner):
    def __init__(self, redis_url: str, *, queue: str = QUEUE, job_timeout: int = 600):
        from redis import Redis
        from rq import Queue

        self.connection = Redis.from_url(redis_url)
        self.queue = Queue(queue, connection=self.connection, default_timeout=job_timeout)

    def submit(self, path: str, *args, job_id: str | None = None):
        """Queue fn(services, *args) for a worker. Returns the rq Job."""
        for a in args:
            if not isinstance(a, (int, str)):
                raise TypeError("jobs take ids (int or str), never objects")
        kwargs = {"job_id": job_id} if job_id is not None else {}
        return self.queue.enqueue_call("jobs.worker.run", args=(path, *args), kwargs=kwargs, job_id=job_id,
                                       result_ttl=3600, failure_ttl=7 * 24 * 3600)

    def job_alive(self, job_id: str) -> bool:
        """Queued, scheduled or running in Redis. Raises when Redis cannot be reached (the caller waits)."""
        from rq.exceptions import NoSuchJobError
        from rq.job import Job

        try:
            job = Job.fetch(job_id, connection=self.connection)
        except NoSuchJobError:
            return False
        status = job.get_status(refresh=False)
        return status is not None and str(getattr(status, "value", status)) in ALIVE

    def report(self) -> dict:
        """Redis reachable or not; the queue's waiting and failed jobs; each rq worker's state, last heartbeat
        and current job (rq's own registries, the same ones rq-dashboard reads)."""
        from rq import Worker
        from rq.registry import FailedJobRegistry, StartedJobRegistry

        out = {"kind": "rq", "queued": None, "running": None, "failed": None, "workers": [],
               "redis": {"reachable": False, "error": None}}
        try:
            self.connection.ping()
            out["redis"]["reachable"] = True
            out["queued"] = self.queue.count
            out["running"] = StartedJobRegistry(queue=self.queue).count
            out["failed"] = FailedJobRegistry(queue=self.queue).count
            for worker in Worker.all(connection=self.connection):
                beat = worker.last_heartbeat
                job = worker.get_current_job_id()
                out["workers"].append({"name": worker.name, "state": str(getattr(worker.state, "value", worker.state)),
                                       "lastHeartbeat": beat.isoformat() if beat else None, "job": job})
        except Exception as exc:  # noqa: BLE001 - Redis down or refusing: the page says so instead of failing
            out["redis"]["error"] = f"{type(exc).__name__}: {str(exc)[:200]}"
        return out

    def shutdown(self) -> None:
        self.connection.close()
