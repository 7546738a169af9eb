"""`python -m jobs.worker`: an rq worker that builds the services once and keeps them (no fork per job:
rq's SimpleWorker), so models loaded by one job stay loaded for the next.

Several workers on several machines can share one Redis and one database; they must also share the
storage directory (STORAGE_DIR on a shared volume) until object storage arrives.

Redis that is not there yet (or goes away) is waited for with a growing pause, never a crash. A `--name`
is held by a lease in Redis (WORKER_NAME_LEASE_SECONDS, renewed by a thread every third of it): rq itself
refuses a name whose registration has no death mark, and a SIGKILLed worker leaves exactly that for up to
8 minutes (rq's worker_ttl + 60 s). Whoever holds the lease knows such a registration is stale (its owner
stopped renewing the lease) and retires it with rq's own register_death; a second live worker with the same
name never gets the lease and is refused with a message.
"""
from __future__ import annotations

import argparse
import logging
import os
import signal
import sys
import threading
import time

from jobs import resolve
from jobs.rq_runner import QUEUE

log = logging.getLogger("jobs.worker")
LEASE_KEY = "apg:worker-name:{}"
EXIT_NAME_TAKEN = 2
EXIT_NAME_LOST = 3
_services = None


def services():
    """The worker process's services, built on first use and kept."""
    global _services
    if _services is None:
        from services import Services
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
    parser.add_argument("--name", default=None,
                        help="worker name, unique among the live workers (default: a random one)")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    from core.settings import get_settings

    settings = get_settings()
    if not settings.redis_url:
        print("error: set REDIS_URL (e.g. redis://127.0.0.1:6379/0) to run a worker; without it the app runs "
              "jobs in its own process and needs no worker", file=sys.stderr)
        return 2
    svc = services()
    from jobs.reaper import Reaper

    svc.reaper = Reaper(svc).start()
    return serve(svc.runner.connection, name=args.name, burst=args.burst, redis_url=settings.redis_url,
                 lease_seconds=settings.worker_name_lease_seconds)


class NameLease:
    """This process's claim on a worker name: a redis-py Lock with a timeout, renewed by a daemon thread
    every third of it. A process that dies stops renewing, so its claim ends `seconds` later at most."""

    def __init__(self, client, name: str, seconds: float):
        self.name, self.seconds = name, seconds
        self.lock = client.lock(LEASE_KEY.format(name), timeout=seconds, blocking=False, thread_local=False)
        self.lost = threading.Event()
        self._held = False
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def take(self) -> bool:
        """Claim the name now (True) or report that a live claim holds it (False). Raises when Redis is down."""
        self._held = bool(self.lock.acquire(blocking=False))
        if self._held and self._thread is None:
            self._thread = threading.Thread(target=self._renew, name="worker-name-lease", daemon=True)
            self._thread.start()
        return self._held

    @property
    def held(self) -> bool:
        return self._held and not self.lost.is_set()

    def _renew(self) -> None:
        from redis.exceptions import LockError, RedisError

        while not self._stop.wait(self.seconds / 3):
            try:
                self.lock.reacquire()
            except LockError:  # our claim ran out (Redis away for longer, or restarted without persistence)
                try:
                    if self.lock.acquire(blocking=False):
                        log.warning("worker name %r: claimed again after the lease ran out", self.name)
                        continue
                except RedisError:
                    continue
                log.error("worker name %r was taken by another worker while this one could not reach Redis; "
                          "stopping after the current job", self.name)
                self.lost.set()
                os.kill(os.getpid(), signal.SIGTERM)  # rq's warm shutdown: the running job finishes first
                return
            except RedisError:  # Redis away: the serve loop waits for it; the claim is renewed when it is back
                continue

    def release(self) -> None:
        self._stop.set()
        if self._held and not self.lost.is_set():
            try:
                self.lock.release()
            except Exception:  # noqa: BLE001  (expired or Redis away: the lease ends by itself)
                pass
        self._held = False


def take_name(lease: NameLease) -> bool:
    """Claim `lease.name`, waiting while an earlier claim may still be running out. A dead worker's claim
    ends within lease.seconds; one still there after twice that was renewed meanwhile, by a live worker."""
    deadline = time.monotonic() + 2 * lease.seconds + 1
    told = False
    while not lease.take():
        if time.monotonic() > deadline:
            return False
        if not told:
            log.warning("worker name %r is claimed by another worker; waiting up to %.0fs for the claim to run "
                        "out in case that worker is dead", lease.name, 2 * lease.seconds + 1)
            told = True
        time.sleep(min(1.0, lease.seconds / 3))
    return True


def retire_stale_registration(worker) -> None:
    """rq refuses to start a worker whose name has a registration without a death mark. We hold the name's
    lease, so such a registration is not a live worker's (a SIGKILLed one, or this process's own worker
    before Redis went away): mark it dead with rq's own register_death (also drops it from the worker sets)."""
    connection = worker.connection
    if not connection.exists(worker.key) or connection.hexists(worker.key, "death"):
        return
    old = type(worker).find_by_key(worker.key, connection=connection)
    if old is None:  # expired just now
        return
    log.warning("worker name %r: retiring its stale rq registration (pid %s on %s, last heartbeat %s)",
                worker.name, old.pid, old.hostname, old.last_heartbeat)
    old.register_death()


def serve(connection, *, name: str | None, burst: bool, redis_url: str, lease_seconds: float = 15,
          max_wait: float = 30.0) -> int:
    """Run rq's SimpleWorker. Redis down at start or mid-job (rq then stops the worker): wait until it answers
    again, pausing 1, 2, 4 ... max_wait seconds between tries, and start a fresh SimpleWorker in this same
    process, so the loaded model is kept. The job that was running finished its database work; poses whose
    queue job was lost are queued again by the reaper."""
    from redis import Redis
    from redis.exceptions import ConnectionError as RedisConnectionError
    from redis.exceptions import TimeoutError as RedisTimeoutError
    from rq import Queue, SimpleWorker

    lost = (RedisConnectionError, RedisTimeoutError)
    # Probes and the lease use their own client with short timeouts (rq raises the worker connection's
    # socket timeout to its dequeue timeout, minutes).
    probe = Redis.from_url(redis_url, socket_timeout=5, socket_connect_timeout=5)
    lease = NameLease(probe, name, lease_seconds) if name else None
    where = _where(probe)
    try:
        while True:
            _stop_on_signal()  # while no rq worker runs (rq installs its own handlers in work())
            if lease is not None and lease.lost.is_set():
                print(f"error: another worker now runs under the name {name!r}; this one stopped",
                      file=sys.stderr)
                return EXIT_NAME_LOST
            try:
                if lease is not None and not lease.held and not take_name(lease):
                    print(f"error: a worker named {name!r} is already running (it keeps renewing its claim on "
                          f"the name in Redis at {where}). Stop it first, or give this one another --name.",
                          file=sys.stderr)
                    return EXIT_NAME_TAKEN
                worker = SimpleWorker([Queue(QUEUE, connection=connection)], connection=connection, name=name)
                if lease is not None:
                    retire_stale_registration(worker)
                worker.work(burst=burst, with_scheduler=False)
            except lost as exc:
                log.warning("Redis at %s is not answering (%s); waiting for it", where, exc)
            else:
                if lease is not None and lease.lost.is_set():
                    continue
                if burst or not _redis_down(probe):   # a normal stop (queue empty in burst mode, SIGTERM)
                    return 0
                log.warning("rq stopped because Redis at %s went away; waiting for it to come back", where)
            _stop_on_signal()
            wait = 1.0
            while _redis_down(probe):
                log.info("Redis at %s is still not answering; next try in %.0fs", where, wait)
                time.sleep(wait)
                wait = min(max_wait, wait * 2)
            log.info("Redis at %s answers; starting the worker (models stay loaded)", where)
    except _StopWaiting:
        log.info("stopped on request while no job was running")
        return EXIT_NAME_LOST if lease is not None and lease.lost.is_set() else 0
    finally:
        if lease is not None:
            lease.release()
        probe.close()


class _StopWaiting(Exception):
    pass


def _raise_stop(signum, frame):
    raise _StopWaiting()


def _stop_on_signal() -> None:
    """SIGTERM / Ctrl+C while waiting for Redis or for the name: stop cleanly (and release the name)."""
    if threading.current_thread() is threading.main_thread():
        signal.signal(signal.SIGTERM, _raise_stop)
        signal.signal(signal.SIGINT, _raise_stop)


def _where(client) -> str:
    """host:port/db of a Redis client, without any password."""
    kw = client.connection_pool.connection_kwargs
    return kw.get("path") or f"{kw.get('host', '?')}:{kw.get('port', '?')}/{kw.get('db', 0)}"


def _redis_down(connection) -> bool:
    try:
        connection.ping()
        return False
    except Exception:  # noqa: BLE001
        return True


if __name__ == "__main__":
    sys.exit(main())
