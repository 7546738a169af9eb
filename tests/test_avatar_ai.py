"""AI avatars over REST with ENGINE=tiny (the real diffusers classes at toy size), on SQLite and Postgres,
with real accounts: generate 4 candidates (charged generateAvatarAI once), choose one (an ai_generated
avatar with its prompt, free; the set's files go), seeds reproduce pixels, another user can neither see
nor choose my candidates, and missing weights give a 503 that says what to do and takes no credits."""
from __future__ import annotations

import io

import numpy as np
import pytest
from fastapi.testclient import TestClient
from PIL import Image
from sqlmodel import select

from api import create_api
from core.catalog import avatar_ai
from db.models import Avatar, CreditLedger

BASE = "/api/apps/avatar-manager"
GEN = f"{BASE}/avatars/generate"


@pytest.fixture
def settings(make_settings, db_url, tiny_engine_values):
    return make_settings(database_url=db_url, auth="password", **tiny_engine_values, engine_batch_size=2,
                         engine_steps=2)  # a few steps: the tests are about the flow, not the look


@pytest.fixture
def app(services):
    return create_api(services)


@pytest.fixture
def login(app, make_user, services):
    from core.accounts import users

    def make(username: str | None = None, credits: int | None = None) -> TestClient:
        user = make_user(username, password=None, credits=credits)
        with services.session() as s:
            token = users.issue_token(s, user=user, settings=services.settings)
        client = TestClient(app)
        client.headers["Authorization"] = f"Bearer {token}"
        client.user = user
        return client
    return make


def new_kit(client: TestClient) -> int:
    r = client.post("/api/apps/brand-kit/kits", json={"brandName": "Toko", "colors": ["#112233"], "fonts": ["Poppins"]})
    assert r.status_code == 201, r.text
    return r.json()["id"]


def balance(client: TestClient) -> int:
    r = client.get("/api/credits")
    assert r.status_code == 200, r.text
    return r.json()["balance"]


def pixels(client: TestClient, url: str) -> np.ndarray:
    r = client.get(url)
    assert r.status_code == 200, r.text
    with Image.open(io.BytesIO(r.content)) as im:
        return np.asarray(im.convert("RGB"))


def candidate_keys(services) -> list[str]:
    return [k for k in services.store.all_keys() if f"/{avatar_ai.KIND}/" in k]


ASK = {"text": "smiling batik seller", "gender": "female", "ageRange": "25-34", "style": "modest-hijab", "seed": 42}


def test_generate_four_then_choose_one(login, services):
    a = login("siti")
    kit = new_kit(a)
    before = balance(a)
    r = a.post(GEN, json=ASK)
    assert r.status_code == 200, r.text
    body = r.json()
    assert [c["seed"] for c in body["candidates"]] == [42, 43, 44, 45]
    assert "hijab" in body["prompt"] and body["negativePrompt"] and body["creditsCharged"] == 20
    assert (body["width"], body["height"]) == (64, 96)  # the tiny engine's portrait preset
    keys = [c["key"] for c in body["candidates"]]
    assert sorted(keys) == candidate_keys(services) and all(k.startswith(f"u{a.user.id}/") for k in keys)
    for c in body["candidates"]:
        assert c["url"] == f"/api/files/{c['key']}" and pixels(a, c["url"]).shape == (96, 64, 3)
    assert balance(a) == before - 20
    chosen_pixels = pixels(a, body["candidates"][1]["url"])

    r = a.post(f"{GEN}/choose", json={"candidateKey": keys[1], "brandKitId": kit, "name": "Sari",
                                      "gender": "female", "style": "modest-hijab"})
    assert r.status_code == 201, r.text
    avatar = r.json()
    assert avatar["sourceType"] == "ai_generated" and avatar["generationPrompt"] == body["prompt"]
    assert (avatar["name"], avatar["brandKitId"], avatar["gender"], avatar["style"]) == \
           ("Sari", kit, "female", "modest-hijab")
    assert (avatar["width"], avatar["height"]) == (64, 96)
    kept = pixels(a, avatar["imageUrl"]).astype(int)
    assert np.abs(kept - chosen_pixels.astype(int)).mean() < 8  # the chosen image (re-encoded by the intake)
    assert a.get(avatar["thumbnailUrl"]).status_code == 200
    assert candidate_keys(services) == []  # the whole set is gone, the chosen one included
    assert balance(a) == before - 20  # choosing is free
    with services.session() as s:
        rows = s.exec(select(CreditLedger).where(CreditLedger.user_id == a.user.id,
                                                 CreditLedger.action == "generateAvatarAI")).all()
        assert [row.delta for row in rows] == [-20]
        (row,) = s.exec(select(Avatar)).all()
        assert row.source_type == "ai_generated" and row.generation_prompt == body["prompt"]
    # the stored avatar carries none of the candidate's text chunks
    with Image.open(services.store.path(row.image_path)) as im:
        assert not getattr(im, "text", {})
    # choosing again: the candidate is gone, nothing is made or charged
    r = a.post(f"{GEN}/choose", json={"candidateKey": keys[1], "brandKitId": kit, "name": "Sari 2"})
    assert r.status_code == 404 and "Generate again" in r.json()["detail"]
    r = a.post(f"{GEN}/choose", json={"candidateKey": keys[2], "brandKitId": kit, "name": "Sari 3"})
    assert r.status_code == 404
    assert balance(a) == before - 20 and a.get(f"{BASE}/avatars").json()["total"] == 1
    assert a.get(f"{BASE}/stats").json()["bySource"] == {"ai_generated": 1}


def test_same_seeds_give_the_same_pixels(login, services):
    a = login()
    first = a.post(GEN, json={**ASK, "seed": 7, "count": 3}).json()["candidates"]
    again = a.post(GEN, json={**ASK, "seed": 7, "count": 3}).json()["candidates"]
    other = a.post(GEN, json={**ASK, "seed": 8, "count": 1}).json()["candidates"]
    assert [c["seed"] for c in first] == [c["seed"] for c in again] == [7, 8, 9]
    assert {c["key"] for c in first}.isdisjoint(c["key"] for c in again)
    for x, y in zip(first, again):
        assert np.array_equal(pixels(a, x["url"]), pixels(a, y["url"]))
    # the image of seed 8 is the same whether it came second in a set of 3 or alone
    assert np.array_equal(pixels(a, first[1]["url"]), pixels(a, other[0]["url"]))
    assert not np.array_equal(pixels(a, first[0]["url"]), pixels(a, first[1]["url"]))
    assert len(candidate_keys(services)) == 7


def test_another_user_can_neither_see_nor_choose_my_candidates(login, services):
    a, b = login("siti"), login("budi")
    kit_a, kit_b = new_kit(a), new_kit(b)
    cands = a.post(GEN, json=ASK).json()["candidates"]
    key = cands[0]["key"]
    b_before, files = balance(b), candidate_keys(services)
    assert b.get(cands[0]["url"]).status_code == 404
    for body in ({"candidateKey": key, "brandKitId": kit_b, "name": "Stolen"},
                 {"candidateKey": key.replace(f"u{a.user.id}/", f"u{b.user.id}/"), "brandKitId": kit_b,
                  "name": "Forged"},
                 {"candidateKey": "../" + key, "brandKitId": kit_b, "name": "Dots"}):
        r = b.post(f"{GEN}/choose", json=body)
        assert r.status_code == 404, r.text
    assert b.post(f"{GEN}/discard", json={"candidateKey": key}).status_code == 404
    assert balance(b) == b_before and candidate_keys(services) == files
    # my candidate into someone else's brand kit: not found either, and the candidate stays for a retry
    r = a.post(f"{GEN}/choose", json={"candidateKey": key, "brandKitId": kit_b, "name": "Sari"})
    assert r.status_code == 404 and candidate_keys(services) == files
    r = a.post(f"{GEN}/choose", json={"candidateKey": key, "brandKitId": kit_a, "name": "Sari"})
    assert r.status_code == 201 and candidate_keys(services) == []
    assert b.get(f"{BASE}/avatars").json()["total"] == 0


def test_discard_deletes_the_set_without_a_refund(login, services):
    a = login()
    cands = a.post(GEN, json={**ASK, "count": 2}).json()["candidates"]
    before = balance(a)
    assert a.post(f"{GEN}/discard", json={"candidateKey": cands[1]["key"]}).status_code == 204
    assert candidate_keys(services) == [] and balance(a) == before


def test_bad_requests_are_refused_before_any_work(login, services):
    a = login()
    before = balance(a)
    for body, field in (({"text": "  "}, "text"), ({"text": "x", "count": 5}, "count"),
                        ({"text": "x", "count": 0}, "count"), ({"text": "x", "size": "poster"}, "size"),
                        ({"text": "x", "gender": "robot"}, "gender"), ({"text": "x" * 501}, "text")):
        r = a.post(GEN, json=body)
        assert r.status_code == 422, (body, r.text)
        assert field in r.text, (body, r.text)
    assert balance(a) == before and candidate_keys(services) == []


def test_too_few_credits_is_402_and_nothing_is_kept(login, services):
    a = login(credits=19)
    r = a.post(GEN, json=ASK)
    assert r.status_code == 402 and "needs 20 credits and you have 19" in r.json()["detail"]
    assert balance(a) == 19 and candidate_keys(services) == []


def test_missing_weights_are_a_503_that_takes_nothing(make_settings, db_url, tmp_path, make_user):
    from core.accounts import users
    from services import Services

    empty = tmp_path / "empty-hf"
    empty.mkdir()
    settings = make_settings(database_url=db_url, auth="password", engine="sd15",
                             sd15_base_model="acme/no-such-model", hf_cache_dir=empty, model_dir=tmp_path / "models",
                             model_downloads=False)
    services = Services.build(settings, migrate=False, runner=False)
    try:
        with services.session() as s:
            user = users.create_user(s, username="siti", password=None, settings=settings)
            token = users.issue_token(s, user=user, settings=settings)
        client = TestClient(create_api(services))
        client.headers["Authorization"] = f"Bearer {token}"
        before = balance(client)
        r = client.post(GEN, json=ASK)
        assert r.status_code == 503, r.text
        body = r.json()
        assert body["kind"] == "model_unavailable"
        assert "acme/no-such-model" in body["detail"] and "MODEL_DOWNLOADS=false" in body["detail"]
        assert balance(client) == before
        assert [k for k in services.store.all_keys() if avatar_ai.KIND in k] == []
    finally:
        services.close()
