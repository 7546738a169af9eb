"""Pose library browsing speed: filter + first page at 1,000 and 10,000 templates, on SQLite (and on
Postgres when PG_ADMIN_URL answers). Prints medians of several runs and the 10k/1k ratio.

    python bench/bench_pose_library.py [--runs 7] [--postgres]

The templates are the shipped library repeated with new keys (the same shapes and metadata a real
library has). Nothing is asserted: this prints figures.
"""
from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
import uuid
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import sqlalchemy as sa  # noqa: E402

from core.library import templates as lib  # noqa: E402
from core.accounts import users  # noqa: E402
from core.library.poses.library import load_library  # noqa: E402
from core.settings import Settings  # noqa: E402
from db.models import PoseTemplate  # noqa: E402
from db.session import Database  # noqa: E402

QUERIES = {
    "category page": dict(category="product-holding"),
    "category+placement+gender": dict(category="product-holding", placement="hand-right", gender="female"),
    "tag filter": dict(tags=["three-quarter"]),
    "text search": dict(text="chest"),
    "sort by usage": dict(sort="usage"),
}


def fill(db: Database, n: int) -> None:
    shipped = load_library()
    rows = []
    for i in range(n):
        t = shipped[i % len(shipped)]
        rows.append(dict(key=f"{t['id']}-{i}", name=t["name"], category=t["category"], subcategory=t["subcategory"],
                         keypoints=t["keypoints"], aspect=t["aspect"], difficulty=t["difficulty"], tags=t["tags"],
                         gender=t["gender"], product_placement=t["product_placement"], description=t["description"],
                         source="library", usage_count=i % 37, success_count=(i % 37) // 2))
    with db.session() as s:
        s.execute(sa.insert(PoseTemplate), rows)
        s.commit()


def measure(db: Database, settings: Settings, runs: int) -> dict[str, float]:
    out = {}
    with db.session() as s:
        admin = users.local_admin(s, settings=settings)
        for name, q in QUERIES.items():
            times = []
            for _ in range(runs):
                t0 = time.perf_counter()
                rows, total = lib.search(s, user=admin, settings=settings, limit=48, **q)
                times.append(time.perf_counter() - t0)
            out[name] = statistics.median(times) * 1000
    return out


def run(url_for, label: str, runs: int) -> None:
    results = {}
    for n in (1_000, 10_000):
        url, cleanup = url_for()
        db = Database.from_url(url)
        db.upgrade()
        fill(db, n)
        settings = Settings(database_url=url, storage_dir=tempfile.mkdtemp())
        results[n] = measure(db, settings, runs)
        db.dispose()
        cleanup()
    print(f"\n{label}: filter + first page of 48 (median of {runs} runs, ms)")
    print(f"{'query':32s} {'1,000':>9s} {'10,000':>9s} {'ratio':>7s}")
    for name in QUERIES:
        a, b = results[1_000][name], results[10_000][name]
        print(f"{name:32s} {a:9.2f} {b:9.2f} {b / a:7.2f}")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=7)
    parser.add_argument("--postgres", action="store_true")
    args = parser.parse_args()

    def sqlite_url():
        d = tempfile.mkdtemp()
        return f"sqlite:///{d}/bench.db", lambda: None

    run(sqlite_url, "SQLite", args.runs)
    if args.postgres:
        admin_url = os.environ.get("PG_ADMIN_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test")
        admin = sa.create_engine(admin_url, isolation_level="AUTOCOMMIT")

        def pg_url():
            name = f"apg_bench_{uuid.uuid4().hex[:8]}"
            with admin.connect() as c:
                c.execute(sa.text(f'CREATE DATABASE "{name}"'))

            def drop():
                with admin.connect() as c:
                    c.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
            return sa.engine.make_url(admin_url).set(database=name).render_as_string(hide_password=False), drop

        run(pg_url, "PostgreSQL", args.runs)


if __name__ == "__main__":
    main()
