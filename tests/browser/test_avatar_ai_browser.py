"""The Avatars page's "Generate with AI" tab in a real Chromium with ENGINE=tiny (the real diffusers classes
at toy size): describe the model, pick a trait, generate 4 candidates (20 credits, their images load from
/api/files), keep one with a name and a brand kit -> an ai_generated avatar with its prompt in the gallery,
without a second charge; the unchosen candidates' files go."""
from __future__ import annotations

import pytest
from browser_harness import GradioPage
from sqlmodel import select

from core.catalog import avatar_ai, brand_kits
from core.accounts import credits
from core.catalog.brand_kits import BrandKitCreate
from db.models import Avatar

RENDER_MS = 240_000  # the first tiny pipeline of the server process is written and loaded; a loaded box is slow


@pytest.fixture
def tiny_app(start_tiny_app):
    return start_tiny_app()


@pytest.fixture
def ui(page, tiny_app) -> GradioPage:
    return GradioPage(page, tiny_app)


def make_kit(app, name: str) -> str:
    with app.acting() as (s, user):
        kit = brand_kits.create(s, user=user, data=BrandKitCreate(brand_name=name, colors=["#3B2314"],
                                                                  fonts=["Poppins"]))
        return f"{kit.id} · {kit.brand_name}"


def balance(app) -> int:
    with app.acting() as (s, user):
        return credits.balance(s, user_id=user.id)


def candidate_keys(app) -> list[str]:
    return [k for k in app.services.store.all_keys() if f"/{avatar_ai.KIND}/" in k]


def loaded(ui, img) -> int:
    img.scroll_into_view_if_needed()  # the tiles are loading=lazy
    return ui.wait_img(img)


def test_generate_four_candidates_and_keep_one(ui, tiny_app):
    make_kit(tiny_app, "Toko Cantik")
    kit = make_kit(tiny_app, "Butik Hijab")
    ui.goto("/avatars", ready="avatar-file")
    ui.open_tab("Generate with AI")
    ui.locator("avatar-ai-generate").wait_for(state="visible")
    before = ui.credits()
    assert before == balance(tiny_app)

    ui.fill("avatar-ai-text", "friendly batik seller, short hair, warm smile")
    ui.pick("avatar-ai-gender", "female")
    ui.fill("avatar-ai-seed", "7")
    ui.click("avatar-ai-generate")
    ui.wait_message("avatar-message", r"4 candidates ready", timeout_ms=RENDER_MS)
    ui.wait_idle()

    tiles = ui.page.locator("#avatar-ai-gallery .apg-tile img")
    assert tiles.count() == 4
    for i in range(4):
        img = tiles.nth(i)
        assert "/api/files/" in img.get_attribute("src"), img.get_attribute("src")
        assert loaded(ui, img) > 0
    assert "batik seller" in ui.message("avatar-ai-candidates")  # the prompt is shown
    assert ui.credits() == before - 20
    assert balance(tiny_app) == before - 20
    assert len(candidate_keys(tiny_app)) == 4

    # keep the second candidate (seeds 7, 8, 9, 10), in the second kit, with a name
    ui.page.locator("#avatar-ai-pick label", has_text="Candidate 2 (seed 8)").click()
    ui.page.wait_for_function(
        "() => document.querySelector('#avatar-ai-pick input[type=radio]:checked')?.value === 'Candidate 2 (seed 8)'")
    ui.pick("avatar-ai-kit", kit)
    ui.fill("avatar-ai-name", "Dewi")
    ui.click("avatar-ai-save")
    ui.wait_message("avatar-message", r"Saved “Dewi” \(AI-generated\)")
    ui.wait_idle()

    tile = ui.page.locator("#avatar-gallery .apg-tile", has_text="Dewi")
    assert "AI" in tile.inner_text()
    assert loaded(ui, tile.locator("img")) > 0
    assert ui.message("avatar-ai-candidates") == ""  # the set is gone from the tab, and the name is cleared
    assert ui.value("avatar-ai-name") == ""
    assert ui.credits() == before - 20  # choosing is free
    assert not ui.page_errors, ui.page_errors

    with tiny_app.acting() as (s, user):
        (avatar,) = s.exec(select(Avatar).where(Avatar.user_id == user.id)).all()
        assert avatar.name == "Dewi" and avatar.source_type == "ai_generated"
        assert f"{avatar.brand_kit_id} · Butik Hijab" == kit
        assert avatar.gender == "female"
        assert avatar.generation_prompt and "batik seller" in avatar.generation_prompt
        assert credits.balance(s, user_id=user.id) == before - 20
    assert candidate_keys(tiny_app) == []
