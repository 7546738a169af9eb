"""The long-lived parts one process needs, built once from Settings by the composition root (app.py,
jobs.worker, tests): the database, the file store and the job runner."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from core.settings import Settings
from core.storage import LocalFileStore
from db.session import Database


@dataclass
class Services:
    settings: Settings
    db: Database
    store: LocalFileStore
    runner: Any = None  # jobs.Runner: the in-process runner or rq
    reaper: Any = None  # jobs.reaper.Reaper, started by the app and by workers

    @classmethod
    def build(cls, settings: Settings, *, migrate: bool = True, runner: Any = None) -> "Services":
        db = Database.from_url(settings.database_url)
        if migrate:  # the app's start: schema to head, then the shipped pose library (upsert, no duplicates)
            db.upgrade()
            from core.pose_library import load_library

            with db.session() as session:
                load_library(session)
        services = cls(settings=settings, db=db, store=LocalFileStore(settings.storage_dir))
        if runner is None:
            from jobs import make_runner

            runner = make_runner(services)
        services.runner = runner or None  # runner=False: no job runner (command-line tools)
        return services

    def session(self):
        return self.db.session()

    def close(self) -> None:
        if self.reaper is not None:
            self.reaper.stop()
        if self.runner is not None and hasattr(self.runner, "shutdown"):
            self.runner.shutdown()
        self.db.dispose()
