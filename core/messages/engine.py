"""engine/: what an admin must fix for a model to run (which file, which folder, which setting), and the
engine's own input checks. Setting names, paths and commands are parameters or literal text, never translated.

Codes: engine.* (settings, device, GPU), models.* (where weights are looked for: engine/sources.py,
engine/adapters.py), checks.* (engine/checks.py), likeness.* (IP-Adapter embeddings and switches),
background_model.* (rembg weights, engine/background.py), detector.* (the OpenPose body detector).
Messages about one model start with a `lead` (engine.sources.ModelRef.lead: "Image generation is not available",
...) and name it by a nested `subject` ("the SD 1.5 base model 'x' (revision y)"); where a sentence is built
from pieces (the places looked at, the reason a download is not possible), those are nested messages too.
"""

_HOW = ("To provide it: on a machine with internet access run `{command}` and copy its Hugging Face cache folder "
        "(HF_HOME) to this server (or point HF_CACHE_DIR at it); or run `{command} --local-dir <folder>/{model}` "
        "and set MODEL_DIR=<folder>; or set {setting} to a local folder")
_MISSING = ("{lead}: {subject} is not on this server and cannot be downloaded now ({reason}). Looked in: {looked}. "
            + _HOW)
_BG_MISSING = ("Background removal is not available: the model '{setting}' needs the file '{file}', which is not "
               "on this server and cannot be downloaded now ({reason}). Put '{file}' in {where}, {how}, then "
               "retry the background removal.")

EN = {
    # --- engine/config.py, device.py, build.py, pipeline.py ----------------------------------------------------
    "engine.switch_invalid": "Image generation is not configured: {setting}={value!r}; use auto, true or false.",
    "engine.no_cuda": "Image generation is not available: ENGINE_DEVICE=cuda, but this server has no usable CUDA "
                      "GPU. Set ENGINE_DEVICE=auto or cpu.",
    "engine.no_mps": "Image generation is not available: ENGINE_DEVICE=mps, but Apple's Metal (MPS) is not "
                     "available here. Set ENGINE_DEVICE=auto or cpu.",
    "engine.unknown_device": "Unknown ENGINE_DEVICE '{value}': use auto, cuda, mps or cpu.",
    "engine.unknown_dtype": "Unknown ENGINE_DTYPE '{value}': use auto, fp16, bf16 or fp32.",
    "engine.unknown_scheduler": "Unknown ENGINE_SCHEDULER '{value}': use unipc, dpm++2m, euler_a, ddim or lcm.",
    "engine.peft_missing": "Image generation is not available: FAST_LORA is set, but the `peft` package is not "
                           "installed (pip install peft). Install it or unset FAST_LORA.",
    "engine.no_seeds": "Give at least one seed.",
    "engine.out_of_memory": "Image generation ran out of GPU memory rendering {batch} image(s) of {width}x{height}. "
                            "Lower ENGINE_BATCH_SIZE or the output size, or use a larger GPU.",

    # --- engine/sources.py: where a model's weights are ---------------------------------------------------------
    "models.setting_empty": "{lead}: {setting} is empty; set it to a Hub id or a local folder.",
    "models.folder_incomplete": "{lead}: the {model_role} folder {folder} does not hold the model ({need} is "
                                "missing). Put the model's files there (e.g. `hf download <hub id> --local-dir "
                                "{folder}`), or set {setting} to a Hub id.",
    "models.missing": _MISSING + "; or let this server download it (needs internet access, HF_HUB_OFFLINE unset).",
    "models.missing_no_downloads": _MISSING + "; or set MODEL_DOWNLOADS=true on a server with internet access.",
    "models.load_failed": "{lead}: the {model_role} '{model}' could not be loaded from {where} ({error}: {detail}). "
                          "The files may be incomplete or of another model type: download it again "
                          "(`hf download {model}`) or fix {setting}.",
    "models.adapter_load_failed": "{lead}: '{model}' file {weight} with its image encoder folder {encoder} could "
                                  "not be loaded from {where} ({error}: {detail}).",
    # the subject of models.missing: the model, its revision, the one file or folder of it that is needed
    "models.the_model": "the {model_role} '{model}'",
    "models.the_model_revision": "the {model_role} '{model}' (revision {revision})",
    "models.the_model_file": "the {model_role} '{model}' file {path}",
    "models.the_model_revision_file": "the {model_role} '{model}' (revision {revision}) file {path}",
    "models.the_model_folder": "the {model_role} '{model}' folder {path}",
    "models.the_model_revision_folder": "the {model_role} '{model}' (revision {revision}) folder {path}",
    # why it cannot be downloaded now
    "models.downloads_off": "downloads are off (MODEL_DOWNLOADS=false)",
    "models.hub_offline": "HF_HUB_OFFLINE is set",
    "models.hub_unreachable": "the Hugging Face Hub is not reachable from this server",
    "models.error": "{error}: {detail}",
    "models.no_safetensors": "{lead}: the {model_role} '{model}' has no safetensors weights (only pickled "
                             "files, which this app never downloads or loads from the Hub). Pick a model that "
                             "ships .safetensors, or convert it and point {setting} at the folder.",
    # engine/downloads.py: a download in flight (the Generate page, the log, download-models)
    "models.downloading": "Downloading the {model_role} '{model}' ({done:bytes} of {total:bytes})",
    # where it was looked for (models.places joins two places)
    "models.in_model_dir": "MODEL_DIR ({folder})",
    "models.in_hub_cache": "the Hugging Face cache ({cache})",
    "models.places": "{first}, {then}",
    "models.in_cache": "{model} in {cache}",

    # --- engine/checks.py: a render request that cannot run ---------------------------------------------------
    "checks.side": "{side} must be a multiple of 8 in {low}..{high}, got {value!r}.",
    "checks.not_an_image": "Request {request}: the {image_role} must be a PIL image.",
    "checks.prompt_not_text": "Request {request}: prompt and negative prompt must be text.",
    "checks.seed": "Request {request}: seed must be an integer in 0..2^63-1, got {value!r}.",
    "checks.control_size": "Request {request}: the control image is {width}x{height} but the request asks for "
                           "{want_width}x{want_height}; render the skeleton at the output size.",
    "checks.mixed_sizes": "All images of a micro-batch share one size: request 0 is {first_width}x{first_height}, "
                          "request {request} is {width}x{height}.",
    "checks.inpaint_pair": "Request {request}: inpainting needs both an init image and a mask image (white = paint, "
                           "black = keep); got only the {only} image.",
    "checks.image_size": "Request {request}: the {image_role} is {width}x{height} but the request asks for "
                         "{want_width}x{want_height}.",
    "checks.strength_range": "Request {request}: strength must be in (0, 1], got {value!r}.",
    "checks.strength_needs_init": "Request {request}: strength below 1 keeps part of an init image; give init_image "
                                  "and mask_image.",
    "checks.strength_no_step": "Request {request}: strength {strength} of {steps} steps runs no step; raise strength "
                               "to at least {least:.2f} or the steps.",
    "checks.steps": "steps must be an integer in 1..150, got {value!r}.",
    "checks.guidance": "guidance must be in 0..30, got {value!r}.",
    "checks.controlnet_scale": "controlnet_scale must be in 0..2, got {value!r}.",
    "checks.no_requests": "Give at least one render request.",
    "checks.batch_too_big": "A micro-batch holds at most {most} images (ENGINE_BATCH_SIZE); got {count}.",
    "checks.not_a_request": "Request {request} is a {got}, not a RenderRequest.",

    # --- engine/likeness.py, adapters.py, capabilities.py ------------------------------------------------------
    "likeness.no_encoder": "Image embeddings are not available: no IP-Adapter image encoder is loaded (IP_ADAPTER "
                           "is off or its weights are missing).",
    "likeness.embed_count": "Give 1..{most} images to embed.",
    "likeness.embed_not_image": "Image {index} to embed must be a non-empty PIL image.",
    "likeness.scores_off": "Identity and garment scores are not checked: no IP-Adapter image encoder will be "
                           "loaded. {reason}",
    "likeness.face_off": "Avatar likeness is off (IP_ADAPTER=false).",
    "likeness.garment_off": "Garment conditioning is off (GARMENT_IP_ADAPTER=false, or unset while "
                            "IP_ADAPTER=false).",

    # --- engine/background.py: rembg weights -------------------------------------------------------------------
    "background_model.unknown_prefix": "Unknown background-removal model setting '{setting}': use a rembg model "
                                       "name (e.g. isnet-general-use) or custom:<file>.onnx.",
    "background_model.custom_name": "Background-removal model setting '{setting}': the custom model must be a plain "
                                    "file name (like custom:my-model.onnx) of a file in the weights folder.",
    "background_model.bad_name": "Unknown background-removal model '{setting}'.",
    "background_model.needs_file": "Background-removal model '{model}' needs its file: write it as "
                                   "custom:<file>.onnx.",
    "background_model.refused": "Background-removal model '{model}' is not supported: {refusal}.",
    "background_model.missing": _BG_MISSING + " {fetch}",
    "background_model.missing_custom": _BG_MISSING,
    "background_model.or": "{first} or {second}",
    "background_model.custom_not_downloaded": "a custom model is never downloaded",
    "background_model.no_hub": "no download source was given",
    "background_model.how_set_home": "or set REMBG_HOME (the app's rembg_home setting) to the folder that holds it",
    "background_model.how_point_home": "or point REMBG_HOME (the app's rembg_home setting) at the folder that "
                                       "holds it",
    "background_model.fetch_default": "On a machine with internet access, `rembg d {session}` fetches it into "
                                      "rembg's folder.",
    "background_model.fetch_home": "On a machine with internet access, `REMBG_HOME={home} rembg d {session}` "
                                   "fetches it into that folder.",
    "background_model.unknown": "Unknown background-removal model '{setting}'. Known rembg models: {known}; or "
                                "custom:<file>.onnx.",
    "background_model.remote": "Background-removal model '{setting}' sends pictures to a remote service; only local "
                               "models are allowed.",
    "background_model.load_failed": "Background removal is not available: the weights file {path} for model "
                                    "'{setting}' could not be loaded ({error}: {detail}). Replace the file with a "
                                    "valid ONNX model.",

    # --- engine/detector.py ---------------------------------------------------------------------------------------
    "detector.package_missing": "The pose detector is not available: the controlnet-aux package is not installed "
                                "(pip install -r requirements.txt).",
    "detector.load_failed": "The pose detector is not available: {weights} could not be loaded ({error}: {detail}). "
                            "Replace it with controlnet_aux's {file}.",
}
