"""A whole batch, end to end. Prints figures; asserts nothing about time. Nothing is downloaded.

One batch of --poses poses with the tiny engine (ENGINE=tiny, 64x96) through core.generation.planning.start_batch and
the job runner, --runs times (after a 2-pose warm-up batch that loads the engine):

- enqueue: how long start_batch takes (choose templates, plan the rows, charge, assign job ids, queue);
- wall: start_batch called -> the generation row says completed (its completed_at);
- pipeline: the sum of the poses' pipeline_seconds (the engine's share of each pose, as timed in the process that
  rendered it);
- clean engine: the same poses' renders (the same requests, rebuilt from the rows: template fitted, control image,
  product planned, prompt, seed; the same micro-batches) timed in a FRESH process that does nothing else, median of
  --clean-runs passes. The overhead share is 1 - clean / wall: everything that is not the engine (claims,
  compositing, checks, files, rows, credits, queue hops) AND any slowdown of the engine in the serving process.
  "in-process/fresh" is pipeline / clean: how much slower the engine ran where it served the batch (1.00 = as
  fast as a fresh process). With several rq workers rendering at once the overhead can be negative: "parallel";
- gallery latency: a poller thread calls core.generation.batches.results(show="all") every --poll seconds, as
  the results page does, and records when each pose first shows up done; latency = that moment - the pose's
  finished_at. Median and p95 over the poses of a run (bounded below by the polling interval / 2 on
  average).

Medians over runs are printed at the end.

    python bench/bench_batch.py [--poses 100] [--runs 3] [--workers in-process|rq] [--poll 1.0]
                                [--steps 2] [--batch-size 4] [--chunk 8] [--rq-workers 1] [--job-threads 2]
                                [--clean-runs 3] [--database-url URL] [--redis-url URL]

in-process (default): a throwaway SQLite file, the app's in-process runner (--job-threads threads, the
    app's 2 by default, sharing one engine: a micro-batch waits for the engine lock while the other
    thread's renders, and that wait is counted in its pipeline_seconds).
rq: Postgres (a throwaway database made with PG_ADMIN_URL, default postgres@127.0.0.1:5432) and
    --rq-workers `python -m jobs.worker` processes on a redis-server of the bench's own (free port, no
    persistence) unless --redis-url names one (its database is flushed before and after).
"""
from __future__ import annotations

import argparse
import os
import shutil
import statistics
import sys
import tempfile
import threading
import time
from datetime import timezone
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def p95(xs: list[float]) -> float:
    xs = sorted(xs)
    return xs[min(len(xs) - 1, max(0, round(0.95 * (len(xs) - 1))))]


def _epoch(dt) -> float:
    return (dt if dt.tzinfo else dt.replace(tzinfo=timezone.utc)).timestamp()


class Poller(threading.Thread):
    """What the results page does: results(show="all") every `interval` seconds; records when each
    pose id is first seen, and how long each call took."""

    def __init__(self, svc, user, gid: int, interval: float):
        super().__init__(daemon=True, name="gallery-poller")
        self.svc, self.user, self.gid, self.interval = svc, user, gid, interval
        self.seen: dict[int, float] = {}
        self.calls: list[float] = []
        self.done = threading.Event()

    def run(self) -> None:
        from core.generation import batches

        while True:
            final = self.done.is_set()  # one last poll after the batch completed
            t = time.perf_counter()
            with self.svc.session() as s:
                rows, _ = batches.results(s, user=self.user, generation_id=self.gid, show="all", limit=500)
            now = time.time()
            self.calls.append(time.perf_counter() - t)
            for r in rows:
                if r.status == "done":   # kept, checked or not (the bench has no pose detector's weights)
                    self.seen.setdefault(r.id, now)
            if final:
                return
            self.done.wait(self.interval)


class Setup:
    """Services, a ready shop and (rq) worker processes; close() removes everything it made."""

    def __init__(self, args):
        self.args = args
        self.root = Path(tempfile.mkdtemp(prefix="apg-bench-batch-"))
        self.cleanup: list = []
        self.workers: list = []
        credits_needed = 10 * args.poses * (args.runs + 1) + 1000
        values = dict(storage_dir=self.root / "files", auth="none", starting_credits=credits_needed, engine="tiny",
                      tiny_model_dir=self.root / "tiny", hf_cache_dir=self.root / "hf", model_downloads=False,
                      engine_steps=args.steps, engine_batch_size=args.batch_size, job_chunk_size=args.chunk,
                      max_attempts=1, max_poses_per_generation=max(500, args.poses))
        if args.workers == "rq":
            values.update(database_url=args.database_url or self._postgres(), redis_url=args.redis_url or self._redis())
        else:
            values.update(database_url=args.database_url or f"sqlite:///{self.root / 'bench.db'}")
        self.values = values
        from services import Services
        from core.settings import Settings
        from engine.tiny import ensure_tiny_models
        from tests.factories import ready_shop

        ensure_tiny_models(self.root / "tiny", "sd15")  # built once, shared with the worker processes
        self.svc = Services.build(Settings(**values), migrate=True, runner=None if args.workers == "rq" else False)
        self.cleanup.append(self.svc.close)
        if args.workers == "in-process":  # the app's runner, with --job-threads threads (the app uses 2)
            from jobs import InProcessRunner

            self.svc.runner = InProcessRunner(self.svc, workers=args.job_threads)
        if args.workers == "rq":
            import redis

            redis.Redis.from_url(values["redis_url"]).flushdb()
            self._start_workers(args.rq_workers)
        self.shop = ready_shop(self.svc, "bench")

    def _postgres(self) -> str:
        from bench.bench_load import postgres_database
        from tests.support import PG_ADMIN_URL

        url, drop = postgres_database(PG_ADMIN_URL)
        self.cleanup.append(drop)
        return url

    def _redis(self) -> str:
        from tests.support import RedisServer

        try:
            server = RedisServer(self.root)
        except FileNotFoundError:
            sys.exit("--workers rq needs redis-server on PATH, or --redis-url")
        server.start()
        self.cleanup.append(server.kill)
        return server.url

    def _start_workers(self, n: int) -> None:
        from tests.support import WorkerProcess

        extra = {"OMP_NUM_THREADS": str(self.args.threads)} if self.args.threads else {}
        self.workers = [WorkerProcess(self.values, self.root, f"bench{i}", extra_env=extra) for i in range(n)]

    def batch(self, n: int, seed: int):
        from core.generation import planning
        from core.generation.planning import BatchRequest

        t = self.shop.templates
        request = BatchRequest(brand_kit_id=self.shop.kit.id, avatar_id=self.shop.avatar.id,
                               product_id=self.shop.product.id, template_ids=[t[i % len(t)].id for i in range(n)],
                               seed=seed)
        with self.svc.session() as s:
            return planning.start_batch(s, user=self.shop.user, request=request, settings=self.svc.settings,
                                       runner=self.svc.runner).id

    def wait(self, gid: int, timeout: float = 3600):
        from db.models import PoseGeneration

        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            with self.svc.session() as s:
                g = s.get(PoseGeneration, gid)
                if g.status not in ("pending", "running"):
                    return g
            if self.workers and not any(w.alive() for w in self.workers):
                sys.exit(f"every rq worker exited; logs in {self.root}")
            time.sleep(0.05)
        sys.exit(f"batch {gid} did not finish in {timeout:.0f}s")

    def close(self) -> None:
        for w in self.workers:
            w.terminate()
        for w in self.workers:
            w.stop()
        for fn in reversed(self.cleanup):
            try:
                fn()
            except Exception as exc:  # noqa: BLE001
                print(f"cleanup: {exc}")
        shutil.rmtree(self.root, ignore_errors=True)


def one_run(setup: Setup, n: int, seed: int, poll: float) -> dict:
    from sqlmodel import select

    from db.models import GeneratedPose

    wall_start = time.time()
    t = time.perf_counter()
    gid = setup.batch(n, seed)
    enqueue = time.perf_counter() - t
    poller = Poller(setup.svc, setup.shop.user, gid, poll)
    poller.start()
    g = setup.wait(gid)
    poller.done.set()
    poller.join(timeout=60)
    with setup.svc.session() as s:
        rows = list(s.exec(select(GeneratedPose).where(GeneratedPose.generation_id == gid)))
    done = [r for r in rows if r.status == "done"]
    wall = _epoch(g.completed_at) - wall_start
    pipeline = sum(r.pipeline_seconds or 0 for r in done)
    latency = [poller.seen[r.id] - _epoch(r.finished_at) for r in done if r.id in poller.seen]
    return dict(gid=gid, status=g.status, done=len(done), failed=len(rows) - len(done), enqueue=enqueue, wall=wall,
                pipeline=pipeline, render=sum(r.render_seconds or 0 for r in done), overhead=1 - pipeline / wall,
                lat_median=statistics.median(latency) if latency else float("nan"),
                lat_p95=p95(latency) if latency else float("nan"), unseen=len(done) - len(latency),
                poll_call=statistics.median(poller.calls) if poller.calls else float("nan"), polls=len(poller.calls))


def clean_engine(spec: dict) -> None:
    """--clean-engine (a fresh process): rebuild the done poses' requests of generation spec["gid"] from the rows,
    render them in the batch's micro-batches on this (main) thread, print the median total seconds as JSON."""
    import io
    import json

    from PIL import Image
    from sqlmodel import select

    from core.generation.product import plan_product
    from core.generation.state import retry_seed
    from core.library.poses.render import render_skeleton
    from core.library.poses.transforms import fit_to_aspect
    from core.settings import Settings
    from db.models import GeneratedPose, PoseGeneration, PoseTemplate, Product
    from db.session import Database
    from engine.pipeline import Engine, RenderRequest
    from engine.config import EngineConfig
    from core.storage import LocalFileStore

    settings = Settings(**spec["settings"])
    db = Database.from_url(settings.database_url)
    store = LocalFileStore(settings.storage_dir)
    with db.session(write=False) as s:
        g = s.get(PoseGeneration, spec["gid"])
        product = s.get(Product, g.product_id)
        cutout = Image.open(io.BytesIO(store.read(product.cutout_path))).convert("RGBA")
        rows = list(s.exec(select(GeneratedPose).where(GeneratedPose.generation_id == g.id,
                                                       GeneratedPose.status == "done").order_by(GeneratedPose.position)))
        w, h = g.options["width"], g.options["height"]
        requests = []
        for r in rows:
            t = s.get(PoseTemplate, r.template_id)
            fitted = fit_to_aspect(t.keypoints, w / h, source_aspect=t.aspect).to_json()
            control = Image.fromarray(render_skeleton(fitted, w, h))
            plan = plan_product(cutout=cutout, keypoints=fitted, placement=product.placement,
                                product_type=product.product_type, size=(w, h), mode=settings.product_mode)
            requests.append(RenderRequest(r.prompt or "", control, retry_seed(r.seed, 0), r.negative_prompt or "",
                                          **plan.first()))
        steps = g.options.get("steps")
    engine = Engine(EngineConfig.from_settings(settings))   # built and run on this thread: a clean process
    size = settings.engine_batch_size
    engine.render(requests[:size], steps=steps)              # warm-up
    totals = []
    for _ in range(spec["runs"]):
        t = time.perf_counter()
        for i in range(0, len(requests), size):
            engine.render(requests[i:i + size], steps=steps)
        totals.append(time.perf_counter() - t)
    print(json.dumps({"seconds": statistics.median(totals), "poses": len(requests)}))


def clean_seconds(setup: Setup, gid: int, runs: int) -> float:
    """The engine time of generation `gid`'s done poses, measured in a fresh process (clean_engine)."""
    import json
    import subprocess

    values = {k: str(v) if isinstance(v, Path) else v for k, v in setup.values.items() if k != "redis_url"}
    spec = json.dumps({"gid": gid, "runs": runs, "settings": values})
    env = {**os.environ, "PYTHONWARNINGS": "ignore"}
    if setup.args.threads:
        env["OMP_NUM_THREADS"] = str(setup.args.threads)
    out = subprocess.run([sys.executable, __file__, "--clean-engine", spec], capture_output=True, text=True, env=env,
                         check=False)
    if out.returncode != 0:
        sys.exit(f"the clean-engine process failed:\n{out.stderr[-3000:]}")
    return float(json.loads(out.stdout.strip().splitlines()[-1])["seconds"])


def main(argv=None) -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--poses", type=int, default=100)
    p.add_argument("--runs", type=int, default=3)
    p.add_argument("--workers", choices=("in-process", "rq"), default="in-process")
    p.add_argument("--rq-workers", type=int, default=1, help="worker processes with --workers rq")
    p.add_argument("--job-threads", type=int, default=2, help="in-process runner threads (the app's: 2)")
    p.add_argument("--poll", type=float, default=1.0, help="the results page's polling interval (s)")
    p.add_argument("--steps", type=int, default=2, help="ENGINE_STEPS")
    p.add_argument("--batch-size", type=int, default=4, help="ENGINE_BATCH_SIZE (poses per pipeline call)")
    p.add_argument("--chunk", type=int, default=8, help="JOB_CHUNK_SIZE (poses per queue job)")
    p.add_argument("--threads", type=int, default=0, help="torch threads (0: torch's default)")
    p.add_argument("--database-url", default=None)
    p.add_argument("--redis-url", default=None)
    p.add_argument("--clean-runs", type=int, default=3, help="passes of the fresh-process engine timing")
    p.add_argument("--clean-engine", default=None, help=argparse.SUPPRESS)   # the fresh process's own entry
    args = p.parse_args(argv)
    if args.clean_engine:
        import json

        return clean_engine(json.loads(args.clean_engine))

    import torch
    from transformers.utils import logging as hf_logging

    from diffusers.utils import logging as diffusers_logging

    hf_logging.set_verbosity_error()  # CLIP's "truncated to 77 tokens" notice, once per call
    diffusers_logging.set_verbosity_error()
    if args.threads:
        torch.set_num_threads(args.threads)
    setup = Setup(args)
    try:
        s = setup.svc.settings
        where = f"SQLite + in-process runner ({args.job_threads} job threads)" if args.workers == "in-process" else \
            f"Postgres + {args.rq_workers} rq worker process(es)"
        print(f"{args.poses}-pose batch, {where}; tiny engine {args.steps} steps, micro-batch {s.engine_batch_size}, "
              f"{s.job_chunk_size} poses per job, gallery polled every {args.poll:g}s; load average "
              f"{os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs")
        t = time.perf_counter()
        setup.wait(setup.batch(2, 1))  # warm-up: loads the engine (in the worker processes for rq)
        print(f"warm-up batch (engine load) {time.perf_counter() - t:.1f}s")
        results = []
        for i in range(args.runs):
            r = one_run(setup, args.poses, 1000 + i, args.poll)
            r["clean"] = clean_seconds(setup, r["gid"], args.clean_runs) * args.poses / max(1, r["done"])
            r["overhead"] = 1 - r["clean"] / r["wall"]
            r["slowdown"] = r["pipeline"] / r["clean"] if r["clean"] else float("nan")
            results.append(r)
            print(f"run {i + 1}: {r['status']} {r['done']} done {r['failed']} failed | enqueue {r['enqueue'] * 1000:.0f} ms"
                  f" | wall {r['wall']:.1f}s, pipeline sum {r['pipeline']:.1f}s (render sum {r['render']:.1f}s), "
                  f"clean engine {r['clean']:.1f}s, in-process/fresh {r['slowdown']:.2f}, "
                  f"overhead {100 * r['overhead']:.1f}% | gallery latency median {r['lat_median']:.2f}s "
                  f"p95 {r['lat_p95']:.2f}s ({r['unseen']} never seen; {r['polls']} polls, "
                  f"{r['poll_call'] * 1000:.1f} ms each)")
        med = {k: statistics.median(r[k] for r in results) for k in ("enqueue", "wall", "pipeline", "overhead",
                                                                     "lat_median", "lat_p95", "poll_call", "clean",
                                                                     "slowdown")}
        print(f"median of {len(results)} run(s): enqueue {med['enqueue'] * 1000:.0f} ms ({med['enqueue'] * 1000 / args.poses:.2f}"
              f" ms/pose) | wall {med['wall']:.1f}s ({med['wall'] / args.poses * 1000:.0f} ms/pose) | pipeline "
              f"{med['pipeline']:.1f}s | clean engine {med['clean']:.1f}s | engine here / fresh {med['slowdown']:.2f}"
              f" | overhead (1 - clean / wall) {100 * med['overhead']:.1f}% | gallery latency median "
              f"{med['lat_median']:.2f}s, p95 {med['lat_p95']:.2f}s | results() call {med['poll_call'] * 1000:.1f} ms")
    finally:
        setup.close()


if __name__ == "__main__":
    main()
