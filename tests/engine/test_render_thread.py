"""One render thread per process owns torch (engine.render_thread): a batch rendered by two job threads at once
runs every UNet and ControlNet call on that one thread, and ENGINE_THREADS reaches torch on it before its first
operation (a fresh interpreter, so the setting is the first one the process sees)."""
from __future__ import annotations

import subprocess
import sys
import threading
from pathlib import Path

import pytest

from core.generation import planning
from core.generation.planning import BatchRequest
from db.models import PoseGeneration
from tests.batch_support import WAIT, poses, services_factory
from tests.factories import ready_shop

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def make_svc(db_url, tiny_engine_values, tmp_path):
    from core.settings import Settings

    def settings(**values):   # this folder's make_settings is the engine's own (tests/engine/conftest.py)
        return Settings(storage_dir=tmp_path / "files", starting_credits=1000, auth="none", **values)

    make, close_all = services_factory(settings, db_url, tiny_engine_values, runner_default=True)
    yield make
    close_all()


def test_two_job_threads_render_through_the_one_render_thread(make_svc):
    from engine import render_thread
    from engine.pipeline import get_engine
    from jobs import InProcessRunner

    svc = make_svc(job_chunk_size=2, engine_batch_size=2)
    assert isinstance(svc.runner, InProcessRunner)
    engine = get_engine(svc.settings)
    seen: list[str] = []
    hooks = [m.register_forward_pre_hook(lambda *_: seen.append(threading.current_thread().name))
             for m in (engine.pipe.unet, engine.pipe.controlnet)]
    try:
        shop = ready_shop(svc)
        request = BatchRequest(brand_kit_id=shop.kit.id, avatar_id=shop.avatar.id, product_id=shop.product.id,
                               template_ids=[t.id for t in shop.templates[:4]], seed=3)
        with svc.session() as s:   # two jobs of two poses: both job threads render at once
            gid = planning.start_batch(s, user=shop.user, request=request, settings=svc.settings,
                                       runner=svc.runner).id
        svc.runner.wait_idle(timeout=WAIT)
    finally:
        for h in hooks:
            h.remove()
    with svc.session() as s:
        assert s.get(PoseGeneration, gid).status == "completed"
    assert len({p.worker_id for p in poses(svc, gid)}) == 2        # two jobs rendered it...
    assert seen and set(seen) == {"render_0"}                      # ...and every model call ran on one thread
    assert render_thread.state()["started"] and not render_thread.on_thread()


def test_engine_threads_is_what_torch_uses_on_the_render_thread(tiny_engine_values, tmp_path):
    code = f"""
import threading
from core.settings import Settings
from engine import render_thread
from engine.pipeline import get_engine, RenderRequest
from PIL import Image
s = Settings(engine="tiny", tiny_model_dir={str(tiny_engine_values['tiny_model_dir'])!r},
             hf_cache_dir={str(tiny_engine_values['hf_cache_dir'])!r}, model_downloads=False,
             storage_dir={str(tmp_path)!r}, engine_threads=1)
engine = get_engine(s)
done = []
t = threading.Thread(target=lambda: done.append(engine.render([RenderRequest("a person", Image.new("RGB", (64, 96)), 1)],
                                                               steps=1)))
t.start(); t.join()
import torch
print(render_thread.run(torch.get_num_threads), engine.describe()["threads"], len(done), render_thread.state()["cores"])
"""
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, out.stderr[-3000:]
    threads, described, rendered, cores = out.stdout.split()[-4:]
    assert (threads, described, rendered) == ("1", "1", "1")
    assert int(cores) >= 1
