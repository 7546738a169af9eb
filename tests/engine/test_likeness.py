"""Likeness (issue 13): IP_ADAPTER auto / true / false with a stated reason, capabilities before anything is
loaded, the face and garment IP-Adapters together, and identity scores from the adapter's own image encoder.
Tiny random-weight models on disk, loaded through the real from_pretrained path; nothing is downloaded."""
from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from core.errors import ModelUnavailable, ValidationFailed
from engine.config import EngineConfig, switch
from engine.likeness import EmbeddingUnavailable, cosine
from engine.pipeline import RenderRequest, capabilities, get_engine
from engine.tiny import TINY_IP_WEIGHTS, write_tiny_ip_adapter
from tests.engine.engine_kit import face, kit_root, pixels, settings, skeleton

ROOT = Path(__file__).resolve().parents[2]
pytestmark = pytest.mark.filterwarnings("ignore:__array__ implementation doesn't accept a copy:DeprecationWarning")
FAMILY_ENGINE = {"sd15": "tiny", "sdxl": "tiny-sdxl"}


@pytest.fixture(scope="module", autouse=True)
def one_torch_thread():
    import torch

    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


@pytest.fixture(scope="module")
def ip_folder() -> Path:
    """Tiny face + garment IP-Adapters for both families and their shared image encoder, in h94's layout."""
    folder = kit_root() / "ip-adapter"
    for family in ("sd15", "sdxl"):
        write_tiny_ip_adapter(folder, tiny_dir=kit_root() / "tiny", family=family)
    return folder


def likeness_settings(ip_folder, family="sd15", mode="auto", **values):
    face_w, garment_w = TINY_IP_WEIGHTS[family]
    values = {"ip_adapter_weight": face_w, "garment_ip_adapter_weight": garment_w, **values}
    return settings(engine=FAMILY_ENGINE[family], ip_adapter=mode, ip_adapter_model=str(ip_folder), **values)


# --------------------------------------------------------------------------- the switch

def test_the_switch_reads_bools_and_the_three_words():
    assert [switch(v) for v in (True, False, None, "auto", "AUTO", "true", "false", "1", "0", "on", "off")] == \
        ["on", "off", "off", "auto", "auto", "on", "off", "on", "off", "on", "off"]
    with pytest.raises(ModelUnavailable, match=r"IP_ADAPTER='sometimes'; use auto, true or false"):
        switch("sometimes")
    config = EngineConfig.from_settings(settings(engine="sdxl", ip_adapter="auto"))
    assert config.ip_mode == "auto" and [a.role for a in config.adapters] == ["face", "garment"]
    assert config.adapters[0].weight_path == "sdxl_models/ip-adapter-plus-face_sdxl_vit-h.safetensors"
    assert config.adapters[1].weight_path == "sdxl_models/ip-adapter-plus_sdxl_vit-h.safetensors"
    assert {a.encoder.subfolder for a in config.adapters} == {"models/image_encoder"}     # one ViT-H encoder
    assert EngineConfig.from_settings(settings(ip_adapter=False)).adapters == ()           # garment follows


def test_capabilities_are_known_before_anything_is_loaded(ip_folder):
    """The Generate page asks before the batch: no pipeline, not even torch, is imported for the answer."""
    code = f"""
import json, sys
from pathlib import Path
from tests.engine.engine_kit import settings
from engine.pipeline import capabilities
root = Path({str(kit_root())!r})
present = settings(root, ip_adapter="auto", ip_adapter_model={str(ip_folder)!r},
                   ip_adapter_weight={TINY_IP_WEIGHTS["sd15"][0]!r},
                   garment_ip_adapter_weight={TINY_IP_WEIGHTS["sd15"][1]!r})
missing = settings(root, ip_adapter="true")
print(json.dumps([capabilities(present), capabilities(missing)]))
print(sorted(m for m in ("torch", "diffusers", "transformers") if m in sys.modules))
"""
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=120,
                         env={**os.environ, "HF_HUB_OFFLINE": "1", "PYTHONPATH": str(ROOT)})
    assert out.returncode == 0, out.stderr
    caps_present, caps_missing = json.loads(out.stdout.splitlines()[0])
    assert out.stdout.splitlines()[1] == "[]"
    assert caps_present["likeness"] == {"on": True, "reason": None, "setting": "auto", "model": str(ip_folder),
                                        "weight": TINY_IP_WEIGHTS["sd15"][0], "scale": 0.6, "download": False}
    assert caps_present["garment"]["on"] and caps_present["embeddings"] == {"on": True, "reason": None}
    assert caps_present["inpaint"] == {"on": True, "reason": None, "unet_in_channels": 4}
    off = caps_missing["likeness"]
    assert off["on"] is False and off["setting"] == "true"
    assert "models/ip-adapter-plus-face_sd15.safetensors" in off["reason"] and "MODEL_DOWNLOADS=false" in off["reason"]
    assert off["message"]["code"] == "models.missing_no_downloads"   # the same by code, for the reader's language
    assert caps_missing["pose_check"]["message"]["code"].startswith("models.")
    assert caps_missing["embeddings"]["on"] is False and "not checked" in caps_missing["embeddings"]["reason"]
    assert caps_missing["pose_check"]["on"] is False and "body_pose_model.pth" in caps_missing["pose_check"]["reason"]


# --------------------------------------------------------------------------- auto / true / false

@pytest.mark.parametrize("family,weight", [("sd15", "models/ip-adapter-plus-face_sd15.safetensors"),
                                           ("sdxl", "sdxl_models/ip-adapter-plus-face_sdxl_vit-h.safetensors")])
def test_auto_without_weights_renders_without_likeness_and_says_why(family, weight):
    s = settings(engine=FAMILY_ENGINE[family], ip_adapter="auto")
    before = capabilities(s)["likeness"]
    assert before["on"] is False and before["setting"] == "auto"
    assert f"'h94/IP-Adapter' file {weight} is not on this server" in before["reason"]
    assert "renders go on without it" in before["reason"]
    engine = get_engine(s)
    assert engine.describe()["ip_adapter"]["state"] == "missing"
    assert engine.capabilities()["likeness"]["reason"] == before["reason"]
    result = engine.render([RenderRequest("a person", skeleton(), 3, ip_adapter_image=face(1))])[0]
    assert result.likeness is False and result.garment is False
    with pytest.raises(EmbeddingUnavailable, match="not checked") as err:
        engine.embed_images([face(1)])
    assert isinstance(err.value, ModelUnavailable)


def test_true_without_weights_is_a_503_naming_the_file_and_the_folder(tmp_path):
    cache = kit_root() / "hf-cache"
    with pytest.raises(ModelUnavailable) as err:
        get_engine(settings(ip_adapter=True))
    assert err.value.status == 503
    for part in ("IP_ADAPTER=true", "models/ip-adapter-plus-face_sd15.safetensors", str(cache),
                 "hf download h94/IP-Adapter models/ip-adapter-plus-face_sd15.safetensors"):
        assert part in err.value.message, part
    with pytest.raises(ModelUnavailable, match=r"folder .*empty-ip does not hold the model "
                                               r"\(models/ip-adapter-plus-face_sd15\.safetensors is missing\)"):
        get_engine(settings(ip_adapter="true", ip_adapter_model=str(tmp_path / "empty-ip")))


def test_false_is_off_and_says_so():
    caps = capabilities(settings(ip_adapter=False))
    assert caps["likeness"]["on"] is False and "IP_ADAPTER=false" in caps["likeness"]["reason"]
    assert caps["garment"]["on"] is False and caps["embeddings"]["on"] is False


# --------------------------------------------------------------------------- face + garment adapters together

@pytest.mark.parametrize("family", ["sd15", "sdxl"])
def test_face_and_garment_adapters_condition_each_image_and_batches_equal_singles(ip_folder, family):
    s = likeness_settings(ip_folder, family)
    assert capabilities(s)["garment"]["on"] is True
    engine = get_engine(s)
    facts = engine.describe()
    assert facts["ip_adapter"]["state"] == "on" and facts["garment_ip_adapter"]["state"] == "on"
    assert facts["garment_ip_adapter"]["weight"] == TINY_IP_WEIGHTS[family][1]
    avatar, garment, control = face(1), face(2), skeleton()
    requests = [RenderRequest("a person", control, 5, ip_adapter_image=avatar, garment_image=garment),
                RenderRequest("a person", control, 5, ip_adapter_image=avatar),
                RenderRequest("a person", control, 5),
                RenderRequest("a person", control, 6, ip_adapter_image=avatar, garment_image=garment)]
    totals = []
    batch = engine.render(requests, progress=lambda done, total: totals.append(total))
    assert set(totals) == {2 * 3}                             # three groups of what one call shares, 2 steps each
    assert [(r.likeness, r.garment) for r in batch] == [(True, True), (True, False), (False, False), (True, True)]
    both, face_only, none = (pixels(r.image) for r in batch[:3])
    assert np.abs(both - face_only).max() > 0 and np.abs(face_only - none).max() > 0
    for i, request in enumerate(requests):
        assert np.array_equal(pixels(engine.render([request])[0].image), pixels(batch[i].image)), i


def test_a_missing_garment_adapter_leaves_likeness_on(ip_folder):
    s = likeness_settings(ip_folder, garment_ip_adapter_weight="models/no-such-garment.safetensors")
    caps = capabilities(s)
    assert caps["likeness"]["on"] is True and caps["garment"]["on"] is False
    assert "models/no-such-garment.safetensors is missing" in caps["garment"]["reason"]
    engine = get_engine(s)
    assert engine.describe()["garment_ip_adapter"]["state"] == "missing"
    result = engine.render([RenderRequest("a person", skeleton(), 1, ip_adapter_image=face(1),
                                          garment_image=face(2))])[0]
    assert (result.likeness, result.garment) == (True, False)


# --------------------------------------------------------------------------- identity scores

def test_identity_score_ranks_the_same_face_above_a_different_face(ip_folder):
    """Each output's face region (with a margin of its own background) against the others: the same avatar
    face pasted into two different renders scores higher than two different faces, and the avatar's crop
    matches the face region of an output better than a region without the face."""
    engine = get_engine(likeness_settings(ip_folder))
    outputs = [r.image for r in engine.render([RenderRequest("a person", skeleton(0.05 * i), 10 + i)
                                               for i in range(3)])]
    m = 4
    for seed in range(5):
        a, b = face(2 * seed), face(2 * seed + 1)
        shots = [o.copy() for o in outputs]
        spots = [(10, 4), (30, 8), (20, 6)]
        for shot, who, (x, y) in zip(shots, (a, a, b), spots):
            shot.paste(who, (x, y))
        crops = [shot.crop((x - m, y - m, x + 24 + m, y + 24 + m)) for shot, (x, y) in zip(shots, spots)]
        no_face = shots[0].crop((30, 36, 58, 64))
        exact = shots[0].crop((10, 4, 34, 28))
        v = engine.embed_images(crops + [a, no_face, exact])
        assert all(vec.dtype == np.float32 and abs(np.linalg.norm(vec) - 1) < 1e-5 for vec in v)
        assert cosine(v[0], v[1]) > cosine(v[0], v[2]), seed               # same face > different faces
        assert cosine(v[3], v[0]) > cosine(v[3], v[4]), seed               # the right region > the wrong one
        assert cosine(v[3], v[5]) == pytest.approx(1.0, abs=1e-6)          # the avatar crop itself
        assert cosine(v[3], v[0]) < 1.0


def test_embedding_inputs_and_the_cosine_helper(ip_folder):
    engine = get_engine(likeness_settings(ip_folder))
    with pytest.raises(ValidationFailed, match="Give 1..64 images"):
        engine.embed_images([])
    with pytest.raises(ValidationFailed, match="Image 1 to embed must be a non-empty PIL image"):
        engine.embed_images([face(1), "face.png"])
    assert cosine([1, 0], [0, 2]) == 0.0 and cosine([1, 1], [2, 2]) == pytest.approx(1.0)
    assert cosine([1, 0], [-3, 0]) == -1.0 and cosine([0, 0], [1, 0]) == 0.0
    with pytest.raises(ValueError, match="different sizes"):
        cosine([1, 0, 0], [1, 0])


def test_embeddings_say_why_without_an_adapter():
    engine = get_engine(settings())
    with pytest.raises(EmbeddingUnavailable, match="IP_ADAPTER=false") as err:
        engine.embed_images([face(1)])
    assert err.value.kind == "embedding_unavailable" and err.value.status == 503
