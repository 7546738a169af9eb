"""Planning a 500-pose batch: core.generation.planning.start_batch against the old way, in one process.
Prints figures; asserts nothing about time. Nothing renders: the runner only records what it is handed.

The old way (kept below as the baseline, as start_batch was before issue 17): one session.get per requested
template id, templates drawn by a max() over the whole pool for every pick, one ORM object per pose, and one
job-id UPDATE per JOB_CHUNK_SIZE poses. The new way: one query for all requested ids (lib.get_many) or for
all the categories' pools, the rows in one INSERT (an executemany) carrying their job ids, one commit.

Cases, each a 500-pose batch (the bulk price), on SQLite (a throwaway file) and Postgres (a throwaway database
made with PG_ADMIN_URL, default postgresql+psycopg://postgres@127.0.0.1:5432/test; skipped when unreachable):
- ids, in turn: templateIds cycling through the shop's hand-right templates (what bench_batch.py plans);
- ids, distinct: templateIds naming 500 different active templates;
- distribution: a poseDistribution of 500 over six categories, no repeats.

For each: the median ms of --runs start_batch calls (old and new alternate, each with its own seed), the SQL
statements one call sends (a before_cursor_execute listener: an executemany counts once), old / new, and
whether the old and the new way plan the same rows for the same seed (template, seed, prompts, cost per
position), and how many prompts each way builds and how long they take (the PromptTimer)
(once per distinct template description, by one PromptBuilder per batch; the old way called build_prompt
once per distinct template).

    python bench/bench_planning.py [--runs 9] [--poses 500] [--sqlite-only] [--database-url URL]
"""
from __future__ import annotations

import argparse
import random
import secrets
import shutil
import statistics
import sys
import tempfile
import time
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import sqlalchemy as sa  # noqa: E402
from sqlmodel import select  # noqa: E402

DISTRIBUTION = {"upper-body": 100, "product-holding": 90, "sitting": 80, "lifestyle": 80, "fashion-standing": 75,
                "skincare-application": 75}


# --- the old way (start_batch before issue 17), the baseline --------------------------------------------------

def old_choose_templates(session, *, distribution, rng, allow_repeats, gender=None):
    """choose_templates as it was: the checks are the same as today's and left out; the draw is the old one."""
    from core.generation.planning import _expected
    from db.models import PoseTemplate

    T = PoseTemplate
    where = [T.is_active.is_(True)]
    if gender in ("female", "male"):
        where.append(T.gender.in_([gender, "unisex"]))
    dict(session.execute(select(T.category, sa.func.count()).where(*where).group_by(T.category)).all())
    picked = []
    for category in sorted(distribution):
        n = distribution[category]
        if n <= 0:
            continue
        pool = list(session.exec(select(T).where(*where, T.category == category).order_by(T.id)))
        keyed = [(rng.random() ** (1.0 / max(1e-6, _expected(t) ** 2)), t) for t in pool]
        chosen, used = [], {}
        while len(chosen) < min(n, len(pool)):
            best = max(keyed, key=lambda kt: kt[0] * 0.75 ** used.get(kt[1].subcategory, 0))
            keyed.remove(best)
            chosen.append(best[1])
            used[best[1].subcategory] = used.get(best[1].subcategory, 0) + 1
        while len(chosen) < n:
            chosen.append(chosen[len(chosen) % len(pool)])
        picked += chosen
    return picked


def old_assign_jobs(session, *, generation_id, positions, settings):
    """work.assign_jobs as it was: one UPDATE per chunk."""
    from core.generation.work import chunks
    from db.models import GeneratedPose, utcnow

    jobs = []
    for chunk in chunks(sorted(positions), settings.job_chunk_size):
        job_id = f"apg-g{generation_id}-p{chunk[0]}-{uuid.uuid4().hex[:10]}"
        session.execute(sa.update(GeneratedPose)
                        .where(GeneratedPose.generation_id == generation_id, GeneratedPose.position.in_(chunk),
                               GeneratedPose.status == "pending")
                        .values(job_id=job_id, heartbeat_at=utcnow()))
        jobs.append((job_id, chunk))
    return jobs


def old_start_batch(session, *, user, request, settings, runner):
    """start_batch as it was before issue 17 (the same checks, the same rows)."""
    from core.accounts import credits
    from core.errors import ValidationFailed
    from core.generation import checks, projects, work
    from core.generation.planning import QUALITY_STEPS, unit_price
    from core.generation.state import APP, SEED_LIMIT, inputs
    from core.library import templates as lib
    from core.prompts import PromptOverrides, build_prompt
    from core.sizes import output_size
    from db.models import GeneratedPose, PoseGeneration

    total = request.total_poses
    if total > settings.max_poses_per_generation:
        raise ValidationFailed("planning.too_many_poses", most=settings.max_poses_per_generation, n=total,
                               field="totalPoses")
    kit, avatar, product = inputs(session, user=user, kit_id=request.brand_kit_id, avatar_id=request.avatar_id,
                                  product_id=request.product_id)
    project = projects.get_project(session, user=user, project_id=request.project_id) \
        if request.project_id is not None else None
    width, height = output_size(settings, request.size)
    batch_seed = request.seed if request.seed is not None else secrets.randbelow(SEED_LIMIT)
    rng = random.Random(batch_seed)
    if request.template_ids is not None:
        templates = [lib.get(session, user=user, template_id=tid) for tid in request.template_ids]
    else:
        templates = old_choose_templates(session, distribution=request.pose_distribution, rng=rng,
                                         allow_repeats=request.allow_repeats, gender=avatar.gender)
    action, price = unit_price(total)
    steps = max(1, round(settings.engine_steps * QUALITY_STEPS[request.quality]))
    overrides = PromptOverrides(extra=request.extra_prompt) if request.extra_prompt else None
    generation = PoseGeneration(
        user_id=user.id, project_id=project.id if project else None, brand_kit_id=kit.id, avatar_id=avatar.id,
        product_id=product.id, total_poses=total, status="pending", pose_distribution=request.pose_distribution,
        options={"mode": "batch", "size": request.size, "width": width, "height": height, "quality": request.quality,
                 "steps": steps, "seed": batch_seed, "extraPrompt": request.extra_prompt,
                 "allowRepeats": request.allow_repeats, "unitCost": price, "priceAction": action,
                 "templateIds": request.template_ids, "checks": checks.planned(settings)})
    session.add(generation)
    session.flush()
    prompts = {}
    for position, template in enumerate(templates):
        if template.id not in prompts:
            prompts[template.id] = build_prompt(brand_kit=kit, avatar=avatar, product=product, template=template,
                                                overrides=overrides)
        prompt = prompts[template.id]
        session.add(GeneratedPose(user_id=user.id, generation_id=generation.id, template_id=template.id,
                                  position=position, seed=rng.randrange(SEED_LIMIT), prompt=prompt.positive,
                                  negative_prompt=prompt.negative, cost=price))
    credits.charge(session, user_id=user.id, app_id=APP, action=action, quantity=total, ref_type="generation",
                   ref_id=generation.id, idempotency_key=f"batch:{generation.id}")
    generation.credits_reserved = price * total
    session.flush()
    jobs = old_assign_jobs(session, generation_id=generation.id, positions=list(range(total)), settings=settings)
    session.commit()
    work.submit_jobs(runner, generation_id=generation.id, jobs=jobs)
    return generation


# --- the bench ----------------------------------------------------------------------------------------------

class Recorder:
    """A runner that renders nothing: it records what it is handed."""

    def __init__(self):
        self.submitted: list[tuple[int, list[int], str]] = []

    def queue_render(self, generation_id, positions, *, job_id):
        self.submitted.append((generation_id, list(positions), job_id))

    def job_alive(self, job_id):
        return True


class PromptTimer:
    """Times the prompts: core.prompts.build_prompt (the old way calls it once per prompt it builds) and
    core.prompts.PromptBuilder (the new way makes one per batch and calls for_template once per prompt).
    Only the outermost call counts (build_prompt is itself a PromptBuilder); `calls` counts prompts."""

    def __init__(self):
        import core.prompts

        self.seconds, self.calls, self.depth = 0.0, 0, 0

        def timing(real, counts):
            def timed(*args, **kwargs):
                if self.depth:
                    return real(*args, **kwargs)
                self.depth += 1
                t = time.perf_counter()
                try:
                    return real(*args, **kwargs)
                finally:
                    self.seconds += time.perf_counter() - t
                    self.calls += counts
                    self.depth -= 1
            return timed

        builder = core.prompts.PromptBuilder
        core.prompts.build_prompt = timing(core.prompts.build_prompt, 1)
        builder.__init__ = timing(builder.__init__, 0)
        builder.for_template = timing(builder.for_template, 1)


class Statements:
    """Counts the statements sent to the database (an executemany counts once)."""

    def __init__(self, engine):
        self.n = 0
        sa.event.listen(engine, "before_cursor_execute", self._one)

    def _one(self, *args, **kwargs):
        self.n += 1


def throwaway_postgres(cleanup: list) -> str | None:
    """A fresh Postgres database (bench_load's), dropped by `cleanup`; None when Postgres does not answer."""
    from bench.bench_load import postgres_database
    from tests.support import PG_ADMIN_URL

    try:
        url, drop = postgres_database(PG_ADMIN_URL)
    except Exception as exc:  # noqa: BLE001
        print(f"Postgres: skipped ({type(exc).__name__}: {str(exc).splitlines()[0][:120]})")
        return None
    cleanup.append(drop)
    return url


def plan_of(svc, gid) -> list[tuple]:
    from db.models import GeneratedPose as G

    with svc.session() as s:
        return [tuple(r) for r in s.execute(select(G.position, G.template_id, G.seed, G.prompt, G.negative_prompt,
                                                   G.cost, G.status, G.round, G.attempts)
                                            .where(G.generation_id == gid).order_by(G.position))]


def bench_database(label: str, url: str, root: Path, args, prompts: PromptTimer) -> list[dict]:
    from core.generation import planning
    from core.generation.planning import BatchRequest
    from core.settings import Settings
    from db.models import PoseTemplate, User
    from services import Services
    from tests.factories import ready_shop

    svc = Services.build(Settings(storage_dir=root / label / "files", auth="none", database_url=url,
                                  max_poses_per_generation=max(500, args.poses)), migrate=True, runner=False)
    try:
        shop = ready_shop(svc, "bench")
        with svc.session() as s:
            s.execute(sa.update(User).where(User.id == shop.user.id).values(credits=10 ** 9))
            s.commit()
            active = list(s.exec(select(PoseTemplate.id).where(PoseTemplate.is_active.is_(True))
                                 .order_by(PoseTemplate.id)))
        in_turn = [shop.templates[i % len(shop.templates)].id for i in range(args.poses)]
        scale = args.poses / sum(DISTRIBUTION.values())
        distribution = {c: round(n * scale) for c, n in DISTRIBUTION.items()}
        distribution["upper-body"] += args.poses - sum(distribution.values())
        cases = [(f"ids, {len(shop.templates)} templates in turn", dict(template_ids=in_turn)),
                 (f"ids, {min(args.poses, len(active))} distinct", dict(template_ids=active[:args.poses]))
                 if len(active) >= args.poses else None,
                 ("distribution, 6 categories", dict(pose_distribution=distribution))]
        statements = Statements(svc.db.engine)
        runner = Recorder()
        out = []
        for name, fields in filter(None, cases):
            def request(seed):
                return BatchRequest(brand_kit_id=shop.kit.id, avatar_id=shop.avatar.id, product_id=shop.product.id,
                                    seed=seed, **fields)

            times = {"new": [], "old": []}
            in_prompts = {"new": [], "old": []}
            counts = {}
            plans = {}
            for run in range(args.runs + 1):  # the first pair warms caches and is not counted
                for way, fn in (("new", planning.start_batch), ("old", old_start_batch)) if run % 2 else \
                        (("old", old_start_batch), ("new", planning.start_batch)):
                    runner.submitted.clear()
                    statements.n = prompts.calls = 0
                    prompts.seconds = 0.0
                    t = time.perf_counter()
                    with svc.session() as s:
                        gid = fn(s, user=shop.user, request=request(1000 + run), settings=svc.settings,
                                 runner=runner).id
                    took = time.perf_counter() - t
                    counts[way] = (statements.n, len(runner.submitted), prompts.calls)
                    if run:
                        times[way].append(took)
                        in_prompts[way].append(prompts.seconds)
                    if run == 1:
                        plans[way] = plan_of(svc, gid)
            new, old = statistics.median(times["new"]), statistics.median(times["old"])
            r = dict(db=label, case=name, new_ms=new * 1000, old_ms=old * 1000, ratio=old / new,
                     new_sql=counts["new"][0], old_sql=counts["old"][0], jobs=counts["new"][1],
                     prompts=counts["new"][2], prompt_ms=statistics.median(in_prompts["new"]) * 1000,
                     old_prompts=counts["old"][2], old_prompt_ms=statistics.median(in_prompts["old"]) * 1000,
                     same=plans["new"] == plans["old"])
            out.append(r)
            print(f"{label:8} {name:32} new {r['new_ms']:7.1f} ms {r['new_sql']:4d} statements | old "
                  f"{r['old_ms']:7.1f} ms {r['old_sql']:4d} statements | old/new {r['ratio']:5.1f}x | "
                  f"prompts: new {r['prompts']} in {r['prompt_ms']:.1f} ms, old {r['old_prompts']} in "
                  f"{r['old_prompt_ms']:.1f} ms | {r['jobs']} jobs submitted | "
                  f"same plan {'yes' if r['same'] else 'NO'}", flush=True)
        return out
    finally:
        svc.close()


def main(argv=None) -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--runs", type=int, default=9)
    p.add_argument("--poses", type=int, default=500)
    p.add_argument("--sqlite-only", action="store_true")
    p.add_argument("--database-url", default=None, help="a Postgres URL to use instead of a throwaway database")
    args = p.parse_args(argv)
    import os

    root = Path(tempfile.mkdtemp(prefix="apg-bench-planning-"))
    cleanup: list = []
    print(f"{args.poses}-pose start_batch, median of {args.runs} runs each, old and new alternating; "
          f"load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs")
    try:
        prompts = PromptTimer()
        bench_database("SQLite", f"sqlite:///{root / 'bench.db'}", root, args, prompts)
        if not args.sqlite_only:
            url = args.database_url or throwaway_postgres(cleanup)
            if url:
                bench_database("Postgres", url, root, args, prompts)
    finally:
        for fn in reversed(cleanup):
            try:
                fn()
            except Exception as exc:  # noqa: BLE001
                print(f"cleanup: {exc}")
        shutil.rmtree(root, ignore_errors=True)


if __name__ == "__main__":
    main()
