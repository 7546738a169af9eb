"""Indonesian for the analytics messages (core/messages/analytics.py): period checks and the dashboard's notes."""

MESSAGES = {
    "analytics.month_invalid": "Bulan ({which}) harus ditulis YYYY-MM dari tahun 1000 sampai 9999, contoh 2025-01; "
                               "bukan {value!r}.",
    "analytics.month_not_text": "Bulan ({which}) harus ditulis YYYY-MM, contoh 2025-01.",
    "analytics.from_after_to": "Bulan awal ({lo}) jatuh setelah bulan akhir ({hi}).",
    "analytics.too_many_months": "Pilih maksimal {most} bulan; {start} sampai {end} berisi {count:,} bulan.",
    "analytics.note_shoot": "Sesi foto produk dengan model biayanya {low:rp}–{high:rp} dan menghasilkan sekitar "
                            "{images} foto yang sudah diedit, jadi setiap foto yang berhasil dihitung hemat {per:rp} "
                            "(hingga {per_high:rp}).",
    "analytics.note_minutes": "Setiap foto yang berhasil menghemat {image_minutes:short} menit (hari pemotretan dan "
                              "retouching, per foto); setiap poster {poster_minutes:short} menit kerja desain. Avatar "
                              "dihitung jumlahnya, tidak dinilai dengan uang.",
    "analytics.note_net": "Hemat bersih = penghematan − biaya langganan ({subscription:rp} per bulan) untuk setiap "
                          "bulan dalam periode.",
    "analytics.note_provider": "Foto yang dibuat penyedia hosting dihargai per foto: fal {fal:rp}, "
                               "Replicate {replicate:rp}, Hugging Face {hf:rp} (satu per percobaan).",
    "analytics.note_gpu": "Waktu GPU dihargai {rate:rp} per jam (H100 sewa di cloud); yang dihitung adalah waktu "
                          "mesin untuk foto yang sudah jadi (pembuatan yang gagal tidak dihitung).",
    "analytics.note_months": "Bulan dihitung dalam zona waktu UTC{offset}.",
    "analytics.design_type_invalid": "design_type harus salah satu dari {known}, bukan {value!r}.",
    "analytics.format_invalid": "Format harus 1-32 karakter, bukan {value!r}.",
    "analytics.count_invalid": "Satu ekspor berisi minimal satu item, bukan {value!r}.",
}
