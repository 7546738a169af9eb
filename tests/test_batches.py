"""Batches in core with ENGINE=tiny and the in-process runner, on SQLite and Postgres: planning (templates,
seeds, prompts, prices), failures refunded once, cancelling before, during and after a render, a worker
whose pose was cancelled or handed to another worker while it rendered, and the reaper (dead workers,
lost jobs, an app that starts again). Real rows, real files, real ledger rows; no mocks of our code."""
from __future__ import annotations

import time
from datetime import timedelta

import pytest
import sqlalchemy as sa
from sqlmodel import select

from core.generation import batches, planning, render as generation_render, state, work
from core.library import templates as lib
from core.generation.micro_batch import Judged
from core.generation.planning import BatchRequest
from core.errors import Conflict, InsufficientCredits, NotFound, ValidationFailed
from core.messages import Message
from core.generation.state import SEED_LIMIT, retry_seed
from db.models import GeneratedPose, PoseGeneration, PoseTemplate, User, utcnow
from tests.batch_support import (WAIT, balance, ledger, nobody_there, pose_files, poses, render,  # noqa: F401
                                 row_files, services_factory)
from tests.factories import ready_shop

SETUP_COST = 5 + 5 + 5 + 3  # ready_shop: brand kit, avatar, product upload, background removal


@pytest.fixture
def make_svc(make_settings, db_url, tiny_engine_values):
    """Services on this test's database with the tiny engine: runner=False (nothing renders unless the test
    renders) or the in-process runner. Several may share the database (an app that starts again)."""
    make, close_all = services_factory(make_settings, db_url, tiny_engine_values, runner_default=False)
    yield make
    close_all()


@pytest.fixture
def svc(make_svc):
    return make_svc()


# --- helpers --------------------------------------------------------------------------------------------

def plan(svc, shop, **fields) -> int:
    request = BatchRequest(brand_kit_id=shop.kit.id, avatar_id=shop.avatar.id, product_id=shop.product.id, **fields)
    with svc.session() as s:
        return planning.start_batch(s, user=shop.user, request=request, settings=svc.settings,
                                   runner=svc.runner).id


def gen(svc, gid) -> PoseGeneration:
    with svc.session() as s:
        return s.get(PoseGeneration, gid)


def snapshot(svc, gid, user):
    rows = [(p.position, p.status, p.seed, p.attempts, p.image_path, p.thumbnail_path, p.control_path, p.finished_at,
             p.cost, p.round) for p in poses(svc, gid)]
    files = {k: svc.store.read(k) for k in pose_files(svc, user)}
    return rows, files, balance(svc, user), [(r.delta, r.idempotency_key) for r in ledger(svc, user)]


def backdate(svc, gid, *, minutes=10, **where):
    """Set heartbeat_at in the past (the worker or the queue went quiet that long ago)."""
    G = GeneratedPose
    conds = [G.generation_id == gid] + [getattr(G, k) == v if not isinstance(v, (list, tuple)) else
                                        getattr(G, k).in_(v) for k, v in where.items()]
    with svc.session() as s:
        s.execute(sa.update(G).where(*conds).values(heartbeat_at=utcnow() - timedelta(minutes=minutes)))
        s.commit()


def wait_for(predicate, what: str, timeout: float = WAIT):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(0.2)
    raise AssertionError(f"gave up waiting for {what}")


# --- planning --------------------------------------------------------------------------------------------

def test_a_distribution_plans_exactly_n_poses_per_category_once_each(svc):
    shop = ready_shop(svc)
    before = balance(svc, shop.user)
    gid = plan(svc, shop, pose_distribution={"product-holding": 3, "upper-body": 4, "sitting": 0}, seed=42)
    rows = poses(svc, gid)
    with svc.session() as s:
        templates = {p.template_id: s.get(PoseTemplate, p.template_id) for p in rows}
    assert [p.position for p in rows] == list(range(7))
    by_category = {}
    for p in rows:
        by_category.setdefault(templates[p.template_id].category, []).append(p)
    assert {c: len(v) for c, v in by_category.items()} == {"product-holding": 3, "upper-body": 4}
    assert len({p.template_id for p in rows}) == 7                                  # no template twice
    assert all(t.gender in ("female", "unisex") and t.is_active for t in templates.values())  # fits the avatar
    for p in rows:
        assert p.status == "pending" and p.image_path is None and p.attempts == 0 and p.round == 0
        assert 0 <= p.seed < SEED_LIMIT and p.cost == 10 and p.job_id
        assert p.prompt and p.negative_prompt
    assert len({p.seed for p in rows}) == 7
    g = gen(svc, gid)
    assert g.status == "pending" and g.total_poses == 7 and g.credits_reserved == 70
    assert g.pose_distribution == {"product-holding": 3, "upper-body": 4, "sitting": 0}
    assert balance(svc, shop.user) == before - 70
    assert pose_files(svc, shop.user) == set()  # planned, not rendered


def test_picks_vary_across_subcategories(svc):
    shop = ready_shop(svc)
    with svc.session() as s:
        subcats = {c: len(set(s.exec(select(PoseTemplate.subcategory).where(PoseTemplate.category == c,
                                                                             PoseTemplate.is_active.is_(True)))))
                   for c in ("product-holding", "upper-body")}
    assert subcats == {"product-holding": 3, "upper-body": 6}
    for seed in (1, 2, 3, 4, 5):
        gid = plan(svc, shop, pose_distribution={"product-holding": 3, "upper-body": 6}, seed=seed)
        with svc.session() as s:
            picked = [s.get(PoseTemplate, p.template_id) for p in poses(svc, gid)]
        for category, n in (("product-holding", 3), ("upper-body", 6)):
            names = [t.subcategory for t in picked if t.category == category]
            assert len(names) == n
            # every subcategory of the category before any one comes twice (the library has plenty of each)
            assert len(set(names)) >= n - 1, (seed, category, names)


def test_the_same_seed_gives_the_same_plan(svc):
    shop = ready_shop(svc)
    ask = dict(pose_distribution={"product-holding": 2, "skincare-application": 3})
    plans = []
    for seed in (777, 777, 778):
        gid = plan(svc, shop, seed=seed, **ask)
        plans.append([(p.position, p.template_id, p.seed, p.prompt, p.negative_prompt) for p in poses(svc, gid)])
        assert gen(svc, gid).options["seed"] == seed
    assert plans[0] == plans[1]
    assert plans[0] != plans[2]
    assert [p[2] for p in plans[0]] != [p[2] for p in plans[2]]  # the pose seeds come from the batch seed


def test_explicit_template_ids_are_planned_in_order(svc):
    shop = ready_shop(svc)
    chosen = [shop.templates[3].id, shop.templates[0].id, shop.templates[5].id]
    gid = plan(svc, shop, template_ids=chosen, seed=5)
    assert [p.template_id for p in poses(svc, gid)] == chosen
    g = gen(svc, gid)
    assert g.pose_distribution is None and g.options["templateIds"] == chosen and g.credits_reserved == 30


def test_a_category_with_too_few_poses_needs_allow_repeats(svc):
    shop = ready_shop(svc)
    with svc.session() as s:
        keep = list(s.exec(select(PoseTemplate.id).where(PoseTemplate.category == "lifestyle",
                                                         PoseTemplate.gender.in_(["female", "unisex"]))
                           .order_by(PoseTemplate.id).limit(2)))
        s.execute(sa.update(PoseTemplate).where(PoseTemplate.category == "lifestyle", PoseTemplate.id.notin_(keep))
                  .values(is_active=False))
        s.commit()
    before = balance(svc, shop.user)
    with pytest.raises(ValidationFailed) as err:
        plan(svc, shop, pose_distribution={"lifestyle": 3})
    assert "“lifestyle” has 2 active poses and you asked for 3" in err.value.message
    assert "allow repeats" in err.value.message and err.value.field == "poseDistribution"
    with svc.session() as s:
        assert s.exec(select(GeneratedPose)).all() == [] and s.exec(select(PoseGeneration)).all() == []
    assert balance(svc, shop.user) == before

    gid = plan(svc, shop, pose_distribution={"lifestyle": 3}, allow_repeats=True, seed=9)
    rows = poses(svc, gid)
    assert len(rows) == 3 and {p.template_id for p in rows} == set(keep)
    assert len({p.seed for p in rows}) == 3  # the repeated pose gets its own seed


# --- prices -------------------------------------------------------------------------------------------------

def test_a_four_pose_batch_reserves_forty_in_one_ledger_row(svc):
    shop = ready_shop(svc)
    before = balance(svc, shop.user)
    gid = plan(svc, shop, pose_distribution={"product-holding": 4})
    (row,) = ledger(svc, shop.user, gid)
    assert (row.delta, row.action, row.balance_after) == (-40, "generatePose", before - 40)
    assert balance(svc, shop.user) == before - 40 and gen(svc, gid).credits_reserved == 40
    assert gen(svc, gid).options["unitCost"] == 10 and all(p.cost == 10 for p in poses(svc, gid))


def test_from_a_hundred_poses_a_batch_is_charged_the_bulk_price(make_svc):
    svc = make_svc(starting_credits=2000)
    shop = ready_shop(svc)
    before = balance(svc, shop.user)
    small = plan(svc, shop, pose_distribution={"product-holding": 50, "upper-body": 49})
    (row,) = ledger(svc, shop.user, small)
    assert (row.delta, row.action) == (-990, "generatePose")
    big = plan(svc, shop, pose_distribution={"product-holding": 60, "upper-body": 40})
    (row,) = ledger(svc, shop.user, big)
    assert (row.delta, row.action, row.balance_after) == (-500, "batchGeneration", before - 990 - 500)
    g = gen(svc, big)
    assert g.credits_reserved == 500 and g.total_poses == 100 and g.options["priceAction"] == "batchGeneration"
    rows = poses(svc, big)
    assert len(rows) == 100 and all(p.cost == 5 and p.status == "pending" for p in rows)
    assert balance(svc, shop.user) == before - 1490
    # a cancelled bulk pose gets back what it paid (5), not the single price
    with svc.session() as s:
        batches.cancel(s, user=shop.user, generation_id=big)
    assert balance(svc, shop.user) == before - 990
    assert gen(svc, big).credits_refunded == 500


def test_refused_batches_plan_and_charge_nothing(make_svc):
    svc = make_svc(max_poses_per_generation=5)
    shop, other = ready_shop(svc, "siti"), ready_shop(svc, "budi")
    before = balance(svc, shop.user)
    with pytest.raises(ValidationFailed) as err:
        plan(svc, shop, pose_distribution={"product-holding": 6})
    assert err.value.message == "A batch can have at most 5 poses; you asked for 6."
    with pytest.raises(ValidationFailed) as err:
        plan(svc, shop, pose_distribution={"product-holding": 1, "nope": 1, "zzz": 2})
    assert "Unknown pose categories nope, zzz" in err.value.message and "product-holding" in err.value.message
    for theirs in (dict(avatar_id=other.avatar.id), dict(product_id=other.product.id),
                   dict(brand_kit_id=other.kit.id)):
        with svc.session() as s, pytest.raises(NotFound):
            planning.start_batch(s, user=shop.user, settings=svc.settings, runner=None, request=BatchRequest(
                **{"brand_kit_id": shop.kit.id, "avatar_id": shop.avatar.id, "product_id": shop.product.id,
                   **theirs}, pose_distribution={"product-holding": 2}))
    with svc.session() as s:
        s.execute(sa.update(User).where(User.id == shop.user.id).values(credits=35))
        s.commit()
    with pytest.raises(InsufficientCredits) as err:
        plan(svc, shop, pose_distribution={"product-holding": 4})
    assert "needs 40 credits and you have 35" in err.value.message
    with svc.session() as s:
        assert s.exec(select(GeneratedPose)).all() == [] and s.exec(select(PoseGeneration)).all() == []
    assert balance(svc, shop.user) == 35 and ledger(svc, shop.user) == []
    assert balance(svc, other.user) == before


# --- rendering, failures and refunds ----------------------------------------------------------------------

def test_a_rendered_batch_stores_every_image_and_a_second_run_changes_nothing(svc):
    shop = ready_shop(svc)
    gid = plan(svc, shop, pose_distribution={"product-holding": 3}, seed=3)
    with svc.session() as s:
        done = generation_render.render_generation(s, generation_id=gid, store=svc.store, settings=svc.settings,
                                            detector=None)
    assert done.status == "completed" and done.progress == 100 and done.completed_count == 3
    assert done.credits_used == 30 and done.credits_refunded == 0 and done.credits_reserved == 30
    rows = poses(svc, gid)
    assert all(p.status == "done" and p.attempts == 1 for p in rows)
    assert pose_files(svc, shop.user) == row_files(rows) and len(row_files(rows)) == 9
    first = snapshot(svc, gid, shop.user)
    with svc.session() as s:
        again = generation_render.render_generation(s, generation_id=gid, store=svc.store, settings=svc.settings,
                                             detector=None)
    assert again.status == "completed"
    assert snapshot(svc, gid, shop.user) == first


def test_failed_poses_are_refunded_once_and_the_books_add_up(svc):
    shop = ready_shop(svc)
    before = balance(svc, shop.user)
    gid = plan(svc, shop, pose_distribution={"product-holding": 4})
    render(svc, gid, [0, 1])
    after = render(svc, gid, [2, 3], detector=nobody_there)
    rows = poses(svc, gid)
    assert [p.status for p in rows] == ["done", "done", "failed", "failed"]
    assert all(p.attempts == 2 and "no person" in p.error and p.image_path is None for p in rows[2:])
    assert after.status == "completed" and after.completed_count == 2 and after.failed_count == 2
    assert (after.credits_reserved, after.credits_used, after.credits_refunded) == (40, 20, 20)
    assert balance(svc, shop.user) == before - 20
    rows_ledger = ledger(svc, shop.user, gid)
    assert sorted(r.delta for r in rows_ledger) == [-40, 10, 10]
    assert -sum(r.delta for r in rows_ledger) == after.credits_used
    # the refund is keyed per pose and round: running the job again, or refunding again, gives nothing more
    render(svc, gid, detector=nobody_there)
    with svc.session() as s:
        state.refund_pose(s, generation_id=gid, user_id=shop.user.id, position=2, round_=0, amount=10,
                               reason="again")
        s.commit()
    assert len(ledger(svc, shop.user, gid)) == 3 and balance(svc, shop.user) == before - 20
    assert pose_files(svc, shop.user) == row_files(rows) and len(row_files(rows)) == 6


def test_a_missing_model_fails_every_pose_with_a_reason_and_refunds_them(svc, make_svc, tmp_path):
    shop = ready_shop(svc)
    before = balance(svc, shop.user)
    gid = plan(svc, shop, pose_distribution={"product-holding": 3})
    broken = make_svc(engine="sd15", hf_cache_dir=tmp_path / "empty-hf", output_sizes="portrait=64x96").settings
    g = render(svc, gid, settings=broken, detector="auto")
    rows = poses(svc, gid)
    assert g.status == "failed" and g.failed_count == 3 and g.credits_refunded == 30 and g.credits_used == 0
    assert all(p.status == "failed" and p.error and "SD 1.5" in p.error for p in rows), [p.error for p in rows]
    assert balance(svc, shop.user) == before and pose_files(svc, shop.user) == set()


def test_the_kept_image_records_the_seed_that_made_it(svc):
    """A pose that passes on its second attempt keeps the second attempt's seed (the manifest promises it)."""
    from core.library.poses.transforms import fit_to_aspect

    shop = ready_shop(svc)
    gid = plan(svc, shop, template_ids=[shop.template.id], seed=11)
    (planned,) = poses(svc, gid)
    g = gen(svc, gid)
    fitted = fit_to_aspect(shop.template.keypoints, g.options["width"] / g.options["height"],
                           source_aspect=shop.template.aspect).to_json()
    calls = []

    def second_time_lucky(image):  # nobody on the first image, the template's own pose on the second
        calls.append(image.size)
        return [] if len(calls) == 1 else [fitted]

    render(svc, gid, detector=second_time_lucky)
    (pose,) = poses(svc, gid)
    assert len(calls) == 2 and pose.status == "done" and pose.attempts == 2
    assert pose.quality_checked and pose.quality_score == 1.0
    assert pose.seed == retry_seed(planned.seed, 1) != planned.seed


# --- cancel ---------------------------------------------------------------------------------------------------

def test_cancelling_a_planned_batch_refunds_every_pose(svc):
    shop = ready_shop(svc)
    before = balance(svc, shop.user)
    gid = plan(svc, shop, pose_distribution={"product-holding": 4})
    with svc.session() as s:
        g = batches.cancel(s, user=shop.user, generation_id=gid)
    assert g.status == "cancelled" and g.credits_refunded == 40 and g.credits_used == 0 and g.progress == 100
    assert all(p.status == "cancelled" for p in poses(svc, gid))
    assert balance(svc, shop.user) == before
    assert sorted(r.delta for r in ledger(svc, shop.user, gid)) == [-40, 10, 10, 10, 10]
    # nothing renders afterwards, a second cancel is refused, and the refunds are not paid twice
    render(svc, gid)
    assert pose_files(svc, shop.user) == set() and all(p.status == "cancelled" for p in poses(svc, gid))
    with svc.session() as s, pytest.raises(Conflict) as err:
        batches.cancel(s, user=shop.user, generation_id=gid)
    assert "already cancelled" in err.value.message
    assert balance(svc, shop.user) == before


def test_cancelling_mid_run_keeps_the_finished_images_and_refunds_the_rest(svc):
    shop = ready_shop(svc)
    before = balance(svc, shop.user)
    gid = plan(svc, shop, pose_distribution={"product-holding": 5})
    render(svc, gid, [0, 1])                       # the first job's chunk
    assert gen(svc, gid).status == "running"
    with svc.session() as s:
        g = batches.cancel(s, user=shop.user, generation_id=gid)
    assert g.status == "cancelled" and g.completed_count == 2
    assert (g.credits_reserved, g.credits_used, g.credits_refunded) == (50, 20, 30)
    rows = poses(svc, gid)
    assert [p.status for p in rows] == ["done", "done", "cancelled", "cancelled", "cancelled"]
    assert balance(svc, shop.user) == before - 20
    assert pose_files(svc, shop.user) == row_files(rows) and len(row_files(rows)) == 6
    first = snapshot(svc, gid, shop.user)
    render(svc, gid, [2, 3])                      # the second job arrives late: nothing to do
    assert snapshot(svc, gid, shop.user) == first


def test_cancelling_a_finished_batch_is_refused(svc):
    shop = ready_shop(svc)
    gid = plan(svc, shop, pose_distribution={"product-holding": 2})
    render(svc, gid)
    with svc.session() as s, pytest.raises(Conflict) as err:
        batches.cancel(s, user=shop.user, generation_id=gid)
    assert "already completed" in err.value.message
    assert gen(svc, gid).status == "completed" and all(p.status == "done" for p in poses(svc, gid))


def test_a_claimed_pose_cancelled_before_the_worker_stores_it_is_dropped(svc):
    """claim -> the user cancels -> the worker finishes its render and tries to store: the conditional
    UPDATE finds the pose no longer running for this worker, so no row changes and no file stays."""
    from core.library.poses.render import render_skeleton
    from core.library.poses.transforms import fit_to_aspect
    from PIL import Image

    from core.generation.quality import check_image
    from engine.pipeline import RenderRequest, get_engine

    shop = ready_shop(svc)
    before = balance(svc, shop.user)
    gid = plan(svc, shop, pose_distribution={"product-holding": 3})
    worker = work.worker_id("w1")
    with svc.session() as s:
        assert work.claim(s, generation_id=gid, positions=[0, 1], worker=worker) == [0, 1]
    assert [p.status for p in poses(svc, gid)] == ["running", "running", "pending"]
    with svc.session() as s:
        batches.cancel(s, user=shop.user, generation_id=gid)
    # the worker's own job now runs: it claims nothing (the batch is cancelled)...
    render(svc, gid, [0, 1], worker=worker)
    # ...and a render that was already under way when the user cancelled is dropped when it is stored
    engine = get_engine(svc.settings)
    g = gen(svc, gid)
    first, second = (p.id for p in poses(svc, gid)[:2])
    with svc.session() as s:
        pose = s.get(GeneratedPose, first)
        template = s.get(PoseTemplate, pose.template_id)
        fitted = fit_to_aspect(template.keypoints, g.options["width"] / g.options["height"],
                               source_aspect=template.aspect).to_json()
        control = Image.fromarray(render_skeleton(fitted, g.options["width"], g.options["height"]))
        (result,) = engine.render([RenderRequest(pose.prompt, control, pose.seed, pose.negative_prompt)], steps=2)
        quality = check_image(image=result.image, template_keypoints=fitted, detector=None)
        kept = generation_render._Work(pose, fitted, control, attempt=1)
        # the other claimed pose fails its check after the cancel: not refunded a second time
        other = generation_render._Work(s.get(GeneratedPose, second), fitted, control,
                                        attempt=svc.settings.max_attempts)
        failing = check_image(image=Image.new("RGB", result.image.size), template_keypoints=fitted, detector=None)
        assert not failing.accepted   # a blank image
        again = generation_render._store(
            s, g, [kept, other], [Judged(kept, result.image, quality),
                                  Judged(other, result.image, failing)],
            store=svc.store, settings=svc.settings, worker=worker)
        assert again == []
    rows = poses(svc, gid)
    assert [p.status for p in rows] == ["cancelled"] * 3 and all(p.image_path is None for p in rows)
    assert all(p.error == "Cancelled." for p in rows)
    assert pose_files(svc, shop.user) == set()
    assert balance(svc, shop.user) == before and len(ledger(svc, shop.user, gid)) == 4


class _Hook:
    """The real engine with something happening while it renders (a user's click, another worker)."""

    def __init__(self, engine, during):
        self.engine, self.during, self.calls = engine, during, 0

    def describe(self):
        return self.engine.describe()

    def render(self, requests, **kw):
        self.calls += 1
        out = self.engine.render(requests, **kw)
        self.during(self.calls)
        return out


def test_progress_and_counts_move_with_every_micro_batch_and_end_exact(svc):
    """Each stored micro-batch moves the generation's counters in its own transaction (state.bump); the recount
    at the end of the job agrees with them."""
    from engine.pipeline import get_engine

    shop = ready_shop(svc)
    gid = plan(svc, shop, pose_distribution={"product-holding": 6})   # micro-batches of 2: three render calls
    seen = {}

    def look(call):
        if call == 3:   # submitted after the first micro-batch was stored (two are in flight at a time)
            g = gen(svc, gid)
            seen.update(done=g.completed_count, progress=g.progress, used=g.credits_used, status=g.status)

    g = render(svc, gid, engine=_Hook(get_engine(svc.settings), look))
    assert seen["status"] == "running" and seen["done"] >= 2 and seen["progress"] >= 100 * 2 / 6 - 0.1
    assert seen["used"] == seen["done"] * poses(svc, gid)[0].cost
    assert (g.status, g.completed_count, g.progress) == ("completed", 6, 100.0)
    assert g.credits_used == 6 * poses(svc, gid)[0].cost and g.credits_refunded == 0


def test_cancel_while_the_engine_renders_drops_the_results(svc):
    from engine.pipeline import get_engine

    shop = ready_shop(svc)
    before = balance(svc, shop.user)
    gid = plan(svc, shop, pose_distribution={"product-holding": 4})

    def user_cancels(call):
        if call == 2:
            with svc.session() as s:
                batches.cancel(s, user=shop.user, generation_id=gid)

    hook = _Hook(get_engine(svc.settings), user_cancels)
    g = render(svc, gid, engine=hook)
    rows = poses(svc, gid)
    assert hook.calls == 2
    assert [p.status for p in rows] == ["done", "done", "cancelled", "cancelled"]
    assert g.status == "cancelled" and (g.credits_used, g.credits_refunded) == (20, 20)
    assert pose_files(svc, shop.user) == row_files(rows) and len(row_files(rows)) == 6
    assert balance(svc, shop.user) == before - 20 and len(ledger(svc, shop.user, gid)) == 3


def test_a_late_result_of_a_worker_presumed_dead_never_replaces_the_stored_image(svc):
    """Worker A claims a pose and goes quiet; the reaper hands it to worker B, which stores its image. When
    A comes back with its own result (a later attempt, another seed), the stored image must stay B's: the
    row says B's seed, and the file is what the export and the manifest promise."""
    from core.library.poses.transforms import fit_to_aspect
    from engine.pipeline import get_engine

    shop = ready_shop(svc)
    gid = plan(svc, shop, template_ids=[shop.template.id], seed=21)
    g = gen(svc, gid)
    fitted = fit_to_aspect(shop.template.keypoints, g.options["width"] / g.options["height"],
                           source_aspect=shop.template.aspect).to_json()
    a, b = work.worker_id("slow-a"), work.worker_id("fresh-b")
    stored = {}

    def meanwhile(call):
        if call == 2:  # A's second attempt is rendering: A looks dead, B takes the pose over and finishes
            backdate(svc, gid, worker_id=a)
            with svc.session() as s:
                assert work.reap(s, runner=None, settings=svc.settings)["revived"] == 1
            render(svc, gid, worker=b)
            (p,) = poses(svc, gid)
            stored.update(row=(p.status, p.worker_id, p.seed, p.attempts, p.image_path),
                          image=svc.store.read(p.image_path), control=svc.store.read(p.control_path))

    seen = []

    def a_detector(image):  # A's first attempt fails the check, its second passes
        seen.append(1)
        return [] if len(seen) == 1 else [fitted]

    render(svc, gid, worker=a, engine=_Hook(get_engine(svc.settings), meanwhile), detector=a_detector)
    (p,) = poses(svc, gid)
    assert stored["row"][:2] == ("done", b)
    assert (p.status, p.worker_id, p.seed, p.attempts, p.image_path) == stored["row"]
    assert svc.store.read(p.image_path) == stored["image"], "worker A's late image replaced worker B's"
    assert pose_files(svc, shop.user) == row_files([p])


# --- the reaper -------------------------------------------------------------------------------------------

def test_a_dead_workers_pose_and_lost_jobs_are_handed_out_again_and_end_done_once(make_svc):
    still = make_svc()
    shop = ready_shop(still)
    before = balance(still, shop.user)
    gid = plan(still, shop, pose_distribution={"product-holding": 3})
    dead = "gone-host:4242:deadbeef"
    with still.session() as s:
        assert work.claim(s, generation_id=gid, positions=[1], worker=dead) == [1]
    backdate(still, gid)                    # the dead worker's heartbeat and the jobs' queue time are old
    # a fresh reaper pass in a process whose runner never saw these jobs (as after a restart)
    live = make_svc(runner=True)
    from jobs.tasks import reap

    found = reap(live)
    assert found == {"revived": 1, "requeued": 3}
    live.runner.wait_idle(timeout=WAIT)
    rows = poses(live, gid)
    assert [p.status for p in rows] == ["done"] * 3 and all(p.attempts == 1 for p in rows)
    assert all(p.worker_id != dead for p in rows)
    assert gen(live, gid).status == "completed"
    assert pose_files(live, shop.user) == row_files(rows) and len(row_files(rows)) == 9
    assert balance(live, shop.user) == before - 30 and [r.delta for r in ledger(live, shop.user, gid)] == [-30]
    with live.session() as s:
        uses = s.exec(select(sa.func.sum(PoseTemplate.usage_count))).one()
    assert uses == 0   # no detector weights here: "not checked" moves no template statistics (counted once
                       # when checked: tests/test_honest_states.py)
    assert reap(live) == {"revived": 0, "requeued": 0}


def test_the_reaper_leaves_live_work_alone(make_svc):
    svc = make_svc()
    shop = ready_shop(svc)
    fresh = plan(svc, shop, pose_distribution={"product-holding": 2})
    with svc.session() as s:
        work.claim(s, generation_id=fresh, positions=[0], worker=work.worker_id("alive"))
    stopped = plan(svc, shop, pose_distribution={"product-holding": 2})
    with svc.session() as s:
        work.claim(s, generation_id=stopped, positions=[0], worker="dead:1:x")
        batches.cancel(s, user=shop.user, generation_id=stopped)
    backdate(svc, stopped)
    live = make_svc(runner=True)
    with live.session() as s:
        # a running pose with a fresh heartbeat, a pending one just queued, and a cancelled batch: untouched
        assert work.reap(s, runner=live.runner, settings=live.settings) == {"revived": 0, "requeued": 0}
    assert [p.status for p in poses(svc, fresh)] == ["running", "pending"]
    assert [p.status for p in poses(svc, stopped)] == ["cancelled", "cancelled"]


def test_unfinished_batches_resume_when_the_app_starts(make_svc):
    """The app stopped with a batch half done: one pose finished, one held by a worker thread that died
    with the process, the rest queued in a runner that no longer exists. Starting the app again (its reaper
    passes at once) finishes the batch; the finished pose is left as it was."""
    from app import create_app

    first = make_svc()
    shop = ready_shop(first)
    before = balance(first, shop.user)
    gid = plan(first, shop, pose_distribution={"product-holding": 4})
    render(first, gid, [3])
    with first.session() as s:
        work.claim(s, generation_id=gid, positions=[2], worker=work.worker_id("died-with-the-app"))
    backdate(first, gid, status=["pending", "running"])
    (kept,) = [p for p in poses(first, gid) if p.position == 3]
    kept_bytes = first.store.read(kept.image_path)

    again = make_svc(runner=True)
    create_app(again.settings, again)
    wait_for(lambda: gen(again, gid).status == "completed", "the batch to finish after the restart")
    again.runner.wait_idle(timeout=WAIT)
    rows = poses(again, gid)
    assert [p.status for p in rows] == ["done"] * 4 and all(p.attempts == 1 for p in rows)
    (p3,) = [p for p in rows if p.position == 3]
    assert (p3.finished_at, p3.worker_id, p3.image_path) == (kept.finished_at, kept.worker_id, kept.image_path)
    assert again.store.read(p3.image_path) == kept_bytes
    assert pose_files(again, shop.user) == row_files(rows) and len(row_files(rows)) == 12
    assert balance(again, shop.user) == before - 40 and len(ledger(again, shop.user, gid)) == 1


def test_a_template_deleted_while_its_pose_waits_fails_that_pose_only(svc):
    """The data team deletes a library pose (DELETE /api/apps/pose-generator/templates/{id}) while a batch
    that uses it is queued: the pose's template_id becomes NULL. That pose cannot be drawn; it must fail
    with a reason and be refunded, and the rest of the job must still render (not crash the job and leave
    its poses 'running' for the reaper to hand out again, forever)."""
    from core.accounts import users

    shop = ready_shop(svc)
    before = balance(svc, shop.user)
    gid = plan(svc, shop, template_ids=[t.id for t in shop.templates[:3]])
    with svc.session() as s:
        admin = users.create_user(s, username="datateam", password=None, settings=svc.settings, role="admin")
        lib.delete(s, user=admin, template_id=shop.templates[1].id)
    assert poses(svc, gid)[1].template_id is None
    try:
        g = render(svc, gid)
    except Exception as exc:  # noqa: BLE001
        pytest.fail(f"the job crashed ({type(exc).__name__}: {exc}); its poses were left "
                    f"{[p.status for p in poses(svc, gid)]}")
    rows = poses(svc, gid)
    assert [p.status for p in rows] == ["done", "failed", "done"]
    assert rows[1].error and g.status == "completed" and g.credits_refunded == 10
    assert balance(svc, shop.user) == before - 20
