"""Photo intake, old path against new, for two large JPEGs: the ~20 MB worst case (6000 × 4000, noise at the
highest quality under the product limit) and a phone-like 12 MP photo with EXIF (GPS), XMP and an ICC
profile. Prints medians of runs; asserts nothing about time.

    python bench/bench_intake.py [--runs 7] [--no-rest]

For each input:
- stored size / upload size: the old path (decode, clean, re-encode JPEG q92 4:4:4, kept below as
  `old_ingest`, the app no longer has it) and the new one (the upload's own bytes less metadata);
- intake time against a bare decode + thumbnail (what any intake must at least do: read every pixel once
  and make the thumbnail), old and new;
- REST upload (POST /api/apps/product-manager/products through the real app, no job runner) against the
  intake, new; and with the old intake swapped in, old;
and the thumbnail with and without JPEG draft mode (thumbnail_from_bytes).
"""
from __future__ import annotations

import argparse
import io
import statistics
import sys
import tempfile
import time
from contextlib import contextmanager, nullcontext
from pathlib import Path

import numpy as np
from PIL import Image, ImageCms

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import core.images  # noqa: E402
from core.images import IngestedImage, encode_image, ingest_image, make_thumbnail, output_format  # noqa: E402
from core.images import thumbnail_from_bytes  # noqa: E402
from core.images.decode import (apply_orientation, exif_orientation, load_checked, open_checked,  # noqa: E402
                                to_rgb_or_rgba)
from core.images.intake import identify, read_limited  # noqa: E402
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


def make_phone_jpeg(width: int = 4000, height: int = 3000) -> bytes:
    """Smooth shapes and a little sensor grain, q90 4:2:0 like a phone, with EXIF (make, GPS), XMP and sRGB ICC."""
    rng = np.random.default_rng(1)
    coarse = Image.fromarray(rng.integers(0, 256, (height // 64, width // 64, 3), dtype=np.uint8))
    smooth = np.asarray(coarse.resize((width, height), Image.Resampling.BICUBIC), dtype=np.int16)
    pixels = np.clip(smooth + rng.integers(-4, 5, (height, width, 1), dtype=np.int16), 0, 255).astype(np.uint8)
    exif = Image.Exif()
    exif[0x010F] = "Phone"
    exif.get_ifd(0x8825).update({1: "S", 2: (6.0, 10.0, 30.5), 3: "E", 4: (106.0, 49.0, 7.25)})
    buffer = io.BytesIO()
    Image.fromarray(pixels).save(buffer, "JPEG", quality=90, exif=exif.tobytes(), xmp=b"<x:xmpmeta/>" * 200,
                                 icc_profile=ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes())
    return buffer.getvalue()


def old_ingest(source, *, kind: str, settings: Settings, filename: str | None = None, keep_alpha=None,
               thumbnail_side: int = 384) -> IngestedImage:
    """The intake as it was before the kept-bytes path (the baseline): full decode, clean, re-encode JPEG q92
    4:4:4 (PNG for alpha or a lossless kind), thumbnail from the full-size pixels."""
    data = read_limited(source, limit=settings.limit_bytes(kind), kind=kind)
    fmt = identify(data)
    image = open_checked(data, fmt, settings)
    load_checked(image, fmt)
    orientation = exif_orientation(image)
    clean = apply_orientation(to_rgb_or_rgba(image, keep_alpha=keep_alpha), orientation)
    encoded, ext, content_type = encode_image(clean, lossless=kind in core.images.LOSSLESS_KINDS)
    thumb_ext, thumb_type = output_format(clean)
    return IngestedImage(data=encoded, ext=ext, content_type=content_type, width=clean.width, height=clean.height,
                         original_format=fmt, original_bytes=len(data), thumbnail=make_thumbnail(clean, thumbnail_side),
                         thumbnail_ext=thumb_ext, thumbnail_content_type=thumb_type, display_name=filename or "image",
                         orientation=orientation, mode=clean.mode, pixels=clean)


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
    print(f"  {label:<56} {figures[0] * 1000:8.1f} ms wall {figures[1] * 1000:8.1f} ms CPU")


@contextmanager
def rest_client(settings_dir: Path):
    """The real app (api.create_api) on a fresh SQLite file, no job runner, one signed-in shop owner."""
    from fastapi.testclient import TestClient

    from api import create_api
    from core.accounts import users
    from services import Services

    settings = Settings(database_url=f"sqlite:///{settings_dir / 'bench.db'}", storage_dir=settings_dir / "files",
                        auth="password", starting_credits=10**9)
    services = Services.build(settings, runner=False)
    with services.session() as session:
        user = users.create_user(session, username="bench", password=None, settings=settings)
        token = users.issue_token(session, user=user, settings=settings)
    client = TestClient(create_api(services))
    client.headers["Authorization"] = f"Bearer {token}"
    try:
        yield client
    finally:
        services.close()


@contextmanager
def intake_swapped(fn):
    """products.upload imports core.images.ingest_image when it runs: the old intake in its place."""
    new = core.images.ingest_image
    core.images.ingest_image = fn
    try:
        yield
    finally:
        core.images.ingest_image = new


def bench_input(label: str, data: bytes, settings: Settings, runs: int, client) -> None:
    print(f"\n{label}: {len(data) / 2**20:.1f} MB, median of {runs} runs")
    old, new = (fn(data, kind="product", settings=settings) for fn in (old_ingest, ingest_image))
    print(f"  stored / upload: old {len(old.data) / len(data):.2f} ({len(old.data) / 2**20:.1f} MB), "
          f"new {len(new.data) / len(data):.2f} ({len(new.data) / 2**20:.1f} MB, kept={new.kept}, "
          f"quality {new.quality})")

    def bare():  # every pixel decoded once, and the thumbnail: the floor any intake stands on
        image = open_checked(data, "JPEG", settings)
        load_checked(image, "JPEG")
        return make_thumbnail(image)

    def post():
        r = client.post("/api/apps/product-manager/products", files={"file": ("photo.jpg", data, "image/jpeg")})
        assert r.status_code == 201, r.text

    rows = {"bare decode + thumbnail": bare,
            "intake, old (decode, clean, re-encode q92 4:4:4, thumb)": lambda: old_ingest(data, kind="product",
                                                                                        settings=settings),
            "intake, new (keep bytes less metadata, draft thumb)": lambda: ingest_image(data, kind="product",
                                                                                      settings=settings)}
    figures = measure(rows, runs)
    if client is not None:
        rest = {"REST upload, new": post}
        figures.update(measure(rest, runs))
        with intake_swapped(old_ingest):
            figures.update(measure({"REST upload, old intake": post}, runs))
    for name, fig in figures.items():
        show(name, fig)
    floor, was, now = (figures[k][1] for k in list(rows))
    print(f"  intake / bare decode + thumbnail (CPU): old {was / floor:.2f}, new {now / floor:.2f} "
          f"(new intake {was / now:.1f}x less CPU than old)")
    if client is not None:
        rest_new, rest_old = figures["REST upload, new"][0], figures["REST upload, old intake"][0]
        intake_old, intake_new = figures[list(rows)[1]][0], figures[list(rows)[2]][0]
        print(f"  REST upload / intake (wall): old {rest_old / intake_old:.2f}, new {rest_new / intake_new:.2f}; "
              f"REST upload new / old {rest_new / rest_old:.2f} (+{(rest_new - intake_new) * 1000:.0f} ms "
              f"around the new intake: multipart, files, database)")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=7)
    parser.add_argument("--no-rest", action="store_true", help="skip the REST upload rows")
    args = parser.parse_args()
    runs = max(5, args.runs)

    settings = Settings()
    big = make_big_jpeg(settings.limit_bytes("product"))
    phone = make_phone_jpeg()
    print(f"product limit {settings.max_product_size_mb:g} MB")
    with tempfile.TemporaryDirectory() as tmp, (nullcontext() if args.no_rest else rest_client(Path(tmp))) as client:
        bench_input(f"worst case: {WIDTH}×{HEIGHT} JPEG, noise", big, settings, runs, client)
        bench_input("phone-like: 4000×3000 JPEG q90 4:2:0, EXIF + GPS, XMP, ICC", phone, settings, runs, client)

    print("\nthumbnail of the worst case alone:")
    thumbs = measure(
        {
            "thumbnail_from_bytes, draft (DCT scaling)": lambda: thumbnail_from_bytes(big, settings=settings),
            "thumbnail_from_bytes, no draft (full decode + resize)": lambda: thumbnail_from_bytes(
                big, settings=settings, draft=False
            ),
        },
        runs,
    )
    for label, figures in thumbs.items():
        show(label, figures)
    (draft_wall, draft_cpu), (full_wall, full_cpu) = thumbs.values()
    print(f"  draft / no draft: {draft_wall / full_wall:.2f} wall, {draft_cpu / full_cpu:.2f} CPU "
          f"({full_cpu / draft_cpu:.1f}× less CPU)")


if __name__ == "__main__":
    main()
