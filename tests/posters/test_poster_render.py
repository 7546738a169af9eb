"""Posters: exact sizes, smart crop that never cuts the head or the product, text that stays in its
box, readable colours, brand colours and logo where the layout puts them. Synthetic photos only."""
from __future__ import annotations

import itertools
import re

import numpy as np
import pytest
from PIL import Image, ImageDraw

from core.errors import ValidationFailed
from core.posters import FORMATS, LAYOUTS, BrandStyle, PosterText, poster_filename, render_poster
from core.posters.crop import head_box, parse_keypoints, plan_crop
from core.posters.palette import contrast_ratio, parse_hex, pick_text_color
from core.posters.text import fit_text
from ui.i18n import message_text

W, H = 512, 768
SKIN, SHIRT, PRODUCT_RGB, WALL = (222, 180, 150), (40, 70, 140), (230, 40, 40), (200, 190, 175)
PRODUCT = (330, 330, 420, 470)
LONG_NAME = ("Kemeja batik premium motif parang lengan panjang untuk acara resmi dan kantor, "
             "bahan katun adem")
JOINTS = {0: (256, 125), 1: (256, 170), 2: (205, 175), 3: (170, 280), 4: (170, 375), 5: (307, 175),
          6: (342, 280), 7: (342, 375), 8: (222, 430), 9: (222, 570), 10: (222, 710), 11: (290, 430),
          12: (290, 570), 13: (290, 710), 14: (245, 112), 15: (267, 112), 16: (232, 118), 17: (280, 118)}


def make_photo(size=(W, H), shift=(0, 0)) -> Image.Image:
    """A standing figure on a striped wall, holding a red product; `shift` moves everything."""
    im = Image.new("RGB", size, WALL)
    d = ImageDraw.Draw(im)
    for y in range(0, size[1], 8):
        d.line((0, y, size[0], y), fill=(185, 176, 160))
    dx, dy = shift
    d.ellipse((216 + dx, 70 + dy, 296 + dx, 160 + dy), fill=SKIN)
    d.rectangle((190 + dx, 165 + dy, 322 + dx, 430 + dy), fill=SHIRT)
    d.rectangle((200 + dx, 430 + dy, 245 + dx, 720 + dy), fill=(50, 50, 60))
    d.rectangle((267 + dx, 430 + dy, 312 + dx, 720 + dy), fill=(50, 50, 60))
    x0, y0, x1, y1 = PRODUCT
    d.rectangle((x0 + dx, y0 + dy, x1 - 1 + dx, y1 - 1 + dy), fill=PRODUCT_RGB)
    return im


def make_keypoints(size=(W, H), shift=(0, 0)) -> list:
    kp = [None] * 18
    for i, (x, y) in JOINTS.items():
        kp[i] = [(x + shift[0]) / size[0], (y + shift[1]) / size[1], 0.9]
    return kp


def red_logo() -> Image.Image:
    logo = Image.new("RGBA", (300, 120), (0, 0, 0, 0))
    ImageDraw.Draw(logo).rounded_rectangle((10, 10, 289, 109), radius=30, fill=(255, 0, 0, 255))
    return logo


BRAND = BrandStyle("Batik Sari Solo", ["#8B1E3F", "#F2C14E", "#FFF6E5"], ["Poppins", "Open Sans"],
                   logo=red_logo(), tagline="Batik tulis asli Solo sejak 1987")
TEXT = PosterText(LONG_NAME, "Rp 149.000", "Beli sekarang di Shopee!")
COMBOS = list(itertools.product(FORMATS, LAYOUTS))


def render(fmt, layout, *, brand=BRAND, text=TEXT, photo=None, keypoints="default", product=PRODUCT):
    keypoints = make_keypoints() if keypoints == "default" else keypoints
    return render_poster(photo=photo or make_photo(), keypoints=keypoints, product_box=product, brand=brand,
                         text=text, format=fmt, layout=layout)


@pytest.fixture(scope="module")
def posters():
    return {(f, lay): render(f, lay) for f, lay in COMBOS}


def pixel(image, x, y):
    return np.asarray(image)[int(y), int(x)].astype(int)


def close(a, b, tol=12):
    return int(np.abs(np.asarray(a, int) - np.asarray(b, int)).max()) <= tol


def inside(inner, outer):
    return outer[0] <= inner[0] and outer[1] <= inner[1] and inner[2] <= outer[2] and inner[3] <= outer[3]


def overlap(a, b):
    return min(a[2], b[2]) > max(a[0], b[0]) and min(a[3], b[3]) > max(a[1], b[1])


def head_points():
    """Nose, eyes, ears, and the head top (0.6 x nose-to-neck above the nose) in photo px."""
    (nx, ny), (_, ky) = JOINTS[0], JOINTS[1]
    pts = [JOINTS[i] for i in (0, 14, 15, 16, 17)]
    return pts + [(nx, ny - 0.6 * (ky - ny))]


# --- every format x every layout ---------------------------------------------------------------------
@pytest.mark.parametrize("fmt,layout", COMBOS)
def test_size_head_product_and_text_boxes(posters, fmt, layout):
    p = posters[fmt, layout]
    f = FORMATS[fmt]
    assert p.image.mode == "RGB" and p.image.size == (f.width, f.height)
    for key, box in p.regions.items():
        assert 0 <= box[0] < box[2] <= f.width and 0 <= box[1] < box[3] <= f.height, key

    photo = p.regions["photo"]
    mx, my = 0.03 * f.width, 0.03 * f.height
    safe = (mx, my, f.width - mx, f.height - my)
    mapped = [p.map_point(x, y) for x, y in head_points()]
    mapped += [p.map_point(x, y) for x in (PRODUCT[0], PRODUCT[2]) for y in (PRODUCT[1], PRODUCT[3])]
    for x, y in mapped:
        assert photo[0] <= x <= photo[2] and photo[1] <= y <= photo[3], (x, y, photo)
        assert safe[0] <= x <= safe[2] and safe[1] <= y <= safe[3], (x, y, safe)

    # the product and the face are really there (not cut, not covered): their colours at their place
    x0, y0 = p.map_point(PRODUCT[0], PRODUCT[1])
    x1, y1 = p.map_point(PRODUCT[2], PRODUCT[3])
    for fx, fy in ((0.1, 0.1), (0.9, 0.1), (0.5, 0.5), (0.1, 0.9), (0.9, 0.9)):
        assert close(pixel(p.image, x0 + fx * (x1 - x0), y0 + fy * (y1 - y0)), PRODUCT_RGB), (fx, fy)
    assert close(pixel(p.image, *p.map_point(*JOINTS[0])), SKIN)

    # nothing drawn on top of the head or the product
    for key in ("logo", "brand", "text", "badge", "cta", "price", "banner", "panel"):
        if key in p.regions:
            for box in (p.head_box, p.product_box):
                assert not overlap(p.regions[key], box), (key, p.regions[key], box)

    # every line is inside the box it was fitted to, which is inside its region
    assert p.lines
    for line in p.lines:
        assert inside(line.bbox, line.box), line
        assert inside(line.box, p.regions[line.region]), line
        assert line.size >= 0.024 * min(f.width, f.height), line  # readable on a phone


@pytest.mark.parametrize("fmt", FORMATS)
def test_layouts_look_different(posters, fmt):
    for a, b in itertools.combinations(LAYOUTS, 2):
        ia = np.asarray(posters[fmt, a].image, dtype=np.int16)
        ib = np.asarray(posters[fmt, b].image, dtype=np.int16)
        assert np.abs(ia - ib).mean() > 12, (a, b)


@pytest.mark.parametrize("layout", LAYOUTS)
def test_logo_pixels_land_in_logo_region(posters, layout):
    for fmt in FORMATS:
        p = posters[fmt, layout]
        x0, y0, x1, y1 = p.regions["logo"]
        assert (x1 - x0) >= 0.1 * min(p.image.size)
        assert close(pixel(p.image, (x0 + x1) / 2, (y0 + y1) / 2), (255, 0, 0), 6)


@pytest.mark.parametrize("fmt", FORMATS)
def test_brand_colours_where_the_layout_puts_them(posters, fmt):
    primary, light = parse_hex(BRAND.colors[0]), parse_hex(BRAND.colors[2])
    assert close(pixel(posters[fmt, "clean-frame"].image, 2, 2), primary, 0)
    frame = posters[fmt, "clean-frame"].image
    assert close(pixel(frame, frame.width - 3, frame.height - 3), primary, 0)
    for layout in ("split-panel", "promo"):
        p = posters[fmt, layout]
        x0, y0, x1, y1 = p.regions["panel"]
        assert close(pixel(p.image, x1 - 3, y1 - 3 if layout == "split-panel" else y0 + 2), primary, 0), layout
    p = posters[fmt, "bold-banner"]
    bx0, by0, bx1, by1 = p.regions["banner"]
    assert close(pixel(p.image, bx1 - 3, by1 - 3), primary, 0)
    assert close(pixel(posters[fmt, "minimal"].image, 2, 2), light, 0)


# --- text colour contrast ------------------------------------------------------------------------------
def _text_colour(image, bbox, background):
    """The most common pixel colour in bbox that is not the background: the glyphs' solid core."""
    arr = np.asarray(image.crop(bbox)).reshape(-1, 3)
    arr = arr[np.abs(arr.astype(int) - background).max(axis=1) > 40]
    colours, counts = np.unique(arr, axis=0, return_counts=True)
    return tuple(int(v) for v in colours[counts.argmax()])


@pytest.mark.parametrize("primary", ["#FFF3D6", "#1A1A40", "#F2C14E", "#777777"])
@pytest.mark.parametrize("layout", ["split-panel", "clean-frame", "bold-banner", "promo"])
def test_text_contrast_on_light_and_dark_brand_colours(primary, layout):
    brand = BrandStyle("Toko", [primary], ["Montserrat"], logo=None, tagline="Asli buatan lokal")
    p = render("instagram-post", layout, brand=brand, text=PosterText("Kemeja batik", "Rp 99.000", "Beli sekarang"))
    bg = np.array(parse_hex(primary))
    on_panel = [ln for ln in p.lines if ln.region == "text"]
    assert on_panel
    for line in on_panel:
        colours, counts = np.unique(np.asarray(p.image.crop(line.box)).reshape(-1, 3), axis=0, return_counts=True)
        assert tuple(colours[counts.argmax()]) == tuple(bg)  # the text sits on the brand colour
        seen = _text_colour(p.image, line.bbox, bg)
        assert seen == parse_hex(line.color), (line, seen)
        assert contrast_ratio(seen, bg) >= 4.5, (primary, line)
    for line in p.lines:  # buttons, badges: against the pill/badge colour they sit on
        behind = pixel(p.image, line.box[0] - 1, line.box[1]) if line.region in ("cta", "price") else None
        if behind is not None:
            assert contrast_ratio(parse_hex(line.color), behind) >= 4.5, line


def test_pick_text_color_reaches_aa_on_any_flat_background():
    rng = np.random.default_rng(0)
    backgrounds = [tuple(int(v) for v in rng.integers(0, 256, 3)) for _ in range(300)]
    for bg in backgrounds + [(119, 119, 119), (118, 118, 118), (128, 128, 128), (0, 0, 0), (255, 255, 255)]:
        colour = pick_text_color(bg, [(139, 30, 63), (242, 193, 78)])
        assert contrast_ratio(colour, bg) >= 4.5, bg
    assert contrast_ratio((255, 255, 255), (0, 0, 0)) == pytest.approx(21.0)
    assert pick_text_color((139, 30, 63), [(139, 30, 63), (255, 246, 229)], prefer_brand=True) == (255, 246, 229)


# --- text fitting -------------------------------------------------------------------------------------
def _ink_inside(fitted, box_size):
    img = Image.new("L", box_size, 0)
    from core.posters.text import draw_fitted

    draw_fitted(ImageDraw.Draw(img), fitted, (0, 0, *box_size), fill=255)
    big = Image.new("L", (box_size[0] + 200, box_size[1] + 200), 0)
    draw_fitted(ImageDraw.Draw(big), fitted, (100, 100, 100 + box_size[0], 100 + box_size[1]), fill=255)
    arr = np.asarray(big)
    ys, xs = np.nonzero(arr)
    return xs.min() >= 100 and ys.min() >= 100 and xs.max() < 100 + box_size[0] and ys.max() < 100 + box_size[1]


@pytest.mark.parametrize("family", ["Poppins", "Dancing Script", "Bebas Neue", "Lobster Two", "Noto Serif"])
def test_long_indonesian_text_wraps_shrinks_and_stays_in_its_box(family):
    words = LONG_NAME.split()
    f = fit_text(LONG_NAME, family, width=420, height=400, max_size=80, min_size=20, bold=True)
    assert f is not None and f.complete and len(f.lines) >= 3 and f.size < 80
    assert " ".join(f.lines).split() == words  # wrapped at spaces, nothing lost or split
    assert _ink_inside(f, (420, 400))

    tiny = fit_text(LONG_NAME, family, width=300, height=90, max_size=60, min_size=28)
    assert tiny is not None and not tiny.complete and tiny.size == 28
    assert tiny.lines[-1].endswith(("\u2026", "..."))
    kept = " ".join(tiny.lines).rstrip("\u2026.").split()
    assert kept == words[: len(kept)]  # cut at a word boundary
    assert _ink_inside(tiny, (300, 90))


def test_an_unbreakable_word_is_shortened_not_overflowing():
    f = fit_text("Supercalifragilisticexpialidocious" * 2, "Open Sans", width=200, height=60, max_size=40, min_size=30)
    assert f is not None and not f.complete and _ink_inside(f, (200, 60))
    assert fit_text("Halo", "Open Sans", width=200, height=5, max_size=40, min_size=30) is None


# --- smart crop ---------------------------------------------------------------------------------------
def test_head_box_reaches_above_the_nose():
    box = head_box(parse_keypoints(make_keypoints()), (W, H))
    nose_y, neck_y = JOINTS[0][1], JOINTS[1][1]
    assert box[1] <= nose_y - 0.6 * (neck_y - nose_y)
    assert box[0] < JOINTS[16][0] and box[2] > JOINTS[17][0] and box[3] >= neck_y - 1


def test_no_keypoints_centre_crop_keeps_the_product():
    plain = render("instagram-post", "split-panel", keypoints=None, product=None)
    assert plain.crop == (64, 0, 448, 768) and not plain.padded  # 1:2 area -> centred 384 x 768 crop
    edge = (0, 300, 80, 420)
    p = render("instagram-post", "split-panel", keypoints=None, product=edge)
    assert p.crop[0] == 0 and p.crop[2] >= 80
    assert inside(p.product_box, p.regions["photo"])


def test_pose_that_cannot_fit_is_letterboxed_not_cut():
    # head at the very top and product at the very bottom of the photo, in a very wide photo area
    kp = make_keypoints(shift=(0, -60))
    photo = make_photo(shift=(0, -60))
    p = render("facebook-cover", "bold-banner", photo=photo, keypoints=kp, product=(330, 640, 420, 760))
    assert p.padded
    assert inside(p.head_box, p.regions["photo"]) and inside(p.product_box, p.regions["photo"])
    plan = plan_crop(photo_size=(W, H), rect=(0, 0, 1000, 200), must=(100, 10, 400, 700))
    x0, y0, x1, y1 = plan.window
    assert y0 <= 10 and y1 >= 700 and (x1 - x0) / (y1 - y0) == pytest.approx(5.0)


@pytest.mark.parametrize("size", [(768, 512), (200, 300), (1024, 1024)])
def test_other_photo_sizes(size):
    sx, sy = size[0] / W, size[1] / H
    photo = make_photo().resize(size)
    product = tuple(round(v * s) for v, s in zip(PRODUCT, (sx, sy, sx, sy)))
    for layout in LAYOUTS:
        p = render("story", layout, photo=photo, keypoints=make_keypoints(), product=product)
        assert p.image.size == (1080, 1920)
        assert inside(p.product_box, p.regions["photo"]) and inside(p.head_box, p.regions["photo"])


def test_rgba_photo_no_logo_and_little_text():
    brand = BrandStyle("KOPI KITA", ["#1B1B1B"], [], logo=None, tagline=None)
    p = render("marketplace", "clean-frame", brand=brand, text=PosterText(), photo=make_photo().convert("RGBA"))
    assert p.image.mode == "RGB" and "brand" in p.regions and "logo" not in p.regions
    assert [ln.text for ln in p.lines if ln.region == "brand"] == ["KOPI KITA"]


# --- errors and file names ------------------------------------------------------------------------------
@pytest.mark.parametrize("kwargs,field,mentions,code", [
    ({"fmt": "poster-a4"}, "format", "instagram-post", "formats.unknown"),
    ({"layout": "collage"}, "layout", "clean-frame", "layouts.unknown"),
    ({"keypoints": [[0.5, 0.5, 1.0]] * 17}, "keypoints", "18", "crop.keypoints_count"),
    ({"keypoints": [[0.5, "x", 1.0]] * 18}, "keypoints", "[x, y, confidence]", "crop.keypoint_invalid"),
    ({"keypoints": [[0.5, float("nan"), 1.0]] * 18}, "keypoints", "finite", "crop.keypoints_not_finite"),
    ({"product": (50, 50, 40, 90)}, "product_box", "x1 > x0", "crop.box_empty"),
    ({"product": ("a", 50, 40, 90)}, "product_box", "(x0, y0, x1, y1)", "crop.box_invalid"),
    ({"brand": BrandStyle("X", ["red"])}, "colors", "#", "palette.bad_colour"),
    ({"brand": BrandStyle("X", [])}, "colors", "colour", "palette.no_colours"),
    ({"brand": BrandStyle("X", ["#000000"], ["Comic Sans"])}, "fonts", "Poppins", None),
    ({"photo": Image.new("RGB", (0, 0))}, "photo", "non-empty", "posters.photo_empty"),
])
def test_bad_input_is_a_validation_error(kwargs, field, mentions, code):
    args = {"fmt": "instagram-post", "layout": "minimal"} | kwargs
    with pytest.raises(ValidationFailed) as err:
        render(args.pop("fmt"), args.pop("layout"), **args)
    assert err.value.field == field and mentions in err.value.message
    if code is not None:  # (an unknown font is core.catalog's message)
        assert err.value.code == code
        indonesian = message_text(err.value, "id")
        assert indonesian and indonesian != err.value.message and code not in indonesian


def test_bad_input_reads_in_indonesian_with_its_words_and_values():
    with pytest.raises(ValidationFailed) as err:
        render("poster-a4", "minimal")
    assert err.value.message == ("Unknown poster format 'poster-a4'. Choose one of: instagram-post, instagram-portrait, "
                                 "story, facebook-cover, marketplace.")
    assert err.value.to_dict()["params"] == {"key": "poster-a4", "known": list(FORMATS)}
    assert message_text(err.value, "id") == ("Format poster 'poster-a4' tidak dikenal. Pilih salah satu: "
                                             "instagram-post, instagram-portrait, story, facebook-cover, marketplace.")
    with pytest.raises(ValidationFailed) as err:
        render("story", "minimal", brand=BrandStyle("X", ["#12345"]))
    assert err.value.message == "Brand colours must look like #1A2B3C, got '#12345'."
    assert message_text(err.value, "id") == "Warna merek harus ditulis seperti #1A2B3C, bukan '#12345'."


def test_poster_filename():
    assert poster_filename(index=3, product_name="Kemeja Batik", format="instagram-post",
                           layout="clean-frame") == "003_kemeja-batik_instagram-post_clean-frame.png"
    assert poster_filename(index=7, product_name=None, format="story", layout="minimal") == "007_story_minimal.png"
    name = poster_filename(index=12, product_name="Gamis Syar'i — Édition Spéciale / 2024!!", format="story",
                           layout="promo")
    assert name == "012_gamis-syar-i-edition-speciale-2024_story_promo.png"
    long = poster_filename(index=1, product_name=LONG_NAME, format="marketplace", layout="bold-banner")
    assert re.fullmatch(r"[a-z0-9_.-]+", long) and len(long) < 90
    assert poster_filename(index=1, product_name="批发", format="story", layout="promo") == "001_story_promo.png"


@pytest.mark.parametrize("layout", ["clean-frame", "split-panel"])
def test_a_story_has_no_empty_band_under_its_text(posters, layout):
    """Issue 16: the bottom of a 9:16 story is covered by the platform's reply bar (the safe inset); there the
    photo runs on instead of a flat brand-colour band, and the text band ends at the safe line."""
    p = posters["story", layout]
    f = FORMATS["story"]
    safe_bottom = round(f.height * (1 - f.safe[3]))
    assert p.regions["text"][3] <= safe_bottom
    primary = parse_hex(BRAND.colors[0])
    strip = np.asarray(p.image.crop((60, safe_bottom + 20, f.width - 60, f.height - 60)), dtype=np.int16)
    flat = (np.abs(strip - np.array(primary)).max(axis=2) <= 6).mean()
    assert flat < 0.5, f"{flat:.0%} of the reply-bar zone is flat brand colour"
    band = np.asarray(p.image.crop((60, p.regions["text"][1] - 10, 70, p.regions["text"][1] - 5)), dtype=np.int16)
    assert (np.abs(band - np.array(primary)).max(axis=2) <= 6).all()      # the band itself stays brand colour
