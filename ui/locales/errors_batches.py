"""Indonesian for the English messages core writes that the pose pages show (Pose Library, Generate, Results,
Analytics): core/generation/planning.py + batches.py, generation.py, batch_export.py, pose_library.py, pose_import.py, core/library/poses/*.py,
quality.py (a failed pose's reason), analytics*.py (the dashboard's notes).

Same form as errors.py: a regular expression matching the whole English message and the Indonesian text with the
same named groups (\\g<name>); ui/i18n.py reads PATTERNS from every ui/locales module, these before errors.py's
shared ones. Messages errors.py already knows ("<Record> 7 not found.", "Choose at least one file.", "name cannot
be empty.", credits...) are not repeated here. Where a message embeds a word from a short English list (a status,
a gender, a quality check's reason), one pattern per word is generated so that word is translated too.
Keep the English in step with the raise statements in those files.
"""
from __future__ import annotations

import re

_E = re.escape
_RP = r"-?Rp [\d.]+"
_NUM = r"-?[\d.]+"

_STATUS = {"pending": "menunggu giliran", "running": "sedang dibuat", "done": "jadi", "failed": "gagal",
           "completed": "selesai", "cancelled": "dibatalkan"}
_GENDER = {"female": "perempuan", "male": "laki-laki"}
_BG_STATUS = {"pending": "menunggu", "processing": "sedang diproses", "failed": "gagal", "flagged": "perlu dicek"}
# a pose that failed its check: core/generation/quality.py's reasons (core/generation/render.py writes "Pose check failed after
# <n> attempts: <reason>")
_REASONS = [
    (_E("blank image (black or uniform, e.g. blocked by the safety checker)"),
     "gambar kosong (hitam atau polos, mis. diblokir oleh pemeriksa keamanan)"),
    (_E("no person found in the image"), "tidak ada orang di gambar"),
    (_E("no person found"), "tidak ada orang yang terdeteksi"),
    (rf"pose score (?P<s>{_NUM}) below threshold (?P<th>{_NUM}): (?P<m>\d+) of (?P<e>\d+) template joints match "
     rf"\(PCK@(?P<a>{_NUM}) torso\)",
     r"skor pose \g<s> di bawah batas \g<th>: \g<m> dari \g<e> titik sendi template cocok (PCK@\g<a> torso)"),
    (r"(?P<reason>.+)", r"\g<reason>"),
]
# who a pose of an imported file is (core/library/poses/importers.py, core/library/importing.py)
_PERSON = [
    (r"document (?P<d>\d+), person (?P<p>\d+)", r"dokumen \g<d>, orang \g<p>"),
    (r"person (?P<p>\d+)", r"orang \g<p>"),
]

PATTERNS: list[tuple[str, str]] = [
    # --- core/generation/planning.py + batches.py ----------------------------------------------------------------------------------------
    *[(rf"“(?P<cat>[^”]+)” has no active poses for a {g} avatar; choose from (?P<known>.*)\.",
       rf"“\g<cat>” tidak punya pose aktif untuk avatar {g_id}; pilih dari \g<known>.")
      for g, g_id in _GENDER.items()],
    (r"“(?P<cat>[^”]+)” has no active poses for a (?P<g>\S+) avatar; choose from (?P<known>.*)\.",
     r"“\g<cat>” tidak punya pose aktif untuk avatar \g<g>; pilih dari \g<known>."),
    (r"Unknown pose categor(?:y|ies) (?P<cats>.+?): choose from (?P<known>.*)\.",
     r"Kategori pose tidak dikenal: \g<cats>; pilih dari \g<known>."),
    (r"“(?P<cat>[^”]+)” has (?P<have>\d+) active poses and you asked for (?P<n>\d+)\. Ask for fewer, or allow "
     r"repeats \(a repeated pose gets a different seed\)\.",
     r"“\g<cat>” punya \g<have> pose aktif, padahal Anda minta \g<n>. Minta lebih sedikit, atau izinkan pose "
     r"berulang (pose yang diulang memakai seed lain)."),
    (r"A batch can have at most (?P<max>\d+) poses; you asked for (?P<n>\d+)\.",
     r"Satu batch maksimal \g<max> pose; Anda minta \g<n>."),
    *[(rf"Generation (?P<id>\d+) is already {_E(s)}; there is nothing to cancel\.",
       rf"Batch \g<id> sudah {s_id}; tidak ada yang bisa dibatalkan.") for s, s_id in _STATUS.items()],
    (r"Generation (?P<id>\d+) was cancelled; start a new batch instead\.",
     r"Batch \g<id> sudah dibatalkan; mulai batch baru saja."),
    (r"Generation (?P<id>\d+) has no failed poses to retry\.",
     r"Batch \g<id> tidak punya pose gagal yang bisa dicoba lagi."),
    *[(rf"Result (?P<id>\d+) is still {_E(s)}; re-render it once it has finished\.",
       rf"Hasil \g<id> masih {s_id}; buat ulang setelah selesai.") for s, s_id in _STATUS.items()],
    (r"A rating is a whole number from 1 to 5, got (?P<v>.+)\.",
     r"Nilai harus bilangan bulat 1 sampai 5, bukan \g<v>."),
    *[(rf"Only finished images can be rated; this one is {_E(s)}\.",
       rf"Hanya foto yang sudah jadi yang bisa dinilai; foto ini {s_id}.") for s, s_id in _STATUS.items()],
    (_E("A project needs a name."), "Proyek perlu nama."),
    (r"show must be one of (?P<list>.+)\.", r"Tampilan harus salah satu dari \g<list>."),
    (_E("limit must be 1-500 and offset 0 or more."), "limit harus 1-500 dan offset 0 atau lebih."),
    # a pose's error (shown on the Results and Generate pages)
    (_E("Cancelled."), "Dibatalkan."),
    (_E("Cancelled by the user."), "Dibatalkan oleh pengguna."),
    (_E("Its pose template was deleted from the library before it was rendered."),
     "Template pose-nya dihapus dari pustaka sebelum sempat dibuat."),
    *[(r"Pose check failed after (?P<n>\d+) attempts: " + rx, r"Cek pose gagal setelah \g<n> kali coba: " + rep)
      for rx, rep in _REASONS],

    # --- core/generation/render.py -------------------------------------------------------------------------------------
    *[(rf"“(?P<name>[^”]+)” has no cut-out yet \(background removal: {st}\)\. Wait for it, or retry the "
       r"removal on the Products page\.",
       rf"“\g<name>” belum punya potongan gambar (penghapusan latar: {st_id}). Tunggu sebentar, atau ulangi "
       r"penghapusan latar di halaman Produk.")
      for st, st_id in [*_BG_STATUS.items(), (r"(?P<st>[^)]+)", r"\g<st>")]],
    (r"size must be one of (?P<list>.+)\.", r"Ukuran harus salah satu dari \g<list>."),

    # --- core/generation/export.py -----------------------------------------------------------------------------------
    (r"Result (?P<id>\d+) is not part of generation (?P<g>\d+)\.", r"Hasil \g<id> bukan bagian dari batch \g<g>."),
    (r"Result (?P<id>\d+) has no image yet \((?P<n>\d+) of the selection are not finished\)\.",
     r"Hasil \g<id> belum punya foto (\g<n> dari pilihan Anda belum jadi)."),
    (r"Generation (?P<id>\d+) has no finished images to export yet\.",
     r"Batch \g<id> belum punya foto jadi yang bisa diekspor."),
    *[(rf"Result (?P<id>\d+) has no image \({_E(s)}\)\.", rf"Hasil \g<id> tidak punya foto ({s_id}).")
      for s, s_id in _STATUS.items()],

    # --- core/library/templates.py -----------------------------------------------------------------------------------
    (r"Pose template (?P<id>\d+) not found\.", r"Template pose \g<id> tidak ditemukan."),
    (_E("Only the data team (admins) can change pose templates."),
     "Hanya tim data (admin) yang bisa mengubah template pose."),
    (_E("This exact pose is already in the library."), "Pose yang persis sama sudah ada di pustaka."),
    (_E("Select at least one template."), "Pilih minimal satu template."),
    (r"sort must be one of (?P<list>.+)\.", r"Urutan harus salah satu dari \g<list>."),

    # --- core/library/importing.py, core/library/poses/export.py, core/library/poses/similarity.py ------------------------------------
    (r"This file is (?P<size>[\d.]+) MB; pose files can be at most (?P<max>[\d.]+) MB\.",
     r"Ukuran file ini \g<size> MB; file pose maksimal \g<max> MB."),
    (r"category must be one of (?P<list>.+)\.", r"Kategori harus salah satu dari \g<list>."),
    (r"placement must be one of (?P<list>.+)\.", r"Posisi produk harus salah satu dari \g<list>."),
    (r"Import at most (?P<n>\d+) files at once\.", r"Impor maksimal \g<n> file sekaligus."),
    (_E("None of the selected templates exist."), "Tidak satu pun template yang dipilih masih ada."),
    (_E("No person found in this file."), "Tidak ada orang di file ini."),
    (_E("Every exported template needs an id and keypoints."),
     "Setiap template yang diekspor perlu id dan titik pose."),
    (r"Export at most (?P<n>\d+) templates at once\.", r"Ekspor maksimal \g<n> template sekaligus."),
    (_E("Nothing selected to export."), "Belum ada yang dipilih untuk diekspor."),
    (r"only (?P<n>\d+) keypoints \(need (?P<need>\d+)\)", r"hanya \g<n> titik pose (perlu \g<need>)"),
    (rf"duplicate of existing pose \(distance (?P<d>{_NUM})\)", r"sama dengan pose yang sudah ada (jarak \g<d>)"),
    (rf"duplicate of candidate (?P<c>\d+) \(distance (?P<d>{_NUM})\)",
     r"sama dengan pose lain di impor ini, nomor \g<c> (jarak \g<d>)"),
    *[(rx, rep) for rx, rep in _PERSON],

    # --- core/library/poses/importers.py, keypoints.py ------------------------------------------------------------------
    (_E("The JSON file is too large."), "File JSON terlalu besar."),
    (r"Not a JSON file: (?P<why>.+)", r"Bukan file JSON: \g<why>"),
    (r"Document (?P<d>\d+) has no 'people' list \(OpenPose JSON expected\)\.",
     r"Dokumen \g<d> tidak punya daftar 'people' (yang diharapkan: OpenPose JSON)."),
    *[(p + r": pose_keypoints_2d must hold 54 \(COCO-18\) or 75 \(BODY_25\) numbers, got (?P<n>\d+)\.",
       rep + r": pose_keypoints_2d harus berisi 54 (COCO-18) atau 75 (BODY_25) angka, bukan \g<n>.")
      for p, rep in [*_PERSON, (r"(?P<label>.+?)", r"\g<label>")]],
    *[(p + r": keypoints must be numbers\.", rep + r": titik pose harus berupa angka.")
      for p, rep in [*_PERSON, (r"(?P<label>.+?)", r"\g<label>")]],
    *[(p + r": keypoints must be finite numbers\.", rep + r": titik pose harus angka yang terhingga.")
      for p, rep in [*_PERSON, (r"(?P<label>.+?)", r"\g<label>")]],
    *[(p + r": pixel coordinates need the canvas size \(canvas_width and canvas_height\)\.",
       rep + r": koordinat piksel perlu ukuran kanvas (canvas_width dan canvas_height).")
      for p, rep in [*_PERSON, (r"(?P<label>.+?)", r"\g<label>")]],
    (_E("The skeleton image is too large."), "Gambar kerangka terlalu besar."),
    (_E("Not a readable image."), "Gambar tidak bisa dibaca."),
    (_E("Expected an RGB image."), "Yang diharapkan gambar RGB."),
    (r"A pose has (?P<n>\d+) keypoints, got (?P<got>\d+)\.", r"Satu pose punya \g<n> titik, bukan \g<got>."),
    (_E("Keypoints are not valid JSON."), "Titik pose bukan JSON yang valid."),
    (_E("Keypoints must be a list of 18 entries."), "Titik pose harus berupa daftar 18 titik."),

    # --- core/analytics/report.py -------------------------------------------------------------------------------
    (r"(?P<field>from|to) must be a month written YYYY-MM, like 2025-01; got (?P<v>.+)\.",
     r"Bulan (\g<field>) harus ditulis YYYY-MM, contoh 2025-01; bukan \g<v>."),
    (r"from \((?P<lo>[\d-]+)\) is after to \((?P<hi>[\d-]+)\)\.",
     r"Bulan awal (\g<lo>) jatuh setelah bulan akhir (\g<hi>)."),
    (r"Pick at most (?P<max>\d+) months; (?P<lo>[\d-]+) to (?P<hi>[\d-]+) is (?P<n>\d+)\.",
     r"Pilih maksimal \g<max> bulan; \g<lo> sampai \g<hi> berisi \g<n> bulan."),
    # the dashboard's notes on how the savings are counted (assumptions())
    (rf"A product photoshoot with a model costs (?P<lo>{_RP})–(?P<hi>{_RP}) and delivers about (?P<n>\d+) edited "
     rf"photos, so each accepted image is counted as (?P<per>{_RP}) saved \(up to (?P<per_hi>{_RP})\)\.",
     r"Sesi foto produk dengan model biayanya \g<lo>–\g<hi> dan menghasilkan sekitar \g<n> foto yang sudah diedit, "
     r"jadi setiap foto yang berhasil dihitung hemat \g<per> (hingga \g<per_hi>)."),
    (rf"Each accepted image saves (?P<m>{_NUM}) minutes \(the shoot day and retouching, per photo\); each poster "
     rf"(?P<p>{_NUM}) minutes of layout work\. Avatars are counted, not valued\.",
     r"Setiap foto yang berhasil menghemat \g<m> menit (hari pemotretan dan retouching, per foto); setiap poster "
     r"\g<p> menit kerja desain. Avatar dihitung jumlahnya, tidak dinilai dengan uang."),
    (rf"Net saving = saving − the subscription \((?P<sub>{_RP}) a month\) for each month of the period\.",
     r"Hemat bersih = penghematan − biaya langganan (\g<sub> per bulan) untuk setiap bulan dalam periode."),
    (rf"GPU time is priced at (?P<rate>{_RP}) an hour \(an on-demand cloud H100\); it is the engine time of "
     rf"finished images \(failed renders are not timed\)\.",
     r"Waktu GPU dihargai \g<rate> per jam (H100 sewa di cloud); yang dihitung adalah waktu mesin untuk foto yang "
     r"sudah jadi (pembuatan yang gagal tidak dihitung)."),
    (r"Months are counted in UTC(?P<off>[+-][\d.]+)\.", r"Bulan dihitung dalam zona waktu UTC\g<off>."),
]
