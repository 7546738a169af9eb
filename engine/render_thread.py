"""One thread per process owns torch: every model load, pipeline call, embedding and pose detection runs on it.

    from engine.render_thread import on_render_thread

    @on_render_thread
    def render(...): ...          # called from any thread; runs on the render thread, the caller waits

Why: torch's CPU kernels run on an OpenMP pool that belongs to the thread that calls them. When two job threads
(the in-process runner's) each called torch, each got a pool of ENGINE_THREADS workers, and the pool of the thread
that just finished kept spinning while the other's worked: every render ran about 1.9x slower, even after the job
threads had gone quiet (measured in issue 17; bench/bench_batch.py prints the ratio to a fresh process). With one
owner thread there is one pool, and the job threads do what is not torch (compositing, checks that are not a model,
encoding, database writes) while it renders; a worker (rq) process uses the same thread, so every runner renders at
the speed of a fresh process.

ENGINE_THREADS (default: the CPU cores this process may use) is applied once, on the render thread, before its first
torch operation (torch_ready(), which the loaders call right before they import torch; torch.set_num_threads, and the
inter-op pool gets the same number where torch still allows it). A later
Settings asking for another number is told in the log and keeps the first: the pools exist by then.

A call made on the render thread itself runs directly (a decorated function may call another). Nothing here imports
torch until the render thread starts.
"""
from __future__ import annotations

import functools
import logging
import os
import sys
import threading
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any, Callable, TypeVar

log = logging.getLogger(__name__)
F = TypeVar("F", bound=Callable[..., Any])

_lock = threading.Lock()
_pool: ThreadPoolExecutor | None = None
_ident: int | None = None
_threads: int | None = None       # what the render thread applied (None: not started)
_wanted: int | None = None        # set by configure() before the thread starts


def cores() -> int:
    """The CPU cores this process may run on (its affinity mask, not the machine's count)."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except (AttributeError, OSError):  # pragma: no cover - not Linux
        return max(1, os.cpu_count() or 1)


def threads_for(setting: int | None) -> int:
    """ENGINE_THREADS as torch gets it: 0 / unset = the cores."""
    return int(setting) if setting else cores()


def configure(threads: int | None) -> int:
    """Ask for ENGINE_THREADS before the render thread starts; returns what the process will use (or uses)."""
    global _wanted
    n = threads_for(threads)
    with _lock:
        if _pool is None:
            _wanted = n
            return n
        if n != _threads:
            log.warning("ENGINE_THREADS=%s asked after the render thread started with %s; keeping %s",
                        n, _threads, _threads)
        return _threads or n


def _start() -> None:
    """The render thread's first act: know itself. Torch is imported later, by the first work that needs it
    (a load whose weights are missing fails before any torch import, as it does on any thread)."""
    global _ident
    _ident = threading.get_ident()


def torch_ready():
    """Import torch on the render thread and give it ENGINE_THREADS, once: loaders call this right before their
    first torch operation. Returns the torch module."""
    global _threads
    import torch

    if _threads is None and on_thread():
        n = _wanted or cores()
        torch.set_num_threads(n)
        try:
            torch.set_num_interop_threads(n)
        except RuntimeError:  # an earlier torch op in this process started the inter-op pool: it keeps its size
            pass
        _threads = n
    return torch


def _call(fn: Callable[..., Any], args, kwargs):
    """What the render thread runs: `fn`, with torch's thread count applied first when torch is already here
    (imported by another thread, e.g. a test or a benchmark)."""
    if _threads is None and "torch" in sys.modules:
        torch_ready()
    return fn(*args, **kwargs)


def _executor() -> ThreadPoolExecutor:
    global _pool
    with _lock:
        if _pool is None:
            _pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="render", initializer=_start)
        return _pool


def on_thread() -> bool:
    """Whether the caller is the render thread."""
    return _ident is not None and threading.get_ident() == _ident


def submit(fn: Callable[..., Any], *args, **kwargs) -> Future:
    """Queue `fn(*args, **kwargs)` on the render thread; its Future. On the render thread: run now."""
    if on_thread():
        fut: Future = Future()
        try:
            fut.set_result(fn(*args, **kwargs))
        except BaseException as exc:  # noqa: BLE001 - handed to the caller through the future
            fut.set_exception(exc)
        return fut
    return _executor().submit(_call, fn, args, kwargs)


def run(fn: Callable[..., Any], *args, **kwargs) -> Any:
    """Run `fn` on the render thread and wait for it (its exception is raised here)."""
    if on_thread():
        return fn(*args, **kwargs)
    return _executor().submit(_call, fn, args, kwargs).result()


def on_render_thread(fn: F) -> F:
    """Decorator: the function always runs on the render thread."""
    @functools.wraps(fn)
    def wrapper(*args, **kwargs):
        return run(fn, *args, **kwargs)

    return wrapper  # type: ignore[return-value]


def state() -> dict:
    """For the System page and describe(): {"started": bool, "threads": int | None, "cores": int}."""
    return {"started": _pool is not None and _threads is not None, "threads": _threads or _wanted, "cores": cores()}
