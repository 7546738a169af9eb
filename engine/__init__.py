"""The ML room: rembg sessions now; diffusers pipelines and pose detectors later.

Heavy imports (rembg, onnxruntime, torch, diffusers) live here and only here, inside functions, never at
module top: importing `engine` or one of its modules costs nothing. core/ reaches the engine lazily,
inside the function that needs it. Everything is created on first use, cached per process, guarded by a
lock, and reused; nothing is ever downloaded at run time (missing weights -> core.errors.ModelUnavailable).

    engine.background   rembg sessions: one per (model setting, weights folder), masks for core.background
"""
