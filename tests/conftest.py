"""Shared fixtures: real SQLite AND real Postgres, real Redis, real files. No mocks of our own code.

Postgres/Redis tests skip when the service is unreachable, unless REQUIRE_SERVICES=1 (CI), where they
fail. Each test gets its own database (Postgres: cloned from a migrated template; SQLite: a copied
migrated file) and its own storage directory, so tests never share state.
"""
from __future__ import annotations

import os
import shutil
import socket
import uuid
from pathlib import Path

# Tests never reach the real Hub: offline before huggingface_hub is imported by anything (the model-arrival
# tests turn it off for their local Hub server only, tests/engine/test_model_arrival.py).
os.environ.setdefault("HF_HUB_OFFLINE", "1")
# Jobs run on threads of the test process (RENDER_PROCESS=thread): a child render process per test would add its
# start-up to hundreds of tests. The app's default, the child render process, has its own tests
# (tests/test_render_process.py) that set render_process="child".
os.environ.setdefault("RENDER_PROCESS", "thread")

import pytest  # noqa: E402
import sqlalchemy as sa  # noqa: E402

from services import Services  # noqa: E402
from core.settings import Settings  # noqa: E402
from tests.support import PG_ADMIN_URL, TEST_REDIS_URL, service_missing  # noqa: E402

def _pg_admin_engine() -> sa.Engine:
    return sa.create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT", pool_pre_ping=True)


def _pg_url(name: str) -> str:
    return sa.engine.make_url(PG_ADMIN_URL).set(database=name).render_as_string(hide_password=False)


@pytest.fixture(scope="session")
def pg_database(tmp_path_factory):
    """One migrated Postgres database for this test session (per xdist worker); each test empties it."""
    try:
        engine = _pg_admin_engine()
        with engine.connect() as c:
            c.execute(sa.text("SELECT 1"))
    except Exception as exc:  # noqa: BLE001
        service_missing("PostgreSQL", exc)
    name = f"apg_test_{uuid.uuid4().hex[:10]}"
    with engine.connect() as c:
        c.execute(sa.text(f'CREATE DATABASE "{name}"'))
    from db.session import Database

    db = Database.from_url(_pg_url(name))
    db.upgrade()
    tables = ", ".join(f'"{t}"' for t in sa.inspect(db.engine).get_table_names() if t != "alembic_version")
    db.dispose()
    yield name, tables
    with engine.connect() as c:
        c.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    engine.dispose()


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("sqlite-template") / "template.db"
    from db.session import Database

    db = Database.from_url(f"sqlite:///{path}")
    db.upgrade()
    db.dispose()
    return path


def make_database(kind: str, request, tmp_path: Path) -> str:
    """A migrated, empty database of `kind` for one test: a copied SQLite file, or the session's
    Postgres database with every table truncated."""
    if kind == "sqlite":
        path = tmp_path / "app.db"
        shutil.copy(request.getfixturevalue("sqlite_template"), path)
        return f"sqlite:///{path}"
    name, tables = request.getfixturevalue("pg_database")
    url = _pg_url(name)
    engine = sa.create_engine(url, poolclass=sa.pool.NullPool)
    with engine.begin() as c:  # empty, with ids starting at 1 again: as good as a new database, far faster
        c.execute(sa.text(f"TRUNCATE {tables} RESTART IDENTITY CASCADE"))
    engine.dispose()
    return url


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def db_kind(request) -> str:
    return request.param


@pytest.fixture
def db_url(db_kind, request, tmp_path) -> str:
    return make_database(db_kind, request, tmp_path)


@pytest.fixture
def make_settings(tmp_path):
    def make(**overrides) -> Settings:
        values = dict(storage_dir=tmp_path / "files", starting_credits=1000, auth="none")
        values.update(overrides)
        return Settings(**values)
    return make


@pytest.fixture
def settings(make_settings, db_url) -> Settings:
    return make_settings(database_url=db_url)


@pytest.fixture
def services(settings):
    # Tests run on a database migrated once per session (the template); a test of the migrations
    # themselves lives in test_migrations.py.
    s = Services.build(settings, migrate=False)
    yield s
    s.close()


@pytest.fixture
def session(services):
    with services.session() as s:
        yield s


@pytest.fixture
def make_user(services):
    from core.accounts import users

    def make(username: str | None = None, *, password: str | None = "correct horse battery", role: str = "user",
             credits: int | None = None):
        name = username or f"user{uuid.uuid4().hex[:8]}"
        with services.session() as s:
            user = users.create_user(s, username=name, password=password, settings=services.settings, role=role)
            if credits is not None:
                from db.models import User

                s.execute(sa.update(User).where(User.id == user.id).values(credits=credits))
                s.commit()
                s.refresh(user)
            return user
    return make


@pytest.fixture
def redis_url(request):
    """A Redis URL on a database number of its own, flushed before and after the test."""
    import redis

    worker = os.environ.get("PYTEST_XDIST_WORKER", "gw0")
    number = 8 + (int(worker.removeprefix("gw") or 0) % 8)
    url = f"{TEST_REDIS_URL.rstrip('/')}/{number}"
    try:
        conn = redis.Redis.from_url(url)
        conn.ping()
    except Exception as exc:  # noqa: BLE001
        service_missing("Redis", exc)
    conn.flushdb()
    yield url
    conn.flushdb()
    conn.close()


@pytest.fixture
def no_network(monkeypatch) -> list:
    """A socket guard: any attempt to open a connection (TCP or Unix) is refused with an AssertionError and
    recorded. Returns the list of attempted addresses: tests assert it is empty, so an attempt that the code
    under test caught and swallowed still fails them."""
    attempts = []

    def refuse(self, address, *args, **kwargs):
        attempts.append(address)
        raise AssertionError(f"network access attempted: {address}")

    monkeypatch.setattr(socket.socket, "connect", refuse)
    monkeypatch.setattr(socket.socket, "connect_ex", refuse)
    return attempts


@pytest.fixture(scope="session")
def tiny_root(tmp_path_factory) -> Path:
    """The one folder of the tiny engine's random-weight models for this run (per xdist worker), shared by every
    test that renders with ENGINE=tiny: root/tiny/<family>/ (sd15 written here, tiny-sdxl on first use; each
    once, engine.tiny.ensure_tiny_models is idempotent) and root/hf-cache, an empty Hugging Face cache.
    Tests add their own extras (IP-Adapter, LoRA, inpainting weights) in sub-folders of their own names."""
    from engine.tiny import ensure_tiny_models

    root = tmp_path_factory.mktemp("tiny-engine")
    (root / "hf-cache").mkdir()
    ensure_tiny_models(root / "tiny", "sd15")      # before any worker process or thread could race for it
    return root


@pytest.fixture(scope="session")
def tiny_engine_values(tiny_root) -> dict:
    """Settings values that render with the tiny engine on tiny_root and never download."""
    return dict(engine="tiny", tiny_model_dir=tiny_root / "tiny", hf_cache_dir=tiny_root / "hf-cache",
                model_downloads=False)


def pytest_configure(config):
    for marker in ("postgres: needs PostgreSQL", "redis: needs Redis", "browser: drives Chromium",
                   "slow: takes more than a few seconds"):
        config.addinivalue_line("markers", marker)
