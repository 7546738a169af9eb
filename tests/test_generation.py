"""The per-pose pipeline with ENGINE=tiny (the real diffusers classes at toy size, loaded from disk like
real weights), on SQLite and Postgres: try one pose end to end, the pose check's outcomes, refunds,
ownership."""
from __future__ import annotations

import pytest
from PIL import Image
from sqlmodel import select

from core.accounts import credits
from core.generation import state, render, planning
from core.library import templates as lib
from core.errors import NotFound, ValidationFailed
from core.generation.planning import TryOne
from services import Services
from db.models import GeneratedPose, PoseTemplate
from tests.factories import ready_shop


@pytest.fixture
def svc(make_settings, db_url, tiny_engine_values):
    settings = make_settings(database_url=db_url, **tiny_engine_values, engine_batch_size=2,
                             max_attempts=2)
    s = Services.build(settings, migrate=False, runner=False)
    with s.session() as session:
        lib.load_library(session)
    yield s
    s.close()


def shop(svc, name="siti"):
    sh = ready_shop(svc, name)
    return sh.user, sh.kit, sh.avatar, sh.product, sh.template


def ask(kit, avatar, product, template, seed=1234):
    return TryOne(brand_kit_id=kit.id, avatar_id=avatar.id, product_id=product.id, template_id=template.id, seed=seed,
                  size="portrait")


def test_try_one_pose_without_a_detector_is_stored_and_marked_not_checked(svc):
    user, kit, avatar, product, template = shop(svc)
    with svc.session() as s:
        gen = planning.start_single(s, user=user, request=ask(kit, avatar, product, template), settings=svc.settings,
                                      runner=None)
        assert credits.balance(s, user_id=user.id) == 1000 - 5 - 5 - 5 - 3 - 10
        done = render.render_generation(s, generation_id=gen.id, store=svc.store, settings=svc.settings,
                                            detector=None)
        assert done.status == "completed" and done.progress == 100 and done.completed_count == 1
        (pose,) = state.poses_of(s, user=user, generation_id=gen.id)
    assert pose.status == "done" and pose.quality_checked is False and pose.quality_score is None  # never invented
    assert pose.attempts == 1 and pose.seed == 1234 and "holding" in pose.prompt
    w, h = gen.options["width"], gen.options["height"]
    with Image.open(svc.store.path(pose.image_path)) as im:
        assert im.size == (w, h)
    with Image.open(svc.store.path(pose.control_path)) as im:
        assert im.size == (w, h) and im.convert("RGB").getextrema() != ((0, 0),) * 3
    assert svc.store.exists(pose.thumbnail_path)
    assert done.options["engine"]["engine"] == "tiny" or "tiny" in str(done.options["engine"])
    with svc.session() as s:
        t = s.get(PoseTemplate, template.id)
        assert t.usage_count == 0 and t.success_count == 0  # "not checked" is no success for the template


def test_running_a_generation_twice_changes_nothing(svc):
    user, kit, avatar, product, template = shop(svc)
    with svc.session() as s:
        gen = planning.start_single(s, user=user, request=ask(kit, avatar, product, template), settings=svc.settings,
                                      runner=None)
        render.render_generation(s, generation_id=gen.id, store=svc.store, settings=svc.settings, detector=None)
        files = svc.store.all_keys()
        balance = credits.balance(s, user_id=user.id)
        render.render_generation(s, generation_id=gen.id, store=svc.store, settings=svc.settings, detector=None)
        assert svc.store.all_keys() == files and credits.balance(s, user_id=user.id) == balance
        assert len(s.exec(select(GeneratedPose).where(GeneratedPose.generation_id == gen.id)).all()) == 1


def test_same_seed_gives_the_same_image(svc):
    user, kit, avatar, product, template = shop(svc)
    images = []
    with svc.session() as s:
        for _ in range(2):
            gen = planning.start_single(s, user=user, request=ask(kit, avatar, product, template, seed=77),
                                          settings=svc.settings, runner=None)
            render.render_generation(s, generation_id=gen.id, store=svc.store, settings=svc.settings, detector=None)
            (pose,) = state.poses_of(s, user=user, generation_id=gen.id)
            images.append(svc.store.read(pose.image_path))
    assert images[0] == images[1]


def test_a_pose_that_fails_the_check_is_retried_then_failed_and_refunded(svc):
    user, kit, avatar, product, template = shop(svc)
    calls = []

    def nobody_there(image):  # a real detector on a toy model's output finds no person either
        calls.append(image.size)
        return []

    with svc.session() as s:
        before = credits.balance(s, user_id=user.id)
        gen = planning.start_single(s, user=user, request=ask(kit, avatar, product, template), settings=svc.settings,
                                      runner=None)
        done = render.render_generation(s, generation_id=gen.id, store=svc.store, settings=svc.settings,
                                            detector=nobody_there)
        (pose,) = state.poses_of(s, user=user, generation_id=gen.id)
        assert credits.balance(s, user_id=user.id) == before  # charged 10, refunded 10
        t = s.get(PoseTemplate, template.id)
    assert len(calls) == svc.settings.max_attempts == 2
    assert pose.status == "failed" and pose.attempts == 2 and pose.quality_score == 0
    assert "no person" in pose.error.lower() and pose.image_path is None
    assert done.status == "failed" and done.credits_refunded == 10
    assert t.usage_count == 1 and t.success_count == 0


def test_another_users_avatar_or_product_is_not_found_and_nothing_is_planned(svc):
    _, kit, avatar, product, template = shop(svc, "siti")
    other, other_kit, other_avatar, other_product, _ = shop(svc, "budi")
    with svc.session() as s:
        for req in (ask(other_kit, avatar, other_product, template), ask(other_kit, other_avatar, product, template),
                    ask(kit, other_avatar, other_product, template)):
            with pytest.raises(NotFound):
                planning.start_single(s, user=other, request=req, settings=svc.settings, runner=None)
        assert s.exec(select(GeneratedPose)).all() == []
        assert credits.balance(s, user_id=other.id) == 1000 - 5 - 5 - 5 - 3


def test_a_product_without_its_cut_out_is_refused(svc):
    user, kit, avatar, product, template = shop(svc)
    with svc.session() as s:
        p = s.get(type(product), product.id)
        p.cutout_path, p.bg_status = None, "failed"
        s.add(p)
        s.commit()
        with pytest.raises(ValidationFailed) as err:
            planning.start_single(s, user=user, request=ask(kit, avatar, product, template), settings=svc.settings,
                                    runner=None)
    assert "cut-out" in err.value.message
