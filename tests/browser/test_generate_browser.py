"""The Generate page in a real Chromium with ENGINE=tiny (the real diffusers classes at toy size): pick a
brand kit, avatar, product, pose category and pose (its skeleton preview loads), a seed, and try one pose;
the page's timer shows the result image next to its control skeleton, with score, seed and prompt."""
from __future__ import annotations

import io

import numpy as np
import pytest
from browser_harness import GradioPage
from PIL import Image
from sqlmodel import select

from core.catalog import avatars, brand_kits, products
from core.accounts import credits
from core.library import templates as lib
from core.catalog.avatars import AvatarCreate
from core.catalog.background import cut_out_with_mask
from core.catalog.brand_kits import BrandKitCreate
from core.catalog.products import ProductCreate
from db.models import GeneratedPose, PoseTemplate

RENDER_MS = 240_000  # the first tiny pipeline of the server process is written and loaded; a loaded box is slow


@pytest.fixture
def tiny_app(start_tiny_app):
    return start_tiny_app()


@pytest.fixture
def ui(page, tiny_app) -> GradioPage:
    return GradioPage(page, tiny_app)


def _photo(color) -> bytes:
    buf = io.BytesIO()
    Image.new("RGB", (64, 96), color).save(buf, "PNG")
    return buf.getvalue()


def seed_shop(app):
    """The library, a kit, an avatar, a product with a ready cut-out and one still waiting (not offered)."""
    with app.acting() as (s, user):
        lib.load_library(s)
        kit = brand_kits.create(s, user=user, data=BrandKitCreate(brand_name="Toko Sari", colors=["#AA3355"],
                                                                  fonts=["Poppins"]))
        avatar = avatars.upload(s, user=user, data=AvatarCreate(brand_kit_id=kit.id, name="Sari", gender="female"),
                                source=_photo((200, 170, 150)), filename="sari.png", store=app.services.store,
                                settings=app.settings)
        waiting = products.upload(s, user=user, data=ProductCreate(name="Lipstik", placement="hand-left"),
                                  source=_photo((200, 20, 60)), filename="lip.png", store=app.services.store,
                                  settings=app.settings, runner=None)
        product = products.upload(s, user=user, data=ProductCreate(name="Serum", placement="hand-right",
                                                                   product_type="bottle", brand_kit_id=kit.id),
                                  source=_photo((30, 120, 200)), filename="serum.png", store=app.services.store,
                                  settings=app.settings, runner=None)
        pixels = np.zeros((96, 64, 4), np.uint8)
        pixels[..., :3], pixels[..., 3] = (30, 120, 200), 255
        mask = np.zeros((96, 64), np.uint8)
        mask[20:80, 20:44] = 255
        product.cutout_path = app.services.store.save(cut_out_with_mask(pixels, mask).png, user_id=user.id,
                                                      kind="cutout", ext="png")
        product.bg_status = "done"
        s.add(product)
        s.commit()
        template = s.exec(select(PoseTemplate).where(PoseTemplate.product_placement == "hand-right",
                                                     PoseTemplate.is_active.is_(True))
                          .order_by(PoseTemplate.id)).first()
        return (f"{kit.id} · {kit.brand_name}", f"{avatar.id} · {avatar.name}", f"{product.id} · {product.name}",
                f"{waiting.id} · {waiting.name}", template)


def test_try_one_pose_shows_the_image_and_its_skeleton(ui, tiny_app):
    kit, avatar, product, waiting, template = seed_shop(tiny_app)
    ui.goto("/generate", ready="gen-try")
    before = ui.credits()
    ui.pick("gen-kit", kit)
    ui.wait_idle()
    ui.pick("gen-avatar", avatar)
    ui.pick("gen-product", product)
    ui.locator("gen-product", "input[role=combobox]").click()
    ui.locator("gen-product", "li[role=option]").first.wait_for()
    offered = [li.get_attribute("aria-label") for li in ui.locator("gen-product", "li[role=option]").all()]
    ui.page.mouse.click(2, 2)
    assert product in offered and waiting not in offered, offered  # only products with a cut-out (or worn)
    ui.pick("gen-category", template.category)
    ui.wait_idle()
    ui.pick("gen-template", f"{template.id} · {template.name}")
    ui.wait_idle()
    assert ui.wait_img(ui.locator("gen-template-preview", "img")) > 0
    ui.fill("gen-seed", "4242")
    ui.fill("gen-extra", "soft morning light")
    ui.click("gen-try")
    ui.wait_message("gen-message", r"Started")
    assert ui.credits() == before - 10
    ui.page.wait_for_function("() => { const e = document.querySelector('#gen-result-image');"
                              " return !!e && e.complete && e.naturalWidth > 0; }", timeout=RENDER_MS)
    assert ui.wait_img(ui.locator("gen-result", "#gen-result-control")) > 0
    assert "not checked" in ui.message("gen-result-score")  # no detector weights offline: never a made-up score
    assert "4242" in ui.message("gen-result-seed")
    assert "soft morning light" in ui.message("gen-result-prompt")
    ui.wait_message("gen-message", r"Done")
    assert not ui.page_errors, ui.page_errors
    with tiny_app.acting() as (s, user):
        (pose,) = s.exec(select(GeneratedPose).where(GeneratedPose.user_id == user.id)).all()
        assert pose.status == "done" and pose.seed == 4242 and pose.template_id == template.id
        assert credits.balance(s, user_id=user.id) == before - 10
