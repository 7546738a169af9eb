"""Builders of tiny, deterministic models for tests, benchmarks and smoke runs (DESIGN rule 7).

Each builder writes real model files of the format the production code loads, at toy size, made
here from code: nothing is downloaded. Heavy imports (torch, onnx) happen inside the builders, so
importing this module is cheap.

    from tests.tiny_models import build_tiny_u2net_onnx
    path = build_tiny_u2net_onnx(tmp_path / "rembg" / "tiny.onnx")   # settings: rembg_home=tmp_path/"rembg",
                                                                       #           rembg_model="custom:tiny.onnx"

Sections: background removal (rembg) — later: tiny diffusers pipelines, pose detectors.
"""
from __future__ import annotations

import warnings
from pathlib import Path

# --------------------------------------------------------------------------- background removal (rembg)

# What rembg's u2net_custom session feeds a U2Net-like net: the picture resized to 320x320, divided by
# its own maximum, then normalised with the ImageNet mean / std (rembg/sessions/u2net_custom.py).
U2NET_SIZE = 320
IMAGENET_MEAN = (0.485, 0.456, 0.406)
IMAGENET_STD = (0.229, 0.224, 0.225)


def build_tiny_u2net_onnx(path: Path | str, *, threshold: float = 0.15, sharpness: float = 40.0,
                          size: int = U2NET_SIZE, outputs: int = 7, pad_mb: float = 0) -> Path:
    """Export a fixed-weight "product detector" shaped like U2Net to ONNX at `path`; returns the path.

    Input `input.1` 1x3xSxS (rembg's normalised picture); outputs: `outputs` maps of 1x1xSxS, as U2Net's
    d0..d6 (rembg reads the first). The map is high where the picture is NOT near-white:
    sigmoid(sharpness * (1 - min(r, g, b) - threshold)) with r, g, b back in 0..1. So a red box on a
    white background gives a real box-shaped mask, a white picture a flat (empty) one. No learned
    weights: the net is the same on every machine, and ~2 KB.

    pad_mb > 0 adds that many MB of (seeded random) weights that take part in the graph but not in the
    result (multiplied by 0): a file as big as a real model's (u2net.onnx is 176 MB) for benchmarks of
    session creation. The mask is unchanged; inference stays tiny.
    """
    import torch

    class TinyProductNet(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.register_buffer("mean", torch.tensor(IMAGENET_MEAN).view(1, 3, 1, 1))
            self.register_buffer("std", torch.tensor(IMAGENET_STD).view(1, 3, 1, 1))
            side = int((pad_mb * 1e6 / 4) ** 0.5)
            generator = torch.Generator().manual_seed(0)
            self.register_buffer("pad", torch.randn(side, side, generator=generator) if side else None)

        def forward(self, x):
            rgb = x * self.std + self.mean                      # undo rembg's normalisation: 0..1
            darkest = torch.amin(rgb, dim=1, keepdim=True)      # 1 for white, 0 for any saturated colour
            d0 = torch.sigmoid(sharpness * ((1.0 - darkest) - threshold))
            if self.pad is not None:                            # weight, not work: 0 * (v @ pad)
                side = self.pad.shape[0]
                v = x.mean(dim=(2, 3)).repeat(1, side // 3 + 1)[:, :side]
                d0 = d0 + 0.0 * (v @ self.pad).sum()
            return tuple(d0 * 1.0 for _ in range(outputs))      # distinct tensors: U2Net's side outputs

    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    net = TinyProductNet().eval()
    example = torch.zeros(1, 3, size, size)
    with torch.no_grad(), warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)   # the TorchScript exporter: fine for this net
        torch.onnx.export(net, (example,), str(path), input_names=["input.1"],
                          output_names=[f"d{i}" for i in range(outputs)], opset_version=17, dynamo=False)
    return path
