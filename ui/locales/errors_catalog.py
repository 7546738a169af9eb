"""Indonesian for core/catalog's messages (core/messages/catalog.py)."""

_ADVICE = "Pakai foto produk dengan latar polos dan sedikit ruang di sekelilingnya, lalu hapus latar lagi."

MESSAGES = {
    "brand_kits.colors_count": "pilih 1 sampai 10 warna (sekarang {got})",
    "brand_kits.color_invalid": "{color!r} bukan warna dalam format #RRGGBB, contoh #FF5733",
    "brand_kits.fonts_count": "pilih 1 sampai 3 font (sekarang {got})",
    "brand_kits.font_unknown": "{font!r} tidak ada di daftar font kami: {fonts}",
    "brand_kits.font_twice": "font yang sama dipilih dua kali",
    "brand_kits.font_object": "font berupa nama keluarga font, atau objek berisi \"family\" (nama) dan \"weights\" (mis. [400, 700]) saja",
    "brand_kits.font_weights": "ketebalan font {font!r} berupa angka 100 sampai 900 kelipatan seratus, mis. [400, 700]",
    "brand_kits.default_required": "Jadikan kit lain sebagai kit utama; Anda selalu punya satu kit utama.",
    "avatars.brand_kit_required": "Setiap avatar harus masuk ke salah satu kit merek Anda.",
    "avatars.crop_incomplete": "Potongan perlu x, y, lebar, dan tinggi sekaligus.",
    "avatars.crop_outside": "Kotak potong berakhir di {right} × {bottom} px, padahal gambarnya hanya "
                            "{width} × {height} px.",
    "avatars.nothing_to_do": "Tidak ada yang diubah: isi putaran, kotak potong, atau keduanya.",
    "faces.box_not_numbers": "Kotak wajah terdiri dari empat bilangan bulat: kiri, atas, kanan, bawah (px).",
    "faces.box_outside": "Kotak wajah {left}, {top}, {right}, {bottom} harus berada di dalam foto "
                         "(0, 0, {width}, {height}).",
    "faces.box_too_small": "Kotak wajah minimal {side} × {side} px.",
    "avatar_ai.describe_first": "Jelaskan modelnya, atau pilih minimal satu ciri.",
    "avatar_ai.candidate_gone": "Kandidat tidak ditemukan: sudah dipilih, dibuang, atau kedaluwarsa. "
                                "Silakan buat lagi.",
    "avatar_ai.candidate_not_found": "Kandidat tidak ditemukan.",
    "products.no_files": "Pilih minimal satu file.",
    "products.too_many_files": "{n} file sekaligus terlalu banyak; unggah maksimal {most}.",
    "products.removal_running": "Penghapusan latar untuk produk ini masih berjalan.",
    "products.bg_server_problem": "Penghapusan latar sedang tidak tersedia di server ini. Foto Anda tetap "
                                  "tersimpan dan kredit penghapusannya sudah dikembalikan: coba lagi nanti, atau "
                                  "unggah foto yang sudah terpotong (PNG atau WebP dengan latar transparan).",
    "products.removal_failed": "Penghapusan latar gagal karena kesalahan tak terduga.",
    "background.nothing_found": "Produk tidak ditemukan di foto ini (hasil potong hanya {percent:.1f}% dari foto), "
                                "atau produk memenuhi seluruh bingkai. " + _ADVICE,
    "background.not_removed": "Hasil potong menutupi {percent:.0f}% foto, jadi latarnya kemungkinan belum "
                              "terhapus. " + _ADVICE,
    "fonts.unknown_family": "Font {family!r} tidak dikenal. Pilih salah satu: {families}.",
    "fonts.unknown_family_none": "Font {family!r} tidak dikenal. Belum ada font yang terpasang.",
    "fonts.color_invalid": "{option} harus berupa warna seperti #1A2B3C, bukan {value!r}.",
    "fonts.number_out_of_range": "{option} harus bilangan bulat dari {least} sampai {most}, bukan {value!r}.",
    "fonts.text_too_long": "Teks pratinjau maksimal {most} karakter.",
}

WORDS = {
    # the brand kit fields core/catalog/brand_kits.update names in records.field_empty (besides records' own)
    "name": {"tone": "Gaya bahasa", "colors": "Warna", "fonts": "Font"},
}
