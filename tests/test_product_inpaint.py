"""The shop's real product in the generation (issue 14): placed first and generated around (PRODUCT_MODE=inpaint,
the default) with every opaque pixel the cut-out's exactly, worn garments warped onto the body from the fitted
template's keypoints and redrawn, the paste mode kept for comparison, and a fidelity record per image that says
what it measured or why not. Tiny random-weight engine (engine.tiny) through the real from_pretrained path; the
batch flow on SQLite and Postgres."""
from __future__ import annotations

import io
import json
import zipfile

import numpy as np
import pytest
from PIL import Image

from core.generation.compositing import PASTED, layout
from core.generation.product import (ERODE, GARMENT_KIND, GREY, fidelity_notes, garment_quad, hist_similarity,
                                     plan_product, product_canvas, warp_garment)
from core.library.poses.keypoints import L_ANKLE, L_HIP, L_KNEE, NECK, NOSE, R_ANKLE, R_HIP, R_KNEE, R_SHOULDER, L_SHOULDER
from core.library.poses.library import load_library
from core.library.poses.transforms import fit_to_aspect
from engine.pipeline import RenderRequest
from tests.batch_support import poses, render, services_factory
from tests.test_batches_api import Shop
from ui.i18n import message_text
from ui.results_view import detail_html

pytestmark = pytest.mark.filterwarnings("ignore:__array__ implementation doesn't accept a copy:DeprecationWarning")


def standing(dx: float = 0.0) -> list:
    """A person facing us, both arms bent, wrists at the sides: every joint the placements use."""
    pts = {0: (0.5, 0.12), 1: (0.5, 0.22), 2: (0.4, 0.23), 3: (0.36, 0.36), 4: (0.38, 0.48), 5: (0.6, 0.23),
           6: (0.64, 0.36), 7: (0.62, 0.48), 8: (0.45, 0.52), 9: (0.45, 0.72), 10: (0.45, 0.92), 11: (0.55, 0.52),
           12: (0.55, 0.72), 13: (0.55, 0.92), 14: (0.48, 0.1), 15: (0.52, 0.1), 16: (0.46, 0.11), 17: (0.54, 0.11)}
    return [[pts[i][0] + dx, pts[i][1], 1.0] if i in pts else None for i in range(18)]


def textured_cutout(seed: int, size=(40, 56)) -> Image.Image:
    """A product photo's cut-out: noisy colours (no pixel is the model's by chance), an oval alpha with a soft rim."""
    rng = np.random.default_rng(seed)
    w, h = size
    rgb = rng.integers(0, 256, (h, w, 3), dtype=np.uint8)
    yy, xx = np.mgrid[0:h, 0:w]
    r = np.sqrt(((xx - w / 2 + 0.5) / (w / 2)) ** 2 + ((yy - h / 2 + 0.5) / (h / 2)) ** 2)
    alpha = np.clip((1.0 - r) * 8, 0, 1) * 255
    return Image.fromarray(np.dstack([rgb, alpha.astype(np.uint8)]), "RGBA")


def halves(size=(40, 50)) -> Image.Image:
    """A garment cut-out whose left half (the garment's right side) is red, its right half blue."""
    w, h = size
    px = np.zeros((h, w, 4), np.uint8)
    px[:, : w // 2] = (230, 20, 20, 255)
    px[:, w // 2:] = (20, 20, 230, 255)
    return Image.fromarray(px, "RGBA")


def engine_of(make_settings, tiny_engine_values, **values):
    from engine.pipeline import get_engine

    return get_engine(make_settings(**tiny_engine_values, engine_steps=2, ip_adapter="false", **values))


def control(keypoints, size):
    from core.library.poses.render import render_skeleton

    return Image.fromarray(render_skeleton(keypoints, *size))


def exact_share(image: Image.Image, plan) -> float:
    x0, y0, x1, y1 = plan.box
    prod = np.asarray(plan.product)
    out = np.asarray(image)[y0:y1, x0:x1]
    opaque = prod[..., 3] == 255
    return float((out[opaque] == prod[..., :3][opaque]).all(axis=1).mean())


# --- hand-held, table, displayed: the product first, the picture around it --------------------------------

@pytest.mark.parametrize("size", [(64, 96), (96, 64), (80, 80)])
def test_every_placement_keeps_the_products_opaque_pixels_exact_and_paints_around_it(make_settings,
                                                                                   tiny_engine_values, size):
    engine = engine_of(make_settings, tiny_engine_values, engine_batch_size=len(PASTED))
    cut = textured_cutout(7)
    kp = standing()
    plans = [plan_product(cutout=cut, keypoints=kp, placement=p, product_type="bottle", size=size) for p in PASTED]
    requests = [RenderRequest("a woman holding the product", control(kp, size), 11 + i, **plan.first())
                for i, plan in enumerate(plans)]
    results = engine.render(requests)
    for placement, plan, result in zip(PASTED, plans, results):
        at = layout(size=size, cutout=cut, keypoints=kp, placement=placement, product_type="bottle")
        assert plan.mode == "inpaint" and plan.box == at.box, placement        # today's spot, unchanged
        assert result.mode == "inpaint"
        image = plan.finish(result.image)
        assert image.size == size
        assert exact_share(image, plan) == 1.0, placement                      # bit-identical where opaque
        outside = np.asarray(plan.mask_image) == 255
        out = np.asarray(image, dtype=np.int16)
        assert np.abs(out[outside] - np.array(GREY)).mean() > 10, placement     # the grey canvas was painted
        record = plan.fidelity(image, settings=None)
        assert record["mode"] == "inpaint" and record["exact"] == 1.0 and record["checked"] is True
        assert record["opaquePixels"] == int((np.asarray(plan.product)[..., 3] == 255).sum()) > 0
        assert record["expansion"] is None and record["expansionChecked"] is False   # no rembg: said so
        assert [m.code for m in fidelity_notes(type("P", (), {"product_fidelity": record})())][:2] == [
            "product.exact", "product.expansion_not_checked"]


def test_the_model_mask_is_the_opaque_area_eroded_and_the_init_image_the_product_on_grey():
    cut = textured_cutout(3, (30, 30))
    box = (10, 20, 40, 50)
    init, mask = product_canvas(cut, box, (64, 96))
    a = np.zeros((96, 64), np.uint8)
    a[20:50, 10:40] = np.asarray(cut)[..., 3]
    m = np.asarray(mask)
    assert set(np.unique(m)) <= {0, 255}
    kept = m == 0
    assert kept.any()
    k = ERODE
    for y, x in zip(*np.nonzero(kept)):                 # kept: opaque with every pixel within ERODE opaque too
        assert (a[y - k:y + k + 1, x - k:x + k + 1] == 255).all()
    solid = a == 255
    inner = np.zeros_like(solid)
    inner[k:-k, k:-k] = np.logical_and.reduce([solid[k + dy:96 - k + dy, k + dx:64 - k + dx]
                                               for dy in range(-k, k + 1) for dx in range(-k, k + 1)])
    assert np.array_equal(kept, inner)                   # exactly the erosion, nothing more
    px = np.asarray(init)
    assert (px[a == 0] == GREY).all()                    # grey wherever the product is not
    assert np.array_equal(px[solid], np.asarray(cut)[..., :3][np.asarray(cut)[..., 3] == 255])


def test_a_micro_batch_equals_its_images_rendered_alone(make_settings, tiny_engine_values):
    engine = engine_of(make_settings, tiny_engine_values, engine_batch_size=4)
    size = (64, 96)
    cut = textured_cutout(5)
    requests = []
    for i, placement in enumerate(("hand-left", "both-hands", "table")):
        kp = standing(0.04 * (i - 1))
        plan = plan_product(cutout=cut, keypoints=kp, placement=placement, product_type="jar", size=size)
        requests.append(RenderRequest("a woman and the product", control(kp, size), 21 + i, **plan.first()))
    together = engine.render(requests)
    for request, image in zip(requests, together):
        assert np.array_equal(np.asarray(engine.render([request])[0].image), np.asarray(image.image))


def test_the_outline_growth_is_measured_with_the_background_removal_model(make_settings, tmp_path):
    from tests.tiny_models import build_tiny_u2net_onnx

    build_tiny_u2net_onnx(tmp_path / "tiny.onnx")
    settings = make_settings(rembg_home=tmp_path, rembg_model="custom:tiny.onnx")
    cut = textured_cutout(9)
    plan = plan_product(cutout=cut, keypoints=standing(), placement="hand-right", product_type="bottle",
                        size=(64, 96))
    image = plan.finish(Image.new("RGB", (64, 96), (90, 140, 60)))
    record = plan.fidelity(image, settings=settings)
    assert record["expansionChecked"] is True and record["expansion"] >= 0.0
    assert fidelity_notes(type("P", (), {"product_fidelity": record})())[1].code == "product.expansion"


def test_paste_mode_is_todays_sticker_at_the_same_spot(make_settings, tiny_engine_values):
    cut = textured_cutout(4)
    kp = standing()
    pasted = plan_product(cutout=cut, keypoints=kp, placement="hand-right", product_type="bottle", size=(64, 96),
                          mode="paste")
    inpainted = plan_product(cutout=cut, keypoints=kp, placement="hand-right", product_type="bottle",
                             size=(64, 96))
    assert pasted.mode == "paste" and pasted.first() == {} and pasted.box == inpainted.box
    image = pasted.finish(Image.new("RGB", (64, 96), (10, 200, 30)))
    assert exact_share(image, pasted) == 1.0
    worn = plan_product(cutout=halves(), keypoints=kp, placement="worn", product_type="top", size=(64, 96),
                        mode="paste")
    assert worn.mode == "prompt" and worn.note.code == "product.paste_mode_worn"
    record = worn.fidelity(Image.new("RGB", (64, 96)))
    assert record["checked"] is False and record["reasons"][0]["code"] == "product.prompt_only"


# --- worn: the garment on the body -----------------------------------------------------------------------

def library_poses() -> dict[str, list]:
    """A front, a three-quarter, a seated template from the shipped library, and a back view (the front one seen
    from behind: the subject's right shoulder on the image's right, no face)."""
    lib = load_library()
    pick = {}
    for t in lib:
        kp = t["keypoints"]
        whole = all(kp[i] for i in (NECK, R_SHOULDER, L_SHOULDER, R_HIP, L_HIP, R_ANKLE, L_ANKLE))
        if not whole:
            continue
        key = ("seated" if t["category"] == "sitting" else "front" if t["view"] == "front"
               else "three-quarter" if t["view"].startswith("three-quarter") else None)
        if key and key not in pick:
            pick[key] = fit_to_aspect(kp, 2 / 3, source_aspect=t["aspect"]).to_json()
    assert set(pick) == {"front", "three-quarter", "seated"}, set(pick)
    back = [[1.0 - p[0], p[1], p[2]] if p else None for p in pick["front"]]
    for i in (NOSE, 14, 15, 16, 17):
        back[i] = None
    pick["back"] = back
    return pick


def _y(kp, *idx):
    return np.mean([kp[i][1] for i in idx if kp[i]]) * 96


@pytest.mark.parametrize("kind", ["top", "dress", "bottom", "hijab", "shoes"])
def test_each_garment_is_warped_onto_its_body_region_on_library_templates(kind):
    size = (64, 96)
    for view, kp in library_poses().items():
        quad = garment_quad(kp, kind, size)
        assert quad is not None, (kind, view)
        alpha = np.asarray(warp_garment(halves(), quad, size).getchannel("A")) >= 128
        assert alpha.any(), (kind, view)
        ys = np.nonzero(alpha)[0]
        top, bottom = ys.min(), ys.max()
        if kind in ("top", "dress"):
            assert top <= _y(kp, NECK) + 2 and bottom >= _y(kp, R_HIP, L_HIP) - 2, (kind, view)
        if kind == "top":
            assert bottom <= _y(kp, R_KNEE, L_KNEE) + 2, view
        if kind == "dress":
            assert bottom >= _y(kp, R_KNEE, L_KNEE) - 2, view
        if kind == "bottom":
            assert top <= _y(kp, R_HIP, L_HIP) + 1 and bottom >= _y(kp, R_ANKLE, L_ANKLE) - 2 \
                and top >= _y(kp, NECK), view
        if kind == "hijab":
            head = _y(kp, NOSE) if kp[NOSE] else _y(kp, NECK) - 5
            assert top <= head <= bottom and bottom <= _y(kp, R_HIP, L_HIP), view
        if kind == "shoes":
            assert top <= _y(kp, R_ANKLE, L_ANKLE) <= bottom and top >= _y(kp, R_KNEE, L_KNEE) - 1, view


def test_a_back_view_puts_the_garment_on_the_back_mirrored():
    size = (64, 96)
    views = library_poses()
    sides = {}
    for view in ("front", "back"):
        layer = np.asarray(warp_garment(halves(), garment_quad(views[view], "top", size), size))
        seen = layer[..., 3] >= 128
        red = seen & (layer[..., 0] > 150)
        blue = seen & (layer[..., 2] > 150)
        sides[view] = (np.nonzero(red)[1].mean(), np.nonzero(blue)[1].mean())
    # the garment's right side (the cut-out's left half) goes on the subject's right: the image's left seen from
    # the front, its right seen from behind
    assert sides["front"][0] < sides["front"][1] and sides["back"][0] > sides["back"][1]


def test_a_worn_garment_is_redrawn_in_its_region_only_and_its_fidelity_measured(make_settings, tiny_engine_values):
    engine = engine_of(make_settings, tiny_engine_values)
    size = (64, 96)
    kp = standing()
    plan = plan_product(cutout=halves(), keypoints=kp, placement="worn", product_type="gamis", size=size)
    assert plan.mode == "worn" and plan.kind == GARMENT_KIND["gamis"] == "dress" and plan.first() == {}
    first = engine.render([RenderRequest("a woman", control(kp, size), 3)])[0].image
    args = plan.second(first, 0.6)
    assert args["strength"] == 0.6
    second = engine.render([RenderRequest("a woman", control(kp, size), 3, **args)])[0]
    assert second.mode == "inpaint"
    image = plan.finish(second.image)
    mask = np.asarray(plan.worn_mask)
    keep = mask == 0
    assert keep.any() and (mask > 0).any()
    assert np.array_equal(np.asarray(image)[keep], np.asarray(first)[keep])   # the rest of the person is kept
    assert not np.array_equal(np.asarray(image)[mask == 255], np.asarray(first)[mask == 255])   # redrawn there
    record = plan.fidelity(image, engine=engine)
    assert record["mode"] == "worn" and record["kind"] == "dress" and record["checked"] is True
    assert 0.0 <= record["colour"] <= 1.0
    assert record["clip"] is None and record["clipChecked"] is False    # no image encoder loaded: said so
    codes = [r["code"] for r in record["reasons"]]
    assert codes == ["product.colour", "product.clip_not_checked", "product.worn_region"]
    # the same colours score 1, other colours less
    red = np.tile([[230, 20, 20]], (50, 1)).astype(np.uint8)
    assert hist_similarity(red, red) == 1.0 and hist_similarity(red, red[:, ::-1]) == 0.0


def test_worn_products_without_a_region_or_joints_say_why():
    kp = standing()
    jewelry = plan_product(cutout=halves(), keypoints=kp, placement="worn", product_type="jewelry", size=(64, 96))
    assert jewelry.mode == "prompt" and jewelry.note.code == "product.no_region"
    legless = [p if i < 8 else None for i, p in enumerate(kp)]
    shoes = plan_product(cutout=halves(), keypoints=legless, placement="worn", product_type="shoes", size=(64, 96))
    assert shoes.mode == "prompt" and shoes.note.code == "product.no_joints"
    assert message_text(shoes.note, "id") == "pose ini tidak punya sendi untuk pergelangan kaki"
    bag = plan_product(cutout=halves(), keypoints=kp, placement="worn", product_type="bag", size=(64, 96))
    assert bag.mode == "inpaint" and bag.kind == "bag" and bag.box is not None


# --- the whole batch -----------------------------------------------------------------------------------------

@pytest.fixture
def make_svc(make_settings, db_url, tiny_engine_values):
    make, close_all = services_factory(make_settings, db_url, tiny_engine_values, runner_default=False,
                                       auth="password", output_sizes="portrait=64x96")
    yield make
    close_all()


def use_cutout(svc, shop, cutout: Image.Image, **fields):
    from db.models import Product

    buf = io.BytesIO()
    cutout.save(buf, "PNG")
    with svc.session() as s:
        product = s.get(Product, shop.product.id)
        product.cutout_path = svc.store.save(buf.getvalue(), user_id=shop.user.id, kind="cutout", ext="png")
        for k, v in fields.items():
            setattr(product, k, v)
        s.add(product)
        s.commit()


def test_a_batch_generates_around_the_product_and_reports_it_everywhere(make_svc):
    svc = make_svc()
    a = Shop(svc, "siti")
    cut = textured_cutout(12)
    use_cutout(svc, a, cut)
    gid = a.start(poseDistribution={"product-holding": 3})
    render(svc, gid)
    rows = poses(svc, gid)
    assert rows and all(p.status == "done" for p in rows), [p.error for p in rows]
    items = {i["id"]: i for i in a.get(f"/results/{gid}").json()["items"]}
    for p in rows:
        assert p.product_mode == "inpaint" and p.product_fidelity["exact"] == 1.0 and p.product_box
        assert p.image_path.endswith(".png")                   # a lossless file keeps the product exact
        stored = Image.open(io.BytesIO(svc.store.read(p.image_path))).convert("RGB")
        x0, y0, x1, y1 = p.product_box
        same = layout(size=stored.size, cutout=cut, keypoints=_fitted(svc, p), placement="hand-right",
                      product_type="bottle")
        assert same.box == tuple(p.product_box)
        prod = np.asarray(same.product)
        opaque = prod[..., 3] == 255
        assert np.array_equal(np.asarray(stored)[y0:y1, x0:x1][opaque], prod[..., :3][opaque])   # in the file
        item = items[p.id]
        assert item["productMode"] == "inpaint" and item["productFidelity"]["exact"] == 1.0
        assert item["productNote"].startswith("product pixels exact: 100.00 %")
        assert "outline growth not checked" in item["productNote"]
    with zipfile.ZipFile(io.BytesIO(a.get(f"/results/{gid}/export").content)) as zf:
        manifest = json.loads(zf.read("manifest.json"))
    for entry in manifest["images"]:
        assert entry["productMode"] == "inpaint" and entry["productFidelity"]["exact"] == 1.0
    detail = detail_html(rows[0], "pose", {}, type("V", (), {"cookies": {"apg_lang": "id"}, "headers": {}})())
    assert "id='res-detail-product' data-mode='inpaint' data-exact='1.0'" in detail
    assert "digambar di sekeliling produk" in detail and "piksel produk persis: 100,00 %" in detail


def test_a_batch_with_a_worn_garment_and_one_in_paste_mode(make_svc):
    svc = make_svc()
    a = Shop(svc, "siti")
    use_cutout(svc, a, halves(), placement="worn", product_type="top")
    gid = a.start(poseDistribution={"fashion-standing": 2})
    render(svc, gid)
    rows = poses(svc, gid)
    assert all(p.status == "done" for p in rows), [p.error for p in rows]
    for p in rows:
        assert p.product_mode == "worn" and p.product_fidelity["kind"] == "top"
        assert p.product_fidelity["checked"] is True and 0.0 <= p.product_fidelity["colour"] <= 1.0
        assert p.product_box and p.product_box[3] > p.product_box[1]
    paste = make_svc(product_mode="paste")
    b = Shop(paste, "budi")
    gid = b.start(poseDistribution={"product-holding": 2})
    render(paste, gid)
    for p in poses(paste, gid):
        assert p.status == "done" and p.product_mode == "paste" and p.product_fidelity["exact"] == 1.0


def test_a_worn_product_needs_its_cut_out_first(make_svc):
    svc = make_svc()
    a = Shop(svc, "siti")
    from db.models import Product

    with svc.session() as s:
        product = s.get(Product, a.product.id)
        product.placement, product.product_type, product.cutout_path, product.bg_status = "worn", "top", None, "processing"
        s.add(product)
        s.commit()
    r = a.post("/generate", json=a.body(poseDistribution={"fashion-standing": 1}))
    assert r.status_code == 422 and "has no cut-out yet" in r.text, r.text


def _fitted(svc, pose):
    from tests.test_batches_api import fitted_of

    return fitted_of(svc, pose.id)
