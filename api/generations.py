"""/api/apps/pose-generator: "try one pose" (POST /generate/try) and a generation's status with its poses
(GET /generations/{id}). Both call core.generation, as the Generate page does."""
from __future__ import annotations

from datetime import datetime

from fastapi import APIRouter

from api.deps import Services, SessionDep, UserDep
from core import generation
from core.generation import TryOne
from core.schemas import CamelModel, file_url

router = APIRouter(prefix="/api/apps/pose-generator", tags=["pose-generator"])


class GeneratedPosePublic(CamelModel):
    id: int
    position: int
    template_id: int | None
    status: str
    seed: int
    prompt: str | None
    negative_prompt: str | None
    quality_score: float | None
    quality_checked: bool
    attempts: int
    error: str | None
    image_url: str | None
    thumbnail_url: str | None
    control_url: str | None
    render_seconds: float | None
    finished_at: datetime | None

    @classmethod
    def of(cls, p) -> "GeneratedPosePublic":
        return cls(id=p.id, position=p.position, template_id=p.template_id, status=p.status, seed=p.seed,
                   prompt=p.prompt, negative_prompt=p.negative_prompt, quality_score=p.quality_score,
                   quality_checked=p.quality_checked, attempts=p.attempts, error=p.error,
                   image_url=file_url(p.image_path), thumbnail_url=file_url(p.thumbnail_path),
                   control_url=file_url(p.control_path), render_seconds=p.render_seconds,
                   finished_at=p.finished_at)


class GenerationStarted(CamelModel):
    id: int
    status: str
    total_poses: int
    credits_reserved: int


class GenerationPublic(CamelModel):
    id: int
    status: str
    progress: float
    total_poses: int
    completed_count: int
    failed_count: int
    credits_reserved: int
    credits_used: int
    credits_refunded: int
    brand_kit_id: int | None
    avatar_id: int | None
    product_id: int | None
    options: dict | None
    error: str | None
    created_at: datetime
    started_at: datetime | None
    completed_at: datetime | None
    poses: list[GeneratedPosePublic]

    @classmethod
    def of(cls, g, poses) -> "GenerationPublic":
        return cls(id=g.id, status=g.status, progress=g.progress, total_poses=g.total_poses,
                   completed_count=g.completed_count, failed_count=g.failed_count,
                   credits_reserved=g.credits_reserved, credits_used=g.credits_used,
                   credits_refunded=g.credits_refunded, brand_kit_id=g.brand_kit_id, avatar_id=g.avatar_id,
                   product_id=g.product_id, options=g.options, error=g.error, created_at=g.created_at,
                   started_at=g.started_at, completed_at=g.completed_at,
                   poses=[GeneratedPosePublic.of(p) for p in poses])


@router.post("/generate/try", response_model=GenerationStarted, response_model_by_alias=True, status_code=202)
def try_one_pose(body: TryOne, session: SessionDep, user: UserDep, services: Services):
    """Render one pose (10 credits, refunded if it fails): poll GET /generations/{id} until status is
    completed or failed."""
    g = generation.start_single(session, user=user, request=body, settings=services.settings,
                                runner=services.runner)
    return GenerationStarted(id=g.id, status=g.status, total_poses=g.total_poses,
                             credits_reserved=g.credits_reserved)


@router.get("/generations/{generation_id}", response_model=GenerationPublic, response_model_by_alias=True)
def get_generation(generation_id: int, session: SessionDep, user: UserDep):
    g = generation.get_generation(session, user=user, generation_id=generation_id)
    return GenerationPublic.of(g, generation.poses_of(session, user=user, generation_id=generation_id))
