"""Persistence: SQLModel tables, the engine/session, small query helpers, Alembic migrations."""
