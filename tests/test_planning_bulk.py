"""Planning a big batch in a constant number of statements (issue 17), on SQLite and Postgres: explicit template
ids with repeats keep their order; a missing or (for a non-admin) inactive template is the same NotFound as
lib.get and plans and charges nothing; a seeded batch plans the same template and seed per position as the old
per-pose code (its rng calls are written out below); the rows look like ORM-written rows; 500 poses send as
many statements as 5; the jobs are handed over after the commit. Real rows, real ledger; no mocks of our code."""
from __future__ import annotations

import math
import random

import pytest
import sqlalchemy as sa
from sqlmodel import select

from core.errors import NotFound
from core.generation import planning
from core.generation.planning import BatchRequest, _draw, _expected
from core.generation.state import SEED_LIMIT
from core.library import templates as lib
from core.prompts import PromptOverrides, build_prompt
from db.models import GeneratedPose, PoseGeneration, PoseTemplate, User
from tests.batch_support import balance, ledger, poses, services_factory
from tests.factories import ready_shop


@pytest.fixture
def make_svc(make_settings, db_url, tiny_engine_values):
    make, close_all = services_factory(make_settings, db_url, tiny_engine_values, runner_default=False)
    yield make
    close_all()


@pytest.fixture
def svc(make_svc):
    return make_svc(starting_credits=20000, job_chunk_size=8)


class Recorder:
    """A runner that renders nothing. At each hand-over it reads, in a session of its own, the rows of the job:
    they must be committed already, with that job id."""

    def __init__(self, svc):
        self.svc, self.jobs, self.seen, self.reading = svc, [], [], False

    def queue_render(self, generation_id, positions, *, job_id):
        self.jobs.append((generation_id, list(positions), job_id))
        G = GeneratedPose
        self.reading = True   # (its own statements are not planning's)
        with self.svc.session(write=False) as s:
            self.seen.append(sorted(s.exec(select(G.position).where(G.generation_id == generation_id,
                                                                    G.job_id == job_id))))
        self.reading = False

    def job_alive(self, job_id):
        return True


def start(svc, shop, runner=None, **fields) -> PoseGeneration:
    request = BatchRequest(brand_kit_id=shop.kit.id, avatar_id=shop.avatar.id, product_id=shop.product.id, **fields)
    with svc.session() as s:
        return planning.start_batch(s, user=shop.user, request=request, settings=svc.settings, runner=runner)


def nothing_planned(svc):
    with svc.session() as s:
        return s.exec(select(GeneratedPose)).all() == [] and s.exec(select(PoseGeneration)).all() == []


# --- the old order of rng calls, written out (start_batch and choose_templates before issue 17) ---------------

def old_plan(session, *, seed, gender, template_ids=None, distribution=None, allow_repeats=False):
    """(template id, seed) per position, the way planning drew them before: one rng from the batch seed; for a
    distribution, per category in name order one rng.random() per active template (in id order) and picks by
    max() over the remaining pool; then one rng.randrange(SEED_LIMIT) per position, in position order."""
    rng = random.Random(seed)
    if template_ids is not None:
        picked = list(template_ids)
    else:
        T = PoseTemplate
        where = [T.is_active.is_(True), T.gender.in_([gender, "unisex"])]
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
            picked += [t.id for t in chosen]
    return [(tid, rng.randrange(SEED_LIMIT)) for tid in picked]


def old_draw(keys, groups, k):
    keyed = list(enumerate(keys))
    used, out = {}, []
    while len(out) < k:
        best = max(keyed, key=lambda ik: ik[1] * 0.75 ** used.get(groups[ik[0]], 0))
        keyed.remove(best)
        out.append(best[0])
        used[groups[best[0]]] = used.get(groups[best[0]], 0) + 1
    return out


def test_the_draw_picks_what_the_max_over_the_pool_picked():
    rng = random.Random(17)
    for case in range(400):
        n = rng.randint(1, 60)
        groups = [rng.choice(["a", "b", "c", None, "d"][:rng.randint(1, 5)]) for _ in range(n)]
        kind = case % 4
        if kind == 0:    # ordinary keys
            keys = [rng.random() for _ in range(n)]
        elif kind == 1:  # many equal keys, zeros among them (an unlucky template's key underflows to 0.0)
            keys = [rng.choice([0.0, 0.5, 0.25, 1e-300]) for _ in range(n)]
        elif kind == 2:  # keys that differ but may be equal once scaled by 0.75 ** k
            keys = [rng.choice([0.75, 1.0, 0.5625, 0.421875, 5e-324, 1e-323]) for _ in range(n)]
        else:            # Efraimidis–Spirakis keys as planning makes them, weights down to the 1e-6 floor
            keys = [rng.random() ** (1.0 / max(1e-6, rng.choice([1e-4, 0.01, 0.3, 0.7, 1.0]) ** 2)) for _ in range(n)]
        k = rng.randint(1, n)
        assert _draw(keys, groups, k) == old_draw(keys, groups, k), (case, keys, groups, k)


@pytest.mark.parametrize("allow_repeats", [False, True])
def test_a_seeded_batch_plans_the_templates_and_seeds_it_always_did(svc, allow_repeats):
    shop = ready_shop(svc)
    with svc.session() as s:  # unlucky templates whose keys underflow to 0.0: ties the draw must break as before
        s.execute(sa.update(PoseTemplate).where(PoseTemplate.category == "sitting", PoseTemplate.id % 3 == 0)
                  .values(usage_count=5000, success_count=0))
        if allow_repeats:  # a category with too few
            keep = list(s.exec(select(PoseTemplate.id).where(PoseTemplate.category == "lifestyle")
                               .order_by(PoseTemplate.id).limit(3)))
            s.execute(sa.update(PoseTemplate).where(PoseTemplate.category == "lifestyle",
                                                    PoseTemplate.id.notin_(keep)).values(is_active=False))
        s.commit()
    t = shop.templates
    asks = [dict(template_ids=[t[4].id, t[1].id, t[4].id, t[0].id, t[1].id, t[4].id]),
            dict(pose_distribution={"sitting": 40, "upper-body": 12, "product-holding": 0, "lifestyle": 5}
                 if allow_repeats else {"sitting": 40, "upper-body": 12, "product-holding": 0, "fashion-walking": 7},
                 allow_repeats=allow_repeats)]
    for ask in asks:
        for seed in (0, 1, 2, 99, SEED_LIMIT):
            g = start(svc, shop, seed=seed, extra_prompt="golden hour", **ask)
            rows = poses(svc, g.id)
            with svc.session() as s:
                want = old_plan(s, seed=seed, gender=shop.avatar.gender, template_ids=ask.get("template_ids"),
                                distribution=ask.get("pose_distribution"), allow_repeats=allow_repeats)
                templates = {p.template_id: s.get(PoseTemplate, p.template_id) for p in rows}
            assert [(p.template_id, p.seed) for p in rows] == want, (ask, seed)
            assert [p.position for p in rows] == list(range(len(want)))
            for p in rows:  # the prompts of each template, as build_prompt writes them for it
                prompt = build_prompt(brand_kit=shop.kit, avatar=shop.avatar, product=shop.product,
                                      template=templates[p.template_id], overrides=PromptOverrides(extra="golden hour"))
                assert (p.prompt, p.negative_prompt) == (prompt.positive, prompt.negative)
    with svc.session() as s:
        ties = s.exec(select(sa.func.count()).select_from(PoseTemplate)
                      .where(PoseTemplate.category == "sitting", PoseTemplate.usage_count == 5000)).one()
    assert ties >= 10


def test_explicit_template_ids_keep_their_order_and_repeats(svc):
    shop = ready_shop(svc)
    t = shop.templates
    ids = [t[3].id, t[0].id, t[3].id, t[5].id, t[0].id, t[0].id, t[7].id]
    before = balance(svc, shop.user)
    runner = Recorder(svc)
    g = start(svc, shop, runner, template_ids=ids, seed=5)
    rows = poses(svc, g.id)
    assert [p.template_id for p in rows] == ids and [p.position for p in rows] == list(range(7))
    rng = random.Random(5)
    assert [p.seed for p in rows] == [rng.randrange(SEED_LIMIT) for _ in ids]
    assert rows[0].prompt == rows[2].prompt and rows[1].prompt == rows[4].prompt == rows[5].prompt
    assert all(p.status == "pending" and p.cost == 10 and p.round == 0 and p.attempts == 0 for p in rows)
    assert g.options["templateIds"] == ids and g.credits_reserved == 70 and g.total_poses == 7
    (row,) = ledger(svc, shop.user, g.id)
    assert (row.delta, row.action, row.idempotency_key) == (-70, "generatePose", f"batch:{g.id}")
    assert balance(svc, shop.user) == before - 70
    # one job per 8 poses, each row holding its job id and a heartbeat, handed over after the commit
    assert [(gid, chunk) for gid, chunk, _ in runner.jobs] == [(g.id, list(range(7)))]
    assert runner.seen == [list(range(7))]
    assert all(p.job_id == runner.jobs[0][2] and p.heartbeat_at is not None for p in rows)
    assert runner.jobs[0][2].startswith(f"apg-g{g.id}-p0-")


def test_get_many_is_get_for_every_id(svc):
    shop = ready_shop(svc)
    t = shop.templates
    with svc.session() as s:
        got = lib.get_many(s, user=shop.user, template_ids=[t[2].id, t[1].id, t[2].id])
        assert [x.id for x in got] == [t[2].id, t[1].id, t[2].id] and got[0] is got[2]
        assert got[1] is lib.get(s, user=shop.user, template_id=t[1].id)
        assert lib.get_many(s, user=shop.user, template_ids=[]) == []


def test_a_missing_or_inactive_template_is_the_same_not_found_and_plans_nothing(svc):
    shop = ready_shop(svc)
    t = shop.templates
    with svc.session() as s:
        s.execute(sa.update(PoseTemplate).where(PoseTemplate.id == t[2].id).values(is_active=False))
        s.commit()
        missing = s.exec(select(sa.func.max(PoseTemplate.id))).one() + 100
    before = balance(svc, shop.user)
    runner = Recorder(svc)
    for ids, culprit in (([t[0].id, t[2].id, missing], t[2].id), ([t[0].id, missing, t[2].id, missing], missing),
                         ([t[1].id] * 300 + [missing], missing), ([t[2].id], t[2].id)):
        with svc.session() as s, pytest.raises(NotFound) as want:
            lib.get(s, user=shop.user, template_id=culprit)
        for how in ("start_batch", "get_many"):
            with pytest.raises(NotFound) as err:
                if how == "start_batch":
                    start(svc, shop, runner, template_ids=ids, seed=1)
                else:
                    with svc.session() as s:
                        lib.get_many(s, user=shop.user, template_ids=ids)
            assert err.value.to_dict() == want.value.to_dict()
            assert err.value.message == f"Pose template {culprit} not found."
    assert nothing_planned(svc) and runner.jobs == []
    assert balance(svc, shop.user) == before and ledger(svc, shop.user) == []
    # an admin may plan an inactive template (as lib.get lets them), a missing one still not
    admin = ready_shop(svc, "admin1")
    with svc.session() as s:
        s.execute(sa.update(User).where(User.id == admin.user.id).values(role="admin"))
        s.commit()
        admin.user = s.get(User, admin.user.id)
    g = start(svc, admin, template_ids=[t[2].id, t[0].id], seed=3)
    assert [p.template_id for p in poses(svc, g.id)] == [t[2].id, t[0].id]
    with pytest.raises(NotFound):
        start(svc, admin, template_ids=[t[2].id, missing])


def test_a_batch_row_is_stored_like_an_orm_row(svc):
    """The bulk insert writes what an ORM insert wrote: the same columns NULL, JSON null where the ORM wrote it."""
    shop = ready_shop(svc)
    g = start(svc, shop, template_ids=[shop.template.id], seed=2)
    with svc.session() as s:  # a row written through the ORM, the way start_single and rerender still do
        s.add(GeneratedPose(user_id=shop.user.id, generation_id=g.id, template_id=shop.template.id, position=1,
                            seed=1, prompt="p", negative_prompt="n", cost=10, job_id="j"))
        s.commit()
    columns = [c.name for c in GeneratedPose.__table__.columns]
    with svc.db.engine.connect() as c:
        nulls = c.execute(sa.text("SELECT " + ", ".join(f"{n} IS NULL" for n in columns) +
                                  " FROM generated_poses WHERE generation_id = :g ORDER BY position"), {"g": g.id}).all()
    bulk, orm = (dict(zip(columns, r)) for r in nulls)
    orm["heartbeat_at"] = False  # dispatch gives it one; everything else is as the ORM left it
    assert bulk == orm


@pytest.mark.parametrize("how", ["template_ids", "pose_distribution"])
def test_statements_do_not_grow_with_the_poses(svc, how):
    shop = ready_shop(svc)
    statements, runner = [], None

    def count(conn, cursor, sql, *args):
        if not runner.reading:
            statements.append(sql)

    sa.event.listen(svc.db.engine, "before_cursor_execute", count)
    counts = {}
    for n in (5, 500):
        if how == "template_ids":
            ask = dict(template_ids=[shop.templates[i % len(shop.templates)].id for i in range(n)])
        else:
            big = {"upper-body": 100, "product-holding": 90, "sitting": 80, "lifestyle": 80, "fashion-standing": 75,
                   "skincare-application": 75}
            ask = dict(pose_distribution=big if n == 500 else {c: 1 for c in list(big)[:n]})
        runner = Recorder(svc)
        statements.clear()
        g = start(svc, shop, runner, seed=n, **ask)
        counts[n] = len(statements)
        rows = poses(svc, g.id)
        assert len(rows) == n and g.credits_reserved == n * (5 if n >= planning.BULK_FROM else 10)
        assert len(runner.jobs) == math.ceil(n / 8) and runner.seen == [chunk for _, chunk, _ in runner.jobs]
        assert {p.position: p.job_id for p in rows} == {p: j for _, chunk, j in runner.jobs for p in chunk}
        assert all(p.heartbeat_at is not None for p in rows)
    assert counts[500] == counts[5] <= 20, counts


def test_job_ids_for_scattered_positions_go_out_in_one_update(svc):
    """What retry and the reaper hand out: pending poses here and there, jobs of JOB_CHUNK_SIZE; a pose not asked
    for keeps its job, one that is no longer pending is left alone."""
    from core.generation import work

    shop = ready_shop(svc)
    g = start(svc, shop, template_ids=[shop.template.id] * 15, seed=4)
    before = {p.position: p.job_id for p in poses(svc, g.id)}
    with svc.session() as s:
        s.execute(sa.update(GeneratedPose).where(GeneratedPose.generation_id == g.id, GeneratedPose.position == 9)
                  .values(status="done"))
        s.commit()
    statements = []
    sa.event.listen(svc.db.engine, "before_cursor_execute", lambda conn, cursor, sql, *a: statements.append(sql))
    asked = [14, 1, 4, 5, 9, 12, 13]
    with svc.session() as s:
        jobs = work.assign_jobs(s, generation_id=g.id, positions=asked,
                                settings=svc.settings.model_copy(update={"job_chunk_size": 2}))
        s.commit()
    assert [chunk for _, chunk in jobs] == [[1, 4], [5, 9], [12, 13], [14]]
    assert len([q for q in statements if q.lstrip().upper().startswith("UPDATE")]) == 1
    got = {p.position: p.job_id for p in poses(svc, g.id)}
    want = {**before, **{p: j for j, chunk in jobs for p in chunk if p != 9}}
    assert got == want and got[9] == before[9]
