"""The reaper loop: one pass of core.generation.work.reap when the process starts (unfinished batches resume), then
one every REAPER_SECONDS. The app runs one, and so does every `python -m jobs.worker`; passes are
idempotent (conditional UPDATEs), so several reapers never hand a pose out twice."""
from __future__ import annotations

import logging
import threading

log = logging.getLogger(__name__)


class Reaper:
    def __init__(self, services):
        self.services = services
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, name="reaper", daemon=True)

    def start(self) -> "Reaper":
        self._thread.start()
        return self

    def _loop(self) -> None:
        from jobs.tasks import reap

        while True:
            try:
                found = reap(self.services)
                if found["revived"] or found["requeued"]:
                    log.warning("reaper: %(revived)d poses of dead workers handed out again, "
                                "%(requeued)d pending poses queued again", found)
            except Exception:  # noqa: BLE001  (database or queue unreachable: try again next pass)
                log.exception("reaper pass failed")
            if self._stop.wait(self.services.settings.reaper_seconds):
                return

    def stop(self) -> None:
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join(timeout=10)
