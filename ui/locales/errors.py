"""Indonesian for the messages core writes in English (image intake, credits, generation, validation).

Each entry: a regular expression matching the whole English message, and the Indonesian text with the
same named groups (\\g<name>). The first match wins; a message no pattern matches is shown in English
(tests/test_i18n.py runs the intake corpus and the credit errors through these and fails on a miss).

Where a message embeds a word from a fixed English list (what a refused file looks like, "avatars" /
"products", a record's label, a field name), one pattern per word is generated below, so that word is
translated too. Keep the English here in step with the raise statements in core/ (and engine/ for the
"not available" messages, which are for the admin: shown with a short Indonesian lead and the English detail).
"""
from __future__ import annotations

import re

_E = re.escape

# --- shared pieces --------------------------------------------------------------------------------------------
_ACCEPTED = _E("Please upload a JPEG, PNG, WebP, HEIC or AVIF image.")
_ACCEPTED_ID = "Silakan unggah gambar JPEG, PNG, WebP, HEIC, atau AVIF."
_SIZE = r"[\d.,]+ (?:MB|KB|bytes)"
_NUM = r"[\d.,]+"

# core/images/sniff.py describe(): what a refused file looks like
_LOOKS_LIKE = {
    "a PDF document": "dokumen PDF",
    "a TIFF image": "gambar TIFF",
    "a BMP image": "gambar BMP",
    "a Photoshop file": "file Photoshop",
    "an icon file": "file ikon",
    "a ZIP archive or Office document": "arsip ZIP atau dokumen Office",
    "a compressed (gzip) file": "file terkompresi (gzip)",
    "a RAR archive": "arsip RAR",
    "a 7-Zip archive": "arsip 7-Zip",
    "an old Office document": "dokumen Office versi lama",
    "an MP3 audio file": "file audio MP3",
    "an audio or video file": "file audio atau video",
    "a video file": "file video",
    "a JPEG 2000 image": "gambar JPEG 2000",
    "a JPEG XL image": "gambar JPEG XL",
    "a program": "program",
    "a HEIC photo": "foto HEIC",
    "a HEIF photo": "foto HEIF",
    "an AVIF image": "gambar AVIF",
    "a camera RAW photo": "foto RAW kamera",
    "an audio file": "file audio",
    "a video or HEIF file": "file video atau HEIF",
    "a RIFF file": "file RIFF",
    "an SVG drawing": "gambar SVG",
    "an HTML web page": "halaman web HTML",
    "an XML document": "dokumen XML",
    "a data (JSON) file": "file data (JSON)",
    "a text file": "file teks",
}
# core/images/intake.py KIND_LABELS
_KINDS = {"avatars": "avatar", "products": "produk", "logos": "logo", "pose files": "file pose"}
# core/records.get_owned(label=...)
_RECORDS = {"Brand kit": "Kit merek", "Avatar": "Avatar", "Product": "Produk", "Project": "Proyek",
            "Generation": "Batch", "Result": "Hasil", "Poster": "Poster"}
# fields named in "<field> cannot be empty." (core/records.changes_of, core/brand_kits.update)
_FIELDS = {"name": "Nama", "brandName": "Nama merek", "placement": "Cara ditampilkan"}

_ADMIN = "minta admin untuk memperbaikinya. Detail teknis: "

PATTERNS: list[tuple[str, str]] = [
    # --- core/accounts/credits.py ----------------------------------------------------------------------------------------
    (r"Not enough credits: this needs (?P<need>\d+) credits and you have (?P<have>\d+)\. Ask an admin to add credits\.",
     r"Kredit tidak cukup: perlu \g<need> kredit dan Anda punya \g<have>. Minta admin menambah kredit."),
    (r"Not enough credits: (?P<n>\d+) posters need (?P<need>\d+) credits \((?P<each>\d+) each\) and you have "
     r"(?P<have>\d+)\.",
     r"Kredit tidak cukup: \g<n> poster perlu \g<need> kredit (\g<each> per poster) dan Anda punya \g<have>."),
    (r"Something went wrong on our side; please try again\.",
     r"Terjadi kesalahan di sistem kami; silakan coba lagi."),
    (_E("User not found."), "Pengguna tidak ditemukan."),
    (_E("Only an admin can grant credits."), "Hanya admin yang bisa menambah kredit."),
    (_E("Grant between 1 and 1,000,000 credits at a time."), "Tambahkan 1 sampai 1.000.000 kredit sekali jalan."),
    (_E("Sign in first."), "Silakan masuk dulu."),

    # --- core/images (intake, decode) ---------------------------------------------------------------------------
    (r"This file is empty \(0 bytes\)\. " + _ACCEPTED, "File ini kosong (0 byte). " + _ACCEPTED_ID),
    *[(r"This file is not a picture we can read \(it looks like " + _E(what) + r"\)\. " + _ACCEPTED,
       f"File ini bukan gambar yang bisa kami baca (sepertinya {what_id}). {_ACCEPTED_ID}")
      for what, what_id in _LOOKS_LIKE.items()],
    (r"This file is not a picture we can read \(it looks like (?P<what>.+)\)\. " + _ACCEPTED,
     r"File ini bukan gambar yang bisa kami baca (sepertinya \g<what>). " + _ACCEPTED_ID),
    (r"This file is not a picture we can read\. " + _ACCEPTED,
     "File ini bukan gambar yang bisa kami baca. " + _ACCEPTED_ID),
    *[(rf"This file is just over (?P<limit>{_SIZE}); {_E(kind)} can be at most (?P<max>{_SIZE})\.",
       rf"Ukuran file ini sedikit di atas \g<limit>; ukuran {kind_id} maksimal \g<max>.")
      for kind, kind_id in _KINDS.items()],
    *[(rf"This file is over (?P<limit>{_SIZE}); {_E(kind)} can be at most (?P<max>{_SIZE})\.",
       rf"Ukuran file ini lebih dari \g<limit>; ukuran {kind_id} maksimal \g<max>.")
      for kind, kind_id in _KINDS.items()],
    *[(rf"This file is (?P<size>{_SIZE}); {_E(kind)} can be at most (?P<max>{_SIZE})\.",
       rf"Ukuran file ini \g<size>; ukuran {kind_id} maksimal \g<max>.")
      for kind, kind_id in _KINDS.items()],
    (r"This (?P<fmt>JPEG|PNG|WebP|GIF|HEIC|AVIF) file is damaged or incomplete, so we can't open it \(it may have been cut off "
     r"while saving or uploading\)\. Please save or export it again and re-upload\.",
     r"File \g<fmt> ini rusak atau tidak lengkap, jadi tidak bisa kami buka (mungkin terpotong saat disimpan atau "
     r"diunggah). Silakan simpan atau ekspor ulang, lalu unggah lagi."),
    (r"This image is (?P<w>\d+) × (?P<h>\d+) pixels; the longest side can be at most (?P<max>\d+) pixels\.",
     r"Gambar ini berukuran \g<w> × \g<h> piksel; sisi terpanjang maksimal \g<max> piksel."),
    (rf"This image is (?P<w>\d+) × (?P<h>\d+) pixels \((?P<mp>{_NUM}) megapixels\); it can have at most "
     rf"(?P<max>{_NUM}) megapixels\.",
     r"Gambar ini berukuran \g<w> × \g<h> piksel (\g<mp> megapiksel); maksimal \g<max> megapiksel."),
    (rf"This image is larger than (?P<max>{_NUM}) megapixels, the most we accept\.",
     r"Gambar ini lebih besar dari \g<max> megapiksel, batas yang kami terima."),

    # --- core/records.py (every owned record) -------------------------------------------------------------------
    *[(rf"{_E(label)} (?P<id>\d+) not found\.", rf"{label_id} \g<id> tidak ditemukan.")
      for label, label_id in _RECORDS.items()],
    *[(rf"{_E(field)} cannot be empty\.", f"{field_id} tidak boleh kosong.") for field, field_id in _FIELDS.items()],
    (_E("limit must be 1-200 and offset 0 or more."), "limit harus 1-200 dan offset 0 atau lebih."),

    # --- core/catalog/brand_kits.py (ValueErrors reach the page through pydantic_message) --------------------------------
    (_E("Pick another kit as the default instead; you always have one default kit."),
     "Jadikan kit lain sebagai kit utama; Anda selalu punya satu kit utama."),
    (r"give 1 to 10 colours \(got (?P<n>\d+)\)", r"pilih 1 sampai 10 warna (sekarang \g<n>)"),
    (r"(?P<c>.+) is not a colour in #RRGGBB form, e\.g\. #FF5733",
     r"\g<c> bukan warna dalam format #RRGGBB, contoh #FF5733"),
    (r"pick 1 to 3 fonts \(got (?P<n>\d+)\)", r"pilih 1 sampai 3 font (sekarang \g<n>)"),
    (r"(?P<name>.+?) is not one of our fonts: (?P<fonts>.*)", r"\g<name> tidak ada di daftar font kami: \g<fonts>"),
    (_E("the same font is listed twice"), "font yang sama dipilih dua kali"),

    # --- core/catalog/fonts.py ------------------------------------------------------------------------------------------
    (r"Unknown font family (?P<name>.+?)\. Choose one of: (?P<fonts>.*)\.",
     r"Font \g<name> tidak dikenal. Pilih salah satu: \g<fonts>."),
    (r"(?P<field>\S+) must be a colour like #1A2B3C, got (?P<value>.+)\.",
     r"\g<field> harus berupa warna seperti #1A2B3C, bukan \g<value>."),
    (r"(?P<field>\S+) must be a whole number from (?P<lo>-?\d+) to (?P<hi>-?\d+), got (?P<value>.+)\.",
     r"\g<field> harus bilangan bulat dari \g<lo> sampai \g<hi>, bukan \g<value>."),
    (r"Preview text is limited to (?P<n>\d+) characters\.", r"Teks pratinjau maksimal \g<n> karakter."),

    # --- core/catalog/avatars.py ----------------------------------------------------------------------------------------
    (_E("An avatar always belongs to one of your brand kits."),
     "Setiap avatar harus masuk ke salah satu kit merek Anda."),
    (_E("A crop needs x, y, width and height together."), "Potongan perlu x, y, lebar, dan tinggi sekaligus."),
    (r"The crop box ends at (?P<r>\d+) × (?P<b>\d+) px but the image is (?P<w>\d+) × (?P<h>\d+) px\.",
     r"Kotak potong berakhir di \g<r> × \g<b> px, padahal gambarnya hanya \g<w> × \g<h> px."),
    (_E("Nothing to do: give a rotation, a crop box, or both."),
     "Tidak ada yang diubah: isi putaran, kotak potong, atau keduanya."),

    # --- core/catalog/avatar_ai.py --------------------------------------------------------------------------------------
    (_E("Describe the model, or pick at least one trait."), "Jelaskan modelnya, atau pilih minimal satu ciri."),
    (_E("Candidate not found: it was already chosen, discarded, or expired. Generate again."),
     "Kandidat tidak ditemukan: sudah dipilih, dibuang, atau kedaluwarsa. Silakan buat lagi."),
    (_E("Candidate not found."), "Kandidat tidak ditemukan."),
    (r"(?P<d>Image generation ran out of GPU memory .*)",
     r"Memori GPU server habis saat membuat gambar; coba lagi dengan lebih sedikit gambar, atau " + _ADMIN + r"\g<d>"),
    (r"(?P<d>(?:Image generation is not (?:available|configured)|Unknown ENGINE_)\S*.*)",
     r"Pembuatan gambar belum bisa dijalankan di server ini; " + _ADMIN + r"\g<d>"),

    # --- core/catalog/products.py, core/catalog/background.py -------------------------------------------------------------------
    (_E("Choose at least one file."), "Pilih minimal satu file."),
    (r"(?P<n>\d+) files at once is too many; upload at most (?P<max>\d+)\.",
     r"\g<n> file sekaligus terlalu banyak; unggah maksimal \g<max>."),
    (_E("Background removal is already running for this product."),
     "Penghapusan latar untuk produk ini masih berjalan."),
    (_E("Background removal failed unexpectedly."), "Penghapusan latar gagal karena kesalahan tak terduga."),
    (r"No product was found in this photo \(the cut-out covers (?P<pct>[\d.]+%) of it\), or the product fills the "
     r"whole frame\. Use a photo of the product on a plain background with some space around it, then remove the "
     r"background again\.",
     r"Produk tidak ditemukan di foto ini (hasil potong hanya \g<pct> dari foto), atau produk memenuhi seluruh "
     r"bingkai. Pakai foto produk dengan latar polos dan sedikit ruang di sekelilingnya, lalu hapus latar lagi."),
    (r"The cut-out covers (?P<pct>[\d.]+%) of the photo, so the background was probably not removed\. Use a photo of "
     r"the product on a plain background with some space around it, then remove the background again\.",
     r"Hasil potong menutupi \g<pct> foto, jadi latarnya kemungkinan belum terhapus. Pakai foto produk dengan latar "
     r"polos dan sedikit ruang di sekelilingnya, lalu hapus latar lagi."),
    (r"(?P<d>(?:Background removal is not available|Background-removal model|Unknown background-removal model).*)",
     r"Penghapusan latar belum bisa dijalankan di server ini; " + _ADMIN + r"\g<d>"),

    # --- pydantic's own messages (pydantic_message in ui/common.py) ---------------------------------------------
    (r"String should have at most (?P<n>\d+) characters?", r"maksimal \g<n> karakter"),
    (r"String should have at least (?P<n>\d+) characters?", r"minimal \g<n> karakter"),
    (r"Input should be greater than or equal to (?P<n>-?[\d.]+)", r"minimal \g<n>"),
    (r"Input should be less than or equal to (?P<n>-?[\d.]+)", r"maksimal \g<n>"),
    (r"Input should be greater than (?P<n>-?[\d.]+)", r"harus lebih dari \g<n>"),
    (r"Input should be less than (?P<n>-?[\d.]+)", r"harus kurang dari \g<n>"),
    (r"Input should be a valid integer.*", r"harus bilangan bulat"),
    (r"Input should be a valid number.*", r"harus berupa angka"),
    (r"Input should be a valid string", r"harus berupa teks"),
    (r"Input should be '.*", r"pilih salah satu pilihan dari daftar"),
    (r"Field required", r"wajib diisi"),
]
