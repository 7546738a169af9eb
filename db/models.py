"""SQLModel tables for every record of the product.

Attributes are snake_case; the REST layer speaks the seed's camelCase names (brandName, isDefault...).
Ownership: every user-owned table has user_id -> users.id ON DELETE CASCADE. Child rows cascade in the
database (SQLite runs with PRAGMA foreign_keys=ON), files are removed by core after commit.
Enumerated values are plain strings checked in core (no database enum types to migrate).
"""
from __future__ import annotations

from datetime import datetime, timezone

import sqlalchemy as sa
from sqlmodel import Field, SQLModel

from db.types import ShapedJSON


def utcnow() -> datetime:
    """Aware UTC; sqlmodel stores it as UTC on both databases and reads it back aware."""
    return datetime.now(timezone.utc)


def _owner() -> int:
    return Field(sa_column=sa.Column(sa.Integer, sa.ForeignKey("users.id", ondelete="CASCADE"), nullable=False, index=True))


def _fk(target: str, ondelete: str, nullable: bool = True, index: bool = True):
    return Field(
        default=None,
        sa_column=sa.Column(sa.Integer, sa.ForeignKey(target, ondelete=ondelete), nullable=nullable, index=index),
    )


def _json(shape: str, nullable: bool = False):
    return Field(default=None, sa_column=sa.Column(ShapedJSON(shape), nullable=nullable))


def _text(nullable: bool = True):
    return Field(default=None, sa_column=sa.Column(sa.Text, nullable=nullable))


class User(SQLModel, table=True):
    __tablename__ = "users"
    __table_args__ = (sa.CheckConstraint("credits >= 0", name="ck_users_credits_nonnegative"),)

    id: int | None = Field(default=None, primary_key=True)
    username: str = Field(max_length=64, unique=True, index=True)
    password_hash: str | None = Field(default=None, max_length=255)
    role: str = Field(default="user", max_length=16)
    is_active: bool = Field(default=True)
    credits: int = Field(default=0)
    created_at: datetime = Field(default_factory=utcnow)

    @property
    def is_admin(self) -> bool:
        return self.role == "admin"


class ApiToken(SQLModel, table=True):
    __tablename__ = "api_tokens"

    id: int | None = Field(default=None, primary_key=True)
    user_id: int = _owner()
    token_hash: str = Field(max_length=64, unique=True, index=True)
    name: str = Field(default="login", max_length=100)
    created_at: datetime = Field(default_factory=utcnow)
    expires_at: datetime
    last_used_at: datetime | None = None


class CreditLedger(SQLModel, table=True):
    """One row per change of a user's balance. users.credits is the running balance."""

    __tablename__ = "credit_ledger"
    __table_args__ = (sa.Index("ix_credit_ledger_user_created", "user_id", "created_at"),)

    id: int | None = Field(default=None, primary_key=True)
    user_id: int = _owner()
    delta: int
    balance_after: int
    action: str = Field(max_length=64)
    app_id: str = Field(max_length=64)
    ref_type: str | None = Field(default=None, max_length=64)
    ref_id: int | None = None
    note: str | None = Field(default=None, max_length=255)
    # Set by work that may run twice (a retried job): the second charge or refund is a no-op.
    idempotency_key: str | None = Field(default=None, max_length=128, unique=True)
    created_at: datetime = Field(default_factory=utcnow)


class BrandKit(SQLModel, table=True):
    __tablename__ = "brand_kits"
    __table_args__ = (
        # Exactly one default per user: at most one row with is_default, enforced by the database.
        sa.Index(
            "uq_brand_kits_one_default", "user_id", unique=True,
            sqlite_where=sa.text("is_default"), postgresql_where=sa.text("is_default"),
        ),
    )

    id: int | None = Field(default=None, primary_key=True)
    user_id: int = _owner()
    brand_name: str = Field(max_length=100)
    category: str | None = Field(default=None, max_length=64)
    colors: list[str] = _json("colors")
    fonts: list[str] = _json("strings")
    logo_path: str | None = Field(default=None, max_length=255)
    tone: str = Field(default="friendly", max_length=32)
    tagline: str | None = Field(default=None, max_length=140)
    is_default: bool = Field(default=False)
    usage_count: int = Field(default=0)
    created_at: datetime = Field(default_factory=utcnow)
    updated_at: datetime = Field(default_factory=utcnow)


class Avatar(SQLModel, table=True):
    __tablename__ = "avatars"

    id: int | None = Field(default=None, primary_key=True)
    user_id: int = _owner()
    brand_kit_id: int = _fk("brand_kits.id", "CASCADE", nullable=False)
    name: str = Field(max_length=100)
    source_type: str = Field(default="upload", max_length=16)
    generation_prompt: str | None = _text()
    image_path: str = Field(max_length=255)
    thumbnail_path: str = Field(max_length=255)
    width: int
    height: int
    gender: str | None = Field(default=None, max_length=16)
    age_range: str | None = Field(default=None, max_length=16)
    style: str | None = Field(default=None, max_length=32)
    ethnicity: str | None = Field(default=None, max_length=32)
    usage_count: int = Field(default=0)
    # the face likeness is taken from (core.catalog.faces): its box in the photo, its crop, where the box came from
    face_path: str | None = Field(default=None, max_length=255)
    face_box: list[int] | None = _json("box", nullable=True)
    face_source: str | None = Field(default=None, max_length=16)
    created_at: datetime = Field(default_factory=utcnow)
    updated_at: datetime = Field(default_factory=utcnow)


class Product(SQLModel, table=True):
    __tablename__ = "products"

    id: int | None = Field(default=None, primary_key=True)
    user_id: int = _owner()
    brand_kit_id: int | None = _fk("brand_kits.id", "CASCADE")
    name: str = Field(max_length=100)
    category: str | None = Field(default=None, max_length=64)
    subcategory: str | None = Field(default=None, max_length=64)
    product_type: str | None = Field(default=None, max_length=32)
    placement: str = Field(default="hand-right", max_length=16)
    original_path: str = Field(max_length=255)
    cutout_path: str | None = Field(default=None, max_length=255)
    thumbnail_path: str = Field(max_length=255)
    width: int
    height: int
    dominant_color: str | None = Field(default=None, max_length=7)
    bg_status: str = Field(default="pending", max_length=16, index=True)
    bg_error: str | None = _text()
    bg_model: str | None = Field(default=None, max_length=64)
    mask_coverage: float | None = None
    usage_count: int = Field(default=0)
    created_at: datetime = Field(default_factory=utcnow)
    updated_at: datetime = Field(default_factory=utcnow)


class PoseTemplate(SQLModel, table=True):
    """A library pose. Shipped templates have a stable `key` and no creator; they are shared by design."""

    __tablename__ = "pose_templates"
    __table_args__ = (sa.Index("ix_pose_templates_category_active", "category", "is_active"),)

    id: int | None = Field(default=None, primary_key=True)
    key: str = Field(max_length=128, unique=True, index=True)
    name: str = Field(max_length=200)
    category: str = Field(max_length=64)
    subcategory: str | None = Field(default=None, max_length=64)
    keypoints: list = _json("keypoints")
    aspect: str = Field(default="2:3", max_length=8)
    preview_path: str | None = Field(default=None, max_length=255)
    difficulty: str = Field(default="medium", max_length=16)
    tags: list[str] = _json("strings")
    gender: str = Field(default="unisex", max_length=16)
    product_placement: str | None = Field(default=None, max_length=16)
    description: str | None = _text()
    source: str = Field(default="library", max_length=16)
    is_active: bool = Field(default=True)
    usage_count: int = Field(default=0)
    success_count: int = Field(default=0)
    success_rate: float | None = None
    quality_count: int = Field(default=0)
    avg_quality_score: float | None = None
    created_by_id: int | None = _fk("users.id", "SET NULL")
    created_at: datetime = Field(default_factory=utcnow)
    updated_at: datetime = Field(default_factory=utcnow)


class PoseGenerationProject(SQLModel, table=True):
    __tablename__ = "pose_generation_projects"

    id: int | None = Field(default=None, primary_key=True)
    user_id: int = _owner()
    brand_kit_id: int | None = _fk("brand_kits.id", "SET NULL")
    name: str = Field(max_length=100)
    description: str | None = _text()
    created_at: datetime = Field(default_factory=utcnow)
    updated_at: datetime = Field(default_factory=utcnow)


class PoseGeneration(SQLModel, table=True):
    """One batch. Its poses are GeneratedPose rows; the database is the source of truth for progress."""

    __tablename__ = "pose_generations"
    __table_args__ = (sa.Index("ix_pose_generations_user_status", "user_id", "status"),
                      sa.Index("ix_pose_generations_user_created", "user_id", "created_at"))

    id: int | None = Field(default=None, primary_key=True)
    user_id: int = _owner()
    project_id: int | None = _fk("pose_generation_projects.id", "CASCADE")
    brand_kit_id: int | None = _fk("brand_kits.id", "SET NULL")
    avatar_id: int | None = _fk("avatars.id", "SET NULL")
    product_id: int | None = _fk("products.id", "SET NULL")
    total_poses: int
    pose_distribution: dict[str, int] | None = _json("counts", nullable=True)
    status: str = Field(default="pending", max_length=16)
    progress: float = Field(default=0.0)
    completed_count: int = Field(default=0)
    failed_count: int = Field(default=0)
    credits_reserved: int = Field(default=0)
    credits_used: int = Field(default=0)
    credits_refunded: int = Field(default=0)
    options: dict | None = _json("object", nullable=True)
    # the seed's provider / modelId / basePrompt: who renders the batch ("local" or a hosted provider), the base
    # model there, and the prompt its poses share before each pose's own words (set when rendering starts)
    provider: str | None = Field(default=None, max_length=16)
    model_id: str | None = Field(default=None, max_length=255)
    base_prompt: str | None = _text()
    error: str | None = _text()
    started_at: datetime | None = None
    completed_at: datetime | None = None
    created_at: datetime = Field(default_factory=utcnow)
    updated_at: datetime = Field(default_factory=utcnow)


class GeneratedPose(SQLModel, table=True):
    __tablename__ = "generated_poses"
    __table_args__ = (
        sa.UniqueConstraint("generation_id", "position", name="uq_generated_poses_generation_position"),
        sa.Index("ix_generated_poses_generation_status", "generation_id", "status"),
        sa.Index("ix_generated_poses_user_created", "user_id", "created_at"),
        sa.Index("ix_generated_poses_template_status", "template_id", "status"),   # the seed's [templateId, success]
    )

    id: int | None = Field(default=None, primary_key=True)
    user_id: int = _owner()
    generation_id: int = _fk("pose_generations.id", "CASCADE", nullable=False, index=False)
    template_id: int | None = _fk("pose_templates.id", "SET NULL")
    position: int
    status: str = Field(default="pending", max_length=16)
    seed: int = Field(sa_column=sa.Column(sa.BigInteger, nullable=False))
    prompt: str | None = _text()
    negative_prompt: str | None = _text()
    image_path: str | None = Field(default=None, max_length=255)
    thumbnail_path: str | None = Field(default=None, max_length=255)
    control_path: str | None = Field(default=None, max_length=255)
    quality_score: float | None = None
    quality_checked: bool = Field(default=False)
    # the face against the avatar's (core.generation.identity): cosine -1..1, None when not measured; `identity`
    # holds {"score", "checked", "box", "reason": {"code", "params"}}
    identity_score: float | None = None
    identity: dict | None = _json("object", nullable=True)
    attempts: int = Field(default=0)
    rating: int | None = None
    error: str | None = _text()   # English (REST `error`, logs); the same as a message code and its parameters:
    error_code: str | None = Field(default=None, max_length=64)
    error_params: dict | None = _json("object", nullable=True)
    render_seconds: float | None = None
    worker_id: str | None = Field(default=None, max_length=128)
    # pending: when it was handed to the queue; running: the claiming worker's last sign of life.
    heartbeat_at: datetime | None = None
    created_at: datetime = Field(default_factory=utcnow)
    finished_at: datetime | None = None
    # Retry round (0 = the first render): part of every ledger key for this pose, so a retried pose is
    # charged and refunded once per round.
    round: int = Field(default=0, sa_column=sa.Column(sa.Integer, nullable=False, server_default="0"))
    # Credits held for this pose's current round (refunded if it fails or is cancelled).
    cost: int = Field(default=0, sa_column=sa.Column(sa.Integer, nullable=False, server_default="0"))
    # The queue job that should render it; the reaper hands out poses whose job is gone.
    job_id: str | None = Field(default=None, max_length=64)
    pipeline_seconds: float | None = None  # the engine's share of render_seconds (benchmarks)
    product_box: list[int] | None = _json("box", nullable=True)  # where the product was pasted (posters keep it)
    # How the product got into the image (core.generation.product): "inpaint" (generated around it), "paste",
    # "worn" (warped onto the body, redrawn) or "prompt" (not drawn); and what of it reached the image, measured.
    product_mode: str | None = Field(default=None, max_length=16)
    product_fidelity: dict | None = _json("object", nullable=True)
    # Why a failed pose failed: "pose" (the render did not show the pose: held against its template) or
    # "infrastructure" (a model is missing or the engine broke: not the pose's fault, not counted as a failure).
    failure_kind: str | None = Field(default=None, max_length=16)
    # Who rendered it (engine.providers): "local" or a hosted provider (fal, replicate, hf), the model id there and
    # the provider's job id (the seed's provider / providerJobId); the engines of ENGINE_FALLBACK that failed it
    # first: [{"provider", "error"}].
    provider: str | None = Field(default=None, max_length=16)
    provider_model: str | None = Field(default=None, max_length=255)
    provider_job_id: str | None = Field(default=None, max_length=128)
    provider_fallback: list | None = _json("objects", nullable=True)
    # the seed's exported / exportCount / usedInPosters: how often it left the app (a ZIP or a download; analytics
    # counts the same in design_exports) and how many posters were made from it
    exported: bool = Field(default=False, sa_column=sa.Column(sa.Boolean, nullable=False, server_default=sa.false()))
    export_count: int = Field(default=0, sa_column=sa.Column(sa.Integer, nullable=False, server_default="0"))
    poster_count: int = Field(default=0, sa_column=sa.Column(sa.Integer, nullable=False, server_default="0"))


class Poster(SQLModel, table=True):
    """One rendered poster: a generated image laid out with the brand kit in one format and layout."""

    __tablename__ = "posters"
    __table_args__ = (sa.Index("ix_posters_user_created", "user_id", "created_at"),)

    id: int | None = Field(default=None, primary_key=True)
    user_id: int = _owner()
    brand_kit_id: int | None = _fk("brand_kits.id", "SET NULL")
    generated_pose_id: int | None = _fk("generated_poses.id", "SET NULL")
    format: str = Field(max_length=32)
    layout: str = Field(max_length=32)
    width: int
    height: int
    image_path: str = Field(max_length=255)
    thumbnail_path: str = Field(max_length=255)
    text: dict | None = _json("object", nullable=True)
    render_seconds: float | None = None
    created_at: datetime = Field(default_factory=utcnow)


class DesignExport(SQLModel, table=True):
    """One export a user made (a ZIP of results or posters, one downloaded image): the record that the
    analytics running totals of timesExported / formatBreakdown are rebuilt from."""

    __tablename__ = "design_exports"
    __table_args__ = (sa.Index("ix_design_exports_user_created", "user_id", "created_at"),)

    id: int | None = Field(default=None, primary_key=True)
    user_id: int = _owner()
    brand_kit_id: int | None = _fk("brand_kits.id", "SET NULL")
    design_type: str = Field(max_length=16)
    format: str = Field(max_length=32)
    item_count: int = Field(default=1)
    created_at: datetime = Field(default_factory=utcnow)


class DesignMetrics(SQLModel, table=True):
    """Running totals per user, brand kit, design type (avatar, pose, poster) and month (YYYY-MM)."""

    __tablename__ = "design_metrics"
    __table_args__ = (
        sa.UniqueConstraint("user_id", "brand_kit_id", "design_type", "period", name="uq_design_metrics_key"),
    )

    id: int | None = Field(default=None, primary_key=True)
    user_id: int = _owner()
    brand_kit_id: int | None = _fk("brand_kits.id", "CASCADE")
    design_type: str = Field(max_length=16)
    period: str = Field(max_length=7)
    times_created: int = Field(default=0)
    times_exported: int = Field(default=0)
    format_breakdown: dict[str, int] = _json("counts")
    avg_creation_time: float = Field(default=0.0)
    total_time_saved: float = Field(default=0.0)
    estimated_savings: int = Field(default=0)
    updated_at: datetime = Field(default_factory=utcnow)


# SQLite would hand a deleted row's id to the next row; ids appear in file keys, idempotency keys and
# URLs, so they are never reused (AUTOINCREMENT), as on Postgres.
for _table in SQLModel.metadata.tables.values():
    _table.dialect_options["sqlite"]["autoincrement"] = True
