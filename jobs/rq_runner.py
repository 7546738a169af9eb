"""The rq side of the job facade: with REDIS_URL set, work goes to a Redis queue and `python -m jobs.worker`
processes run it. Jobs carry only an import path and ids (rq pickles arguments)."""
from __future__ import annotations

QUEUE = "apg"


class RqRunner:
    def __init__(self, redis_url: str, *, queue: str = QUEUE, job_timeout: int = 600):
        from redis import Redis
        from rq import Queue

        self.connection = Redis.from_url(redis_url)
        self.queue = Queue(queue, connection=self.connection, default_timeout=job_timeout)

    def submit(self, path: str, *args):
        """Queue fn(services, *args) for a worker. Returns the rq Job."""
        for a in args:
            if not isinstance(a, (int, str)):
                raise TypeError("jobs take ids (int or str), never objects")
        return self.queue.enqueue("jobs.worker.run", path, *args, result_ttl=3600, failure_ttl=7 * 24 * 3600)

    def shutdown(self) -> None:
        self.connection.close()
