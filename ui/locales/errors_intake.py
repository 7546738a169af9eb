"""Indonesian for image intake's messages (core/messages/intake.py)."""

_ACCEPTED = "Silakan unggah gambar JPEG, PNG, WebP, HEIC, atau AVIF."

MESSAGES = {
    "intake.empty": "File ini kosong (0 byte). " + _ACCEPTED,
    "intake.not_a_picture": "File ini bukan gambar yang bisa kami baca. " + _ACCEPTED,
    "intake.not_a_picture_like": "File ini bukan gambar yang bisa kami baca (sepertinya {looks_like}). " + _ACCEPTED,
    "intake.too_large": "Ukuran file ini {size:bytes}; ukuran {kinds} maksimal {limit:bytes}.",
    "intake.just_over": "Ukuran file ini sedikit di atas {limit:bytes}; ukuran {kinds} maksimal {limit:bytes}.",
    "intake.over": "Ukuran file ini lebih dari {limit:bytes}; ukuran {kinds} maksimal {limit:bytes}.",
    "intake.damaged": "File {format} ini rusak atau tidak lengkap, jadi tidak bisa kami buka (mungkin terpotong saat "
                      "disimpan atau diunggah). Silakan simpan atau ekspor ulang, lalu unggah lagi.",
    "intake.side_too_long": "Gambar ini berukuran {width} × {height} piksel; sisi terpanjang maksimal {most} piksel.",
    "intake.too_many_pixels": "Gambar ini berukuran {width} × {height} piksel ({megapixels:short} megapiksel); maksimal "
                              "{most:short} megapiksel.",
    "intake.bomb": "Gambar ini lebih besar dari {most:short} megapiksel, batas yang kami terima.",
}

WORDS = {
    # core/images/sniff.py describe(): what a refused file looks like
    "looks_like": {
        "a PDF document": "dokumen PDF",
        "a TIFF image": "gambar TIFF",
        "a BMP image": "gambar BMP",
        "a Photoshop file": "file Photoshop",
        "an icon file": "file ikon",
        "a ZIP archive or Office document": "arsip ZIP atau dokumen Office",
        "a compressed (gzip) file": "file terkompresi (gzip)",
        "a RAR archive": "arsip RAR",
        "a 7-Zip archive": "arsip 7-Zip",
        "an old Office document": "dokumen Office versi lama",
        "an MP3 audio file": "file audio MP3",
        "an audio or video file": "file audio atau video",
        "a video file": "file video",
        "a JPEG 2000 image": "gambar JPEG 2000",
        "a JPEG XL image": "gambar JPEG XL",
        "a program": "program",
        "a HEIC photo": "foto HEIC",
        "a HEIF photo": "foto HEIF",
        "an AVIF image": "gambar AVIF",
        "a camera RAW photo": "foto RAW kamera",
        "an audio file": "file audio",
        "a video or HEIF file": "file video atau HEIF",
        "a RIFF file": "file RIFF",
        "an SVG drawing": "gambar SVG",
        "an HTML web page": "halaman web HTML",
        "an XML document": "dokumen XML",
        "a data (JSON) file": "file data (JSON)",
        "a text file": "file teks",
    },
    # core/images/intake.py KIND_LABELS
    "kinds": {"avatars": "avatar", "products": "produk", "logos": "logo", "pose files": "file pose"},
}
