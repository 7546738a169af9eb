"""Indonesian for engine/'s messages (core/messages/engine.py): mostly for the admin (which file goes in which
folder, which setting to change). Setting names, paths and commands stay as they are."""

_HOW = ("Cara menyediakannya: di komputer yang punya akses internet, jalankan `{command}` lalu salin folder cache "
        "Hugging Face-nya (HF_HOME) ke server ini (atau arahkan HF_CACHE_DIR ke sana); atau jalankan "
        "`{command} --local-dir <folder>/{model}` lalu set MODEL_DIR=<folder>; atau set {setting} ke folder lokal")
_MISSING = ("{lead}: {subject} tidak ada di server ini dan tidak bisa diunduh sekarang ({reason}). Sudah dicari di: "
            "{looked}. " + _HOW)
_BG_MISSING = ("Penghapusan latar belum bisa dijalankan di server ini: model '{setting}' memerlukan file '{file}', "
               "yang tidak ada di server ini dan tidak bisa diunduh sekarang ({reason}). Taruh '{file}' di {where}, "
               "{how}, lalu ulangi penghapusan latar.")

MESSAGES = {
    # --- engine/config.py, device.py, build.py, pipeline.py ----------------------------------------------------
    "engine.switch_invalid": "Pembuatan gambar belum dikonfigurasi dengan benar: {setting}={value!r}; gunakan "
                             "auto, true, atau false.",
    "engine.no_cuda": "Pembuatan gambar belum bisa dijalankan di server ini: ENGINE_DEVICE=cuda, tetapi server ini "
                      "tidak punya GPU CUDA yang bisa dipakai. Set ENGINE_DEVICE=auto atau cpu.",
    "engine.no_mps": "Pembuatan gambar belum bisa dijalankan di server ini: ENGINE_DEVICE=mps, tetapi Metal (MPS) "
                     "dari Apple tidak tersedia di sini. Set ENGINE_DEVICE=auto atau cpu.",
    "engine.unknown_device": "ENGINE_DEVICE '{value}' tidak dikenal: gunakan auto, cuda, mps, atau cpu.",
    "engine.unknown_dtype": "ENGINE_DTYPE '{value}' tidak dikenal: gunakan auto, fp16, bf16, atau fp32.",
    "engine.unknown_scheduler": "ENGINE_SCHEDULER '{value}' tidak dikenal: gunakan unipc, dpm++2m, euler_a, ddim, "
                                "atau lcm.",
    "engine.peft_missing": "Pembuatan gambar belum bisa dijalankan di server ini: FAST_LORA diset, tetapi paket "
                           "`peft` belum terpasang (pip install peft). Pasang paket itu atau hapus FAST_LORA.",
    "engine.no_seeds": "Berikan minimal satu seed.",
    "engine.out_of_memory": "Memori GPU server habis saat membuat {batch} gambar berukuran {width}x{height}. "
                            "Kecilkan ENGINE_BATCH_SIZE atau ukuran hasil, atau gunakan GPU yang lebih besar.",

    # --- engine/sources.py ----------------------------------------------------------------------------------------
    "models.setting_empty": "{lead}: {setting} kosong; isi dengan id Hub atau folder lokal.",
    "models.folder_incomplete": "{lead}: folder {model_role} {folder} tidak berisi modelnya ({need} tidak ada). "
                                "Taruh file-file model di sana (misalnya `hf download <hub id> --local-dir "
                                "{folder}`), atau set {setting} ke id Hub.",
    "models.missing": _MISSING + "; atau biarkan server ini mengunduhnya (perlu akses internet, HF_HUB_OFFLINE "
                                 "tidak diset).",
    "models.missing_no_downloads": _MISSING + "; atau set MODEL_DOWNLOADS=true di server yang punya akses internet.",
    "models.load_failed": "{lead}: {model_role} '{model}' tidak bisa dimuat dari {where} ({error}: {detail}). "
                          "File-nya mungkin tidak lengkap atau dari jenis model lain: unduh ulang "
                          "(`hf download {model}`) atau perbaiki {setting}.",
    "models.adapter_load_failed": "{lead}: file {weight} dari '{model}' beserta folder image encoder-nya {encoder} "
                                  "tidak bisa dimuat dari {where} ({error}: {detail}).",
    "models.the_model": "{model_role} '{model}'",
    "models.the_model_revision": "{model_role} '{model}' (revisi {revision})",
    "models.the_model_file": "file {path} dari {model_role} '{model}'",
    "models.the_model_revision_file": "file {path} dari {model_role} '{model}' (revisi {revision})",
    "models.the_model_folder": "folder {path} dari {model_role} '{model}'",
    "models.the_model_revision_folder": "folder {path} dari {model_role} '{model}' (revisi {revision})",
    "models.downloads_off": "unduhan dimatikan (MODEL_DOWNLOADS=false)",
    "models.hub_offline": "HF_HUB_OFFLINE diset",
    "models.hub_unreachable": "Hugging Face Hub tidak bisa dijangkau dari server ini",
    "models.error": "{error}: {detail}",
    "models.no_safetensors": "{lead}: {model_role} '{model}' tidak punya bobot safetensors (hanya file pickle, yang "
                             "tidak pernah diunduh atau dimuat aplikasi ini dari Hub). Pilih model yang menyediakan "
                             ".safetensors, atau konversikan lalu arahkan {setting} ke foldernya.",
    "models.downloading": "Mengunduh {model_role} '{model}' ({done:bytes} dari {total:bytes})",
    "models.in_model_dir": "MODEL_DIR ({folder})",
    "models.in_hub_cache": "cache Hugging Face ({cache})",
    "models.places": "{first}, {then}",
    "models.in_cache": "{model} di {cache}",

    # --- engine/checks.py -------------------------------------------------------------------------------------------
    "checks.side": "{side} harus kelipatan 8 antara {low}..{high}, bukan {value!r}.",
    "checks.not_an_image": "Permintaan {request}: {image_role} harus berupa gambar PIL.",
    "checks.prompt_not_text": "Permintaan {request}: prompt dan prompt negatif harus berupa teks.",
    "checks.seed": "Permintaan {request}: seed harus bilangan bulat antara 0..2^63-1, bukan {value!r}.",
    "checks.control_size": "Permintaan {request}: gambar kontrol berukuran {width}x{height}, padahal permintaannya "
                           "{want_width}x{want_height}; gambar kerangkanya di ukuran hasil.",
    "checks.mixed_sizes": "Semua gambar dalam satu micro-batch harus berukuran sama: permintaan 0 berukuran "
                          "{first_width}x{first_height}, permintaan {request} berukuran {width}x{height}.",
    "checks.inpaint_pair": "Permintaan {request}: inpainting memerlukan gambar awal dan gambar mask sekaligus "
                           "(putih = dilukis, hitam = dipertahankan); yang ada hanya gambar {only}.",
    "checks.image_size": "Permintaan {request}: {image_role} berukuran {width}x{height}, padahal permintaannya "
                         "{want_width}x{want_height}.",
    "checks.strength_range": "Permintaan {request}: strength harus di rentang (0, 1], bukan {value!r}.",
    "checks.strength_needs_init": "Permintaan {request}: strength di bawah 1 mempertahankan sebagian gambar awal; "
                                  "berikan init_image dan mask_image.",
    "checks.strength_no_step": "Permintaan {request}: strength {strength} dari {steps} langkah tidak menjalankan "
                               "satu langkah pun; naikkan strength menjadi minimal {least:.2f} atau tambah jumlah "
                               "langkahnya.",
    "checks.steps": "steps harus bilangan bulat antara 1..150, bukan {value!r}.",
    "checks.guidance": "guidance harus di antara 0..30, bukan {value!r}.",
    "checks.controlnet_scale": "controlnet_scale harus di antara 0..2, bukan {value!r}.",
    "checks.no_requests": "Berikan minimal satu permintaan render.",
    "checks.batch_too_big": "Satu micro-batch berisi paling banyak {most} gambar (ENGINE_BATCH_SIZE); yang "
                            "diberikan {count}.",
    "checks.not_a_request": "Permintaan {request} berupa {got}, bukan RenderRequest.",

    # --- engine/likeness.py, adapters.py, capabilities.py ------------------------------------------------------
    "likeness.no_encoder": "Embedding gambar tidak tersedia: tidak ada image encoder IP-Adapter yang dimuat "
                           "(IP_ADAPTER nonaktif atau bobotnya tidak ada).",
    "likeness.embed_count": "Berikan 1..{most} gambar untuk dijadikan embedding.",
    "likeness.embed_not_image": "Gambar {index} yang akan dijadikan embedding harus berupa gambar PIL yang tidak "
                                "kosong.",
    "likeness.scores_off": "Skor identitas dan pakaian tidak dicek: tidak ada image encoder IP-Adapter yang akan "
                           "dimuat. {reason}",
    "likeness.face_off": "Kemiripan avatar nonaktif (IP_ADAPTER=false).",
    "likeness.garment_off": "Pengondisian pakaian nonaktif (GARMENT_IP_ADAPTER=false, atau tidak diset selagi "
                            "IP_ADAPTER=false).",

    # --- engine/background.py ---------------------------------------------------------------------------------------
    "background_model.unknown_prefix": "Setelan model penghapus latar '{setting}' tidak dikenal: gunakan nama model "
                                       "rembg (misalnya isnet-general-use) atau custom:<file>.onnx.",
    "background_model.custom_name": "Setelan model penghapus latar '{setting}': model custom harus berupa nama file "
                                    "saja (seperti custom:my-model.onnx) dari file di folder bobot.",
    "background_model.bad_name": "Model penghapus latar '{setting}' tidak dikenal.",
    "background_model.needs_file": "Model penghapus latar '{model}' memerlukan file-nya: tulis sebagai "
                                   "custom:<file>.onnx.",
    "background_model.refused": "Model penghapus latar '{model}' tidak didukung: {refusal}.",
    "background_model.missing": _BG_MISSING + " {fetch}",
    "background_model.missing_custom": _BG_MISSING,
    "background_model.or": "{first} atau {second}",
    "background_model.custom_not_downloaded": "model kustom tidak pernah diunduh",
    "background_model.no_hub": "sumber unduhan tidak diberikan",
    "background_model.how_set_home": "atau set REMBG_HOME (setelan rembg_home aplikasi) ke folder yang berisi "
                                     "file itu",
    "background_model.how_point_home": "atau arahkan REMBG_HOME (setelan rembg_home aplikasi) ke folder yang "
                                       "berisi file itu",
    "background_model.fetch_default": "Di komputer yang punya akses internet, `rembg d {session}` mengunduhnya ke "
                                      "folder rembg.",
    "background_model.fetch_home": "Di komputer yang punya akses internet, `REMBG_HOME={home} rembg d {session}` "
                                   "mengunduhnya ke folder itu.",
    "background_model.unknown": "Model penghapus latar '{setting}' tidak dikenal. Model rembg yang dikenal: "
                                "{known}; atau custom:<file>.onnx.",
    "background_model.remote": "Model penghapus latar '{setting}' mengirim gambar ke layanan jarak jauh; hanya "
                               "model lokal yang diizinkan.",
    "background_model.load_failed": "Penghapusan latar belum bisa dijalankan di server ini: file bobot {path} untuk "
                                    "model '{setting}' tidak bisa dimuat ({error}: {detail}). Ganti file itu dengan "
                                    "model ONNX yang valid.",

    # --- engine/detector.py -----------------------------------------------------------------------------------------
    "detector.package_missing": "Detektor pose belum bisa dijalankan di server ini: paket controlnet-aux belum "
                                "terpasang (pip install -r requirements.txt).",
    "detector.load_failed": "Detektor pose belum bisa dijalankan di server ini: {weights} tidak bisa dimuat "
                            "({error}: {detail}). Ganti dengan {file} dari controlnet_aux.",
}

WORDS = {
    # engine.sources.ModelRef.lead: how the messages about one model start (engine/config.py, engine/detector.py)
    "lead": {
        "Image generation is not available": "Pembuatan gambar belum bisa dijalankan di server ini",
        "The pose check is not available": "Cek pose belum bisa dijalankan di server ini",
        "Background removal is not available": "Penghapusan latar belum bisa dijalankan di server ini",
        "Avatar likeness (IP-Adapter) is off, renders go on without it":
            "Kemiripan avatar (IP-Adapter) nonaktif, render tetap berjalan tanpanya",
        "Garment conditioning (second IP-Adapter) is off, renders go on without it":
            "Pengondisian pakaian (IP-Adapter kedua) nonaktif, render tetap berjalan tanpanya",
        "Avatar likeness (IP_ADAPTER=true) is not available":
            "Kemiripan avatar (IP_ADAPTER=true) belum bisa dijalankan di server ini",
        "Garment conditioning (GARMENT_IP_ADAPTER=true) is not available":
            "Pengondisian pakaian (GARMENT_IP_ADAPTER=true) belum bisa dijalankan di server ini",
    },
    # engine.sources.ModelRef.role (engine/config.py, engine/detector.py)
    "model_role": {
        "tiny base model": "model dasar mini",
        "tiny ControlNet": "ControlNet mini",
        "SDXL base model": "model dasar SDXL",
        "SDXL OpenPose ControlNet": "ControlNet OpenPose SDXL",
        "SD 1.5 base model": "model dasar SD 1.5",
        "SD 1.5 OpenPose ControlNet": "ControlNet OpenPose SD 1.5",
        "few-step LoRA": "LoRA few-step",
        "IP-Adapter": "IP-Adapter",
        "garment IP-Adapter": "IP-Adapter pakaian",
        "IP-Adapter image encoder": "image encoder IP-Adapter",
        "pose detector": "detektor pose",
        "background-removal model": "model penghapus latar",
    },
    # the images of a render request (engine/checks.py)
    "image_role": {"control image": "gambar kontrol", "IP-Adapter image": "gambar IP-Adapter",
                   "garment image": "gambar pakaian", "init image": "gambar awal", "mask image": "gambar mask"},
    "only": {"init": "awal", "mask": "mask"},
    "side": {"width": "lebar", "height": "tinggi"},
    # engine/background.py REFUSED
    "refusal": {"it needs several weight files": "model ini memerlukan beberapa file bobot",
                "it sends pictures to a remote service": "model ini mengirim gambar ke layanan jarak jauh"},
}
