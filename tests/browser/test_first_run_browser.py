"""The first run on a fresh server, as a new user meets it (issue 15), in a real Chromium: no background-removal
weights here and no downloads (an offline box), a fresh data folder. The banner says background removal is
off and what to do instead; a PNG that is already cut out is ready at once, with no removal charge, and the
Generate page offers it. The System page (AUTH=none: the local admin) lists each model with its state and
why, and the checks with their reasons."""
from __future__ import annotations

import pytest
from browser_harness import GradioPage
from PIL import Image
from sqlmodel import select

from core.accounts import credits
from db.models import Product

pytestmark = pytest.mark.browser


@pytest.fixture
def fresh(start_tiny_app, tmp_path_factory):
    empty = tmp_path_factory.mktemp("no-rembg-weights")
    return start_tiny_app(rembg_home=str(empty), model_downloads=False)


@pytest.fixture
def ui(page, fresh) -> GradioPage:
    return GradioPage(page, fresh)


def cut_out_png(path):
    """A bottle on a transparent background: the shop already removed it."""
    img = Image.new("RGBA", (120, 160), (0, 0, 0, 0))
    img.paste((30, 120, 200, 255), (40, 20, 80, 140))
    img.save(path, "PNG")
    return path


def test_first_run_a_cut_out_product_is_ready_at_once_and_offered_on_the_generate_page(ui, fresh, tmp_path):
    ui.goto("/products", ready="product-files")
    summary = ui.page.locator("#apg-notices summary").inner_text()
    assert summary.startswith("Off on this server:") and "background removal" in summary, summary   # one line
    ui.page.locator("#apg-notices summary").click()                     # why, and what to do instead
    banner = ui.message("apg-notices-box")
    assert "Background removal is off on this server" in banner and "already cut out" in banner, banner
    with fresh.acting() as (s, user):
        before = credits.balance(s, user_id=user.id)

    ui.upload("product-files", cut_out_png(tmp_path / "serum.png"))
    ui.click("product-upload")
    ui.wait_message("product-message", "1 of 1 photo")
    tile = ui.page.locator("#product-gallery .apg-tile", has_text="serum")
    assert tile.locator(".apg-status").inner_text().strip() == "cut out"       # ready at once, no "waiting"
    with fresh.acting() as (s, user):
        (product,) = s.exec(select(Product).where(Product.user_id == user.id)).all()
        assert product.bg_status == "done" and product.cutout_path
        assert before - credits.balance(s, user_id=user.id) == 5               # the upload only: nothing removed
        choice = f"{product.id} · {product.name}"

    ui.goto("/generate", ready="gen-try")
    ui.locator("gen-product", "input[role=combobox]").click()
    ui.locator("gen-product", "li[role=option]").first.wait_for()
    offered = [li.get_attribute("aria-label") for li in ui.locator("gen-product", "li[role=option]").all()]
    assert choice in offered, offered
    ui.page.mouse.click(2, 2)
    ui.pick("gen-product", choice)
    assert ui.value("gen-product") == choice

    ui.goto("/system", ready="sys-models-box")
    ui.page.locator("#sys-models tr[data-model='background-removal']").wait_for()
    row = ui.page.locator("#sys-models tr[data-model='background-removal']")
    assert row.get_attribute("data-state") == "missing"
    assert "isnet-general-use.onnx" in row.inner_text() and "MODEL_DOWNLOADS=false" in row.inner_text()
    assert ui.page.locator("#sys-models tr[data-model='base']").get_attribute("data-state") == "built"
    checks = ui.page.locator("#sys-checks li[data-check='backgroundRemoval']")
    assert checks.get_attribute("data-on") == "0" and "isnet-general-use.onnx" in checks.inner_text()
    assert "free of" in ui.message("sys-services-box") and "Jobs run in this process" in ui.message("sys-services-box")
    ui.screenshot("/tmp/apg-browser/system-first-run.png")


def test_a_shop_owner_is_not_shown_the_system_page(signed_in):
    ui, user, _password = signed_in
    ui.goto("/", ready="kit-name")
    assert "System" not in ui.navbar_names()                                 # linked for admins only
    ui.goto("/system", ready="sys-message")
    ui.page.locator("#sys-message .apg-error, #sys-message [class*=err]").first.wait_for()
    assert "for whoever runs this server (admins only)" in ui.message("sys-message")
    assert ui.page.locator("#sys-models tr").count() == 0


def photo_on_white(path):
    img = Image.new("RGB", (120, 160), (255, 255, 255))
    img.paste((200, 30, 40), (40, 20, 80, 140))
    img.save(path, "PNG")
    return path


def failed_tile(ui, name):
    ui.page.wait_for_function(
        """(n) => [...document.querySelectorAll('#product-gallery .apg-tile')]
              .some(t => t.innerText.includes(n) && t.querySelector('.apg-status-bad, .apg-status-error'))""",
        arg=name, timeout=90_000)
    return ui.page.locator("#product-gallery .apg-tile", has_text=name)


def test_a_failed_removal_reads_in_plain_words_and_only_admins_get_the_details(signed_in, page, fresh, tmp_path):
    ui, _user, _password = signed_in          # a shop owner on a server without background-removal weights
    ui.goto("/products", ready="product-files")
    ui.upload("product-files", photo_on_white(tmp_path / "lipstik.png"))
    ui.click("product-upload")
    tile = failed_tile(ui, "lipstik")
    text = tile.inner_text()
    assert "Background removal is not available on this server right now" in text, text
    assert ".onnx" not in text and "/" not in text.split("lipstik", 1)[1] and tile.locator("details").count() == 0
    ui.click("apg-lang-id")
    ui.page.wait_for_function("() => document.documentElement.innerText.includes('Penghapusan latar sedang')",
                              timeout=30_000)
    assert "Foto Anda tetap tersimpan" in failed_tile(ui, "lipstik").inner_text()

    admin = GradioPage(page, fresh)            # AUTH=none: the local admin, who runs the server
    admin.goto("/products", ready="product-files")
    admin.upload("product-files", photo_on_white(tmp_path / "serum.png"))
    admin.click("product-upload")
    mine = failed_tile(admin, "serum")
    assert "not available on this server" in mine.inner_text().lower() or "tidak tersedia" in mine.inner_text()
    details = mine.locator("details")
    assert details.count() == 1
    details.locator("summary").click()
    assert "isnet-general-use.onnx" in details.inner_text()


def test_the_sign_in_page_switches_to_indonesian_and_signs_in_there(page, password_app):
    from core.accounts import users

    with password_app.services.session() as s:
        users.create_user(s, username="sari", password="a-long-password-1", settings=password_app.settings)
    page.goto(password_app.url("/login"))
    assert page.locator("h1").inner_text() == "Sign in" and "Avatar & Pose Generator" in page.inner_text("body")
    with page.expect_navigation():
        page.click("#login-lang-id")
    assert page.locator("h1").inner_text() == "Masuk" and page.locator("html").get_attribute("lang") == "id"
    assert page.locator("label[for=password]").inner_text() == "Kata sandi"
    page.fill("#username", "sari")
    page.fill("#password", "wrong")
    with page.expect_navigation():
        page.click("#login-submit")
    assert page.locator(".err").inner_text() == "Nama pengguna atau kata sandi salah."
    page.fill("#username", "sari")
    page.fill("#password", "a-long-password-1")
    with page.expect_navigation():
        page.click("#login-submit")
    GradioPage(page, password_app).wait_loaded()
    page.wait_for_function("() => document.querySelector('#apg-nav')?.innerText.includes('Kit Merek')",
                           timeout=30_000)                         # the app goes on in Indonesian


def test_clicking_a_product_avatar_or_pose_card_opens_its_detail(ui, fresh, tmp_path):
    """Issue 16: every card looks clickable and is: a product or avatar card opens it in the Edit tab, a
    pose card shows the pose in the detail panel (and the library's first screen of thumbnails loads at once)."""
    from core.catalog import avatars, brand_kits
    from core.catalog.avatars import AvatarCreate
    from core.catalog.brand_kits import BrandKitCreate
    from core.library import templates as lib

    with fresh.acting() as (s, user):
        lib.load_library(s)
        face = tmp_path / "sari.png"
        Image.new("RGB", (64, 96), (200, 170, 150)).save(face)
        kit = brand_kits.create(s, user=user, data=BrandKitCreate(brand_name="Toko Sari", colors=["#AA3355"],
                                                                  fonts=["Poppins"]))
        avatar = avatars.upload(s, user=user, data=AvatarCreate(brand_kit_id=kit.id, name="Sari", gender="female"),
                                source=face.read_bytes(), filename="sari.png", store=fresh.services.store,
                                settings=fresh.settings)
    ui.goto("/products", ready="product-files")
    ui.upload("product-files", cut_out_png(tmp_path / "serum.png"))
    ui.click("product-upload")
    ui.wait_message("product-message", "1 of 1 photo")
    ui.page.locator("#product-gallery .apg-tile", has_text="serum").click()
    ui.wait_value("product-edit-name", "serum")
    assert ui.value("product-picker").endswith("· serum")

    ui.goto("/avatars", ready="avatar-file")
    ui.page.locator("#avatar-gallery .apg-tile", has_text="Sari").click()
    ui.wait_value("avatar-edit-name", "Sari")
    assert ui.value("avatar-picker") == f"{avatar.id} · Sari"

    ui.goto("/poses", ready="pose-grid-box")
    first = ui.page.locator("#pose-grid .apg-tile").first
    first.wait_for()
    loaded = ui.page.evaluate("() => [...document.querySelectorAll('#pose-grid img')].slice(0, 8)"
                              ".every(i => i.loading === 'eager')")
    assert loaded
    assert ui.wait_img(first.locator("img")) > 0                   # drawn without scrolling
    pose_id = first.get_attribute("data-id")
    first.click()
    ui.page.wait_for_function("(id) => (document.querySelector('#pose-picker input')?.value || '').startsWith(id + ' ·')",
                              arg=pose_id, timeout=30_000)
    ui.page.locator("#pose-detail .apg-compare").wait_for()


def test_a_new_shops_analytics_say_nothing_is_made_yet_in_its_language(ui, fresh):
    ui.goto("/analytics", ready="analytics-tiles")
    with ui.page.expect_navigation():
        ui.click("apg-lang-id")
    ui.wait_loaded(ready="analytics-tiles")
    ui.page.wait_for_function("() => document.querySelector('#analytics-net')?.innerText.includes('Belum ada')")
    net = ui.page.locator("#analytics-net").inner_text()
    assert "—" in net and "-Rp" not in net and "Rp 299.000" in net, net
    for chart in ("usage", "savings", "success", "formats"):
        box = ui.page.locator(f"#analytics-{chart}-chart")
        assert box.get_attribute("data-empty") == "1" and "Belum ada data" in box.inner_text()
    assert "0.000000" not in ui.page.inner_text("body")
    ui.screenshot("/tmp/apg-browser/analytics-new-shop-id.png")
