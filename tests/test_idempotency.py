"""Uploads that charge are safe against a double click and a retried request (issue 16): the same submit token
(REST: the Idempotency-Key header) answers with the first result and charges once, also when both requests
run at the same time; nothing of the losing request stays in the database or on disk."""
from __future__ import annotations

import threading

import pytest
from sqlmodel import func, select

from db.models import Avatar, CreditLedger, Product
from tests.test_avatars_api import app, login, new_kit, settings, two_colour_png  # noqa: F401 - fixtures

AVATARS = "/api/apps/avatar-manager/avatars"
PRODUCTS = "/api/apps/product-manager/products"


def count(services, model) -> int:
    with services.session() as s:
        return s.exec(select(func.count()).select_from(model)).one()


def charges(services, action: str) -> int:
    with services.session() as s:
        return s.exec(select(func.count()).select_from(CreditLedger).where(CreditLedger.action == action)).one()


def stored_files(services) -> set[str]:
    root = services.settings.storage_dir
    return {p.relative_to(root).as_posix() for p in root.rglob("*") if p.is_file() and "cache" not in p.parts}


def post_avatar(client, kit: int, key: str | None, name="Aisyah"):
    headers = {"Idempotency-Key": key} if key else {}
    return client.post(AVATARS, data={"brandKitId": str(kit), "name": name}, headers=headers,
                       files={"file": ("a.png", two_colour_png(), "image/png")})


def test_a_repeated_avatar_upload_answers_with_the_first_and_charges_once(login, services):
    a = login()
    kit = new_kit(a)
    first = post_avatar(a, kit, "submit-1")
    files = stored_files(services)
    again = post_avatar(a, kit, "submit-1", name="Something else")
    assert first.status_code == again.status_code == 201
    assert again.json() == first.json()
    assert count(services, Avatar) == 1 and charges(services, "uploadAvatar") == 1
    assert stored_files(services) == files                      # the repeat wrote nothing
    other = post_avatar(a, kit, "submit-2")                    # a new submit is a new avatar
    assert other.status_code == 201 and other.json()["id"] != first.json()["id"]
    assert post_avatar(a, kit, None).status_code == 201          # no key: every request counts
    assert count(services, Avatar) == 3 and charges(services, "uploadAvatar") == 3


def test_the_same_key_from_another_user_is_their_own_request(login, services):
    a, b = login(), login()
    ra, rb = post_avatar(a, new_kit(a), "same"), post_avatar(b, new_kit(b), "same")
    assert ra.status_code == rb.status_code == 201 and ra.json()["id"] != rb.json()["id"]
    assert charges(services, "uploadAvatar") == 2


def test_two_identical_requests_at_once_make_one_avatar_one_charge_and_no_stray_file(login, services):
    a = login()
    kit = new_kit(a)
    answers, start = [], threading.Barrier(2)

    def send():
        start.wait()
        answers.append(post_avatar(a, kit, "double-click"))

    threads = [threading.Thread(target=send) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert [r.status_code for r in answers] == [201, 201], [r.text for r in answers]
    assert answers[0].json()["id"] == answers[1].json()["id"]
    assert count(services, Avatar) == 1 and charges(services, "uploadAvatar") == 1
    with services.session() as s:
        avatar = s.exec(select(Avatar)).one()
    assert stored_files(services) == {avatar.image_path, avatar.thumbnail_path, avatar.face_path}   # loser: none


def test_product_uploads_single_and_bulk_are_idempotent(login, services):
    a = login()
    headers = {"Idempotency-Key": "p-1"}
    one = a.post(PRODUCTS, headers=headers, files={"file": ("serum.png", two_colour_png(), "image/png")})
    two = a.post(PRODUCTS, headers=headers, files={"file": ("serum.png", two_colour_png(), "image/png")})
    assert one.status_code == two.status_code == 201 and one.json()["id"] == two.json()["id"]
    assert count(services, Product) == 1 and charges(services, "uploadProduct") == 1
    files = [("files", (f"p{i}.png", two_colour_png(), "image/png")) for i in range(2)]
    bulk = a.post(f"{PRODUCTS}/bulk", headers={"Idempotency-Key": "b-1"}, files=files)
    repeat = a.post(f"{PRODUCTS}/bulk", headers={"Idempotency-Key": "b-1"}, files=files)
    assert bulk.status_code == repeat.status_code == 207
    assert bulk.json()["created"] == 2 and repeat.json() == {"created": 0, "rejected": 0, "files": [],
                                                             "creditsCharged": 0, "repeat": True}
    assert count(services, Product) == 3 and charges(services, "bulkUpload") == 1


@pytest.mark.parametrize("key", ["x" * 101, "tab\there"])
def test_a_malformed_key_is_refused_naming_the_limit(login, services, key):
    a = login()
    r = post_avatar(a, new_kit(a), key)
    assert r.status_code == 422 and "100" in r.text and "Traceback" not in r.text
    assert count(services, Avatar) == 0
