"""`python -m jobs.worker`: an rq worker that builds the services once and keeps them (no fork per job:
rq's SimpleWorker), so models loaded by one job stay loaded for the next.

Several workers on several machines can share one Redis and one database; they must also share the
storage directory (STORAGE_DIR on a shared volume) until object storage arrives.
"""
from __future__ import annotations

import argparse
import logging
import sys

from jobs import resolve
from jobs.rq_runner import QUEUE

_services = None


def services():
    """The worker process's services, built on first use and kept."""
    global _services
    if _services is None:
        from core.services import Services
        from core.settings import get_settings
        from jobs.rq_runner import RqRunner

        settings = get_settings()
        _services = Services.build(settings, migrate=False, runner=RqRunner(settings.redis_url))
    return _services


def run(path: str, *args, **kwargs):
    """What each rq job calls: the entry point at `path` with this process's services."""
    return resolve(path)(services(), *args, **kwargs)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m jobs.worker", description="Run background jobs from Redis.")
    parser.add_argument("--burst", action="store_true", help="exit when the queue is empty")
    parser.add_argument("--name", default=None, help="worker name (default: host and pid)")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    from core.settings import get_settings

    if not get_settings().redis_url:
        print("error: set REDIS_URL (e.g. redis://127.0.0.1:6379/0) to run a worker; without it the app runs "
              "jobs in its own process and needs no worker", file=sys.stderr)
        return 2
    svc = services()
    from jobs.reaper import Reaper

    svc.reaper = Reaper(svc).start()
    connection = svc.runner.connection
    return serve(connection, name=args.name, burst=args.burst)


def serve(connection, *, name: str | None, burst: bool, max_wait: float = 60.0) -> int:
    """Run rq's SimpleWorker; when Redis goes away mid-job (rq then stops the worker), wait until it answers
    again and start a fresh SimpleWorker in this same process, so the loaded model is kept. The job that was
    running finished its database work; poses whose queue job was lost are queued again by the reaper."""
    import time

    from redis.exceptions import ConnectionError as RedisConnectionError
    from redis.exceptions import TimeoutError as RedisTimeoutError
    from rq import Queue, SimpleWorker

    log = logging.getLogger("jobs.worker")
    lost = (RedisConnectionError, RedisTimeoutError)
    while True:
        worker = SimpleWorker([Queue(QUEUE, connection=connection)], connection=connection, name=name)
        try:
            worker.work(burst=burst, with_scheduler=False)
        except lost as exc:
            log.warning("lost Redis (%s); waiting for it to come back", exc)
        else:
            if burst or not _redis_down(connection):   # a normal stop (queue empty in burst mode, SIGTERM)
                return 0
            log.warning("rq stopped because Redis went away; waiting for it to come back")
        wait = 1.0
        while _redis_down(connection):
            time.sleep(wait)
            wait = min(max_wait, wait * 2)
        log.info("Redis is back; starting the worker again (models stay loaded)")


def _redis_down(connection) -> bool:
    try:
        connection.ping()
        return False
    except Exception:  # noqa: BLE001
        return True


if __name__ == "__main__":
    sys.exit(main())
