"""Service addresses and the skip-or-fail rule shared by every test module (import from here, not
from a conftest: several conftest modules exist and their names clash)."""
from __future__ import annotations

import os

import pytest

PG_ADMIN_URL = os.environ.get("PG_ADMIN_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test")
TEST_REDIS_URL = os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379")
REQUIRE_SERVICES = os.environ.get("REQUIRE_SERVICES") == "1"


def service_missing(what: str, exc: Exception):
    """Skip the test, or fail it when REQUIRE_SERVICES=1 (CI): a missing service is never silent there."""
    message = f"{what} is not reachable ({type(exc).__name__}: {exc})"
    if REQUIRE_SERVICES:
        pytest.fail(message + " and REQUIRE_SERVICES=1", pytrace=False)
    pytest.skip(message)


def settings_env(values: dict) -> dict[str, str]:
    """Settings(**values) as the environment variables core.settings reads, for a subprocess such as
    `python -m jobs.worker` (None: left out; booleans: true/false; paths and numbers: str)."""
    env = {}
    for key, value in values.items():
        if value is None:
            continue
        env[key.upper()] = ("true" if value else "false") if isinstance(value, bool) else str(value)
    return env


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class WorkerProcess:
    """One `python -m jobs.worker --name <name>` subprocess configured by `values` (Settings fields, as environment
    variables); name: a fresh <label>-<random> unless given. Its output goes to <log_dir>/worker-<label>-*.log
    (tail() shows it when a test fails)."""

    def __init__(self, values: dict, log_dir, label: str = "worker", extra_env: dict | None = None,
                 name: str | None = None):
        import subprocess
        import sys
        import uuid
        from pathlib import Path

        root = Path(__file__).resolve().parent.parent
        self.name = name or f"{label}-{uuid.uuid4().hex[:8]}"
        self.log_path = Path(log_dir) / f"worker-{label}-{uuid.uuid4().hex[:8]}.log"
        self.terminated = False
        env = {**os.environ, **settings_env(values), "PYTHONPATH": str(root), "PYTHONUNBUFFERED": "1",
               **(extra_env or {})}
        with open(self.log_path, "wb") as log:
            self.proc = subprocess.Popen([sys.executable, "-m", "jobs.worker", "--name", self.name], cwd=root,
                                         env=env, stdout=log, stderr=subprocess.STDOUT)

    @property
    def pid(self) -> int:
        return self.proc.pid

    def alive(self) -> bool:
        return self.proc.poll() is None

    def kill(self) -> None:
        """SIGKILL: the worker dies mid-whatever, as on a crash or an OOM kill."""
        self.proc.kill()
        self.proc.wait(timeout=30)

    def terminate(self) -> None:
        """SIGTERM once (rq: warm shutdown, the current job finishes; a second one would be a cold one)."""
        if self.alive() and not self.terminated:
            self.terminated = True
            self.proc.terminate()

    def stop(self, timeout: float = 60) -> None:
        import subprocess

        self.terminate()
        try:
            self.proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.kill()

    def tail(self, chars: int = 3000) -> str:
        text = self.log_path.read_text(errors="replace")
        return f"--- worker {self.name} (pid {self.pid}, rc {self.proc.poll()}) ---\n{text[-chars:]}"


class RedisServer:
    """A redis-server of our own on a free port, without persistence (a restart loses the queue), so a
    test can stop and restart it without touching the shared Redis. FileNotFoundError: no binary."""

    def __init__(self, log_dir):
        import shutil
        from pathlib import Path

        self.binary = shutil.which("redis-server")
        if self.binary is None:
            raise FileNotFoundError("redis-server is not on PATH")
        self.port, self.log_dir, self.proc, self.starts = free_port(), Path(log_dir), None, 0
        self.url = f"redis://127.0.0.1:{self.port}/0"

    def start(self, timeout: float = 30) -> None:
        import subprocess
        import time

        import redis

        self.starts += 1
        with open(self.log_dir / f"redis-{self.port}-{self.starts}.log", "wb") as log:
            self.proc = subprocess.Popen([self.binary, "--port", str(self.port), "--bind", "127.0.0.1", "--save", "",
                                          "--appendonly", "no", "--daemonize", "no"], stdout=log,
                                         stderr=subprocess.STDOUT)
        deadline = time.monotonic() + timeout
        while True:
            try:
                redis.Redis.from_url(self.url, socket_timeout=1).ping()
                return
            except redis.exceptions.ConnectionError as exc:
                if time.monotonic() > deadline or self.proc.poll() is not None:
                    raise RuntimeError(f"redis-server on port {self.port} did not start: {exc}") from exc
                time.sleep(0.05)

    def kill(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(timeout=30)
