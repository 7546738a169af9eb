"""Alembic migrations: a fresh database upgraded to head has exactly the schema of the models, on SQLite
and on Postgres; downgrade/upgrade round-trips; the app upgrades an empty database when it starts."""
from __future__ import annotations

import uuid

import pytest
import sqlalchemy as sa
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlmodel import SQLModel

import db.models  # noqa: F401  (registers every table)
from tests.support import PG_ADMIN_URL, service_missing
from services import Services
from db.session import alembic_config, create_db_engine
from db.types import compare_type

TABLES = {"users", "api_tokens", "credit_ledger", "brand_kits", "avatars", "products", "pose_templates",
          "pose_generation_projects", "pose_generations", "generated_poses", "design_metrics", "posters", "design_exports"}


@pytest.fixture
def empty_db_url(db_kind, tmp_path):
    """A brand-new, empty (not migrated) database of the kind under test."""
    if db_kind == "sqlite":
        yield f"sqlite:///{tmp_path / 'fresh.db'}"
        return
    admin = sa.create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as c:
            c.execute(sa.text("SELECT 1"))
    except Exception as exc:  # noqa: BLE001
        admin.dispose()
        service_missing("PostgreSQL", exc)
    name = f"apg_mig_{uuid.uuid4().hex[:12]}"
    with admin.connect() as c:
        c.execute(sa.text(f'CREATE DATABASE "{name}"'))
    try:
        yield sa.engine.make_url(PG_ADMIN_URL).set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as c:
            c.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


@pytest.fixture
def engine(empty_db_url):
    eng = create_db_engine(empty_db_url)
    yield eng
    eng.dispose()


def head_revision(eng) -> str:
    return ScriptDirectory.from_config(alembic_config(eng)).get_current_head()


def current_revision(eng) -> str | None:
    with eng.connect() as conn:
        return MigrationContext.configure(conn).get_current_revision()


def schema_diff(eng) -> list:
    with eng.connect() as conn:
        ctx = MigrationContext.configure(conn, opts={"compare_type": compare_type,
                                                     "compare_server_default": False})
        return compare_metadata(ctx, SQLModel.metadata)


def table_names(eng) -> set[str]:
    return set(sa.inspect(eng).get_table_names()) - {"alembic_version"}


def test_upgrade_to_head_matches_the_models(engine):
    assert table_names(engine) == set()
    command.upgrade(alembic_config(engine), "head")
    assert current_revision(engine) == head_revision(engine)
    assert table_names(engine) == TABLES == set(SQLModel.metadata.tables)
    assert schema_diff(engine) == []

    # The no-difference check is only worth something if a real difference shows up.
    with engine.begin() as conn:
        conn.execute(sa.text("ALTER TABLE brand_kits DROP COLUMN tagline"))
    diff = schema_diff(engine)
    assert any(d[0] == "add_column" and d[2] == "brand_kits" and d[3].name == "tagline" for d in diff), diff


def test_downgrade_to_base_then_upgrade_again(engine):
    cfg = alembic_config(engine)
    command.upgrade(cfg, "head")
    command.downgrade(cfg, "base")
    assert table_names(engine) == set()
    assert current_revision(engine) is None
    command.upgrade(cfg, "head")
    assert table_names(engine) == TABLES
    assert schema_diff(engine) == []


def test_services_build_upgrades_an_empty_database(empty_db_url, make_settings):
    from core.catalog import brand_kits
    from core.accounts import users
    from core.catalog.brand_kits import BrandKitCreate

    settings = make_settings(database_url=empty_db_url)
    services = Services.build(settings, runner=False)  # migrate=True: what the app does on start
    try:
        assert current_revision(services.db.engine) == head_revision(services.db.engine)
        assert schema_diff(services.db.engine) == []
        with services.session() as s:  # and the schema is usable straight away
            user = users.create_user(s, username="first", password="a long password", settings=settings)
            kit = brand_kits.create(s, user=user, data=BrandKitCreate(brandName="Kopi", colors=["#112233"],
                                                                      fonts=["Poppins"]))
            assert kit.id is not None and kit.is_default
        # Building again on an up-to-date database is a no-op, and keeps the data.
        Services.build(settings, runner=False).close()
        with services.session() as s:
            assert users.get_by_username(s, "first") is not None
    finally:
        services.close()
