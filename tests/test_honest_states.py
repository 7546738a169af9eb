"""Honest states (issue 13), on SQLite and Postgres with ENGINE=tiny (no pose detector or IP-Adapter weights on the
test server): each batch records what runs (likeness, pose check, with the reason) when it is planned, and REST,
the ZIP manifest and the pages show it; an image nobody could check is no success anywhere (template stats, the
"Accepted" filter, stats, analytics) and is counted on its own; a pose that failed because a model is missing or
the pose detector broke is an infrastructure failure: not held against its template, not counted as failed, its
reason on the tile, and not retried while the model is still missing (REST 409 with the reason).

The detectors are real functions given to the renderer, as in tests/test_batches.py; nothing of ours is mocked."""
from __future__ import annotations

import io
import json
import zipfile

import pytest
from sqlmodel import select

from core.analytics import report
from core.generation import batches
from db.models import PoseGeneration, PoseTemplate
from tests.batch_support import balance, nobody_there, poses, render, services_factory  # noqa: F401
from tests.test_batches_api import Shop, fitted_of
from ui.results_view import checks_html, detail_html, gallery_html, progress_html, tile_html


@pytest.fixture
def make_svc(make_settings, db_url, tiny_engine_values):
    make, close_all = services_factory(make_settings, db_url, tiny_engine_values, runner_default=False, auth="password")
    yield make
    close_all()


@pytest.fixture
def still(make_svc):
    return make_svc()


def broken_settings(make_svc, tmp_path):
    """Settings whose base model is not on this server (SD 1.5 with an empty Hugging Face cache, no downloads)."""
    return make_svc(engine="sd15", hf_cache_dir=tmp_path / "empty-hf", output_sizes="portrait=64x96")


def gen(svc, gid) -> PoseGeneration:
    with svc.session() as s:
        return s.get(PoseGeneration, gid)


def template_stats(svc, ids) -> dict:
    with svc.session() as s:
        return {t.id: (t.usage_count, t.success_count) for t in s.exec(select(PoseTemplate)
                                                                      .where(PoseTemplate.id.in_(ids)))}


INDONESIAN = type("Visitor", (), {"cookies": {"apg_lang": "id"}, "headers": {}})()


def test_a_failed_pose_check_is_stored_by_code_and_read_in_each_language(still):
    a = Shop(still, "siti")
    gid = a.start(poseDistribution={"product-holding": 1})
    render(still, gid, detector=nobody_there)
    (row,) = poses(still, gid)
    attempts = still.settings.max_attempts
    assert (row.status, row.failure_kind, row.error_code) == ("failed", "pose", "render.check_failed")
    assert row.error_params == {"attempts": attempts, "reason": {"code": "quality.no_person", "params": {}}}
    assert row.error == f"Pose check failed after {attempts} attempts: no person found in the image"
    got = a.get(f"/results/{gid}").json()["items"][0]
    assert (got["error"], got["errorCode"], got["errorParams"]) == (row.error, row.error_code, row.error_params)
    assert f"Cek pose gagal setelah {attempts} kali coba: tidak ada orang di gambar" in \
        tile_html(row, "pose", False, INDONESIAN) + detail_html(row, "pose", {}, INDONESIAN)
    assert row.error in detail_html(row, "pose", {}, None)


def passes(svc, pose_id):
    """A detector that finds exactly the template's pose: the check passes with score 1."""
    fitted = fitted_of(svc, pose_id)
    return lambda image: [fitted]


def test_every_plan_records_what_runs_and_rest_and_the_manifest_show_it(still):
    a = Shop(still, "siti")
    gid = a.start(poseDistribution={"product-holding": 2})
    checks = gen(still, gid).options["checks"]
    assert set(checks) == {"likeness", "poseCheck"}
    assert checks["poseCheck"]["on"] is False and "body_pose_model.pth" in checks["poseCheck"]["reason"]
    assert checks["likeness"]["on"] is False and "IP-Adapter" in checks["likeness"]["reason"]
    for entry in checks.values():   # the short form: what and why, not where the server looked
        assert "Looked in" not in entry["reason"] and "/" not in entry["reason"].split("'")[0]
    st = a.get(f"/generate/{gid}").json()
    assert st["checks"] == checks and (st["accepted"], st["notChecked"]) == (0, 0)

    render(still, gid)
    st = a.get(f"/generate/{gid}").json()
    assert (st["done"], st["accepted"], st["notChecked"]) == (2, 0, 2) and st["checks"] == checks
    manifest = json.loads(zipfile.ZipFile(io.BytesIO(a.get(f"/results/{gid}/export").content)).read("manifest.json"))
    assert manifest["checks"] == checks and all(i["qualityChecked"] is False for i in manifest["images"])

    # try-one, re-render and retry record it too
    one = a.post("/generate/try", json={**a.body(), "templateId": a.templates[0].id}).json()["id"]
    assert gen(still, one).options["checks"] == checks
    with still.session() as s:   # a batch planned before checks were recorded gets them when it re-renders
        g = s.get(PoseGeneration, gid)
        g.options = {k: v for k, v in g.options.items() if k != "checks"}
        s.add(g)
        s.commit()
    first = poses(still, gid)[0]
    assert a.post(f"/results/{first.id}/rerender").status_code == 202
    assert gen(still, gid).options["checks"] == checks


def test_a_pose_check_planned_on_whose_detector_does_not_load_is_recorded_off(make_svc, tmp_path):
    weights = tmp_path / "models" / "lllyasviel" / "Annotators" / "body_pose_model.pth"
    weights.parent.mkdir(parents=True)
    weights.write_bytes(b"not a network")     # present (the plan says on), but it cannot be loaded
    svc = make_svc(model_dir=tmp_path / "models")
    a = Shop(svc, "siti")
    gid = a.start(poseDistribution={"product-holding": 1})
    assert gen(svc, gid).options["checks"]["poseCheck"] == {"on": True, "reason": None}
    render(svc, gid, detector="auto")
    recorded = gen(svc, gid).options["checks"]["poseCheck"]
    assert recorded["on"] is False and "could not be loaded" in recorded["reason"]
    st = a.get(f"/generate/{gid}").json()
    assert (st["done"], st["accepted"], st["notChecked"]) == (1, 0, 1) and st["checks"]["poseCheck"] == recorded


def test_not_checked_images_are_no_success_anywhere_and_are_counted_apart(still):
    a = Shop(still, "siti")
    gid = a.start(poseDistribution={"product-holding": 4}, seed=3)
    rows = poses(still, gid)
    ids = {p.template_id for p in rows}
    before = template_stats(still, ids)
    render(still, gid, [0], detector=passes(still, rows[0].id))   # measured pass
    render(still, gid, [1, 2])                                   # nobody could check these
    render(still, gid, [3], detector=nobody_there)               # measured failure
    rows = poses(still, gid)
    assert [(p.status, p.quality_checked) for p in rows] == [("done", True), ("done", False), ("done", False),
                                                             ("failed", False)]
    assert rows[3].failure_kind == "pose" and rows[0].failure_kind is None

    after = template_stats(still, ids)
    moved = {t: (after[t][0] - before[t][0], after[t][1] - before[t][1]) for t in ids}
    expected = {}
    for p, outcome in ((rows[0], (1, 1)), (rows[3], (1, 0))):   # only measured outcomes move a template's rate
        u, s_ = expected.get(p.template_id, (0, 0))
        expected[p.template_id] = (u + outcome[0], s_ + outcome[1])
    assert moved == {t: expected.get(t, (0, 0)) for t in ids}

    st = a.get(f"/generate/{gid}").json()
    assert (st["done"], st["accepted"], st["notChecked"], st["failed"], st["infrastructureFailed"]) == (3, 1, 2, 1, 0)
    assert [i["position"] for i in a.get(f"/results/{gid}", params={"show": "accepted"}).json()["items"]] == [0]
    assert a.get(f"/results/{gid}", params={"show": "notChecked"}).json()["total"] == 2
    stats = a.get("/stats").json()
    assert (stats["images"], stats["accepted"], stats["notChecked"], stats["successRate"]) == (3, 1, 2, 0.5)
    with still.session() as s:
        d = report.dashboard(s, user=a.user, settings=still.settings)
    h = d["headline"]
    assert (h["acceptedImages"], h["failedImages"], h["notCheckedImages"], h["successRate"]) == (1, 1, 2, 0.5)

    # the Results page: the unchecked tile is neutral with a "not checked" badge, the checked one is green
    unchecked, checked = tile_html(rows[1], "pose", False), tile_html(rows[0], "pose", False)
    assert "data-checked='0'" in unchecked and "apg-status-neutral" in unchecked and "not checked" in unchecked
    assert "apg-status-ok" not in unchecked and "apg-status-ok" in checked and "score 1.00" in checked
    with still.session() as s:
        shown = progress_html(batches.status(s, user=a.user, generation_id=gid), False)
    assert "1</b> accepted" in shown and "2</b> not checked" in shown and "pose check off" in shown


def test_a_missing_model_is_an_infrastructure_failure_and_is_not_retried_until_it_is_there(still, make_svc,
                                                                                          tmp_path):
    a = Shop(still, "siti")
    before = balance(still, a.user)
    gid = a.start(poseDistribution={"product-holding": 3})
    ids = {p.template_id for p in poses(still, gid)}
    stats_before = template_stats(still, ids)
    broken = broken_settings(make_svc, tmp_path)
    render(still, gid, settings=broken.settings, detector="auto")
    rows = poses(still, gid)
    assert all(p.status == "failed" and p.failure_kind == "infrastructure" for p in rows)
    assert all("SD 1.5" in p.error and "Looked in" not in p.error for p in rows), [p.error for p in rows]
    assert template_stats(still, ids) == stats_before and balance(still, a.user) == before   # refunded, not held

    st = a.get(f"/generate/{gid}").json()
    assert (st["failed"], st["infrastructureFailed"]) == (3, 3) and "SD 1.5" in st["infrastructureReason"]
    stats = a.get("/stats").json()
    assert (stats["failed"], stats["poseFailed"], stats["infrastructureFailed"], stats["successRate"]) == \
        (3, 0, 3, None)
    with still.session() as s:
        h = report.dashboard(s, user=a.user, settings=still.settings)["headline"]
        shown = progress_html(batches.status(s, user=a.user, generation_id=gid), False)
    assert (h["failedImages"], h["infrastructureFailures"], h["successRate"]) == (0, 3, None)
    tile = tile_html(rows[0], "pose", False)
    assert "data-failure='infrastructure'" in tile and "apg-tile-reason" in tile and "SD 1.5" in tile
    assert "id='res-infra'" in shown and shown.count("SD 1.5") == 1 and "0</b> failed" in shown
    assert "SD 1.5" in gallery_html(rows, {}, None, "all", True)   # on the tile, before any click
    # stored by code: the reader's language, the model's name as it is
    assert rows[0].error_code == "render.model_missing" and "subject" in rows[0].error_params
    with still.session() as s:
        shown_id = progress_html(batches.status(s, user=a.user, generation_id=gid), False, INDONESIAN)
    tile_id = tile_html(rows[0], "pose", False, INDONESIAN)
    assert "tidak ada di server ini dan tidak bisa diunduh sekarang" in tile_id and "SD 1.5" in tile_id
    assert "tidak ada di server ini" in shown_id and "is not on this server" not in shown_id

    # while the model is missing, retrying is refused with the reason; nothing is charged
    on_broken = Shop.__new__(Shop)
    on_broken.__dict__.update(a.__dict__)
    from api import create_api
    from fastapi.testclient import TestClient

    on_broken.client = TestClient(create_api(broken))
    on_broken.client.headers.update(a.client.headers)
    r = on_broken.post(f"/generate/{gid}/retry")
    assert r.status_code == 409 and "SD 1.5" in r.json()["detail"] and "once the model" in r.json()["detail"]
    assert balance(still, a.user) == before
    # once the model is there (the tiny engine's are), the same poses are retried
    r = a.post(f"/generate/{gid}/retry")
    assert r.status_code == 200 and r.json()["retried"] == 3
    assert all(p.status == "pending" and p.failure_kind is None for p in poses(still, gid))


def test_a_detector_that_breaks_is_an_infrastructure_failure(still):
    a = Shop(still, "siti")
    gid = a.start(poseDistribution={"product-holding": 2})
    ids = {p.template_id for p in poses(still, gid)}
    stats_before = template_stats(still, ids)

    def broken_detector(image):
        raise RuntimeError("CUDA error: an illegal memory access was encountered")

    render(still, gid, detector=broken_detector)
    rows = poses(still, gid)
    assert all(p.status == "failed" and p.failure_kind == "infrastructure" for p in rows)
    assert all("pose detector failed" in p.error and "RuntimeError" in p.error for p in rows)
    assert rows[0].error_code == "render.broken" and rows[0].error_params["error"] == "RuntimeError"
    assert "Pendeteksi pose gagal (RuntimeError); detailnya ada di log server." in tile_html(rows[0], "pose", False,
                                                                                              INDONESIAN)
    assert template_stats(still, ids) == stats_before
    # the model is here: retrying is offered and works
    assert a.post(f"/generate/{gid}/retry").json()["retried"] == 2


def test_checks_html_says_on_or_off_with_the_reason():
    off = checks_html({"likeness": {"on": True, "reason": None},
                       "poseCheck": {"on": False, "reason": "the weights are not on this server."}}, elem_id="x")
    assert "data-likeness='on'" in off and "data-pose-check='off'" in off
    assert "pose check off: the weights are not on this server." in off and "likeness on" in off
    assert "data-pose-check='unknown'" in checks_html(None, elem_id="x")   # batches planned before issue 13
