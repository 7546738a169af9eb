"""The four apps of the product and their plugin configs (GET /api/apps)."""
from __future__ import annotations

from core.credits import COSTS

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


def list_apps() -> list[dict]:
    return [{**a, "version": VERSION, "credits": dict(COSTS[a["appId"]]), "access": {"roles": ["user", "admin"]}}
            for a in APPS]
