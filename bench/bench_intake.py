"""Intake of a ~20 MB, 6000 × 4000 JPEG: validate + clean + re-encode + thumbnail, and the thumbnail
with and without JPEG draft mode. Prints medians; asserts nothing about time.

    python bench/bench_intake.py [--runs 7]
"""
from __future__ import annotations

import argparse
import io
import statistics
import sys
import time
from pathlib import Path

import numpy as np
from PIL import Image

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from core.images import encode_image, ingest_image, make_thumbnail, thumbnail_from_bytes  # noqa: E402
from core.images.decode import load_checked, open_checked  # noqa: E402
from core.settings import Settings  # noqa: E402

WIDTH, HEIGHT = 6000, 4000


def make_big_jpeg(limit: int) -> bytes:
    """A gradient drowned in noise (JPEG can't compress it away), at the highest quality that stays
    under the product limit: about 20 MB."""
    rng = np.random.default_rng(0)
    y, x = np.mgrid[0:HEIGHT, 0:WIDTH]
    base = np.stack([x * 255 // WIDTH, y * 255 // HEIGHT, (x + y) * 255 // (WIDTH + HEIGHT)], -1).astype(np.int16)
    pixels = np.clip(base + rng.normal(0, 64, base.shape), 0, 255).astype(np.uint8)
    image = Image.fromarray(pixels)
    for quality in (93, 92, 91, 90, 88, 85, 80):
        buffer = io.BytesIO()
        image.save(buffer, "JPEG", quality=quality)
        if buffer.tell() <= limit:
            return buffer.getvalue()
    raise RuntimeError("could not make a JPEG under the limit")


def measure(fns: dict, runs: int) -> dict[str, tuple[float, float]]:
    """Median (wall, CPU) seconds per function; the functions take turns, so a busy neighbour on a
    shared machine hurts them alike. CPU time (process_time) is the steadier figure there."""
    for fn in fns.values():
        fn()  # warm-up
    times: dict[str, list[tuple[float, float]]] = {name: [] for name in fns}
    for _ in range(runs):
        for name, fn in fns.items():
            wall, cpu = time.perf_counter(), time.process_time()
            fn()
            times[name].append((time.perf_counter() - wall, time.process_time() - cpu))
    return {name: (statistics.median(t[0] for t in ts), statistics.median(t[1] for t in ts)) for name, ts in times.items()}


def show(label: str, figures: tuple[float, float]) -> None:
    print(f"{label:<58} {figures[0] * 1000:8.1f} ms wall {figures[1] * 1000:8.1f} ms CPU")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=7)
    runs = max(5, parser.parse_args().runs)

    settings = Settings()
    data = make_big_jpeg(settings.limit_bytes("product"))
    print(f"input: {WIDTH}×{HEIGHT} JPEG, {len(data) / 2**20:.1f} MB (product limit {settings.max_product_size_mb:g} MB), "
          f"median of {runs} runs")

    result = ingest_image(data, kind="product", settings=settings, filename="big.jpg")
    print(f"output: {result.ext} {len(result.data) / 2**20:.1f} MB, thumbnail {len(result.thumbnail) / 1024:.0f} KB")

    def decode():
        image = open_checked(data, "JPEG", settings)
        load_checked(image, "JPEG")
        return image

    decoded = decode()
    rows = {
        "ingest_image (read, check, decode, clean, re-encode, thumb)": lambda: ingest_image(
            data, kind="product", settings=settings
        ),
        "  part: full decode (the validation)": decode,
        "  part: re-encode JPEG q92 4:4:4": lambda: encode_image(decoded),
        "  part: thumbnail from the decoded image": lambda: make_thumbnail(decoded),
    }
    for label, figures in measure(rows, runs).items():
        show(label, figures)

    thumbs = measure(
        {
            "thumbnail_from_bytes, draft (DCT scaling)": lambda: thumbnail_from_bytes(data, settings=settings),
            "thumbnail_from_bytes, no draft (full decode + resize)": lambda: thumbnail_from_bytes(
                data, settings=settings, draft=False
            ),
        },
        runs,
    )
    for label, figures in thumbs.items():
        show(label, figures)
    (draft_wall, draft_cpu), (full_wall, full_cpu) = thumbs.values()
    print(f"draft / no draft: {draft_wall / full_wall:.2f} wall, {draft_cpu / full_cpu:.2f} CPU "
          f"({full_cpu / draft_cpu:.1f}× less CPU)")


if __name__ == "__main__":
    main()
