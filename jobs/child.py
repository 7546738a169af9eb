"""The app's render process: without Redis, jobs run in ONE child process of the app, started on first use.

Why a child and not threads of the web process: rendering loads torch, diffusers and the models (a tiny batch took
the web process from 196 MB to 1.16 GB; a real SD 1.5 engine is several GB) and background removal loads
onnxruntime. In the child, the web process stays the size of a web server (README "Performance"), a crash of the
engine (out of memory, a native fault) cannot take the pages down, and the child renders exactly as an rq worker
does: the same job functions (jobs.tasks), its own services built from the app's Settings, its own small pool of job
threads (like the in-process runner's) feeding one render thread that owns torch (engine.render_thread).

    parent (ChildRunner.submit)  --("job", key, path, args)-->  child (serve)  runs it on a job thread
    parent                       <--("done", key, error)------  child

The two talk over a socket pair with multiprocessing.connection (pickled tuples); the child is
`python -m jobs.child FD`, so nothing of the web app (Gradio, FastAPI) is imported there. If the child dies, every
job it held is failed in the parent, the poses its render jobs held are handed back at once (pending, no job), the
reaper queues them again, and the next submit starts a new child. RENDER_PROCESS=thread keeps the older way (jobs on
threads of this process); auto (the default) is the child, except on a ZeroGPU Space, where the GPU is lent to the
app's own process (engine.zerogpu) and rendering must stay in it.
"""
from __future__ import annotations

import logging
import socket
import subprocess
import sys
import threading
import uuid
from concurrent.futures import Future
from multiprocessing.connection import Connection
from pathlib import Path

from jobs.runner import Runner

log = logging.getLogger(__name__)
ROOT = Path(__file__).resolve().parent.parent


class ChildExited(RuntimeError):
    """The render process ended while it held this job."""


def wants_child(settings) -> bool:
    """RENDER_PROCESS: child / thread; auto = child unless this is a ZeroGPU Space (SPACES_ZERO_GPU)."""
    if settings.render_process == "auto":
        return not settings.spaces_zero_gpu
    return settings.render_process == "child"


class ChildRunner(Runner):
    """Runs job functions in the app's child render process (module doc); the same contract as InProcessRunner:
    submit() -> Future, job_alive(), wait_idle(), report(), shutdown()."""

    def __init__(self, services, workers: int = 2):
        self.services = services
        self.workers = workers
        self._lock = threading.Lock()
        self._send_lock = threading.Lock()
        self._proc: subprocess.Popen | None = None
        self._conn: Connection | None = None
        self._jobs: dict[str, tuple[Future, str, tuple]] = {}
        self._closed = False
        self.started = 0                      # children started by this runner (the System page, tests)

    # --- the parent's side ----------------------------------------------------------------------------
    def submit(self, path: str, *args, job_id: str | None = None) -> Future:
        key = job_id or f"job-{uuid.uuid4().hex[:12]}"
        fut: Future = Future()
        with self._lock:
            if self._closed:
                raise RuntimeError("the job runner is shut down")
            conn = self._ensure()
            self._jobs[key] = (fut, path, args)
        try:
            with self._send_lock:
                conn.send(("job", key, path, args, job_id is not None))
        except OSError as exc:  # the child died between ensure and send: the reader fails the job
            log.warning("could not hand %s to the render process (%s)", key, exc)
        return fut

    def _ensure(self) -> Connection:
        """The live child's connection, starting one when there is none (caller holds _lock)."""
        if self._proc is not None and self._proc.poll() is None and self._conn is not None:
            return self._conn
        ours, theirs = socket.socketpair()
        # `-m` from the project folder: the child finds our packages there, and imports nothing of the web app
        proc = subprocess.Popen([sys.executable, "-m", "jobs.child", str(theirs.fileno()), str(self.workers)],
                                pass_fds=[theirs.fileno()], cwd=str(ROOT))
        theirs.close()
        conn = Connection(ours.detach())
        conn.send(("settings", self.services.settings))
        self._proc, self._conn = proc, conn
        self.started += 1
        log.info("render process started (pid %s)", proc.pid)
        threading.Thread(target=self._read, args=(proc, conn), name=f"render-process-{proc.pid}", daemon=True).start()
        return conn

    def _read(self, proc: subprocess.Popen, conn: Connection) -> None:
        """Results from one child until it goes away; then fail what it held and hand its poses back."""
        try:
            while True:
                kind, key, error = conn.recv()
                if kind != "done":
                    continue
                with self._lock:
                    entry = self._jobs.pop(key, None)
                if entry is not None:
                    if error is None:
                        entry[0].set_result(None)
                    else:
                        entry[0].set_exception(RuntimeError(error))
        except (EOFError, OSError):
            pass
        code = proc.wait()
        with self._lock:
            if self._proc is proc:
                self._proc, self._conn = None, None
            lost = list(self._jobs.items()) if not self._closed or code != 0 else []
            for key, _ in lost:
                del self._jobs[key]
        try:
            conn.close()
        except OSError:
            pass
        if lost:
            log.error("the render process (pid %s) exited with %s holding %d job(s); handing their poses back",
                      proc.pid, code, len(lost))
        for key, (fut, path, args) in lost:
            self._hand_back(proc.pid, key, path, args)
            fut.set_exception(ChildExited(f"the render process exited ({code}) while running {key}"))

    def _hand_back(self, pid: int, key: str, path: str, args: tuple) -> None:
        """A render job of a dead child: its running poses go back to pending at once (not after
        STALE_AFTER_SECONDS); the reaper queues them again."""
        if path != self.RENDER or not args:
            return
        from jobs.tasks import hand_back

        try:
            hand_back(self.services, generation_id=int(args[0]), job_id=key, pid=pid)
        except Exception as exc:  # noqa: BLE001 - the reaper still gets them after STALE_AFTER_SECONDS
            log.warning("could not hand back the poses of %s: %s", key, exc)

    def job_alive(self, job_id: str) -> bool:
        """Queued or running in the render process. After an app restart nothing is: the reaper queues it again."""
        with self._lock:
            entry = self._jobs.get(job_id)
            return entry is not None and not entry[0].done()

    def pid(self) -> int | None:
        with self._lock:
            return self._proc.pid if self._proc is not None and self._proc.poll() is None else None

    def report(self) -> dict:
        with self._lock:
            held = len(self._jobs)
            pid = self._proc.pid if self._proc is not None and self._proc.poll() is None else None
        where = f"render process (pid {pid}, {self.workers} job threads)" if pid else \
            "render process (starts with the first job)"
        return {"kind": "in-process", "queued": None, "running": held, "failed": None, "redis": None,
                "workers": [{"name": where, "state": "busy" if held else "idle", "lastHeartbeat": None,
                             "job": None}]}

    def wait_idle(self, timeout: float | None = None) -> None:
        """Block until every submitted job has finished (tests and shutdown use it)."""
        with self._lock:
            pending = [fut for fut, _, _ in self._jobs.values()]
        for fut in pending:
            fut.exception(timeout=timeout)

    def shutdown(self) -> None:
        """Let running jobs finish, then stop the child (killed if it does not stop within a minute)."""
        with self._lock:
            self._closed = True
            proc, conn = self._proc, self._conn
        if proc is None:
            return
        try:
            with self._send_lock:
                conn.send(("stop",))
        except OSError:
            pass
        try:
            proc.wait(timeout=60)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


# --- the child's side -------------------------------------------------------------------------------------
def serve(fd: int, workers: int) -> int:
    """The child's loop: build services from the parent's Settings, run each job on a job thread, answer."""
    conn = Connection(fd)
    kind, settings = conn.recv()
    if kind != "settings":
        return 2
    from jobs.threads import InProcessRunner
    from services import Services

    services = Services.build(settings, migrate=False, runner=False)
    runner = InProcessRunner(services, workers=workers)
    services.runner = runner          # a job that queues more work (none does today) runs it here too
    send_lock = threading.Lock()

    def answer(key: str, fut: Future) -> None:
        exc = fut.exception()
        error = None if exc is None else f"{type(exc).__name__}: {exc}"[:500]
        with send_lock:
            try:
                conn.send(("done", key, error))
            except OSError:
                pass

    try:
        while True:
            try:
                msg = conn.recv()
            except (EOFError, OSError):       # the app went away: finish what runs, then leave
                break
            if msg[0] == "stop":
                break
            _, key, path, args, named = msg
            fut = runner.submit(path, *args, job_id=key if named else None)
            fut.add_done_callback(lambda f, key=key: answer(key, f))
    finally:
        runner.shutdown()
        services.close()
    return 0


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s render-process %(name)s: %(message)s")
    return serve(int(argv[0]), int(argv[1]) if len(argv) > 1 else 2)


if __name__ == "__main__":
    sys.exit(main())
