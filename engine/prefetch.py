"""`python app.py download-models`: every model the current settings need, fetched now instead of at the first
click (engine.downloads does the fetching, the same path the engine and the workers use at first use).

    for item in prefetch(settings, only=["base", "controlnet"], echo=print): ...

What the settings need (`wanted`): the base model and the OpenPose ControlNet of ENGINE (sd15 / sdxl; the tiny
engine's are built locally), the few-step LoRA when FAST_LORA is set, the IP-Adapter(s) and their image
encoder unless IP_ADAPTER=false, the pose detector, and rembg's model unless it is a custom file. Each has a
short NAME for --only: base, controlnet, fast-lora, ip-adapter, garment-ip-adapter, image-encoder,
pose-detector, background-removal.

A model already here is reported (where, size) and not touched: a second run is a no-op. A model that cannot
arrive (offline, MODEL_DOWNLOADS=false, a wrong id) is listed with the reason and how to provide it; the
command's exit status is 1 when any is missing.
"""
from __future__ import annotations

import threading
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Callable

from core.errors import ModelUnavailable
from engine.downloads import arrive, choose, current, file_path, local_files, _snapshot
from engine.sources import ModelRef, hub_cache_dir, locate, policy_of, what_file

NAMES = ("base", "controlnet", "fast-lora", "ip-adapter", "garment-ip-adapter", "image-encoder", "pose-detector",
         "background-removal")


@dataclass
class Wanted:
    name: str
    ref: ModelRef | None           # None: built or found outside the Hub rule (the tiny engine, rembg folders)
    fp16: bool = False
    note: str | None = None


@dataclass
class Arrived:
    name: str
    model: str
    state: str                     # "present" | "downloaded" | "missing" | "built"
    where: str | None = None
    size: int = 0
    reason: str | None = None


def _fp16(settings) -> bool:
    from engine import device as devices

    try:
        return devices.dtype_name(devices.resolve_dtype(settings.engine_dtype,
                                                        devices.resolve_device(settings.engine_device))) == "fp16"
    except ModelUnavailable:
        return False


def wanted(settings, *, resolve_fp16: bool = True) -> list[Wanted]:
    """The models these settings use, in the order a render loads them. resolve_fp16=False: no device probe
    (no torch import; the System page of the web process)."""
    from engine.config import EngineConfig
    from engine.detector import _ref as detector_ref

    from engine.providers import is_provider

    config = EngineConfig.from_settings(settings)
    out: list[Wanted] = []
    if is_provider(settings.engine):   # rendered remotely: no diffusion weights here, no IP-Adapter either
        out.append(Wanted("base", None, note=f"rendered by the hosted provider ENGINE={settings.engine}: "
                                             "nothing to download"))
        out.append(Wanted("pose-detector", detector_ref(settings)))
        out.append(Wanted("background-removal", None))
        return out
    if config.is_tiny:
        out.append(Wanted("base", None, note="the tiny engine's random-weight models, built locally on first use"))
    else:
        fp16 = _fp16(settings) if resolve_fp16 else False
        out += [Wanted("base", config.base, fp16), Wanted("controlnet", config.controlnet, fp16)]
    if config.fast_lora:
        out.append(Wanted("fast-lora", config.fast_lora))
    for adapter in config.adapters:
        out.append(Wanted("ip-adapter" if adapter.role == "face" else "garment-ip-adapter", adapter.weights))
    if config.adapters:
        out.append(Wanted("image-encoder", config.adapters[0].encoder))
    out.append(Wanted("pose-detector", detector_ref(settings)))
    out.append(Wanted("background-removal", None))
    return out


def _size_here(ref: ModelRef, source, policy, fp16: bool) -> tuple[str, int]:
    folder = _snapshot(source, policy)
    if folder is None:
        return source.path_or_id, 0
    part = what_file(ref)
    if part and part[0] == "file":
        path = folder / part[1]
        return str(path), path.stat().st_size if path.is_file() else 0
    try:
        files = choose(local_files(folder), ref, fp16=fp16).files
    except ModelUnavailable:
        files = tuple(local_files(folder))
    return str(folder), sum((folder / f).stat().st_size for f in files if (folder / f).is_file())


def _one(item: Wanted, settings, policy) -> Arrived:
    if item.name == "background-removal":
        return _background(settings)
    if item.ref is None:
        return Arrived(item.name, "tiny", "built", reason=item.note)
    ref = item.ref
    try:
        try:
            here = locate(ref, policy).local_files_only
        except ModelUnavailable:
            here = False
        source = arrive(ref, policy, fp16=item.fp16)
    except ModelUnavailable as exc:
        return Arrived(item.name, ref.model_id, "missing", reason=exc.message)
    if what_file(ref) and what_file(ref)[0] == "file":
        file_path(source, policy)        # a one-file model: make sure that file itself is here
    where, size = _size_here(ref, source, policy, item.fp16)
    return Arrived(item.name, ref.model_id, "present" if here else "downloaded", where, size)


def _background(settings) -> Arrived:
    from engine.background import find_weights, hub_for, parse_model

    try:
        spec = parse_model(settings.rembg_model)
        hub = hub_for(settings)
        try:        # here already? the same lookup with downloads off
            find_weights(settings.rembg_model, settings.rembg_home, replace(hub, policy=replace(hub.policy,
                                                                                               downloads=False)))
            here = True
        except ModelUnavailable:
            here = False
        path: Path = find_weights(settings.rembg_model, settings.rembg_home, hub)
    except ModelUnavailable as exc:
        return Arrived("background-removal", settings.rembg_model, "missing", reason=exc.message)
    return Arrived("background-removal", f"{settings.rembg_model} ({spec.file})", "present" if here else "downloaded",
                   str(path), path.stat().st_size)


def prefetch(settings, *, only: list[str] | None = None, echo: Callable[[str], None] = print,
             bar: bool = True) -> list[Arrived]:
    """Fetch what `wanted(settings)` lists (or the `only` names); one line per model through `echo`, and a
    progress bar per download on stderr while it runs (drawn from engine.downloads.current)."""
    policy = policy_of(settings)
    items = [w for w in wanted(settings) if not only or w.name in only]
    results = []
    for item in items:
        stop = threading.Event()
        watcher = threading.Thread(target=_draw, args=(policy, stop), daemon=True) if bar else None
        if watcher:
            watcher.start()
        try:
            result = _one(item, settings, policy)
        finally:
            stop.set()
            if watcher:
                watcher.join()
        results.append(result)
        echo(line(result))
    return results


def line(result: Arrived) -> str:
    from tqdm import tqdm

    if result.state in ("present", "downloaded"):
        verb = "already here" if result.state == "present" else "downloaded"
        size = tqdm.format_sizeof(result.size, "B", 1024)
        return f"{result.name:<20} {result.model}: {verb}, {size} in {result.where}"
    if result.state == "built":
        return f"{result.name:<20} {result.reason}"
    return f"{result.name:<20} {result.model}: MISSING. {result.reason}"


def _draw(policy, stop: threading.Event) -> None:
    """tqdm bars for the downloads in flight in this cache, refreshed from their status files."""
    from tqdm import tqdm

    bars: dict[str, tqdm] = {}
    while True:
        records = {f"{r['model']}|{r['started']}": r for r in current(policy)}
        for key, record in records.items():
            bar = bars.get(key)
            if bar is None:
                bar = bars[key] = tqdm(total=record["total"] or None, unit="B", unit_scale=True,
                                       desc=f"{record['role']} {record['model']}", leave=True)
            bar.update(max(0, record["done"] - bar.n))
        for key, bar in bars.items():
            if key not in records and bar.total and bar.n < bar.total:   # finished: its status file is gone
                bar.update(bar.total - bar.n)
        if stop.wait(0.2):
            break
    for bar in bars.values():
        bar.close()


# --- what is here now (the System page): no download, no torch ---------------------------------------------
def states(settings) -> list[dict]:
    """Each wanted model: {"name", "role", "model", "state": present | downloading | will_download | missing |
    built, "where", "size", "done", "total", "reason", "message"}. Nothing is fetched or loaded."""
    policy = policy_of(settings)
    flying = {r["model"]: r for r in current(policy)}
    out = []
    for item in wanted(settings, resolve_fp16=False):
        if item.name == "background-removal":
            out.append(_background_state(settings, flying))
            continue
        if item.ref is None:
            out.append({"name": item.name, "role": "tiny engine", "model": "tiny", "state": "built", "where": None,
                        "size": 0, "reason": item.note})
            continue
        ref = item.ref
        entry = {"name": item.name, "role": ref.role, "model": ref.model_id, "where": None, "size": 0, "reason": None}
        try:
            source = locate(ref, policy)
        except ModelUnavailable as exc:
            out.append({**entry, "state": "missing", "reason": exc.message, "message": exc.msg.to_dict()})
            continue
        if source.local_files_only:
            where, size = _size_here(ref, source, policy, False)
            out.append({**entry, "state": "present", "where": where, "size": size})
        elif ref.model_id in flying:
            r = flying[ref.model_id]
            out.append({**entry, "state": "downloading", "where": r["where"], "done": r["done"], "total": r["total"]})
        else:
            out.append({**entry, "state": "will_download", "where": str(hub_cache_dir(policy))})
    return out


def _background_state(settings, flying: dict) -> dict:
    from engine.background import find_weights, hub_for, parse_model

    entry = {"name": "background-removal", "role": "background-removal model", "model": settings.rembg_model,
             "where": None, "size": 0, "reason": None}
    hub = hub_for(settings)
    spec = None
    try:
        spec = parse_model(settings.rembg_model)
        path = find_weights(settings.rembg_model, settings.rembg_home,      # the lookup with downloads off
                            replace(hub, policy=replace(hub.policy, downloads=False)))
        return {**entry, "state": "present", "where": str(path), "size": path.stat().st_size}
    except ModelUnavailable as exc:
        missing = exc
    if spec is not None and not spec.custom:
        if hub.repo in flying:
            r = flying[hub.repo]
            return {**entry, "state": "downloading", "where": r["where"], "done": r["done"], "total": r["total"]}
        try:
            locate(ModelRef("background-removal model", "REMBG_MODEL", hub.repo, hub.revision, spec.file), hub.policy)
            return {**entry, "state": "will_download", "where": str(hub_cache_dir(hub.policy))}
        except ModelUnavailable:
            try:    # cannot arrive: the message an upload would get, with the reason (nothing is fetched)
                find_weights(settings.rembg_model, settings.rembg_home, hub)
            except ModelUnavailable as exc:
                missing = exc
    return {**entry, "state": "missing", "reason": missing.message, "message": missing.msg.to_dict()}
