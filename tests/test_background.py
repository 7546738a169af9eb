"""Background removal: core.catalog.background + engine.background through rembg's REAL sessions.

The model is a tiny fixed-weight ONNX net exported here (tests/tiny_models.py): U2Net-shaped, high where the
picture is not near-white. Nothing is downloaded; tests that build it or import rembg are marked slow
(the first `import rembg` in a fresh venv takes about a minute; later ones about 2 s).
"""
from __future__ import annotations

import io
import os
import subprocess
import sys
import threading
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from core.catalog.background import EMPTY_BELOW, FULL_ABOVE, cut_out, cut_out_with_mask, dominant_color
from core.errors import DomainError, ModelUnavailable
from core.images import ingest_image
from core.settings import Settings
from engine import background as engine
from tests.tiny_models import build_tiny_u2net_onnx

ROOT = Path(__file__).resolve().parent.parent
pytestmark = pytest.mark.filterwarnings("error::RuntimeWarning")  # rembg's 0/0 must stay silenced
WHITE, RED = (255, 255, 255), (200, 30, 40)
BOX = (200, 100, 600, 500)  # left, top, right, bottom on a 1000 x 800 picture: 20% of it


# --------------------------------------------------------------------------- fixtures


@pytest.fixture(scope="session")
def tiny_home(tmp_path_factory) -> Path:
    """A weights folder holding the tiny net as a custom model, and as the named models u2netp / u2net."""
    home = tmp_path_factory.mktemp("rembg-home")
    net = build_tiny_u2net_onnx(home / "tiny.onnx")
    (home / "models" / "u2netp").mkdir(parents=True)
    (home / "models" / "u2netp" / "u2netp.onnx").write_bytes(net.read_bytes())   # rembg d's layout
    (home / "u2net.onnx").write_bytes(net.read_bytes())                          # the flat layout
    return home


@pytest.fixture
def tiny_settings(tiny_home) -> Settings:
    return Settings(rembg_home=tiny_home, rembg_model="custom:tiny.onnx")


@pytest.fixture(autouse=True)
def fresh_sessions():
    engine.clear_sessions()
    yield
    engine.clear_sessions()


def png_bytes(image: Image.Image) -> bytes:
    buf = io.BytesIO()
    image.save(buf, "PNG")
    return buf.getvalue()


def red_box_photo(size=(1000, 800), box=BOX, colour=RED) -> Image.Image:
    image = Image.new("RGB", size, WHITE)
    image.paste(colour, box)
    return image


def full_alpha(result, size) -> np.ndarray:
    """The cut-out's alpha put back at its place in the original picture."""
    alpha = np.zeros((size[1], size[0]), np.uint8)
    if result.bbox:
        left, top, right, bottom = result.bbox
        alpha[top:bottom, left:right] = np.asarray(Image.open(io.BytesIO(result.png)))[..., 3]
    return alpha


# --------------------------------------------------------------------------- cut-outs through rembg


@pytest.mark.slow
def test_red_box_on_white_is_cut_out_trimmed_and_unchanged(tiny_settings):
    intake = ingest_image(png_bytes(red_box_photo()), kind="product", settings=Settings())
    original = np.asarray(Image.open(io.BytesIO(intake.data)).convert("RGB"))   # what the intake stored

    result = cut_out(intake.data, settings=tiny_settings)

    assert result.flag is None and result.flag_message is None
    assert result.model == "custom:tiny.onnx"
    left, top, right, bottom = result.bbox
    assert all(abs(a - b) <= 4 for a, b in zip(result.bbox, BOX)), result.bbox
    assert (result.width, result.height) == (right - left, bottom - top)
    assert abs(result.width - 400) <= 8 and abs(result.height - 400) <= 8
    assert result.coverage == pytest.approx(0.2, abs=0.01)
    r, g, b = (int(result.dominant_color[i:i + 2], 16) for i in (1, 3, 5))
    assert max(abs(r - RED[0]), abs(g - RED[1]), abs(b - RED[2])) <= 6, result.dominant_color

    cut = np.asarray(Image.open(io.BytesIO(result.png)))
    assert cut.shape == (result.height, result.width, 4)
    # The 320x320 mask is upscaled (LANCZOS): edges are soft over ~10 px, the inside fully opaque.
    inner = cut[12:-12, 12:-12]
    assert (inner[..., 3] == 255).all()
    # Every pixel keeps its RGB exactly (straight alpha): above all the opaque product pixels.
    assert np.array_equal(cut[..., :3], original[top:bottom, left:right])

    alpha = full_alpha(result, (1000, 800))
    far = np.ones_like(alpha, bool)
    far[BOX[1] - 8:BOX[3] + 8, BOX[0] - 8:BOX[2] + 8] = False
    assert (alpha[far] == 0).all()                                             # the background is gone


@pytest.mark.slow
def test_transparent_input_keeps_its_transparency(tiny_settings):
    image = Image.new("RGBA", (600, 400), (0, 0, 0, 0))                      # transparent BLACK background
    image.paste((*RED, 255), (100, 100, 300, 300))
    result = cut_out(png_bytes(image), settings=tiny_settings)                 # the model sees it on white
    assert all(abs(a - b) <= 4 for a, b in zip(result.bbox, (100, 100, 300, 300))), result.bbox
    assert result.coverage == pytest.approx(200 * 200 / (600 * 400), abs=0.01)
    assert result.flag is None


@pytest.mark.slow
def test_white_photo_is_flagged_empty(tiny_settings):
    result = cut_out(png_bytes(Image.new("RGB", (640, 480), WHITE)), settings=tiny_settings)
    assert result.flag == "empty" and result.flag_message.code == "background.nothing_found"
    assert result.flag_message.english.startswith("No product was found in this photo (the cut-out covers 0.0% of it)")
    assert result.coverage < EMPTY_BELOW
    assert result.bbox is None and result.dominant_color is None
    assert (result.width, result.height) == (1, 1)
    assert Image.open(io.BytesIO(result.png)).getpixel((0, 0))[3] == 0


@pytest.mark.slow
def test_white_photo_with_a_speck_of_dust_is_flagged_empty(tiny_settings):
    image = Image.new("RGB", (1000, 1000), WHITE)
    image.paste((90, 90, 90), (500, 500, 504, 504))
    result = cut_out(png_bytes(image), settings=tiny_settings)
    assert result.flag == "empty"
    assert result.bbox is not None                                             # found, but far too small


@pytest.mark.slow
def test_product_filling_the_frame_is_flagged_full(tiny_settings):
    image = red_box_photo(size=(1000, 1000), box=(4, 4, 996, 996))            # a close-up: 98% product
    result = cut_out(png_bytes(image), settings=tiny_settings)
    assert result.coverage > FULL_ABOVE
    assert result.flag == "full" and "background was probably not removed" in result.flag_message.english
    assert result.flag_message.english.startswith(f"The cut-out covers {result.coverage:.0%} of the photo")


@pytest.mark.slow
def test_all_product_photo_is_flagged_not_kept(tiny_settings):
    # rembg stretches each prediction to its own min..max: a flat "all product" map comes back empty.
    result = cut_out(png_bytes(Image.new("RGB", (500, 500), RED)), settings=tiny_settings)
    assert result.flag in ("empty", "full")


# --------------------------------------------------------------------------- sessions


@pytest.mark.slow
def test_session_is_created_once_and_reused(tiny_settings, tiny_home):
    from rembg.sessions.u2net_custom import U2netCustomSession

    first = engine.session_for(tiny_settings)
    assert isinstance(first, U2netCustomSession)                               # rembg's real session class
    assert engine.get_session("custom:tiny.onnx", tiny_home) is first
    assert engine.get_session("custom:tiny.onnx", Path(str(tiny_home) + "/.")) is first   # same folder
    assert list(engine.loaded_sessions()) == [("custom:tiny.onnx", str(tiny_home.resolve()))]
    cut_out(png_bytes(red_box_photo()), settings=tiny_settings)
    assert engine.session_for(tiny_settings) is first


@pytest.mark.slow
def test_sessions_are_thread_safe(tiny_settings):
    barrier = threading.Barrier(8)

    def grab(_):
        barrier.wait()
        return engine.session_for(tiny_settings)

    with ThreadPoolExecutor(8) as pool:
        sessions = list(pool.map(grab, range(8)))
    assert len({id(s) for s in sessions}) == 1 and len(engine.loaded_sessions()) == 1

    photos = [png_bytes(red_box_photo(box=(100 + 20 * i, 100, 500 + 20 * i, 500))) for i in range(4)]
    alone = [cut_out(p, settings=tiny_settings) for p in photos]
    with ThreadPoolExecutor(4) as pool:
        together = list(pool.map(lambda p: cut_out(p, settings=tiny_settings), photos * 2))
    assert [r.png for r in together] == [r.png for r in alone] * 2


@pytest.mark.slow
@pytest.mark.parametrize("model", ["u2netp", "u2net"])
def test_named_model_loads_from_the_weights_folder(tiny_home, model, no_network):
    # The tiny net stands in for real weights, in rembg's two layouts: models/<name>/<name>.onnx and flat.
    settings = Settings(rembg_home=tiny_home, rembg_model=model)
    assert engine.find_weights(model, tiny_home).name == f"{model}.onnx"
    result = cut_out(png_bytes(red_box_photo()), settings=settings)
    assert result.coverage == pytest.approx(0.2, abs=0.01)
    from rembg.sessions import sessions

    assert isinstance(engine.session_for(settings), sessions[model])         # rembg's own class for the name
    assert no_network == []


# --------------------------------------------------------------------------- missing or wrong weights


def assert_clear_message(exc: ModelUnavailable, file: str, folder: Path):
    assert isinstance(exc, DomainError) and exc.status == 503 and exc.kind == "model_unavailable"
    assert f"'{file}'" in exc.message and str(folder) in exc.message and "REMBG_HOME" in exc.message
    assert "cannot be downloaded now (" in exc.message


def test_missing_named_weights_fail_fast_without_network(tmp_path, no_network):
    home = tmp_path / "empty-rembg-home"
    home.mkdir()
    settings = Settings(rembg_home=home, rembg_model="isnet-general-use")
    with pytest.raises(ModelUnavailable) as err:          # fast because nothing is fetched: no_network
        cut_out(png_bytes(red_box_photo()), settings=settings)   # (rembg's import: the next test)
    assert_clear_message(err.value, "isnet-general-use.onnx", home)
    assert "(HF_HUB_OFFLINE is set)" in err.value.message          # the test run is offline: the Hub is not asked
    assert "rembg d isnet-general-use" in err.value.message
    assert list(home.rglob("*")) == [] and no_network == []                   # nothing appeared
    assert engine.loaded_sessions() == {}                                      # a failure is not cached


def test_missing_weights_fail_before_rembg_is_imported(tmp_path):
    # A fresh interpreter: the check of REMBG_HOME needs no rembg (whose first import takes a minute).
    code = ("import sys; from pathlib import Path; from engine.background import get_session\n"
            "from core.errors import ModelUnavailable\n"
            "try:\n    get_session('u2net', Path(sys.argv[1]))\nexcept ModelUnavailable as e:\n"
            "    print('rembg' in sys.modules, 'onnxruntime' in sys.modules, e.status)\n")
    out = subprocess.run([sys.executable, "-c", code, str(tmp_path)], cwd=ROOT, capture_output=True, text=True,
                         check=True, timeout=120)
    assert out.stdout.split() == ["False", "False", "503"]


@pytest.mark.slow
def test_missing_weights_in_rembgs_default_folder(tmp_path, monkeypatch, no_network):
    # rembg_home unset: rembg's own folders are searched (here redirected by rembg's own U2NET_HOME).
    monkeypatch.setenv("U2NET_HOME", str(tmp_path))
    settings = Settings(rembg_home=None, rembg_model="u2netp")
    with pytest.raises(ModelUnavailable) as err:
        engine.session_for(settings)
    assert_clear_message(err.value, "u2netp.onnx", tmp_path)
    assert list(tmp_path.rglob("*")) == [] and no_network == []


def test_missing_custom_file(tiny_home):
    with pytest.raises(ModelUnavailable) as err:
        engine.get_session("custom:nope.onnx", tiny_home)
    assert_clear_message(err.value, "nope.onnx", tiny_home)


def test_weights_added_later_are_picked_up(tmp_path, tiny_home):
    with pytest.raises(ModelUnavailable):
        engine.get_session("custom:late.onnx", tmp_path)
    (tmp_path / "late.onnx").write_bytes((tiny_home / "tiny.onnx").read_bytes())
    assert engine.get_session("custom:late.onnx", tmp_path) is not None        # retry works, no restart


@pytest.mark.parametrize("setting, words", [
    ("custom:../tiny.onnx", "plain file name"),
    ("custom:sub/tiny.onnx", "plain file name"),
    ("weird:tiny.onnx", "Unknown background-removal model setting"),
    ("u2net_custom", "custom:<file>.onnx"),
    ("atlascloud", "remote service"),
    ("", "Unknown background-removal model"),
])
def test_malformed_settings_are_refused(setting, words, tiny_home):
    with pytest.raises(ModelUnavailable) as err:
        engine.get_session(setting, tiny_home)
    assert words in err.value.message


@pytest.mark.slow
def test_unknown_model_name_lists_known_ones(tmp_path):
    (tmp_path / "not-a-model.onnx").write_bytes(b"x")
    with pytest.raises(ModelUnavailable) as err:
        engine.get_session("not-a-model", tmp_path)
    assert "Known rembg models" in err.value.message and "isnet-general-use" in err.value.message


@pytest.mark.slow
def test_corrupt_weights_say_which_file(tmp_path):
    (tmp_path / "broken.onnx").write_bytes(b"this is not an onnx file")
    with pytest.raises(ModelUnavailable) as err:
        engine.get_session("custom:broken.onnx", tmp_path)
    assert str(tmp_path / "broken.onnx") in err.value.message and "could not be loaded" in err.value.message


# --------------------------------------------------------------------------- pure helpers (no model)


def test_cut_out_with_mask_trims_floors_noise_and_keeps_rgb():
    rng = np.random.default_rng(0)
    pixels = np.dstack([rng.integers(0, 256, (100, 120, 3), dtype=np.uint8), np.full((100, 120), 255, np.uint8)])
    mask = np.full((100, 120), 5, np.uint8)                                    # model noise everywhere
    mask[20:60, 30:90] = 255
    mask[19, 30:90] = 128                                                      # a soft edge
    result = cut_out_with_mask(pixels, mask)
    assert result.bbox == (30, 19, 90, 60) and (result.width, result.height) == (60, 41)
    cut = np.asarray(Image.open(io.BytesIO(result.png)))
    assert np.array_equal(cut[..., :3], pixels[19:60, 30:90, :3])              # straight alpha, soft edge too
    assert (cut[0, :, 3] == 128).all() and (cut[1:, :, 3] == 255).all()
    assert result.coverage == pytest.approx(41 * 60 / (100 * 120))


def test_dominant_color_finds_the_main_colour():
    rng = np.random.default_rng(1)
    body = np.clip(rng.normal((30, 90, 200), 6, (200, 200, 3)), 0, 255).astype(np.uint8)   # noisy blue
    body[80:120, 20:180] = (250, 250, 250)                                     # a white label
    body[0:10] = (10, 10, 10)                                                  # a dark rim
    colour = dominant_color(Image.fromarray(body))
    r, g, b = (int(colour[i:i + 2], 16) for i in (1, 3, 5))
    assert max(abs(r - 30), abs(g - 90), abs(b - 200)) <= 3, colour


def test_dominant_color_ignores_transparent_pixels():
    image = Image.new("RGBA", (100, 100), (0, 0, 255, 0))                     # lots of invisible blue
    image.paste((0, 160, 0, 255), (40, 40, 60, 60))
    image.paste((255, 0, 0, 120), (0, 0, 30, 30))                               # semi-transparent red
    assert dominant_color(image) == "#00A000"
    with pytest.raises(ValueError):
        dominant_color(Image.new("RGBA", (10, 10), (1, 2, 3, 0)))
    assert dominant_color(Image.new("RGBA", (10, 10), (1, 2, 3, 100))) == "#010203"   # fallback: visible ones


def test_finding_present_weights_in_a_folder_does_not_import_rembg(tmp_path):
    # The System page and every page's banner ask whether the weights are there: with REMBG_HOME that is a
    # file check, not rembg's import (about a minute the first time in a fresh venv, ~200 MB in the web process).
    (tmp_path / "models" / "u2net").mkdir(parents=True)
    (tmp_path / "models" / "u2net" / "u2net.onnx").write_bytes(b"weights")
    code = ("import sys; from pathlib import Path; from engine.background import find_weights\n"
            "print(find_weights('u2net', Path(sys.argv[1])).name, 'rembg' in sys.modules, 'onnxruntime' in sys.modules)\n")
    out = subprocess.run([sys.executable, "-c", code, str(tmp_path)], cwd=ROOT, capture_output=True, text=True,
                         check=True, timeout=120)
    assert out.stdout.split() == ["u2net.onnx", "False", "False"]


@pytest.mark.slow  # imports rembg to compare
@pytest.mark.parametrize("variables", [{}, {"U2NET_HOME": "/srv/u2net"}, {"XDG_DATA_HOME": "/srv/xdg"},
                                       {"U2NET_HOME": "/srv/u2net", "XDG_DATA_HOME": "/srv/xdg"}],
                         ids=["defaults", "u2net-home", "xdg", "both"])
@pytest.mark.parametrize("setting", ["isnet-general-use", "u2netp", "custom:mine.onnx"])
def test_rembgs_default_folders_are_worked_out_as_rembg_does(variables, setting, monkeypatch):
    # REMBG_HOME unset: the folders rembg itself would search, from Settings, without importing rembg.
    for name in ("REMBG_HOME", "U2NET_HOME", "XDG_DATA_HOME"):
        monkeypatch.delenv(name, raising=False)
    for name, value in variables.items():
        monkeypatch.setenv(name, value)
    from dataclasses import replace

    from rembg.sessions import sessions

    spec = engine.parse_model(setting)
    folders = replace(engine.hub_for(Settings(rembg_home=None)).folders, session=spec.session)   # Settings read them
    assert engine._rembg_default_candidates(spec, folders) == engine._rembg_default_candidates(
        spec, engine._session_class(spec))                                                   # what rembg says
    assert engine.LOCAL_SESSIONS <= {name for name, cls in sessions.items() if cls.is_local()}


def test_missing_weights_in_rembgs_default_folders_are_found_missing_without_rembg(tmp_path):
    # The removal job's check (require_weights) with REMBG_HOME unset: rembg's folders come from Settings.
    code = ("import sys; from core.settings import Settings; from engine.background import require_weights\n"
            "from core.errors import ModelUnavailable\n"
            "try:\n    require_weights(Settings(rembg_home=None, rembg_model='u2netp', model_downloads=False))\n"
            "except ModelUnavailable as e:\n"
            "    print(e.code, sys.argv[1] in e.message, 'rembg' in sys.modules, 'onnxruntime' in sys.modules)\n")
    env = {k: v for k, v in os.environ.items() if k not in ("REMBG_HOME", "XDG_DATA_HOME")}
    env.update(U2NET_HOME=str(tmp_path), HF_HUB_OFFLINE="1")
    out = subprocess.run([sys.executable, "-c", code, str(tmp_path)], cwd=ROOT, capture_output=True, text=True,
                         env=env, timeout=120)
    assert out.stdout.split() == ["background_model.missing", "True", "False", "False"], out.stderr[-2000:]
    (tmp_path / "u2netp.onnx").write_bytes(b"weights")                # rembg's flat layout in U2NET_HOME
    code = ("import sys; from core.settings import Settings; from engine.background import require_weights\n"
            "print(require_weights(Settings(rembg_home=None, rembg_model='u2netp')).name, 'rembg' in sys.modules)\n")
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, env=env, timeout=120)
    assert out.stdout.split() == ["u2netp.onnx", "False"], out.stderr[-2000:]


@pytest.mark.slow
def test_a_kept_jpegs_colour_profile_is_applied_before_the_cut_out(tiny_settings):
    # A product photo is stored as its own JPEG with its ICC profile; the cut-out's pixels are its colours in
    # sRGB, as the intake's thumbnail shows them (swapped_profile: red pixels that mean green).
    from tests.test_images import swapped_profile

    buf = io.BytesIO()
    red_box_photo().save(buf, "JPEG", quality=95, icc_profile=swapped_profile())
    stored = ingest_image(buf.getvalue(), kind="product", settings=tiny_settings)
    assert stored.kept and Image.open(io.BytesIO(stored.data)).info.get("icc_profile")
    result = cut_out(stored.data, settings=tiny_settings)
    centre = Image.open(io.BytesIO(result.png)).getpixel((result.width // 2, result.height // 2))
    assert centre[3] == 255 and centre[1] > 150 and centre[0] < 100, centre    # green, as the profile means
