"""The Brand Kits page in a real Chromium: create, validate, edit, delete, logo upload, sign-in."""
from __future__ import annotations

import io
import re

import pytest
from PIL import Image
from sqlmodel import select

from core.catalog import brand_kits
from core.accounts import credits
from core.catalog.brand_kits import BrandKitCreate
from db.models import BrandKit

SHOTS = "/tmp/apg-browser"


def kits_in_db(app, username: str | None = None) -> list[BrandKit]:
    with app.acting(username) as (s, user):
        return list(s.exec(select(BrandKit).where(BrandKit.user_id == user.id).order_by(BrandKit.id)))


def balance(app, username: str | None = None) -> int:
    with app.acting(username) as (s, user):
        return credits.balance(s, user_id=user.id)


def fill_kit(ui, *, name: str, category: str = "beauty", tone: str = "luxury", tagline: str = "Kulit cerah alami",
             colors=("#112233", "#FFAA00"), fonts=("Poppins",)) -> None:
    ui.fill("kit-name", name)
    ui.pick("kit-category", category)
    ui.pick("kit-tone", tone)
    ui.fill("kit-tagline", tagline)
    ui.set_slider("kit-n-colors", len(colors))
    ui.locator(f"kit-color-{len(colors) - 1}").wait_for(state="visible")
    for i, color in enumerate(colors):
        ui.set_color(f"kit-color-{i}", color)
    assert ui.value("kit-font-main") == "Poppins"          # a readable default, not the all-capitals display face
    ui.pick("kit-font-main", fonts[0])                      # replaces the main font (issue 16)
    if len(fonts) > 1:
        ui.pick("kit-font-second", fonts[1])


def card(ui, name: str):
    return ui.page.locator("#brand-kit-cards .apg-card", has_text=name)


def test_create_brand_kit_shows_card_and_charges(ui, live_app):
    ui.goto("/", ready="kit-name")
    assert ui.navbar_names() == ["Brand Kits", "Avatars", "Products", "Pose Library", "Generate", "Results",
                                 "Posters", "Analytics", "System"]         # AUTH=none: the local admin
    before = ui.credits()
    fill_kit(ui, name="Toko Cantik", colors=("#112233", "#FFAA00"), fonts=("Poppins", "Noto Serif"))
    ui.page.wait_for_selector("#kit-font-preview img[src^='data:image/png']")
    ui.click("kit-save")
    assert "Created “Toko Cantik”" in ui.wait_message("kit-message", "Created")

    c = card(ui, "Toko Cantik")
    c.wait_for()
    assert c.locator(".apg-badge").inner_text() == "Default"
    swatches = c.locator(".apg-swatch")
    assert [swatches.nth(i).get_attribute("title") for i in range(swatches.count())] == ["#112233", "#FFAA00"]
    assert swatches.nth(1).evaluate("e => getComputedStyle(e).backgroundColor") == "rgb(255, 170, 0)"
    assert "beauty · luxury" in c.inner_text()
    assert "Poppins" in c.inner_text() and "Kulit cerah alami" in c.inner_text()
    assert ui.credits() == before - 5
    assert ui.value("kit-picker").endswith("· Toko Cantik")

    [row] = kits_in_db(live_app)
    assert (row.brand_name, row.category, row.tone, row.tagline) == ("Toko Cantik", "beauty", "luxury",
                                                                     "Kulit cerah alami")
    assert row.colors == ["#112233", "#FFAA00"] and row.fonts == ["Poppins", "Noto Serif"] and row.is_default
    assert balance(live_app) == before - 5
    ui.screenshot(f"{SHOTS}/brand-kits-created.png")
    assert not ui.page_errors


def test_empty_name_shows_inline_error_and_creates_nothing(ui, live_app):
    ui.goto("/", ready="kit-name")
    before = ui.credits()
    ui.fill("kit-name", "   ")
    ui.click("kit-save")
    text = ui.wait_message("kit-message", "Brand name")
    assert "Brand name: this cannot be empty" in text
    assert ui.locator("kit-message", "[role=alert]").count() == 1
    assert kits_in_db(live_app) == []
    assert ui.credits() == before
    assert ui.page.locator("#brand-kit-cards .apg-card").count() == 0


def make_kit(app, name: str, **fields) -> int:
    """A kit made through core (fast set-up for tests that are about editing)."""
    with app.acting() as (s, user):
        data = BrandKitCreate(**{"brand_name": name, "colors": ["#3B2314"], "fonts": ["Lobster Two"], **fields})
        return brand_kits.create(s, user=user, data=data).id


def test_edit_then_delete_with_confirmation(ui, live_app):
    make_kit(live_app, "Warung Kopi", category="beverage", tone="casual")
    make_kit(live_app, "Second Kit", fonts=["Montserrat"])
    ui.goto("/", ready="#brand-kit-cards")
    before = ui.credits()

    card(ui, "Warung Kopi").click()  # a click on a card loads the kit into the form
    ui.wait_value("kit-name", "Warung Kopi")
    assert ui.value("kit-category") == "beverage" and ui.value("kit-font-main") == "Lobster Two"
    assert ui.value("kit-font-second") == "None"
    assert ui.value("kit-picker").endswith("· Warung Kopi")
    ui.fill("kit-name", "Warung Kopi Senja")
    ui.set_color("kit-color-0", "#AA0000")
    ui.click("kit-save")
    ui.wait_message("kit-message", "Saved “Warung Kopi Senja”")
    assert card(ui, "Warung Kopi Senja").locator(".apg-swatch").first.get_attribute("title") == "#AA0000"
    assert ui.credits() == before - 2
    edited = next(k for k in kits_in_db(live_app) if k.brand_name == "Warung Kopi Senja")
    assert edited.colors == ["#AA0000"] and edited.is_default  # the first kit made is the default

    card(ui, "Second Kit").click()
    ui.wait_value("kit-name", "Second Kit")
    ui.click("kit-default")
    ui.wait_message("kit-message", "“Second Kit” is now your default kit")
    assert card(ui, "Second Kit").locator(".apg-badge").count() == 1
    assert card(ui, "Warung Kopi Senja").locator(".apg-badge").count() == 0
    card(ui, "Warung Kopi Senja").click()
    ui.wait_value("kit-name", "Warung Kopi Senja")

    ui.click("kit-delete")
    ui.click("kit-delete-cancel")  # cancel keeps it
    ui.locator("kit-delete-confirm").wait_for(state="hidden")
    ui.click("kit-delete")
    ui.click("kit-delete-confirm")
    ui.wait_message("kit-message", "Deleted “Warung Kopi Senja”")
    assert [k.brand_name for k in kits_in_db(live_app)] == ["Second Kit"]
    assert kits_in_db(live_app)[0].is_default
    assert card(ui, "Warung Kopi Senja").count() == 0
    assert card(ui, "Second Kit").locator(".apg-badge").inner_text() == "Default"
    assert ui.credits() == before - 2 - 1
    assert ui.value("kit-picker") == "+ New kit" and ui.value("kit-name") == ""


def _png(path, size=(48, 32)):
    img = Image.new("RGBA", size, (0, 0, 0, 0))
    for x in range(size[0]):
        for y in range(size[1] // 2):
            img.putpixel((x, y), (228, 87, 46, 255))
    img.save(path, format="PNG")
    return path


def _wait_logo_loaded(ui, name: str):
    img = card(ui, name).locator("img.apg-logo")
    img.wait_for()
    ui.page.wait_for_function("e => e.complete && e.naturalWidth > 0", arg=img.element_handle())
    return img


def test_logo_upload_shows_in_card(ui, live_app, tmp_path):
    ui.goto("/", ready="kit-name")
    before = ui.credits()
    ui.fill("kit-name", "Logo Shop")  # the other fields keep their valid defaults
    ui.upload("kit-logo", _png(tmp_path / "logo.png"))
    ui.click("kit-save")
    ui.wait_message("kit-message", "Created “Logo Shop”")
    img = _wait_logo_loaded(ui, "Logo Shop")
    assert img.evaluate("e => e.naturalWidth") == 48
    assert img.get_attribute("src").startswith("/api/files/")
    served = Image.open(io.BytesIO(ui.page.request.get(live_app.url(img.get_attribute("src"))).body()))
    assert served.mode == "RGBA" and served.getpixel((0, 31))[3] == 0  # transparency kept, not flattened
    [row] = kits_in_db(live_app)
    assert row.logo_path and live_app.services.store.exists(row.logo_path)
    assert ui.credits() == before - 5 - 3
    ui.screenshot(f"{SHOTS}/brand-kits-logo.png")


@pytest.mark.parametrize("name, data, says", [
    ("fake.jpg", b"%PDF-1.4 not a logo", "it looks like a PDF document"),
    ("empty.png", b"", "This file is empty (0 bytes)"),
])
def test_a_logo_that_is_not_a_picture_gets_our_own_message(ui, live_app, tmp_path, name, data, says):
    """Issue 16: before, Gradio's own image decoding showed 'Could not preprocess input component ...
    UnidentifiedImageError: ... <gradio cache path>' and red Error badges. Now the kit is saved and the logo
    refused in plain words, naming what the file is and what to upload."""
    ui.goto("/", ready="kit-name")
    before = ui.credits()
    ui.fill("kit-name", "Logo Shop")
    path = tmp_path / name
    path.write_bytes(data)
    ui.locator("kit-logo", "input[type=file]").set_input_files(str(path))
    ui.wait_idle()
    ui.click("kit-save")
    text = ui.wait_message("kit-message", re.escape(says))
    assert "JPEG, PNG, WebP, HEIC or AVIF" in text and "Created “Logo Shop”" in text
    assert "Traceback" not in text and "gradio" not in text.lower() and "/tmp" not in text
    assert ui.page.locator(".toast-body, .error").count() == 0   # no red Gradio error anywhere
    [row] = kits_in_db(live_app)
    assert row.logo_path is None
    assert ui.credits() == before - 5   # the kit; no logo charge


def test_sign_in_then_create_kit(signed_in):
    ui, user, _password = signed_in
    app = ui.app
    assert ui.page.url.rstrip("/") == app.base_url
    ui.wait_message("apg-credits", "shopowner")  # the header names the signed-in user
    ui.fill("kit-name", "Private Label")
    ui.upload("kit-logo", _png(ui.app.settings.storage_dir.parent / "p-logo.png"))
    ui.click("kit-save")
    ui.wait_message("kit-message", "Created “Private Label”")
    _wait_logo_loaded(ui, "Private Label")  # the file route serves the logo to the signed-in browser
    assert [k.brand_name for k in kits_in_db(app, "shopowner")] == ["Private Label"]
    with app.services.session() as s:  # nothing was made for anybody else
        assert len(s.exec(select(BrandKit)).all()) == 1
    # a browser that is not signed in gets the login page, and the logo is not served to it
    logo = card(ui, "Private Label").locator("img.apg-logo").get_attribute("src")
    other = ui.page.context.browser.new_context()
    try:
        stranger = other.new_page()
        stranger.goto(app.url("/"))
        assert "/login" in stranger.url
        assert stranger.request.get(app.url(logo)).status == 401
    finally:
        other.close()


def test_the_header_has_a_sign_out_that_really_signs_out(signed_in):
    """Issue 16: signing out was only a typed /logout. The header's Sign out posts the form, the session ends
    (the old cookie no longer opens the app) and the browser lands on the login page."""
    ui, user, _password = signed_in
    ui.wait_message("apg-credits", "shopowner")
    cookie = next(c["value"] for c in ui.page.context.cookies() if c["name"] == "apg_session")
    ui.page.locator("#apg-signout").click()
    ui.page.wait_for_url("**/login*")
    again = ui.page.request.get(ui.app.url("/api/auth/me"), headers={"Authorization": f"Bearer {cookie}"})
    assert again.status == 401
    ui.page.goto(ui.app.url("/"))
    assert "/login" in ui.page.url
