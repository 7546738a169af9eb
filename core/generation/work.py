"""Who renders which pose: the database is the source of truth, the queue only says "go work on these".

- `dispatch` hands a generation's pending poses to the runner in chunks (JOB_CHUNK_SIZE poses per job)
  and writes each pose's job id, so a lost job can be noticed.
- `claim` is how a job takes poses: one conditional UPDATE (pending -> running, worker id, heartbeat);
  a pose claimed by one worker cannot be claimed by another, so a job that runs twice renders nothing
  twice. `touch` is the worker's heartbeat.
- `reap` gives out again what a dead worker left (running, heartbeat older than STALE_AFTER_SECONDS)
  and re-queues pending poses whose job no longer exists (a Redis restart without persistence, an app
  restart with the in-process runner). The app and every worker run it every REAPER_SECONDS, and the
  app once when it starts, so unfinished batches resume.

The runner is the jobs facade (jobs.Runner), handed in by the caller: core asks it for work by what the work
is — queue_render(generation_id, positions, job_id=...) — and job_alive(job_id) -> bool | None (None: cannot tell
right now, e.g. Redis is down; nothing is re-queued then). Which function runs it is the jobs room's business.
"""
from __future__ import annotations

import logging
import os
import socket
import uuid
from datetime import timedelta

import sqlalchemy as sa
from sqlmodel import Session, select

from core.settings import Settings
from db.models import GeneratedPose, PoseGeneration, utcnow

log = logging.getLogger(__name__)
ACTIVE = ("pending", "running")


def worker_id(tag: str | None = None, *, pid: int | None = None) -> str:
    """host:pid:tag: unique per job run, readable in the database when something goes wrong. `pid`: another
    process's (the app's render process, whose poses the app hands back when it dies)."""
    return f"{socket.gethostname()[:40]}:{pid or os.getpid()}:{tag or uuid.uuid4().hex[:8]}"[:128]


def chunks(positions: list[int], size: int) -> list[list[int]]:
    return [positions[i:i + size] for i in range(0, len(positions), size)]


def plan_jobs(*, generation_id: int, positions: list[int], settings: Settings) -> list[tuple[str, list[int]]]:
    """(job id, positions) for `positions`, JOB_CHUNK_SIZE per job, in position order; nothing is written."""
    return [(f"apg-g{generation_id}-p{chunk[0]}-{uuid.uuid4().hex[:10]}", chunk)
            for chunk in chunks(sorted(positions), settings.job_chunk_size)]


POSITIONS_PER_STATEMENT = 5000   # + 2 per job: far below SQLite's (3.35+, for RETURNING) and Postgres's limits


def assign_jobs(session: Session, *, generation_id: int, positions: list[int], settings: Settings
                ) -> list[tuple[str, list[int]]]:
    """Give the pending poses at `positions` job ids, JOB_CHUNK_SIZE per job, in the caller's transaction: one
    UPDATE (per POSITIONS_PER_STATEMENT poses), not one per job. The jobs are runs of the sorted positions, so
    among the positions asked for, a job holds those up to its last one and past the job before."""
    G = GeneratedPose
    jobs = plan_jobs(generation_id=generation_id, positions=positions, settings=settings)
    now = utcnow()
    start = 0
    while start < len(jobs):
        part, held = [], 0
        for job in jobs[start:]:
            if part and held + len(job[1]) > POSITIONS_PER_STATEMENT:
                break
            part.append(job)
            held += len(job[1])
        start += len(part)
        job_id = sa.case(*((G.position <= chunk[-1], job_id) for job_id, chunk in part))
        session.execute(sa.update(G)
                        .where(G.generation_id == generation_id,
                               G.position.in_([p for _, chunk in part for p in chunk]), G.status == "pending")
                        .values(job_id=job_id, heartbeat_at=now))
    return jobs


def submit_jobs(runner, *, generation_id: int, jobs: list[tuple[str, list[int]]]) -> None:
    """Hand committed job ids to the runner. A queue that is down is not an error here: the poses stay
    pending with a job the queue does not know, and the reaper queues them again."""
    if runner is None:
        return
    for job_id, chunk in jobs:
        try:
            runner.queue_render(generation_id, chunk, job_id=job_id)
        except Exception as exc:  # noqa: BLE001
            log.warning("could not queue %s (%s); the reaper will queue it again", job_id, exc)


def dispatch(session: Session, *, generation_id: int, positions: list[int], runner, settings: Settings,
             jobs: list[tuple[str, list[int]]] | None = None) -> list[str]:
    """Queue pending poses of a generation: job ids committed first, so a worker that starts at once finds
    them. `jobs`: the poses were written with these job ids and heartbeats already (plan_jobs; start_batch
    inserts its rows so), and only the commit and the hand-over are left."""
    if not positions:
        return []
    if jobs is None:
        jobs = assign_jobs(session, generation_id=generation_id, positions=positions, settings=settings)
    session.commit()
    submit_jobs(runner, generation_id=generation_id, jobs=jobs)
    return [j for j, _ in jobs]


def parse_positions(text: str) -> list[int]:
    return [int(p) for p in str(text).split(",") if p.strip()]


def claim(session: Session, *, generation_id: int, positions: list[int] | None, worker: str) -> list[int]:
    """Take the still-pending poses among `positions` (None: all) for `worker`. Returns their positions."""
    G = GeneratedPose
    where = [G.generation_id == generation_id, G.status == "pending"]
    if positions is not None:
        where.append(G.position.in_(positions))
    live = session.exec(select(PoseGeneration.status).where(PoseGeneration.id == generation_id)).first()
    if live not in ACTIVE:
        session.commit()
        return []
    rows = session.execute(sa.update(G).where(*where)
                           .values(status="running", worker_id=worker, heartbeat_at=utcnow())
                           .returning(G.position)).scalars().all()
    session.commit()
    return sorted(rows)


def touch(session: Session, *, generation_id: int, worker: str) -> int:
    """Heartbeat: the worker's running poses of this generation are alive. Returns how many."""
    G = GeneratedPose
    n = session.execute(sa.update(G).where(G.generation_id == generation_id, G.worker_id == worker,
                                           G.status == "running").values(heartbeat_at=utcnow())).rowcount
    session.commit()
    return n


def reap(session: Session, *, runner, settings: Settings) -> dict:
    """One pass: stale running poses back to pending, then re-queue pending poses whose job is gone."""
    G = GeneratedPose
    now = utcnow()
    stale_before = now - timedelta(seconds=settings.stale_after_seconds)
    active_gens = select(PoseGeneration.id).where(PoseGeneration.status.in_(ACTIVE))
    revived = session.execute(sa.update(G).where(G.status == "running", G.heartbeat_at < stale_before,
                                                 G.generation_id.in_(active_gens))
                              .values(status="pending", worker_id=None, job_id=None, heartbeat_at=now)
                              .returning(G.generation_id, G.position)).all()
    session.commit()
    for gid, pos in revived:
        log.warning("pose %s of generation %s: its worker stopped answering; handing it out again", pos, gid)
    if runner is None:
        return {"revived": len(revived), "requeued": 0}
    # a job queued a moment ago may not be visible to the runner yet: give it one reaper period
    queued_before = now - timedelta(seconds=settings.reaper_seconds)
    pending = session.execute(select(G.generation_id, G.position, G.job_id)
                              .where(G.status == "pending", G.generation_id.in_(active_gens),
                                     sa.or_(G.job_id.is_(None), G.heartbeat_at.is_(None),
                                            G.heartbeat_at < queued_before))
                              .order_by(G.generation_id, G.position)).all()
    session.commit()
    alive: dict[str, bool | None] = {}
    lost: dict[int, list[int]] = {}
    for gid, pos, job in pending:
        if job is not None:
            if job not in alive:
                alive[job] = _job_alive(runner, job)
            if alive[job] is not False:  # alive, or we cannot tell right now
                continue
        lost.setdefault(gid, []).append(pos)
    requeued = 0
    for gid, positions in lost.items():
        log.warning("generation %s: %d pending poses have no live job; queueing them again", gid, len(positions))
        dispatch(session, generation_id=gid, positions=positions, runner=runner, settings=settings)
        requeued += len(positions)
    return {"revived": len(revived), "requeued": requeued}


def _job_alive(runner, job_id: str) -> bool | None:
    try:
        return runner.job_alive(job_id)
    except Exception as exc:  # noqa: BLE001  (queue unreachable: decide next time)
        log.info("cannot ask the queue about %s: %s", job_id, exc)
        return None


def release(session: Session, *, generation_id: int, worker: str) -> int:
    """A job that crashed gives its unfinished poses back (pending, no job) for the reaper to queue again."""
    G = GeneratedPose
    n = session.execute(sa.update(G).where(G.generation_id == generation_id, G.worker_id == worker,
                                           G.status == "running")
                        .values(status="pending", worker_id=None, job_id=None, heartbeat_at=None)).rowcount
    session.commit()
    return n


def forget_job(session: Session, *, generation_id: int, job_id: str, worker: str) -> int:
    """A job whose process died (the app's render process): its running poses back to pending and its queued ones
    without the dead job id, so the next reaper pass queues them all at once. Returns how many poses changed."""
    G = GeneratedPose
    n = release(session, generation_id=generation_id, worker=worker)
    n += session.execute(sa.update(G).where(G.generation_id == generation_id, G.job_id == job_id,
                                            G.status == "pending")
                         .values(job_id=None, heartbeat_at=None)).rowcount
    session.commit()
    return n
