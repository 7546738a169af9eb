"""Brand Kits, Avatars and Products in Bahasa Indonesia, without a browser: the English messages core writes for
these pages (made by calling core, not copied) have Indonesian patterns, a validation problem is named by the
page's label in the visitor's language, and data choices keep their English codes."""
from __future__ import annotations

import numpy as np
import pytest

from core.catalog.avatars import CropRequest
from core.catalog.background import cut_out_with_mask
from core.catalog.brand_kits import BrandKitCreate
from core.errors import DomainError
from core.images.decode import check_dimensions
from core.settings import Settings
from ui.common import choices, pydantic_message, shown
from ui.i18n import translate_message
from ui.locales import EN, ID


class _Req:
    def __init__(self, lang: str):
        self.cookies, self.headers = {"apg_lang": lang}, {}


def _core_messages() -> list[str]:
    out = []
    small = Settings(max_image_pixels=1_000_000, max_image_side=5000)
    for size in [(2000, 2000), (6000, 10)]:
        with pytest.raises(DomainError) as info:
            check_dimensions(size, small)
        out.append(info.value.message)
    pixels = np.zeros((40, 40, 4), np.uint8)
    pixels[..., 3] = 255
    for mask in (np.zeros((40, 40), np.uint8), np.full((40, 40), 255, np.uint8)):
        out.append(cut_out_with_mask(pixels, mask).flag_message)
    return out + ["Brand kit 5 not found.", "Avatar 12 not found.", "Product 3 not found.", "name cannot be empty.",
                  "The crop box ends at 100 × 200 px but the image is 60 × 90 px.",
                  "51 files at once is too many; upload at most 50.", "Background removal failed unexpectedly."]


def test_core_messages_of_these_pages_have_indonesian():
    untranslated = [m for m in _core_messages() if translate_message(m, "id") == m]
    assert not untranslated, untranslated


@pytest.mark.parametrize("fields, english, indonesian", [
    (dict(brand_name=""), "Brand name: this cannot be empty", "Nama merek: tidak boleh kosong"),
    (dict(colors=[]), "Colours: give 1 to 10 colours (got 0)", "Warna: pilih 1 sampai 10 warna (sekarang 0)"),
    (dict(fonts=["Poppins", "Poppins"]), "Fonts: the same font is listed twice", "Font: font yang sama dipilih dua kali"),
    (dict(tagline="x" * 141), "Tagline: String should have at most 140 characters", "Slogan: maksimal 140 karakter"),
])
def test_validation_problems_are_named_in_the_visitors_language(fields, english, indonesian):
    from ui.brand_kits import LABELS

    with pytest.raises(ValueError) as info:
        BrandKitCreate(**{"brand_name": "Toko", "colors": ["#112233"], "fonts": ["Poppins"], **fields})
    assert pydantic_message(info.value, LABELS, _Req("en")) == english
    assert pydantic_message(info.value, LABELS) == english  # no request: English, as before
    assert pydantic_message(info.value, LABELS, _Req("id")) == indonesian


def test_crop_problem_in_indonesian():
    from ui.avatars import CROP_LABELS

    with pytest.raises(ValueError) as info:
        CropRequest(x=0, y=0, width=3, height=40)
    assert pydantic_message(info.value, CROP_LABELS, _Req("id")) == "Lebar: minimal 16"


def test_data_choices_keep_their_english_codes():
    from core.catalog.products import PLACEMENTS

    pairs = choices("products.placement", PLACEMENTS)
    assert [value for _label, value in pairs] == list(PLACEMENTS)
    assert EN["products.placement.hand-right"] == "hand-right"  # what an English page shows is unchanged
    assert shown(_Req("id"), "products.placement", "hand-right") == ID["products.placement.hand-right"] \
        == "tangan kanan"
    assert shown(_Req("id"), "products.placement", "somewhere-new") == "somewhere-new"
    assert shown(_Req("id"), "avatars.gender", None) == ""
