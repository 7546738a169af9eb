"""English and Bahasa Indonesia in a real Chromium: a browser set to Indonesian gets the Brand Kits page and the
navigation in Indonesian; the EN / ID switch changes the language (a cookie, kept across reloads); an upload
error that core writes in English reaches an Indonesian visitor in Indonesian."""
from __future__ import annotations

from browser_harness import GradioPage

from core.catalog import brand_kits
from core.catalog.brand_kits import BrandKitCreate
from ui import PAGES
from ui.locales import EN, ID


def nav_names(lang: dict) -> list[str]:
    return [lang[key] for key, _path, _build in PAGES]


def wait_nav(ui: GradioPage, first: str) -> list[str]:
    """The page names of our own navigation once it is filled (on load) and starts with `first`."""
    ui.page.wait_for_function("t => document.querySelector('#apg-nav a')?.innerText.trim() === t", arg=first)
    return ui.navbar_names()


def switch(ui: GradioPage, lang: str) -> None:
    """Click EN or ID: the page reloads in that language."""
    with ui.page.expect_navigation():
        ui.click(f"apg-lang-{lang}")
    ui.wait_loaded(ready="kit-name")


def shows(ui: GradioPage, elem_id: str, text: str) -> None:
    ui.page.wait_for_function("([sel, t]) => document.querySelector(sel)?.innerText.includes(t)",
                              arg=[f"#{elem_id}", text])


def indonesian_page(browser, live_app):
    context = browser.new_context(viewport={"width": 1400, "height": 1000}, locale="id-ID")
    return context, GradioPage(context.new_page(), live_app)


def test_brand_kits_follow_the_browser_language_and_the_switch(browser, live_app):
    context, ui = indonesian_page(browser, live_app)
    try:
        ui.goto("/", ready="kit-name")
        assert wait_nav(ui, "Kit Merek") == nav_names(ID)
        shows(ui, "kit-name", "Nama merek")                      # a label (translated in the browser)
        assert ui.locator("kit-save").inner_text().strip() == "Simpan kit"
        assert ui.value("kit-tone") == "ramah"                    # a data choice: its code stays "friendly"
        assert ui.value("kit-picker") == "+ Kit baru"
        assert "Belum ada kit merek" in ui.message("brand-kit-cards-box")   # handler HTML (translated on the server)
        assert "kredit" in ui.message("apg-credits")

        switch(ui, "en")
        assert wait_nav(ui, "Brand Kits") == nav_names(EN)
        shows(ui, "kit-name", "Brand name")
        assert ui.locator("kit-save").inner_text().strip() == "Save kit"
        assert ui.value("kit-tone") == "friendly"
        assert "No brand kits yet" in ui.message("brand-kit-cards-box")    # the cookie beats Accept-Language

        ui.page.reload()                                          # the choice is remembered
        ui.wait_loaded(ready="kit-name")
        assert wait_nav(ui, "Brand Kits") == nav_names(EN)

        switch(ui, "id")
        assert wait_nav(ui, "Kit Merek") == nav_names(ID)
        shows(ui, "kit-name", "Nama merek")
        ui.page.reload()
        ui.wait_loaded(ready="kit-name")
        shows(ui, "kit-name", "Nama merek")
        assert ui.locator("kit-save").inner_text().strip() == "Simpan kit"

        # saving in Indonesian: the tone picked by its Indonesian name is stored as its English code
        ui.fill("kit-name", "Toko Cantik")
        ui.pick("kit-tone", "mewah")
        ui.click("kit-save")
        assert "“Toko Cantik” dibuat." in ui.wait_message("kit-message", "dibuat")
        with live_app.acting() as (s, user):
            kit = brand_kits.list_kits(s, user=user)[0][0]
            assert (kit.brand_name, kit.tone) == ("Toko Cantik", "luxury")
        assert not ui.page_errors, ui.page_errors
    finally:
        context.close()


def test_upload_error_in_indonesian(browser, live_app, tmp_path):
    with live_app.acting() as (s, user):
        brand_kits.create(s, user=user, data=BrandKitCreate(brand_name="Butik Hijab", colors=["#3B2314"],
                                                            fonts=["Poppins"]))
    fake = tmp_path / "catatan.png"
    fake.write_text("ini catatan belanja saya, bukan foto\n" * 20)
    context, ui = indonesian_page(browser, live_app)
    try:
        ui.goto("/avatars", ready="avatar-file")
        assert wait_nav(ui, "Kit Merek")[1] == "Avatar"
        assert "Belum ada avatar" in ui.message("avatar-gallery-box")
        ui.upload("avatar-file", fake)
        ui.fill("avatar-name", "Sari")
        ui.click("avatar-upload")
        text = ui.wait_message("avatar-message", "⚠")
        assert "File ini bukan gambar yang bisa kami baca (sepertinya file teks)" in text, text
        assert "Silakan unggah gambar JPEG, PNG, WebP, HEIC, atau AVIF." in text, text
        assert ui.locator("avatar-message", "[role=alert]").count() == 1
    finally:
        context.close()
