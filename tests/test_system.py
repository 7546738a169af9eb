"""The System page's data (issue 15): GET /api/system for admins (models with their state, where and why; the
engine; likeness / pose check / background removal; database; Redis, workers and queued jobs; free space), a
403 for everyone else, and the notices a user sees when something they are about to use is off. Real
databases (SQLite and Postgres), real Redis, real files; no model is loaded or downloaded to answer."""
from __future__ import annotations

import sys

import pytest
from fastapi.testclient import TestClient

from api import create_api
from core.accounts import users
from services import Services
from tests.batch_support import services_factory


@pytest.fixture
def make_svc(make_settings, db_url, tiny_engine_values):
    make, close_all = services_factory(make_settings, db_url, tiny_engine_values, runner_default=False,
                                       auth="password")
    yield make
    close_all()


def client_for(svc: Services, name: str, *, admin: bool = False) -> TestClient:
    with svc.session() as s:
        user = users.create_user(s, username=name, password="a-long-password-1", settings=svc.settings,
                                 role="admin" if admin else "user")
        token = users.issue_token(s, user=user, settings=svc.settings)
    c = TestClient(create_api(svc))
    c.headers["Authorization"] = f"Bearer {token}"
    return c


def test_admins_see_every_model_check_and_service_and_others_get_403(make_svc, tmp_path, db_kind):
    rembg_home = tmp_path / "no-rembg"
    rembg_home.mkdir()
    svc = make_svc(runner=True, rembg_home=rembg_home, model_downloads=False)
    admin, shop = client_for(svc, "ops", admin=True), client_for(svc, "siti")

    r = shop.get("/api/system")
    assert r.status_code == 403 and "admins only" in r.json()["detail"]

    r = admin.get("/api/system")
    assert r.status_code == 200, r.text
    body = r.json()
    models = {m["name"]: m for m in body["models"]}
    assert list(models) == ["base", "ip-adapter", "garment-ip-adapter", "image-encoder", "pose-detector",
                            "background-removal"]                                   # tiny engine, IP_ADAPTER=auto
    assert models["base"]["state"] == "built"
    assert models["ip-adapter"]["state"] == "missing" and "h94/IP-Adapter" in models["ip-adapter"]["reason"]
    bg = models["background-removal"]
    assert bg["state"] == "missing" and "isnet-general-use.onnx" in bg["reason"] and str(rembg_home) in bg["reason"]
    assert "MODEL_DOWNLOADS=false" in bg["reason"]
    det = models["pose-detector"]
    assert det["state"] == "missing" and "lllyasviel/Annotators" in det["reason"]
    checks = body["checks"]
    assert checks["backgroundRemoval"]["on"] is False and "isnet-general-use.onnx" in checks["backgroundRemoval"]["reason"]
    assert checks["poseCheck"]["on"] is False and checks["poseCheck"]["reason"]
    assert checks["likeness"]["on"] is False and checks["likeness"]["reason"]
    assert body["engine"]["engine"] == "tiny" and body["engine"]["deviceSetting"] == "auto"
    assert body["engine"]["lastRender"] is None                             # nothing rendered yet
    assert body["database"] == {"dialect": {"sqlite": "sqlite", "postgres": "postgresql"}[db_kind],
                                "database": body["database"]["database"], "reachable": True, "error": None}
    assert body["storage"]["dir"] == str(svc.settings.storage_dir) and body["storage"]["free"] > 0
    assert body["storage"]["total"] >= body["storage"]["free"]
    jobs = body["jobs"]
    assert jobs["kind"] == "in-process" and jobs["queued"] == 0 and jobs["workers"][0]["state"] == "idle"
    assert body["rendering"] == []


def test_a_pose_being_rendered_shows_its_worker_and_heartbeat(make_svc):
    from core.generation import planning, work
    from core.generation.planning import BatchRequest
    from tests.batch_support import poses
    from tests.factories import ready_shop

    svc = make_svc()
    admin = client_for(svc, "ops", admin=True)
    shop = ready_shop(svc, "siti")
    request = BatchRequest(brand_kit_id=shop.kit.id, avatar_id=shop.avatar.id, product_id=shop.product.id,
                           pose_distribution={"product-holding": 2})
    with svc.session() as s:
        gid = planning.start_batch(s, user=shop.user, request=request, settings=svc.settings, runner=None).id
    with svc.session() as s:
        claimed = work.claim(s, generation_id=gid, positions=[0], worker="gpu-box-1")
        s.commit()
    assert claimed == [0]
    (row,) = admin.get("/api/system").json()["rendering"]
    assert row["worker"] == "gpu-box-1" and row["generationId"] == gid and row["poses"] == 1
    assert row["lastHeartbeat"]
    assert [p.status for p in poses(svc, gid)] == ["running", "pending"]

    # the batch renders (as a worker would): the page then tells the device and dtype it ran on
    from core.generation.render import render_poses

    with svc.session() as s:
        render_poses(s, generation_id=gid, positions=[1], store=svc.store, settings=svc.settings, worker="gpu-box-2")
    last = admin.get("/api/system").json()["engine"]["lastRender"]
    assert last == {"generationId": gid, "engine": "tiny", "device": "cpu", "dtype": "fp32"}


@pytest.mark.redis
def test_with_redis_the_queue_and_its_reachability_are_reported(make_svc, redis_url):
    svc = make_svc(runner=True, redis_url=redis_url)
    admin = client_for(svc, "ops", admin=True)
    svc.runner.submit("jobs.tasks:remove_background", 123456)     # no worker runs: it waits in the queue
    jobs = admin.get("/api/system").json()["jobs"]
    assert jobs["kind"] == "rq" and jobs["redis"] == {"reachable": True, "error": None}
    assert jobs["queued"] == 1 and jobs["failed"] == 0 and jobs["workers"] == []

    down = make_svc(runner=True, redis_url="redis://127.0.0.1:1/0")
    jobs = client_for(down, "ops2", admin=True).get("/api/system").json()["jobs"]
    assert jobs["redis"]["reachable"] is False and "Connection" in jobs["redis"]["error"]


def test_every_user_sees_what_is_off_before_using_it(make_svc, tmp_path):
    rembg_home = tmp_path / "no-rembg"
    rembg_home.mkdir()
    svc = make_svc(rembg_home=rembg_home, model_downloads=False)
    shop = client_for(svc, "siti")
    codes = [n["code"] for n in shop.get("/api/system/notices").json()]
    assert codes == ["system.notice_likeness_off", "system.notice_pose_check_off", "system.notice_background_off"]
    texts = [n["text"] for n in shop.get("/api/system/notices").json()]
    assert "already cut out" in texts[-1]


def test_the_banner_is_read_from_the_last_answer_and_refreshed_behind_the_page(make_svc, tmp_path, monkeypatch):
    """Every page load shows the notices: after the first answer of a process they come from the last one and
    a background thread refreshes them, so adding the missing weights clears the banner without a restart."""
    import time

    from core import system
    from tests.tiny_models import build_tiny_u2net_onnx

    rembg_home = tmp_path / "rembg"
    rembg_home.mkdir()
    svc = make_svc(rembg_home=rembg_home, rembg_model="custom:tiny.onnx", model_downloads=False)
    codes = lambda: [m.code for m in system.current_notices(svc.settings)]  # noqa: E731
    assert "system.notice_background_off" in codes()
    build_tiny_u2net_onnx(rembg_home / "tiny.onnx")
    assert "system.notice_background_off" in codes()                  # within the TTL: the last answer
    monkeypatch.setattr(system, "NOTICE_TTL_S", 0.0)
    deadline = time.monotonic() + 30
    while "system.notice_background_off" in codes():                  # refreshed behind the page
        assert time.monotonic() < deadline, "the notices were never refreshed"
        time.sleep(0.1)
    assert system.notices(svc.settings) == system.current_notices(svc.settings)
