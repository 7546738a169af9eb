"""Credits: the ledger and the balance move together, in the action's own transaction; not enough
credits is a 402 that changes nothing; idempotent charges; admin-only grants; and concurrent charges
never overspend."""
from __future__ import annotations

import threading

import pytest
import sqlalchemy as sa
from fastapi.testclient import TestClient
from sqlmodel import select

from api import create_api
from core.catalog import brand_kits
from core.accounts import credits
from core.catalog.brand_kits import BrandKitCreate
from core.errors import Forbidden, InsufficientCredits, ValidationFailed
from services import Services
from db.models import BrandKit, CreditLedger, User

PASSWORD = "correct horse battery"


def kit(name: str = "Kopi Senja", **extra) -> BrandKitCreate:
    return BrandKitCreate(brandName=name, colors=["#112233"], fonts=["Poppins"], **extra)


def ledger(services, user_id: int) -> list[CreditLedger]:
    with services.session() as s:
        return list(s.exec(select(CreditLedger).where(CreditLedger.user_id == user_id).order_by(CreditLedger.id)))


def balance(services, user_id: int) -> int:
    with services.session() as s:
        return credits.balance(s, user_id=user_id)


def kit_count(services, user_id: int) -> int:
    with services.session() as s:
        return len(list(s.exec(select(BrandKit.id).where(BrandKit.user_id == user_id))))


def test_charge_refund_and_grant_write_ledger_rows_and_move_the_balance(services, make_user):
    user = make_user(password=None)
    admin = make_user(role="admin", password=None)
    (start,) = ledger(services, user.id)  # a new account starts with STARTING_CREDITS, on the ledger too
    assert (start.delta, start.balance_after, start.action, start.app_id) == (1000, 1000, "startingCredits", "system")
    with services.session() as s:
        row = credits.charge(s, user_id=user.id, app_id="brand-kit", action="createBrandKit", ref_type="brand_kit",
                             ref_id=42)
        s.commit()
        assert (row.delta, row.balance_after) == (-5, 995)
        row = credits.charge(s, user_id=user.id, app_id="pose-generator", action="generatePose", quantity=3)
        s.commit()
        assert (row.delta, row.balance_after) == (-30, 965)
        row = credits.refund(s, user_id=user.id, app_id="pose-generator", action="generatePose", amount=10,
                             note="one pose failed")
        s.commit()
        assert (row.delta, row.balance_after, row.action) == (10, 975, "refund:generatePose")
        row = credits.grant(s, admin=s.get(User, admin.id), user_id=user.id, amount=25, note="beta tester")
        assert (row.delta, row.balance_after, row.action, row.ref_id) == (25, 1000, "grant", admin.id)

        # Only an admin grants, and only a sane amount.
        with pytest.raises(Forbidden):
            credits.grant(s, admin=s.get(User, user.id), user_id=user.id, amount=100)
        for amount in (0, -5, 1_000_001):
            with pytest.raises(ValidationFailed):
                credits.grant(s, admin=s.get(User, admin.id), user_id=user.id, amount=amount)
        s.rollback()
    assert balance(services, user.id) == 1000
    rows = ledger(services, user.id)
    assert [r.delta for r in rows] == [1000, -5, -30, 10, 25]
    assert [r.balance_after for r in rows] == [1000, 995, 965, 975, 1000]
    assert rows[1].ref_type == "brand_kit" and rows[1].ref_id == 42
    assert rows[3].note == "one pose failed"
    assert sum(r.delta for r in rows) == balance(services, user.id)  # the balance is the ledger's sum
    with services.session() as s:
        assert [r.delta for r in credits.history(s, user_id=user.id, limit=2)] == [25, 10]


def test_not_enough_credits_is_402_and_changes_nothing(services, make_user):
    user = make_user(password=None, credits=3)
    with services.session() as s:
        with pytest.raises(InsufficientCredits) as err:
            credits.charge(s, user_id=user.id, app_id="brand-kit", action="createBrandKit")
        s.commit()
    assert err.value.status == 402
    assert "5" in err.value.message and "3" in err.value.message
    assert err.value.code == "credits.not_enough" and err.value.params == {"need": 5, "have": 3}
    assert balance(services, user.id) == 3
    assert [r.action for r in ledger(services, user.id)] == ["startingCredits"]

    # The action the charge pays for is not done either: no kit.
    with services.session() as s:
        with pytest.raises(InsufficientCredits):
            brand_kits.create(s, user=s.get(User, user.id), data=kit())
    assert kit_count(services, user.id) == 0
    assert balance(services, user.id) == 3
    assert [r.action for r in ledger(services, user.id)] == ["startingCredits"]

    # A charge rolled back with its transaction (the action failed after charging) leaves nothing.
    with services.session() as s:
        credits.charge(s, user_id=user.id, app_id="brand-kit", action="deleteBrandKit")
        s.rollback()
    assert balance(services, user.id) == 3 and len(ledger(services, user.id)) == 1

    # Exactly enough reaches zero, never below.
    with services.session() as s:
        s.execute(sa.update(User).where(User.id == user.id).values(credits=5))
        s.commit()
        brand_kits.create(s, user=s.get(User, user.id), data=kit())
    assert balance(services, user.id) == 0
    assert kit_count(services, user.id) == 1


def test_idempotency_key_charges_once(services, make_user):
    user = make_user(password=None)
    with services.session() as s:
        first = credits.charge(s, user_id=user.id, app_id="pose-generator", action="generatePose",
                               idempotency_key="gen:1:pose:7")
        s.commit()
    with services.session() as s:  # the job ran twice
        again = credits.charge(s, user_id=user.id, app_id="pose-generator", action="generatePose",
                               idempotency_key="gen:1:pose:7")
        s.commit()
    assert again.id == first.id
    assert balance(services, user.id) == 990
    assert [r.idempotency_key for r in ledger(services, user.id)].count("gen:1:pose:7") == 1
    with services.session() as s:  # a different key is a different charge
        credits.charge(s, user_id=user.id, app_id="pose-generator", action="generatePose",
                       idempotency_key="gen:1:pose:8")
        s.commit()
    assert balance(services, user.id) == 980


def test_unknown_price_is_a_programming_error():
    with pytest.raises(KeyError):
        credits.cost("brand-kit", "makeCoffee")
    assert credits.cost("brand-kit", "createBrandKit") == 5
    assert credits.cost("brand-kit", "updateBrandKit") == 2
    assert credits.cost("brand-kit", "deleteBrandKit") == 1
    assert credits.cost("brand-kit", "uploadLogo") == 3


# --------------------------------------------------------------------------- REST


@pytest.fixture
def client(make_settings, db_url):
    services = Services.build(make_settings(auth="password", database_url=db_url), migrate=False, runner=False)
    with TestClient(create_api(services)) as c:
        yield c
    services.close()


def bearer(client, username: str) -> dict:
    r = client.post("/api/auth/login", json={"username": username, "password": PASSWORD})
    assert r.status_code == 200, r.text
    return {"Authorization": f"Bearer {r.json()['token']}"}


def test_rest_balance_history_and_admin_grant(client, make_user):
    admin, user = make_user(role="admin"), make_user()
    as_admin, as_user = bearer(client, admin.username), bearer(client, user.username)

    r = client.get("/api/credits", headers=as_user)
    assert r.status_code == 200
    body = r.json()
    assert body["balance"] == 1000
    assert body["costs"]["brand-kit"] == {"createBrandKit": 5, "updateBrandKit": 2, "deleteBrandKit": 1,
                                          "uploadLogo": 3}
    assert body["history"][0]["action"] == "startingCredits" and body["history"][0]["balanceAfter"] == 1000

    r = client.post("/api/credits/grant", json={"username": user.username, "amount": 250}, headers=as_user)
    assert r.status_code == 403
    assert r.json()["kind"] == "forbidden" and r.json()["code"] == "auth.admins_only" and r.json()["detail"]
    assert client.get("/api/credits", headers=as_user).json()["balance"] == 1000

    r = client.post("/api/credits/grant", json={"username": user.username, "amount": 250, "note": "launch"},
                    headers=as_admin)
    assert r.status_code == 200
    assert r.json() == {"username": user.username, "balance": 1250}
    mine = client.get("/api/credits", headers=as_user).json()
    assert mine["balance"] == 1250
    assert mine["history"][0]["delta"] == 250 and mine["history"][0]["note"] == "launch"

    r = client.post("/api/credits/grant", json={"username": "nobody-here", "amount": 5}, headers=as_admin)
    assert r.status_code == 404
    r = client.post("/api/credits/grant", json={"username": user.username, "amount": 0}, headers=as_admin)
    assert r.status_code == 422 and r.json()["field"] == "amount"
    assert client.post("/api/credits/grant", json={"username": user.username, "amount": 5}).status_code == 401


# --------------------------------------------------------------------------- concurrency


def concurrent_creates(services, user_id: int, n: int) -> tuple[int, int, list[BaseException]]:
    """n threads, each with its own session and transaction, create a brand kit at the same moment."""
    barrier = threading.Barrier(n)
    ok, short, other = [], [], []

    def worker(i: int):
        with services.session() as s:
            user = s.get(User, user_id)
            s.commit()  # start the race with no transaction open
            barrier.wait()
            try:
                brand_kits.create(s, user=user, data=kit(f"Kit {i}"))
                ok.append(i)
            except InsufficientCredits:
                short.append(i)
            except BaseException as exc:  # noqa: BLE001
                other.append(exc)

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(120)
    return len(ok), len(short), other


def test_fifty_concurrent_charges_never_overspend(services):
    """50 threads (each its own session and transaction; as many at once as the pool's 30 connections
    allow) create a kit at 5 credits against a balance of 50: exactly 10 succeed. Once for a user who
    has a default kit, once for a user whose first kits these are (the first-kit-is-default race)."""
    from core.accounts import users

    for name, has_kit in (("racer", True), ("newcomer", False)):
        with services.session() as s:
            user = users.create_user(s, username=name, password=None, settings=services.settings)
            if has_kit:
                brand_kits.create(s, user=user, data=kit("Existing"))
            s.execute(sa.update(User).where(User.id == user.id).values(credits=50))
            s.commit()
        before = len(ledger(services, user.id))

        succeeded, refused, errors = concurrent_creates(services, user.id, 50)

        assert errors == [], name
        assert (succeeded, refused) == (10, 40), name
        assert balance(services, user.id) == 0
        charges = ledger(services, user.id)[before:]
        assert len(charges) == 10 and all(r.delta == -5 for r in charges)
        assert sorted(r.balance_after for r in charges) == [0, 5, 10, 15, 20, 25, 30, 35, 40, 45]
        assert kit_count(services, user.id) == 10 + has_kit
        with services.session() as s:
            defaults = s.exec(select(BrandKit).where(BrandKit.user_id == user.id, BrandKit.is_default.is_(True)))
            assert len(list(defaults)) == 1, name
