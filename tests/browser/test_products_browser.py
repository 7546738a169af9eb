"""The Products page in a real Chromium: bulk upload with a bad file in the batch, status badges that the
page's timer moves from "waiting" to "cut out", the cut-out on a checkerboard, metadata, retry, delete.

Background removal is real: rembg's u2net_custom session on the tiny ONNX net of tests/tiny_models.py.
"""
from __future__ import annotations

import shutil
import threading

import pytest
from browser_harness import GradioPage
from PIL import Image
from sqlmodel import select

from core.catalog import brand_kits
from core.accounts import credits
from core.catalog.brand_kits import BrandKitCreate
from db.models import Product

SHOTS = "/tmp/apg-browser"
MODEL_FILE = "tiny.onnx"
REMOVAL_S = 90_000  # ms; the first rembg session of a process takes a few seconds (more on a busy box)


@pytest.fixture(scope="session")
def rembg_home(tmp_path_factory):
    from tests.tiny_models import build_tiny_u2net_onnx

    home = tmp_path_factory.mktemp("browser-rembg")
    cached = tmp_path_factory.getbasetemp() / "tiny-u2net.onnx"  # exported once per run, shared
    if not cached.exists():
        build_tiny_u2net_onnx(cached)
    shutil.copy(cached, home / MODEL_FILE)
    return home


@pytest.fixture
def rembg_app(start_app, rembg_home):
    return start_app(rembg_home=rembg_home, rembg_model=f"custom:{MODEL_FILE}")


@pytest.fixture
def ui(page, rembg_app) -> GradioPage:  # this file's pages run on the app with the tiny weights
    return GradioPage(page, rembg_app)


def _hold(services, started: threading.Semaphore, gate: threading.Event) -> None:
    """A job that keeps one of the runner's workers busy until the test opens the gate."""
    started.release()
    gate.wait(120)


class HeldRunner:
    """Keeps every worker of the app's in-process job runner busy, so uploaded products stay "waiting"
    until release(): the test sees the page before and after the removal, not a race."""

    def __init__(self, app, workers: int = 2):
        self.gate, started = threading.Event(), threading.Semaphore(0)
        for _ in range(workers):
            app.services.runner.submit(f"{__name__}:_hold", started, self.gate)
        for _ in range(workers):
            assert started.acquire(timeout=30), "the job runner did not start the holding jobs"

    def release(self) -> None:
        self.gate.set()


def photo(path, colour, size=(80, 120), box=(20, 30, 60, 100), fmt=None):
    img = Image.new("RGB", size, (255, 255, 255))
    img.paste(colour, box)
    img.save(path, format=fmt)
    return path


def products_in_db(app) -> list[Product]:
    with app.acting() as (s, user):
        return list(s.exec(select(Product).where(Product.user_id == user.id).order_by(Product.id)))


def balance(app) -> int:
    with app.acting() as (s, user):
        return credits.balance(s, user_id=user.id)


def tile(ui, name: str):
    return ui.page.locator("#product-gallery .apg-tile", has_text=name)


def badge(ui, name: str) -> str:
    return tile(ui, name).locator(".apg-status").inner_text().strip()


def wait_badges(ui, names: list[str], text: str) -> None:
    ui.page.wait_for_function(
        """([names, text]) => names.every(n => [...document.querySelectorAll('#product-gallery .apg-tile')]
              .some(t => t.innerText.includes(n) && t.querySelector('.apg-status')?.innerText.trim() === text))""",
        arg=[names, text], timeout=REMOVAL_S)


def wait_cutout_preview(ui) -> int:
    """Wait for the editor's cut-out (on the checkerboard) to load; returns its natural width."""
    img = ui.locator("product-preview", ".apg-checker img")
    img.wait_for(timeout=REMOVAL_S)
    return ui.wait_img(img)


def test_bulk_upload_cutouts_edit_retry_delete(ui, rembg_app, tmp_path):
    app = rembg_app
    with app.acting() as (s, user):
        kit = brand_kits.create(s, user=user, data=BrandKitCreate(brand_name="Glow Lab", colors=["#112233"],
                                                                  fonts=["Poppins"]))
        kit_choice = f"{kit.id} · Glow Lab"
    red = photo(tmp_path / "serum.png", (200, 30, 30))
    blue = photo(tmp_path / "toner.jpg", (30, 60, 200), fmt="JPEG")
    bad = tmp_path / "notes.png"
    bad.write_text("not a photo at all\n" * 30)

    ui.goto("/products", ready="product-files")
    assert "No products here yet" in ui.message("product-gallery-box")
    before = ui.credits()
    held = HeldRunner(app)
    try:
        ui.upload("product-files", [red, bad, blue])
        ui.pick("product-upload-kit", kit_choice)
        ui.fill("product-category", "skincare")
        ui.pick("product-type", "bottle")
        ui.click("product-upload")
        ui.wait_message("product-message", "2 of 3 photo")

        rows = ui.table_rows("product-report")
        assert [r[:2] for r in rows] == [["serum.png", "uploaded"], ["notes.png", "rejected"],
                                         ["toner.jpg", "uploaded"]], rows
        assert "text" in rows[1][2].lower(), rows[1]
        # both are in the gallery, waiting for their removal; their photos load from our file route
        assert badge(ui, "serum") == "waiting" and badge(ui, "toner") == "waiting"
        for name in ("serum", "toner"):
            assert ui.wait_img(tile(ui, name).locator("img")) > 0
            assert tile(ui, name).locator("img").get_attribute("src").startswith("/api/files/")
        assert "skincare · bottle · hand-right" in tile(ui, "serum").inner_text()
        # bulkUpload per batch + removeBackground per product; nothing for the rejected file
        assert ui.credits() == before - 10 - 3 * 2 == balance(app)
        ui.open_tab("Edit")
        assert ui.value("product-picker").endswith("· serum")  # the editor shows the first upload
        ui.wait_value("product-edit-name", "serum")
        assert "waiting" in ui.message("product-preview")
        ui.screenshot(f"{SHOTS}/products-waiting.png")
    finally:
        held.release()

    # the page polls while removals run: the badges turn to "cut out" and the preview to the cut-out
    wait_badges(ui, ["serum", "toner"], "cut out")
    width = wait_cutout_preview(ui)
    serum, toner = products_in_db(app)
    assert (serum.bg_status, toner.bg_status) == ("done", "done")
    with Image.open(app.services.store.path(serum.cutout_path)) as cut:
        assert cut.mode == "RGBA" and width == cut.width and 40 <= cut.width < 50  # trimmed to the red box
    assert ui.locator("product-preview", ".apg-checker").count() == 1
    assert "#C81E1E" in ui.message("product-preview")  # the dominant colour of the cut-out
    assert tile(ui, "serum").locator(".apg-checker img").count() == 1
    assert serum.brand_kit_id == kit.id and serum.category == "skincare" and serum.product_type == "bottle"
    assert app.services.store.exists(serum.cutout_path)
    ui.screenshot(f"{SHOTS}/products-cut-out.png")

    # metadata
    ui.fill("product-edit-name", "Vitamin C Serum")
    ui.fill("product-edit-subcategory", "serum")
    ui.pick("product-edit-placement", "hand-left")
    ui.click("product-save")
    ui.wait_message("product-message", "Saved")
    tile(ui, "Vitamin C Serum").wait_for()
    assert "skincare · bottle · hand-left" in tile(ui, "Vitamin C Serum").inner_text()
    assert ui.value("product-picker") == f"{serum.id} · Vitamin C Serum"
    assert ui.credits() == before - 16 - 2
    serum = products_in_db(app)[0]
    assert (serum.name, serum.subcategory, serum.placement) == ("Vitamin C Serum", "serum", "hand-left")

    # the status filter
    ui.pick("product-status-filter", "failed")
    ui.wait_message("product-gallery-box", "No products here")
    ui.pick("product-status-filter", "done")
    ui.page.wait_for_function("() => document.querySelectorAll('#product-gallery .apg-tile').length === 2")
    ui.pick("product-status-filter", "All")
    ui.wait_idle()

    # retry the removal: charged again, back to "cut out"
    old_cutout = serum.cutout_path
    ui.click("product-retry")
    ui.wait_message("product-message", "Background removal started again")
    wait_badges(ui, ["Vitamin C Serum"], "cut out")
    serum = products_in_db(app)[0]
    ui.page.wait_for_function("u => document.querySelector('#product-preview .apg-checker img')?.src.endsWith(u)",
                              arg=f"/api/files/{serum.cutout_path}")
    assert wait_cutout_preview(ui) == width
    assert serum.bg_status == "done" and serum.cutout_path != old_cutout
    assert ui.credits() == before - 16 - 2 - 3 == balance(app)

    # delete, with confirmation
    files = (serum.original_path, serum.cutout_path, serum.thumbnail_path)
    ui.click("product-delete")
    ui.click("product-delete-cancel")
    ui.locator("product-delete-confirm").wait_for(state="hidden")
    ui.click("product-delete")
    ui.click("product-delete-confirm")
    ui.wait_message("product-message", "Deleted")
    ui.page.wait_for_function("() => document.querySelectorAll('#product-gallery .apg-tile').length === 1")
    assert tile(ui, "Vitamin C Serum").count() == 0 and tile(ui, "toner").count() == 1
    assert [p.name for p in products_in_db(app)] == ["toner"]
    assert not any(app.services.store.exists(k) for k in files)
    assert ui.value("product-picker") == "— pick a product —" and ui.message("product-preview") == ""
    assert ui.credits() == before - 16 - 2 - 3 - 1
    assert not ui.page_errors
