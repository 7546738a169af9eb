"""The Products page (ui/products.py). Data choices keep their English codes as the English text
("products.type.<code>", "products.placement.<code>", "products.bg.<status>" in the status filter);
"products.badge.<status>" is the badge on a photo ("waiting", "cut out"...)."""

from core.catalog.products import BG_STATUSES, PLACEMENTS, PRODUCT_TYPES

EN = {
    "products.header": "## Products\nUpload product photos — one or fifty at once. The background is removed "
                       "automatically.",
    "products.status": "Status",
    "products.photos": "Photos (drag and drop up to 50 JPEG, PNG, WebP, HEIC or AVIF files)",
    "products.category_placeholder": "e.g. skincare",
    "products.type": "Product type",
    "products.placement": "How it is shown",
    "products.upload": "Upload",
    "products.price_note": ("5 credits per photo (10 for several at once) + 3 for its background removal. If the "
                            "removal fails, its 3 come back; the photo stays in your products (its upload is kept) "
                            "so you can remove the background again later. A photo that is already cut out "
                            "(transparent around the product) needs no removal and costs only the upload."),
    "products.product": "Product",
    "products.pick": "— pick a product —",
    "products.subcategory": "Subcategory",
    "products.save": "Save (2 credits)",
    "products.retry": "Remove background again (3 credits)",
    "products.confirm_delete": "**Delete this product?** Its photos are removed for good.",
    # handler-built text
    "products.empty": "No products here yet. Drop photos into the upload box on the right.",
    "products.choose_photos": "Choose one or more photos first.",
    "products.uploaded": "uploaded",
    "products.rejected": "rejected",
    "products.removal_started": "background removal started",
    "products.already_uploaded": "These photos were already uploaded (the button was pressed twice); nothing was charged again.",
    "products.checking": "Checking photos…",
    "products.uploading": "Uploading",
    "products.photos_unit": "photos",
    "products.n_uploaded": "{good} of {n} photo(s) uploaded.",
    "products.report_file": "file",
    "products.report_result": "result",
    "products.report_details": "details",
    "products.original": "Original",
    "products.without_background": "Without background",
    "products.cutout_alt": "cut-out",
    "products.no_cutout": "no cut-out yet",
    "products.pick_first": "Pick a product first.",
    "products.started_again": "Background removal started again.",
    "products.badge.pending": "waiting",
    "products.badge.processing": "removing background…",
    "products.badge.done": "cut out",
    "products.badge.flagged": "check",
    "products.badge.failed": "failed",
    **{f"products.type.{code}": code for code in PRODUCT_TYPES},
    **{f"products.placement.{code}": code for code in PLACEMENTS},
    **{f"products.bg.{code}": code for code in BG_STATUSES},
}

_TYPES_ID = {"bottle": "botol", "tube": "tube", "jar": "jar/pot", "box": "kotak", "pouch": "pouch",
             "sachet": "saset", "clothing": "pakaian", "top": "atasan", "dress": "gaun",
             "gamis": "gamis", "bottom": "bawahan", "hijab": "hijab", "shoes": "sepatu", "bag": "tas",
             "accessory": "aksesori", "jewelry": "perhiasan", "food": "makanan", "drink": "minuman",
             "device": "gawai", "other": "lainnya"}
_PLACEMENTS_ID = {"hand-left": "tangan kiri", "hand-right": "tangan kanan", "both-hands": "dua tangan",
                  "worn": "dipakai", "table": "di meja", "displayed": "dipajang"}
_BG_ID = {"pending": "menunggu", "processing": "diproses", "done": "selesai", "flagged": "perlu dicek",
          "failed": "gagal"}

ID = {
    "products.header": "## Produk\nUnggah foto produk — satu atau lima puluh sekaligus. Latar belakangnya dihapus "
                       "otomatis.",
    "products.status": "Status",
    "products.photos": "Foto (seret dan lepas hingga 50 file JPEG, PNG, WebP, HEIC, atau AVIF)",
    "products.category_placeholder": "mis. skincare",
    "products.type": "Jenis produk",
    "products.placement": "Cara ditampilkan",
    "products.upload": "Unggah",
    "products.price_note": ("5 kredit per foto (10 untuk beberapa sekaligus) + 3 untuk penghapusan latarnya. Jika "
                            "penghapusan gagal, 3 kredit itu dikembalikan; fotonya tetap ada di produk Anda (biaya "
                            "unggah tidak dikembalikan) sehingga latarnya bisa dihapus lagi nanti. Foto yang sudah "
                            "terpotong (transparan di sekitar produk) tidak perlu penghapusan dan hanya dikenai biaya "
                            "unggah."),
    "products.product": "Produk",
    "products.pick": "— pilih produk —",
    "products.subcategory": "Subkategori",
    "products.save": "Simpan (2 kredit)",
    "products.retry": "Hapus latar lagi (3 kredit)",
    "products.confirm_delete": "**Hapus produk ini?** Foto-fotonya akan terhapus permanen.",
    "products.empty": "Belum ada produk di sini. Taruh foto di kotak unggah sebelah kanan.",
    "products.choose_photos": "Pilih satu foto atau lebih dulu.",
    "products.uploaded": "terunggah",
    "products.rejected": "ditolak",
    "products.removal_started": "penghapusan latar dimulai",
    "products.already_uploaded": "Foto-foto ini sudah diunggah (tombol ditekan dua kali); tidak ada biaya tambahan.",
    "products.checking": "Memeriksa foto…",
    "products.uploading": "Mengunggah",
    "products.photos_unit": "foto",
    "products.n_uploaded": "{good} dari {n} foto terunggah.",
    "products.report_file": "file",
    "products.report_result": "hasil",
    "products.report_details": "keterangan",
    "products.original": "Asli",
    "products.without_background": "Tanpa latar",
    "products.cutout_alt": "hasil potong",
    "products.no_cutout": "belum ada hasil potong",
    "products.pick_first": "Pilih produk dulu.",
    "products.started_again": "Penghapusan latar dimulai lagi.",
    "products.badge.pending": "menunggu",
    "products.badge.processing": "menghapus latar…",
    "products.badge.done": "latar terhapus",
    "products.badge.flagged": "cek lagi",
    "products.badge.failed": "gagal",
    **{f"products.type.{code}": _TYPES_ID[code] for code in PRODUCT_TYPES},
    **{f"products.placement.{code}": _PLACEMENTS_ID[code] for code in PLACEMENTS},
    **{f"products.bg.{code}": _BG_ID[code] for code in BG_STATUSES},
}
