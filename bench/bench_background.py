"""Background-removal throughput: one reused rembg session vs a new session per image, on N product-like
JPEGs (default 20 of 1000 × 1000), through core.catalog.background.cut_out. Prints medians per image and the
ratio; asserts nothing about time.

Models: the tiny U2Net-shaped net of tests/tiny_models.py (exported to a temp folder); the same net
padded with unused weights to a real model's file size (176 MB, like u2net.onnx: what loading a real
session costs, though its inference stays tiny); and the real model of the environment's settings
(REMBG_MODEL / REMBG_HOME) when its weights are already on this machine. Nothing is downloaded.

    python bench/bench_background.py [--images 20] [--size 1000] [--padded-mb 176] [--real-images 5]
"""
from __future__ import annotations

import argparse
import io
import statistics
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from core.catalog.background import cut_out  # noqa: E402
from core.errors import ModelUnavailable  # noqa: E402
from core.settings import Settings, get_settings  # noqa: E402
from engine import background as engine  # noqa: E402


def product_photos(count: int, size: int) -> list[bytes]:
    """Bottles, boxes and jars in saturated colours on light, slightly noisy backgrounds, as JPEG q92
    (what the intake stores)."""
    rng = np.random.default_rng(0)
    photos = []
    for i in range(count):
        bg = tuple(int(v) for v in rng.integers(235, 256, 3))
        image = Image.new("RGB", (size, size), bg)
        draw = ImageDraw.Draw(image)
        colour = tuple(int(v) for v in rng.integers(0, 200, 3))
        w, h = (rng.uniform(0.25, 0.6, 2) * size).astype(int)
        x, y = (size - w) // 2, (size - h) // 2
        if i % 3 == 0:
            draw.rounded_rectangle((x, y, x + w, y + h), radius=w // 6, fill=colour)       # bottle / tube
            draw.rectangle((x + w // 3, y - h // 6, x + 2 * w // 3, y), fill=colour)          # its cap
        elif i % 3 == 1:
            draw.rectangle((x, y, x + w, y + h), fill=colour)                               # box
        else:
            draw.ellipse((x, y, x + w, y + h), fill=colour)                                 # jar seen from above
        draw.rectangle((x + w // 4, y + h // 3, x + 3 * w // 4, y + h // 2), fill=(250, 250, 250))   # label
        pixels = np.asarray(image).astype(np.int16) + rng.normal(0, 3, (size, size, 3)).astype(np.int16)
        buf = io.BytesIO()
        Image.fromarray(np.clip(pixels, 0, 255).astype(np.uint8)).save(buf, "JPEG", quality=92)
        photos.append(buf.getvalue())
    return photos


def run(label: str, settings: Settings, photos: list[bytes]) -> None:
    engine.clear_sessions()
    wall, cpu = time.perf_counter(), time.process_time()
    cut_out(photos[0], settings=settings)                       # creates the session (and imports rembg)
    first = (time.perf_counter() - wall, time.process_time() - cpu)

    reused, fresh, create = [], [], []
    for photo in photos:                                        # one reused session
        wall, cpu = time.perf_counter(), time.process_time()
        cut_out(photo, settings=settings)
        reused.append((time.perf_counter() - wall, time.process_time() - cpu))
    for photo in photos:                                        # a new session per image, same code path
        engine.clear_sessions()
        wall, cpu = time.perf_counter(), time.process_time()
        cut_out(photo, settings=settings)
        fresh.append((time.perf_counter() - wall, time.process_time() - cpu))
    for _ in range(min(5, len(photos))):                        # the session alone
        wall = time.perf_counter()
        engine.create_session(settings.rembg_model, settings.rembg_home)
        create.append(time.perf_counter() - wall)

    med = lambda xs, k: statistics.median(x[k] for x in xs)    # noqa: E731
    print(f"\n{label}: {len(photos)} images, model {settings.rembg_model}")
    print(f"  first call (creates the session)      {first[0] * 1000:9.1f} ms wall {first[1] * 1000:9.1f} ms CPU")
    print(f"  reused session, median per image      {med(reused, 0) * 1000:9.1f} ms wall {med(reused, 1) * 1000:9.1f} ms CPU")
    print(f"  new session per image, median         {med(fresh, 0) * 1000:9.1f} ms wall {med(fresh, 1) * 1000:9.1f} ms CPU")
    print(f"  session creation alone, median        {statistics.median(create) * 1000:9.1f} ms wall")
    print(f"  new-per-image / reused (wall)         {med(fresh, 0) / med(reused, 0):9.2f} x")
    print(f"  throughput reused                     {1 / med(reused, 0):9.2f} images/s")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--images", type=int, default=20)
    parser.add_argument("--size", type=int, default=1000)
    parser.add_argument("--padded-mb", type=float, default=176, help="size of the padded net; 0 skips it")
    parser.add_argument("--real-images", type=int, default=5, help="images for the real model, if present")
    args = parser.parse_args()

    photos = product_photos(args.images, args.size)
    with tempfile.TemporaryDirectory() as tmp:
        from tests.tiny_models import build_tiny_u2net_onnx

        build_tiny_u2net_onnx(Path(tmp) / "tiny.onnx")
        run("tiny custom model", Settings(rembg_home=Path(tmp), rembg_model="custom:tiny.onnx"), photos)
        if args.padded_mb > 0:
            build_tiny_u2net_onnx(Path(tmp) / "padded.onnx", pad_mb=args.padded_mb)
            run(f"tiny net padded to {args.padded_mb:g} MB",
                Settings(rembg_home=Path(tmp), rembg_model="custom:padded.onnx"), photos)

    real = get_settings()
    try:
        engine.find_weights(real.rembg_model, real.rembg_home)
    except ModelUnavailable as exc:
        print(f"\nreal model: skipped ({exc.message.split(':', 1)[1].split('(')[0].strip()})")
        return
    run("real model", real, photos[: args.real_images])


if __name__ == "__main__":
    main()
