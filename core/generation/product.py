"""The shop's real product in the generation (issue 14): generated around it, or worn, and measured.

    plan = plan_product(cutout=rgba, keypoints=fitted, placement="hand-right", product_type="bottle",
                        size=(768, 1024), mode="inpaint")
    RenderRequest(..., **plan.first())                 # inpaint: init image + mask (+ strength 1); else nothing
    RenderRequest(..., **plan.second(first_image, 0.6))  # worn only: the garment warped in, its region redrawn
    image = plan.finish(rendered)                      # the product's opaque pixels put back exactly (or pasted)
    plan.fidelity(image, engine=engine, settings=settings)  # what reached the image, measured (JSON-safe)

Modes (GeneratedPose.product_mode, the manifest's productMode):
- "inpaint" (PRODUCT_MODE=inpaint, the default) for hand-left / hand-right / both-hands / table / displayed:
  the resized cut-out is laid on a neutral grey canvas at the box core.generation.compositing computes, and the
  person and scene are generated AROUND it: the model mask is white everywhere except the product's opaque
  pixels eroded by ERODE px (so the model paints its edge, the hand around it, its shadow and its light). The
  engine restores what the mask keeps (diffusers' apply_overlay) and `finish` composites the cut-out once more
  with its own alpha, so every opaque product pixel is the cut-out's, bit for bit; the semi-transparent rim
  is blended over what the model painted.
- "paste" (PRODUCT_MODE=paste): today's sticker, rendered first, pasted after (compositing.place_product).
- "worn" (placement worn, PRODUCT_MODE=inpaint, a garment type): the person is rendered as for any pose, then
  the garment cut-out is warped (a perspective warp of its four corners) onto the body region GARMENT_REGION
  names, from the fitted template's keypoints, pasted over that first image, and the region (the warped
  garment's alpha, grown by a few px and feathered) is redrawn at WORN_STRENGTH with the pose ControlNet: its
  colours and pattern carry, its folds and light are the model's. The cut-out's left edge goes on the
  subject's right side, so a back view (the right shoulder on the image's right) shows the garment mirrored,
  on the back. A bag worn is carried: placed at the hand like a hand-held product.
- "prompt": nothing of the product is drawn (PRODUCT_MODE=paste for worn products, a worn product type with
  no body region such as jewelry): the prompt describes it, and the fidelity record says so, unmeasured.

Fidelity (GeneratedPose.product_fidelity, checked or not, always with the reason):
- drawn products: `exact`, the share of the cut-out's opaque pixels that are exact in the output (must be
  1.0), and `expansion`, how much the model grew the product's outline: the background-removal model's mask
  (engine.background, REMBG_MODEL) on the product box grown by a quarter, pixels outside the product's own
  silhouette (+1 px), as a share of its opaque area; not checked (None, with why) without rembg weights.
- worn: `colour`, the histogram intersection (8 bins per channel, 1 = the same colours) of the garment's
  opaque pixels and the output inside the warped garment, and `clip`, the cosine of the IP-Adapter image
  encoder's embeddings of the garment and that region (engine.embed_images), when one is loaded.
"""
from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

import numpy as np
from PIL import Image, ImageFilter

from core.errors import DomainError
from core.generation.compositing import FEATHER, PASTED, _has, _points, body_unit, layout, paste
from core.library.poses.keypoints import (L_ANKLE, L_EAR, L_EYE, L_HIP, L_KNEE, L_SHOULDER, NECK, NOSE, R_ANKLE,
                                          R_EAR, R_EYE, R_HIP, R_KNEE, R_SHOULDER)
from core.messages import Message

log = logging.getLogger(__name__)

MODES = ("inpaint", "paste")
ERODE = 2                      # px the product's opaque area is shrunk by for the model mask
GREY = (127, 127, 127)         # the canvas the product lies on for the model (neutral: no colour cast)
EXPANSION_MARGIN = 0.25        # the product box grown by this share on each side for the outline check
HIST_BINS = 8                  # per channel, for the garment's colour histogram
# product type -> the body region a worn product covers
GARMENT_KIND = {"clothing": "top", "top": "top", "dress": "dress", "gamis": "dress", "bottom": "bottom",
                "hijab": "hijab", "shoes": "shoes", "bag": "bag"}
GARMENT_REGION = {"top": "shoulders to hips", "dress": "shoulders to knees", "bottom": "hips to ankles",
                  "hijab": "head and shoulders", "shoes": "ankles", "bag": "hand"}


@dataclass
class ProductPlan:
    mode: str                                  # "inpaint" | "paste" | "worn" | "prompt"
    placement: str
    kind: str | None = None                    # worn: the GARMENT_KIND
    box: tuple[int, int, int, int] | None = None   # where the product is in the output (x1/y1 exclusive)
    product: Image.Image | None = None         # drawn products: RGBA at the box's size
    shadow: bool = False                       # paste mode: a contact shadow (table / displayed)
    layer: Image.Image | None = None           # worn: the warped garment, RGBA, canvas size
    quad: list | None = None                   # worn: the garment's corners on the canvas (tl, tr, br, bl) px
    note: Message | None = None                # how the spot differs from the plain rule, or why nothing is drawn
    init_image: Image.Image | None = None
    mask_image: Image.Image | None = None
    worn_mask: Image.Image | None = None

    # --- the render requests ----------------------------------------------------------------------------------
    def first(self) -> dict:
        """RenderRequest arguments of the first (or only) call: the product-first canvas in inpaint mode."""
        if self.mode == "inpaint":
            return {"init_image": self.init_image, "mask_image": self.mask_image, "strength": 1.0}
        return {}

    def second(self, first_image: Image.Image, strength: float) -> dict | None:
        """Worn: RenderRequest arguments of the second call: the garment pasted over the first image, its region
        redrawn at `strength`. None for every other mode (one call is all they need)."""
        if self.mode != "worn":
            return None
        init = first_image.convert("RGBA")
        init.alpha_composite(self.layer)
        return {"init_image": init.convert("RGB"), "mask_image": self.worn_mask, "strength": float(strength)}

    def finish(self, image: Image.Image) -> Image.Image:
        """The rendered image with the product's pixels where they belong (RGB)."""
        image = image.convert("RGB")
        if self.mode == "paste":
            return paste(image, self.product, self.box, feather=FEATHER, shadow=self.shadow)
        if self.mode == "inpaint":
            return paste(image, self.product, self.box, feather=0, shadow=False)
        return image

    # --- what reached the image ---------------------------------------------------------------------------
    def fidelity(self, image: Image.Image, *, engine=None, settings=None) -> dict:
        """The product-fidelity record of a finished image (module doc): JSON-safe, with the reasons."""
        if self.mode == "prompt":
            return {"mode": self.mode, "checked": False,
                    "reasons": [Message("product.prompt_only", why=self.note or Message("product.not_drawn",
                                                                                          placement=self.placement)).to_dict()]}
        if self.mode == "worn":
            return self._worn_fidelity(image, engine)
        return self._drawn_fidelity(image, settings)

    def _drawn_fidelity(self, image: Image.Image, settings) -> dict:
        x0, y0, x1, y1 = self.box
        prod = np.asarray(self.product.convert("RGBA"))
        out = np.asarray(image.convert("RGB"))[y0:y1, x0:x1]
        opaque = prod[..., 3] == 255
        n = int(opaque.sum())
        exact = float((out[opaque] == prod[..., :3][opaque]).all(axis=1).mean()) if n else 1.0
        record = {"mode": self.mode, "checked": True, "exact": round(exact, 6), "opaquePixels": n,
                  "box": list(self.box)}
        reasons = [Message("product.exact", pct=round(100 * exact, 2), pixels=n)]
        grown, why = self._expansion(image, settings, n)
        record.update(expansion=grown, expansionChecked=grown is not None)
        reasons.append(Message("product.expansion", pct=round(100 * grown, 1)) if grown is not None
                       else Message("product.expansion_not_checked", reason=why))
        if self.note is not None:
            reasons.append(self.note)
        record["reasons"] = [m.to_dict() for m in reasons]
        return record

    def _expansion(self, image: Image.Image, settings, opaque: int) -> tuple[float | None, Message | None]:
        """How much the outline grew (module doc), or (None, why it was not measured)."""
        if settings is None:
            return None, Message("product.no_rembg_settings")
        if not opaque:
            return None, Message("product.nothing_opaque")
        from engine.background import hub_for, predict_mask

        W, H = image.size
        x0, y0, x1, y1 = self.box
        gx, gy = int(EXPANSION_MARGIN * (x1 - x0)), int(EXPANSION_MARGIN * (y1 - y0))
        crop = (max(0, x0 - gx), max(0, y0 - gy), min(W, x1 + gx), min(H, y1 + gy))
        try:
            mask = predict_mask(image.convert("RGB").crop(crop), model=settings.rembg_model, home=settings.rembg_home,
                                hub=hub_for(settings))
        except DomainError as exc:              # no background-removal weights here: say so, measure nothing
            return None, exc.msg
        except Exception as exc:  # noqa: BLE001 - a broken model must not fail an image that passed its checks
            log.exception("outline check failed")
            return None, Message("product.rembg_failed", error=type(exc).__name__)
        seen = np.asarray(mask) >= 128
        own = Image.new("L", image.size)
        own.paste(self.product.getchannel("A"), self.box[:2])
        own = np.asarray(own.crop(crop).filter(ImageFilter.MaxFilter(3))) > 0
        return round(float((seen & ~own).sum()) / opaque, 4), None

    def _worn_fidelity(self, image: Image.Image, engine) -> dict:
        alpha = np.asarray(self.layer.getchannel("A"))
        inside = alpha >= 128
        garment = np.asarray(self.layer.convert("RGB"))[inside]
        out = np.asarray(image.convert("RGB"))[inside]
        colour = round(hist_similarity(garment, out), 4) if inside.any() else None
        record = {"mode": "worn", "kind": self.kind, "checked": colour is not None, "colour": colour,
                  "box": list(self.box) if self.box else None}
        reasons = [Message("product.colour", score=colour) if colour is not None else Message("product.garment_off_canvas")]
        clip, why = self._clip(image, engine) if colour is not None else (None, Message("product.garment_off_canvas"))
        record.update(clip=clip, clipChecked=clip is not None)
        reasons.append(Message("product.clip", score=clip) if clip is not None
                       else Message("product.clip_not_checked", reason=why))
        if self.note is not None:
            reasons.append(self.note)
        record["reasons"] = [m.to_dict() for m in reasons]
        return record

    def _clip(self, image: Image.Image, engine) -> tuple[float | None, Message | None]:
        if engine is None or not hasattr(engine, "embed_images"):
            return None, Message("product.no_encoder")
        white = Image.new("RGBA", self.layer.size, (255, 255, 255, 255))
        white.alpha_composite(self.layer)
        try:
            a, b = engine.embed_images([white.convert("RGB").crop(self.box), image.convert("RGB").crop(self.box)])
        except DomainError as exc:
            return None, exc.msg
        except Exception as exc:  # noqa: BLE001 - a broken encoder must not fail an image that passed its checks
            log.exception("garment embeddings failed")
            return None, Message("product.encoder_failed", error=type(exc).__name__)
        from engine.likeness import cosine

        return round(cosine(a, b), 4), None


def hist_similarity(a: np.ndarray, b: np.ndarray, bins: int = HIST_BINS) -> float:
    """Histogram intersection of two sets of RGB pixels ((n, 3) uint8), bins per channel: 1.0 = same colours."""
    def hist(px):
        q = (px.astype(np.int64) * bins) // 256
        h = np.bincount((q[:, 0] * bins + q[:, 1]) * bins + q[:, 2], minlength=bins ** 3).astype(np.float64)
        return h / max(h.sum(), 1.0)

    return float(np.minimum(hist(a), hist(b)).sum())


# --- planning ---------------------------------------------------------------------------------------------
def plan_product(*, cutout: Image.Image | None, keypoints: Any, placement: str, product_type: str | None,
                 size: tuple[int, int], mode: str = "inpaint") -> ProductPlan:
    """How this product goes into this pose's image (module doc). `mode`: PRODUCT_MODE."""
    if placement == "worn":
        kind = GARMENT_KIND.get(product_type or "")
        if mode == "paste":
            return ProductPlan("prompt", placement, kind, note=Message("product.paste_mode_worn"))
        if kind is None:
            return ProductPlan("prompt", placement, note=Message("product.no_region", product_type=product_type or "other"))
        if cutout is None:
            return ProductPlan("prompt", placement, kind, note=Message("product.no_cutout"))
        if kind == "bag":                             # carried: at the hand, generated around
            at = layout(size=size, cutout=cutout, keypoints=keypoints, placement="hand-right",
                        product_type=product_type)
            plan = _inpaint_plan(at, size, placement)
            plan.kind = kind
            plan.note = Message("product.bag_in_hand")
            return plan
        return _worn_plan(cutout, keypoints, kind, size)
    if placement not in PASTED:
        return ProductPlan("prompt", placement, note=Message("product.not_drawn", placement=placement))
    at = layout(size=size, cutout=cutout, keypoints=keypoints, placement=placement, product_type=product_type)
    note = Message("product.spot_note", note=at.note) if at.note else None
    if mode == "paste":
        return ProductPlan("paste", placement, box=at.box, product=at.product, shadow=at.shadow, note=note)
    plan = _inpaint_plan(at, size, placement)
    plan.note = note
    return plan


def _inpaint_plan(at, size: tuple[int, int], placement: str) -> ProductPlan:
    init, mask = product_canvas(at.product, at.box, size)
    return ProductPlan("inpaint", placement, box=at.box, product=at.product, init_image=init, mask_image=mask)


def product_canvas(product: Image.Image, box: tuple[int, int, int, int], size: tuple[int, int]):
    """(init image, model mask) of the product-first render: the product on grey; white = paint, black = the
    product's opaque pixels eroded by ERODE px."""
    init = Image.new("RGB", size, GREY)
    alpha = product.getchannel("A")
    init.paste(product.convert("RGB"), box[:2], alpha)
    solid = Image.new("L", size, 0)
    solid.paste(alpha.point(lambda v: 255 if v == 255 else 0), box[:2])
    if ERODE:
        solid = solid.filter(ImageFilter.MinFilter(2 * ERODE + 1))
    return init, solid.point(lambda v: 255 - v)


# --- worn: the garment on the body ------------------------------------------------------------------------
def _mid(pts: np.ndarray, *idx: int) -> np.ndarray | None:
    ok = [pts[i] for i in idx if _has(pts, i)]
    return np.mean(ok, axis=0) if ok else None


def _across(pts: np.ndarray, unit: float, axis: np.ndarray, pairs) -> np.ndarray:
    """Unit vector from the subject's right side to its left, across the body axis (image px)."""
    for r, l in pairs:
        if _has(pts, r, l):
            v = pts[l] - pts[r]
            v = v - axis * float(v @ axis)               # across the axis only
            if np.linalg.norm(v) >= 0.2 * unit:
                return v / np.linalg.norm(v)
    return np.array([axis[1], -axis[0]])              # seen from the side: as if facing the camera


_PAIRS = ((R_SHOULDER, L_SHOULDER), (R_HIP, L_HIP), (R_EYE, L_EYE), (R_EAR, L_EAR), (R_KNEE, L_KNEE),
          (R_ANKLE, L_ANKLE))


def garment_quad(keypoints: Any, kind: str, size: tuple[int, int]) -> list[list[float]] | None:
    """The four corners (top-left, top-right, bottom-right, bottom-left of the garment cut-out) on the canvas,
    px, for GARMENT_KIND `kind`; None when the pose lacks the joints for it."""
    W, H = size
    pts = _points(keypoints, W, H)
    unit = body_unit(pts, H)
    down = np.array([0.0, 1.0])
    neck = _mid(pts, NECK) if _has(pts, NECK) else _mid(pts, R_SHOULDER, L_SHOULDER)
    hips, knees, ankles = _mid(pts, R_HIP, L_HIP), _mid(pts, R_KNEE, L_KNEE), _mid(pts, R_ANKLE, L_ANKLE)
    nose = _mid(pts, NOSE) if _has(pts, NOSE) else _mid(pts, R_EYE, L_EYE, R_EAR, L_EAR)
    pairs = _PAIRS
    if kind in ("top", "dress"):
        if neck is None:
            return None
        if kind == "top":
            bottom, hw = (hips + 0.15 * unit * down if hips is not None else neck + 1.6 * unit * down), (0.72, 0.58)
        else:
            bottom = (knees + 0.1 * unit * down if knees is not None else
                      hips + 1.3 * unit * down if hips is not None else neck + 3.0 * unit * down)
            hw = (0.72, 0.85)
        top = neck - 0.08 * unit * _axis(bottom - neck)
    elif kind == "bottom":
        if hips is None:
            return None
        top = hips - 0.15 * unit * down
        bottom = (ankles + 0.1 * unit * down if ankles is not None else
                  knees + 1.1 * unit * down if knees is not None else hips + 2.3 * unit * down)
        hw, pairs = (0.55, 0.62), ((R_HIP, L_HIP),) + _PAIRS
    elif kind == "hijab":
        if nose is None and neck is None:
            return None
        nose = nose if nose is not None else neck - 0.33 * unit * down
        neck = neck if neck is not None else nose + 0.33 * unit * down
        axis = _axis(neck - nose)
        top, bottom, hw = nose - 0.55 * unit * axis, neck + 0.35 * unit * axis, (0.4, 0.78)
        pairs = ((R_EYE, L_EYE), (R_EAR, L_EAR)) + _PAIRS
    elif kind == "shoes":
        if ankles is None:
            return None
        spread = abs(float(pts[L_ANKLE, 0] - pts[R_ANKLE, 0])) / 2 if _has(pts, R_ANKLE, L_ANKLE) else 0.0
        top, bottom = ankles - 0.15 * unit * down, ankles + 0.25 * unit * down
        half = (spread + 0.3 * unit) / unit
        hw, pairs = (half, half), ((R_ANKLE, L_ANKLE), (R_KNEE, L_KNEE), (R_HIP, L_HIP))
    else:
        return None
    axis = _axis(bottom - top)
    n = _across(pts, unit, axis, pairs)
    t, b = hw[0] * unit * n, hw[1] * unit * n
    return [[float(v) for v in p] for p in (top - t, top + t, bottom + b, bottom - b)]


def _axis(v: np.ndarray) -> np.ndarray:
    norm = float(np.linalg.norm(v))
    return v / norm if norm > 1e-6 else np.array([0.0, 1.0])


def perspective_coeffs(quad: list, width: int, height: int) -> tuple[float, ...]:
    """Pillow's PERSPECTIVE coefficients taking an output pixel of `quad` back to the (width x height) source."""
    src = [(0, 0), (width, 0), (width, height), (0, height)]
    rows, rhs = [], []
    for (x, y), (u, v) in zip(quad, src):
        rows += [[x, y, 1, 0, 0, 0, -u * x, -u * y], [0, 0, 0, x, y, 1, -v * x, -v * y]]
        rhs += [u, v]
    return tuple(float(c) for c in np.linalg.solve(np.asarray(rows, float), np.asarray(rhs, float)))


def warp_garment(cutout: Image.Image, quad: list, size: tuple[int, int]) -> Image.Image:
    """The cut-out (trimmed to its visible pixels) warped onto `quad` of a canvas of `size`: RGBA, transparent
    elsewhere (premultiplied while resampling, so no transparent colour bleeds in)."""
    cut = cutout.convert("RGBA")
    bbox = cut.getchannel("A").getbbox()
    cut = cut.crop(bbox) if bbox else cut
    coeffs = perspective_coeffs(quad, *cut.size)
    return cut.convert("RGBa").transform(size, Image.Transform.PERSPECTIVE, coeffs,
                                         Image.Resampling.BICUBIC).convert("RGBA")


def _worn_plan(cutout: Image.Image, keypoints: Any, kind: str, size: tuple[int, int]) -> ProductPlan:
    quad = garment_quad(keypoints, kind, size)
    if quad is None:
        return ProductPlan("prompt", "worn", kind, note=Message("product.no_joints", region=GARMENT_REGION[kind]))
    layer = warp_garment(cutout, quad, size)
    alpha = layer.getchannel("A")
    box = alpha.getbbox()
    if box is None:                                # the region lies outside this frame
        return ProductPlan("prompt", "worn", kind, note=Message("product.garment_off_canvas"))
    grow = max(3, round(0.01 * max(size)))
    mask = alpha.point(lambda v: 255 if v > 0 else 0).filter(ImageFilter.MaxFilter(2 * grow + 1))
    mask = mask.filter(ImageFilter.GaussianBlur(grow / 2))
    return ProductPlan("worn", "worn", kind, box=box, layer=layer, quad=quad, worn_mask=mask,
                       note=Message("product.worn_region", region=GARMENT_REGION[kind]))


def fidelity_notes(pose) -> list[Message]:
    """What a stored result's product record measured, or why not (empty: rendered before the record existed)."""
    record = getattr(pose, "product_fidelity", None) or {}
    return [m for m in (Message.from_dict(d) for d in record.get("reasons") or []) if m is not None]


def fidelity_english(pose) -> str | None:
    notes = fidelity_notes(pose)
    return "; ".join(m.english for m in notes) if notes else None
