"""Posters in a real Chromium: from a batch rendered by the tiny engine, select two images on the Results page and
"Send to poster"; the Posters page opens with them, makes 2 formats x 1 layout (4 posters, 12 credits, the price
shown first), shows them in the gallery, exports them as one ZIP (a folder per format, exact pixel sizes),
selects and deletes by clicking; the Analytics page counts the posters and the export. And in Indonesian (a
browser whose language is id-ID): the Posters page speaks Indonesian, a layout preview picks a layout, and a poster
is made."""
from __future__ import annotations

import io
import re
import zipfile

import pytest
from browser_harness import GradioPage, seed_ready_shop
from PIL import Image
from sqlmodel import select

from core.generation import planning, batches
from core.generation.planning import BatchRequest
from db.models import GeneratedPose, PoseTemplate, Poster

RENDER_MS = 240_000  # the first tiny pipeline of the server process is written and loaded; a loaded box is slow
SHOTS = "/tmp"
SIZES = {"instagram-post": (1080, 1080), "story": (1080, 1920)}


@pytest.fixture
def batch_app(start_tiny_app):
    return start_tiny_app(engine_batch_size=2, job_chunk_size=2)


@pytest.fixture
def ui(page, batch_app) -> GradioPage:
    return GradioPage(page, batch_app)


def finished_batch(app, n: int) -> int:
    """A batch of n poses of the local admin, rendered by the app's own runner with the tiny engine."""
    shop = seed_ready_shop(app)
    with app.acting() as (s, user):
        req = BatchRequest(brand_kit_id=shop.kit_id, avatar_id=shop.avatar_id, product_id=shop.product_id,
                           pose_distribution={"product-holding": n})
        gid = planning.start_batch(s, user=user, request=req, settings=app.settings, runner=app.services.runner).id
    app.services.runner.wait_idle(timeout=RENDER_MS / 1000)
    with app.acting() as (s, user):
        assert batches.status(s, user=user, generation_id=gid).done == n
    return gid


def analytics_numbers(ui: GradioPage) -> tuple[str, str]:
    """(the note under "Images created", which counts posters; the number of items exported)."""
    ui.goto("/analytics", ready="analytics-tiles")
    return (ui.message("analytics-images-created"),
            ui.locator("analytics-exported", ".analytics-value").inner_text().strip())


def posters_shown(ui: GradioPage) -> int:
    return ui.page.locator("#post-gallery-grid figure.post-poster").count()


def wait_posters(ui: GradioPage, n: int) -> None:
    ui.page.wait_for_function(
        "n => document.querySelectorAll('#post-gallery-grid figure.post-poster img').length === n"
        " && [...document.querySelectorAll('#post-gallery-grid img')].every(i => i.complete && i.naturalWidth > 0)",
        arg=n)


def checked(ui: GradioPage, elem_id: str) -> list[str]:
    return [lab.strip() for lab in ui.locator(elem_id, "label:has(input:checked)").all_inner_texts()]


def test_send_two_results_to_posters_export_and_see_them_counted(ui, batch_app):
    gid = finished_batch(batch_app, 2)
    created_note, exported = analytics_numbers(ui)
    assert re.search(r"\b0 posters\b", created_note) and exported == "0", (created_note, exported)

    # --- Results page: select both images, send them to the Posters page ------------------------------------
    ui.goto(f"/results?generation={gid}", ready="res-progress-box")
    ui.page.wait_for_function("() => document.querySelectorAll('#res-gallery img[src^=\"/api/files/\"]').length"
                              " === 2", timeout=RENDER_MS)
    with batch_app.acting() as (s, user):
        ids = [p.id for p in s.exec(select(GeneratedPose).where(GeneratedPose.generation_id == gid)
                                    .order_by(GeneratedPose.position))]
    ui.click("res-to-poster")  # nothing selected and no image open: a message, no navigation
    ui.wait_message("res-message", r"Select finished images")
    assert "/results" in ui.page.url
    ui.locator("res-select", "input[role=combobox]").click()
    ui.locator("res-select", "li[role=option]").first.wait_for()
    labels = [li.get_attribute("aria-label") for li in ui.locator("res-select", "li[role=option]").all()]
    ui.page.mouse.click(2, 2)
    assert sorted(int(lab.split(" · ")[0]) for lab in labels) == sorted(ids)
    ui.pick_many("res-select", labels)
    with ui.page.expect_navigation():
        ui.click("res-to-poster")
    assert re.search(r"/posters\?results=(\d+),(\d+)$", ui.page.url), ui.page.url
    assert sorted(map(int, ui.page.url.rsplit("=", 1)[1].split(","))) == sorted(ids)

    # --- Posters page: the two photos are there; 2 formats x 1 layout = 4 posters, 12 credits -----------------
    ui.wait_loaded(ready="post-make")
    ui.page.locator("#post-photos-list[data-count='2']").wait_for()
    assert sorted(int(x) for x in ui.page.locator("#post-photos-list [data-result-id]").evaluate_all(
        "els => els.map(e => e.dataset.resultId)")) == sorted(ids)
    ui.page.locator("#post-layout-cards img").first.wait_for()
    assert checked(ui, "post-formats") == ["Instagram post (1:1) · 1080×1080"]
    assert checked(ui, "post-layouts") == ["Clean frame"]
    ui.locator("post-formats", "label").filter(has_text="Story / Reels / TikTok").click()
    ui.wait_idle()
    assert len(checked(ui, "post-formats")) == 2
    ui.fill("post-price", "Rp 89.000")
    ui.fill("post-cta", "Beli sekarang di Shopee!")
    ui.wait_idle()
    cost = ui.wait_message("post-cost", r"^12 credits")
    assert "2 photos × 2 formats × 1 layout = 4 posters, 3 credits each" in cost, cost
    ui.screenshot(f"{SHOTS}/apg-posters-ready.png")
    before = ui.credits()
    ui.click("post-make")
    ui.wait_message("post-message", r"Made 4 posters for 12 credits", timeout_ms=60_000)
    wait_posters(ui, 4)
    assert ui.credits() == before - 12
    assert ui.page.locator("#post-gallery-grid .post-poster.on").count() == 4  # the new ones are selected
    ui.screenshot(f"{SHOTS}/apg-posters-made.png")
    with batch_app.acting() as (s, user):
        rows = s.exec(select(Poster).where(Poster.user_id == user.id).order_by(Poster.id)).all()
    assert len(rows) == 4 and {(r.generated_pose_id, r.format, r.layout) for r in rows} == {
        (rid, f, "clean-frame") for rid in ids for f in SIZES}
    assert all(r.text["price"] == "Rp 89.000" and r.text["cta"] == "Beli sekarang di Shopee!" for r in rows)

    # --- export the four as one ZIP: a folder per format, the exact pixel sizes ---------------------------------
    assert "4 posters" in ui.message("post-export")
    with ui.page.expect_download() as got:
        ui.click("post-export-zip")
    with zipfile.ZipFile(got.value.path()) as zf:
        names = zf.namelist()
        assert len(names) == 4, names
        for name in names:
            folder, file = name.split("/")
            assert re.fullmatch(rf"\d{{3}}_serum_{folder}_clean-frame\.png", file), name
            assert Image.open(io.BytesIO(zf.read(name))).size == SIZES[folder]
    assert sorted(n.split("/")[0] for n in names) == ["instagram-post"] * 2 + ["story"] * 2

    # --- selecting by clicking; deleting one ---------------------------------------------------------------
    ui.click("post-select-none")
    ui.wait_message("post-export", r"Select posters to export")
    assert ui.page.locator("#post-gallery-grid .post-poster.on").count() == 0
    doomed = rows[0]
    ui.page.locator(f"#post-gallery-grid [data-poster-id='{doomed.id}']").click()
    ui.wait_message("post-export", r"Export ZIP · 1 poster\b")
    assert ui.tokens("post-select") == [t for t in ui.tokens("post-select") if t.startswith(f"{doomed.id} · ")]
    ui.click("post-delete")
    ui.wait_message("post-message", r"Deleted 1 poster")
    wait_posters(ui, 3)
    assert ui.page.locator(f"#post-gallery-grid [data-poster-id='{doomed.id}']").count() == 0
    assert not batch_app.services.store.exists(doomed.image_path)
    ui.click("post-select-all")
    ui.wait_message("post-export", r"Export ZIP · 3 posters")
    assert not ui.page_errors, ui.page_errors

    # --- the Analytics page counts the 4 posters made and the 4 exported -----------------------------------
    created_note, exported = analytics_numbers(ui)
    assert re.search(r"\b4 posters\b", created_note) and exported == "4", (created_note, exported)


@pytest.fixture
def id_page(browser):
    context = browser.new_context(viewport={"width": 1400, "height": 1000}, locale="id-ID")
    pg = context.new_page()
    yield pg
    context.close()


def test_the_posters_page_in_indonesian(id_page, live_app):
    from tests.poster_support import finished_results

    shop = seed_ready_shop(live_app)
    with live_app.acting() as (s, user):
        templates = s.exec(select(PoseTemplate.id).where(PoseTemplate.product_placement == "hand-right")).all()
        uid = user.id
    (rid,) = finished_results(live_app.services, user_id=uid, kit_id=shop.kit_id, avatar_id=shop.avatar_id,
                              product_id=shop.product_id, template_ids=list(templates), n=1)
    ui = GradioPage(id_page, live_app)
    ui.goto(f"/posters?results={rid},999", ready="post-make")
    ui.page.locator("#post-layout-cards img").first.wait_for()
    assert ui.locator("post-make").inner_text().strip() == "Buat poster"
    assert "Foto untuk poster" in ui.locator("post-results").inner_text()
    assert checked(ui, "post-formats") == ["Postingan Instagram (1:1) · 1080×1080"]
    assert checked(ui, "post-layouts") == ["Bingkai rapi"]
    assert "Tata letak" in ui.page.locator("body").inner_text()
    assert ui.page.locator("#apg-nav .apg-nav-here").inner_text().strip() == "Poster"
    ui.wait_message("post-message", r"Tidak ada di antara foto jadi Anda, jadi tidak dipakai: #999")
    ui.wait_message("post-cost", r"^3 kredit")
    assert "1 foto × 1 format × 1 tata letak = 1 poster" in ui.message("post-cost")
    assert "Pratinjau dengan foto" in ui.message("post-layout-previews")
    # a click on a layout's preview picks it, and the price follows
    ui.page.locator("#post-layout-cards [data-layout='minimal']").click()
    ui.wait_message("post-cost", r"^6 kredit")
    assert checked(ui, "post-layouts") == ["Bingkai rapi", "Minimalis"]
    ui.page.locator("#post-layout-cards [data-layout='minimal']").click()
    ui.wait_message("post-cost", r"^3 kredit")
    ui.fill("post-price", "Rp 149.000")
    ui.wait_idle()
    ui.click("post-make")
    ui.wait_message("post-message", r"1 poster selesai dibuat dengan 3 kredit", timeout_ms=60_000)
    wait_posters(ui, 1)
    assert ui.wait_message("post-export", r"Ekspor ZIP · 1 poster")
    assert re.search(r"\d+\s*kredit", ui.message("apg-credits"))
    ui.screenshot(f"{SHOTS}/apg-posters-id.png")
    with live_app.acting() as (s, user):
        (poster,) = s.exec(select(Poster).where(Poster.user_id == user.id)).all()
    assert poster.text["price"] == "Rp 149.000" and (poster.width, poster.height) == (1080, 1080)
    assert not ui.page_errors, ui.page_errors
