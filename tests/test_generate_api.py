"""Try one pose over REST with ENGINE=tiny (the real diffusers classes at toy size), on SQLite and Postgres:
POST /generate/try is rendered by the in-process job runner, GET /generations/{id} shows the pose with its
image, thumbnail and control skeleton, which only the owner can load. Errors: 402 without credits, 422 for
a bad size or seed, 404 for someone else's avatar/product/kit or an unknown template; nothing is planned
or charged when a request is refused."""
from __future__ import annotations

import io

import pytest
import sqlalchemy as sa
from fastapi.testclient import TestClient
from PIL import Image
from sqlmodel import select

from api import create_api
from core.accounts import credits, users
from core.library import templates as lib
from services import Services
from db.models import GeneratedPose, PoseGeneration, PoseTemplate, User
from tests.factories import ready_shop

BASE = "/api/apps/pose-generator"
WAIT = 120  # seconds; the first tiny pipeline of a process is written to disk and loaded
SETUP_COST = 5 + 5 + 5 + 3  # brand kit, avatar, product upload, background removal (see tests/test_generation.py)


@pytest.fixture
def svc(make_settings, db_url, tiny_engine_values):
    settings = make_settings(database_url=db_url, auth="password", **tiny_engine_values, engine_steps=2,
                             engine_batch_size=2, max_attempts=2)
    s = Services.build(settings, migrate=False)  # the in-process job runner
    with s.session() as session:
        lib.load_library(session)
    yield s
    s.close()


@pytest.fixture
def app(svc):
    return create_api(svc)


def shop(svc, app, name: str):
    """A ready shop (tests.factories) and a signed-in REST client for its user."""
    sh = ready_shop(svc, name)
    with svc.session() as s:
        token = users.issue_token(s, user=sh.user, settings=svc.settings)
    client = TestClient(app)
    client.headers["Authorization"] = f"Bearer {token}"
    return client, dict(user=sh.user, kit=sh.kit.id, avatar=sh.avatar.id, product=sh.product.id,
                        template=sh.template.id)


def body(ids, **over):
    return {"brandKitId": ids["kit"], "avatarId": ids["avatar"], "productId": ids["product"],
            "templateId": ids["template"], "size": "portrait", **over}


def balance(svc, user) -> int:
    with svc.session() as s:
        return credits.balance(s, user_id=user.id)


def planned(svc) -> int:
    with svc.session() as s:
        return len(s.exec(select(PoseGeneration)).all()) + len(s.exec(select(GeneratedPose)).all())


def test_try_one_pose_renders_and_only_its_owner_sees_it(svc, app):
    client, ids = shop(svc, app, "siti")
    other, _ = shop(svc, app, "budi")
    started = client.post(f"{BASE}/generate/try", json=body(ids, seed=4321, extraPrompt="soft morning light"))
    assert started.status_code == 202, started.text
    gen = started.json()
    assert gen["status"] == "pending" and gen["totalPoses"] == 1 and gen["creditsReserved"] == 10
    assert balance(svc, ids["user"]) == 1000 - SETUP_COST - 10
    svc.runner.wait_idle(timeout=WAIT)

    got = client.get(f"{BASE}/generations/{gen['id']}")
    assert got.status_code == 200, got.text
    g = got.json()
    assert g["status"] == "completed", g
    assert g["progress"] == 100 and g["completedCount"] == 1 and g["failedCount"] == 0 and g["totalPoses"] == 1
    assert g["creditsUsed"] == 10 and g["creditsRefunded"] == 0
    assert (g["brandKitId"], g["avatarId"], g["productId"]) == (ids["kit"], ids["avatar"], ids["product"])
    (pose,) = g["poses"]
    assert pose["status"] == "done" and pose["seed"] == 4321 and pose["templateId"] == ids["template"]
    assert "soft morning light" in pose["prompt"] and pose["negativePrompt"]
    # no detector weights offline: recorded as not checked, never a made-up score
    assert pose["qualityChecked"] is False and pose["qualityScore"] is None
    assert pose["attempts"] == 1 and pose["error"] is None and pose["renderSeconds"] > 0
    w, h = g["options"]["width"], g["options"]["height"]
    for key, size in (("imageUrl", (w, h)), ("controlUrl", (w, h)), ("thumbnailUrl", None)):
        url = pose[key]
        assert url and url.startswith("/api/files/"), key
        r = client.get(url)
        assert r.status_code == 200 and r.headers["content-type"] in ("image/png", "image/jpeg"), (key, r.headers)
        with Image.open(io.BytesIO(r.content)) as im:
            assert im.format in ("PNG", "JPEG") and (size is None or im.size == size), (key, im.size)
        assert other.get(url).status_code == 404, key
    assert other.get(f"{BASE}/generations/{gen['id']}").status_code == 404
    assert client.get(f"{BASE}/generations/999999").status_code == 404
    assert balance(svc, ids["user"]) == 1000 - SETUP_COST - 10


def test_refused_requests_plan_and_charge_nothing(svc, app):
    client, ids = shop(svc, app, "siti")
    other, other_ids = shop(svc, app, "budi")
    before = balance(svc, ids["user"])
    cases = [
        (body(ids, size="poster"), 422, "size"),
        (body(ids, seed=-1), 422, "seed"),
        (body(ids, seed=2**31), 422, "seed"),
        (body(ids, extraPrompt="x" * 501), 422, "extraPrompt"),
        (body(ids, nonsense=1), 422, "nonsense"),
        ({k: v for k, v in body(ids).items() if k != "avatarId"}, 422, "avatarId"),
        (body(ids, avatarId=other_ids["avatar"]), 404, None),
        (body(ids, productId=other_ids["product"]), 404, None),
        (body(ids, brandKitId=other_ids["kit"]), 404, None),
        (body(ids, templateId=999_999), 404, None),
    ]
    for payload, status, field in cases:
        r = client.post(f"{BASE}/generate/try", json=payload)
        assert r.status_code == status, (payload, r.text)
        if field:
            assert r.json()["field"] == field, r.json()
    with svc.session() as s:  # an inactive template is not there for a shop owner
        t = s.get(PoseTemplate, ids["template"])
        t.is_active = False
        s.add(t)
        s.commit()
    assert client.post(f"{BASE}/generate/try", json=body(ids)).status_code == 404
    with svc.session() as s:
        t = s.get(PoseTemplate, ids["template"])
        t.is_active = True
        s.add(t)
        s.execute(sa.update(User).where(User.id == ids["user"].id).values(credits=5))
        s.commit()
    r = client.post(f"{BASE}/generate/try", json=body(ids))
    assert r.status_code == 402, r.text
    assert planned(svc) == 0
    assert balance(svc, ids["user"]) == 5 and balance(svc, other_ids["user"]) == before
