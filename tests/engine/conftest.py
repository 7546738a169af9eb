"""Engine fixtures: tiny random-weight models built once per test session in a temporary folder (tests/conftest.py:
tiny_root, shared with every other test of the run, and with tests/engine/engine_kit.py) and loaded
through the same from_pretrained path as real weights. Nothing is downloaded: every Settings here has
model_downloads=False and an empty Hugging Face cache, and HF_HUB_OFFLINE=1 is set for the session.

torch runs on one thread here: on a small shared CPU two threads fight over the cores (a tiny batch
took 10x longer with 2 threads than with 1 on the 2-core box these tests were written on).
"""
from __future__ import annotations

import os

import pytest

os.environ.setdefault("HF_HUB_OFFLINE", "1")   # before huggingface_hub is imported by any engine test

from core.settings import Settings  # noqa: E402
from tests.engine import engine_kit  # noqa: E402


@pytest.fixture(scope="session")
def engine_root(tiny_root):
    """The run's tiny-model folder (tests/conftest.py: tiny_root); engine tests add their extras under it."""
    return tiny_root


@pytest.fixture(scope="session", autouse=True)
def kit_on_tiny_root(tiny_root):
    """engine_kit's plain helpers (settings(), kit_root()) work on the same folder."""
    engine_kit.use_root(tiny_root)
    yield
    engine_kit.use_root(None)


@pytest.fixture(scope="session")
def one_thread():
    import torch

    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


def engine_settings(root, **overrides) -> Settings:
    values = dict(engine="tiny", storage_dir=root / "files", tiny_model_dir=root / "tiny",
                  hf_cache_dir=root / "hf-cache", model_downloads=False, engine_steps=2, engine_batch_size=4,
                  pose_detector=str(root / "no-detector"))
    values.update(overrides)
    return Settings(**values)


@pytest.fixture(scope="session")
def make_settings():
    """make_settings(root, **overrides) -> tiny-engine Settings rooted at `root`, no downloads."""
    return engine_settings


@pytest.fixture(scope="session")
def tiny_settings(engine_root) -> Settings:
    return engine_settings(engine_root)


@pytest.fixture(scope="session")
def tiny_engine(tiny_settings, one_thread):
    from engine.pipeline import get_engine

    return get_engine(tiny_settings)


@pytest.fixture(scope="session")
def control_images():
    """Three different 64x64 OpenPose skeletons drawn by the library's renderer."""
    import numpy as np
    from PIL import Image

    from core.library.poses.render import draw_bodypose

    def skeleton(dx: float, arm: float) -> Image.Image:
        canvas = np.zeros((64, 64, 3), np.uint8)
        pts = [None] * 18
        pts[0], pts[1] = (0.5 + dx, 0.15), (0.5 + dx, 0.3)
        pts[2], pts[5] = (0.35 + dx, 0.3), (0.65 + dx, 0.3)
        pts[3], pts[6] = (0.3 + dx, 0.45 - arm), (0.7 + dx, 0.45)
        pts[4], pts[7] = (0.28 + dx, 0.6 - 2 * arm), (0.72 + dx, 0.6)
        pts[8], pts[11] = (0.42 + dx, 0.6), (0.58 + dx, 0.6)
        pts[9], pts[12] = (0.42 + dx, 0.78), (0.58 + dx, 0.78)
        pts[10], pts[13] = (0.42 + dx, 0.95), (0.58 + dx, 0.95)
        return Image.fromarray(draw_bodypose(canvas, pts))

    return [skeleton(0.0, 0.0), skeleton(-0.1, 0.2), skeleton(0.1, 0.35)]
