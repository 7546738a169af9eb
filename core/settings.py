"""The ONLY module that reads the environment. One frozen Settings object, read once at start-up.

Defaults make `python app.py` work on a laptop with nothing else installed: a SQLite file and a
local storage directory under ./data, no Redis (in-process runner), no login (AUTH=none).
Tests build Settings(...) directly with the values they need.
"""
from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Literal

from pydantic import AliasChoices, Field, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

ROOT = Path(__file__).resolve().parent.parent
ASSETS_DIR = ROOT / "assets"


class Settings(BaseSettings):
    model_config = SettingsConfigDict(frozen=True, extra="ignore", case_sensitive=False)

    # --- serving ---------------------------------------------------------------------------
    host: str = Field(
        "127.0.0.1", validation_alias=AliasChoices("host", "gradio_server_name"),
        description="Address the web server binds to (the Docker image uses 0.0.0.0; a Gradio Space sets "
                    "GRADIO_SERVER_NAME, which is read too).")
    port: int = Field(7860, ge=1, le=65535, validation_alias=AliasChoices("port", "gradio_server_port"),
                      description="Port of the web server (GRADIO_SERVER_PORT is read too).")

    # --- data ------------------------------------------------------------------------------
    database_url: str = Field(
        f"sqlite:///{ROOT / 'data' / 'app.db'}",
        description="SQLAlchemy URL. SQLite file by default; postgresql+psycopg://user@host/db for Postgres.",
    )
    redis_url: str | None = Field(None, description="Redis URL. Unset: work runs in the app process; set: rq workers.")
    storage_dir: Path = Field(ROOT / "data" / "files", description="Directory for uploaded and generated files.")

    # --- users -----------------------------------------------------------------------------
    auth: Literal["none", "password"] = Field(
        "none", description="`none`: one local admin, no login. `password`: real accounts with login."
    )
    local_admin_username: str = Field("admin", description="Name of the single user when AUTH=none.")
    token_ttl_hours: int = Field(24 * 30, ge=1, description="Lifetime of REST API tokens.")
    starting_credits: int = Field(1000, ge=0, description="Credits a new account starts with.")

    # --- upload limits ---------------------------------------------------------------------
    max_avatar_size_mb: float = Field(10, gt=0, description="Largest avatar upload.")
    max_product_size_mb: float = Field(20, gt=0, description="Largest product photo upload.")
    max_logo_size_mb: float = Field(5, gt=0, description="Largest brand-kit logo upload.")
    max_pose_file_size_mb: float = Field(10, gt=0, description="Largest pose file to import (skeleton image, photo or JSON).")
    max_image_side: int = Field(8000, ge=64, description="Longest side (px) an uploaded image may have.")
    max_image_pixels: int = Field(50_000_000, ge=4096, description="Most pixels an uploaded image may decode to.")

    # --- background removal (products) -------------------------------------------------------
    rembg_model: str = Field(
        "isnet-general-use",
        description="rembg model for product cut-outs: a rembg name (isnet-general-use, u2net, u2netp, "
                    "birefnet-general, ...) or custom:<file>.onnx for your own U2Net-shaped net in REMBG_HOME.",
    )
    rembg_home: Path | None = Field(
        None, description="Folder holding rembg's .onnx weights (<name>.onnx or models/<name>/<name>.onnx). "
                          "Unset: rembg's own folders (~/.u2net, ~/.rembg/models). Never downloaded at run time."
    )

    # --- pose library ------------------------------------------------------------------------
    pose_flag_below: float = Field(
        0.5, ge=0, le=1, description="Templates whose success rate falls below this are flagged and picked less."
    )
    pose_flag_min_uses: int = Field(10, ge=1, description="Uses a template needs before its success rate can flag it.")

    # --- generation ------------------------------------------------------------------------
    max_poses_per_generation: int = Field(500, ge=1, description="Largest batch one generation may ask for.")

    @field_validator("redis_url", mode="before")
    @classmethod
    def _empty_is_none(cls, v):
        return v or None

    @property
    def is_sqlite(self) -> bool:
        return self.database_url.startswith("sqlite")

    def limit_bytes(self, kind: str) -> int:
        """Upload limit in bytes for an image kind: avatar, product, logo, pose."""
        mb = {"avatar": self.max_avatar_size_mb, "product": self.max_product_size_mb, "logo": self.max_logo_size_mb,
              "pose": self.max_pose_file_size_mb}[kind]
        return int(mb * 1024 * 1024)


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """Settings from the process environment, read once."""
    return Settings()
