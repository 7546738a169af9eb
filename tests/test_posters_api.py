"""Posters over REST (/api/apps/pose-generator/posters), on SQLite and Postgres: N images x M formats x L layouts
drawn with the brand kit, stored at the formats' exact sizes, charged 3 credits each in one ledger row and counted
by analytics; every refused request (too many, unknown format or layout, not enough credits, an unfinished or
someone else's result or kit, a render failing half way) leaves no row, no file and no charge; list, get, delete;
the ZIP export (a folder per format, the stored bytes, recorded as an export); another user is told "not found"
on every route. Results are finished fast by tests/poster_support.py (a batch planned by core, its poses left the
way a worker leaves them)."""
from __future__ import annotations

import io
import re
import zipfile

import pytest
import sqlalchemy as sa
from fastapi.testclient import TestClient
from PIL import Image
from sqlmodel import select

from api import create_api
from core.catalog import brand_kits
from core.accounts import credits, users
from core.posters import service
from core.library import templates as lib
from core.catalog.brand_kits import BrandKitCreate
from core.messages import Message
from core.posters import FORMATS, LAYOUTS, PosterText
from services import Services
from db.models import CreditLedger, DesignExport, DesignMetrics, GeneratedPose, Poster, User
from tests.factories import ready_shop
from tests.poster_support import finished_results
from ui.i18n import message_text

BASE = "/api/apps/pose-generator/posters"
POSTER_KINDS = ("poster", "poster-thumb")


@pytest.fixture
def svc(make_settings, db_url):
    s = Services.build(make_settings(database_url=db_url, auth="password"), migrate=False, runner=False)
    with s.session() as session:
        lib.load_library(session)
    yield s
    s.close()


class Shop:
    """A user with a kit, an avatar, a product, finished results, and an API client holding their token."""

    def __init__(self, svc, name, results=2):
        self.svc = svc
        sh = ready_shop(svc, name)
        self.user, self.kit, self.avatar, self.product, self.templates = sh.user, sh.kit, sh.avatar, sh.product, \
            sh.templates
        self.results = self.more_results(results)
        with svc.session() as s:
            token = users.issue_token(s, user=sh.user, settings=svc.settings)
        self.client = TestClient(create_api(svc))
        self.client.headers["Authorization"] = f"Bearer {token}"

    def more_results(self, n: int) -> list[int]:
        return finished_results(self.svc, user_id=self.user.id, kit_id=self.kit.id, avatar_id=self.avatar.id,
                                product_id=self.product.id, template_ids=[t.id for t in self.templates], n=n)

    def make(self, **body):
        return self.client.post(BASE, json={"resultIds": self.results, "formats": ["instagram-post"],
                                            "layouts": ["clean-frame"], **body})

    def balance(self) -> int:
        with self.svc.session() as s:
            return credits.balance(s, user_id=self.user.id)

    def set_credits(self, n: int) -> None:
        with self.svc.session() as s:
            s.execute(sa.update(User).where(User.id == self.user.id).values(credits=n))
            s.commit()


@pytest.fixture
def shop(svc):
    return Shop(svc, "siti")


def poster_rows(svc, user=None) -> list[Poster]:
    with svc.session() as s:
        q = select(Poster).order_by(Poster.id)
        return list(s.exec(q.where(Poster.user_id == user.id) if user else q))


def poster_files(svc) -> set[str]:
    return {k for k in svc.store.all_keys() if k.split("/")[1] in POSTER_KINDS}


def poster_ledger(svc, user) -> list[CreditLedger]:
    with svc.session() as s:
        return list(s.exec(select(CreditLedger).where(CreditLedger.user_id == user.id,
                                                      CreditLedger.action == "exportToPoster")))


def poster_metrics(svc, user) -> list[DesignMetrics]:
    with svc.session() as s:
        return list(s.exec(select(DesignMetrics).where(DesignMetrics.user_id == user.id,
                                                       DesignMetrics.design_type == "poster")))


# --- making posters -----------------------------------------------------------------------------------------

def test_posters_are_drawn_at_exact_sizes_charged_once_and_counted(svc, shop):
    before = shop.balance()
    r = shop.make(formats=["instagram-post", "story"], layouts=["clean-frame", "promo"], price="Rp 89.000",
                  cta="Beli sekarang di Shopee!")
    assert r.status_code == 201, r.text
    made = r.json()
    assert len(made) == 2 * 2 * 2
    combos = {(p["resultId"], p["format"], p["layout"]) for p in made}
    assert combos == {(rid, f, lay) for rid in shop.results for f in ("instagram-post", "story")
                      for lay in ("clean-frame", "promo")}
    for p in made:
        assert (p["width"], p["height"]) == FORMATS[p["format"]].size
        assert p["brandKitId"] == shop.kit.id  # each image's batch kit by default
        assert p["text"] == {"product_name": shop.product.name, "price": "Rp 89.000", "cta": "Beli sekarang di Shopee!"}
        assert p["imageUrl"].startswith("/api/files/") and p["thumbnailUrl"].startswith("/api/files/")
    rows = poster_rows(svc, shop.user)
    assert len(rows) == 8
    for row in rows:
        with Image.open(svc.store.path(row.image_path)) as im:
            assert im.size == FORMATS[row.format].size == (row.width, row.height)
        assert svc.store.exists(row.thumbnail_path)
    assert poster_files(svc) == {k for row in rows for k in (row.image_path, row.thumbnail_path)}
    # the file route serves them to their owner
    got = shop.client.get(made[0]["imageUrl"])
    assert got.status_code == 200 and Image.open(io.BytesIO(got.content)).size == (made[0]["width"],
                                                                                    made[0]["height"])

    assert shop.balance() == before - 24
    ledger = poster_ledger(svc, shop.user)
    assert [(e.delta, e.ref_type) for e in ledger] == [(-24, "poster")]
    (m,) = poster_metrics(svc, shop.user)
    assert m.times_created == 8 and m.brand_kit_id == shop.kit.id
    assert m.format_breakdown == {"instagram-post": 4, "story": 4}


def test_a_chosen_kit_and_text_override_the_batch_defaults(svc, shop):
    with svc.session() as s:
        other = brand_kits.create(s, user=s.get(User, shop.user.id),
                                  data=BrandKitCreate(brand_name="Batik Sari", colors=["#1E3F8B", "#F2C14E"],
                                                      fonts=["Montserrat", "Open Sans"]))
    r = shop.make(resultIds=shop.results[:1], brandKitId=other.id, productName="Kemeja batik parang")
    assert r.status_code == 201, r.text
    (p,) = r.json()
    assert p["brandKitId"] == other.id and p["text"]["product_name"] == "Kemeja batik parang"
    (m,) = poster_metrics(svc, shop.user)
    assert m.brand_kit_id == other.id and m.times_created == 1


def test_progress_is_reported_poster_by_poster(svc, shop):
    seen = []
    req = service.PosterRequest(result_ids=shop.results, formats=["marketplace"],
                                       layouts=["minimal", "split-panel"])
    with svc.session() as s:
        rows = service.create_posters(s, user=s.get(User, shop.user.id), request=req, store=svc.store,
                                             progress=lambda done, total: seen.append((done, total)))
    assert len(rows) == 4 and seen == [(1, 4), (2, 4), (3, 4), (4, 4)]


def refused_cases():
    """case -> (request body, status, pattern of the English detail, what core answers by code: (code, params,
    the Indonesian the Posters page shows) of the shop, or None for pydantic's own refusals)."""
    every_format, every_layout = list(FORMATS), list(LAYOUTS)
    formats_id, layouts_id = ", ".join(every_format), ", ".join(every_layout)
    return {
        "over the limit": (lambda sh: {"resultIds": [*sh.results, sh.third], "formats": every_format,
                                       "layouts": every_layout}, 422, r"75 posters.*at most 60",
                           lambda sh: ("posters.over_limit", {"n": 75, "images": 3, "formats": 5, "layouts": 5,
                                                              "most": 60},
                                       "Itu 75 poster (3 foto x 5 format x 5 tata letak); satu permintaan "
                                       "maksimal 60.")),
        "too many results": (lambda sh: {"resultIds": list(range(1, 22))}, 422, r"resultIds", None),
        "no results": (lambda sh: {"resultIds": []}, 422, r"resultIds", None),
        "unknown format": (lambda sh: {"formats": ["instagram-post", "poster-a0"]}, 422,
                           r"'poster-a0'.*" + ".*".join(map(re.escape, every_format)),
                           lambda sh: ("posters.unknown_format", {"key": "poster-a0", "known": every_format},
                                       f"Format 'poster-a0' tidak dikenal: pilih dari {formats_id}.")),
        "unknown layout": (lambda sh: {"layouts": ["collage"]}, 422,
                           r"'collage'.*" + ".*".join(map(re.escape, every_layout)),
                           lambda sh: ("posters.unknown_layout", {"key": "collage", "known": every_layout},
                                       f"Tata letak 'collage' tidak dikenal: pilih dari {layouts_id}.")),
        "not enough credits": (lambda sh: sh.set_credits(5) or {}, 402, r"2 posters need 6 credits .* you have 5",
                               lambda sh: ("posters.not_enough_credits", {"n": 2, "need": 6, "each": 3, "have": 5},
                                           "Kredit tidak cukup: 2 poster perlu 6 kredit (3 per poster) dan Anda "
                                           "punya 5.")),
        "unfinished result": (lambda sh: {"resultIds": [sh.results[0], sh.pending]}, 422, r"no finished image",
                              lambda sh: ("posters.not_finished", {"id": sh.pending, "result_status": "pending"},
                                          f"Hasil {sh.pending} belum punya gambar jadi (masih menunggu giliran).")),
        "another user's result": (lambda sh: {"resultIds": [sh.results[0], sh.theirs]}, 404, r"not found",
                                  lambda sh: ("records.not_found", {"record": "Result", "id": sh.theirs},
                                              f"Hasil {sh.theirs} tidak ditemukan.")),
        "another user's kit": (lambda sh: {"brandKitId": sh.their_kit}, 404, r"not found",
                               lambda sh: ("records.not_found", {"record": "Brand kit", "id": sh.their_kit},
                                           f"Kit merek {sh.their_kit} tidak ditemukan.")),
    }


@pytest.mark.parametrize("case", list(refused_cases()))
def test_a_refused_request_leaves_no_row_file_or_charge(svc, shop, case):
    other = Shop(svc, "budi", results=1)
    shop.theirs, shop.their_kit = other.results[0], other.kit.id
    shop.third, shop.pending = shop.more_results(2)
    with svc.session() as s:  # as if still waiting for a worker
        s.execute(sa.update(GeneratedPose).where(GeneratedPose.id == shop.pending).values(status="pending"))
        s.commit()
    body, status, pattern, by_code = refused_cases()[case]
    extra = body(shop)
    balance, files = shop.balance(), poster_files(svc)
    r = shop.make(**extra)
    assert r.status_code == status, r.text
    got = r.json()
    assert re.search(pattern, got["detail"]), got
    if by_code is None:  # pydantic's own refusal: every field at fault is named
        assert "errors" in got, got
    else:  # core's own message, by code: the Posters page shows it in Indonesian
        code, params, indonesian = by_code(shop)
        assert (got["code"], got["params"]) == (code, params), got
        assert got["detail"] == Message(code, **params).english
        assert message_text(Message(code, **got["params"]), "id") == indonesian
    assert poster_rows(svc) == [] and poster_files(svc) == files == set()
    assert shop.balance() == balance and poster_ledger(svc, shop.user) == []
    assert poster_metrics(svc, shop.user) == []


def test_a_render_failure_half_way_leaves_nothing(svc, shop):
    """The second image's file is gone from storage: the first image's posters were already drawn into staged
    files; they are removed again, and nothing is charged or counted."""
    with svc.session() as s:
        second = s.get(GeneratedPose, shop.results[1])
    svc.store.delete(second.image_path)
    seen = []
    req = service.PosterRequest(result_ids=shop.results, formats=["instagram-post", "story"],
                                       layouts=["clean-frame"])
    balance = shop.balance()
    with svc.session() as s, pytest.raises(Exception) as failed:
        service.create_posters(s, user=s.get(User, shop.user.id), request=req, store=svc.store,
                                      progress=lambda done, total: seen.append(done))
    assert seen == [1, 2]  # the first image's posters were drawn before the failure
    assert "image file is missing" in str(failed.value)
    assert poster_rows(svc) == [] and poster_files(svc) == set()
    assert shop.balance() == balance and poster_ledger(svc, shop.user) == [] and poster_metrics(svc, shop.user) == []
    r = shop.make()  # over REST: a clear 422 naming the result
    assert r.status_code == 422, r.text
    assert r.json()["detail"] == f"Result {second.id}'s image file is missing; render it again."
    assert (r.json()["code"], r.json()["kind"], r.json()["params"], r.json()["field"]) == \
        ("posters.image_missing", "validation_error", {"id": second.id}, "resultIds"), r.text
    assert message_text(Message(r.json()["code"], **r.json()["params"]), "id") == \
        f"File gambar hasil {second.id} hilang; buat ulang gambarnya."
    assert poster_rows(svc) == [] and poster_files(svc) == set() and shop.balance() == balance


# --- list, get, delete -----------------------------------------------------------------------------------------

def test_list_get_and_delete(svc, shop):
    made = shop.make(formats=["instagram-post", "facebook-cover"]).json()
    assert len(made) == 4
    page = shop.client.get(BASE, params={"limit": 3}).json()
    assert page["total"] == 4 and len(page["items"]) == 3
    assert {p["id"] for p in page["items"]} < {p["id"] for p in made}
    one = shop.client.get(BASE, params={"resultId": shop.results[0]}).json()
    assert one["total"] == 2 and {p["resultId"] for p in one["items"]} == {shop.results[0]}
    first = made[0]
    got = shop.client.get(f"{BASE}/{first['id']}")
    assert got.status_code == 200 and got.json() == first
    with svc.session() as s:
        row = s.get(Poster, first["id"])
    assert svc.store.exists(row.image_path) and svc.store.exists(row.thumbnail_path)
    assert shop.client.delete(f"{BASE}/{first['id']}").status_code == 204
    assert not svc.store.exists(row.image_path) and not svc.store.exists(row.thumbnail_path)
    assert shop.client.get(f"{BASE}/{first['id']}").status_code == 404
    assert shop.client.delete(f"{BASE}/{first['id']}").status_code == 404
    assert shop.client.get(BASE).json()["total"] == 3
    assert len(poster_files(svc)) == 6


def test_another_user_is_told_not_found_on_every_route(svc, shop):
    made = shop.make().json()
    other = Shop(svc, "budi", results=1)
    pid = made[0]["id"]
    for r in (other.client.get(f"{BASE}/{pid}"), other.client.delete(f"{BASE}/{pid}"),
              other.client.get(f"{BASE}/export", params={"ids": str(pid)}),
              other.client.get(f"{BASE}/export", params={"ids": f"{pid},{pid + 1000}"}),
              other.client.get(made[0]["imageUrl"]),
              other.client.post(BASE, json={"resultIds": shop.results[:1], "formats": ["story"],
                                            "layouts": ["minimal"]}),
              other.client.post(BASE, json={"resultIds": other.results, "formats": ["story"], "layouts": ["minimal"],
                                            "brandKitId": shop.kit.id})):
        assert r.status_code == 404, (r.request.method, r.request.url, r.text)
    assert other.client.get(BASE).json() == {"items": [], "total": 0, "limit": 50, "offset": 0}
    assert len(poster_rows(svc)) == 2 and poster_rows(svc, other.user) == []
    assert shop.client.get(f"{BASE}/{pid}").status_code == 200
    with svc.session() as s:
        assert s.exec(select(DesignExport)).all() == []


def test_ids_past_the_database_range_are_not_found(svc, shop):
    """Ids are 32-bit in the database; a larger one names nothing (Postgres would refuse the query: a 500).
    Past 64 bits a number is no id at all: 422 naming the field and the limit (issue 11)."""
    made = shop.make().json()
    huge = 2**31
    for r in (shop.client.get(f"{BASE}/{huge}"), shop.client.delete(f"{BASE}/{huge}"),
              shop.client.get(f"{BASE}/export", params={"ids": f"{made[0]['id']},{huge}"}),
              shop.make(resultIds=[shop.results[0], 2**40]), shop.make(brandKitId=huge)):
        assert r.status_code == 404, (r.request.method, r.request.url, r.text)
    assert shop.client.get(BASE, params={"resultId": 2**40}).json()["total"] == 0
    for r in (shop.make(resultIds=[shop.results[0], 10**20]), shop.client.get(BASE, params={"resultId": 10**20})):
        assert r.status_code == 422 and "9223372036854775807" in r.json()["detail"], r.text
    assert [p.id for p in poster_rows(svc)] == [p["id"] for p in made]


# --- export ----------------------------------------------------------------------------------------------------

def test_export_zip_has_a_folder_per_format_and_the_stored_bytes(svc, shop):
    made = shop.make(formats=["instagram-post", "story"], layouts=["bold-banner"], productName="Kemeja Batik Parang!"
                     ).json()
    ids = [p["id"] for p in made]
    r = shop.client.get(f"{BASE}/export", params={"ids": ",".join(map(str, ids))})
    assert r.status_code == 200, r.text
    assert r.headers["content-type"] == "application/zip"
    assert "posters-4.zip" in r.headers["content-disposition"]
    rows = {p.id: p for p in poster_rows(svc)}
    with zipfile.ZipFile(io.BytesIO(r.content)) as zf:
        names = zf.namelist()
        assert len(names) == 4
        for index, (pid, name) in enumerate(zip(ids, names), start=1):
            row = rows[pid]
            assert name == f"{row.format}/{index:03d}_kemeja-batik-parang_{row.format}_bold-banner.png"
            assert zf.read(name) == svc.store.read(row.image_path)
            assert Image.open(io.BytesIO(zf.read(name))).size == FORMATS[row.format].size
    assert {n.split("/")[0] for n in names} == {"instagram-post", "story"}
    with svc.session() as s:
        (export,) = s.exec(select(DesignExport)).all()
        assert (export.design_type, export.format, export.item_count, export.brand_kit_id) == \
            ("poster", "zip", 4, shop.kit.id)
    (m,) = poster_metrics(svc, shop.user)
    assert m.times_exported == 4 and m.times_created == 4
    assert m.format_breakdown == {"instagram-post": 2, "story": 2, "zip": 4}
    # a subset, in the order asked
    r = shop.client.get(f"{BASE}/export", params={"ids": f"{ids[3]},{ids[0]}"})
    with zipfile.ZipFile(io.BytesIO(r.content)) as zf:
        assert [n.split("/", 1)[1][:3] for n in zf.namelist()] == ["001", "002"]
        assert zf.read(zf.namelist()[0]) == svc.store.read(rows[ids[3]].image_path)


@pytest.mark.parametrize("ids", ["", " , ", "abc", "1;2", None])
def test_export_with_empty_or_bad_ids_is_refused(svc, shop, ids):
    shop.make()
    r = shop.client.get(f"{BASE}/export", params={} if ids is None else {"ids": ids})
    assert r.status_code == 422, r.text
    assert r.json()["field"] == "ids"
    with svc.session() as s:
        assert s.exec(select(DesignExport)).all() == []


# --- options, previews, OpenAPI ----------------------------------------------------------------------------

def test_options_list_the_formats_with_sizes_and_the_layouts(svc, shop):
    r = shop.client.get(f"{BASE}/options")
    assert r.status_code == 200
    formats = {f["key"]: (f["width"], f["height"]) for f in r.json()["formats"]}
    assert formats == {"instagram-post": (1080, 1080), "instagram-portrait": (1080, 1350), "story": (1080, 1920),
                       "facebook-cover": (1640, 624), "marketplace": (1024, 1024)}
    layouts = r.json()["layouts"]
    assert [lay["key"] for lay in layouts] == list(LAYOUTS)
    assert all(lay["label"] and lay["description"] for lay in layouts)


def test_the_openapi_schema_has_the_poster_routes(svc, shop):
    paths = shop.client.get("/openapi.json").json()["paths"]
    assert set(paths[BASE]) >= {"get", "post"}
    assert "get" in paths[f"{BASE}/options"] and "get" in paths[f"{BASE}/export"]
    assert set(paths[f"{BASE}/{{poster_id}}"]) >= {"get", "delete"}


def test_finished_photos_and_previews_are_the_owners_only(svc, shop):
    other = Shop(svc, "budi", results=1)
    with svc.session() as s:
        me = s.get(User, shop.user.id)
        photos = service.finished_photos(s, user=me)
        assert [p.id for p in photos] == shop.results and photos[0].product_name == shop.product.name
        assert photos[0].brand_kit_id == shop.kit.id
        asked = service.finished_photos(s, user=me, ids=[shop.results[1], other.results[0], 10**20])
        assert [p.id for p in asked] == [shop.results[1]]
        text = PosterText("Serum", "Rp 89.000", "Beli sekarang!")
        shots = service.previews(s, user=me, store=svc.store, result_id=shop.results[0], brand_kit_id=None,
                                        text=text, format="story", layouts=["promo", "minimal"], max_side=200)
        assert list(shots) == ["promo", "minimal"]
        assert Image.open(io.BytesIO(shots["promo"])).size == (112, 200)
        sample = service.previews(s, user=me, store=svc.store, result_id=None, brand_kit_id=None, text=text,
                                         format="instagram-post", layouts=list(LAYOUTS))
        assert len(sample) == 5
        with pytest.raises(Exception, match="not found"):
            service.previews(s, user=me, store=svc.store, result_id=other.results[0], brand_kit_id=None,
                                    text=text, format="story", layouts=["promo"])
    assert poster_rows(svc) == [] and poster_files(svc) == set()
