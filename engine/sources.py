"""Where each model's weights come from, decided BEFORE torch is imported, so missing weights fail fast.

A model setting is a Hub id (`owner/name`) or a local folder. For a Hub id the engine looks, in order:
1. `<MODEL_DIR>/<owner>/<name>` when MODEL_DIR is set and that folder exists (a plain folder, as
   `hf download <id> --local-dir <MODEL_DIR>/<id>` writes it);
2. the Hugging Face cache (HF_CACHE_DIR, else huggingface_hub's default under HF_HOME): when the files
   are there, loading passes local_files_only=True and makes no network call at all;
3. the Hub itself, only when MODEL_DOWNLOADS is on, HF_HUB_OFFLINE is not set and a 2-second TCP check
   reaches the Hub (cached per process for a minute); otherwise, or when the download fails:
   core.errors.ModelUnavailable naming the model, the places looked at, and how to provide the weights.

    source = locate(ModelRef("base model", "SD15_BASE_MODEL", "stable-diffusion-v1-5/...", None), policy)
    ControlNetModel.from_pretrained(source.path_or_id, **source.kwargs())
"""
from __future__ import annotations

import socket
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlparse

from core.errors import Message, ModelUnavailable

_net: dict[str, tuple[float, bool]] = {}
_net_lock = threading.Lock()
NET_TTL_S = 60.0


@dataclass(frozen=True)
class ModelRef:
    """What a setting asks for. role: words for messages; setting: the env name that sets it;
    marker: a file the model's folder must hold (model_index.json for pipelines, config.json, ...).
    role and lead are message parameters (model_role, lead): a new one needs its Indonesian in the WORDS of
    ui/locales/errors_engine.py."""

    role: str
    setting: str
    model_id: str
    revision: str | None = None
    marker: str = "config.json"
    subfolder: str | None = None
    lead: str = "Image generation is not available"     # how messages about this model start


@dataclass(frozen=True)
class Policy:
    model_dir: Path | None = None
    cache_dir: Path | None = None
    downloads: bool = True
    endpoint: str | None = None       # the Hub's base URL (HF_ENDPOINT; None: huggingface_hub's default)


@dataclass(frozen=True)
class Source:
    """A located model: pass `path_or_id` and `kwargs()` to from_pretrained / hf_hub_download."""

    ref: ModelRef
    path_or_id: str
    local_files_only: bool
    cache_dir: str | None
    is_folder: bool

    def kwargs(self) -> dict:
        out = {"local_files_only": self.local_files_only}
        if not self.is_folder:
            out["revision"] = self.ref.revision
            if self.cache_dir:
                out["cache_dir"] = self.cache_dir
        return out

    def describe(self) -> dict:
        return {"id": self.ref.model_id, "revision": self.ref.revision or ("local" if self.is_folder else "main"),
                "path": self.path_or_id if self.is_folder else None}


def policy_of(settings) -> Policy:
    """The Policy Settings describe (MODEL_DIR, HF_CACHE_DIR, MODEL_DOWNLOADS, HF_ENDPOINT)."""
    return Policy(model_dir=settings.model_dir, cache_dir=settings.hf_cache_dir, downloads=settings.model_downloads,
                  endpoint=settings.hf_endpoint)


def looks_like_path(value: str) -> bool:
    return value.startswith(("/", "./", "../", "~")) or "\\" in value or value.count("/") > 1 or Path(value).is_dir()


def _marker_in(folder: Path, ref: ModelRef) -> bool:
    base = folder / ref.subfolder if ref.subfolder else folder
    return (base / ref.marker).is_file()


def hub_cache_dir(policy: Policy) -> Path:
    if policy.cache_dir:
        return Path(policy.cache_dir).expanduser()
    from huggingface_hub import constants

    return Path(constants.HF_HUB_CACHE)


def hub_offline() -> bool:
    """huggingface_hub's own reading of HF_HUB_OFFLINE (settings.py stays the only module reading env)."""
    from huggingface_hub import constants

    return bool(constants.HF_HUB_OFFLINE)


def hub_reachable(endpoint: str | None = None, timeout: float = 2.0) -> bool:
    """A TCP connect to the Hub endpoint; the answer is cached per process for NET_TTL_S."""
    from huggingface_hub import constants

    parsed = urlparse(endpoint or constants.ENDPOINT)
    host, port = parsed.hostname or "huggingface.co", parsed.port or (443 if parsed.scheme != "http" else 80)
    host = f"{host}:{port}"
    with _net_lock:
        hit = _net.get(host)
        if hit and time.monotonic() - hit[0] < NET_TTL_S:
            return hit[1]
    try:
        with socket.create_connection((parsed.hostname or "huggingface.co", port), timeout=timeout):
            ok = True
    except OSError:
        ok = False
    with _net_lock:
        _net[host] = (time.monotonic(), ok)
    return ok


def in_hub_cache(ref: ModelRef, policy: Policy) -> bool:
    from huggingface_hub import try_to_load_from_cache

    filename = f"{ref.subfolder}/{ref.marker}" if ref.subfolder else ref.marker
    try:
        hit = try_to_load_from_cache(ref.model_id, filename, cache_dir=str(hub_cache_dir(policy)),
                                     revision=ref.revision)
    except Exception:  # noqa: BLE001 - a malformed id: treat as not cached, the error comes later
        return False
    return isinstance(hit, str)


def locate(ref: ModelRef, policy: Policy) -> Source:
    """Where to load `ref` from (see the module doc); ModelUnavailable when it is nowhere and can't be fetched."""
    value = (ref.model_id or "").strip()
    if not value:
        raise ModelUnavailable("models.setting_empty", lead=ref.lead, setting=ref.setting)
    if looks_like_path(value):
        folder = Path(value).expanduser().resolve()
        if not _marker_in(folder, ref):
            need = f"{ref.subfolder}/{ref.marker}" if ref.subfolder else ref.marker
            raise ModelUnavailable("models.folder_incomplete", lead=ref.lead, model_role=ref.role, folder=str(folder),
                                   need=need, setting=ref.setting)
        return Source(ref, str(folder), True, None, True)
    looked = []
    if policy.model_dir:
        folder = (Path(policy.model_dir).expanduser() / value).resolve()
        looked.append(Message("models.in_model_dir", folder=str(folder)))
        if _marker_in(folder, ref):
            return Source(ref, str(folder), True, None, True)
    cache = hub_cache_dir(policy)
    looked.append(Message("models.in_hub_cache", cache=str(cache)))
    cache_str = str(policy.cache_dir) if policy.cache_dir else None
    if in_hub_cache(ref, policy):
        return Source(ref, value, True, cache_str, False)
    if not policy.downloads:
        raise missing(ref, policy, looked, reason=Message("models.downloads_off"))
    if hub_offline():
        raise missing(ref, policy, looked, reason=Message("models.hub_offline"))
    if not hub_reachable(policy.endpoint):
        raise missing(ref, policy, looked, reason=Message("models.hub_unreachable"))
    return Source(ref, value, False, cache_str, False)


def what_file(ref: ModelRef) -> tuple[str, str] | None:
    """("file", "models/x.safetensors") / ("folder", "models/image_encoder") for refs that name one part of a
    repository (IP-Adapters, the pose detector); None for whole models (their marker is model_index.json /
    config.json)."""
    if ref.subfolder and ref.marker == "config.json":
        return "folder", ref.subfolder
    if ref.subfolder or ref.marker not in ("model_index.json", "config.json"):
        return "file", f"{ref.subfolder + '/' if ref.subfolder else ''}{ref.marker}"
    return None


_SUBJECTS = {  # (has a revision, the part needed) -> code
    (False, None): "models.the_model", (True, None): "models.the_model_revision",
    (False, "file"): "models.the_model_file", (True, "file"): "models.the_model_revision_file",
    (False, "folder"): "models.the_model_folder", (True, "folder"): "models.the_model_revision_folder",
}


def subject(ref: ModelRef) -> Message:
    """"the SD 1.5 base model 'x' (revision y) file z": the model, its revision and the part of it that is needed."""
    part = what_file(ref)
    params = {"model_role": ref.role, "model": ref.model_id}
    if ref.revision:
        params["revision"] = ref.revision
    if part:
        params["path"] = part[1]
    return Message(_SUBJECTS[bool(ref.revision), part[0] if part else None], **params)


def _places(looked: list[Message]) -> Message:
    """The places looked at, in order, as one message ("MODEL_DIR (...), the Hugging Face cache (...)")."""
    out = looked[0]
    for place in looked[1:]:
        out = Message("models.places", first=out, then=place)
    return out


def missing(ref: ModelRef, policy: Policy, looked: list[Message], *, reason: Message) -> ModelUnavailable:
    """The one message for weights that are not here: what, where we looked, why not fetched, how to fix."""
    value = ref.model_id
    part = what_file(ref)
    dl = f"hf download {value}" + (f" --revision {ref.revision}" if ref.revision else "")
    if part and part[0] == "file":
        dl += f" {part[1]}"                                    # just that file, not the whole repository
    elif part:
        dl += f' --include "{ref.subfolder}/*"'
    params = dict(lead=ref.lead, subject=subject(ref), reason=reason, looked=_places(looked), command=dl,
                  model=value, setting=ref.setting)
    if policy.downloads:
        return ModelUnavailable("models.missing", **params)
    return ModelUnavailable("models.missing_no_downloads", **params)


def where_loaded(source: Source, policy: Policy) -> str | Message:
    """The folder a model was loaded from, or "<id> in <Hugging Face cache>"."""
    if source.is_folder:
        return source.path_or_id
    return Message("models.in_cache", model=source.ref.model_id, cache=str(hub_cache_dir(policy)))


def load_failed(source: Source, policy: Policy, exc: BaseException) -> ModelUnavailable:
    """A from_pretrained / download failure turned into the same kind of message (no traceback for users)."""
    ref = source.ref
    name = type(exc).__name__
    text = str(exc).strip().splitlines()[0][:300] if str(exc).strip() else name
    network = any(k in name for k in ("Connection", "Timeout", "HTTP", "Offline", "LocalEntryNotFound",
                                      "RepositoryNotFound", "RevisionNotFound", "EntryNotFound", "GatedRepo"))
    if network or (isinstance(exc, OSError) and not source.is_folder and not source.local_files_only):
        where = [Message("models.in_hub_cache", cache=str(hub_cache_dir(policy)))]
        return missing(ref, policy, where, reason=Message("models.error", error=name, detail=text))
    return ModelUnavailable("models.load_failed", lead=ref.lead, model_role=ref.role, model=ref.model_id,
                            where=where_loaded(source, policy), error=name, detail=text, setting=ref.setting)
