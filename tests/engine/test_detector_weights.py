"""Where the pose detector's weights come from (issue 13: fetched on first use when MODEL_DOWNLOADS allows):
a Hugging Face cache laid out as hf_hub_download writes it, MODEL_DIR, a local folder; and the stated
reason when they cannot be had. No test downloads anything: HF_HUB_OFFLINE=1 for this folder."""
from __future__ import annotations

from pathlib import Path

import pytest

from core.errors import ModelUnavailable
from engine.detector import BODY_FILE, find_detector_weights, pose_check_state
from engine.pipeline import capabilities
from tests.engine.engine_kit import settings

COMMIT = "5c7587a1b1e1b0b1c2d3e4f5a6b7c8d9e0f1a2b3"


def fake_hub_cache(cache: Path, repo: str = "lllyasviel/Annotators") -> Path:
    """The layout hf_hub_download leaves: models--owner--name/{refs/main, snapshots/<commit>/<file>}."""
    folder = cache / f"models--{repo.replace('/', '--')}"
    snapshot = folder / "snapshots" / COMMIT
    snapshot.mkdir(parents=True)
    (folder / "refs").mkdir()
    (folder / "refs" / "main").write_text(COMMIT)
    (snapshot / BODY_FILE).write_bytes(b"weights")
    return snapshot / BODY_FILE


def test_weights_in_the_hub_cache_are_found_without_the_network(tmp_path):
    path = fake_hub_cache(tmp_path / "hf")
    s = settings(tmp_path, pose_detector="lllyasviel/Annotators", hf_cache_dir=tmp_path / "hf")
    weights, source = find_detector_weights(s)
    assert weights == path and source["id"] == "lllyasviel/Annotators"
    state = pose_check_state(s)
    assert state == {"on": True, "reason": None, "download": False, "weights": f"lllyasviel/Annotators {BODY_FILE}"}
    assert capabilities(s)["pose_check"] == state


def test_weights_under_model_dir_or_in_a_folder_are_found(tmp_path):
    folder = tmp_path / "models" / "lllyasviel" / "Annotators"
    folder.mkdir(parents=True)
    (folder / BODY_FILE).write_bytes(b"weights")
    s = settings(tmp_path, pose_detector="lllyasviel/Annotators", model_dir=tmp_path / "models")
    assert find_detector_weights(s)[0] == folder / BODY_FILE
    assert pose_check_state(s)["weights"] == str(folder / BODY_FILE)
    local = settings(tmp_path, pose_detector=str(folder))
    assert pose_check_state(local)["on"] is True and find_detector_weights(local)[0] == folder / BODY_FILE


def test_no_weights_and_no_downloads_says_which_file_is_missing(tmp_path):
    s = settings(tmp_path, pose_detector="lllyasviel/Annotators", hf_cache_dir=tmp_path)
    state = pose_check_state(s)
    assert state["on"] is False and state["download"] is False
    assert f"'lllyasviel/Annotators' file {BODY_FILE} is not on this server" in state["reason"]
    assert "MODEL_DOWNLOADS=false" in state["reason"] and f"hf download lllyasviel/Annotators {BODY_FILE}" \
        in state["reason"]
    with pytest.raises(ModelUnavailable, match="pose check is not available"):
        find_detector_weights(s)


def test_downloads_allowed_but_offline_is_the_stated_reason(tmp_path):
    from engine import sources

    if not sources.hub_offline():
        pytest.skip("huggingface_hub was imported before HF_HUB_OFFLINE=1 was set")
    s = settings(tmp_path, pose_detector="lllyasviel/Annotators", hf_cache_dir=tmp_path, model_downloads=True)
    state = pose_check_state(s)
    assert state["on"] is False and "HF_HUB_OFFLINE is set" in state["reason"]
    with pytest.raises(ModelUnavailable, match="HF_HUB_OFFLINE is set"):
        find_detector_weights(s)
