"""Analytics on SQLite and Postgres: a scripted month of work (avatars uploaded and kept from AI candidates,
poses finished and failed, posters drawn, exports) recorded as it happens; the running totals equal what
rebuild() counts from the records and the numbers worked out by hand; the CSV, the dashboard and the four
apps' stats agree; another user sees none of it (their brand kit is a 404); a bad month is a clear 422;
concurrent workers lose no count. Poses are GeneratedPose rows finished here with the same call
core.generation.render._accept makes (record_created), so no engine is needed."""
from __future__ import annotations

import csv
import io
import threading
from datetime import datetime, timezone

import pytest
import sqlalchemy as sa
from fastapi.testclient import TestClient
from PIL import Image
from sqlmodel import select

from api import create_api
from core.analytics import report, metrics as analytics_metrics
from core.catalog import avatar_ai, avatars, brand_kits
from core.accounts import users
from core.catalog.avatars import AvatarCreate
from core.catalog.brand_kits import BrandKitCreate
from core.errors import NotFound, ValidationFailed
from db.models import (Avatar, DesignExport, DesignMetrics, GeneratedPose, PoseGeneration, PoseTemplate, Poster,
                       utcnow)
from tests.factories import photo

PER_IMAGE = 6_500_000 // 40   # Rp 162.500 with the default settings
SUB = 299_000


def utc(*args) -> datetime:
    return datetime(*args, tzinfo=timezone.utc)


@pytest.fixture
def settings(make_settings, db_url):
    return make_settings(database_url=db_url, auth="password")


@pytest.fixture
def client_for(services):
    app = create_api(services)

    def make(user) -> TestClient:
        with services.session() as s:
            token = users.issue_token(s, user=user, settings=services.settings)
        c = TestClient(app)
        c.headers["Authorization"] = f"Bearer {token}"
        return c
    return make


# --- the scripted work -----------------------------------------------------------------------------------

def template(s, key: str, category: str) -> PoseTemplate:
    t = PoseTemplate(key=key, name=key, category=category, keypoints=[[0.5, 0.5, 1.0]] * 18)
    s.add(t)
    s.flush()
    return t


def finish(s, g: PoseGeneration, t: PoseTemplate, position: int, *, status: str, at: datetime,
           seconds: float | None = None, gpu: float | None = None) -> GeneratedPose:
    """A pose row finished as core.generation does it, with the call _accept makes for an accepted pose."""
    pose = GeneratedPose(user_id=g.user_id, generation_id=g.id, template_id=t.id, position=position, seed=position,
                         status=status, render_seconds=seconds, pipeline_seconds=gpu, finished_at=at,
                         quality_checked=status == "done", quality_score=0.9 if status == "done" else 0.1,
                         failure_kind="pose" if status == "failed" else None)   # measured: a check passed / failed
    s.add(pose)
    s.flush()
    if status == "done":
        analytics_metrics.record_created(s, user_id=pose.user_id, brand_kit_id=g.brand_kit_id, design_type="pose",
                                 seconds=pose.render_seconds, at=pose.finished_at)
    return pose


def poster(s, user, kit, pose, fmt: str, at: datetime, seconds: float) -> Poster:
    row = Poster(user_id=user.id, brand_kit_id=kit.id, generated_pose_id=pose.id, format=fmt, layout="clean",
                 width=10, height=10, image_path=f"u{user.id}/poster/x.png", thumbnail_path=f"u{user.id}/p/x.jpg",
                 render_seconds=seconds, created_at=at)
    s.add(row)
    s.flush()
    analytics_metrics.record_created(s, user_id=user.id, brand_kit_id=row.brand_kit_id, design_type="poster",
                             seconds=row.render_seconds, format=row.format, at=row.created_at)
    return row


def keep_ai_avatar(svc, s, user, kit) -> Avatar:
    """A stored candidate (as avatar_ai.generate leaves it) chosen through core: the real hook runs."""
    key = avatar_ai._key(user.id, "ab" * 12, 0)
    svc.store.write(key, avatar_ai._png(Image.new("RGB", (64, 96), (90, 60, 40)), prompt="a model", negative="",
                                        seed=7))
    return avatar_ai.choose(s, user=user, request=avatar_ai.ChooseCandidate(candidate_key=key, brand_kit_id=kit.id,
                                                                            name="AI Sari"),
                            store=svc.store, settings=svc.settings)


def script(svc, make_user):
    """Alice: kits K1, K2; 3 avatars in K1 (one AI), 1 in K2 (this month); poses in Jan and Feb 2025; two
    posters; three exports. Bob: one kit and one avatar."""
    alice, bob = make_user("alice", password=None), make_user("bob", password=None)
    with svc.session() as s:
        k1 = brand_kits.create(s, user=alice, data=BrandKitCreate(brand_name="Toko Satu", colors=["#112233"],
                                                                  fonts=["Poppins"]))
        k2 = brand_kits.create(s, user=alice, data=BrandKitCreate(brand_name="Toko Dua", colors=["#445566"],
                                                                 fonts=["Poppins"]))
        kb = brand_kits.create(s, user=bob, data=BrandKitCreate(brand_name="Toko Bob", colors=["#778899"],
                                                               fonts=["Poppins"]))
        for kit, name, who in ((k1, "Sari", alice), (k1, "Dewi", alice), (k2, "Rina", alice), (kb, "Bob", bob)):
            avatars.upload(s, user=who, data=AvatarCreate(brand_kit_id=kit.id, name=name),
                           source=photo((200, 150, 120)), filename=f"{name}.png", store=svc.store,
                           settings=svc.settings)
        keep_ai_avatar(svc, s, alice, k1)
        standing, sitting = template(s, "t-standing", "standing"), template(s, "t-sitting", "sitting")
        g1 = PoseGeneration(user_id=alice.id, brand_kit_id=k1.id, total_poses=8)
        g2 = PoseGeneration(user_id=alice.id, brand_kit_id=k2.id, total_poses=2)
        s.add_all([g1, g2])
        s.flush()
        jan, feb = utc(2025, 1, 10, 3), utc(2025, 2, 12, 9)
        done = [finish(s, g1, standing, i, status="done", at=jan, seconds=sec, gpu=sec / 2)
                for i, sec in enumerate((10.0, 20.0, 30.0))]
        finish(s, g1, sitting, 3, status="failed", at=jan)
        # 18:00 UTC on 31 January is 1 February in Jakarta (UTC+7): a February image
        finish(s, g1, sitting, 4, status="done", at=utc(2025, 1, 31, 18), seconds=15.0, gpu=7.5)
        done += [finish(s, g1, standing, 5 + i, status="done", at=feb, seconds=sec, gpu=sec / 2)
                 for i, sec in enumerate((12.0, 18.0))]
        finish(s, g2, sitting, 0, status="done", at=feb, seconds=40.0, gpu=20.0)
        finish(s, g2, standing, 1, status="failed", at=feb, gpu=3.0)   # a failure with engine time
        poster(s, alice, k1, done[0], "instagram-post", feb, 1.5)
        poster(s, alice, k1, done[0], "story", feb, 2.5)
        analytics_metrics.record_export(s, user_id=alice.id, brand_kit_id=k1.id, design_type="pose", format="zip", count=5,
                                at=feb)
        analytics_metrics.record_export(s, user_id=alice.id, brand_kit_id=k1.id, design_type="poster", format="zip", count=2,
                                at=feb)
        analytics_metrics.record_export(s, user_id=alice.id, brand_kit_id=k2.id, design_type="pose", format="png", count=1,
                                at=jan)
        s.commit()
        return alice, bob, k1, k2, kb


def metrics(s, user_id=None) -> dict:
    s.expire_all()  # rows written by Core statements, not through these objects
    q = select(DesignMetrics)
    if user_id is not None:
        q = q.where(DesignMetrics.user_id == user_id)
    return {(m.user_id, m.brand_kit_id, m.design_type, m.period): m for m in s.exec(q)}


# --- running totals == rebuild == by hand ---------------------------------------------------------------------

def test_running_totals_equal_the_rebuild_and_the_hand_count(services, make_user):
    alice, bob, k1, k2, kb = script(services, make_user)
    now = analytics_metrics.period_of(utcnow(), services.settings)
    with services.session() as s:
        check = analytics_metrics.rebuild(s, dry_run=True)
        assert (check["added"], check["changed"], check["removed"]) == ([], [], []), check
        rows = metrics(s)
        assert check["unchanged"] == check["rows"] == len(rows)
        a = alice.id

        def row(kit, t, period):
            m = rows[(a, kit.id, t, period)]
            return (m.times_created, m.times_exported, m.format_breakdown, round(m.avg_creation_time, 6),
                    round(m.total_time_saved, 6), m.estimated_savings)

        assert row(k1, "avatar", now) == (3, 0, {}, 0.0, 0.0, 0)
        assert row(k2, "avatar", now) == (1, 0, {}, 0.0, 0.0, 0)
        assert rows[(bob.id, kb.id, "avatar", now)].times_created == 1
        assert row(k1, "pose", "2025-01") == (3, 0, {}, 20.0, 1.0, 3 * PER_IMAGE)
        assert row(k1, "pose", "2025-02") == (3, 5, {"zip": 5}, 15.0, 1.0, 3 * PER_IMAGE)
        assert row(k1, "poster", "2025-02") == (2, 2, {"instagram-post": 1, "story": 1, "zip": 2}, 2.0, 0.5, 0)
        assert row(k2, "pose", "2025-02") == (1, 0, {}, 40.0, round(20 / 60, 6), PER_IMAGE)
        assert row(k2, "pose", "2025-01") == (0, 1, {"png": 1}, 0.0, 0.0, 0)
        assert len([k for k in rows if k[0] == a]) == 7
        assert s.exec(select(sa.func.count()).select_from(DesignExport)).one() == 3

        # A damaged total is found and put right; the rebuilt rows are the same as the running ones were.
        k = (a, k1.id, "pose", "2025-01")
        s.execute(sa.update(DesignMetrics).where(DesignMetrics.id == rows[k].id).values(times_created=99))
        s.execute(sa.delete(DesignMetrics).where(DesignMetrics.id == rows[(a, k2.id, "pose", "2025-02")].id))
        s.add(DesignMetrics(user_id=a, brand_kit_id=k1.id, design_type="poster", period="2024-12", times_created=4,
                            format_breakdown={}))
        for _ in range(2):  # twins: NULL kits are outside the unique key
            s.add(DesignMetrics(user_id=a, brand_kit_id=None, design_type="pose", period="2023-05", times_created=1,
                                format_breakdown={}))
        s.commit()
        fixed = analytics_metrics.rebuild(s, user_id=a)
        assert [c["fields"] for c in fixed["changed"]] == [{"times_created": [99, 3]}]
        assert [(x["designType"], x["period"], x["times_created"]) for x in fixed["added"]] == [("pose", "2025-02", 1)]
        assert sorted((x["designType"], x["period"]) for x in fixed["removed"]) == [
            ("pose", "2023-05"), ("pose", "2023-05"), ("poster", "2024-12")]
        again = analytics_metrics.rebuild(s, dry_run=True)
        assert (again["added"], again["changed"], again["removed"]) == ([], [], [])
        rows = metrics(s)
        assert row(k1, "pose", "2025-01") == (3, 0, {}, 20.0, 1.0, 3 * PER_IMAGE)

        # Deleting an avatar: the running total keeps what happened, a rebuild counts what is left.
        avatars.delete(s, user=alice, avatar_id=s.exec(select(Avatar.id).where(Avatar.user_id == a)).first(),
                       store=services.store)
        gone = analytics_metrics.rebuild(s, user_id=a, dry_run=True)
        assert [(c["designType"], c["fields"]["times_created"]) for c in gone["changed"]] in (
            [("avatar", [3, 2])], [("avatar", [1, 0])])


def test_rebuild_command_prints_the_differences(services, make_user, capsys):
    import app

    alice, *_ = script(services, make_user)
    with services.session() as s:
        s.execute(sa.update(DesignMetrics).where(DesignMetrics.user_id == alice.id,
                                                 DesignMetrics.design_type == "poster").values(times_exported=0))
        s.commit()
        assert app.rebuild_metrics(s, settings=services.settings, username="alice", dry_run=False) == 0
    out = capsys.readouterr().out
    assert "1 changed" in out and "poster 2025-02: times_exported: 0 -> 2" in out
    with services.session() as s:
        assert app.rebuild_metrics(s, settings=services.settings, username="nobody", dry_run=True) == 1


# --- the dashboard, its CSV and the apps' stats -----------------------------------------------------------

def test_dashboard_numbers(services, make_user):
    alice, bob, k1, k2, kb = script(services, make_user)
    now = analytics_metrics.period_of(utcnow(), services.settings)
    with services.session() as s:
        d = report.dashboard(s, user=alice, brand_kit_id=None, period_from=None, period_to=None)
        months = d["filters"]["months"]
        assert months[0] == "2025-01" and months[-1] == now and d["filters"]["to"] == now
        h = d["headline"]
        assert (h["imagesCreated"], h["avatarsCreated"], h["postersCreated"], h["exported"]) == (7, 4, 2, 8)
        assert h["savingsIdr"] == 7 * PER_IMAGE == 1_137_500
        assert h["savingsHighIdr"] == 7 * (19_000_000 // 40)
        assert h["hoursSaved"] == round(7 * 20 / 60 + 2 * 15 / 60, 2)
        assert h["subscriptionIdr"] == SUB * len(months)
        assert h["netSavingsIdr"] == 7 * PER_IMAGE - SUB * len(months)
        assert (h["acceptedImages"], h["failedImages"], h["successRate"]) == (7, 2, round(7 / 9, 4))
        gpu = (10 + 20 + 30 + 15 + 12 + 18 + 40) / 2 + 3
        assert h["gpuSeconds"] == gpu
        assert h["gpuCostIdr"] == round(gpu / 3600 * 48_000)
        assert h["costPerAcceptedImageIdr"] == round(gpu / 3600 * 48_000 / 7)
        assert d["successByCategory"] == [
            {"category": "sitting", "done": 2, "failed": 1, "notChecked": 0, "infrastructureFailed": 0,
             "successRate": round(2 / 3, 4)},
            {"category": "standing", "done": 5, "failed": 1, "notChecked": 0, "infrastructureFailed": 0,
             "successRate": round(5 / 6, 4)}]
        assert d["formats"] == [{"format": "zip", "count": 7}, {"format": "instagram-post", "count": 1},
                                {"format": "png", "count": 1}, {"format": "story", "count": 1}]
        assert d["totals"]["pose"] == {"created": 7, "exported": 6, "avgCreationSeconds": round(145 / 7, 3),
                                       "hoursSaved": round(7 * 20 / 60, 2), "savingsIdr": 7 * PER_IMAGE,
                                       "formats": {"png": 1, "zip": 5}}
        feb = {u["designType"]: u for u in d["usage"] if u["period"] == "2025-02"}
        assert (feb["pose"]["created"], feb["pose"]["exported"], feb["poster"]["created"]) == (4, 5, 2)
        assert len(d["usage"]) == 3 * len(months)
        sav = {x["period"]: x for x in d["savings"]}
        assert sav["2025-01"]["savingsIdr"] == 3 * PER_IMAGE and sav["2025-02"]["netIdr"] == 4 * PER_IMAGE - SUB
        assert d["savings"][-1]["cumulativeNetIdr"] == h["netSavingsIdr"]
        assert d["assumptions"]["perImageIdr"] == PER_IMAGE
        assert any("IDR 6,500,000" in n and "IDR 19,000,000" in n for n in d["assumptions"]["notes"])  # English

        # one kit, one month (the pose finished 31 Jan 18:00 UTC is February's)
        f = report.dashboard(s, user=alice, brand_kit_id=k1.id, period_from="2025-02", period_to="2025-02")
        assert f["filters"]["months"] == ["2025-02"]
        fh = f["headline"]
        assert (fh["imagesCreated"], fh["postersCreated"], fh["exported"], fh["avatarsCreated"]) == (3, 2, 7, 0)
        assert (fh["savingsIdr"], fh["subscriptionIdr"], fh["netSavingsIdr"]) == (3 * PER_IMAGE, SUB,
                                                                                   3 * PER_IMAGE - SUB)
        assert [(c["category"], c["done"], c["failed"]) for c in f["successByCategory"]] == [
            ("sitting", 1, 0), ("standing", 2, 0)]
        assert fh["gpuSeconds"] == 7.5 + 6 + 9


def test_csv_rows_match_the_dashboard(services, make_user):
    alice, bob, k1, *_ = script(services, make_user)
    with services.session() as s:
        for kit, lo, hi in ((None, None, None), (k1.id, "2025-01", "2025-03")):
            d = report.dashboard(s, user=alice, brand_kit_id=kit, period_from=lo, period_to=hi)
            rows = list(csv.reader(io.StringIO(report.csv_export(s, user=alice, brand_kit_id=kit,
                                                                    period_from=lo, period_to=hi))))
            assert rows[0] == list(report.CSV_COLUMNS)
            assert len(rows) - 1 == len(d["usage"])
            for line, u in zip(rows[1:], d["usage"]):
                assert line[:4] == [u["period"], u["designType"], str(u["created"]), str(u["exported"])]
                assert float(line[5]) == u["hoursSaved"] and int(line[6]) == u["savingsIdr"]
                assert line[7] == ";".join(f"{k}:{v}" for k, v in u["formats"].items())
            assert sum(int(r[6]) for r in rows[1:]) == d["headline"]["savingsIdr"]
        assert ["2025-02", "pose", "3", "5", "15.0", "1.0", str(3 * PER_IMAGE), "zip:5"] in rows


def test_rest_stats_and_dashboard_agree_and_stay_private(services, make_user, client_for):
    alice, bob, k1, k2, kb = script(services, make_user)
    a, b = client_for(alice), client_for(bob)
    with services.session() as s:
        d = report.dashboard(s, user=alice, brand_kit_id=None, period_from=None, period_to=None)
        per_kit = {k.id: report.dashboard(s, user=alice, brand_kit_id=k.id, period_from=None,
                                             period_to=None)["headline"] for k in (k1, k2)}
    r = a.get("/api/analytics/dashboard")
    assert r.status_code == 200 and r.json() == d

    pose = a.get("/api/apps/pose-generator/stats").json()
    assert pose["images"] == 7 and pose["failed"] == 2 and pose["generations"] == 2   # core.generation.batches.stats
    for key in ("created", "exported", "savingsIdr", "hoursSaved", "avgCreationSeconds"):
        assert pose["analytics"][key] == d["totals"]["pose"][key]
    for key in ("gpuSeconds", "costPerAcceptedImageIdr", "successRate", "acceptedImages"):
        assert pose["analytics"][key] == d["headline"][key]
    assert pose["analytics"]["successByCategory"] == d["successByCategory"]

    av = a.get("/api/apps/avatar-manager/stats").json()
    assert av["totalAvatars"] == 4 and av["bySource"] == {"upload": 3, "ai_generated": 1}
    assert av["analytics"]["created"] == d["totals"]["avatar"]["created"] == 4

    kits = a.get("/api/apps/brand-kit/stats").json()
    assert kits["totalKits"] == 2
    for entry in kits["analytics"]["byKit"]:
        for key in ("imagesCreated", "avatarsCreated", "postersCreated", "exported", "savingsIdr", "hoursSaved"):
            assert entry[key] == per_kit[entry["brandKitId"]][key]

    prod = a.get("/api/apps/product-manager/stats").json()
    assert "totalProducts" in prod and prod["analytics"]["imagesCreated"] == 7

    # Bob sees his own avatar and nothing of Alice's; her kit is a 404 to him.
    bd = b.get("/api/analytics/dashboard").json()
    assert bd["headline"]["avatarsCreated"] == 1
    assert (bd["headline"]["imagesCreated"], bd["headline"]["exported"], bd["successByCategory"]) == (0, 0, [])
    assert b.get("/api/apps/pose-generator/stats").json()["analytics"]["created"] == 0
    assert b.get("/api/apps/avatar-manager/stats").json()["analytics"]["created"] == 1
    assert [k["brandKitId"] for k in b.get("/api/apps/brand-kit/stats").json()["analytics"]["byKit"]] == [kb.id]
    for url in (f"/api/analytics/dashboard?brandKitId={k1.id}", f"/api/analytics/export.csv?brandKitId={k1.id}"):
        r = b.get(url)
        assert r.status_code == 404 and r.json()["kind"] == "not_found", url
    with services.session() as s:
        with pytest.raises(NotFound):
            report.dashboard(s, user=bob, brand_kit_id=k1.id, period_from=None, period_to=None)
        assert "2025" not in "".join(report.csv_export(s, user=bob))

    r = a.get("/api/analytics/export.csv", params={"brandKitId": k1.id, "from": "2025-01", "to": "2025-02"})
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/csv")
    assert 'filename="analytics_kit' in r.headers["content-disposition"]
    assert r.text.splitlines()[0] == ",".join(report.CSV_COLUMNS)
    assert len(r.text.splitlines()) == 1 + 2 * 3
    assert TestClient(create_api(services)).get("/api/analytics/dashboard").status_code == 401


@pytest.mark.parametrize("params,field", [({"from": "2025-13"}, "from"), ({"to": "25-01"}, "to"),
                                          ({"from": "2025-03", "to": "2025-01"}, "from"),
                                          ({"from": "1990-01", "to": "2025-01"}, "from")])
def test_a_bad_period_is_a_clear_422(services, make_user, client_for, params, field):
    c = client_for(make_user("carla", password=None))
    for url in ("/api/analytics/dashboard", "/api/analytics/export.csv"):
        r = c.get(url, params=params)
        assert r.status_code == 422 and r.json()["field"] == field, r.json()
    assert "YYYY-MM" in c.get("/api/analytics/dashboard", params={"from": "2025-1"}).json()["detail"]


def test_empty_dashboard_and_rupiah_format(services, make_user):
    user = make_user("dina", password=None)
    with services.session() as s:
        d = report.dashboard(s, user=user, brand_kit_id=None, period_from=None, period_to=None)
    assert d["filters"]["months"] == [analytics_metrics.period_of(utcnow(), services.settings)]
    assert d["headline"]["netSavingsIdr"] == -SUB and d["headline"]["costPerAcceptedImageIdr"] is None
    assert report.rupiah(6_500_000) == "Rp 6.500.000"
    assert report.rupiah(-299_000) == "-Rp 299.000" and report.rupiah(0) == "Rp 0"
    with pytest.raises(ValidationFailed):
        analytics_metrics.record_created(None, user_id=user.id, brand_kit_id=None, design_type="video", seconds=1)


# --- concurrency --------------------------------------------------------------------------------------------

def test_concurrent_workers_lose_no_count(services, make_user, db_kind):
    user = make_user("eko", password=None)
    with services.session() as s:
        kit = brand_kits.create(s, user=user, data=BrandKitCreate(brand_name="Toko Eko", colors=["#123456"],
                                                                    fonts=["Poppins"]))
    threads, per_thread, at = 8, 15, utc(2025, 3, 5)
    barrier = threading.Barrier(threads)
    errors = []

    def work(i):
        try:
            barrier.wait()
            for j in range(per_thread):
                with services.session() as s:
                    kit_id = kit.id if j % 2 == 0 else None   # both the unique key and the NULL-kit lock
                    analytics_metrics.record_created(s, user_id=user.id, brand_kit_id=kit_id, design_type="pose",
                                             seconds=float(i + 1), at=at)
                    analytics_metrics.record_export(s, user_id=user.id, brand_kit_id=kit_id, design_type="pose",
                                            format="zip" if i % 2 else "png", count=2, at=at)
                    s.commit()
        except Exception as exc:  # noqa: BLE001
            errors.append(exc)

    pool = [threading.Thread(target=work, args=(i,)) for i in range(threads)]
    for t in pool:
        t.start()
    for t in pool:
        t.join(timeout=120)
    assert not errors, errors
    with services.session() as s:
        rows = metrics(s, user.id)
        assert sorted(k[1] or 0 for k in rows) == sorted([kit.id, 0])   # one row per key, no duplicates
        with_kit, no_kit = rows[(user.id, kit.id, "pose", "2025-03")], rows[(user.id, None, "pose", "2025-03")]
        evens, odds = (per_thread + 1) // 2, per_thread // 2
        assert (with_kit.times_created, no_kit.times_created) == (threads * evens, threads * odds)
        assert (with_kit.times_exported, no_kit.times_exported) == (2 * threads * evens, 2 * threads * odds)
        assert with_kit.format_breakdown == {"png": threads // 2 * evens * 2, "zip": threads // 2 * evens * 2}
        assert with_kit.avg_creation_time == pytest.approx(sum(range(1, threads + 1)) / threads)
        assert with_kit.estimated_savings == threads * evens * PER_IMAGE
        assert s.exec(select(sa.func.count()).select_from(DesignExport)
                      .where(DesignExport.user_id == user.id)).one() == threads * per_thread


# --- the page's formatting ---------------------------------------------------------------------------------

def test_page_shows_the_dashboard_numbers_in_rupiah(services, make_user):
    from ui import analytics as page

    alice, bob, k1, *_ = script(services, make_user)
    with services.session() as s:
        d = report.dashboard(s, user=alice, brand_kit_id=None, period_from=None, period_to=None)
    html = page.headline_html(d)
    for elem_id in ("analytics-images-created", "analytics-exported", "analytics-hours-saved", "analytics-savings",
                    "analytics-net", "analytics-gpu", "analytics-cost-per-image"):
        assert f"id='{elem_id}'" in html
    assert "IDR 1,137,500" in html and "up to IDR 3,325,000" in html   # English: IDR and commas
    assert f"IDR {d['headline']['netSavingsIdr']:,}".replace("IDR -", "-IDR ") in html
    assert "IDR 162,500" in page.assumptions_html(d)
    indonesian = type("Req", (), {"cookies": {"apg_lang": "id"}, "headers": {}})()
    html_id = page.headline_html(d, indonesian)                         # Bahasa Indonesia: Rp and dots
    assert "Rp 1.137.500" in html_id and "Rp 3.325.000" in html_id and "IDR" not in html_id
    assert report.rupiah(d["headline"]["netSavingsIdr"]) in html_id
    assert "Rp 162.500" in page.assumptions_html(d, indonesian)
    charts = page.frames(d)
    assert charts["usage"]["created"].sum() == 7 + 4 + 2
    assert charts["success"].set_index("category")["success %"].to_dict() == {"sitting": 66.7, "standing": 83.3}
    assert dict(zip(charts["formats"]["format"], charts["formats"]["items"]))["zip"] == 7
    assert ["2025-02", "Images", "4", "5", "21.2", "1.3", "IDR 650,000", "zip 5"] in page.table_rows(d)
    assert ["2025-02", "Gambar", "4", "5", "21,2", "1,3", "Rp 650.000", "zip 5"] in page.table_rows(d, indonesian) \
        or any(r[2:7] == ["4", "5", "21,2", "1,3", "Rp 650.000"] for r in page.table_rows(d, indonesian))

    # the charts: HTML bars with the page's number format, a bar for every month (one month is not empty)
    usage, savings, success, formats = page.charts_html(d, indonesian)
    assert "data-empty='0'" in usage and "data-x='2025-02'" in usage
    assert "Rp 650.000" in savings or "Rp" in savings
    assert "66,7%" in success and "83,3%" in success and "IDR" not in savings
    en_usage, en_savings, en_success, _ = page.charts_html(d)
    assert "66.7%" in en_success and "IDR" in en_savings
    assert page.csv_link(k1.id, "2025-01", None) == (
        f"<a id='analytics-csv' class='lg secondary' href='/api/analytics/export.csv?brandKitId={k1.id}&amp;"
        "from=2025-01' download>⬇ Download the monthly numbers (CSV)</a>")


def test_a_new_shop_sees_no_negative_saving_and_charts_that_say_they_are_empty(services, make_user):
    """Issue 16: before anything is made, the net tile is "—" with the monthly subscription beside it (not
    "-Rp 299.000"), and each chart says it fills in later instead of drawing an empty "0.000000" axis."""
    from ui import analytics as page

    newcomer = make_user("baru")
    with services.session() as s:
        d = report.dashboard(s, user=newcomer, brand_kit_id=None, period_from=None, period_to=None)
    indonesian = type("Req", (), {"cookies": {"apg_lang": "id"}, "headers": {}})()
    html = page.headline_html(d, indonesian)
    net = html.split("id='analytics-net'", 1)[1].split("</div></div>", 1)[0]
    assert "—" in net and "-Rp" not in net and "Belum ada yang dibuat" in net and "Rp 299.000" in net
    charts = page.charts_html(d, indonesian)
    assert all("data-empty='1'" in c and "Belum ada data" in c for c in charts)
    assert all("0.000000" not in c for c in charts)


def test_bars_grow_from_zero_and_negative_months_go_down():
    from ui.charts import bars_html

    html = bars_html("c", "Net", [("2025-01", {"net": 300.0}), ("2025-02", {"net": -100.0})], series=["net"],
                     fmt=lambda v: f"{v:g}", empty="none")
    up = html.split("data-value='300'")[0].rsplit("style='", 1)[1]
    down = html.split("data-value='-100'")[0].rsplit("style='", 1)[1]
    assert "height:120.0px;margin-bottom:40.0px" in up                 # 300 of a 400 span over 160 px, above 0
    assert "height:40.0px;margin-bottom:0.0px" in down and "#dc2626" in down   # below the zero line, in red
