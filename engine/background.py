"""rembg sessions for product cut-outs: one per (model setting, weights folder) per process, created on
first use under a lock, cached and reused by every thread (onnxruntime's run() is thread-safe).

    from engine.background import predict_mask
    mask = predict_mask(rgb_image, model=settings.rembg_model, home=settings.rembg_home)   # "L", same size

The model setting (Settings.rembg_model):
- a rembg model name: isnet-general-use (default), u2net, u2netp, silueta, isnet-anime, birefnet-general,
  birefnet-general-lite, birefnet-portrait, bria-rmbg, ... The weights are `<name>.onnx`.
- `custom:<file>.onnx`: your own U2Net-shaped ONNX net (rembg's `u2net_custom` session), the file lying
  directly in the weights folder. `dis_custom:<file>` and `ben_custom:<file>` pick rembg's other custom
  sessions. A custom value is a bare file name: no folders, no `..`.
Remote or credentialed rembg backends (atlascloud, withoutbg) and multi-file ones (sam) are refused.

Where the weights are looked for (the same places rembg 2.0.86 itself looks, minus the download):
- Settings.rembg_home (env REMBG_HOME) set: `<home>/<name>.onnx`, or `<home>/models/<name>/<name>.onnx`
  (what `REMBG_HOME=<home> rembg d <name>` writes). Checked before rembg is even imported, so a missing
  file fails in microseconds.
- unset: rembg's own defaults: `~/.rembg/models/<name>/<name>.onnx` or `~/.u2net/<name>.onnx` (rembg
  honours its U2NET_HOME / REMBG_HOME / XDG_DATA_HOME variables there; Settings read them too, and
  `find_weights` with hub_for(settings) works the folders out the same way without importing rembg).

When the file is in none of those folders and a `Hub` is given (hub_for(settings): every caller in the app
passes one), a named model arrives like every other model (engine.downloads): MODEL_DIR/<REMBG_REPO>/<file>,
the Hugging Face cache, else downloaded from REMBG_REPO into the Hub cache when MODEL_DOWNLOADS allows, with
progress. Custom models are never downloaded. rembg's own downloader (pooch, from GitHub releases) is never
used: we find the file ourselves and build the session from a subclass whose `download_models()` returns
that file, so one download rule, cache and progress report serve all the app's models. Missing or unloadable weights raise core.errors.ModelUnavailable (503) naming the file and
the folder; failures are not cached, so adding the file and retrying works without a restart.

`import rembg` is slow (about a minute the first time in a fresh venv: numba), so it happens only
inside these functions.
"""
from __future__ import annotations

import os
import re
import threading
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from core.errors import Message, ModelUnavailable

if TYPE_CHECKING:  # pragma: no cover
    from PIL import Image

CUSTOM_SESSIONS = {"custom": "u2net_custom", "u2net_custom": "u2net_custom", "dis_custom": "dis_custom",
                   "ben_custom": "ben_custom"}
REFUSED = {"sam": "it needs several weight files", "atlascloud": "it sends pictures to a remote service",
           "withoutbg": "it sends pictures to a remote service"}
_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]*$")

_sessions: dict[tuple[str, str | None], Any] = {}
_lock = threading.Lock()


@dataclass(frozen=True)
class ModelSpec:
    """A parsed model setting. session: rembg's session name; file: the weights file name."""

    setting: str
    session: str
    file: str

    @property
    def custom(self) -> bool:
        return self.session in CUSTOM_SESSIONS.values()


def parse_model(setting: str) -> ModelSpec:
    """'isnet-general-use' -> (isnet-general-use, isnet-general-use.onnx); 'custom:tiny.onnx' ->
    (u2net_custom, tiny.onnx). A malformed value raises ModelUnavailable."""
    value = (setting or "").strip()
    prefix, sep, file = value.partition(":")
    if sep:
        session = CUSTOM_SESSIONS.get(prefix.strip().lower())
        file = file.strip()
        if session is None:
            raise ModelUnavailable("background_model.unknown_prefix", setting=setting)
        if not _NAME.match(file) or ".." in file:
            raise ModelUnavailable("background_model.custom_name", setting=setting)
        return ModelSpec(value, session, file)
    if not _NAME.match(value):
        raise ModelUnavailable("background_model.bad_name", setting=setting)
    if value in CUSTOM_SESSIONS.values():
        raise ModelUnavailable("background_model.needs_file", model=value)
    if value in REFUSED:
        raise ModelUnavailable("background_model.refused", model=value, refusal=REFUSED[value])
    return ModelSpec(value, value, f"{value}.onnx")


def _candidates(spec: ModelSpec, home: Path) -> list[Path]:
    if spec.custom:
        return [home / spec.file]
    return [home / "models" / spec.session / spec.file, home / spec.file]   # rembg's own order


def _rembg_default_candidates(spec: ModelSpec, cls) -> list[Path]:
    """rembg's default places (it reads its own U2NET_HOME / REMBG_HOME / XDG_DATA_HOME)."""
    if spec.custom:
        roots = [cls.rembg_home(), cls.legacy_home()]
        return list(dict.fromkeys(Path(r) / spec.file for r in roots))
    return [Path(cls.model_dir()) / spec.file, Path(cls.legacy_home()) / spec.file]


# rembg 2.0.86's local sessions (`rembg.sessions.sessions`): for these names rembg's default folders are known
# without importing rembg (about a minute the first time in a fresh venv, ~200 MB in the process). A name not
# listed here is asked of rembg itself, which says whether it knows it.
LOCAL_SESSIONS = frozenset({
    "ben_custom", "birefnet-cod", "birefnet-dis", "birefnet-general", "birefnet-general-fp16", "birefnet-general-lite",
    "birefnet-hrsod", "birefnet-massive", "birefnet-portrait", "bria-rmbg", "dis_custom", "isnet-anime",
    "isnet-general-use", "silueta", "u2net", "u2net_cloth_seg", "u2net_custom", "u2net_human_seg", "u2netp"})


@dataclass(frozen=True)
class RembgFolders:
    """rembg 2.0.86's default folders (BaseSession.legacy_home, rembg_home, model_dir), worked out from the
    variables rembg reads, as Settings read them (u2net_home, xdg_data_home; REMBG_HOME is Settings.rembg_home,
    so it is unset wherever these are used): where an unset REMBG_HOME looks, without importing rembg."""

    u2net_home: str | None = None
    xdg_data_home: str | None = None
    session: str = ""

    def legacy_home(self) -> str:
        return os.path.expanduser(self.u2net_home or os.path.join(self.xdg_data_home or "~", ".u2net"))

    def rembg_home(self) -> str:
        if self.u2net_home:
            return self.legacy_home()
        return os.path.expanduser(os.path.join(self.xdg_data_home, "rembg") if self.xdg_data_home
                                  else os.path.join("~", ".rembg"))

    def model_dir(self) -> str:
        return os.path.join(self.rembg_home(), "models", self.session)


def _missing(spec: ModelSpec, candidates: list[Path], home: Path | None, reason: Message | None = None
             ) -> ModelUnavailable:
    folders = [f"{c.parent}/" for c in reversed(candidates)]
    where: str | Message = folders[0]
    for folder in folders[1:]:
        where = Message("background_model.or", first=where, second=folder)
    if home is None:
        how = Message("background_model.how_set_home")
        fetch = Message("background_model.fetch_default", session=spec.session)
    else:
        how = Message("background_model.how_point_home")
        fetch = Message("background_model.fetch_home", home=str(home), session=spec.session)
    if spec.custom:
        return ModelUnavailable("background_model.missing_custom", setting=spec.setting, file=spec.file,
                                where=where, how=how, reason=Message("background_model.custom_not_downloaded"))
    return ModelUnavailable("background_model.missing", setting=spec.setting, file=spec.file, where=where, how=how,
                            fetch=fetch, reason=reason or Message("background_model.no_hub"))


@dataclass(frozen=True)
class Hub:
    """Where a missing rembg model is fetched from: REMBG_REPO (its <name>.onnx at the root) under the
    common model policy (MODEL_DIR, the Hub cache, MODEL_DOWNLOADS, HF_ENDPOINT); and `folders`, rembg's
    own default folders as Settings say them, so that looking there needs no import of rembg."""

    policy: Any
    repo: str
    revision: str | None = None
    folders: RembgFolders | None = None


def hub_for(settings) -> Hub:
    from engine.sources import policy_of

    folders = RembgFolders(getattr(settings, "u2net_home", None) or None,
                           getattr(settings, "xdg_data_home", None) or None)
    return Hub(policy_of(settings), settings.rembg_repo, settings.rembg_revision, folders)


def _from_hub(spec: ModelSpec, hub: Hub, candidates: list[Path], home: Path | None) -> Path:
    """The weights from MODEL_DIR/<repo>, the Hub cache, or downloaded now (engine.downloads, with progress)."""
    from engine.downloads import arrive, file_path
    from engine.sources import ModelRef

    ref = ModelRef("background-removal model", "REMBG_MODEL", hub.repo, hub.revision, spec.file,
                   lead="Background removal is not available")
    try:
        return file_path(arrive(ref, hub.policy), hub.policy)
    except ModelUnavailable as exc:
        if exc.code in ("models.missing", "models.missing_no_downloads"):
            raise _missing(spec, candidates, home, reason=exc.msg.params.get("reason")) from None
        raise


def _session_class(spec: ModelSpec):
    from rembg.sessions import sessions  # slow the first time: lazily, here only

    cls = sessions.get(spec.session)
    if cls is None:
        local = sorted(n for n, c in sessions.items() if c.is_local() and n not in REFUSED)
        raise ModelUnavailable("background_model.unknown", setting=spec.setting, known=local)
    if not cls.is_local() or cls.requires_credentials():
        raise ModelUnavailable("background_model.remote", setting=spec.setting)
    return cls


def _locate(spec: ModelSpec, home: Path | None, hub: Hub | None = None, *, with_class: bool = True):
    """(weights file, rembg session class). With `home` and no `hub`, a missing file fails before rembg is
    imported. With `hub`, a named model that is in none of rembg's folders comes from the Hub (module doc)."""
    cls = None
    if home is None:
        folders = hub.folders if hub is not None else None
        if not with_class and folders is not None and spec.session in LOCAL_SESSIONS:
            cands = _rembg_default_candidates(spec, replace(folders, session=spec.session))   # no import
        else:
            cls = _session_class(spec)
            cands = _rembg_default_candidates(spec, cls)
    else:
        cands = _candidates(spec, home)
    path = next((c for c in cands if c.is_file()), None)
    if path is None:
        if hub is None or spec.custom:
            raise _missing(spec, cands, home)
        path = _from_hub(spec, hub, cands, home)
    return path, cls or (_session_class(spec) if with_class else None)


def _folder(home: Path | str | None) -> Path | None:
    return Path(home).expanduser().resolve() if home is not None else None


def find_weights(setting: str, home: Path | None, hub: Hub | None = None) -> Path:
    """The weights file the setting resolves to (downloaded first with `hub`); ModelUnavailable if absent.
    A file check without rembg's import when `home` is given, or `hub` (hub_for(settings): it carries rembg's
    default folders) and the name is one of LOCAL_SESSIONS; otherwise rembg is asked where its folders are."""
    return _locate(parse_model(setting), _folder(home), hub, with_class=False)[0]


def require_weights(settings) -> Path:
    """The weights file Settings ask for (rembg_model, rembg_home; else rembg's own folders, then MODEL_DIR, the
    Hub cache or a download as MODEL_DOWNLOADS allows), or ModelUnavailable with the message a removal gets:
    what a background-removal job checks before it reads a photo, so missing weights cost neither a decode nor
    rembg's import."""
    return find_weights(settings.rembg_model, settings.rembg_home, hub_for(settings))


def create_session(setting: str, home: Path | None, hub: Hub | None = None):
    """A NEW rembg session for the setting (uncached: use get_session). Raises ModelUnavailable."""
    spec = parse_model(setting)
    path, cls = _locate(spec, _folder(home), hub)
    weights = str(path)
    # rembg fetches weights inside download_models(); this subclass can only name the file we found.
    pinned = type(f"Local{cls.__name__}", (cls,),
                  {"download_models": classmethod(lambda _cls, *a, **k: weights), "__module__": __name__})
    import onnxruntime as ort

    extra = {"model_path": weights} if spec.custom else {}
    try:
        return pinned(spec.session, ort.SessionOptions(), **extra)
    except Exception as exc:  # noqa: BLE001 - a corrupt or foreign file: say which
        raise ModelUnavailable("background_model.load_failed", path=weights, setting=spec.setting,
                               error=type(exc).__name__, detail=str(exc)) from exc


def get_session(setting: str, home: Path | None, hub: Hub | None = None):
    """The process's rembg session for (model setting, weights folder): created once, then reused."""
    folder = _folder(home)
    key = (setting, str(folder) if folder is not None else None)
    session = _sessions.get(key)
    if session is not None:
        return session
    with _lock:
        session = _sessions.get(key)
        if session is None:
            session = _sessions[key] = create_session(setting, home, hub)
        return session


def session_for(settings):
    """The session Settings ask for (rembg_model, rembg_home). Workers call it once to preload."""
    return get_session(settings.rembg_model, settings.rembg_home, hub_for(settings))


def predict_mask(image: Image.Image, *, model: str, home: Path | None, hub: Hub | None = None,
                 session=None) -> Image.Image:
    """The model's soft mask of `image` (an RGB PIL image): mode "L", same size, 255 = product.

    rembg's U2Net/ISNet sessions rescale each prediction to its own min..max, so a flat prediction (a
    picture that is all one thing) comes back all 0 (numpy's 0/0 warnings silenced for that). `session`
    overrides the cached one."""
    import numpy as np

    session = session if session is not None else get_session(model, home, hub)
    with np.errstate(invalid="ignore", divide="ignore"):   # a flat prediction's 0/0 (thread-local setting)
        mask = session.predict(image)[0]
    if mask.mode != "L":
        mask = mask.convert("L")
    if mask.size != image.size:
        from PIL import Image as PILImage

        mask = mask.resize(image.size, PILImage.Resampling.LANCZOS)
    return mask


def loaded_sessions() -> dict[tuple[str, str | None], Any]:
    """A copy of the cache: {(model setting, weights folder): session}."""
    with _lock:
        return dict(_sessions)


def clear_sessions() -> None:
    """Forget every cached session (tests, or after replacing a weights file)."""
    with _lock:
        _sessions.clear()
