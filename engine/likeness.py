"""Image embeddings from the IP-Adapter's own image encoder, for identity and garment-fidelity scores.

    vectors = engine.embed_images([face_crop_of_output, avatar_face_crop])   # L2-normalised numpy float32
    score = cosine(vectors[0], vectors[1])                                    # -1..1; the same crop: 1.0

The encoder is the CLIPVisionModelWithProjection that diffusers loads with the IP-Adapter (h94/IP-Adapter's
models/image_encoder, ViT-H/14, licence-clean): no second model, no download. An embedding is its projected
image embedding (`image_embeds`), computed on the pipeline's own CLIPImageProcessor input (resize the short
side, centre crop, CLIP's normalisation), so pass crops of roughly square regions: the face box of the output
(from the fitted template's head keypoints) and the avatar's stored face crop, or the garment region and the
garment cut-out. Several images go through the encoder in one call (on CPU with exact batches, each image
meets the same kernels as alone).

When no IP-Adapter is loaded there is no encoder: embed() raises EmbeddingUnavailable (a ModelUnavailable,
503 if it ever reached a user) whose message says why; core records the score as "not checked", never a
made-up number. Pure numpy helpers that need no torch (colour histograms for garment fidelity, the share of
exact product pixels) belong in core.
"""
from __future__ import annotations

from typing import TYPE_CHECKING

from core.errors import Message, ModelUnavailable

if TYPE_CHECKING:  # pragma: no cover
    import numpy as np
    from PIL import Image

MAX_IMAGES = 64          # one encoder call; more is a caller's bug, not a batch


class EmbeddingUnavailable(ModelUnavailable):
    """No image encoder is loaded (IP-Adapter off or missing): the score is "not checked"."""

    kind = "embedding_unavailable"


def embed(pipe, images: "list[Image.Image]", *, device: str, why: Message | None = None) -> "list[np.ndarray]":
    """L2-normalised image embeddings of `images` from pipe.image_encoder (see the module doc); `why`: the
    message to raise when there is no encoder (engine.capabilities.embeddings_why)."""
    import numpy as np
    import torch
    from PIL import Image as PILImage

    from core.errors import ValidationFailed

    encoder = getattr(pipe, "image_encoder", None)
    processor = getattr(pipe, "feature_extractor", None)
    if encoder is None or processor is None:
        if why is not None:
            raise EmbeddingUnavailable(why.code, **why.params)
        raise EmbeddingUnavailable("likeness.no_encoder")
    if not isinstance(images, (list, tuple)) or not images or len(images) > MAX_IMAGES:
        raise ValidationFailed("likeness.embed_count", field="images", most=MAX_IMAGES)
    for i, image in enumerate(images):
        if not isinstance(image, PILImage.Image) or min(image.size) < 1:
            raise ValidationFailed("likeness.embed_not_image", field="images", index=i)
    pixels = processor(images=[im.convert("RGB") for im in images], return_tensors="pt").pixel_values
    with torch.inference_mode():
        out = encoder(pixels.to(device=device, dtype=encoder.dtype)).image_embeds
    vectors = out.float().cpu().numpy()
    norms = np.linalg.norm(vectors, axis=1, keepdims=True)
    return list((vectors / np.maximum(norms, 1e-12)).astype(np.float32))


def cosine(a: "np.ndarray", b: "np.ndarray") -> float:
    """Cosine similarity of two embeddings (normalised or not), clipped to -1..1."""
    import numpy as np

    a, b = np.asarray(a, dtype=np.float64).ravel(), np.asarray(b, dtype=np.float64).ravel()
    if a.shape != b.shape:
        raise ValueError(f"embeddings of different sizes: {a.shape[0]} and {b.shape[0]}")
    denom = float(np.linalg.norm(a) * np.linalg.norm(b))
    return 0.0 if denom == 0 else float(np.clip(np.dot(a, b) / denom, -1.0, 1.0))
