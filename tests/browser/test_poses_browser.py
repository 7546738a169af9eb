"""The Pose Library page in a real Chromium: the admin's curation grid (skeleton previews, category filter,
paging, detail with the mirrored twin, deactivation, OpenPose JSON import with de-duplication) and the
read-only grid a user who is not an admin sees."""
from __future__ import annotations

import json
import re

from sqlmodel import select

from core.library import templates as lib
from db.models import PoseTemplate

SHOTS = "/tmp/apg-browser"
PAGE_SIZE = 48
# a star jump (arms up in a V, legs wide apart): far from every shipped pose
STAR_JUMP = [[0.5, 0.15], [0.5, 0.22], [0.42, 0.23], [0.33, 0.14], [0.26, 0.05], [0.58, 0.23], [0.67, 0.14],
             [0.74, 0.05], [0.45, 0.47], [0.33, 0.66], [0.22, 0.86], [0.55, 0.47], [0.67, 0.66], [0.78, 0.86],
             [0.485, 0.13], [0.515, 0.13], [0.47, 0.14], [0.53, 0.14]]


def load_library(app) -> dict:
    """The shipped library into this app's (fresh) database; returns {category: count}."""
    with app.services.session() as s:
        lib.load_library(s)
        rows = s.exec(select(PoseTemplate.category)).all()
    counts: dict = {}
    for c in rows:
        counts[c] = counts.get(c, 0) + 1
    return counts


def template(app, template_id: int) -> PoseTemplate:
    with app.services.session() as s:
        t = s.get(PoseTemplate, template_id)
        s.expunge(t)
        return t


def tiles(ui):
    return ui.page.locator("#pose-grid .apg-tile")


def tile(ui, template_id: int):
    return ui.page.locator(f"#pose-grid .apg-tile[data-id='{template_id}']")


def wait_count(ui, expected: str) -> None:
    """Wait until the grid's count line reads `expected` (e.g. "172 templates · page 2 of 4")."""
    ui.page.wait_for_function(
        "t => (document.querySelector('#pose-grid-box .apg-meta')?.innerText || '').trim() === t", arg=expected)


def pages(n: int) -> int:
    return -(-n // PAGE_SIZE)


def wait_previews(ui, n: int | None = None) -> None:
    """Every tile's skeleton preview loaded (the lazy images are scrolled into view first)."""
    imgs = ui.page.locator("#pose-grid .apg-tile img")
    total = imgs.count()
    for i in range(total if n is None else min(n, total)):
        img = imgs.nth(i)
        img.scroll_into_view_if_needed()
        ui.page.wait_for_function("e => e.complete && e.naturalWidth > 0", arg=img.element_handle())


def test_admin_filters_pages_and_deactivates(ui, live_app):
    counts = load_library(live_app)
    total = sum(counts.values())
    ui.goto("/poses", ready="#pose-grid")
    wait_count(ui, f"{total} templates · page 1 of {pages(total)}")
    assert tiles(ui).count() == PAGE_SIZE
    ui.locator("pose-save").wait_for()  # the local admin curates
    assert ui.locator("pose-admin-import").is_visible() and ui.locator("pose-admin-bulk").is_visible()
    wait_previews(ui, 6)
    src = tiles(ui).first.locator("img").get_attribute("src")
    assert src.startswith("/api/apps/pose-generator/templates/") and "/preview.png" in src
    ui.screenshot(f"{SHOTS}/poses-grid.png", full_page=False)

    # filter by category: the count changes and every tile is of that category
    ui.pick("pose-filter-category", "sitting")
    n = counts["sitting"]
    assert n > PAGE_SIZE
    wait_count(ui, f"{n} templates · page 1 of {pages(n)}")
    first_page = [tiles(ui).nth(i).get_attribute("data-id") for i in range(tiles(ui).count())]
    assert len(first_page) == min(n, PAGE_SIZE)
    assert all(m.startswith("sitting ·") for m in
               tiles(ui).locator(".apg-meta:first-of-type").all_inner_texts()), "a tile of another category"

    # the next page
    ui.click("pose-next")
    wait_count(ui, f"{n} templates · page 2 of {pages(n)}")
    assert ui.value("pose-page") == "2"
    second_page = [tiles(ui).nth(i).get_attribute("data-id") for i in range(tiles(ui).count())]
    assert second_page and not set(second_page) & set(first_page)
    assert all(m.startswith("sitting ·") for m in tiles(ui).locator(".apg-meta:first-of-type").all_inner_texts())
    wait_previews(ui, 4)

    # open a template: a large preview and its mirrored twin
    chosen = int(second_page[0])
    t = template(live_app, chosen)
    ui.pick("pose-picker", f"{t.id} · {t.name}")
    ui.wait_value("pose-edit-name", t.name)
    pictures = ui.locator("pose-detail", "img")
    assert pictures.count() == 2
    assert ui.wait_img(pictures.nth(0)) > 0 and ui.wait_img(pictures.nth(1)) > 0
    assert "mirrored=true" in pictures.nth(1).get_attribute("src")
    assert "Mirrored twin" in ui.message("pose-detail") and t.key in ui.message("pose-detail")
    assert ui.locator("pose-active", "input").is_checked()
    ui.screenshot(f"{SHOTS}/poses-detail.png", full_page=False)

    # deactivate it: the tile gets the "inactive" badge, the database agrees
    ui.locator("pose-active", "input").uncheck()
    ui.click("pose-save")
    assert "inactive: users no longer see it" in ui.wait_message("pose-message", "Saved")
    tile(ui, chosen).locator(".apg-status", has_text="inactive").wait_for()
    assert not template(live_app, chosen).is_active
    assert tiles(ui).locator(".apg-status", has_text="inactive").count() == 1
    assert not ui.page_errors


def _openpose(points, *, width=512, height=768) -> dict:
    """An OpenPose JSON document (COCO-18, pixel coordinates) of one person."""
    flat = []
    for point in points:  # a missing joint is (0, 0, 0), as OpenPose writes it
        x, y, *c = point or (0, 0, 0)
        flat += [round(x * width, 2), round(y * height, 2), c[0] if c else 1.0]
    return {"version": 1.3, "canvas_width": width, "canvas_height": height, "people": [{"pose_keypoints_2d": flat}]}


def test_admin_imports_openpose_json(ui, live_app, tmp_path):
    load_library(live_app)
    with live_app.services.session() as s:
        existing = s.exec(select(PoseTemplate).where(PoseTemplate.category == "lifestyle")
                          .order_by(PoseTemplate.id)).first()
        before = len(s.exec(select(PoseTemplate.id)).all())
    new = tmp_path / "star-jump.json"
    new.write_text(json.dumps(_openpose([[x, y] for x, y in STAR_JUMP])))
    dup = tmp_path / "copy-of-library.json"
    dup.write_text(json.dumps(_openpose(existing.keypoints)))

    ui.goto("/poses", ready="#pose-grid")
    ui.locator("pose-admin-import").get_by_text("Import poses (data team)").click()
    ui.locator("pose-import-files").wait_for()
    ui.upload("pose-import-files", [new, dup])
    ui.pick("pose-import-category", "lifestyle")
    ui.click("pose-import")
    ui.wait_message("pose-message", "1 imported, 1 skipped, 0 failed")
    rows = ui.table_rows("pose-import-report")
    assert len(rows) == 2, rows
    imported = next(r for r in rows if r[1] == "imported")
    skipped = next(r for r in rows if r[1] == "skipped")
    assert imported[0] == "star-jump.json"
    assert skipped[0] == "copy-of-library.json"
    assert "duplicate of existing pose" in skipped[2] and f"#{existing.id} {existing.key}" in skipped[2]
    new_id = int(re.search(r"#(\d+)", imported[2]).group(1))
    t = template(live_app, new_id)
    assert (t.source, t.category, t.is_active) == ("import", "lifestyle", False)  # imported poses start inactive
    with live_app.services.session() as s:
        assert len(s.exec(select(PoseTemplate.id)).all()) == before + 1
    ui.locator("pose-import-report").screenshot(path=f"{SHOTS}/poses-import-report.png")


def test_user_sees_active_templates_read_only(signed_in):
    ui, _user, _pw = signed_in
    app = ui.app
    counts = load_library(app)
    total = sum(counts.values())
    with app.services.session() as s:  # the data team switched one off
        hidden = s.exec(select(PoseTemplate).order_by(PoseTemplate.id)).first()
        hidden.is_active = False
        s.add(hidden)
        s.commit()
        hidden_id = hidden.id
    ui.goto("/poses", ready="#pose-grid")
    wait_count(ui, f"{total - 1} templates · page 1 of {pages(total - 1)}")
    assert tiles(ui).count() == PAGE_SIZE
    assert tile(ui, hidden_id).count() == 0
    wait_previews(ui, 4)
    # no curation for users: no editor, no bulk changes, no import, no "active" filter
    for panel in ("pose-edit-name", "pose-save", "pose-admin-bulk", "pose-admin-import", "pose-filter-active"):
        assert not ui.locator(panel).is_visible(), panel
    assert ui.page.locator("#pose-grid .apg-status", has_text="inactive").count() == 0
    # the detail still works, read-only
    first = int(tiles(ui).first.get_attribute("data-id"))
    ui.pick("pose-picker", f"{first} · {template(app, first).name}")
    assert ui.wait_img(ui.locator("pose-detail", "img").nth(1)) > 0
    assert not ui.locator("pose-save").is_visible()
    ui.screenshot(f"{SHOTS}/poses-user.png", full_page=False)
