"""Batches over REST (/api/apps/pose-generator) with ENGINE=tiny, on SQLite and Postgres: POST /generate
rendered by the in-process runner, status and results, cancel, retry, re-render, rating, download, the
ZIP export and its manifest (re-rendering an entry gives the exported image back, pixel for pixel),
projects, stats, and another user who is told "not found" on every route. Where a test needs a pose to
fail, or to stop half way, it serves the API from services without a runner and renders the poses
itself with core.generation.render.render_poses, choosing the pose detector (a real function, not a mock)."""
from __future__ import annotations

import io
import json
import zipfile

import numpy as np
import pytest
import sqlalchemy as sa
from fastapi.testclient import TestClient
from PIL import Image
from sqlmodel import select

from api import create_api
from core.generation import state as generation_state
from core.catalog import products
from core.accounts import users
from core.catalog.products import ProductCreate
from db.models import GeneratedPose, PoseGeneration, PoseTemplate, Product, User
from tests.batch_support import (WAIT, balance, ledger, nobody_there, pose_files, poses, render,  # noqa: F401
                                 row_files, services_factory)
from tests.factories import photo, ready_shop

BASE = "/api/apps/pose-generator"


@pytest.fixture
def make_svc(make_settings, db_url, tiny_engine_values):
    make, close_all = services_factory(make_settings, db_url, tiny_engine_values, runner_default=True, auth="password")
    yield make
    close_all()


@pytest.fixture
def live(make_svc):
    """Services with the in-process job runner: POST /generate renders in the background."""
    return make_svc()


@pytest.fixture
def still(make_svc):
    """Services without a runner: batches are planned and wait; the test renders them."""
    return make_svc(runner=False)


class Shop:
    def __init__(self, svc, name):
        self.svc = svc
        sh = ready_shop(svc, name)
        self.user, self.kit, self.avatar, self.product, self.templates = sh.user, sh.kit, sh.avatar, sh.product, \
            sh.templates
        with svc.session() as s:
            token = users.issue_token(s, user=sh.user, settings=svc.settings)
        self.client = TestClient(create_api(svc))
        self.client.headers["Authorization"] = f"Bearer {token}"

    def body(self, **over):
        return {"brandKitId": self.kit.id, "avatarId": self.avatar.id, "productId": self.product.id, **over}

    def start(self, **over) -> int:
        r = self.client.post(f"{BASE}/generate", json=self.body(**over))
        assert r.status_code == 202, r.text
        return r.json()["id"]

    def get(self, path, **kw):
        return self.client.get(f"{BASE}{path}", **kw)

    def post(self, path, **kw):
        return self.client.post(f"{BASE}{path}", **kw)


def planned_rows(svc) -> int:
    with svc.session() as s:
        return len(s.exec(select(PoseGeneration)).all()) + len(s.exec(select(GeneratedPose)).all())


def fitted_of(svc, pose_id):
    from core.library.poses.transforms import fit_to_aspect

    with svc.session() as s:
        p = s.get(GeneratedPose, pose_id)
        t, g = s.get(PoseTemplate, p.template_id), s.get(PoseGeneration, p.generation_id)
        return fit_to_aspect(t.keypoints, g.options["width"] / g.options["height"], source_aspect=t.aspect).to_json()


# --- the whole flow -------------------------------------------------------------------------------------

def test_a_batch_is_planned_rendered_and_listed(live):
    a = Shop(live, "siti")
    before = balance(live, a.user)
    r = a.post("/generate", json=a.body(poseDistribution={"product-holding": 3, "skincare-application": 2}, seed=5))
    assert r.status_code == 202, r.text
    started = r.json()
    assert started["status"] == "pending" and started["totalPoses"] == 5 and started["creditsReserved"] == 50
    gid = started["id"]
    assert balance(live, a.user) == before - 50
    live.runner.wait_idle(timeout=WAIT)

    st = a.get(f"/generate/{gid}").json()
    assert st["status"] == "completed" and st["progress"] == 100, st
    assert (st["total"], st["done"], st["failed"], st["pending"], st["running"], st["cancelled"]) == (5, 5, 0, 0, 0, 0)
    assert (st["creditsReserved"], st["creditsUsed"], st["creditsRefunded"]) == (50, 50, 0)
    assert st["etaSeconds"] is None and st["startedAt"] and st["completedAt"]
    rows = poses(live, gid)
    assert all(p.status == "done" and p.attempts == 1 for p in rows)
    with live.session() as s:
        cats = sorted(s.get(PoseTemplate, p.template_id).category for p in rows)
    assert cats == ["product-holding"] * 3 + ["skincare-application"] * 2

    page = a.get(f"/results/{gid}", params={"show": "all", "limit": 2, "offset": 0}).json()
    assert page["total"] == 5 and [i["position"] for i in page["items"]] == [0, 1] and page["limit"] == 2
    assert page["status"]["status"] == "completed"
    last = a.get(f"/results/{gid}", params={"limit": 2, "offset": 4}).json()
    assert [i["position"] for i in last["items"]] == [4]
    # the test server has no pose detector weights: every image is "not checked", and none is "accepted"
    assert a.get(f"/results/{gid}", params={"show": "accepted"}).json()["total"] == 0
    unchecked = a.get(f"/results/{gid}", params={"show": "notChecked"}).json()
    assert unchecked["total"] == 5 and {i["id"] for i in unchecked["items"]} == {p.id for p in rows}
    assert (st["accepted"], st["notChecked"]) == (0, 5) and st["checks"]["poseCheck"]["on"] is False
    failed = a.get(f"/results/{gid}", params={"show": "failed"}).json()
    assert failed["total"] == 0 and failed["items"] == []
    bad = a.get(f"/results/{gid}", params={"show": "everything"})
    assert bad.status_code == 422 and "show must be one of" in bad.json()["detail"]

    by_id = {p.id: p for p in rows}
    for item in a.get(f"/results/{gid}").json()["items"]:
        p = by_id[item["id"]]
        assert item["seed"] == p.seed and item["templateId"] == p.template_id and item["status"] == "done"
        for url, key in ((item["imageUrl"], p.image_path), (item["thumbnailUrl"], p.thumbnail_path),
                         (item["controlUrl"], p.control_path)):
            got = a.client.get(url)
            assert got.status_code == 200 and got.content == live.store.read(key)
        with Image.open(live.store.path(p.image_path)) as im:
            assert im.size == (64, 96) and im.convert("RGB").getextrema() != ((0, 0),) * 3
    # every finished pose has its image, thumbnail and control image, and nothing else is there
    assert pose_files(live, a.user) == row_files(rows) and len(row_files(rows)) == 15

    # a job that runs again (the queue delivered it twice), or a render of the whole batch, changes nothing
    files = {k: live.store.read(k) for k in pose_files(live, a.user)}
    state = [(p.status, p.seed, p.attempts, p.image_path, p.finished_at) for p in rows]
    live.runner.submit("jobs.tasks:render_poses", gid, "0,1", job_id="again-0")
    live.runner.wait_idle(timeout=WAIT)
    render(live, gid)
    assert {k: live.store.read(k) for k in pose_files(live, a.user)} == files
    assert [(p.status, p.seed, p.attempts, p.image_path, p.finished_at) for p in poses(live, gid)] == state
    assert balance(live, a.user) == before - 50 and [r.delta for r in ledger(live, a.user, gid)] == [-50]

    listed = a.get("/generations").json()
    assert listed["total"] == 1 and listed["items"][0]["id"] == gid and listed["items"][0]["completedCount"] == 5


def test_status_while_a_batch_waits_and_runs(still):
    a = Shop(still, "siti")
    r = a.post("/generate", json=a.body(poseDistribution={"product-holding": 2, "upper-body": 2}, totalPoses=4,
                                        seed=99, quality="draft", extraPrompt="soft morning light"))
    assert r.status_code == 202, r.text
    gid = r.json()["id"]
    rows = poses(still, gid)       # planned in full at once: one row per pose with its template, seed, prompt
    with still.session() as s:
        templates = [s.get(PoseTemplate, p.template_id) for p in rows]
        g = s.get(PoseGeneration, gid)
    assert [t.category for t in templates] == ["product-holding"] * 2 + ["upper-body"] * 2
    assert len({t.id for t in templates}) == 4
    assert all(p.status == "pending" and p.seed is not None and "soft morning light" in p.prompt for p in rows)
    assert g.options["steps"] == 1 and g.options["seed"] == 99 and g.options["quality"] == "draft"
    st = a.get(f"/generate/{gid}").json()
    assert (st["status"], st["progress"], st["pending"], st["done"], st["etaSeconds"]) == ("pending", 0, 4, 0, None)
    render(still, gid, [0, 1])
    st = a.get(f"/generate/{gid}").json()
    assert (st["status"], st["progress"], st["done"], st["pending"]) == ("running", 50, 2, 2)
    assert st["etaSeconds"] is not None and st["etaSeconds"] >= 0
    assert (st["creditsReserved"], st["creditsUsed"], st["creditsRefunded"]) == (40, 20, 0)


# --- refused requests ----------------------------------------------------------------------------------------

def test_refused_batch_requests_say_why_and_plan_and_charge_nothing(make_svc):
    svc = make_svc(max_poses_per_generation=5)
    a, b = Shop(svc, "siti"), Shop(svc, "budi")
    with svc.session() as s:
        raw = products.upload(s, user=a.user, data=ProductCreate(placement="hand-right", product_type="bottle"),
                              source=photo((10, 200, 10)), filename="raw.png", store=svc.store,
                              settings=svc.settings, runner=None)
        keep = list(s.exec(select(PoseTemplate.id).where(PoseTemplate.category == "lifestyle",
                                                         PoseTemplate.gender.in_(["female", "unisex"]))
                           .order_by(PoseTemplate.id).limit(2)))
        s.execute(sa.update(PoseTemplate).where(PoseTemplate.category == "lifestyle", PoseTemplate.id.notin_(keep))
                  .values(is_active=False))
        s.commit()
    project = b.post("/projects", json={"name": "Budi's"}).json()["id"]
    before = balance(svc, a.user)
    two = {"product-holding": 2}
    cases = [
        (a.body(poseDistribution=two, totalPoses=3), 422, None,
         "totalPoses is 3 but the poseDistribution adds up to 2"),
        (a.body(templateIds=[a.templates[0].id], totalPoses=2), 422, None, "totalPoses is 2 but templateIds has 1"),
        (a.body(poseDistribution=two, templateIds=[a.templates[0].id]), 422, None, "either poseDistribution"),
        (a.body(), 422, None, "either poseDistribution"),
        (a.body(poseDistribution={"product-holding": -1, "sitting": 2}), 422, None, ">= 0"),
        (a.body(poseDistribution={"product-holding": 0}), 422, None, "at least one pose"),
        (a.body(poseDistribution={"nope": 1}), 422, "poseDistribution", "Unknown pose category nope"),
        (a.body(poseDistribution={"lifestyle": 3}), 422, "poseDistribution",
         "“lifestyle” has 2 active poses and you asked for 3"),
        (a.body(poseDistribution={"product-holding": 4, "upper-body": 2}), 422, "totalPoses",
         "A batch can have at most 5 poses; you asked for 6."),
        (a.body(templateIds=[a.templates[0].id] * 6), 422, "totalPoses", "at most 5 poses"),
        (a.body(poseDistribution=two, productId=raw.id), 422, "productId", "has no cut-out yet"),
        (a.body(poseDistribution=two, avatarId=b.avatar.id), 404, None, "not found"),
        (a.body(poseDistribution=two, productId=b.product.id), 404, None, "not found"),
        (a.body(poseDistribution=two, brandKitId=b.kit.id), 404, None, "not found"),
        (a.body(poseDistribution=two, projectId=project), 404, None, f"Project {project} not found"),
        (a.body(templateIds=[999_999]), 404, None, "not found"),
        (a.body(poseDistribution=two, quality="ultra"), 422, "quality", ""),
        (a.body(poseDistribution=two, size="poster"), 422, "size", "size must be one of"),
    ]
    for payload, status, field, words in cases:
        r = a.post("/generate", json=payload)
        assert r.status_code == status, (payload, r.text)
        out = r.json()
        assert words in out["detail"], (payload, out)
        if field:
            assert out.get("field") == field, (payload, out)
    with svc.session() as s:
        s.execute(sa.update(User).where(User.id == a.user.id).values(credits=30))
        s.commit()
    r = a.post("/generate", json=a.body(poseDistribution={"product-holding": 4}))
    assert r.status_code == 402 and "needs 40 credits and you have 30" in r.json()["detail"], r.text
    assert planned_rows(svc) == 0
    assert balance(svc, a.user) == 30 and ledger(svc, a.user) == [] and ledger(svc, b.user) == []
    assert balance(svc, b.user) == before + 8  # b did not upload the extra product (5 + 3)


# --- cancel -------------------------------------------------------------------------------------------------

def test_cancel_a_waiting_batch_then_a_finished_one(still):
    a = Shop(still, "siti")
    before = balance(still, a.user)
    gid = a.start(poseDistribution={"product-holding": 4})
    r = a.post(f"/generate/{gid}/cancel")
    assert r.status_code == 200, r.text
    st = r.json()
    assert st["status"] == "cancelled" and st["cancelled"] == 4 and st["pending"] == 0
    assert (st["creditsReserved"], st["creditsUsed"], st["creditsRefunded"]) == (40, 0, 40)
    assert balance(still, a.user) == before
    again = a.post(f"/generate/{gid}/cancel")
    assert again.status_code == 409 and "already cancelled" in again.json()["detail"]
    render(still, gid)
    assert pose_files(still, a.user) == set() and balance(still, a.user) == before

    done = a.start(poseDistribution={"product-holding": 2})
    render(still, done)
    r = a.post(f"/generate/{done}/cancel")
    assert r.status_code == 409 and "already completed" in r.json()["detail"]
    assert a.get(f"/generate/{done}").json()["done"] == 2


def test_cancel_mid_run_over_rest(still):
    a = Shop(still, "siti")
    before = balance(still, a.user)
    gid = a.start(poseDistribution={"product-holding": 4})
    render(still, gid, [0, 1])
    st = a.post(f"/generate/{gid}/cancel").json()
    assert (st["status"], st["done"], st["cancelled"]) == ("cancelled", 2, 2)
    assert (st["creditsUsed"], st["creditsRefunded"]) == (20, 20) and balance(still, a.user) == before - 20
    kept = a.get(f"/results/{gid}", params={"show": "notChecked"}).json()   # kept, but nobody checked them
    assert [i["position"] for i in kept["items"]] == [0, 1]
    assert a.get(f"/results/{gid}", params={"show": "cancelled"}).json()["total"] == 2
    rr = a.post(f"/results/{kept['items'][0]['id']}/rerender")
    assert rr.status_code == 409 and "cancelled" in rr.json()["detail"]


# --- retry ----------------------------------------------------------------------------------------------------

def test_retry_requeues_only_the_failed_poses_with_new_seeds(still):
    a = Shop(still, "siti")
    before = balance(still, a.user)
    gid = a.start(poseDistribution={"product-holding": 4})
    render(still, gid, [0, 1])
    render(still, gid, [2, 3], detector=nobody_there)
    first = poses(still, gid)
    assert [p.status for p in first] == ["done", "done", "failed", "failed"]
    assert balance(still, a.user) == before - 20

    r = a.post(f"/generate/{gid}/retry")
    assert r.status_code == 200, r.text
    assert r.json()["retried"] == 2 and r.json()["status"]["pending"] == 2 and r.json()["status"]["done"] == 2
    second = poses(still, gid)
    assert [p.status for p in second] == ["done", "done", "pending", "pending"]
    assert [(p.seed, p.image_path, p.finished_at) for p in second[:2]] == \
        [(p.seed, p.image_path, p.finished_at) for p in first[:2]]
    assert all(n.seed != o.seed and n.round == 1 and n.cost == 5 and n.attempts == 0 for n, o in
               zip(second[2:], first[2:]))
    charges = [(x.delta, x.action) for x in ledger(still, a.user, gid)]
    assert charges[-1] == (-10, "retryFailedPose") and balance(still, a.user) == before - 30

    render(still, gid, detector=nobody_there)          # they fail again: 5 back each, not 10
    assert [x.delta for x in ledger(still, a.user, gid)][-2:] == [5, 5]
    assert balance(still, a.user) == before - 20

    assert a.post(f"/generate/{gid}/retry").json()["retried"] == 2
    render(still, gid)
    final = poses(still, gid)
    assert [p.status for p in final] == ["done"] * 4 and [p.round for p in final] == [0, 0, 2, 2]
    assert [x.delta for x in ledger(still, a.user, gid)] == [-40, 10, 10, -10, 5, 5, -10]
    assert balance(still, a.user) == before - 30
    st = a.get(f"/generate/{gid}").json()
    assert st["status"] == "completed" and st["done"] == 4
    assert (st["creditsReserved"], st["creditsUsed"], st["creditsRefunded"]) == (60, 30, 30)
    assert pose_files(still, a.user) == row_files(final)

    none_left = a.post(f"/generate/{gid}/retry")
    assert none_left.status_code == 409 and "no failed poses" in none_left.json()["detail"]


def test_every_retry_round_is_charged(still):
    """A pose re-rendered after an earlier retry round starts at round 0; when it fails and is retried,
    the retry must still be charged (and its refund must not pay back more than was charged)."""
    a = Shop(still, "siti")
    gid = a.start(poseDistribution={"product-holding": 3})
    render(still, gid, [0, 1])
    render(still, gid, [2], detector=nobody_there)
    assert a.post(f"/generate/{gid}/retry").json()["retried"] == 1        # round 1 of pose 2
    render(still, gid)
    first = poses(still, gid)[0]
    assert a.post(f"/results/{first.id}/rerender").status_code == 202    # pose 3, round 0
    render(still, gid, detector=nobody_there)                             # ...fails: refunded 10
    assert [p.status for p in poses(still, gid)] == ["done", "done", "done", "failed"]
    before = balance(still, a.user)
    rows_before = len(ledger(still, a.user, gid))
    assert a.post(f"/generate/{gid}/retry").json()["retried"] == 1
    assert len(ledger(still, a.user, gid)) == rows_before + 1, "the second retry round was not charged"
    assert balance(still, a.user) == before - 5
    render(still, gid, detector=nobody_there)                             # fails again: 5 back
    assert balance(still, a.user) == before


# --- re-render ----------------------------------------------------------------------------------------------

def test_rerender_adds_a_new_image_with_a_new_seed(live):
    a = Shop(live, "siti")
    gid = a.start(poseDistribution={"product-holding": 2}, seed=8)
    live.runner.wait_idle(timeout=WAIT)
    original = poses(live, gid)[1]
    before = balance(live, a.user)
    r = a.post(f"/results/{original.id}/rerender")
    assert r.status_code == 202, r.text
    new = r.json()
    assert new["position"] == 2 and new["status"] == "pending" and new["id"] != original.id
    assert new["templateId"] == original.template_id and new["prompt"] == original.prompt
    assert new["seed"] != original.seed
    assert balance(live, a.user) == before - 10
    assert [(x.delta, x.action) for x in ledger(live, a.user, gid)][-1] == (-10, "generatePose")
    live.runner.wait_idle(timeout=WAIT)
    rows = poses(live, gid)
    assert [p.status for p in rows] == ["done"] * 3
    assert (rows[1].id, rows[1].seed, rows[1].image_path) == (original.id, original.seed, original.image_path)
    assert rows[2].image_path and live.store.read(rows[2].image_path) != live.store.read(original.image_path)
    st = a.get(f"/generate/{gid}").json()
    assert (st["status"], st["total"], st["done"], st["creditsReserved"], st["creditsUsed"]) == \
        ("completed", 3, 3, 30, 30)
    assert pose_files(live, a.user) == row_files(rows)

    chosen = a.post(f"/results/{original.id}/rerender", json={"seed": 123}).json()
    assert chosen["seed"] == 123 and chosen["position"] == 3
    live.runner.wait_idle(timeout=WAIT)
    assert poses(live, gid)[3].status == "done" and poses(live, gid)[3].seed == 123


# --- rating and download ----------------------------------------------------------------------------------------

def test_rating_and_download(still):
    a = Shop(still, "siti")
    gid = a.start(poseDistribution={"product-holding": 2})
    render(still, gid, [0])
    render(still, gid, [1], detector=nobody_there)
    done, failed = poses(still, gid)
    for value in (1, 5, 3):
        r = a.post(f"/results/{done.id}/rate", json={"rating": value})
        assert r.status_code == 200 and r.json()["rating"] == value, r.text
    assert poses(still, gid)[0].rating == 3
    for value in (0, 6):
        r = a.post(f"/results/{done.id}/rate", json={"rating": value})
        assert r.status_code == 422 and r.json()["detail"] == f"A rating is a whole number from 1 to 5, got {value}."
        assert r.json()["field"] == "rating"
    for value in ("x", 2.5):
        r = a.post(f"/results/{done.id}/rate", json={"rating": value})
        assert r.status_code == 422 and r.json()["field"] == "rating" and "integer" in r.json()["detail"], r.text
    assert poses(still, gid)[0].rating == 3
    r = a.post(f"/results/{failed.id}/rate", json={"rating": 4})
    assert r.status_code == 409 and "Only finished images can be rated; this one is failed." in r.json()["detail"]
    cleared = a.post(f"/results/{done.id}/rate", json={"rating": None})
    assert cleared.status_code == 200 and cleared.json()["rating"] is None

    d = a.get(f"/results/{done.id}/download")
    assert d.status_code == 200 and d.content == still.store.read(done.image_path)
    disposition = d.headers["content-disposition"]
    assert "attachment" in disposition and "000_" in disposition and f"seed{done.seed}" in disposition, disposition
    assert d.headers["content-type"] in ("image/jpeg", "image/png")
    nothing = a.get(f"/results/{failed.id}/download")
    assert nothing.status_code == 422 and "has no image (failed)" in nothing.json()["detail"]


# --- export and its manifest -----------------------------------------------------------------------------------

def _zip(response) -> zipfile.ZipFile:
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "application/zip"
    return zipfile.ZipFile(io.BytesIO(response.content))


def test_export_zip_holds_images_skeletons_and_a_manifest_that_re_renders_them_exactly(still):
    from core.generation.product import plan_product
    from core.images import encode_image
    from core.library.poses.render import render_skeleton
    from engine.pipeline import RenderRequest, get_engine

    a = Shop(still, "siti")
    gid = a.start(poseDistribution={"product-holding": 3}, seed=31)
    rows = poses(still, gid)
    planned_seed = rows[1].seed
    fitted = fitted_of(still, rows[1].id)
    seen = []

    def second_time_lucky(image):  # pose 1 passes only on its second attempt, with its second seed
        seen.append(1)
        return [] if len(seen) == 1 else [fitted]

    render(still, gid, [0])
    render(still, gid, [1], detector=second_time_lucky)
    render(still, gid, [2], detector=nobody_there)
    rows = poses(still, gid)
    assert [p.status for p in rows] == ["done", "done", "failed"] and rows[1].attempts == 2

    zf = _zip(a.get(f"/results/{gid}/export"))
    names = zf.namelist()
    manifest = json.loads(zf.read("manifest.json"))
    images = [n for n in names if n.startswith("images/")]
    skeletons = [n for n in names if n.startswith("skeletons/")]
    assert len(images) == len(skeletons) == len(manifest["images"]) == 2
    assert manifest["format"] == "apg-batch-manifest/1" and manifest["generation"]["id"] == gid
    assert manifest["generation"]["batchSeed"] == 31
    eng = manifest["engine"]
    assert eng["engine"] == "tiny" and eng["base_model"] and eng["controlnet"] and eng["scheduler"]
    assert manifest["product"]["id"] == a.product.id
    by_id = {p.id: p for p in rows}
    with still.session() as s:
        product = s.get(Product, a.product.id)
        cutout = Image.open(io.BytesIO(still.store.read(product.cutout_path))).convert("RGBA")
        for entry in manifest["images"]:
            p = by_id[entry["resultId"]]
            t = s.get(PoseTemplate, p.template_id)
            assert entry["template"]["id"] == t.id and entry["template"]["keypoints"] == t.keypoints
            assert entry["seed"] == p.seed and entry["prompt"] == p.prompt
            assert entry["negativePrompt"] == p.negative_prompt
            assert (entry["width"], entry["height"], entry["steps"]) == (64, 96, 2)
            assert f"_seed{p.seed}." in entry["file"] and entry["file"] in names and entry["skeleton"] in names
            assert zf.read(entry["file"]) == still.store.read(p.image_path)
            assert zf.read(entry["skeleton"]) == still.store.read(p.control_path)
    assert by_id[manifest["images"][1]["resultId"]].position == 1
    assert manifest["images"][1]["seed"] == generation_state.retry_seed(planned_seed, 1) != planned_seed  # the kept one

    # re-render each entry from the manifest alone (plus the product cut-out): the same pixels come back
    engine = get_engine(still.settings)
    for entry in manifest["images"]:
        w, h = entry["width"], entry["height"]
        control = Image.fromarray(render_skeleton(entry["fittedKeypoints"], w, h))
        with Image.open(io.BytesIO(zf.read(entry["skeleton"]))) as sk:
            assert np.array_equal(np.asarray(sk.convert("RGB")), np.asarray(control))
        # the product goes in the way the manifest says it did (PRODUCT_MODE=inpaint by default)
        assert entry["productMode"] == "inpaint"
        plan = plan_product(cutout=cutout, keypoints=entry["fittedKeypoints"],
                            placement=manifest["product"]["placement"],
                            product_type=manifest["product"]["productType"], size=(w, h),
                            mode=entry["productMode"])
        (out,) = engine.render([RenderRequest(entry["prompt"], control, entry["seed"], entry["negativePrompt"],
                                              **plan.first())],
                               steps=entry["steps"], guidance=eng["guidance"],
                               controlnet_scale=eng["controlnet_scale"])
        image = plan.finish(out.image)
        data, ext, _ = encode_image(image, lossless=True)
        assert entry["file"].endswith("." + ext)
        assert data == zf.read(entry["file"]), f"re-rendering {entry['file']} gave other pixels"

    # a selection
    pick = f"{rows[1].id}"
    sel = _zip(a.get(f"/results/{gid}/export", params={"ids": pick}))
    chosen = json.loads(sel.read("manifest.json"))["images"]
    assert [e["resultId"] for e in chosen] == [rows[1].id]
    assert len([n for n in sel.namelist() if n.startswith("images/")]) == 1
    both = _zip(a.get(f"/results/{gid}/export", params={"ids": f"{rows[0].id},{rows[1].id}"}))
    assert len(json.loads(both.read("manifest.json"))["images"]) == 2


def test_export_refusals(still):
    a = Shop(still, "siti")
    gid = a.start(poseDistribution={"product-holding": 2})
    render(still, gid, [0])
    other_batch = a.start(poseDistribution={"product-holding": 2})
    mine, waiting = poses(still, gid)
    theirs = poses(still, other_batch)[0]
    r = a.get(f"/results/{gid}/export", params={"ids": f"{mine.id},{theirs.id}"})
    assert r.status_code == 404 and f"Result {theirs.id} is not part of generation {gid}" in r.json()["detail"]
    for text in ("a,b", "1;2", "1.5"):
        r = a.get(f"/results/{gid}/export", params={"ids": text})
        assert r.status_code == 422 and "ids must be result ids separated by commas" in r.json()["detail"], text
    r = a.get(f"/results/{gid}/export", params={"ids": str(waiting.id)})
    assert r.status_code == 422 and "has no image yet" in r.json()["detail"]
    r = a.get(f"/results/{other_batch}/export")
    assert r.status_code == 422 and "no finished images to export yet" in r.json()["detail"]
    assert a.get("/results/999999/export").status_code == 404


# --- projects and stats ------------------------------------------------------------------------------------------

def test_projects_list_their_batches(still):
    a, b = Shop(still, "siti"), Shop(still, "budi")
    r = a.post("/projects", json={"name": "  Ramadan sale ", "description": "serums", "brandKitId": a.kit.id})
    assert r.status_code == 201, r.text
    project = r.json()
    assert project["name"] == "Ramadan sale" and project["brandKitId"] == a.kit.id
    assert a.post("/projects", json={"name": "x", "brandKitId": b.kit.id}).status_code == 404
    assert a.post("/projects", json={"name": ""}).status_code == 422
    inside = a.start(poseDistribution={"product-holding": 2}, projectId=project["id"])
    outside = a.start(poseDistribution={"product-holding": 1})
    listed = a.get("/projects").json()
    assert listed["total"] == 1 and listed["items"][0]["id"] == project["id"]
    got = a.get(f"/projects/{project['id']}").json()
    assert [g["id"] for g in got["generations"]] == [inside] and got["generations"][0]["totalPoses"] == 2
    assert got["generations"][0]["projectId"] == project["id"]
    gens = a.get("/generations", params={"projectId": project["id"]}).json()
    assert [g["id"] for g in gens["items"]] == [inside]
    assert {g["id"] for g in a.get("/generations").json()["items"]} == {inside, outside}
    assert b.get("/projects").json()["total"] == 0
    assert b.get(f"/projects/{project['id']}").status_code == 404
    r = b.post("/generate", json=b.body(poseDistribution={"product-holding": 1}, projectId=project["id"]))
    assert r.status_code == 404
    with still.session() as s:
        assert s.exec(select(PoseGeneration).where(PoseGeneration.user_id == b.user.id)).all() == []


def test_stats_match_the_rows(still):
    a, b = Shop(still, "siti"), Shop(still, "budi")
    empty = a.get("/stats").json()
    assert (empty["generations"], empty["images"], empty["successRate"], empty["creditsSpent"]) == (0, 0, None, 0)
    g1 = a.start(poseDistribution={"product-holding": 4})
    for p in poses(still, g1)[:2]:                   # two images whose pose check passes
        fitted = fitted_of(still, p.id)
        render(still, g1, [p.position], detector=lambda image, fitted=fitted: [fitted])
    render(still, g1, [2])                           # one nobody could check
    render(still, g1, [3], detector=nobody_there)
    g2 = a.start(poseDistribution={"product-holding": 3})
    render(still, g2, [0])
    a.post(f"/generate/{g2}/cancel")
    a.start(poseDistribution={"product-holding": 2})                         # waiting
    b.start(poseDistribution={"product-holding": 2})                         # someone else's
    ids = [p.id for p in poses(still, g1)]
    a.post(f"/results/{ids[0]}/rate", json={"rating": 5})
    a.post(f"/results/{ids[1]}/rate", json={"rating": 2})

    st = a.get("/stats").json()
    with still.session() as s:
        mine = list(s.exec(select(GeneratedPose).where(GeneratedPose.user_id == a.user.id)))
        gens = list(s.exec(select(PoseGeneration).where(PoseGeneration.user_id == a.user.id)))
    done = [p for p in mine if p.status == "done"]
    assert st["generations"] == len(gens) == 3
    assert st["generationsByStatus"] == {"completed": 1, "cancelled": 1, "pending": 1}
    assert st["images"] == len(done) == 4
    assert st["failed"] == 1 and st["cancelled"] == 2 and st["inProgress"] == 2
    # measured outcomes only: 2 passed, 1 failed; the 2 "not checked" images are counted on their own
    assert (st["accepted"], st["notChecked"], st["poseFailed"], st["infrastructureFailed"]) == (2, 2, 1, 0)
    assert st["successRate"] == round(2 / 3, 4)
    assert st["ratedImages"] == 2 and st["avgRating"] == 3.5
    assert st["avgRenderSeconds"] == pytest.approx(sum(p.render_seconds for p in done) / 4, abs=1e-3)
    assert st["creditsSpent"] == -sum(x.delta for x in ledger(still, a.user)) == (40 - 10) + (30 - 20) + 20
    assert b.get("/stats").json()["generations"] == 1


# --- another user ----------------------------------------------------------------------------------------------------

def test_another_user_is_told_not_found_on_every_route(still):
    a, b = Shop(still, "siti"), Shop(still, "budi")
    finished = a.start(poseDistribution={"product-holding": 2})
    render(still, finished, [0])
    render(still, finished, [1], detector=nobody_there)
    waiting = a.start(poseDistribution={"product-holding": 2})
    project = a.post("/projects", json={"name": "Siti's"}).json()["id"]
    done, failed = poses(still, finished)
    a_before, b_before = balance(still, a.user), balance(still, b.user)
    rows_before = planned_rows(still)

    attempts = [
        ("get", f"/generate/{finished}", None), ("get", f"/generate/{waiting}", None),
        ("post", f"/generate/{waiting}/cancel", None), ("post", f"/generate/{finished}/retry", None),
        ("get", f"/results/{finished}", None), ("get", f"/results/{finished}?show=failed", None),
        ("post", f"/results/{done.id}/rate", {"rating": 1}), ("get", f"/results/{done.id}/download", None),
        ("post", f"/results/{done.id}/rerender", None), ("post", f"/results/{failed.id}/rerender", None),
        ("get", f"/results/{finished}/export", None), ("get", f"/results/{finished}/export?ids={done.id}", None),
        ("get", f"/projects/{project}", None), ("get", f"/generations/{finished}", None),
    ]
    for method, path, payload in attempts:
        r = getattr(b.client, method)(f"{BASE}{path}", **({"json": payload} if payload is not None else {}))
        assert r.status_code == 404, (path, r.status_code, r.text)
        assert r.json()["kind"] == "not_found" and "siti" not in r.text and str(done.seed) not in r.text, path
    # b's own batch cannot name a's results for export either
    mine = b.start(poseDistribution={"product-holding": 1})
    render(still, mine)
    r = b.get(f"/results/{mine}/export", params={"ids": done.id})
    assert r.status_code == 404
    # nothing of a's changed, nobody was charged
    assert a.get(f"/generate/{waiting}").json()["status"] == "pending"
    assert poses(still, finished)[0].rating is None and poses(still, finished)[1].status == "failed"
    assert balance(still, a.user) == a_before and balance(still, b.user) == b_before - 10
    assert planned_rows(still) == rows_before + 2
    assert a.get(f"/projects/{project}").status_code == 200


def test_a_batch_waiting_for_a_model_download_says_what_is_downloading(still):
    """Issue 15: the first batch on a fresh server waits for the models; its status (REST and the Results page)
    says "Downloading the SD 1.5 base model (1.7 GB of 2.1 GB)" instead of a silent spinner. The download's
    status is the real one engine.downloads writes beside the model cache, which any process sharing it reads."""
    from core.generation.batches import BatchStatus
    from engine.downloads import Progress
    from engine.sources import ModelRef, policy_of
    from ui.results_view import progress_html

    a = Shop(still, "siti")
    gid = a.start(poseDistribution={"product-holding": 2})
    assert a.get(f"/generate/{gid}").json()["downloads"] == []
    ref = ModelRef("SD 1.5 base model", "SD15_BASE_MODEL", "stable-diffusion-v1-5/stable-diffusion-v1-5", None,
                   "model_index.json")
    with Progress(ref=ref, policy=policy_of(still.settings), total=int(2.1 * 2 ** 30), files=12) as progress:
        progress.file_done(int(1.7 * 2 ** 30))
        body = a.get(f"/generate/{gid}").json()
        (d,) = body["downloads"]
        assert d["text"] == "Downloading the SD 1.5 base model 'stable-diffusion-v1-5/stable-diffusion-v1-5' " \
                            "(1.7 GB of 2.1 GB)"
        assert d["done"] == int(1.7 * 2 ** 30) and d["total"] == int(2.1 * 2 ** 30)
        html = progress_html(BatchStatus.model_validate(body), True)
        assert "id='res-downloads'" in html and "(1.7 GB of 2.1 GB)" in html and "aria-valuenow='81'" in html
    assert a.get(f"/generate/{gid}").json()["downloads"] == []          # it ended: the line goes away
