"""The web process: start-up time and memory, with rendering in the app's render process (RENDER_PROCESS=child, the
default) against rendering on threads of the web process (RENDER_PROCESS=thread, how it was before issue 17).
Prints figures; asserts nothing about time. Nothing is downloaded.

For each mode, --runs times: `python app.py` (SQLite in a throwaway folder, AUTH=password, ENGINE=tiny, no Redis)
on a free loopback port; start-up = process start -> GET /api/apps answers (median); RSS of the web process when it
is ready. Then one 8-pose batch through REST (POST /api/apps/pose-generator/generate, polled until completed) and
the RSS of the web process and of its render process (if any) afterwards (Linux /proc, VmRSS). For reference, the
start-up of a minimal Gradio Blocks mounted on FastAPI served by uvicorn (what any Gradio + FastAPI app costs).

    python bench/bench_web.py [--runs 3] [--poses 8]
"""
from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import httpx  # noqa: E402

from bench.bench_load import PASSWORD, Server, free_port  # noqa: E402

MINIMAL = r"""
import sys, gradio as gr, uvicorn
from fastapi import FastAPI
api = FastAPI()
@api.get("/api/apps")
def apps():
    return []
with gr.Blocks() as demo:
    gr.Markdown("hello")
app = gr.mount_gradio_app(api, demo, path="/", ssr_mode=False)
uvicorn.run(app, host="127.0.0.1", port=int(sys.argv[1]), log_level="warning")
"""


def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def children(pid: int) -> list[int]:
    """Processes whose parent is `pid` (any of its threads may have started them)."""
    out = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            if int(stat.read_text().rsplit(")", 1)[1].split()[1]) == pid:
                out.append(int(stat.parent.name))
        except (OSError, ValueError, IndexError):
            continue
    return out


def prepare(work: Path, tiny: Path) -> tuple[dict, dict]:
    """A migrated SQLite database with a ready shop (tests.factories) and a token; the server's environment."""
    from core.accounts import users
    from core.settings import Settings
    from services import Services
    from tests.factories import ready_shop

    values = dict(database_url=f"sqlite:///{work / 'bench.db'}", storage_dir=work / "files", auth="password",
                  starting_credits=100000, engine="tiny", tiny_model_dir=tiny, hf_cache_dir=work / "hf",
                  model_downloads=False, engine_steps=2, redis_url=None)
    svc = Services.build(Settings(**values), runner=False)
    try:
        shop = ready_shop(svc, "bench")
        with svc.session() as s:
            token = users.issue_token(s, user=shop.user, settings=svc.settings, name="bench")
        ids = {"kit": shop.kit.id, "avatar": shop.avatar.id, "product": shop.product.id,
               "templates": [t.id for t in shop.templates]}
    finally:
        svc.close()
    env = {"DATABASE_URL": values["database_url"], "STORAGE_DIR": str(values["storage_dir"]), "AUTH": "password",
           "REDIS_URL": "", "ENGINE": "tiny", "TINY_MODEL_DIR": str(tiny), "HF_CACHE_DIR": str(work / "hf"),
           "MODEL_DOWNLOADS": "false", "HF_HUB_OFFLINE": "1", "ENGINE_STEPS": "2", "LOG_LEVEL": "WARNING"}
    return {"token": token, **ids}, env


def one(mode: str, data: dict, env: dict, work: Path, poses: int, batch: bool) -> dict:
    t = time.perf_counter()
    server = Server({**env, "RENDER_PROCESS": mode}, work)
    try:
        server.wait_ready()
        out = {"start": time.perf_counter() - t, "rss_ready": rss_mb(server.proc.pid)}
        if batch:
            headers = {"Authorization": f"Bearer {data['token']}"}
            tids = [data["templates"][i % len(data["templates"])] for i in range(poses)]
            r = httpx.post(f"{server.base}/api/apps/pose-generator/generate", headers=headers, timeout=60,
                           json={"brandKitId": data["kit"], "avatarId": data["avatar"], "productId": data["product"],
                                 "templateIds": tids, "totalPoses": poses, "seed": 5})
            r.raise_for_status()
            gid = r.json()["id"]
            deadline = time.monotonic() + 900
            while time.monotonic() < deadline:
                st = httpx.get(f"{server.base}/api/apps/pose-generator/generate/{gid}", headers=headers, timeout=30)
                if st.json()["status"] not in ("pending", "running"):
                    break
                time.sleep(0.5)
            out["status"] = st.json()["status"]
            out["rss_after"] = rss_mb(server.proc.pid)
            kids = children(server.proc.pid)
            out["child_rss"] = sum(rss_mb(k) for k in kids) if kids else 0.0
        return out
    finally:
        server.stop()


def minimal_start(work: Path) -> float:
    port = free_port()
    t = time.perf_counter()
    proc = subprocess.Popen([sys.executable, "-c", MINIMAL, str(port)], cwd=work, stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL)
    try:
        while True:
            try:
                if httpx.get(f"http://127.0.0.1:{port}/api/apps", timeout=2).status_code == 200:
                    return time.perf_counter() - t
            except httpx.HTTPError:
                time.sleep(0.1)
            if proc.poll() is not None:
                return float("nan")
    finally:
        proc.terminate()
        proc.wait(timeout=30)


def main(argv=None) -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--runs", type=int, default=3)
    p.add_argument("--poses", type=int, default=8)
    args = p.parse_args(argv)
    from engine.tiny import ensure_tiny_models

    work = Path(tempfile.mkdtemp(prefix="apg-bench-web-"))
    try:
        tiny = work / "tiny"
        ensure_tiny_models(tiny, "sd15")
        data, env = prepare(work, tiny)
        print(f"python app.py, SQLite, AUTH=password, ENGINE=tiny, {args.poses}-pose batch; load average "
              f"{os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs")
        base = statistics.median(minimal_start(work) for _ in range(args.runs))
        print(f"minimal Gradio + FastAPI app: start-up {base:.2f}s (median of {args.runs})")
        rows = {}
        for mode in ("thread", "child"):
            runs = [one(mode, data, env, work, args.poses, batch=(i == 0)) for i in range(args.runs)]
            first = runs[0]
            rows[mode] = dict(start=statistics.median(r["start"] for r in runs),
                              rss_ready=statistics.median(r["rss_ready"] for r in runs), **{
                                  k: first[k] for k in ("status", "rss_after", "child_rss")})
            r = rows[mode]
            print(f"RENDER_PROCESS={mode:6s} start-up {r['start']:.2f}s ({r['start'] / base:.2f}x the minimal app) | "
                  f"web RSS at start {r['rss_ready']:.0f} MB, after the batch ({r['status']}) {r['rss_after']:.0f} MB"
                  f" | render process {r['child_rss']:.0f} MB")
        t, c = rows["thread"], rows["child"]
        print(f"web process after one batch: child {c['rss_after']:.0f} MB vs thread {t['rss_after']:.0f} MB = "
              f"{c['rss_after'] / t['rss_after']:.2f}x; start-up child/thread {c['start'] / t['start']:.2f}x")
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
