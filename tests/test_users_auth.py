"""Users and sign-in: hashed passwords, one message for every failed sign-in, REST tokens (login, bearer,
expiry, logout), AUTH=none as the local admin, and the create-user command line."""
from __future__ import annotations

import os
import subprocess
import sys
from datetime import timedelta
from pathlib import Path

import pytest
import sqlalchemy as sa
from fastapi.testclient import TestClient
from sqlmodel import select

from api import create_api
from core.accounts import users
from core.errors import Conflict, Unauthorized, ValidationFailed
from services import Services
from db.models import ApiToken, User, utcnow

ROOT = Path(__file__).resolve().parent.parent
PASSWORD = "correct horse battery"


# --------------------------------------------------------------------------- core


def test_passwords_are_hashed_with_argon2_and_names_are_unique(services):
    with services.session() as s:
        user = users.create_user(s, username="sari", password=PASSWORD, settings=services.settings)
        row = s.exec(select(User).where(User.username == "sari")).one()
        assert row.password_hash != PASSWORD and PASSWORD not in row.password_hash
        assert row.password_hash.startswith("$argon2id$")
        assert (row.role, row.credits, row.is_active) == ("user", 1000, True)

        with pytest.raises(Conflict) as err:
            users.create_user(s, username="sari", password="another password", settings=services.settings)
        assert err.value.status == 409 and err.value.field == "username" and "sari" in err.value.message
        for name, password, field in (("ab", PASSWORD, "username"), ("../etc", PASSWORD, "username"),
                                      ("budi", "short", "password")):
            with pytest.raises(ValidationFailed) as err:
                users.create_user(s, username=name, password=password, settings=services.settings)
            assert err.value.field == field
        with pytest.raises(ValidationFailed):
            users.create_user(s, username="budi", password=PASSWORD, settings=services.settings, role="root")
        assert [u.username for u in users.list_users(s)] == ["sari"]

        assert users.authenticate(s, username="sari", password=PASSWORD).id == user.id
        messages = set()
        for name, password in (("sari", "wrong password"), ("nobody", PASSWORD)):
            with pytest.raises(Unauthorized) as err:
                users.authenticate(s, username=name, password=password)
            assert err.value.status == 401
            messages.add(err.value.message)
        assert messages == {"Wrong username or password."}  # an unknown name is not revealed

        # A deactivated account cannot sign in, with the same message.
        s.execute(sa.update(User).where(User.id == user.id).values(is_active=False))
        s.commit()
        with pytest.raises(Unauthorized, match="^Wrong username or password.$"):
            users.authenticate(s, username="sari", password=PASSWORD)


# --------------------------------------------------------------------------- REST, AUTH=password


@pytest.fixture
def settings(make_settings, db_url):
    return make_settings(auth="password", database_url=db_url)


@pytest.fixture
def client(services):
    with TestClient(create_api(services)) as c:
        yield c


def test_login_then_bearer_token_then_logout(client, services, make_user):
    user = make_user("dewi", role="admin")
    r = client.post("/api/auth/login", json={"username": "dewi", "password": PASSWORD})
    assert r.status_code == 200
    token = r.json()["token"]
    assert len(token) >= 32 and r.json()["token_type"] == "bearer"
    with services.session() as s:  # only a digest of the token is stored
        row = s.exec(select(ApiToken).where(ApiToken.user_id == user.id)).one()
        assert token not in row.token_hash and row.expires_at > utcnow() + timedelta(days=29)
    auth = {"Authorization": f"Bearer {token}"}

    me = client.get("/api/auth/me", headers=auth)
    assert me.status_code == 200
    assert me.json() == {"id": user.id, "username": "dewi", "role": "admin", "credits": 1000}
    assert client.post("/api/apps/brand-kit/kits", headers=auth,
                       json={"brandName": "Dewi", "colors": ["#000000"], "fonts": ["Poppins"]}).status_code == 201

    r = client.post("/api/auth/logout", headers=auth)
    assert r.status_code == 204
    r = client.get("/api/auth/me", headers=auth)
    assert r.status_code == 401 and r.json()["kind"] == "unauthorized"


def test_failed_sign_ins_and_bad_tokens_are_401_json(client, services, make_user):
    user = make_user("eka")
    wrong = client.post("/api/auth/login", json={"username": "eka", "password": "not the password"})
    unknown = client.post("/api/auth/login", json={"username": "nobody", "password": PASSWORD})
    assert wrong.status_code == unknown.status_code == 401
    assert wrong.json() == unknown.json() == {"detail": "Wrong username or password.", "code": "auth.wrong_password",
                                                "kind": "unauthorized", "params": {}}
    assert client.post("/api/auth/login", json={"username": "eka"}).status_code == 422

    missing = client.get("/api/auth/me")
    assert missing.status_code == 401 and missing.headers["www-authenticate"] == "Bearer"
    assert "Authorization: Bearer" in missing.json()["detail"]
    for header in ("Bearer not-a-real-token", "Bearer ", "Basic ZWthOnBhc3N3b3Jk", "eka"):
        r = client.get("/api/auth/me", headers={"Authorization": header})
        assert r.status_code == 401 and r.json()["kind"] == "unauthorized" and r.json()["detail"], header

    with services.session() as s:
        token = users.issue_token(s, user=user, settings=services.settings)
    auth = {"Authorization": f"Bearer {token}"}
    assert client.get("/api/auth/me", headers=auth).status_code == 200
    with services.session() as s:  # the token's lifetime runs out
        s.execute(sa.update(ApiToken).where(ApiToken.user_id == user.id).values(expires_at=utcnow() - timedelta(seconds=1)))
        s.commit()
    r = client.get("/api/auth/me", headers=auth)
    assert r.status_code == 401 and "expired" in r.json()["detail"]

    with services.session() as s:  # a deactivated account's tokens stop working
        token = users.issue_token(s, user=user, settings=services.settings)
        s.execute(sa.update(User).where(User.id == user.id).values(is_active=False))
        s.commit()
    assert client.get("/api/auth/me", headers={"Authorization": f"Bearer {token}"}).status_code == 401


# --------------------------------------------------------------------------- AUTH=none


def test_auth_none_acts_as_the_local_admin(make_settings, db_url, make_user):
    settings = make_settings(auth="none", database_url=db_url)
    services = Services.build(settings, migrate=False, runner=False)
    try:
        other = make_user("someone", password=None)
        with TestClient(create_api(services)) as client:
            me = client.get("/api/auth/me")
            assert me.status_code == 200
            assert (me.json()["username"], me.json()["role"]) == ("admin", "admin")
            kit = client.post("/api/apps/brand-kit/kits",
                              json={"brandName": "Local", "colors": ["#000000"], "fonts": ["Poppins"]})
            assert kit.status_code == 201
            assert client.get("/api/credits").json()["balance"] == 995
            r = client.post("/api/credits/grant", json={"username": "someone", "amount": 10})
            assert r.status_code == 200 and r.json()["balance"] == 1010
            # Bearer tokens are neither needed nor able to change who you are.
            assert client.get("/api/auth/me", headers={"Authorization": "Bearer junk"}).json()["username"] == "admin"
            assert client.post("/api/auth/login", json={"username": "admin", "password": "whatever1"}).status_code == 422
        with services.session() as s:
            admin = users.get_by_username(s, "admin")
            assert admin.role == "admin" and admin.password_hash is None  # nobody can sign in as it
            assert users.get(s, other.id).credits == 1010
            assert len(users.list_users(s)) == 2  # created once, not per request
    finally:
        services.close()


# --------------------------------------------------------------------------- command line


def run_cli(*args: str, db_url: str, storage: Path) -> subprocess.CompletedProcess:
    env = {**os.environ, "DATABASE_URL": db_url, "STORAGE_DIR": str(storage), "AUTH": "password",
           "STARTING_CREDITS": "250"}
    env.pop("REDIS_URL", None)
    return subprocess.run([sys.executable, "app.py", *args], cwd=ROOT, env=env, capture_output=True, text=True,
                          timeout=120)


def test_create_user_command_line(db_url, tmp_path, services):
    done = run_cli("create-user", "boss", "--password", "s3cret-password", "--admin", db_url=db_url,
                   storage=tmp_path / "files")
    assert done.returncode == 0, done.stderr
    assert "boss" in done.stdout
    with services.session() as s:
        boss = users.get_by_username(s, "boss")
        assert boss is not None and boss.role == "admin" and boss.credits == 250
        assert boss.password_hash.startswith("$argon2id$")
        assert users.authenticate(s, username="boss", password="s3cret-password").id == boss.id

    again = run_cli("create-user", "boss", "--password", "other-password", db_url=db_url, storage=tmp_path / "files")
    assert again.returncode != 0
    assert "taken" in again.stderr and "boss" in again.stderr
    assert "Traceback" not in again.stderr
    with services.session() as s:
        assert len(users.list_users(s)) == 1
        assert users.get_by_username(s, "boss").role == "admin"


def test_the_local_admins_data_stays_reachable_after_switching_to_passwords(db_url, tmp_path, services):
    """Issue 16: work made under AUTH=none belongs to the passwordless local admin; `set-password` gives that
    account a password, so under AUTH=password signing in as it reaches the same brand kits. Commands print
    their result, not the migrations' INFO lines."""
    from core.catalog import brand_kits
    from core.catalog.brand_kits import BrandKitCreate

    admin = services.local_admin()
    with services.session() as s:
        kit = brand_kits.create(s, user=admin, data=BrandKitCreate(brand_name="Batik Sari", colors=["#8B1E3F"],
                                                                   fonts=["Poppins"]))
        token = users.issue_token(s, user=admin, settings=services.settings)
    done = run_cli("set-password", admin.username, "--password", "a long passphrase", db_url=db_url,
                   storage=tmp_path / "files")
    assert done.returncode == 0, done.stderr
    assert admin.username in done.stdout and "INFO" not in done.stdout + done.stderr
    with services.session() as s:
        me = users.authenticate(s, username=admin.username, password="a long passphrase")
        assert me.id == admin.id and [k.id for k in brand_kits.list_kits(s, user=me)[0]] == [kit.id]
        with pytest.raises(Unauthorized):
            users.user_for_token(s, token)   # sessions from before the change are signed out
    short = run_cli("set-password", admin.username, "--password", "short", db_url=db_url, storage=tmp_path / "files")
    nobody = run_cli("set-password", "nobody", "--password", "a long passphrase", db_url=db_url,
                     storage=tmp_path / "files")
    assert short.returncode == nobody.returncode == 1
    assert "8-256" in short.stderr and "No account is named 'nobody'" in nobody.stderr
    assert "Traceback" not in short.stderr + nobody.stderr
