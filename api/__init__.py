"""The REST surface: FastAPI routers under /api, calling the same core functions as the UI.

api/ imports core and the jobs facade only (never db, sqlmodel, torch, diffusers, rq).
"""
from __future__ import annotations

from fastapi import FastAPI
from fastapi.staticfiles import StaticFiles

from api import (analytics, apps, auth, avatars, brand_kits, credits, files, generations, login, posters, poses,
                 products, system)
from api.errors import document_errors, install_error_handlers
from api.security import install_security
from core.apps import VERSION
from core.catalog.fonts import FONTS_DIR

FONTS_URL = "/assets/fonts"


def create_api(services) -> FastAPI:
    app = FastAPI(
        title="Avatar & Pose Generator",
        version=VERSION,
        description="On-model product photos without a photoshoot: brand kits, avatars, products, pose templates "
                    "and batch generation. Authenticate with POST /api/auth/login, then "
                    "`Authorization: Bearer <token>` (not needed when the server runs with AUTH=none).",
    )
    app.state.services = services
    install_error_handlers(app)
    # The shipped fonts are public, open-licensed files: the UI shows brand kits in their real fonts.
    app.mount(FONTS_URL, StaticFiles(directory=FONTS_DIR), name="fonts")
    login.install_login_redirect(app, services)
    # /api/apps/<app>/stats of every app live in api/analytics (the app's own numbers + the dashboard's)
    for module in (login, auth, apps, analytics, credits, files, brand_kits, avatars, products, poses, generations,
                   posters, system):
        app.include_router(module.router)
    # After the login redirect, so these wrap it (and the Gradio app mounted on this one) too.
    install_security(app, services.settings)
    document_errors(app)
    return app
