"""`python -m jobs.worker` processes against a redis-server of the test's own (tests.support.RedisServer):

1. Started while Redis is down, a worker waits (a growing pause between tries) instead of exiting, and
   runs the queued job once Redis is up.
2. A worker SIGKILLed under `--name` leaves rq a registration without a death mark (rq would refuse the
   name for minutes); restarted under the same name it takes the name back once the dead one's claim has
   run out, and runs jobs. A second worker started under the name of a live one is refused with a message
   and leaves the live one alone.

The job is a real one: a product upload queues its background removal; without rembg weights the worker
records a clear failure and refunds it. Waits poll with generous limits and never assert on time.
"""
from __future__ import annotations

import time

import pytest

from core.catalog import products
from core.accounts import users
from core.catalog.products import ProductCreate
from services import Services
from core.settings import Settings
from db.models import Product
from tests.support import RedisServer, WorkerProcess, service_missing
from tests.test_jobs import photo

pytestmark = [pytest.mark.redis, pytest.mark.slow]

WAIT = 300  # seconds; an upper bound for a loaded machine, never asserted on
LEASE = 2   # WORKER_NAME_LEASE_SECONDS for these workers: a dead worker's claim runs out after 2 s


@pytest.fixture
def db_kind():
    """The database only carries the job's outcome here: SQLite (the worker shares the file)."""
    return "sqlite"


@pytest.fixture
def own_redis(tmp_path):
    """A redis-server on a free port, not started yet; killed at the end."""
    try:
        server = RedisServer(tmp_path)
    except FileNotFoundError as exc:
        service_missing("redis-server (the binary)", exc)
    yield server
    server.kill()


@pytest.fixture
def values(db_url, tmp_path, own_redis):
    return dict(database_url=db_url, storage_dir=tmp_path / "files", redis_url=own_redis.url, auth="password",
                rembg_home=tmp_path / "no-weights", worker_name_lease_seconds=LEASE, reaper_seconds=5)


@pytest.fixture
def workers(tmp_path):
    """start(values, label, name=None) -> WorkerProcess; all are stopped at the end."""
    started: list[WorkerProcess] = []

    def start(values: dict, label: str, name: str | None = None) -> WorkerProcess:
        w = WorkerProcess(values, tmp_path, label, name=name, extra_env={"OMP_NUM_THREADS": "1"})
        started.append(w)
        return w

    yield start
    for w in started:
        w.terminate()
    for w in started:
        w.stop()


def wait_until(what: str, ready, watch: list[WorkerProcess]) -> None:
    """Poll ready(); fail with the workers' logs if a watched worker exits or after WAIT seconds."""
    deadline = time.monotonic() + WAIT
    while not ready():
        dead = [w for w in watch if not w.alive()]
        if dead or time.monotonic() > deadline:
            reason = "a worker exited" if dead else f"gave up after {WAIT}s"
            pytest.fail(f"{reason} while waiting for {what}\n" + "\n".join(w.tail() for w in watch))
        time.sleep(0.1)


def log_text(worker: WorkerProcess) -> str:
    return worker.log_path.read_text(errors="replace")


def queue_removal(svc: Services, username: str) -> int:
    """A product upload, which queues one background-removal job in Redis; returns the product id."""
    with svc.session() as s:
        user = users.create_user(s, username=username, password="correct horse battery", settings=svc.settings)
        return products.upload(s, user=user, data=ProductCreate(), source=photo(), filename="serum.jpg",
                               store=svc.store, settings=svc.settings, runner=svc.runner).id


def removal_done(svc: Services, product_id: int) -> bool:
    with svc.session() as s:
        return s.get(Product, product_id).bg_status not in ("pending", "processing")


def assert_worker_ran_it(svc: Services, product_id: int) -> None:
    with svc.session() as s:
        row = s.get(Product, product_id)
        assert row.bg_status == "failed" and "isnet-general-use" in row.bg_error, (row.bg_status, row.bg_error)


def registration(svc: Services, name: str) -> dict[str, str]:
    """rq's registration of the worker called `name` (an empty dict when there is none)."""
    raw = svc.runner.connection.hgetall(f"rq:worker:{name}")
    return {k.decode(): v.decode() for k, v in raw.items()}


# --- 1. Redis down at start --------------------------------------------------------------------------------

def test_worker_started_while_redis_is_down_waits_then_runs_the_job(values, own_redis, workers):
    worker = workers(values, "early", name="early-bird")
    wait_until("the worker to report that Redis is not answering",
               lambda: "not answering" in log_text(worker), [worker])
    time.sleep(1.5)  # at least one more try while Redis is still down
    assert worker.alive(), worker.tail()

    own_redis.start()
    svc = Services.build(Settings(**values), migrate=False)
    try:
        product_id = queue_removal(svc, "siti")
        wait_until("the queued job to run", lambda: removal_done(svc, product_id), [worker])
        assert_worker_ran_it(svc, product_id)
        assert worker.alive()
        assert registration(svc, "early-bird")["pid"] == str(worker.pid)
        assert svc.runner.queue.count == 0
    finally:
        svc.close()


# --- 2. restart under the same name after SIGKILL; a live name is refused -------------------------------

def test_worker_restarted_under_its_name_after_sigkill_takes_the_name_back(values, own_redis, workers):
    own_redis.start()
    svc = Services.build(Settings(**values), migrate=False)
    try:
        first = workers(values, "first", name="gpu-1")
        wait_until("gpu-1 to register with rq",
                   lambda: registration(svc, "gpu-1").get("pid") == str(first.pid), [first])

        # A second live worker under the same name is refused, with a message, and the first one keeps it.
        twin = workers(values, "twin", name="gpu-1")
        twin.proc.wait(timeout=WAIT)
        assert twin.proc.returncode == 2, twin.tail()
        assert "a worker named 'gpu-1' is already running" in log_text(twin)
        assert "Traceback" not in log_text(twin)
        assert first.alive() and registration(svc, "gpu-1")["pid"] == str(first.pid)

        first.kill()
        left = registration(svc, "gpu-1")
        assert left["pid"] == str(first.pid) and "death" not in left  # what made rq refuse every restart

        second = workers(values, "second", name="gpu-1")
        wait_until("the restarted gpu-1 to register with rq",
                   lambda: registration(svc, "gpu-1").get("pid") == str(second.pid), [second])
        assert "retiring its stale rq registration" in log_text(second)
        product_id = queue_removal(svc, "siti")
        wait_until("the restarted worker to run the job", lambda: removal_done(svc, product_id), [second])
        assert_worker_ran_it(svc, product_id)
        assert second.alive()
        workers_key = {m.decode() for m in svc.runner.connection.smembers("rq:workers")}
        assert workers_key == {"rq:worker:gpu-1"}  # one registration, the live one's

        # A clean stop (SIGTERM) hands the name over at once: the next start does not wait for the claim.
        second.stop()
        assert second.proc.returncode == 0, second.tail()
        third = workers(values, "third", name="gpu-1")
        wait_until("gpu-1 to register again after a clean stop",
                   lambda: registration(svc, "gpu-1").get("pid") == str(third.pid), [third])
        assert "is claimed by another worker" not in log_text(third)
    finally:
        svc.close()
