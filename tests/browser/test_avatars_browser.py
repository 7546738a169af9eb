"""The Avatars page in a real Chromium: upload by the drop area, gallery, trait editor, rotate, delete,
and an invalid file refused inline."""
from __future__ import annotations

from PIL import Image
from sqlmodel import select

from core.catalog import brand_kits
from core.accounts import credits
from core.catalog.brand_kits import BrandKitCreate
from db.models import Avatar

SHOTS = "/tmp/apg-browser"


def make_kit(app, name: str) -> str:
    """A brand kit made through core; returns its picker label "<id> · <name>"."""
    with app.acting() as (s, user):
        kit = brand_kits.create(s, user=user, data=BrandKitCreate(brand_name=name, colors=["#3B2314"],
                                                                  fonts=["Poppins"]))
        return f"{kit.id} · {kit.brand_name}"


def avatars_in_db(app) -> list[Avatar]:
    with app.acting() as (s, user):
        return list(s.exec(select(Avatar).where(Avatar.user_id == user.id).order_by(Avatar.id)))


def balance(app) -> int:
    with app.acting() as (s, user):
        return credits.balance(s, user_id=user.id)


def photo(path, size=(60, 90)):
    img = Image.new("RGB", size, (240, 230, 220))
    for x in range(size[0] // 3, 2 * size[0] // 3):
        for y in range(size[1] // 4, size[1]):
            img.putpixel((x, y), (140, 70, 40))
    img.save(path, format="PNG")
    return path


def tile(ui, name: str):
    return ui.page.locator("#avatar-gallery .apg-tile", has_text=name)


def test_upload_edit_rotate_delete(ui, live_app, tmp_path):
    other = make_kit(live_app, "Toko Cantik")
    kit = make_kit(live_app, "Butik Hijab")
    ui.goto("/avatars", ready="avatar-file")
    assert "No avatars here yet" in ui.message("avatar-gallery-box")
    before = ui.credits()

    ui.upload("avatar-file", photo(tmp_path / "model.png"))
    ui.pick("avatar-upload-kit", kit)
    ui.fill("avatar-name", "Sari")
    ui.pick("avatar-gender", "female")
    ui.pick("avatar-age", "25-34")
    ui.pick("avatar-style", "modest-hijab")
    ui.pick("avatar-ethnicity", "southeast-asian")
    ui.click("avatar-upload")
    ui.wait_message("avatar-message", "Uploaded “Sari”")

    t = tile(ui, "Sari")
    assert ui.wait_img(t.locator("img")) > 0
    assert t.locator("img").get_attribute("src").startswith("/api/files/")
    assert "female · 25-34 · modest-hijab · southeast-asian" in t.inner_text()
    assert "60×90px" in t.inner_text()
    assert ui.credits() == before - 5
    [row] = avatars_in_db(live_app)
    assert (row.name, row.gender, row.age_range, row.style, row.ethnicity) == (
        "Sari", "female", "25-34", "modest-hijab", "southeast-asian")
    assert f"{row.brand_kit_id} · Butik Hijab" == kit
    assert balance(live_app) == before - 5
    assert ui.value("avatar-name") == ""  # ready for the next one
    assert ui.locator("avatar-file", ".file-preview").count() == 0
    ui.screenshot(f"{SHOTS}/avatars-uploaded.png")

    # the gallery's brand-kit filter
    ui.pick("avatar-kit-filter", other)
    ui.wait_message("avatar-gallery-box", "No avatars here yet")
    ui.pick("avatar-kit-filter", kit)
    tile(ui, "Sari").wait_for()
    ui.pick("avatar-kit-filter", "All")
    ui.wait_idle()

    # the editor already holds the new avatar
    ui.open_tab("Edit")
    ui.wait_value("avatar-picker", f"{row.id} · Sari")
    ui.wait_value("avatar-edit-name", "Sari")
    assert ui.value("avatar-edit-style") == "modest-hijab"
    assert ui.wait_img(ui.locator("avatar-current", "img")) == 60
    ui.fill("avatar-edit-name", "Sari Dewi")
    ui.pick("avatar-edit-style", "elegant")
    ui.pick("avatar-edit-age", "35-44")
    ui.click("avatar-save")
    ui.wait_message("avatar-message", "Saved")
    tile(ui, "Sari Dewi").wait_for()
    assert "female · 35-44 · elegant · southeast-asian" in tile(ui, "Sari Dewi").inner_text()
    assert ui.value("avatar-picker") == f"{row.id} · Sari Dewi"
    assert ui.credits() == before - 5 - 2
    [row] = avatars_in_db(live_app)
    assert (row.name, row.style, row.age_range) == ("Sari Dewi", "elegant", "35-44")

    # rotate by 90 degrees: the image is now 90 wide and 60 high
    ui.pick("avatar-rotate", "90")
    ui.click("avatar-crop-apply")
    ui.wait_message("avatar-message", "New image saved")
    ui.wait_message("avatar-current", "90×60px")
    ui.page.wait_for_function(
        "() => { const i = document.querySelector('#avatar-current img');"
        " return i && i.complete && i.naturalWidth === 90 && i.naturalHeight === 60; }")
    t = tile(ui, "Sari Dewi")
    assert "90×60px" in t.inner_text()
    assert ui.wait_img(t.locator("img")) > 0
    [row] = avatars_in_db(live_app)
    assert (row.width, row.height) == (90, 60)
    assert live_app.services.store.exists(row.image_path) and live_app.services.store.exists(row.thumbnail_path)
    assert ui.credits() == before - 5 - 2 - 2
    assert ui.value("avatar-rotate") == "0"  # back to "no change" after it was applied
    ui.screenshot(f"{SHOTS}/avatars-edited.png")

    # a crop box (x left empty: the left edge), in pixels of the rotated image
    ui.fill("avatar-crop-y", "5")
    ui.fill("avatar-crop-w", "40")
    ui.fill("avatar-crop-h", "30")
    ui.click("avatar-crop-apply")
    ui.wait_message("avatar-current", "40×30px")
    assert "40×30px" in tile(ui, "Sari Dewi").inner_text()
    [row] = avatars_in_db(live_app)
    assert (row.width, row.height) == (40, 30)
    with Image.open(live_app.services.store.path(row.image_path)) as im:
        assert im.size == (40, 30)
    assert ui.value("avatar-crop-w") == ""
    assert ui.credits() == before - 5 - 2 - 2 - 2

    # delete asks first; cancel keeps the avatar
    files = (row.image_path, row.thumbnail_path)
    ui.click("avatar-delete")
    ui.click("avatar-delete-cancel")
    ui.locator("avatar-delete-confirm").wait_for(state="hidden")
    assert len(avatars_in_db(live_app)) == 1
    ui.click("avatar-delete")
    ui.click("avatar-delete-confirm")
    ui.wait_message("avatar-message", "Deleted")
    ui.locator("avatar-delete-confirm").wait_for(state="hidden")
    assert tile(ui, "Sari Dewi").count() == 0
    assert "No avatars here yet" in ui.message("avatar-gallery-box")
    assert avatars_in_db(live_app) == []
    assert not any(live_app.services.store.exists(k) for k in files)
    assert ui.value("avatar-picker") == "— pick an avatar —" and ui.value("avatar-edit-name") == ""
    assert ui.credits() == before - 5 - 2 - 2 - 2 - 1
    assert not ui.page_errors


def test_invalid_file_shows_inline_message(ui, live_app, tmp_path):
    make_kit(live_app, "Toko Cantik")
    fake = tmp_path / "notes.png"
    fake.write_text("these are my shopping notes, not a photo\n" * 20)
    ui.goto("/avatars", ready="avatar-file")
    before = ui.credits()
    ui.upload("avatar-file", fake)
    ui.fill("avatar-name", "Nobody")
    ui.click("avatar-upload")
    text = ui.wait_message("avatar-message", "⚠")
    assert "text" in text.lower(), text
    assert ui.locator("avatar-message", "[role=alert]").count() == 1
    assert avatars_in_db(live_app) == []
    assert ui.credits() == before == balance(live_app)
    assert "No avatars here yet" in ui.message("avatar-gallery-box")
    avatar_dir = live_app.settings.storage_dir
    assert not [p for p in avatar_dir.rglob("*") if p.is_file()]  # no file left behind
    ui.screenshot(f"{SHOTS}/avatars-invalid.png")


def test_upload_needs_a_name_and_a_kit(ui, live_app, tmp_path):
    ui.goto("/avatars", ready="avatar-file")
    ui.upload("avatar-file", photo(tmp_path / "model.png"))
    ui.click("avatar-upload")
    assert "Name: this cannot be empty" in ui.wait_message("avatar-message", "Name")
    ui.fill("avatar-name", "Sari")
    ui.click("avatar-upload")
    assert "Create a brand kit first" in ui.wait_message("avatar-message", "brand kit")
    assert ui.value("avatar-name") == "Sari"  # what was entered stays
    assert avatars_in_db(live_app) == []

