"""Indonesian for the posters' messages (core/messages/posters.py)."""

MESSAGES = {
    "posters.unknown_format": "Format {key!r} tidak dikenal: pilih dari {known}.",
    "posters.unknown_layout": "Tata letak {key!r} tidak dikenal: pilih dari {known}.",
    "posters.over_limit": "Itu {n} poster ({images} foto x {formats} format x {layouts} tata letak); satu permintaan "
                          "maksimal {most}.",
    "posters.not_finished": "Hasil {id} belum punya gambar jadi ({result_status}).",
    "posters.not_enough_credits": "Kredit tidak cukup: {n} poster perlu {need} kredit ({each} per poster) dan Anda "
                                  "punya {have}.",
    "posters.kit_deleted": "Kit merek hasil {id} sudah dihapus; pilih kit merek.",
    "posters.image_missing": "File gambar hasil {id} hilang; buat ulang gambarnya.",
    "posters.nothing_to_export": "Pilih minimal satu poster untuk diekspor.",
    "posters.photo_empty": "photo harus berupa gambar yang tidak kosong.",
    "crop.keypoints_count": "keypoints harus berupa daftar {count} entri [x, y, confidence] atau null.",
    "crop.keypoint_invalid": "Setiap keypoint harus berupa [x, y, confidence] atau null.",
    "crop.keypoints_not_finite": "Keypoint harus berupa angka yang terhingga.",
    "crop.box_invalid": "product_box harus berupa (x0, y0, x1, y1) dalam piksel foto.",
    "crop.box_empty": "product_box harus memenuhi x1 > x0 dan y1 > y0 serta beririsan dengan foto.",
    "palette.bad_colour": "Warna merek harus ditulis seperti #1A2B3C, bukan {colour!r}.",
    "palette.no_colours": "Merek perlu minimal satu warna.",
    "formats.unknown": "Format poster {key!r} tidak dikenal. Pilih salah satu: {known}.",
    "layouts.unknown": "Tata letak poster {key!r} tidak dikenal. Pilih salah satu: {known}.",
}

WORDS = {
    # core/posters/service.py: a result's status (GeneratedPose.status) when it has no finished image
    "result_status": {"pending": "masih menunggu giliran", "running": "sedang dibuat", "failed": "gagal",
                      "cancelled": "dibatalkan", "done": "selesai"},
}
