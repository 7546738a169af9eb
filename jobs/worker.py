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
    from rq import Queue, SimpleWorker

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
    worker = SimpleWorker([Queue(QUEUE, connection=connection)], connection=connection, name=args.name)
    worker.work(burst=args.burst, with_scheduler=False)
    return 0


if __name__ == "__main__":
    sys.exit(main())
