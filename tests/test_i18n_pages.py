"""Brand Kits, Avatars and Products in Bahasa Indonesia, without a browser: the messages core gives these pages
(made by calling core, not copied) read in real Indonesian, by their code; a validation problem is named by the
page's label in the visitor's language, and data choices keep their English codes."""
from __future__ import annotations

import json

import numpy as np
import pytest

from core.catalog import faces, fonts, products
from core.catalog.avatars import CropRequest
from core.catalog.background import cut_out_with_mask
from core.catalog.brand_kits import BrandKitCreate
from core.errors import DomainError, NotFound, ValidationFailed
from core.images.decode import check_dimensions
from core.messages import Message
from core.settings import Settings
from db.models import Product
from ui.common import choices, pydantic_message, shown
from ui.i18n import message_text
from ui.locales import EN, ID


class _Req:
    def __init__(self, lang: str):
        self.cookies, self.headers = {"apg_lang": lang}, {}


def _raised(fn, *args, **kwargs) -> DomainError:
    with pytest.raises(DomainError) as info:
        fn(*args, **kwargs)
    return info.value


def _core_messages() -> list[tuple[DomainError | Message, str, str]]:
    """(what core gives, its English, its Indonesian)."""
    small = Settings(max_image_pixels=1_000_000, max_image_side=5000)
    pixels = np.zeros((40, 40, 4), np.uint8)
    pixels[..., 3] = 255
    empty, full = (cut_out_with_mask(pixels, mask).flag_message
                   for mask in (np.zeros((40, 40), np.uint8), np.full((40, 40), 255, np.uint8)))
    advice_en = ("Use a photo of the product on a plain background with some space around it, then remove the "
                 "background again.")
    advice_id = "Pakai foto produk dengan latar polos dan sedikit ruang di sekelilingnya, lalu hapus latar lagi."
    return [
        (_raised(check_dimensions, (2000, 2000), small),
         "This image is 2000 × 2000 pixels (4 megapixels); it can have at most 1 megapixels.",
         "Gambar ini berukuran 2000 × 2000 piksel (4 megapiksel); maksimal 1 megapiksel."),
        (_raised(check_dimensions, (6000, 10), small),
         "This image is 6000 × 10 pixels; the longest side can be at most 5000 pixels.",
         "Gambar ini berukuran 6000 × 10 piksel; sisi terpanjang maksimal 5000 piksel."),
        (empty, "No product was found in this photo (the cut-out covers 0.0% of it), or the product fills the whole "
                "frame. " + advice_en,
         "Produk tidak ditemukan di foto ini (hasil potong hanya 0,0% dari foto), atau produk memenuhi seluruh "
         "bingkai. " + advice_id),
        (full, "The cut-out covers 100% of the photo, so the background was probably not removed. " + advice_en,
         "Hasil potong menutupi 100% foto, jadi latarnya kemungkinan belum terhapus. " + advice_id),
        (NotFound("records.not_found", record="Brand kit", id=5), "Brand kit 5 not found.",
         "Kit merek 5 tidak ditemukan."),
        (NotFound("records.not_found", record="Product", id=3), "Product 3 not found.", "Produk 3 tidak ditemukan."),
        (ValidationFailed("records.field_empty", name="colors"), "colors cannot be empty.",
         "Warna tidak boleh kosong."),
        (ValidationFailed("avatars.crop_outside", right=100, bottom=200, width=60, height=90),
         "The crop box ends at 100 × 200 px but the image is 60 × 90 px.",
         "Kotak potong berakhir di 100 × 200 px, padahal gambarnya hanya 60 × 90 px."),
        (_raised(faces.check_box, (0, 0, 10, 10), 100, 100), "The face box must be at least 32 × 32 px.",
         "Kotak wajah minimal 32 × 32 px."),
        (_raised(fonts.render_font_preview, "Poppins", "x" * 301), "Preview text is limited to 300 characters.",
         "Teks pratinjau maksimal 300 karakter."),
        (_raised(fonts.render_font_preview, "Poppins", "x", color="red"),
         "color must be a colour like #1A2B3C, got 'red'.",
         "color harus berupa warna seperti #1A2B3C, bukan 'red'."),
        (ValidationFailed("products.too_many_files", n=51, most=50), "51 files at once is too many; upload at most 50.",
         "51 file sekaligus terlalu banyak; unggah maksimal 50."),
        (Message("products.removal_failed"), "Background removal failed unexpectedly.",
         "Penghapusan latar gagal karena kesalahan tak terduga."),
    ]


@pytest.mark.parametrize("given, english, indonesian", _core_messages())
def test_core_messages_of_these_pages_read_in_indonesian(given, english, indonesian):
    assert message_text(given, "en") == english
    assert message_text(given, "id") == indonesian


def test_a_products_stored_problem_is_shown_in_the_readers_language_and_rest_keeps_english():
    flagged = Product(bg_error=json.dumps(Message("products.removal_failed").to_dict()))
    assert products.bg_problem(flagged) == Message("products.removal_failed")
    assert message_text(products.bg_problem(flagged), "id") == "Penghapusan latar gagal karena kesalahan tak terduga."
    old = Product(bg_error="Background removal failed unexpectedly.")   # a row from before message codes
    assert products.bg_problem(old) == "Background removal failed unexpectedly."
    assert products.bg_problem(Product(bg_error=None)) is None
    assert products._english(products.bg_problem(flagged)) == products._english(products.bg_problem(old))


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
