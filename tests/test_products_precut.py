"""A product photo that is already cut out (a PNG or WebP with a transparent border around the product) is its
own cut-out (issue 15): ready at once, even on a server without background-removal weights, with no
removeBackground charge; its pixels are kept exactly; "Remove background" still runs the model on request.
Photos that are not cut out (opaque, or a transparent hole inside an opaque border) go to removal as before."""
from __future__ import annotations

import io

import numpy as np
import pytest
from PIL import Image, ImageDraw

from core.catalog.background import PRECUT_MODEL
from tests.test_products_api import (BASE, app, balance, bulk, idle, key_of, ledger, login,  # noqa: F401
                                     product_png, rembg_home, settings, upload)


def cut_out_png(size=(120, 90), fmt="PNG") -> bytes:
    """A bottle on full transparency with a soft (half-transparent) edge, as a cut-out tool exports it."""
    im = Image.new("RGBA", size, (0, 0, 0, 0))
    d = ImageDraw.Draw(im)
    d.rectangle((40, 15, 79, 74), fill=(30, 120, 200, 255))
    d.rectangle((39, 14, 80, 75), outline=(30, 120, 200, 128))
    d.rectangle((52, 5, 67, 14), fill=(240, 240, 240, 255))
    buf = io.BytesIO()
    im.save(buf, fmt, **({"lossless": True} if fmt == "WEBP" else {}))
    return buf.getvalue()


@pytest.mark.parametrize("fmt", ["PNG", "WEBP"])
def test_a_cut_out_photo_is_ready_at_once_without_a_removal_charge(login, services, fmt):
    a = login()
    before = balance(a)
    r = upload(a, cut_out_png(fmt=fmt), filename=f"bottle.{fmt.lower()}", name="Serum")
    assert r.status_code == 201, r.text
    p = r.json()
    assert p["bgStatus"] == "done" and p["cutoutUrl"] and p["bgError"] is None
    assert before - balance(a) == 5 and ledger(a) == [("uploadProduct", -5)]   # no removeBackground
    cut = Image.open(io.BytesIO(services.store.read(key_of(p["cutoutUrl"]))))
    assert cut.mode == "RGBA" and cut.size == (42, 71)                           # trimmed to the visible pixels
    source = np.asarray(Image.open(io.BytesIO(cut_out_png(fmt=fmt))).convert("RGBA"))[5:76, 39:81]
    assert np.array_equal(np.asarray(cut), source)                               # every pixel, alpha included
    with services.session() as s:
        from db.models import Product

        row = s.get(Product, p["id"])
        assert row.bg_model == PRECUT_MODEL and row.dominant_color == "#1E78C8"
        assert row.cutout_path == key_of(p["cutoutUrl"])   # what the planner needs to use it (state.inputs)
    thumb = Image.open(io.BytesIO(a.get(p["thumbnailUrl"]).content))
    assert thumb.mode == "RGBA"


def test_photos_that_are_not_cut_out_still_go_to_background_removal(login, idle):
    a = login()
    opaque = upload(a, product_png(), filename="white background.png").json()
    holed = Image.new("RGBA", (60, 60), (200, 30, 30, 255))
    holed.paste((0, 0, 0, 0), (20, 20, 40, 40))
    buf = io.BytesIO()
    holed.save(buf, "PNG")
    hole = upload(a, buf.getvalue(), filename="frame.png").json()
    idle()
    for p in (opaque, hole):
        assert p["bgStatus"] == "pending"
    assert [x for x in ledger(a) if x[0] == "removeBackground"] == [("removeBackground", -3)] * 2


def test_remove_background_anyway_runs_the_model_on_a_cut_out_photo(login, idle):
    a = login()
    p = upload(a, cut_out_png()).json()
    r = a.post(f"{BASE}/products/{p['id']}/remove-bg")
    assert r.status_code in (200, 202), r.text
    assert r.json()["bgStatus"] == "pending"
    idle()
    assert ("removeBackground", -3) in ledger(a)


def test_a_bulk_upload_charges_removal_only_for_the_photos_that_need_it(login, idle):
    a = login()
    r = bulk(a, [("cut.png", cut_out_png()), ("photo.png", product_png())])
    assert r.status_code in (200, 201, 207), r.text
    body = r.json()
    assert [f["bgStatus"] for f in body["files"]] == ["done", "pending"]
    idle()
    assert body["creditsCharged"] == 10 + 3
    charges = [x for x in ledger(a) if x[1] < 0]   # (no weights here: the photo's removal fails and is refunded)
    assert sorted(charges) == sorted([("bulkUpload", -10), ("removeBackground", -3)])
