"""The job facade: in-process runner and rq with a real `python -m jobs.worker` process on real Redis."""
from __future__ import annotations

import io
import os
import subprocess
import sys
from pathlib import Path

import pytest
from PIL import Image

from core.accounts import credits
from core.catalog import products
from core.catalog.products import ProductCreate
from services import Services
from db.models import Product, User
from jobs import InProcessRunner, make_runner
from jobs.rq_runner import RqRunner

ROOT = Path(__file__).resolve().parent.parent


def photo() -> bytes:
    buf = io.BytesIO()
    Image.new("RGB", (120, 160), (200, 30, 30)).save(buf, "JPEG")
    return buf.getvalue()


def test_in_process_runner_is_used_without_redis(services):
    assert isinstance(services.runner, InProcessRunner)


@pytest.mark.redis
def test_rq_worker_process_runs_queued_background_removal(make_settings, db_url, redis_url, tmp_path):
    """Upload with REDIS_URL set: the row is pending and one job waits in Redis; a real worker process
    picks it up and records the outcome (no weights here: failed with a clear reason, and refunded)."""
    settings = make_settings(database_url=db_url, redis_url=redis_url, rembg_home=tmp_path / "no-weights")
    svc = Services.build(settings, migrate=False)
    try:
        assert isinstance(svc.runner, RqRunner)
        from core.accounts import users

        with svc.session() as s:
            user = users.create_user(s, username="shopowner", password="correct horse battery", settings=settings)
            product = products.upload(s, user=user, data=ProductCreate(), source=photo(), filename="serum.jpg",
                                      store=svc.store, settings=settings, runner=svc.runner)
        assert svc.runner.queue.count == 1
        with svc.session() as s:
            assert s.get(Product, product.id).bg_status == "pending"
            assert credits.balance(s, user_id=user.id) == 1000 - 5 - 3

        env = {**os.environ, "DATABASE_URL": db_url, "REDIS_URL": redis_url, "STORAGE_DIR": str(settings.storage_dir),
               "REMBG_HOME": str(tmp_path / "no-weights"), "PYTHONPATH": str(ROOT)}
        done = subprocess.run([sys.executable, "-m", "jobs.worker", "--burst"], cwd=ROOT, env=env,
                              capture_output=True, text=True, timeout=300)
        assert done.returncode == 0, done.stderr[-2000:]
        assert svc.runner.queue.count == 0
        with svc.session() as s:
            row = s.get(Product, product.id)
            assert row.bg_status == "failed"
            assert "isnet-general-use" in row.bg_error  # names the missing model file
            assert credits.balance(s, user_id=user.id) == 1000 - 5  # the removal was refunded
    finally:
        svc.close()


def test_jobs_refuse_objects_as_arguments(redis_url):
    runner = RqRunner(redis_url)
    try:
        with pytest.raises(TypeError):
            runner.submit("jobs.tasks:remove_background", object())
    finally:
        runner.shutdown()


def test_worker_without_redis_url_says_what_to_set(tmp_path):
    env = {k: v for k, v in os.environ.items() if k not in ("REDIS_URL",)}
    env.update(DATABASE_URL=f"sqlite:///{tmp_path / 'x.db'}", STORAGE_DIR=str(tmp_path / "files"))
    done = subprocess.run([sys.executable, "-m", "jobs.worker", "--burst"], cwd=ROOT, env=env, capture_output=True,
                          text=True, timeout=120)
    assert done.returncode == 2
    assert "REDIS_URL" in done.stderr
