"""OpenPose body detector (controlnet_aux 0.0.10) for the pose check and photo import.

    from engine.detector import get_pose_detector
    detector = get_pose_detector(settings)             # lazy, cached per (weights, device), thread-safe
    poses = detector.detect(pil_image)                 # [pose, ...], best first; each pose is the list
                                                       # core.library.poses.keypoints.Pose.to_json() stores:
                                                       # 18 entries of [x, y, confidence] (0..1) or None

Weights: POSE_DETECTOR is a Hub id (default lllyasviel/Annotators) or a local folder holding
`body_pose_model.pth` (the only file the body check needs: hands and face are not loaded, which saves
~300 MB of memory and most of the load time). Hub ids are looked up like the diffusion models
(engine.sources: MODEL_DIR, then the cache; downloads only when allowed and the Hub is reachable);
missing weights raise core.errors.ModelUnavailable. `pose_check_state(settings)` says whether the check can run
(and why not) without loading anything, for the Generate page. `write_random_openpose_weights(folder)` writes a
random-weight checkpoint of the real architecture (tests and smoke runs; ~200 MB, never commit it).
"""
from __future__ import annotations

import importlib
import importlib.util
import sys
import threading
import types
import warnings
from pathlib import Path
from typing import TYPE_CHECKING, Any

from core.errors import ModelUnavailable
from engine.sources import ModelRef, locate, policy_of
from engine import render_thread

if TYPE_CHECKING:  # pragma: no cover
    from PIL import Image

BODY_FILE, HAND_FILE, FACE_FILE = "body_pose_model.pth", "hand_pose_model.pth", "facenet.pth"
_detectors: dict[tuple, "PoseDetector"] = {}
_lock = threading.Lock()
_import_lock = threading.Lock()


def _openpose():
    """controlnet_aux's open_pose package, WITHOUT running controlnet_aux/__init__.py when it isn't loaded yet:
    that file imports all 18 of its detectors (torchvision, timm, torch._dynamo: ~15 s of start-up on a small
    CPU, and a page of warnings). A bare parent package stands in while open_pose and its util import, then
    is removed again, so a later `import controlnet_aux` runs the real __init__ (which reuses open_pose)."""
    loaded = sys.modules.get("controlnet_aux.open_pose")
    if loaded is not None:
        return loaded
    with _import_lock, warnings.catch_warnings():
        warnings.simplefilter("ignore")
        if "controlnet_aux" in sys.modules:
            return importlib.import_module("controlnet_aux.open_pose")
        spec = importlib.util.find_spec("controlnet_aux")
        if spec is None or not spec.submodule_search_locations:
            raise ModelUnavailable("detector.package_missing")
        bare = types.ModuleType("controlnet_aux")
        bare.__path__ = list(spec.submodule_search_locations)
        sys.modules["controlnet_aux"] = bare
        try:
            return importlib.import_module("controlnet_aux.open_pose")
        finally:
            if sys.modules.get("controlnet_aux") is bare:
                del sys.modules["controlnet_aux"]


class PoseDetector:
    """The OpenPose body network; detect() is serialised by a lock (the model holds no per-call state, but
    one call already uses every CPU core / the whole GPU)."""

    def __init__(self, weights: Path, *, device: str = "cpu", resolution: int = 512, source: dict | None = None):
        render_thread.torch_ready()      # on the render thread: ENGINE_THREADS before the first op
        open_pose = _openpose()
        try:
            body = open_pose.Body(str(weights))
        except Exception as exc:  # noqa: BLE001 - a corrupt or foreign file: say which
            raise ModelUnavailable("detector.load_failed", weights=str(weights), error=type(exc).__name__,
                                   detail=str(exc)[:200], file=BODY_FILE) from exc
        body.to(device)                                  # OpenposeDetector.to() would touch the absent hand/face nets
        self._detector = open_pose.OpenposeDetector(body)
        self.device = device
        self.resolution = resolution
        self.weights = Path(weights)
        self.source = source or {"path": str(weights)}
        self._lock = threading.Lock()

    def _estimate(self, bgr):
        import torch

        with self._lock, torch.inference_mode():
            return self._detector.body_estimation(bgr)

    def detect(self, image: "Image.Image") -> list[list[list[float] | None]]:
        """Every body found, most confident first, as Pose.to_json() lists (normalised x, y; confidence)."""
        import numpy as np
        from PIL import Image as PILImage

        if not isinstance(image, PILImage.Image):
            raise TypeError("detect() takes a PIL image")
        rgb = image.convert("RGB")
        scale = self.resolution / max(rgb.size)
        if scale < 1:
            rgb = rgb.resize((max(1, round(rgb.width * scale)), max(1, round(rgb.height * scale))),
                             PILImage.Resampling.BILINEAR)
        bgr = np.ascontiguousarray(np.asarray(rgb)[:, :, ::-1])   # the network was trained on OpenCV's BGR
        height, width = bgr.shape[:2]
        candidate, subset = render_thread.run(self._estimate, bgr)   # the network runs where torch lives
        bodies = self._detector.body_estimation.format_body_result(candidate, subset)
        bodies.sort(key=lambda b: float(b.total_score), reverse=True)
        return [[None if k is None else [round(float(k.x) / width, 4), round(float(k.y) / height, 4),
                                         round(min(max(float(k.score), 0.0), 1.0), 3)]
                 for k in body.keypoints[:18]] for body in bodies]


def _ref(settings) -> ModelRef:
    return ModelRef("pose detector", "POSE_DETECTOR", settings.pose_detector, None, BODY_FILE,
                    lead="The pose check is not available")


def find_detector_weights(settings) -> tuple[Path, dict]:
    """(path of body_pose_model.pth, description) or ModelUnavailable: found, or downloaded first when
    MODEL_DOWNLOADS allows (engine.downloads, with progress). No torch import."""
    from engine.downloads import arrive, file_path

    policy = policy_of(settings)
    source = arrive(_ref(settings), policy)
    return file_path(source, policy), source.describe()


def _key(settings) -> tuple:
    return (settings.pose_detector, str(settings.model_dir), str(settings.hf_cache_dir), settings.model_downloads,
            settings.hf_endpoint,
            settings.engine_device, settings.pose_detector_resolution)


def pose_check_state(settings) -> dict:
    """Whether the pose check can run, and why not, WITHOUT loading the network (no torch): {"on", "reason",
    "download" (the weights are fetched on first use), "weights" (where they are, when known)}. A loaded
    detector is on; otherwise the lookup of get_pose_detector: a folder, MODEL_DIR, the Hub cache, or a
    download that MODEL_DOWNLOADS allows and the Hub's reachability permits."""
    loaded = _detectors.get(_key(settings))
    if loaded is not None:
        return {"on": True, "reason": None, "download": False, "weights": str(loaded.weights)}
    policy = policy_of(settings)
    try:
        source = locate(_ref(settings), policy)
    except ModelUnavailable as exc:
        return {"on": False, "reason": exc.message, "message": exc.msg.to_dict(), "download": False, "weights": None}
    where = str(Path(source.path_or_id) / BODY_FILE) if source.is_folder else f"{source.path_or_id} {BODY_FILE}"
    return {"on": True, "reason": None, "download": not source.local_files_only, "weights": where}


def get_pose_detector(settings) -> PoseDetector:
    """The process's detector for these settings: loaded on first call (weights downloaded into the Hub cache
    first when they are not here and MODEL_DOWNLOADS allows), then reused."""
    key = _key(settings)
    detector = _detectors.get(key)
    if detector is not None:
        return detector
    with _lock:
        detector = _detectors.get(key)
        if detector is None:
            weights, source = find_detector_weights(settings)
            from engine.device import resolve_device

            device = resolve_device(settings.engine_device)
            render_thread.configure(getattr(settings, "engine_threads", 0))
            detector = _detectors[key] = render_thread.run(PoseDetector, weights, device=device, source=source,
                                                           resolution=settings.pose_detector_resolution)
        return detector


def clear_detectors() -> None:
    with _lock:
        _detectors.clear()


def write_random_openpose_weights(folder: Path | str, *, hands_and_face: bool = False, seed: int = 0) -> Path:
    """Random-weight checkpoints of controlnet_aux's OpenPose networks, in its file names and key layout
    (body/hand: keys without their first component, as open_pose.util.transfer expects). Returns the folder.
    The body file alone is what get_pose_detector needs; hands_and_face=True also writes the two files
    OpenposeDetector.from_pretrained(folder) insists on."""
    import torch

    _openpose()                                          # the package import, warnings silenced
    from controlnet_aux.open_pose.face import FaceNet
    from controlnet_aux.open_pose.model import bodypose_model, handpose_model

    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    nets: list[tuple[str, Any, bool]] = [(BODY_FILE, bodypose_model, True)]
    if hands_and_face:
        nets += [(HAND_FILE, handpose_model, True), (FACE_FILE, FaceNet, False)]
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        for name, cls, strip in nets:
            state = cls().state_dict()
            if strip:
                state = {k.split(".", 1)[1]: v for k, v in state.items()}
            tmp = folder / f".{name}.tmp"
            torch.save(state, tmp)
            tmp.replace(folder / name)
    return folder
