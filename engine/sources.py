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

from core.errors import ModelUnavailable

_net: dict[str, tuple[float, bool]] = {}
_net_lock = threading.Lock()
NET_TTL_S = 60.0


@dataclass(frozen=True)
class ModelRef:
    """What a setting asks for. role: words for messages; setting: the env name that sets it;
    marker: a file the model's folder must hold (model_index.json for pipelines, config.json, ...)."""

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


def hub_reachable(timeout: float = 2.0) -> bool:
    """A TCP connect to the Hub endpoint; the answer is cached per process for NET_TTL_S."""
    from huggingface_hub import constants

    parsed = urlparse(constants.ENDPOINT)
    host, port = parsed.hostname or "huggingface.co", parsed.port or (443 if parsed.scheme != "http" else 80)
    with _net_lock:
        hit = _net.get(host)
        if hit and time.monotonic() - hit[0] < NET_TTL_S:
            return hit[1]
    try:
        with socket.create_connection((host, port), timeout=timeout):
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
        raise ModelUnavailable(f"{ref.lead}: {ref.setting} is empty; set it to a Hub id or a local folder.")
    if looks_like_path(value):
        folder = Path(value).expanduser().resolve()
        if not _marker_in(folder, ref):
            need = f"{ref.subfolder}/{ref.marker}" if ref.subfolder else ref.marker
            raise ModelUnavailable(
                f"{ref.lead}: the {ref.role} folder {folder} does not hold the model ({need} is missing). Put the "
                f"model's files there (e.g. `hf download <hub id> --local-dir {folder}`), or set {ref.setting} to "
                f"a Hub id.")
        return Source(ref, str(folder), True, None, True)
    looked = []
    if policy.model_dir:
        folder = (Path(policy.model_dir).expanduser() / value).resolve()
        looked.append(f"MODEL_DIR ({folder})")
        if _marker_in(folder, ref):
            return Source(ref, str(folder), True, None, True)
    cache = hub_cache_dir(policy)
    looked.append(f"the Hugging Face cache ({cache})")
    cache_str = str(policy.cache_dir) if policy.cache_dir else None
    if in_hub_cache(ref, policy):
        return Source(ref, value, True, cache_str, False)
    if not policy.downloads:
        raise missing(ref, policy, looked, reason="downloads are off (MODEL_DOWNLOADS=false)")
    if hub_offline():
        raise missing(ref, policy, looked, reason="HF_HUB_OFFLINE is set")
    if not hub_reachable():
        raise missing(ref, policy, looked, reason="the Hugging Face Hub is not reachable from this server")
    return Source(ref, value, False, cache_str, False)


def what_file(ref: ModelRef) -> str:
    """' file models/x.safetensors' / ' folder models/image_encoder' for refs that name one part of a repository
    (IP-Adapters, the pose detector); '' for whole models (their marker is model_index.json / config.json)."""
    if ref.subfolder and ref.marker == "config.json":
        return f" folder {ref.subfolder}"
    if ref.subfolder or ref.marker not in ("model_index.json", "config.json"):
        return f" file {ref.subfolder + '/' if ref.subfolder else ''}{ref.marker}"
    return ""


def missing(ref: ModelRef, policy: Policy, looked: list[str], *, reason: str) -> ModelUnavailable:
    """The one message for weights that are not here: what, where we looked, why not fetched, how to fix."""
    rev = f" (revision {ref.revision})" if ref.revision else ""
    value = ref.model_id
    part = what_file(ref)
    dl = f"hf download {value}" + (f" --revision {ref.revision}" if ref.revision else "")
    if part.startswith(" file"):
        dl += part.removeprefix(" file")                       # just that file, not the whole repository
    elif part.startswith(" folder"):
        dl += f' --include "{ref.subfolder}/*"'
    how = (f"on a machine with internet access run `{dl}` and copy its Hugging Face cache folder (HF_HOME) "
           f"to this server (or point HF_CACHE_DIR at it); or run `{dl} --local-dir <folder>/{value}` and set "
           f"MODEL_DIR=<folder>; or set {ref.setting} to a local folder")
    if policy.downloads:
        how += "; or let this server download it (needs internet access, HF_HUB_OFFLINE unset)"
    else:
        how += "; or set MODEL_DOWNLOADS=true on a server with internet access"
    return ModelUnavailable(
        f"{ref.lead}: the {ref.role} '{value}'{rev}{part} is not on this server and cannot be "
        f"downloaded now ({reason}). Looked in: {', '.join(looked)}. To provide it: {how}.")


def load_failed(source: Source, policy: Policy, exc: BaseException) -> ModelUnavailable:
    """A from_pretrained / download failure turned into the same kind of message (no traceback for users)."""
    ref = source.ref
    name = type(exc).__name__
    text = str(exc).strip().splitlines()[0][:300] if str(exc).strip() else name
    network = any(k in name for k in ("Connection", "Timeout", "HTTP", "Offline", "LocalEntryNotFound",
                                      "RepositoryNotFound", "RevisionNotFound", "EntryNotFound", "GatedRepo"))
    if network or (isinstance(exc, OSError) and not source.is_folder and not source.local_files_only):
        where = [f"the Hugging Face cache ({hub_cache_dir(policy)})"]
        return missing(ref, policy, where, reason=f"{name}: {text}")
    where = source.path_or_id if source.is_folder else f"{ref.model_id} in {hub_cache_dir(policy)}"
    return ModelUnavailable(
        f"{ref.lead}: the {ref.role} '{ref.model_id}' could not be loaded from {where} "
        f"({name}: {text}). The files may be incomplete or of another model type: download it again "
        f"(`hf download {ref.model_id}`) or fix {ref.setting}.")
