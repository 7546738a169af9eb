"""The pose library in the database and over REST: loading the shipped library (idempotent upsert),
filters and sorts, users vs admins, cached previews, import/export, and usage/success tracking."""
from __future__ import annotations

import io
import json
import zipfile

import pytest
import sqlalchemy as sa
from fastapi.testclient import TestClient
from PIL import Image
from sqlmodel import func, select

from api import create_api
from core.library import templates as lib
from core.accounts import users
from core.errors import Forbidden, NotFound
from core.library.templates import TemplateUpdate
from services import Services
from db.models import PoseTemplate

BASE = "/api/apps/pose-generator"


@pytest.fixture
def loaded(services):
    with services.session() as s:
        first = lib.load_library(s)
    return first


def count(services, **where) -> int:
    with services.session() as s:
        q = select(func.count()).select_from(PoseTemplate)
        for k, v in where.items():
            q = q.where(getattr(PoseTemplate, k) == v)
        return s.exec(q).one()


def test_loading_the_shipped_library_twice_adds_nothing_and_keeps_curation(services, loaded):
    total = count(services)
    assert loaded["inserted"] == total >= 600
    with services.session() as s:
        t = s.exec(select(PoseTemplate).order_by(PoseTemplate.id)).first()
        t.is_active = False
        t.usage_count = 7
        s.add(t)
        s.commit()
        again = lib.load_library(s)
    assert again == {"inserted": 0, "updated": 0, "unchanged": total}
    assert count(services) == total
    with services.session() as s:
        kept = s.get(PoseTemplate, t.id)
        assert kept.is_active is False and kept.usage_count == 7  # curation and statistics survive upgrades


def test_app_start_loads_the_library(make_settings, db_url):
    svc = Services.build(make_settings(database_url=db_url))  # what `python app.py` does
    try:
        with svc.session() as s:
            assert s.exec(select(func.count()).select_from(PoseTemplate)).one() >= 600
    finally:
        svc.close()


def test_every_category_has_members(services, loaded):
    with services.session() as s:
        admin = users.local_admin(s, settings=services.settings)
        for category in lib.CATEGORIES:
            rows, total = lib.search(s, user=admin, settings=services.settings, category=category, limit=5)
            assert total >= 40, category
            assert all(r.category == category for r in rows)


def test_filters_and_sorts(services, loaded):
    with services.session() as s:
        admin = users.local_admin(s, settings=services.settings)
        rows, total = lib.search(s, user=admin, settings=services.settings, category="product-holding",
                                 placement="both-hands", limit=200)
        assert total == len(rows) > 0
        assert {r.product_placement for r in rows} == {"both-hands"}
        tag = rows[0].tags[0]
        tagged, _ = lib.search(s, user=admin, settings=services.settings, tags=[tag], limit=200)
        assert tagged and all(tag in r.tags for r in tagged)
        female, _ = lib.search(s, user=admin, settings=services.settings, gender="female", limit=200)
        assert {r.gender for r in female} <= {"female", "unisex"}
        by_name, _ = lib.search(s, user=admin, settings=services.settings, sort="name", limit=20)
        assert [r.name for r in by_name] == sorted(r.name for r in by_name)
        page2, total_all = lib.search(s, user=admin, settings=services.settings, limit=10, offset=10, sort="name")
        page1, _ = lib.search(s, user=admin, settings=services.settings, limit=20, sort="name")
        assert [r.id for r in page2] == [r.id for r in page1[10:20]]


def test_users_see_only_active_templates_read_only(services, loaded, make_user):
    with services.session() as s:
        admin = users.local_admin(s, settings=services.settings)
        t = s.exec(select(PoseTemplate).order_by(PoseTemplate.id)).first()
        lib.update(s, user=admin, template_id=t.id, data=TemplateUpdate(is_active=False))
    user = make_user()
    everything = count(services)
    with services.session() as s:
        shopper = s.get(type(user), user.id)
        with pytest.raises(NotFound):
            lib.get(s, user=shopper, template_id=t.id)
        rows, total = lib.search(s, user=shopper, settings=services.settings, limit=200, active=False)
        assert t.id not in [r.id for r in rows] and all(r.is_active for r in rows)
        assert total == everything - 1
        with pytest.raises(Forbidden):
            lib.update(s, user=shopper, template_id=t.id + 1, data=TemplateUpdate(name="mine now"))


def test_record_result_moves_usage_success_and_quality_and_flags_low_success(services, loaded):
    with services.session() as s:
        t = s.exec(select(PoseTemplate).order_by(PoseTemplate.id)).first()
        outcomes = [(True, 0.9), (False, 0.2), (False, None)] + [(False, 0.1)] * 8
        for accepted, score in outcomes:
            lib.record_result(s, template_id=t.id, accepted=accepted, quality_score=score)
        s.commit()
        s.refresh(t)
    assert t.usage_count == 11 and t.success_count == 1
    assert t.success_rate == pytest.approx(1 / 11)
    assert t.avg_quality_score == pytest.approx((0.9 + 0.2 + 0.1 * 8) / 10)  # unchecked images don't count
    assert lib.is_flagged(t, services.settings)
    with services.session() as s:
        admin = users.local_admin(s, settings=services.settings)
        flagged, _ = lib.search(s, user=admin, settings=services.settings, flagged=True)
        assert [r.id for r in flagged] == [t.id]
        other = s.exec(select(PoseTemplate).where(PoseTemplate.id != t.id).order_by(PoseTemplate.id)).first()
        for _ in range(10):
            lib.record_result(s, template_id=other.id, accepted=True, quality_score=0.8)
        s.commit()
        ranked, _ = lib.search(s, user=admin, settings=services.settings, sort="success", min_success=0, limit=10)
        assert [r.id for r in ranked] == [other.id, t.id]  # picked more often first, the flagged one last
        first_page, _ = lib.search(s, user=admin, settings=services.settings, sort="success", limit=5)
        assert first_page[0].id == other.id and t.id not in [r.id for r in first_page]


def test_preview_png_is_rendered_once_and_cached(services, loaded):
    with services.session() as s:
        t = s.exec(select(PoseTemplate).order_by(PoseTemplate.id)).first()
    path = lib.preview_path(t, settings=services.settings)
    stamp = path.stat().st_mtime_ns
    assert lib.preview_path(t, settings=services.settings).stat().st_mtime_ns == stamp
    with Image.open(path) as im:
        assert im.size == lib.PREVIEW_SIZES[t.aspect]
        assert im.convert("RGB").getextrema() != ((0, 0), (0, 0), (0, 0))  # a skeleton is drawn
    mirrored = lib.preview_path(t, settings=services.settings, mirrored=True)
    assert mirrored != path and mirrored.exists()


# ------------------------------------------------------------------------------------------ REST


@pytest.fixture
def rest(make_settings, db_url):
    settings = make_settings(database_url=db_url, auth="password")
    svc = Services.build(settings, migrate=False)
    with svc.session() as s:
        lib.load_library(s)
        admin = users.create_user(s, username="datateam", password="correct horse battery", settings=settings,
                                  role="admin")
        shop = users.create_user(s, username="shop", password="correct horse battery", settings=settings)
        tokens = {name: users.issue_token(s, user=u, settings=settings) for name, u in (("admin", admin), ("shop", shop))}
    client = TestClient(create_api(svc))
    yield client, {k: {"Authorization": f"Bearer {v}"} for k, v in tokens.items()}, svc
    svc.close()


def test_rest_browse_paths(rest):
    client, auth, _ = rest
    page = client.get(f"{BASE}/templates", params={"category": "sitting", "limit": 5}, headers=auth["shop"]).json()
    assert page["total"] >= 40 and len(page["items"]) == 5 and page["limit"] == 5
    item = page["items"][0]
    assert {"keypointsJson", "productPlacement", "previewUrl", "successRate", "isActive"} <= set(item)
    assert len(item["keypointsJson"]) == 18
    one = client.get(f"{BASE}/templates/{item['id']}", headers=auth["shop"])
    assert one.status_code == 200 and one.json()["key"] == item["key"]
    cat = client.get(f"{BASE}/templates/category/sitting", params={"limit": 3}, headers=auth["shop"]).json()
    assert cat["total"] == page["total"]
    png = client.get(item["previewUrl"], headers=auth["shop"])
    assert png.status_code == 200 and png.headers["content-type"] == "image/png"
    assert client.get(f"{BASE}/templates", headers={}).status_code == 401


def test_rest_admin_only_routes_are_403_for_users(rest):
    client, auth, _ = rest
    tid = client.get(f"{BASE}/templates", params={"limit": 1}, headers=auth["shop"]).json()["items"][0]["id"]
    kp = client.get(f"{BASE}/templates/{tid}", headers=auth["shop"]).json()["keypointsJson"]
    calls = [("patch", f"{BASE}/templates/{tid}", {"json": {"isActive": False}}),
             ("delete", f"{BASE}/templates/{tid}", {}),
             ("post", f"{BASE}/templates", {"json": {"name": "x", "category": "lifestyle", "keypoints": kp}}),
             ("post", f"{BASE}/templates/bulk", {"json": {"templateIds": [tid], "isActive": False}}),
             ("post", f"{BASE}/templates/import", {"files": [("files", ("a.json", b"{}", "application/json"))],
                                                   "data": {"category": "lifestyle"}}),
             # exporting is curation too: a shop cannot take a copy of the library (issue 11)
             ("post", f"{BASE}/templates/export", {"json": {"templateIds": [tid], "format": "json"}})]
    for method, url, kwargs in calls:
        r = getattr(client, method)(url, headers=auth["shop"], **kwargs)
        assert r.status_code == 403, (method, url, r.text)
    r = client.patch(f"{BASE}/templates/{tid}", json={"isActive": False}, headers=auth["admin"])
    assert r.status_code == 200 and r.json()["isActive"] is False
    assert client.get(f"{BASE}/templates/{tid}", headers=auth["shop"]).status_code == 404
    assert client.get(f"{BASE}/templates/{tid}", headers=auth["admin"]).status_code == 200


def test_rest_export_then_import_skips_duplicates_and_imports_new(rest):
    client, auth, svc = rest
    items = client.get(f"{BASE}/templates", params={"limit": 2, "sort": "name"}, headers=auth["shop"]).json()["items"]
    ids = [i["id"] for i in items]
    exported = client.post(f"{BASE}/templates/export", json={"templateIds": ids, "format": "json"}, headers=auth["admin"])
    assert exported.status_code == 200
    docs = json.loads(exported.content)
    assert [d["id"] for d in docs] == [i["key"] for i in items]
    # a new pose: the first template with its arms raised above the head
    new = json.loads(json.dumps(docs[0]))
    flat = new["people"][0]["pose_keypoints_2d"]
    for wrist, elbow in ((4, 3), (7, 6)):
        flat[wrist * 3 + 1] = max(1.0, flat[1 * 3 + 1] - 0.35 * new["canvas_height"])
        flat[elbow * 3 + 1] = max(1.0, flat[1 * 3 + 1] - 0.15 * new["canvas_height"])
    body = json.dumps([docs[0], new]).encode()
    before = count(svc)
    r = client.post(f"{BASE}/templates/import", headers=auth["admin"], data={"category": "lifestyle"},
                    files=[("files", ("poses.json", body, "application/json"))])
    assert r.status_code == 200, r.text
    report = r.json()
    assert len(report["imported"]) == 1 and len(report["skipped"]) == 1
    assert report["skipped"][0]["duplicateOf"]["key"] == items[0]["key"]
    assert count(svc) == before + 1
    imported = client.get(f"{BASE}/templates/{report['imported'][0]['id']}", headers=auth["admin"]).json()
    assert imported["isActive"] is False and imported["source"] == "import" and imported["category"] == "lifestyle"
    # the same import again: nothing new
    again = client.post(f"{BASE}/templates/import", headers=auth["admin"], data={"category": "lifestyle"},
                        files=[("files", ("poses.json", body, "application/json"))]).json()
    assert again["imported"] == [] and count(svc) == before + 1
    zipped = client.post(f"{BASE}/templates/export", json={"templateIds": ids, "format": "zip"}, headers=auth["admin"])
    with zipfile.ZipFile(io.BytesIO(zipped.content)) as z:
        names = z.namelist()
    assert sorted(n for n in names if n.endswith(".png")) == sorted(f"{i['key']}.png" for i in items)


def test_rest_import_reports_bad_files_and_skeleton_images(rest):
    client, auth, svc = rest
    item = client.get(f"{BASE}/templates", params={"limit": 1}, headers=auth["admin"]).json()["items"][0]
    zipped = client.post(f"{BASE}/templates/export", json={"templateIds": [item["id"]], "format": "zip"},
                         headers=auth["admin"]).content
    with zipfile.ZipFile(io.BytesIO(zipped)) as z:
        png = z.read(f"{item['key']}.png")
    r = client.post(f"{BASE}/templates/import", headers=auth["admin"], data={"category": "lifestyle"},
                    files=[("files", ("skeleton.png", png, "image/png")),
                           ("files", ("notes.png", b"just text", "image/png")),
                           ("files", ("broken.json", b"{\"people\": 3}", "application/json"))])
    report = r.json()
    assert report["imported"] == []
    assert report["skipped"][0]["kind"] == "skeleton-image"
    assert report["skipped"][0]["duplicateOf"]["id"] == item["id"]
    errors = {e["file"]: e["error"] for e in report["errors"]}
    assert "not a picture" in errors["notes.png"] and "people" in errors["broken.json"]
    # REST answers English text, with the message's code and parameters beside it for other languages
    skipped = report["skipped"][0]
    assert skipped["person"] == "person 0" and skipped["personCode"] == "poses.person"
    assert skipped["personParams"] == {"person": 0}
    assert skipped["reason"].startswith("duplicate of existing pose (distance ")
    assert skipped["reasonCode"] == "poses.duplicate_of_existing" and "distance" in skipped["reasonParams"]
    broken = next(e for e in report["errors"] if e["file"] == "broken.json")
    assert broken["errorCode"] == "poses.no_people_list" and broken["errorParams"] == {"document": 0}
    assert broken["error"] == "Document 0 has no 'people' list (OpenPose JSON expected)."
    # the Pose Library page shows the same report in the visitor's language
    from types import SimpleNamespace

    from ui.poses import import_report

    table = import_report(SimpleNamespace(cookies={"apg_lang": "id"}, headers={}), report)
    details = list(table.iloc[:, 2])
    assert details[0].startswith("orang 0: sama dengan pose yang sudah ada (jarak ")
    assert details[0].endswith(f" — #{item['id']} {item['key']}")
    assert "Dokumen 0 tidak punya daftar 'people' (yang diharapkan: OpenPose JSON)." in details
    assert any(d.startswith("File ini bukan gambar yang bisa kami baca") for d in details), details
    english = list(import_report(SimpleNamespace(cookies={"apg_lang": "en"}, headers={}), report).iloc[:, 2])
    assert english[0].startswith("person 0: duplicate of existing pose (distance ")
    bad = client.post(f"{BASE}/templates/import", headers=auth["admin"], data={"category": "nonsense"},
                      files=[("files", ("a.json", b"[]", "application/json"))])
    assert bad.status_code == 422 and bad.json()["field"] == "category"


# ------------------------------------------------------------------------ photos through the detector


def _photo_png() -> bytes:
    buf = io.BytesIO()
    Image.new("RGB", (96, 128), (180, 150, 120)).save(buf, "PNG")
    return buf.getvalue()


@pytest.fixture(scope="module")
def random_detector_dir(tmp_path_factory):
    from engine.detector import write_random_openpose_weights

    return write_random_openpose_weights(tmp_path_factory.mktemp("openpose-random"))


def test_photo_import_runs_the_real_detector_on_random_weights(services, loaded, random_detector_dir):
    from core.library.importing import import_files

    settings = services.settings.model_copy(update={"pose_detector": str(random_detector_dir),
                                                    "model_downloads": False})
    with services.session() as s:
        admin = users.local_admin(s, settings=services.settings)
        before = s.exec(select(func.count()).select_from(PoseTemplate)).one()
        report = import_files(s, user=admin, files=[(_photo_png(), "model.png")], settings=settings,
                              category="lifestyle")
        assert s.exec(select(func.count()).select_from(PoseTemplate)).one() == before
    # random weights find nobody: the photo went through the detector and says so
    assert report["imported"] == []
    assert report["errors"] == [{"file": "model.png", "error": "No person found in this file.",
                                 "errorCode": "importing.no_person", "errorParams": {}}]


def test_photo_import_without_detector_weights_says_what_to_provide(services, loaded, tmp_path):
    from core.library.importing import import_files

    settings = services.settings.model_copy(update={"pose_detector": "lllyasviel/Annotators", "model_downloads": False,
                                                    "hf_cache_dir": tmp_path / "empty-cache", "model_dir": None})
    with services.session() as s:
        admin = users.local_admin(s, settings=services.settings)
        report = import_files(s, user=admin, files=[(_photo_png(), "model.png")], settings=settings,
                              category="lifestyle")
    (error,) = report["errors"]
    assert "lllyasviel/Annotators" in error["error"] and "POSE_DETECTOR" in error["error"]
