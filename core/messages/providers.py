"""engine/providers: hosted renders (fal, Replicate, Hugging Face Inference). Each failure names the provider and
what it answered; setting names (FAL_KEY, ...) are literal text, never translated. A key's value is never a
parameter."""

EN = {
    "provider.no_key": "{provider} is not configured: set {setting} to your API key (ENGINE={engine}).",
    "provider.no_model": "{provider} is not configured: {detail}.",
    "provider.hf_offline": "{provider} is off: HF_HUB_OFFLINE is set on this server, and huggingface_hub then sends "
                           "no request at all. Unset it to render there (MODEL_DOWNLOADS=false still keeps model "
                           "downloads off).",
    "provider.auth": "{provider} refused the API key in {setting} (HTTP {http_status}: {answer}). Check {setting}.",
    "provider.rejected": "{provider} rejected the request (HTTP {http_status}: {answer}).",
    "provider.unavailable": "{provider} is unavailable (HTTP {http_status}: {answer}) after {tries} tries.",
    "provider.unreachable": "{provider} could not be reached at {host} ({error}) after {tries} tries.",
    "provider.failed": "{provider} could not render this image: {answer}.",
    "provider.timeout": "{provider} did not finish within {seconds} s (PROVIDER_TIMEOUT_SECONDS); the request was "
                        "cancelled there and the pose refunded.",
    "provider.cancelled": "The render at {provider} was cancelled.",
    "provider.bad_image": "{provider} answered with something that is not an image of {width}x{height} ({detail}).",
    "provider.all_failed": "No engine could render this image: {attempts}.",
    "provider.no_likeness": "Avatar likeness is off: {provider} ({model}) takes no face image (no IP-Adapter), so "
                            "the face follows the prompt, not the avatar's photo.",
    "provider.no_garment": "Garment conditioning is off: {provider} ({model}) takes no garment image.",
    "provider.no_inpaint": "Product-first inpainting is off: {provider} has no inpainting model set ({setting}); "
                           "the product is pasted onto each image after rendering.",
    "provider.no_encoder": "{provider} renders remotely; no image encoder is loaded on this server",
    "provider.no_text": "{provider} ({model}) does not make AI avatars here; use a photo of a person.",
}
