"""The Brand Kits page (ui/brand_kits.py). Data choices keep their English codes as the English text, so what
the page shows in English is unchanged; "brand_kits.tone.<code>" and "brand_kits.category.<code>" name them.
Font families are names, the same in both languages: "brand_kits.font.<family>" for each shipped font."""

from core.catalog.brand_kits import CATEGORIES, TONES
from core.catalog.fonts import list_font_families

_FONTS = {f"brand_kits.font.{family}": family for family in list_font_families()}

EN = {
    "brand_kits.header": "## Brand Kits\nYour shop's name, colours, fonts, logo and tone — posters and prompts use "
                         "them automatically.",
    "brand_kits.edit_kit": "Edit kit",
    "brand_kits.edit_kit_info": "Click a card to edit it; pick “+ New kit” to start a new one.",
    "brand_kits.new_kit": "+ New kit",
    "brand_kits.brand_name": "Brand name",
    "brand_kits.brand_name_placeholder": "e.g. Toko Cantik",
    "brand_kits.tone": "Tone",
    "brand_kits.tagline": "Tagline",
    "brand_kits.tagline_label": "Tagline (up to 140 characters)",
    "brand_kits.colours": "Colours",
    "brand_kits.font_main": "Main font (names, headlines, tagline)",
    "brand_kits.font_second": "Second font (optional)",
    "brand_kits.font_none": "None",
    "brand_kits.fonts_short": "Fonts",
    "brand_kits.logo": "Logo (PNG, JPEG or WebP; replaces the current one; 3 credits)",
    "brand_kits.save": "Save kit",
    "brand_kits.make_default": "Make default",
    "brand_kits.default": "Default",
    "brand_kits.confirm_delete": "**Delete this kit?** Its avatars and products are deleted with it. (1 credit)",
    "brand_kits.costs": "Costs: create 5 credits · edit 2 · logo 3 · delete 1.",
    # handler-built text
    "brand_kits.empty": "No brand kits yet. Fill in the form to create your first one — it becomes your default kit.",
    "brand_kits.no_logo": "no logo",
    "brand_kits.logo_alt": "{name} logo",
    "brand_kits.click_to_edit": "Click to edit",
    "brand_kits.pick_font": "Pick a font to see a preview.",
    "brand_kits.no_preview": "No preview for this font.",
    "brand_kits.preview_alt": "{font} preview",
    "brand_kits.created": "Created “{name}”.",
    "brand_kits.saved": "Saved “{name}”.",
    "brand_kits.logo_not_saved": "{done} The logo was not saved: {error}",
    "brand_kits.pick_first": "Pick a kit first (click its card).",
    "brand_kits.now_default": "“{name}” is now your default kit.",
    "brand_kits.deleted": "Deleted “{name}”.",
    **{f"brand_kits.colour_{i}": f"Colour {i}" for i in range(1, 11)},
    **{f"brand_kits.tone.{code}": code for code in TONES},
    **{f"brand_kits.category.{code}": code for code in CATEGORIES},
    **_FONTS,
}

_TONES_ID = {"friendly": "ramah", "casual": "santai", "formal": "formal", "playful": "ceria", "luxury": "mewah",
             "bold": "berani", "minimalist": "minimalis", "professional": "profesional", "elegant": "elegan",
             "warm": "hangat"}
_CATEGORIES_ID = {"fashion": "fesyen", "beauty": "kecantikan", "skincare": "perawatan kulit", "food": "makanan",
                  "beverage": "minuman", "health": "kesehatan", "home": "rumah tangga", "electronics": "elektronik",
                  "craft": "kerajinan", "kids": "anak-anak", "sports": "olahraga", "other": "lainnya"}

ID = {
    "brand_kits.header": "## Kit Merek\nNama toko, warna, font, logo, dan gaya bahasa Anda — otomatis dipakai untuk "
                         "poster dan prompt.",
    "brand_kits.edit_kit": "Ubah kit",
    "brand_kits.edit_kit_info": "Klik kartu untuk mengubahnya; pilih “+ Kit baru” untuk membuat yang baru.",
    "brand_kits.new_kit": "+ Kit baru",
    "brand_kits.brand_name": "Nama merek",
    "brand_kits.brand_name_placeholder": "mis. Toko Cantik",
    "brand_kits.tone": "Gaya bahasa",
    "brand_kits.tagline": "Slogan",
    "brand_kits.tagline_label": "Slogan (maks. 140 karakter)",
    "brand_kits.colours": "Warna",
    "brand_kits.font_main": "Font utama (nama, judul, slogan)",
    "brand_kits.font_second": "Font kedua (opsional)",
    "brand_kits.font_none": "Tidak ada",
    "brand_kits.fonts_short": "Font",
    "brand_kits.logo": "Logo (PNG, JPEG, atau WebP; menggantikan logo sekarang; 3 kredit)",
    "brand_kits.save": "Simpan kit",
    "brand_kits.make_default": "Jadikan utama",
    "brand_kits.default": "Utama",
    "brand_kits.confirm_delete": "**Hapus kit ini?** Avatar dan produknya ikut terhapus. (1 kredit)",
    "brand_kits.costs": "Biaya: buat 5 kredit · ubah 2 · logo 3 · hapus 1.",
    "brand_kits.empty": "Belum ada kit merek. Isi formulir untuk membuat kit pertama Anda — kit itu otomatis jadi "
                        "kit utama.",
    "brand_kits.no_logo": "tanpa logo",
    "brand_kits.logo_alt": "Logo {name}",
    "brand_kits.click_to_edit": "Klik untuk mengubah",
    "brand_kits.pick_font": "Pilih font untuk melihat pratinjau.",
    "brand_kits.no_preview": "Pratinjau tidak tersedia untuk font ini.",
    "brand_kits.preview_alt": "Pratinjau {font}",
    "brand_kits.created": "“{name}” dibuat.",
    "brand_kits.saved": "“{name}” disimpan.",
    "brand_kits.logo_not_saved": "{done} Logo tidak disimpan: {error}",
    "brand_kits.pick_first": "Pilih kit dulu (klik kartunya).",
    "brand_kits.now_default": "“{name}” sekarang jadi kit utama Anda.",
    "brand_kits.deleted": "“{name}” dihapus.",
    **{f"brand_kits.colour_{i}": f"Warna {i}" for i in range(1, 11)},
    **{f"brand_kits.tone.{code}": _TONES_ID[code] for code in TONES},
    **{f"brand_kits.category.{code}": _CATEGORIES_ID[code] for code in CATEGORIES},
    **_FONTS,
}
