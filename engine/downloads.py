"""How a model that is not on this server arrives: only the files it needs, from the Hub, with progress.

    source = arrive(ref, policy, fp16=True)      # engine.sources.locate, then a download when it must
    ControlNetModel.from_pretrained(source.path_or_id, **source.kwargs(), **load_kwargs(source, fp16=True))

One rule for every model the app uses (SD base, ControlNet, few-step LoRA, IP-Adapter and its image
encoder, the pose detector, rembg's weights): engine.sources.locate finds it in MODEL_DIR, a local folder
or the Hugging Face cache; when it is in none of them and downloads are allowed, `arrive` fetches it into
the Hub cache with huggingface_hub (resumable, cached, the same cache `hf download` fills) and hands back
a Source that loads with local_files_only=True.

Which files (`choose`): never pickles. A whole model (a diffusers pipeline or a ControlNet) takes its
configs and tokenizer files and, per component folder, the safetensors weights: the fp16 variant
(`*.fp16.safetensors`) when the device runs fp16 and every component has one, else the plain ones. The
root-level single-file checkpoints of pipeline repositories (v1-5-pruned.safetensors, 4-7 GB) and the
safety checker (we load without it) are left out. A model that is a part of a repository (an IP-Adapter
file, an encoder folder, the detector's body_pose_model.pth, rembg's <name>.onnx) takes exactly that part.
The same choice is made on a local folder (MODEL_DIR, a cached snapshot), so the variant loaded is the
variant that is there.

Progress (`Progress`): each download writes a small JSON status beside the cache
(<cache>/.apg-downloads/<key>.json: role, model, bytes done and total, where, process), updated a few times
a second and removed when it ends, and logs every tenth. Any process sharing the cache (the web app and its
in-process runner, workers on the same disk) reads them with `current(policy)`: the Generate page says
"Downloading the SD 1.5 base model (1.7 of 2.1 GB)" and `python app.py download-models` draws its bar
from the same numbers.
"""
from __future__ import annotations

import hashlib
import json
import logging
import os
import threading
import time
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Callable, Iterable

from core.errors import Message, ModelUnavailable
from engine.sources import ModelRef, Policy, Source, hub_cache_dir, load_failed, locate, what_file

log = logging.getLogger(__name__)

FP16 = "fp16"
SKIP_FOLDERS = {"safety_checker"}                 # loaded with safety_checker=None
CONFIG_SUFFIXES = (".json", ".txt", ".model")     # configs, tokenizer vocab/merges, sentencepiece
WEIGHTS = ".safetensors"
STATUS_DIR = ".apg-downloads"
STALE_S = 600.0                                   # a status file not touched for this long is a dead download
WRITE_EVERY_S = 0.25


@dataclass(frozen=True)
class Choice:
    files: tuple[str, ...]
    variant: str | None = None


def _folder_of(path: str) -> str:
    return path.rsplit("/", 1)[0] if "/" in path else ""


def _is_variant(name: str, variant: str) -> bool:
    return f".{variant}." in name.rsplit("/", 1)[-1]


def choose(files: Iterable[str], ref: ModelRef, *, fp16: bool) -> Choice:
    """The files of a repository listing (or a local folder) that `ref` needs; module doc. ModelUnavailable
    when a whole model has no safetensors weights (we never fetch or load pickles)."""
    files = sorted(set(files))
    part = what_file(ref)
    if part and part[0] == "file":
        return Choice((part[1],) if part[1] in files else ())
    prefix = f"{ref.subfolder}/" if part else ""
    pipeline = ref.marker == "model_index.json"
    inside = [f[len(prefix):] for f in files if f.startswith(prefix)]

    def keep_folder(folder: str) -> bool:
        if pipeline:    # the root holds model_index.json; each component is one folder deep
            return folder == "" or (folder.count("/") == 0 and folder not in SKIP_FOLDERS)
        return folder == ""   # a ControlNet / encoder: its own folder only

    configs = [f for f in inside if f.endswith(CONFIG_SUFFIXES) and keep_folder(_folder_of(f))]
    weights: dict[str, list[str]] = {}
    for f in inside:
        folder = _folder_of(f)
        if f.endswith(WEIGHTS) and keep_folder(folder) and not (pipeline and folder == ""):
            weights.setdefault(folder, []).append(f)
    if not weights:
        if any(not f.endswith(CONFIG_SUFFIXES) for f in inside):
            raise ModelUnavailable("models.no_safetensors", lead=ref.lead, model_role=ref.role, model=ref.model_id,
                                   setting=ref.setting)
        return Choice(tuple(prefix + f for f in configs))
    with_variant = {d: [f for f in fs if _is_variant(f, FP16)] for d, fs in weights.items()}
    plain = {d: [f for f in fs if "." not in f.rsplit("/", 1)[-1][:-len(WEIGHTS)]] for d, fs in weights.items()}
    # sharded plain weights: diffusion_pytorch_model-00001-of-00002.safetensors (+ its .index.json config)
    plain = {d: fs or [f for f in weights[d] if not _is_variant(f, FP16)] for d, fs in plain.items()}
    if fp16 and all(with_variant.values()):
        picked, variant = with_variant, FP16
    elif all(plain.values()):
        picked, variant = plain, None
    elif all(with_variant.values()):      # only fp16 files exist: load them (diffusers upcasts on CPU)
        picked, variant = with_variant, FP16
    else:
        picked = {d: plain[d] or with_variant[d] for d in weights}
        variant = None
    chosen = [f for fs in picked.values() for f in fs]
    if variant is None:   # configs of the other variant's shards are not needed
        configs = [f for f in configs if not _is_variant(f, FP16)]
    return Choice(tuple(prefix + f for f in sorted(set(configs + chosen))), variant)


def local_files(folder: Path) -> list[str]:
    """Every file under `folder`, as repository paths ('unet/config.json')."""
    folder = Path(folder)
    return [p.relative_to(folder).as_posix() for p in folder.rglob("*") if p.is_file()]


def _snapshot(source: Source, policy: Policy) -> Path | None:
    """The local folder a located source loads from: its own folder, or its Hub-cache snapshot."""
    if source.is_folder:
        return Path(source.path_or_id)
    from huggingface_hub import try_to_load_from_cache

    ref = source.ref
    name = f"{ref.subfolder}/{ref.marker}" if ref.subfolder else ref.marker
    hit = try_to_load_from_cache(ref.model_id, name, revision=ref.revision, cache_dir=str(hub_cache_dir(policy)))
    if not isinstance(hit, str):
        return None
    path = Path(hit).parent
    for _ in range(name.count("/")):       # models/image_encoder/config.json -> the snapshot holding models/
        path = path.parent
    return path


def snapshot_commit(source: Source, policy: Policy) -> str | None:
    """The Hub commit a cached source resolved to (its snapshot folder's name), for manifests; None for a
    local folder or a source that is not cached."""
    folder = None if source.is_folder else _snapshot(source, policy)
    return folder.name if folder is not None and folder.parent.name == "snapshots" else None


def load_kwargs(source: Source, policy: Policy, *, fp16: bool) -> dict:
    """from_pretrained's variant for what is on disk: {"variant": "fp16"} when the fp16 files are what the
    local copy holds for this device, else {}."""
    folder = _snapshot(source, policy)
    if folder is None:
        return {}
    try:
        choice = choose(local_files(folder), source.ref, fp16=fp16)
    except ModelUnavailable:
        return {}       # a local folder of .bin weights: from_pretrained reads it as it is
    return {"variant": choice.variant} if choice.variant else {}


def file_path(source: Source, policy: Policy) -> Path:
    """The local path of a one-file model (an IP-Adapter file, the detector, rembg's onnx) once it is here."""
    ref = source.ref
    name = f"{ref.subfolder}/{ref.marker}" if ref.subfolder else ref.marker
    if source.is_folder:
        return Path(source.path_or_id) / name
    from huggingface_hub import hf_hub_download

    try:
        return Path(hf_hub_download(source.path_or_id, name, **source.kwargs()))
    except Exception as exc:  # noqa: BLE001
        raise load_failed(source, policy, exc) from exc


# --- the download ------------------------------------------------------------------------------------------
def arrive(ref: ModelRef, policy: Policy, *, fp16: bool = False,
           on_progress: Callable[["Progress"], None] | None = None) -> Source:
    """Where to load `ref` from, downloading what it needs first when it is not here (module doc).
    ModelUnavailable when it is nowhere and cannot be fetched, or when the download fails."""
    source = locate(ref, policy)
    if source.local_files_only:      # MODEL_DIR, a folder, or the Hub cache: loads as it is, no network
        return source
    return download(source, policy, fp16=fp16, on_progress=on_progress)


def download(source: Source, policy: Policy, *, fp16: bool,
             on_progress: Callable[["Progress"], None] | None = None) -> Source:
    """Fetch the files `source.ref` needs into the Hub cache; the Source that now loads locally."""
    from huggingface_hub import HfApi, hf_hub_download
    from huggingface_hub.hf_api import RepoFile

    ref = source.ref
    cache = str(hub_cache_dir(policy))
    api = HfApi(endpoint=policy.endpoint)
    try:
        info = api.model_info(ref.model_id, revision=ref.revision)
        commit = info.sha
        tree = {f.path: f for f in api.list_repo_tree(ref.model_id, revision=commit, recursive=True)
                if isinstance(f, RepoFile)}
        choice = choose(tree, ref, fp16=fp16)
        if not choice.files:
            part = what_file(ref)
            raise FileNotFoundError(f"{part[1] if part else ref.marker} is not in {ref.model_id}")
        sizes = {f: int(tree[f].size or 0) for f in choice.files}
        progress = Progress(ref=ref, policy=policy, total=sum(sizes.values()), files=len(choice.files),
                            on_change=on_progress)
        with progress:
            for name in choice.files:
                progress.file = name
                hf_hub_download(ref.model_id, name, revision=commit, cache_dir=cache, endpoint=policy.endpoint,
                                tqdm_class=progress.bar_class())
                progress.file_done(sizes[name])
        # the branch the setting names now points at this commit in the cache (hf_hub_download wrote the ref
        # only for `commit`): store it so local_files_only lookups by branch find the snapshot
        _write_ref(Path(cache), ref, commit)
    except ModelUnavailable:
        raise
    except Exception as exc:  # noqa: BLE001 - network, a missing repo or file, a full disk: one clear message
        raise load_failed(source, policy, exc) from exc
    log.info("downloaded %s %s (%s files, %.1f MB) into %s", ref.role, ref.model_id, len(choice.files),
             progress.total / 1e6, cache)
    return replace(source, local_files_only=True)


def _write_ref(cache: Path, ref: ModelRef, commit: str) -> None:
    revision = ref.revision or "main"
    if revision == commit:
        return
    refs = cache / ("models--" + ref.model_id.replace("/", "--")) / "refs"
    refs.mkdir(parents=True, exist_ok=True)
    target = refs / revision
    tmp = target.with_name(f".{revision}.{os.getpid()}.tmp")
    tmp.write_text(commit)
    os.replace(tmp, target)


# --- progress ------------------------------------------------------------------------------------------------
def _key(ref: ModelRef) -> str:
    return hashlib.sha1(f"{ref.model_id}|{ref.revision}|{ref.subfolder}|{ref.marker}".encode()).hexdigest()[:16]


@dataclass
class Progress:
    """One download in flight: what, how far, where (module doc). A context manager: the status file lives
    while the download runs."""

    ref: ModelRef
    policy: Policy
    total: int
    files: int
    on_change: Callable[["Progress"], None] | None = None
    done: int = 0
    file: str = ""
    started: float = field(default_factory=time.time)
    _finished_files: int = 0
    _in_file: int = 0
    _written: float = 0.0
    _logged_tenth: int = -1
    _lock: threading.Lock = field(default_factory=threading.Lock)

    @property
    def status_path(self) -> Path:
        return hub_cache_dir(self.policy) / STATUS_DIR / f"{_key(self.ref)}.json"

    def record(self) -> dict:
        return {"role": self.ref.role, "model": self.ref.model_id, "setting": self.ref.setting,
                "done": self.done, "total": self.total, "files": self.files, "file": self.file,
                "where": str(hub_cache_dir(self.policy)), "pid": os.getpid(), "started": self.started,
                "updated": time.time()}

    def message(self) -> Message:
        return status_message(self.record())

    def __enter__(self):
        self._write(force=True)
        return self

    def __exit__(self, *exc):
        try:
            self.status_path.unlink()
        except OSError:
            pass
        return False

    def advance(self, n: int) -> None:
        with self._lock:
            self._in_file += int(n or 0)
            self.done = self._finished_files + self._in_file
            if self.total:
                self.done = min(self.total, self.done)
        self._write()

    def file_done(self, size: int) -> None:
        with self._lock:
            self._finished_files += size
            self._in_file = 0
            self.done = min(self.total, self._finished_files) if self.total else self._finished_files
        self._write(force=True)

    def _write(self, force: bool = False) -> None:
        now = time.monotonic()
        if not force and now - self._written < WRITE_EVERY_S:
            return
        self._written = now
        tenth = int(10 * self.done / self.total) if self.total else 0
        if tenth != self._logged_tenth:
            self._logged_tenth = tenth
            log.info("%s", self.message().english)
        path = self.status_path
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            tmp = path.with_name(f".{path.name}.{os.getpid()}.{threading.get_ident()}")
            tmp.write_text(json.dumps(self.record()))
            os.replace(tmp, path)
        except OSError as exc:   # a read-only cache still downloads; only the shared status is lost
            log.debug("download status not written: %s", exc)
        if self.on_change is not None:
            self.on_change(self)

    def bar_class(self):
        """A tqdm-shaped class for hf_hub_download's tqdm_class: its updates feed this Progress."""
        progress = self

        class Bar:
            def __init__(self, *args, **kwargs):
                self.n = int(kwargs.get("initial") or 0)
                if self.n:
                    progress.advance(self.n)

            def __enter__(self):
                return self

            def __exit__(self, *exc):
                return False

            def update(self, n=1):
                self.n += int(n or 0)
                progress.advance(int(n or 0))

            def update_transfer(self, n=1):   # xet transfers report network bytes separately: not counted twice
                pass

            def __getattr__(self, name):       # set_postfix_str, refresh, close, set_description...: nothing
                return lambda *a, **k: None

        return Bar


def status_message(record: dict) -> Message:
    """'Downloading the SD 1.5 base model (1.7 of 2.1 GB)' for a status record."""
    return Message("models.downloading", model_role=record["role"], model=record["model"],
                   done=int(record.get("done") or 0), total=int(record.get("total") or 0))


def current(policy: Policy) -> list[dict]:
    """The downloads in flight that share this cache (any process), oldest first; stale files are ignored."""
    folder = hub_cache_dir(policy) / STATUS_DIR
    out = []
    now = time.time()
    try:
        entries = list(folder.glob("*.json"))
    except OSError:
        return []
    for path in entries:
        try:
            record = json.loads(path.read_text())
        except (OSError, ValueError):
            continue
        if now - float(record.get("updated") or 0) > STALE_S:
            continue
        out.append(record)
    return sorted(out, key=lambda r: r.get("started") or 0)
