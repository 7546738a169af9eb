"""Indonesian for engine/providers' messages (core/messages/providers.py). Setting names stay as they are."""

MESSAGES = {
    "provider.no_key": "{provider} belum diatur: isi {setting} dengan API key Anda (ENGINE={engine}).",
    "provider.no_model": "{provider} belum diatur: {detail}.",
    "provider.hf_offline": "{provider} mati: HF_HUB_OFFLINE diset di server ini, sehingga huggingface_hub tidak "
                           "mengirim permintaan apa pun. Hapus setelan itu untuk membuat gambar di sana "
                           "(MODEL_DOWNLOADS=false tetap mencegah unduhan model).",
    "provider.auth": "{provider} menolak API key di {setting} (HTTP {http_status}: {answer}). Periksa {setting}.",
    "provider.rejected": "{provider} menolak permintaan ini (HTTP {http_status}: {answer}).",
    "provider.unavailable": "{provider} sedang tidak tersedia (HTTP {http_status}: {answer}) setelah {tries} kali coba.",
    "provider.unreachable": "{provider} tidak bisa dihubungi di {host} ({error}) setelah {tries} kali coba.",
    "provider.failed": "{provider} tidak bisa membuat gambar ini: {answer}.",
    "provider.timeout": "{provider} tidak selesai dalam {seconds} detik (PROVIDER_TIMEOUT_SECONDS); permintaan "
                        "dibatalkan di sana dan kredit pose dikembalikan.",
    "provider.cancelled": "Render di {provider} dibatalkan.",
    "provider.bad_image": "{provider} menjawab dengan sesuatu yang bukan gambar {width}x{height} ({detail}).",
    "provider.all_failed": "Tidak ada mesin yang bisa membuat gambar ini: {attempts}.",
    "provider.no_likeness": "Kemiripan avatar nonaktif: {provider} ({model}) tidak menerima foto wajah (tanpa "
                            "IP-Adapter), jadi wajah mengikuti prompt, bukan foto avatar.",
    "provider.no_garment": "Pengondisian pakaian nonaktif: {provider} ({model}) tidak menerima gambar pakaian.",
    "provider.no_inpaint": "Inpainting produk nonaktif: {provider} tidak punya model inpainting ({setting}); "
                           "produk ditempel ke setiap gambar setelah dibuat.",
    "provider.no_encoder": "{provider} membuat gambar dari jauh; tidak ada image encoder di server ini",
    "provider.no_text": "{provider} ({model}) tidak membuat avatar AI di sini; pakai foto orang.",
}
