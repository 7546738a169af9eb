"""The shipped fonts: every family loads, sets Indonesian text without missing glyphs, carries its
licence, and the registry follows the folder. Pure Pillow, no torch."""
from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
from urllib.parse import unquote

import numpy as np
import pytest
from PIL import Image, ImageDraw, ImageFont

from core.catalog import fonts
from core.errors import ValidationFailed

INDONESIAN = "Kulit cerah alami, harga bersahabat!"
FAMILIES = fonts.list_font_families()


def ink(image: Image.Image, background=(255, 255, 255)) -> int:
    """Number of pixels that differ from the background."""
    arr = np.asarray(image.convert("RGB"), dtype=np.int16)
    return int((np.abs(arr - np.array(background, dtype=np.int16)).sum(axis=2) > 60).sum())


def glyph_image(font: ImageFont.FreeTypeFont, char: str) -> bytes:
    img = Image.new("L", (96, 96), 0)
    ImageDraw.Draw(img).text((8, 8), char, font=font, fill=255)
    return img.tobytes()


def test_ships_a_useful_mix_of_families():
    assert 8 <= len(FAMILIES) <= 12
    assert FAMILIES == sorted(FAMILIES, key=str.casefold)
    categories = {fonts.font_info(f).category for f in FAMILIES}
    for kind in ("geometric sans", "humanist sans", "serif", "slab serif", "script"):
        assert any(kind in c for c in categories), kind
    assert any("broad latin" in c.lower() for c in categories)


def test_registry_matches_the_folders():
    folders = {p.name for p in fonts.FONTS_DIR.iterdir() if p.is_dir()}
    assert set(FAMILIES) == folders  # every shipped folder is a usable family, and nothing else


@pytest.mark.parametrize("family", FAMILIES)
def test_family_loads_and_sets_indonesian_text(family):
    info = fonts.font_info(family)
    for bold in (False, True):
        path = fonts.font_file(family, bold=bold)
        assert path.is_file() and path.suffix.lower() in (".ttf", ".otf")
        font = ImageFont.truetype(str(path), 48)
        notdef = glyph_image(font, "\uffff")  # a code point no font maps: renders .notdef (or nothing)
        missing = [c for c in set(INDONESIAN.replace(" ", "")) if glyph_image(font, c) == notdef]
        assert not missing, f"{family} bold={bold} lacks glyphs for {missing}"
    assert info.has_bold, f"{family} should ship a Bold file"
    assert fonts.font_file(family, bold=True) != fonts.font_file(family)

    image = fonts.render_font_preview(family, INDONESIAN)
    assert image.mode == "RGB" and image.width == 640
    assert ink(image) > 2000


@pytest.mark.parametrize("family", FAMILIES)
def test_family_carries_its_licence(family):
    info = fonts.font_info(family)
    assert info.license in ("OFL-1.1", "Apache-2.0")
    assert info.license_file is not None and info.license_file.is_file()
    text = info.license_file.read_text(encoding="utf-8")
    assert "Copyright" in text
    if info.license == "OFL-1.1":
        markers = ("SIL OPEN FONT LICENSE Version 1.1", "PERMISSION & CONDITIONS", "TERMINATION")
    else:
        markers = ("Apache License", "Version 2.0, January 2004", "TERMS AND CONDITIONS FOR USE")
    assert all(m in text for m in markers), f"{family}: incomplete licence text"
    assert info.source
    assert info.to_dict()["license"] == info.license


def test_bold_looks_bolder():
    text = "Harga bersahabat"
    for family in FAMILIES:
        regular = ink(fonts.render_font_preview(family, text))
        bold = ink(fonts.render_font_preview(family, text, bold=True))
        assert bold > regular, family


def test_total_size_stays_small():
    total = sum(p.stat().st_size for p in fonts.FONTS_DIR.rglob("*") if p.is_file())
    assert total < 6 * 1024 * 1024


def test_unknown_family_is_a_clear_validation_error():
    with pytest.raises(ValidationFailed) as err:
        fonts.font_file("Comic Sans MS")
    assert err.value.status == 422 and err.value.field == "fonts"
    assert "Comic Sans MS" in err.value.message and FAMILIES[0] in err.value.message
    assert not fonts.is_known_family("Comic Sans MS")


def test_names_are_case_sensitive():
    name = FAMILIES[0]
    assert fonts.is_known_family(name)
    assert not fonts.is_known_family(name.lower())
    assert not fonts.is_known_family(name.upper())
    assert not fonts.is_known_family(None)  # type: ignore[arg-type]
    with pytest.raises(ValidationFailed):
        fonts.font_info(name.lower())


def test_preview_wraps_long_text_inside_the_width():
    family = "Noto Sans" if "Noto Sans" in FAMILIES else FAMILIES[0]
    short = fonts.render_font_preview(family, "Halo", size=32, width=300)
    long = fonts.render_font_preview(family, INDONESIAN + " " + INDONESIAN, size=32, width=300)
    assert long.width == short.width == 300
    assert long.height >= 3 * short.height - 40  # several lines, not one clipped line
    pad = max(8, 32 // 3)
    right_margin = long.crop((300 - pad + 2, 0, 300, long.height))
    assert ink(right_margin) == 0
    huge_word = fonts.render_font_preview(family, "x" * 120, size=32, width=200)
    assert huge_word.height > short.height


def test_preview_uses_the_colours():
    family = FAMILIES[0]
    image = fonts.render_font_preview(family, "Promo", color="#FF0000", background="#000000", size=64)
    arr = np.asarray(image)
    assert tuple(arr[0, 0]) == (0, 0, 0)
    red = (arr[..., 0] > 200) & (arr[..., 1] < 60) & (arr[..., 2] < 60)
    assert red.sum() > 200


def test_empty_preview_shows_the_family_name():
    family = FAMILIES[0]
    assert ink(fonts.render_font_preview(family, "   ")) > 200


@pytest.mark.parametrize(
    "kwargs, field",
    [
        ({"family": "Nope"}, "family"),
        ({"color": "red"}, "color"),
        ({"background": "#12345"}, "background"),
        ({"size": 2}, "size"),
        ({"size": 48.5}, "size"),
        ({"width": 10_000}, "width"),
        ({"text": "a" * (fonts.PREVIEW_MAX_TEXT + 1)}, "text"),
    ],
)
def test_preview_rejects_bad_input(kwargs, field):
    args = {"family": FAMILIES[0], "text": "Halo"} | kwargs
    family, text = args.pop("family"), args.pop("text")
    with pytest.raises(ValidationFailed) as err:
        fonts.render_font_preview(family, text, **args)
    assert err.value.field == field


def test_registry_reads_any_folder(tmp_path):
    source = fonts.font_info(FAMILIES[0])
    family = tmp_path / "Toko Sans"
    family.mkdir()
    shutil.copy(source.regular, family / f"TokoSans-Regular{source.regular.suffix}")
    (family / "font.json").write_text(json.dumps({"category": "test", "license": "OFL-1.1"}))
    (tmp_path / "Half Done").mkdir()  # no Regular file: not a family
    (tmp_path / "Half Done" / "notes.txt").write_text("todo")

    reg = fonts.FontRegistry(tmp_path)
    assert reg.names() == ["Toko Sans"]
    info = reg.get("Toko Sans")
    assert info.bold is None and not info.has_bold and info.license_file is None
    assert info.category == "test"
    assert "Toko Sans" in reg and "Half Done" not in reg
    assert fonts.FontRegistry(tmp_path / "missing").names() == []


def test_font_face_css_points_at_the_shipped_files():
    css = fonts.font_face_css("/assets/fonts/")
    assert css.count("@font-face") == 2 * len(FAMILIES)
    for url in re.findall(r"url\('([^']+)'\)", css):
        assert url.startswith("/assets/fonts/") and "//" not in url[1:]
        relative = unquote(url.removeprefix("/assets/fonts/"))
        assert (fonts.FONTS_DIR / relative).is_file(), url
    assert "font-family: 'Open Sans'; font-weight: 700" in css or "Open Sans" not in FAMILIES


def test_importing_fonts_does_not_import_torch():
    code = "import sys, core.catalog.fonts; sys.exit(1 if {'torch', 'diffusers', 'gradio'} & set(sys.modules) else 0)"
    subprocess.run([sys.executable, "-c", code], check=True, cwd=fonts.FONTS_DIR.parent.parent)
