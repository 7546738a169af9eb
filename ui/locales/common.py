"""Strings every page shares: the navigation, the language switch, the credits badge, generic messages."""

EN = {
    "nav.brand_kits": "Brand Kits",
    "nav.avatars": "Avatars",
    "nav.products": "Products",
    "nav.poses": "Pose Library",
    "nav.generate": "Generate",
    "nav.results": "Results",
    "nav.posters": "Posters",
    "nav.analytics": "Analytics",
    "lang.en": "English",
    "lang.id": "Bahasa Indonesia",
    "common.credits": "**{user}** · **{n}** credits",
    "common.failed": "Something went wrong on our side; please try again.",
    "common.this_cannot_be_empty": "this cannot be empty",
}

ID = {
    "nav.brand_kits": "Kit Merek",
    "nav.avatars": "Avatar",
    "nav.products": "Produk",
    "nav.poses": "Pustaka Pose",
    "nav.generate": "Buat Foto",
    "nav.results": "Hasil",
    "nav.posters": "Poster",
    "nav.analytics": "Analitik",
    "lang.en": "English",
    "lang.id": "Bahasa Indonesia",
    "common.credits": "**{user}** · **{n}** kredit",
    "common.failed": "Terjadi kesalahan di sistem kami; silakan coba lagi.",
    "common.this_cannot_be_empty": "tidak boleh kosong",
}
