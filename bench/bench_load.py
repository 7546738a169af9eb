"""Load: throughput and latency of a started app as concurrent clients rise, on SQLite and Postgres.

A real server (`python app.py` in a subprocess on a free loopback port, AUTH=password) serves one signed-in
user with brand kits, a logo and the shipped pose library. At each level, N asyncio clients (httpx) share a
fixed number of requests, under a time cap, cycling through typical reads: brand-kit list and detail,
templates, products, /api/auth/me, credits, a stored file (/api/files/...) and the page load of "/".
Prints req/s, p50/p95/p99 latency, clean refusals (503 + Retry-After) and errors (anything else that is
not a 200, timeouts and dropped connections) per level. Asserts nothing; the machine may be shared, so
compare runs made side by side.

    python bench/bench_load.py [--db sqlite,postgres] [--clients 1,10,50,100,200] [--requests 1200] [--cap 60]
                               [--set DB_POOL_SIZE=20 --set MAX_CONCURRENT_REQUESTS=16 ...]

Postgres: a database of its own is created on --pg-admin-url and dropped at the end.
"""
from __future__ import annotations

import argparse
import asyncio
import io
import os
import ssl
import subprocess
import sys
import tempfile
import time
import uuid
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import httpx
from PIL import Image

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from core.settings import Settings  # noqa: E402

PASSWORD = "bench horse battery"
COOKIE = "apg_session"


@dataclass
class Level:
    db: str
    clients: int
    latencies: list[float] = field(default_factory=list)
    statuses: Counter = field(default_factory=Counter)
    failures: Counter = field(default_factory=Counter)
    seconds: float = 0.0
    client_cpu: float = 0.0  # CPU seconds the bench itself spent: near `seconds`, the bench was the bottleneck
    server_cpu: float = 0.0  # CPU seconds the server spent: per request, the figure a busy machine disturbs least
    unfinished: int = 0

    @property
    def done(self) -> int:
        return len(self.latencies)

    @property
    def refused(self) -> int:
        return self.statuses.get(503, 0)

    @property
    def errors(self) -> int:
        return sum(n for code, n in self.statuses.items() if code not in (200, 503)) + sum(
            self.failures.values()) + self.unfinished

    def pct(self, q: float) -> float:
        if not self.latencies:
            return float("nan")
        ordered = sorted(self.latencies)
        return ordered[min(len(ordered) - 1, int(q * len(ordered)))] * 1000

    def row(self) -> str:
        rate = self.done / self.seconds if self.seconds else 0.0
        return (f"| {self.db} | {self.clients} | {self.done} | {rate:.0f} | {self.pct(0.50):.0f} | {self.pct(0.95):.0f} "
                f"| {self.pct(0.99):.0f} | {self.refused} | {self.errors} | {self.server_cpu / max(self.done, 1) * 1000:.1f} |")

    def detail(self) -> str:
        bad = {str(k): v for k, v in self.statuses.items() if k != 200}
        bad.update(self.failures)
        if self.unfinished:
            bad["unfinished at the cap"] = self.unfinished
        return ", ".join(f"{k}: {v}" for k, v in sorted(bad.items()))


def free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def logo_png() -> bytes:
    buf = io.BytesIO()
    Image.new("RGBA", (256, 256), (228, 87, 46, 200)).save(buf, "PNG")
    return buf.getvalue()


def prepare(settings: Settings) -> dict:
    """Migrate, load the pose library, and make the bench user (5 kits, one with a logo) and a token."""
    from core.catalog import brand_kits
    from core.accounts import users
    from core.catalog.brand_kits import BrandKitCreate
    from services import Services

    services = Services.build(settings, runner=False)
    try:
        with services.session() as s:
            user = users.create_user(s, username="bench", password=PASSWORD, settings=settings)
            kits = [brand_kits.create(s, user=user, data=BrandKitCreate(brand_name=f"Toko {i}", colors=["#E4572E"],
                                                                         fonts=["Poppins"])) for i in range(5)]
            kit = brand_kits.upload_logo(s, user=user, kit_id=kits[0].id, source=logo_png(), filename="logo.png",
                                         store=services.store, settings=settings)
            token = users.issue_token(s, user=user, settings=settings, name="bench")
            return {"token": token, "kit_id": kit.id, "logo": f"/api/files/{kit.logo_path}"}
    finally:
        services.close()


def routes(data: dict) -> list[tuple[str, dict]]:
    api = {"Authorization": f"Bearer {data['token']}"}
    page = {"Accept": "text/html,application/xhtml+xml", "Cookie": f"{COOKIE}={data['token']}"}
    return [
        ("/api/apps/brand-kit/kits", api),
        ("/api/apps/pose-generator/templates?limit=24", api),
        (f"/api/apps/brand-kit/kits/{data['kit_id']}", api),
        ("/api/apps/product-manager/products", api),
        (data["logo"], api),
        ("/api/auth/me", api),
        ("/api/credits?limit=10", api),
        ("/", page),
    ]


class Server:
    """`python app.py` on a free loopback port; its output goes to a log file in the work folder."""

    def __init__(self, env: dict[str, str], work: Path):
        self.port = free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        self.log_path = work / f"server-{self.port}.log"
        full = {**os.environ, **env, "HOST": "127.0.0.1", "PORT": str(self.port), "PYTHONUNBUFFERED": "1"}
        with open(self.log_path, "wb") as log:
            self.proc = subprocess.Popen([sys.executable, "app.py"], cwd=ROOT, env=full, stdout=log,
                                         stderr=subprocess.STDOUT)

    def wait_ready(self, timeout: float = 240) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"the server exited (rc {self.proc.returncode}):\n{self.tail()}")
            try:
                if httpx.get(self.base + "/api/apps", timeout=2).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            time.sleep(0.5)
        raise RuntimeError(f"the server did not answer within {timeout:.0f} s:\n{self.tail()}")

    def cpu_seconds(self) -> float:
        """CPU time (user + system) the server process has used so far (Linux /proc)."""
        fields = Path(f"/proc/{self.proc.pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")

    def tail(self, chars: int = 3000) -> str:
        """The end of the server's output, without the access log lines."""
        lines = self.log_path.read_text(errors="replace").splitlines()
        return "\n".join(line for line in lines if '" 200 OK' not in line)[-chars:]

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout=30)


async def run_level(base: str, mix: list[tuple[str, dict]], level: Level, total: int, cap: float) -> None:
    """`level.clients` workers take requests off one counter until `total` are issued or `cap` seconds pass.
    Each worker is a client of its own with one keep-alive connection, as browsers and scripts are (one shared
    httpx pool of hundreds of connections costs the bench more CPU than the server). Connections idle for 4 s
    are dropped before the server's 5 s keep-alive ends, so no request races a closing connection. A
    request still running at the cap counts as unfinished (an error)."""
    issued = 0
    limits = httpx.Limits(max_connections=1, max_keepalive_connections=1, keepalive_expiry=4)
    tls = ssl.create_default_context()  # unused over http, but httpx builds one per client unless given one
    loop = asyncio.get_running_loop()
    deadline = loop.time() + cap

    async def worker() -> None:
        nonlocal issued
        async with httpx.AsyncClient(base_url=base, limits=limits, timeout=httpx.Timeout(cap), verify=tls) as client:
            while issued < total and loop.time() < deadline:
                path, headers = mix[issued % len(mix)]
                issued += 1
                started = time.perf_counter()
                try:
                    response = await client.get(path, headers=headers)
                except httpx.HTTPError as exc:
                    level.failures[type(exc).__name__] += 1
                    continue
                level.latencies.append(time.perf_counter() - started)
                level.statuses[response.status_code] += 1

    started, cpu = time.perf_counter(), time.process_time()
    tasks = [asyncio.ensure_future(worker()) for _ in range(level.clients)]
    _, pending = await asyncio.wait(tasks, timeout=cap + 5)
    for task in pending:
        task.cancel()
    level.unfinished = len(pending)
    level.seconds = time.perf_counter() - started
    level.client_cpu = time.process_time() - cpu


def bench_database(db: str, url: str, args, work: Path) -> list[Level]:
    storage = work / f"files-{db}"
    values = {"database_url": url, "storage_dir": storage, "auth": "password", "redis_url": None}
    data = prepare(Settings(**values))
    env = {"DATABASE_URL": url, "STORAGE_DIR": str(storage), "AUTH": "password", "REDIS_URL": "",
           **dict(item.split("=", 1) for item in args.set)}
    server = Server(env, work)
    try:
        server.wait_ready()
        mix = routes(data)
        asyncio.run(run_level(server.base, mix, Level(db, 10), 10 * len(mix), args.cap))  # warm-up, not shown
        levels = []
        for clients in args.clients:
            level = Level(db, clients)
            before = server.cpu_seconds()
            asyncio.run(run_level(server.base, mix, level, max(args.requests, clients * 2), args.cap))
            level.server_cpu = server.cpu_seconds() - before
            note = f"   (bench CPU {level.client_cpu / level.seconds:.0%} of the time" + (
                f"; {level.detail()})" if level.detail() else ")")
            print(level.row() + note, flush=True)
            levels.append(level)
        if any(level.errors for level in levels):
            print(f"--- server log ({db}) ---\n{server.tail()}", flush=True)
        return levels
    finally:
        server.stop()


def postgres_database(admin_url: str):
    """(url, drop): a fresh database on the admin URL's server, and the function that drops it."""
    import sqlalchemy as sa

    admin = sa.create_engine(admin_url, isolation_level="AUTOCOMMIT")
    name = f"apg_bench_{uuid.uuid4().hex[:10]}"
    with admin.connect() as c:
        c.execute(sa.text(f'CREATE DATABASE "{name}"'))

    def drop() -> None:
        with admin.connect() as c:
            c.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()

    return sa.engine.make_url(admin_url).set(database=name).render_as_string(hide_password=False), drop


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--db", default="sqlite,postgres", help="comma-separated: sqlite, postgres")
    parser.add_argument("--clients", default="1,10,50,100,200", help="comma-separated client counts")
    parser.add_argument("--requests", type=int, default=1200, help="requests per level (at least 2 per client)")
    parser.add_argument("--cap", type=float, default=60, help="seconds a level may take at most")
    parser.add_argument("--pg-admin-url", default="postgresql+psycopg://postgres@127.0.0.1:5432/test")
    parser.add_argument("--set", action="append", default=[], metavar="NAME=VALUE",
                        help="a setting for the server (environment variable), e.g. MAX_CONCURRENT_REQUESTS=16")
    args = parser.parse_args()
    args.clients = [int(c) for c in args.clients.split(",")]
    defaults = Settings(**{k.lower(): v for k, v in (item.split("=", 1) for item in args.set)})
    print(f"{os.cpu_count()} CPUs; server settings: " + ", ".join(
        f"{name.upper()}={getattr(defaults, name)}" for name in ("db_pool_size", "db_max_overflow", "web_threads",
                                                                  "max_concurrent_requests", "request_queue_seconds")
        if hasattr(defaults, name)))
    print("| database | clients | requests | req/s | p50 ms | p95 ms | p99 ms | 503 | errors | server CPU ms/req |")
    print("| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |", flush=True)
    with tempfile.TemporaryDirectory(prefix="apg-bench-load-") as tmp:
        work = Path(tmp)
        for db in args.db.split(","):
            if db == "sqlite":
                bench_database("SQLite", f"sqlite:///{work / 'bench.db'}", args, work)
            elif db == "postgres":
                url, drop = postgres_database(args.pg_admin_url)
                try:
                    bench_database("Postgres", url, args, work)
                finally:
                    drop()
            else:
                parser.error(f"unknown database {db!r}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
