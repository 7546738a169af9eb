"""Indonesian for the messages every owned record can give (core/messages/records.py)."""

MESSAGES = {
    "records.not_found": "{record} {id} tidak ditemukan.",
    "records.page_out_of_range": "limit harus 1-{most} dan offset 0 atau lebih.",
    "records.field_empty": "{name} tidak boleh kosong.",
}

WORDS = {
    # core/records.get_owned(label=...)
    "record": {"Brand kit": "Kit merek", "Avatar": "Avatar", "Product": "Produk", "Project": "Proyek",
               "Generation": "Batch", "Result": "Hasil", "Poster": "Poster"},
    # the fields named by records.field_empty (core/records.changes_of, core/catalog/brand_kits.update)
    "name": {"name": "Nama", "brandName": "Nama merek", "placement": "Cara ditampilkan"},
}
