"""Batches across real processes: `python -m jobs.worker` subprocesses (ENGINE=tiny, settings from the
environment) on Postgres + Redis, sharing one storage directory with the test process.

1. The whole flow over REST: a batch is planned, charged and queued, a worker renders it, every pose ends
   done or failed with its files.
2. A worker SIGKILLed mid-batch (two workers, one killed, a new one started): the reaper hands the dead
   worker's poses out again; every pose is finished exactly once, files, credits and template statistics
   add up.
3. Redis restarted mid-batch (the test's own redis-server, no persistence: the queue is lost): the reaper
   queues the lost poses again; the same invariants hold. The worker busy with a job when Redis goes away
   keeps running (jobs.worker waits for Redis and starts rq again in the same process, model loaded). An
   idle worker reconnects by itself (its own test).
4. Two workers finishing a batch's last poses at the same moment (two sessions, made deterministic):
   the generation's counters must not be overwritten by the counts one of them read earlier.

Waits poll the database with generous limits and never assert on time (bench/bench_batch.py times it).
"""
from __future__ import annotations

import threading
import time
from collections import Counter

import pytest
import sqlalchemy as sa
from fastapi.testclient import TestClient
from sqlmodel import select

from core.generation import planning
from core.accounts import credits, users
from core.library import templates as lib
from core.generation.planning import BatchRequest
from services import Services
from core.settings import Settings
from db.models import CreditLedger, GeneratedPose, PoseGeneration, PoseTemplate
from tests.factories import ready_shop
from tests.support import RedisServer, WorkerProcess, service_missing

pytestmark = [pytest.mark.postgres, pytest.mark.redis, pytest.mark.slow]

BASE = "/api/apps/pose-generator"
WAIT = 900          # seconds; generous upper bounds for a loaded CI machine, never asserted on
FAST_REAPER = dict(heartbeat_seconds=0.5, stale_after_seconds=3, reaper_seconds=1)
POSE_KINDS = ("pose", "pose-thumb", "pose-control")


@pytest.fixture
def db_kind():
    """These tests run on Postgres only (overrides the conftest's sqlite/postgres parametrisation)."""
    return "postgres"


@pytest.fixture
def values(db_url, tmp_path, tiny_engine_values):
    """Settings of the test process and of its workers (given to them as environment variables); the tiny
    models are written once per session (tests/conftest.py: tiny_root) and shared by every worker process."""
    return dict(database_url=db_url, storage_dir=tmp_path / "files", auth="password", starting_credits=1000,
                **tiny_engine_values, engine_steps=2, engine_batch_size=2, job_chunk_size=3, max_attempts=2)


@pytest.fixture
def workers(tmp_path):
    """start(values, label) -> WorkerProcess; every worker started is stopped at the end."""
    started: list[WorkerProcess] = []

    def start(values: dict, label: str) -> WorkerProcess:
        w = WorkerProcess(values, tmp_path, label, extra_env={"OMP_NUM_THREADS": "1"})
        started.append(w)
        return w

    start.started = started
    yield start
    for w in started:  # all at once: each takes a few seconds to shut down
        w.terminate()
    for w in started:
        w.stop()


def build_services(values: dict) -> Services:
    svc = Services.build(Settings(**values), migrate=False)  # REDIS_URL set: the RqRunner
    with svc.session() as s:
        lib.load_library(s)
    return svc


def snapshot(svc, user_id: int) -> tuple[int, dict[int, int]]:
    """(credit balance, {template id: usage_count}) before a batch."""
    with svc.session() as s:
        usage = dict(s.execute(select(PoseTemplate.id, PoseTemplate.usage_count)).all())
        return credits.balance(s, user_id=user_id), usage


def start(svc, shop, n: int) -> int:
    """A batch of n poses (templates cycled) planned, charged and queued by core.generation.planning.start_batch."""
    ids = [shop.templates[i % len(shop.templates)].id for i in range(n)]
    request = BatchRequest(brand_kit_id=shop.kit.id, avatar_id=shop.avatar.id, product_id=shop.product.id,
                           template_ids=ids, seed=1234)
    with svc.session() as s:
        return planning.start_batch(s, user=shop.user, request=request, settings=svc.settings, runner=svc.runner).id


def counts(svc, gid: int) -> Counter:
    with svc.session() as s:
        return Counter(dict(s.execute(select(GeneratedPose.status, sa.func.count())
                                      .where(GeneratedPose.generation_id == gid)
                                      .group_by(GeneratedPose.status)).all()))


def finished(svc, gid: int) -> bool:
    with svc.session() as s:
        return s.get(PoseGeneration, gid).status not in ("pending", "running")


def diagnose(svc, gid: int, started: list[WorkerProcess]) -> str:
    G = GeneratedPose
    with svc.session() as s:
        g = s.get(PoseGeneration, gid)
        rows = s.execute(select(G.position, G.status, G.worker_id, G.job_id, G.heartbeat_at)
                         .where(G.generation_id == gid).order_by(G.position)).all()
    lines = [f"generation {gid}: {g.status}, completed {g.completed_count}, failed {g.failed_count}"]
    lines += [f"  pose {r[0]}: {r[1]} worker={r[2]} job={r[3]} heartbeat={r[4]}" for r in rows]
    return "\n".join(lines + [w.tail() for w in started])


def wait_for(svc, gid: int, started: list[WorkerProcess], what: str, ready, *, supervise=None) -> None:
    """Poll until ready() is true. supervise(), if given, runs each round first (e.g. restarts dead
    workers). Fails with the rows and the workers' logs when every worker has exited, or after WAIT."""
    deadline = time.monotonic() + WAIT
    while not ready():
        if supervise is not None:
            supervise()
        if started and not any(w.alive() for w in started):
            pytest.fail(f"every worker exited while waiting for {what}\n{diagnose(svc, gid, started)}")
        if time.monotonic() > deadline:
            pytest.fail(f"gave up waiting for {what} after {WAIT}s\n{diagnose(svc, gid, started)}")
        time.sleep(0.05)


def pose_files(svc, user_id: int) -> list[str]:
    """Every file (temporary ones included) under the user's pose, pose-thumb and pose-control folders."""
    root = svc.store.root
    return sorted(str(p.relative_to(root)) for kind in POSE_KINDS
                  for p in (root / f"u{user_id}" / kind).rglob("*") if p.is_file())


def referenced_files(rows) -> list[str]:
    return sorted(p for r in rows if r.status == "done" for p in (r.image_path, r.thumbnail_path, r.control_path))


def assert_consistent(svc, gid: int, *, user_id: int, total: int, balance_before: int,
                      usage_before: dict[int, int], other_files: list[str] = ()) -> list[GeneratedPose]:
    """The batch's end state: each pose finished exactly once, files == what done rows reference (plus
    `other_files`, those of the user's earlier batches), credits and template statistics add up. Returns
    the rows."""
    with svc.session() as s:
        g = s.get(PoseGeneration, gid)
        rows = list(s.exec(select(GeneratedPose).where(GeneratedPose.generation_id == gid)
                           .order_by(GeneratedPose.position)))
        ledger = list(s.exec(select(CreditLedger).where(CreditLedger.ref_type == "generation",
                                                        CreditLedger.ref_id == gid)))
        balance_now = credits.balance(s, user_id=user_id)
        usage_now = dict(s.execute(select(PoseTemplate.id, PoseTemplate.usage_count)).all())
        all_deltas = s.execute(select(sa.func.sum(CreditLedger.delta)).where(CreditLedger.user_id == user_id)).scalar()
    # rows: one per position, each finished
    assert len(rows) == total, [(r.position, r.status) for r in rows]
    assert [r.position for r in rows] == list(range(total))
    by_status = Counter(r.status for r in rows)
    assert set(by_status) <= {"done", "failed"}, by_status
    done = [r for r in rows if r.status == "done"]
    for r in done:
        assert r.image_path and r.thumbnail_path and r.control_path and r.finished_at, r
        assert r.attempts >= 1 and r.error is None, r
    # generation counters equal the rows
    assert g.status == ("completed" if done else "failed"), g.status
    assert (g.total_poses, g.completed_count, g.failed_count, g.progress) == \
        (total, by_status["done"], by_status["failed"], 100.0)
    # files: exactly those the done rows reference, all present (no duplicate, orphan or temporary file)
    referenced = referenced_files(rows)
    assert len(set(referenced)) == len(referenced), "two rows reference the same file"
    assert pose_files(svc, user_id) == sorted([*referenced, *other_files])
    # credits: one charge for the batch, at most one refund per pose and round, balance adds up
    charges = [e for e in ledger if e.delta < 0]
    refunds = [e for e in ledger if e.delta > 0]
    assert len(charges) == 1 and charges[0].idempotency_key == f"batch:{gid}", [(e.action, e.delta) for e in charges]
    assert -charges[0].delta == sum(r.cost for r in rows) == planning.unit_price(total)[1] * total
    refund_keys = Counter(e.idempotency_key for e in refunds)
    assert all(n == 1 for n in refund_keys.values()), refund_keys
    assert set(refund_keys) == {f"poserefund:{gid}:{r.position}:{r.round}" for r in rows if r.status == "failed"}
    assert sum(e.delta for e in refunds) == sum(r.cost for r in rows if r.status == "failed")
    assert balance_before + charges[0].delta + sum(e.delta for e in refunds) == balance_now
    assert all_deltas == balance_now  # the ledger as a whole explains the balance
    assert (g.credits_reserved, g.credits_refunded, g.credits_used) == \
        (-charges[0].delta, sum(e.delta for e in refunds), -charges[0].delta - sum(e.delta for e in refunds))
    # template statistics: usage moved by exactly the measured outcomes of each template (a passed check, or a
    # pose failure after its attempts); "not checked" images and infrastructure failures leave it alone
    finished = Counter(r.template_id for r in rows if (r.status == "done" and r.quality_checked)
                       or (r.status == "failed" and r.attempts and r.failure_kind == "pose"))
    moved = {t: usage_now[t] - usage_before.get(t, 0) for t in usage_now if usage_now[t] != usage_before.get(t, 0)}
    assert moved == dict(finished), (moved, finished)
    return rows


# --- 1. the whole flow ------------------------------------------------------------------------------------

def test_batch_over_rest_is_rendered_by_a_worker_process(values, redis_url, workers):
    values = {**values, "redis_url": redis_url}
    svc = build_services(values)
    try:
        from api import create_api

        shop = ready_shop(svc, "siti")
        balance_before, usage_before = snapshot(svc, shop.user.id)
        with svc.session() as s:
            token = users.issue_token(s, user=shop.user, settings=svc.settings)
        client = TestClient(create_api(svc))
        client.headers["Authorization"] = f"Bearer {token}"
        total = 10
        ids = [shop.templates[i % len(shop.templates)].id for i in range(total)]
        started = client.post(f"{BASE}/generate", json={"brandKitId": shop.kit.id, "avatarId": shop.avatar.id,
                                                        "productId": shop.product.id, "templateIds": ids})
        assert started.status_code == 202, started.text
        gid = started.json()["id"]
        assert started.json()["creditsReserved"] == 10 * total
        assert svc.runner.queue.count == -(-total // values["job_chunk_size"])  # one job per chunk, waiting

        worker = workers(values, "solo")
        wait_for(svc, gid, workers.started, "the batch", lambda: finished(svc, gid))
        rows = assert_consistent(svc, gid, user_id=shop.user.id, total=total, balance_before=balance_before,
                                 usage_before=usage_before)
        assert all(str(worker.pid) in r.worker_id for r in rows)  # rendered by the worker process

        status = client.get(f"{BASE}/generate/{gid}").json()
        assert (status["status"], status["done"] + status["failed"], status["pending"], status["running"]) == \
            ("completed", total, 0, 0)
        accepted = client.get(f"{BASE}/results/{gid}", params={"show": "accepted"}).json()
        assert accepted["total"] == sum(r.status == "done" and r.quality_checked for r in rows)
        results = client.get(f"{BASE}/results/{gid}", params={"show": "all", "limit": 500}).json()
        kept = [i for i in results["items"] if i["status"] == "done"]
        assert len(kept) == sum(r.status == "done" for r in rows)
        for item in kept:
            for key in ("imageUrl", "thumbnailUrl", "controlUrl"):
                got = client.get(item[key])
                assert got.status_code == 200 and got.content, (key, got.status_code)
        assert worker.alive()
    finally:
        svc.close()


# --- 2. a worker killed mid-batch ----------------------------------------------------------------------------

def test_worker_killed_mid_batch_its_poses_are_handed_out_again(values, redis_url, workers):
    values = {**values, **FAST_REAPER, "redis_url": redis_url}
    svc = build_services(values)
    try:
        shop = ready_shop(svc, "siti")
        balance_before, usage_before = snapshot(svc, shop.user.id)
        total = 12
        gid = start(svc, shop, total)
        victim = workers(values, "victim")
        workers(values, "other")
        G = GeneratedPose

        def victim_running() -> int:
            with svc.session() as s:
                return s.execute(select(sa.func.count()).where(G.generation_id == gid, G.status == "running",
                                                               G.worker_id.like(f"%:{victim.pid}:%"))).scalar()

        wait_for(svc, gid, [victim], "2 poses done while the victim renders",
                 lambda: counts(svc, gid)["done"] >= 2 and victim_running() >= 1)
        victim.kill()
        with svc.session() as s:  # what the dead worker left: running rows nobody beats for any more
            orphans = set(s.exec(select(G.position).where(G.generation_id == gid, G.status == "running",
                                                          G.worker_id.like(f"%:{victim.pid}:%"))))
        assert orphans, "the victim finished its poses before it died: nothing to reap"
        workers(values, "replacement")

        wait_for(svc, gid, [w for w in workers.started if w is not victim], "the batch", lambda: finished(svc, gid))
        rows = assert_consistent(svc, gid, user_id=shop.user.id, total=total, balance_before=balance_before,
                                 usage_before=usage_before)
        for r in rows:
            if r.position in orphans:  # rendered again, by a live worker
                assert str(victim.pid) not in (r.worker_id or ""), (r.position, r.worker_id)
    finally:
        svc.close()


# --- 3. Redis restarted mid-batch ------------------------------------------------------------------------------

@pytest.fixture
def own_redis(tmp_path):
    """The test's own redis-server (tests.support.RedisServer), so restarting it leaves the shared one alone."""
    try:
        server = RedisServer(tmp_path)
    except FileNotFoundError as exc:
        service_missing("redis-server (the binary)", exc)
    server.start()
    yield server
    server.kill()


def test_redis_restart_mid_batch_the_lost_poses_are_queued_again(values, own_redis, workers):
    values = {**values, **FAST_REAPER, "redis_url": own_redis.url, "job_chunk_size": 2}
    svc = build_services(values)
    try:
        shop = ready_shop(svc, "siti")
        balance_before, usage_before = snapshot(svc, shop.user.id)
        total = 12
        gid = start(svc, shop, total)
        first = workers(values, "first")
        # some poses done, and several still waiting in the queue that is about to vanish
        wait_for(svc, gid, workers.started, "2 poses done and 4 pending",
                 lambda: (c := counts(svc, gid))["done"] >= 2 and c["pending"] >= 4)
        own_redis.kill()
        with svc.session() as s:
            lost = dict(s.execute(select(GeneratedPose.position, GeneratedPose.job_id)
                                  .where(GeneratedPose.generation_id == gid, GeneratedPose.status == "pending")).all())
        time.sleep(3)  # down long enough for redis-py's own retries to give up: rq's reconnect path runs
        own_redis.start()

        restarts = []  # a worker that exits is replaced, as systemd or Kubernetes would: a finding if needed

        def supervise():
            if not any(w.alive() for w in workers.started) and len(restarts) < 3:
                restarts.append(workers.started[-1].tail(1500))
                workers(values, f"restart{len(restarts)}")

        wait_for(svc, gid, workers.started, "the batch", lambda: finished(svc, gid), supervise=supervise)
        # jobs.worker waits for Redis and starts rq again in the same process: nobody had to restart it
        assert not restarts, f"jobs.worker exited after the Redis restart (rc {first.proc.poll()}):\n{restarts[0]}"

        rows = assert_consistent(svc, gid, user_id=shop.user.id, total=total, balance_before=balance_before,
                                 usage_before=usage_before)
        final_job = {r.position: r.job_id for r in rows}
        requeued = [p for p, job in lost.items() if final_job[p] != job]
        assert requeued, f"no pose lost with the queue got a new job from the reaper: {lost} -> {final_job}"
    finally:
        svc.close()


def test_idle_worker_reconnects_after_redis_restart(values, own_redis, workers):
    """A worker waiting on an empty queue when Redis restarts keeps running (rq retries its dequeue on
    connection errors) and renders the next batch without being restarted."""
    values = {**values, "redis_url": own_redis.url}
    svc = build_services(values)
    try:
        shop = ready_shop(svc, "siti")
        worker = workers(values, "idle")
        first = start(svc, shop, 2)
        wait_for(svc, first, workers.started, "the first batch", lambda: finished(svc, first))
        with svc.session() as s:
            first_files = referenced_files(s.exec(select(GeneratedPose).where(GeneratedPose.generation_id == first)))
        time.sleep(1)  # back in its blocking dequeue
        own_redis.kill()
        time.sleep(3)
        own_redis.start()
        balance_before, usage_before = snapshot(svc, shop.user.id)
        second = start(svc, shop, 3)  # queued on the new, empty Redis
        wait_for(svc, second, workers.started, "the second batch", lambda: finished(svc, second))
        rows = assert_consistent(svc, second, user_id=shop.user.id, total=3, balance_before=balance_before,
                                 usage_before=usage_before, other_files=first_files)
        assert worker.alive() and len(workers.started) == 1, worker.tail()
        assert all(str(worker.pid) in r.worker_id for r in rows)
    finally:
        svc.close()


# --- 4. two workers finishing the last poses at the same moment --------------------------------------------

def test_two_workers_finishing_at_once_leave_the_generation_counters_right(values):
    """The race multi-worker batches can hit, made deterministic with two sessions (two workers): worker A
    commits its pose and recounts the generation; just before A writes its counts, worker B commits the
    last pose, recounts (all finished: completed) and writes. A's counts, read before B's pose, must not
    overwrite B's."""
    from sqlalchemy import event

    from core.generation import state

    svc = Services.build(Settings(**values), migrate=False, runner=False)
    try:
        with svc.session() as s:
            lib.load_library(s)
        shop = ready_shop(svc, "siti")
        total = 6
        gid = start(svc, shop, total)  # planned and charged; no runner: nothing renders it
        G = GeneratedPose
        with svc.session() as s:  # all but the last two poses finished; those two are held by A and B
            s.execute(sa.update(G).where(G.generation_id == gid, G.position < total - 2).values(status="done"))
            s.execute(sa.update(G).where(G.generation_id == gid, G.position >= total - 2).values(status="running"))
            s.commit()
        with svc.session() as a, svc.session() as b:
            ga, gb = a.get(PoseGeneration, gid), b.get(PoseGeneration, gid)
            a.execute(sa.update(G).where(G.generation_id == gid, G.position == total - 2).values(status="done"))
            a.commit()

            fired, errors = [], []

            def worker_b():
                try:
                    b.execute(sa.update(G).where(G.generation_id == gid, G.position == total - 1)
                              .values(status="done"))
                    b.commit()
                    state.refresh(b, gb)   # waits for A's recount to commit, then counts everything
                except Exception as exc:  # noqa: BLE001
                    errors.append(exc)

            thread = threading.Thread(target=worker_b)

            def b_finishes_meanwhile(*_):
                if fired:
                    return
                fired.append(True)
                thread.start()
                thread.join(timeout=3)  # B's pose commits; its recount queues behind A's (or, unfixed, overtakes it)

            event.listen(a, "before_flush", b_finishes_meanwhile)
            state.refresh(a, ga)
            thread.join(timeout=60)
            assert fired and not thread.is_alive() and not errors, errors
        with svc.session() as s:
            g = s.get(PoseGeneration, gid)
            assert counts(svc, gid) == Counter(done=total)
            assert (g.status, g.completed_count, g.progress) == ("completed", total, 100.0)
    finally:
        svc.close()
