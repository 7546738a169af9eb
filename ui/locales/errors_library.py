"""Indonesian for the pose library's messages (core/messages/library.py): curating templates, importing and
exporting poses, the shipped library file, keypoints and skeleton images."""

MESSAGES = {
    "templates.sort_unknown": "Urutan harus salah satu dari {sorts}.",
    "templates.admins_only": "Hanya tim data (admin) yang bisa mengubah template pose.",
    "templates.admins_only_export": "Hanya tim data (admin) yang bisa mengekspor template pose.",
    "templates.none_exist": "Tidak satu pun template yang dipilih masih ada.",
    "templates.already_in_library": "Pose yang persis sama sudah ada di pustaka.",
    "templates.none_selected": "Pilih minimal satu template.",

    "importing.too_large": "Ukuran file ini {size:.1f} MB; file pose maksimal {most:short} MB.",
    "importing.category_unknown": "Kategori harus salah satu dari {categories}.",
    "importing.placement_unknown": "Posisi produk harus salah satu dari {placements}.",
    "importing.no_files": "Pilih minimal satu file.",
    "importing.too_many_files": "Impor maksimal {most} file sekaligus.",
    "importing.no_person": "Tidak ada orang di file ini.",

    "poses.person": "orang {person}",
    "poses.person_in_document": "dokumen {document}, orang {person}",
    "poses.too_few_keypoints": "hanya {n} titik pose (perlu {need})",
    "poses.duplicate_of_existing": "sama dengan pose yang sudah ada (jarak {distance:.3f})",
    "poses.duplicate_of_candidate": "sama dengan pose lain di impor ini, nomor {candidate} (jarak {distance:.3f})",

    "poses.json_too_large": "File JSON terlalu besar.",
    "poses.not_json": "Bukan file JSON: {why}",
    "poses.no_people_list": "Dokumen {document} tidak punya daftar 'people' (yang diharapkan: OpenPose JSON).",
    "poses.keypoint_count": "{label}: pose_keypoints_2d harus berisi 54 (COCO-18) atau 75 (BODY_25) angka, bukan {n}.",
    "poses.keypoints_not_numbers": "{label}: titik pose harus berupa angka.",
    "poses.keypoints_not_finite": "{label}: titik pose harus angka yang terhingga.",
    "poses.needs_canvas_size": "{label}: koordinat piksel perlu ukuran kanvas (canvas_width dan canvas_height).",
    "poses.skeleton_too_large": "Gambar kerangka terlalu besar.",
    "poses.not_readable_image": "Gambar tidak bisa dibaca.",
    "poses.not_rgb": "Yang diharapkan gambar RGB.",

    "poses.wrong_count": "Satu pose punya {count} titik, bukan {got}.",
    "poses.not_a_keypoint": "Titik {joint} harus berupa Keypoint atau None.",
    "poses.keypoint_not_finite": "Titik {joint} punya koordinat yang tidak terhingga.",
    "poses.confidence_out_of_range": "Keyakinan titik {joint} harus di antara 0 dan 1.",
    "poses.point_shape": "Setiap titik pose berupa [x, y] atau [x, y, keyakinan].",
    "poses.coordinates_not_numbers": "Koordinat titik pose harus berupa angka.",
    "poses.array_shape": "Yang diharapkan array berbentuk (18, 2|3), bukan {shape}.",
    "poses.keypoints_not_json": "Titik pose bukan JSON yang valid.",
    "poses.keypoints_not_list": "Titik pose harus berupa daftar 18 titik.",
    "poses.aspect_malformed": "Rasio harus ditulis seperti '2:3', bukan {aspect!r}.",
    "poses.aspect_not_positive": "Rasio harus positif, bukan {aspect!r}.",

    "poses.scale_not_positive": "Faktor skala harus positif.",
    "poses.no_keypoints": "Pose ini tidak punya titik sama sekali.",
    "poses.margin_out_of_range": "Margin harus di antara 0 dan 0,5.",
    "poses.size_not_integers": "Lebar dan tinggi harus bilangan bulat.",
    "poses.size_out_of_range": "Lebar dan tinggi harus di antara 1 dan {most} px.",
    "poses.export_incomplete": "Setiap template yang diekspor perlu id dan titik pose.",
    "poses.export_too_many": "Ekspor maksimal {most} template sekaligus.",
    "poses.export_nothing": "Belum ada yang dipilih untuk diekspor.",

    "library.template_not_object": "Template harus berupa objek.",
    "library.field_type": "Template {template}: '{key}' harus berupa {type_name}.",
    "library.unknown_value": "Template {template}: {field_name} {value!r} tidak dikenal.",
    "library.tags_not_strings": "Template {template}: tag harus berupa teks.",
    "library.file_missing": "Pustaka pose tidak ditemukan di {path}; jalankan python -m core.library.poses.generator "
                            "--out assets/poses/library.json",
    "library.no_templates_list": "Pustaka pose tidak punya daftar 'templates'.",
    "library.duplicate_id": "Id template {id} muncul dua kali.",
}

WORDS = {
    # core/library/templates.get: records.not_found's record
    "record": {"Pose template": "Template pose"},
    # core/library/templates.update: records.field_empty's field
    "name": {"category": "Kategori", "is_active": "Status aktif", "difficulty": "Tingkat kesulitan",
             "gender": "Gender", "tags": "Tag"},
    # core/library/poses/keypoints.py NAMES
    "joint": {"nose": "hidung", "neck": "leher", "right_shoulder": "bahu kanan", "right_elbow": "siku kanan",
              "right_wrist": "pergelangan tangan kanan", "left_shoulder": "bahu kiri", "left_elbow": "siku kiri",
              "left_wrist": "pergelangan tangan kiri", "right_hip": "pinggul kanan", "right_knee": "lutut kanan",
              "right_ankle": "pergelangan kaki kanan", "left_hip": "pinggul kiri", "left_knee": "lutut kiri",
              "left_ankle": "pergelangan kaki kiri", "right_eye": "mata kanan", "left_eye": "mata kiri",
              "right_ear": "telinga kanan", "left_ear": "telinga kiri"},
    # core/library/poses/library.py FIELDS' types
    "type_name": {"str": "teks", "list": "daftar"},
    # core/library/poses/library.py: the fields whose value must come from a fixed list
    "field_name": {"category": "kategori", "product_placement": "posisi produk", "difficulty": "tingkat kesulitan",
            "gender": "gender", "view": "sudut pandang"},
}
