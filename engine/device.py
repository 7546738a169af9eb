"""Device and precision for the engine, and the CPU "exact batches" mode.

    device = resolve_device("auto")            # "cuda" | "mps" | "cpu"
    dtype = resolve_dtype("auto", device)      # torch.float16 on CUDA/MPS, torch.float32 on CPU
    with exact_batches(enabled=device == "cpu"):
        pipe(...)                              # image i of a batch == the same seed rendered alone

Why exact batches need a mode. Every image of a micro-batch gets its own seeded torch.Generator, so its
starting noise is the same whether it is rendered alone or in a batch. The arithmetic is not: CPU
kernels pick their blocking by the size of what they are given. MKL computes a matrix product with
fewer than 4 rows on another path than one with more (about 1e-7 apart), oneDNN convolutions choose
an algorithm by batch size, and the group-norm kernel takes another reduction order for a
channels-last input, which a (1, C, H, W) slice of an attention output is and a single image's is not.
The differences are float rounding (<= 1e-5 in the decoded image), never content, but they break
bit-for-bit reproducibility. The mode routes convolutions, group norms and linear layers through one
call per image on a contiguous slice, so each image meets the same kernels with the same shapes in a
batch as alone; everything else the pipeline does is already per-row. It is thread-local
(a torch function mode) and costs CPU batching some of its gain; GPUs don't use it.
"""
from __future__ import annotations

import contextlib
from typing import TYPE_CHECKING

from core.errors import ModelUnavailable

if TYPE_CHECKING:  # pragma: no cover
    import torch

DTYPES = {"fp16": "float16", "bf16": "bfloat16", "fp32": "float32"}


def resolve_device(setting: str) -> str:
    """'auto' -> the best device here; an explicit device that isn't available -> ModelUnavailable."""
    import torch

    cuda = torch.cuda.is_available()
    mps = bool(getattr(torch.backends, "mps", None)) and torch.backends.mps.is_available()
    if setting == "auto":
        return "cuda" if cuda else "mps" if mps else "cpu"
    if setting == "cuda" and not cuda:
        raise ModelUnavailable("engine.no_cuda")
    if setting == "mps" and not mps:
        raise ModelUnavailable("engine.no_mps")
    if setting not in ("cuda", "mps", "cpu"):
        raise ModelUnavailable("engine.unknown_device", value=setting)
    return setting


def resolve_dtype(setting: str, device: str) -> "torch.dtype":
    """'auto' -> fp16 on CUDA and MPS, fp32 on CPU; fp16/bf16/fp32 as asked."""
    import torch

    if setting == "auto":
        return torch.float32 if device == "cpu" else torch.float16
    if setting not in DTYPES:
        raise ModelUnavailable("engine.unknown_dtype", value=setting)
    return getattr(torch, DTYPES[setting])


def dtype_name(dtype) -> str:
    return {v: k for k, v in DTYPES.items()}.get(str(dtype).removeprefix("torch."), str(dtype))


@contextlib.contextmanager
def exact_batches(enabled: bool = True):
    """Inside: convolutions, group norms and linear layers run once per image (see the module doc)."""
    if not enabled:
        yield
        return
    with _per_image_mode()():
        yield


_MODE = None


def _per_image_mode():
    """The torch function mode class, built on first use (torch is imported lazily)."""
    global _MODE
    if _MODE is None:
        import torch
        import torch.nn.functional as F
        from torch.overrides import TorchFunctionMode

        per_image = {F.conv2d, torch.conv2d, F.group_norm, F.linear}

        class PerImage(TorchFunctionMode):
            def __torch_function__(self, func, types, args=(), kwargs=None):
                kwargs = kwargs or {}
                if func in per_image and args and isinstance(args[0], torch.Tensor) and args[0].dim() >= 2:
                    x = args[0]
                    return torch.cat([func(x[i:i + 1].contiguous(), *args[1:], **kwargs) for i in range(len(x))])
                return func(*args, **kwargs)

        _MODE = PerImage
    return _MODE
