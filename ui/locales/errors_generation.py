"""Indonesian for generation's messages (core/messages/generation.py): planning, cancelling, rating, exporting,
compositing and why a pose failed."""

MESSAGES = {
    "generation.no_cutout": "“{product}” belum punya potongan gambar (penghapusan latar: {bg_status}). Tunggu "
                            "sebentar, atau ulangi penghapusan latar di halaman Produk.",
    "generation.nothing_to_cancel": "Batch {id} sudah {batch_status}; tidak ada yang bisa dibatalkan.",
    "generation.show_invalid": "Tampilan harus salah satu dari {known}.",
    "generation.rating_invalid": "Nilai harus bilangan bulat 1 sampai 5, bukan {value}.",
    "generation.rate_unfinished": "Hanya foto yang sudah jadi yang bisa dinilai; foto ini {pose_status}.",
    "generation.project_name_required": "Proyek perlu nama.",
    "planning.one_way": "isi poseDistribution (jumlah pose per kategori) atau templateIds, jangan keduanya",
    "planning.distribution_empty": "poseDistribution perlu minimal satu kategori dengan jumlah pose >= 0",
    "planning.no_poses": "minta minimal satu pose",
    "planning.total_vs_distribution": "totalPoses berisi {total}, padahal jumlah poseDistribution {wanted}",
    "planning.total_vs_templates": "totalPoses berisi {total}, padahal templateIds berisi {wanted}",
    "planning.not_for_gender": "“{category}” tidak punya pose aktif untuk avatar {gender}; pilih dari {known}.",
    "planning.unknown_category": "Kategori pose tidak dikenal: {categories}; pilih dari {known}.",
    "planning.unknown_categories": "Kategori pose tidak dikenal: {categories}; pilih dari {known}.",
    "planning.too_few_poses": "“{category}” punya {have} pose aktif, padahal Anda minta {n}. Minta lebih sedikit, "
                              "atau izinkan pose berulang (pose yang diulang memakai seed lain).",
    "planning.too_many_poses": "Satu batch maksimal {most:,} pose; Anda minta {n:,}.",
    "planning.batch_cancelled": "Batch {id} sudah dibatalkan; mulai batch baru saja.",
    "planning.nothing_to_retry": "Batch {id} tidak punya pose gagal yang bisa dicoba lagi.",
    "planning.retry_blocked": "Pose gagal di batch {id} tidak bisa dibuat karena {why}. Coba lagi setelah modelnya "
                              "ada di server ini.",
    "planning.still_rendering": "Hasil {id} masih {pose_status}; buat ulang setelah selesai.",
    "export.not_in_generation": "Hasil {id} bukan bagian dari batch {generation}.",
    "export.unfinished": "Hasil {id} belum punya foto ({n} dari pilihan Anda belum jadi).",
    "export.nothing_finished": "Batch {id} belum punya foto jadi yang bisa diekspor.",
    "export.no_image": "Hasil {id} tidak punya foto ({pose_status}).",
    "compositing.box_invalid": "Kotak produk harus seukuran produk dan berada di dalam gambar.",
    "compositing.unknown_placement": "Cara menampilkan {placement!r} tidak dikenal; pilih salah satu dari {known}.",
    "compositing.image_invalid": "image harus berupa gambar PIL.",
    "compositing.cutout_required": "Produk {placement} perlu potongan gambarnya.",
    "compositing.cutout_transparent": "Potongan gambar produk seluruhnya transparan.",
    "quality.not_image": "is_blank perlu gambar PIL.",
    "quality.threshold_range": "Batas kualitas harus di antara 0..1.",
    "quality.blank": "gambar kosong (hitam atau polos, mis. diblokir oleh pemeriksa keamanan)",
    "quality.not_checked": "belum dicek: tidak ada pendeteksi pose",
    "quality.template_empty": "belum dicek: template tidak punya titik pose",
    "quality.no_person": "tidak ada orang di gambar",
    "quality.nobody_matched": "tidak ada orang yang terdeteksi",
    "quality.joints": "{matched} dari {expected} titik sendi template cocok (PCK@{alpha:short} torso)",
    "quality.below_threshold": "skor pose {score:.2f} di bawah batas {threshold:.2f}: {detail}",
    "quality.passed": "skor pose {score:.2f}: {detail}",
    "render.cancelled": "Dibatalkan.",
    "render.template_deleted": "Template pose-nya dihapus dari pustaka sebelum sempat dibuat.",
    "render.check_failed": "Cek pose gagal setelah {attempts} kali coba: {reason}",
    "render.broken": "{what} ({error}); detailnya ada di log server.",
    "render.engine_failed": "Mesin gambar gagal saat membuat foto",
    "render.detector_failed": "Pendeteksi pose gagal",
    "render.model_missing": "{subject} tidak ada di server ini dan tidak bisa diunduh sekarang ({reason})",
    "checks.detector_not_loaded": "pendeteksi pose tidak bisa dimuat",
    "checks.likeness_unknown": "mesin gambar tidak bisa memastikan apakah kemiripan wajah tersedia",
    "checks.pose_check_unknown": "mesin gambar tidak bisa memastikan apakah cek pose tersedia",
}

_POSE_STATUS = {"pending": "menunggu giliran", "running": "sedang dibuat", "done": "jadi", "failed": "gagal",
                "cancelled": "dibatalkan"}

WORDS = {
    "pose_status": _POSE_STATUS,
    "batch_status": {**_POSE_STATUS, "completed": "selesai"},
    "bg_status": {"pending": "menunggu", "processing": "sedang diproses", "failed": "gagal", "flagged": "perlu dicek",
                  "done": "selesai"},
    "gender": {"female": "perempuan", "male": "laki-laki", "unisex": "uniseks"},
    "placement": {"hand-left": "dipegang tangan kiri", "hand-right": "dipegang tangan kanan",
                  "both-hands": "dipegang dua tangan", "table": "di meja", "displayed": "dipajang", "worn": "dipakai",
                  "none": "tanpa produk"},
}

MESSAGES.update({
    "identity.score": "kemiripan wajah {score:.2f} (wajah avatar dibanding wajah di foto, embedding gambar CLIP)",
    "identity.below_threshold": "kemiripan wajah {score:.2f} di bawah batas {threshold:.2f}: wajahnya kurang mirip "
                                "dengan avatar",
    "identity.no_reference": "kemiripan wajah belum dicek: tidak ada wajah avatar sebagai pembanding",
    "identity.likeness_off": "kemiripan wajah belum dicek: kemiripan dimatikan (IP_ADAPTER=false)",
    "identity.no_encoder_engine": "kemiripan wajah belum dicek: mesin gambar ini tidak punya image encoder",
    "identity.no_face": "kemiripan wajah belum dicek: pose ini tidak menampilkan wajah",
    "identity.not_checked": "kemiripan wajah belum dicek: {reason}",
    "identity.encoder_failed": "kemiripan wajah belum dicek: image encoder gagal ({error})",
    "render.identity_failed": "Cek kemiripan wajah gagal setelah {attempts} kali coba: {reason}",
})
