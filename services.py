"""The long-lived parts one process needs, built once from Settings by the composition root (app.py,
jobs.worker, tests): the database, the file store and the job runner."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from core.settings import Settings
from core.storage import LocalFileStore
from db.session import Database, holds_connection


@dataclass
class Services:
    settings: Settings
    db: Database
    store: LocalFileStore
    runner: Any = None  # jobs.Runner: the in-process runner or rq
    reaper: Any = None  # jobs.reaper.Reaper, started by the app and by workers

    @classmethod
    def build(cls, settings: Settings, *, migrate: bool = True, runner: Any = None) -> "Services":
        db = Database.from_url(settings.database_url, pool_size=settings.db_pool_size,
                               max_overflow=settings.db_max_overflow, pool_timeout=settings.db_pool_timeout)
        if migrate:  # the app's start: schema to head, then the shipped pose library (upsert, no duplicates)
            db.upgrade()
            from core.library.templates import load_library

            with db.session() as session:
                load_library(session)
        services = cls(settings=settings, db=db, store=LocalFileStore(settings.storage_dir))
        if runner is None:
            from jobs import make_runner

            runner = make_runner(services)
        services.runner = runner or None  # runner=False: no job runner (command-line tools)
        return services

    def session(self, *, write: bool = True):
        """A database session. write=False for work that only reads: on SQLite it takes no write lock
        (and a write in it is refused), on Postgres its transactions are READ ONLY."""
        return self.db.session(write=write)

    def local_admin(self):
        """AUTH=none's single user, looked up read-only and created (in a write session of its own) only the
        first time; returned detached. REST (api/deps.py) and the Gradio handlers (ui/common.act) both use it,
        so a read-only request never has to write to find its user."""
        from core.accounts import users

        with self.session(write=False) as session:
            user = users.get_by_username(session, self.settings.local_admin_username)
        if user is None:
            with self.session() as session:
                user = users.local_admin(session, settings=self.settings)
        return user

    def writable(self, session):
        """The same session, allowed to write: for a request that reads by default (GET) but records something."""
        return self.db.writable(session)

    @staticmethod
    def holds_connection(session) -> bool:
        """Whether the session has taken a connection (closing it then does I/O)."""
        return holds_connection(session)

    def close(self) -> None:
        if self.reaper is not None:
            self.reaper.stop()
        if self.runner is not None and hasattr(self.runner, "shutdown"):
            self.runner.shutdown()
        self.db.dispose()
