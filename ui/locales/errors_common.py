"""Indonesian for the shared pieces' messages (core/messages/common.py): files, apps, sizes, prompts, REST
parameters."""

MESSAGES = {
    "files.not_found": "File tidak ditemukan.",
    "apps.not_found": "Tidak ada aplikasi {app_id!r}; aplikasi yang ada: {apps}.",
    "sizes.not_configured": "Pembuatan gambar belum diatur di server ini; minta admin untuk memperbaikinya: entri "
                            "OUTPUT_SIZES {entry!r} perlu sisi kelipatan 8 antara {least} dan {most}.",
    "sizes.unknown": "Ukuran harus salah satu dari: {size_names}.",
    "prompts.text_too_long": "'{override}' harus berupa teks maksimal {most} karakter.",
    "prompts.unknown_style": "Preset gaya {preset!r} tidak dikenal; pilih salah satu: {presets}.",
    "api.ids_invalid": "{param} harus berupa {id_kind} yang dipisahkan koma, seperti {id_example}; masing-masing "
                       "bilangan bulat dari 1 sampai {most} (bukan {got!r}).",
    "api.nul_character": "tidak boleh berisi karakter NUL (\\u0000)",
    "api.nul_in_file_name": "nama file tidak boleh berisi karakter NUL (\\u0000)",
}

WORDS = {
    # core/sizes.py: the presets of auto (generate.size.* shows the same words on the page)
    "size_names": {"square": "persegi", "portrait": "potret", "landscape": "lanskap"},
    # api/params.parse_ids(what=..., example=...) as api/generations.py and api/posters.py call it
    "id_kind": {"result ids": "id hasil", "poster ids": "id poster"},
    "id_example": {"12,13,14 (leave it out to export every finished image)":
                   "12,13,14 (kosongkan untuk mengekspor semua gambar yang sudah selesai)"},
}
