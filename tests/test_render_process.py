"""The app's default runner without Redis: one child render process (jobs.child), on SQLite and Postgres.

A batch planned in the web process renders in the child (real rows, real files) while the web process never
imports torch; a child SIGKILLed in the middle of a batch has its poses handed back at once, the reaper queues them
again, a new child finishes the batch, and every pose ends up rendered once with one set of files; shutting the app
down stops the child. The rest of the suite runs jobs on threads (RENDER_PROCESS=thread, tests/conftest.py)."""
from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from sqlmodel import select

from core.generation import planning, work
from core.generation.planning import BatchRequest
from db.models import GeneratedPose, PoseGeneration
from tests.batch_support import WAIT, balance, pose_files, poses, row_files, services_factory
from tests.factories import ready_shop

ROOT = Path(__file__).resolve().parent.parent

WEB = r"""
import json, sys, time
from core.settings import Settings
from services import Services
from core.generation import planning
from core.generation.planning import BatchRequest
from db.models import PoseGeneration
from tests.factories import ready_shop

values = json.loads(sys.argv[1])
svc = Services.build(Settings(**values), migrate=False)
shop = ready_shop(svc)
request = BatchRequest(brand_kit_id=shop.kit.id, avatar_id=shop.avatar.id, product_id=shop.product.id,
                       template_ids=[t.id for t in shop.templates[:6]], seed=7)
with svc.session() as s:
    gid = planning.start_batch(s, user=shop.user, request=request, settings=svc.settings, runner=svc.runner).id
svc.runner.wait_idle(timeout=600)
with svc.session() as s:
    g = s.get(PoseGeneration, gid)
    status, done = g.status, g.completed_count
child = svc.runner.pid()
svc.close()
print(json.dumps({"kind": type(svc.runner).__name__, "gid": gid, "status": status, "done": done,
                  "child": child, "user": shop.user.id,
                  "heavy": sorted(m for m in ("torch", "diffusers", "transformers", "onnxruntime", "rembg")
                                  if m in sys.modules)}))
"""


def _values(db_url, tmp_path, tiny_engine_values, **over) -> dict:
    values = dict(database_url=db_url, storage_dir=str(tmp_path / "files"), starting_credits=1000, auth="none",
                  render_process="child", engine_steps=2, engine_batch_size=2, job_chunk_size=2, max_attempts=1,
                  **{k: str(v) if isinstance(v, Path) else v for k, v in tiny_engine_values.items()})
    values.update(over)
    return values


@pytest.mark.slow
def test_a_batch_renders_in_the_render_process_and_the_web_process_never_loads_torch(db_url, tmp_path,
                                                                                      tiny_engine_values):
    from core.library import templates as lib
    from db.session import Database

    db = Database.from_url(db_url)
    with db.session() as s:
        lib.load_library(s)
    db.dispose()
    values = _values(db_url, tmp_path, tiny_engine_values)
    env = {**os.environ, "RENDER_PROCESS": "child", "PYTHONPATH": str(ROOT)}
    out = subprocess.run([sys.executable, "-c", WEB, json.dumps(values)], cwd=ROOT, capture_output=True, text=True,
                         timeout=900, env=env)
    assert out.returncode == 0, out.stderr[-3000:]
    got = json.loads(out.stdout.strip().splitlines()[-1])
    assert got["kind"] == "ChildRunner" and got["child"] is not None
    assert got["status"] == "completed" and got["done"] == 6
    assert got["heavy"] == []          # rendering happened elsewhere: this process never imported torch
    db = Database.from_url(db_url)
    with db.session() as s:
        rows = list(s.exec(select(GeneratedPose).where(GeneratedPose.generation_id == got["gid"])))
        assert {r.worker_id.split(":")[1] for r in rows} == {str(got["child"])}   # rendered by the child's pid
    db.dispose()
    files = Path(values["storage_dir"])
    for r in rows:
        assert (files / r.image_path).stat().st_size > 0 and (files / r.thumbnail_path).is_file()
    # the app closed: its render process is gone
    with pytest.raises(ProcessLookupError):
        os.kill(got["child"], 0)


@pytest.fixture
def make_svc(make_settings, db_url, tiny_engine_values):
    make, close_all = services_factory(make_settings, db_url, tiny_engine_values, runner_default=True,
                                       render_process="child")
    yield make
    close_all()


def status(svc, gid) -> str:
    with svc.session() as s:
        return s.get(PoseGeneration, gid).status


def _wait(predicate, timeout=WAIT):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.05)
    raise AssertionError("timed out waiting")


@pytest.mark.slow
def test_a_killed_render_process_hands_its_poses_back_and_a_new_one_finishes_the_batch(make_svc):
    from jobs.child import ChildRunner

    svc = make_svc(engine_steps=6, max_attempts=1)
    assert isinstance(svc.runner, ChildRunner)
    shop = ready_shop(svc)
    before = balance(svc, shop.user)
    request = BatchRequest(brand_kit_id=shop.kit.id, avatar_id=shop.avatar.id, product_id=shop.product.id,
                           template_ids=[t.id for t in shop.templates[:6]], seed=11)
    with svc.session() as s:
        gid = planning.start_batch(s, user=shop.user, request=request, settings=svc.settings, runner=svc.runner).id
    first = _wait(svc.runner.pid)
    _wait(lambda: any(p.status == "running" for p in poses(svc, gid)))   # the child holds poses now
    os.kill(first, signal.SIGKILL)
    # the app notices at once: the jobs it held fail, their running poses are pending again (no job)
    _wait(lambda: not any(p.status == "running" for p in poses(svc, gid)), timeout=30)
    assert all(p.status in ("pending", "done") for p in poses(svc, gid))
    # one reaper pass queues what has no live job; a new render process starts and finishes the batch
    with svc.session() as s:
        requeued = work.reap(s, runner=svc.runner, settings=svc.settings)
    assert requeued["requeued"] >= 1
    _wait(lambda: status(svc, gid) == "completed")
    second = svc.runner.pid()
    assert second is not None and second != first and svc.runner.started == 2
    rows = poses(svc, gid)
    assert [p.status for p in rows] == ["done"] * 6
    assert pose_files(svc, shop.user) == row_files(rows)      # one set of files per pose, nothing left over
    assert balance(svc, shop.user) == before - 6 * rows[0].cost  # charged once, nothing refunded twice


def test_the_render_process_is_only_started_by_work_and_stopped_with_the_app(make_svc):
    svc = make_svc()
    assert svc.runner.pid() is None and svc.runner.report()["workers"][0]["name"].startswith("render process")
    fut = svc.runner.submit("jobs.tasks:reap")          # any job: the reaper pass runs in the child
    assert fut.result(timeout=WAIT) is None
    pid = svc.runner.pid()
    assert pid is not None and svc.runner.started == 1
    svc.close()
    with pytest.raises(ProcessLookupError):
        os.kill(pid, 0)
