"""Alembic environment. Used by the app (upgrade on start), by tests, and by `alembic` on the CLI
(`alembic -c db/alembic.ini revision --autogenerate -m "..."` with DATABASE_URL set)."""
from __future__ import annotations

from alembic import context
from sqlmodel import SQLModel

import db.models  # noqa: F401  (registers every table on SQLModel.metadata)
from db.types import compare_type, render_item

config = context.config
target_metadata = SQLModel.metadata


def _configure(connection):
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        render_item=render_item,
        compare_type=compare_type,
        render_as_batch=connection.dialect.name == "sqlite",
    )


def run_migrations_online() -> None:
    engine = config.attributes.get("engine")
    if engine is None:
        from core.settings import get_settings
        from db.session import create_db_engine

        engine = create_db_engine(config.get_main_option("sqlalchemy.url") or get_settings().database_url)
    with engine.connect() as connection:
        _configure(connection)
        with context.begin_transaction():
            context.run_migrations()


run_migrations_online()
