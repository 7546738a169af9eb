"""The seed's API as written (issue 19), on SQLite and Postgres with AUTH=password: the request bodies a client
written from the seed's endpoint table sends — fonts as {family, weights} objects, a kit without fonts, ageRange
young / adult / mature, ethnicity asian / caucasian / mixed, placement hand-held, difficulty simple / complex,
poseDistribution {standing, walking, sitting} — are accepted and stored in our vocabulary; what the seed's schema
tracks (a result's exported / exportCount / usedInPosters, a generation's provider / modelId / basePrompt) is
there after a real batch, export and poster; and the README's mapping table is core.seed_vocabulary's."""
from __future__ import annotations

import re
from pathlib import Path

import pytest
import sqlalchemy as sa
from fastapi.testclient import TestClient

from api import create_api
from core.accounts import users
from core.seed_vocabulary import ALIASES
from db.models import GeneratedPose, PoseTemplate
from tests.batch_support import WAIT, services_factory
from tests.factories import photo, ready_shop

GEN = "/api/apps/pose-generator"
ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture
def make_svc(make_settings, db_url, tiny_engine_values):
    make, close_all = services_factory(make_settings, db_url, tiny_engine_values, runner_default=True, auth="password")
    yield make
    close_all()


def client_of(svc, user) -> TestClient:
    with svc.session() as s:
        token = users.issue_token(s, user=user, settings=svc.settings)
    c = TestClient(create_api(svc))
    c.headers["Authorization"] = f"Bearer {token}"
    return c


def test_the_seeds_catalog_bodies_are_accepted_and_stored_in_our_words(make_svc):
    svc = make_svc(runner=False)
    shop = ready_shop(svc, "siti")
    c = client_of(svc, shop.user)

    # brand kits: the seed's font objects, and no fonts at all
    r = c.post("/api/apps/brand-kit/kits", json={
        "brandName": "Kopi Nusantara", "colors": ["#6F4E37", "#F5DEB3"], "tone": "friendly",
        "fonts": [{"family": "Poppins", "weights": [400, 700]}, {"family": "Dancing Script", "weights": [400]}]})
    assert r.status_code == 201, r.text
    kit = r.json()
    assert kit["fonts"] == ["Poppins", "Dancing Script"]
    assert kit["fontFaces"][0] == {"family": "Poppins", "weights": [400, 700]}
    r = c.post("/api/apps/brand-kit/kits", json={"brandName": "Batik Sari", "colors": ["#AA3355"]})
    assert r.status_code == 201, r.text
    assert r.json()["fonts"] == ["Poppins"] and r.json()["fontFaces"][0]["family"] == "Poppins"
    r = c.patch(f"/api/apps/brand-kit/kits/{kit['id']}", json={"fonts": [{"family": "Montserrat", "weights": [700]}]})
    assert r.status_code == 200 and r.json()["fonts"] == ["Montserrat"], r.text
    for fonts, says in (([{"family": "Poppins", "weights": [450]}], "100 to 900"),
                        ([{"name": "Poppins"}], '"family"'),
                        ([{"family": "Comic Sans", "weights": [400]}], "not one of our fonts")):
        r = c.post("/api/apps/brand-kit/kits", json={"brandName": "X", "colors": ["#000000"], "fonts": fonts})
        assert r.status_code == 422 and says in r.json()["detail"], r.text

    # avatars: the seed's age bands and ethnicities, on upload and as list filters
    seen = {}
    for age, ethnicity, ours in (("young", "asian", ("18-24", "southeast-asian")),
                                 ("adult", "caucasian", ("25-34", "white")),
                                 ("mature", "mixed", ("45-54", "mixed"))):
        r = c.post("/api/apps/avatar-manager/avatars",
                   data={"brandKitId": str(kit["id"]), "name": f"Model {age}", "gender": "female",
                         "ageRange": age, "ethnicity": ethnicity},
                   files={"file": (f"{age}.png", photo((190, 160, 140)), "image/png")})
        assert r.status_code == 201, r.text
        assert (r.json()["ageRange"], r.json()["ethnicity"]) == ours
        seen[age] = r.json()["id"]
    listed = c.get("/api/apps/avatar-manager/avatars", params={"ageRange": "mature"}).json()
    assert [a["id"] for a in listed["items"]] == [seen["mature"]]
    r = c.post("/api/apps/avatar-manager/avatars", data={"brandKitId": str(kit["id"]), "ageRange": "elderly"},
               files={"file": ("x.png", photo((10, 10, 10)), "image/png")})
    assert r.status_code == 422 and "18-24" in r.text

    # products: hand-held
    r = c.post("/api/apps/product-manager/products",
               data={"name": "Serum", "productType": "bottle", "placement": "hand-held",
                     "brandKitId": str(kit["id"])},
               files={"file": ("serum.png", photo((30, 120, 200)), "image/png")})
    assert r.status_code == 201 and r.json()["placement"] == "hand-right", r.text

    # the library: the seed's difficulty words and pose kinds as filters
    with svc.session() as s:
        easy_standing = s.execute(sa.select(sa.func.count()).select_from(PoseTemplate).where(
            PoseTemplate.category == "fashion-standing", PoseTemplate.difficulty == "easy",
            PoseTemplate.is_active.is_(True))).scalar_one()
    assert easy_standing > 0
    page = c.get(f"{GEN}/templates", params={"category": "standing", "difficulty": "simple", "limit": 200}).json()
    assert page["total"] == easy_standing
    assert {(t["category"], t["difficulty"]) for t in page["items"]} == {("fashion-standing", "easy")}
    hard = c.get(f"{GEN}/templates", params={"difficulty": "complex", "limit": 1}).json()
    assert hard["total"] > 0 and hard["items"][0]["difficulty"] == "hard"


def test_a_seed_batch_records_what_the_seeds_schema_tracks(make_svc):
    svc = make_svc()
    shop = ready_shop(svc, "siti")
    other = ready_shop(svc, "budi")
    c, o = client_of(svc, shop.user), client_of(svc, other.user)
    body = {"brandKitId": shop.kit.id, "avatarId": shop.avatar.id, "productId": shop.product.id,
            "poseDistribution": {"standing": 2, "sitting": 1, "fashion-standing": 1}, "seed": 7}
    r = c.post(f"{GEN}/generate", json=body)
    assert r.status_code == 202, r.text
    gid = r.json()["id"]
    assert r.json()["totalPoses"] == 4
    svc.runner.wait_idle(timeout=WAIT)

    g = next(item for item in c.get(f"{GEN}/generations").json()["items"] if item["id"] == gid)
    assert g["status"] == "completed" and g["completedCount"] == 4, g
    assert g["provider"] == "local" and g["modelId"]   # the tiny engine's base model folder
    with svc.session() as s:
        rows = list(s.exec(sa.select(GeneratedPose).where(GeneratedPose.generation_id == gid)).scalars())
        cats = sorted(s.get(PoseTemplate, p.template_id).category for p in rows)
    assert cats == ["fashion-standing"] * 3 + ["sitting"]
    assert all(p.prompt.startswith(g["basePrompt"].split(",")[0]) for p in rows)

    items = c.get(f"{GEN}/results/{gid}").json()["items"]
    assert all(i["outputUrl"] == i["imageUrl"] and i["outputUrl"] for i in items)
    assert all((i["exported"], i["exportCount"], i["usedInPosters"], i["posterCount"]) == (False, 0, False, 0)
               for i in items)

    first, second = items[0]["id"], items[1]["id"]
    assert c.get(f"{GEN}/results/{gid}/export", params={"ids": f"{first},{second}"}).status_code == 200
    assert c.get(f"{GEN}/results/{first}/download").status_code == 200
    assert o.get(f"{GEN}/results/{first}/download").status_code == 404   # another user's: not found, not counted
    by_id = {i["id"]: i for i in c.get(f"{GEN}/results/{gid}").json()["items"]}
    assert (by_id[first]["exported"], by_id[first]["exportCount"]) == (True, 2)
    assert (by_id[second]["exported"], by_id[second]["exportCount"]) == (True, 1)
    assert not any(by_id[i["id"]]["exported"] for i in items[2:])

    r = c.post(f"{GEN}/posters", json={"resultIds": [first], "formats": ["instagram-post", "story"],
                                       "layouts": ["clean-frame"]})
    assert r.status_code == 201, r.text
    posters = r.json()
    by_id = {i["id"]: i for i in c.get(f"{GEN}/results/{gid}").json()["items"]}
    assert (by_id[first]["usedInPosters"], by_id[first]["posterCount"]) == (True, 2)
    assert o.delete(f"{GEN}/posters/{posters[0]['id']}").status_code == 404
    for p in posters:
        assert c.delete(f"{GEN}/posters/{p['id']}").status_code == 204
    by_id = {i["id"]: i for i in c.get(f"{GEN}/results/{gid}").json()["items"]}
    assert (by_id[first]["usedInPosters"], by_id[first]["posterCount"]) == (False, 0)


def test_the_readme_documents_every_alias():
    text = (ROOT / "README.md").read_text()
    section = text.split("### The seed's API", 1)[1].split("\n#", 1)[0]
    rows = set(re.findall(r"^\| `([^`]+)` \| `([^`]+)` \| `([^`]+)` \|", section, re.M))
    assert rows == {(field, seed, ours) for field, words in ALIASES.items() for seed, ours in words.items()}
