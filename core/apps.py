"""The four apps of the product: their plugin configs (GET /api/apps) and their stats (GET /api/apps/<id>/stats,
each app's own numbers plus what the analytics dashboard shows for it). The one module that looks across apps;
nothing in core imports it.
"""
from __future__ import annotations

import sqlalchemy as sa
from sqlmodel import Session, select

from core.accounts.credits import COSTS
from core.analytics import report as analytics
from core.catalog import avatars, brand_kits, products
from core.errors import NotFound
from core.generation import batches
from core.settings import Settings, get_settings
from db.models import GeneratedPose, PoseGeneration, Product, User

VERSION = "0.1.0"

APPS: list[dict] = [
    {
        "appId": "brand-kit", "name": "Brand Kit Manager", "icon": "palette",
        "description": "Keep your shop's name, colours, fonts, logo, tone and tagline in one place; "
                       "posters and prompts use them automatically.",
        "routePrefix": "/api/apps/brand-kit", "uiPath": "/",
        "features": ["colour palettes", "shipped open-licence fonts", "logo upload", "default kit", "stats"],
        "dashboard": {"statsEndpoint": "/api/apps/brand-kit/stats", "widgets": ["totalKits", "byCategory", "mostUsed"]},
    },
    {
        "appId": "avatar-manager", "name": "Avatar Manager", "icon": "user",
        "description": "Upload or generate the models who wear and hold your products, with their traits.",
        "routePrefix": "/api/apps/avatar-manager", "uiPath": "/avatars",
        "features": ["safe upload", "traits", "crop and rotate", "AI-generated avatars"],
        "dashboard": {"statsEndpoint": "/api/apps/avatar-manager/stats", "widgets": ["totalAvatars", "byTrait"]},
    },
    {
        "appId": "product-manager", "name": "Product Manager", "icon": "package",
        "description": "Upload product photos; the background is removed automatically, one or fifty at a time.",
        "routePrefix": "/api/apps/product-manager", "uiPath": "/products",
        "features": ["bulk upload", "automatic background removal", "dominant colour", "placement"],
        "dashboard": {"statsEndpoint": "/api/apps/product-manager/stats", "widgets": ["totalProducts", "byStatus"]},
    },
    {
        "appId": "pose-generator", "name": "Pose Generator", "icon": "camera",
        "description": "Render hundreds of on-model product photos in poses from a curated library, "
                       "checked automatically, then turn the best into posters.",
        "routePrefix": "/api/apps/pose-generator", "uiPath": "/generate",
        "features": ["600+ pose templates", "batch generation", "automatic pose check", "retry failed",
                     "ZIP export", "brand-kit posters"],
        "dashboard": {"statsEndpoint": "/api/apps/pose-generator/stats",
                      "widgets": ["totalGenerated", "successRate", "byCategory"]},
    },
]

APP_IDS = tuple(a["appId"] for a in APPS)


def list_apps() -> list[dict]:
    return [{**a, "version": VERSION, "credits": dict(COSTS[a["appId"]]), "access": {"roles": ["user", "admin"]}}
            for a in APPS]


def app_stats(session: Session, *, user: User, app_id: str, settings: Settings | None = None) -> dict:
    """What GET /api/apps/<app_id>/stats answers: the app's own stats plus, under "analytics", the numbers the
    dashboard shows for it (all time)."""
    if app_id not in APP_IDS:
        raise NotFound("apps.not_found", app_id=app_id, apps=list(APP_IDS))
    settings = settings or get_settings()
    report = analytics.dashboard(session, user=user, settings=settings)
    h = report["headline"]
    if app_id == "brand-kit":
        kits, _ = brand_kits.list_kits(session, user=user, limit=200)
        by_kit = []
        for k in kits:
            kh = analytics.dashboard(session, user=user, brand_kit_id=k.id, settings=settings)["headline"]
            by_kit.append({"brandKitId": k.id, "brandName": k.brand_name,
                           **{n: kh[n] for n in ("imagesCreated", "avatarsCreated", "postersCreated", "exported",
                                                 "hoursSaved", "savingsIdr")}})
        return {**brand_kits.stats(session, user=user), "analytics": {"byKit": by_kit}}
    if app_id == "avatar-manager":
        return {**avatars.stats(session, user=user),
                "analytics": {**report["totals"]["avatar"],
                              "usage": [u for u in report["usage"] if u["designType"] == "avatar"]}}
    if app_id == "product-manager":
        G, P = GeneratedPose, PoseGeneration
        top = session.execute(
            select(Product.id, Product.name, sa.func.count(G.id)).join(P, P.product_id == Product.id)
            .join(G, G.generation_id == P.id)
            .where(Product.user_id == user.id, G.user_id == user.id, G.status == "done")
            .group_by(Product.id, Product.name).order_by(sa.func.count(G.id).desc(), Product.id).limit(10)).all()
        return {**products.stats(session, user=user),
                "analytics": {"imagesCreated": h["imagesCreated"], "savingsIdr": h["savingsIdr"],
                              "byProduct": [{"id": i, "name": n, "images": c} for i, n, c in top]}}
    return {**batches.stats(session, user=user),
            "analytics": {**report["totals"]["pose"], "successByCategory": report["successByCategory"],
                          **{n: h[n] for n in ("acceptedImages", "failedImages", "successRate", "gpuSeconds",
                                               "gpuCostIdr", "costPerAcceptedImageIdr")}}}
