"""Small shared parts of the likeness / inpaint / prompt-budget tests: the run's folder of tiny models
(tests/conftest.py: tiny_root, written once per session through the same from_pretrained path as real weights;
tests/engine/conftest.py hands it here), a settings builder that never downloads, and image helpers.
Fixtures stay in the test files (module scope)."""
from __future__ import annotations

from pathlib import Path

import numpy as np
from PIL import Image

from core.settings import Settings

_root: list[Path] = []


def use_root(root: Path | None) -> None:
    """Set (or, with None, forget) the folder kit_root() answers: the session fixture tiny_root's."""
    _root[:] = [root] if root is not None else []


def kit_root() -> Path:
    """The run's folder of tiny models: root/tiny/<family>/ and an empty root/hf-cache."""
    if not _root:
        raise RuntimeError("engine_kit needs the session fixture tiny_root (tests/engine/conftest.py hands it over)")
    return _root[0]


def settings(root: Path | None = None, **values) -> Settings:
    """Tiny-engine Settings with no downloads, an empty Hugging Face cache and IP_ADAPTER=false unless a test
    asks for likeness (the kit has no adapter weights, and `auto` would only say so)."""
    root = root or kit_root()
    fields = dict(engine="tiny", storage_dir=root / "files", tiny_model_dir=root / "tiny",
                  hf_cache_dir=root / "hf-cache", model_downloads=False, engine_steps=2, engine_batch_size=4,
                  pose_detector=str(root / "no-detector"), ip_adapter="false")
    fields.update(values)
    return Settings(**fields)


def pixels(image) -> np.ndarray:
    return np.asarray(image, dtype=np.int16)


def noise_image(seed: int, size=(64, 64)) -> Image.Image:
    rng = np.random.default_rng(seed)
    return Image.fromarray(rng.integers(0, 256, (size[1], size[0], 3), dtype=np.uint8))


def face(seed: int, size: int = 24) -> Image.Image:
    """A made-up 'face': a skin-toned disc with two eyes and a mouth, its colours and layout from the seed."""
    from PIL import ImageDraw

    rng = np.random.default_rng(seed)
    image = Image.new("RGB", (size, size), tuple(int(v) for v in rng.integers(0, 256, 3)))
    draw = ImageDraw.Draw(image)
    skin = tuple(int(v) for v in rng.integers(60, 256, 3))
    draw.ellipse((2, 1, size - 3, size - 2), fill=skin)
    eye = tuple(int(v) for v in rng.integers(0, 90, 3))
    dy = int(rng.integers(0, 4))
    draw.ellipse((6, 7 + dy, 10, 11 + dy), fill=eye)
    draw.ellipse((size - 11, 7 + dy, size - 7, 11 + dy), fill=eye)
    draw.line((8, size - 7, size - 9, size - 7 - int(rng.integers(-3, 4))), fill=eye, width=2)
    return image


def skeleton(dx: float = 0.0, arm: float = 0.0, size=(64, 64)) -> Image.Image:
    """An OpenPose control image drawn by the library's renderer."""
    from core.library.poses.render import draw_bodypose

    pts = [None] * 18
    pts[0], pts[1] = (0.5 + dx, 0.15), (0.5 + dx, 0.3)
    pts[2], pts[5] = (0.35 + dx, 0.3), (0.65 + dx, 0.3)
    pts[3], pts[6] = (0.3 + dx, 0.45 - arm), (0.7 + dx, 0.45)
    pts[4], pts[7] = (0.28 + dx, 0.6 - 2 * arm), (0.72 + dx, 0.6)
    pts[8], pts[11] = (0.42 + dx, 0.6), (0.58 + dx, 0.6)
    pts[9], pts[12] = (0.42 + dx, 0.78), (0.58 + dx, 0.78)
    pts[10], pts[13] = (0.42 + dx, 0.95), (0.58 + dx, 0.95)
    return Image.fromarray(draw_bodypose(np.zeros((size[1], size[0], 3), np.uint8), pts))


def product_canvas(seed: int, box=(20, 24, 44, 52), size=(64, 64)) -> tuple[Image.Image, Image.Image, np.ndarray]:
    """(init image, mask, opaque): a grey canvas with a 'product' (noise with a soft 1 px edge) placed in
    `box`; the mask is white everywhere except the product (black where it is opaque, grey on its edge), as
    core builds it from the cut-out's alpha."""
    rng = np.random.default_rng(seed)
    canvas = np.full((size[1], size[0], 3), 128, np.uint8)
    x0, y0, x1, y1 = box
    canvas[y0:y1, x0:x1] = rng.integers(0, 256, (y1 - y0, x1 - x0, 3), dtype=np.uint8)
    mask = np.full((size[1], size[0]), 255, np.uint8)
    mask[y0:y1, x0:x1] = 128                                   # the edge: painted, blended back
    mask[y0 + 1:y1 - 1, x0 + 1:x1 - 1] = 0                     # opaque: kept exactly
    return Image.fromarray(canvas), Image.fromarray(mask, "L"), mask == 0
