"""Indonesian for core/system.py's messages (core/messages/system.py)."""

MESSAGES = {
    "system.admin_only": "Halaman Sistem hanya untuk pengelola server ini (khusus admin).",
    "system.notice_generation_off": "Pembuatan gambar belum disiapkan di server ini: model gambarnya belum ada. "
                                    "Minta pengelola server membuka halaman Sistem.",
    "system.notice_likeness_off": "Kemiripan avatar nonaktif di server ini: foto tidak akan menampilkan wajah "
                                  "avatar Anda sendiri.",
    "system.notice_pose_check_off": "Cek pose nonaktif di server ini: gambar ditandai \"belum dicek\".",
    "system.notice_background_off": "Penghapusan latar nonaktif di server ini: unggah foto produk yang sudah "
                                    "terpotong (PNG atau WebP dengan latar transparan).",
}
