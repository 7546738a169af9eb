"""/api/apps/pose-generator: batches (POST /generate, status, cancel, retry), "try one pose"
(POST /generate/try), results (list, rate, download, re-render, ZIP export with a manifest) and projects
(GET /stats is api/analytics.py's). Every route calls core (core.generation.batches, core.generation, core.generation.export),
as the pages do."""
from __future__ import annotations

from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Query
from fastapi.responses import FileResponse, Response
from pydantic import Field
from starlette.background import BackgroundTask

from api.deps import Services, SessionDep, UserDep, WriteSessionDep
from api.errors import file_answer, responses
from api.params import Id, Limit, Offset, id_query, parse_ids
from core.generation import batches, export, identity, planning, product, projects, state
from core.generation.planning import BatchRequest
from core.generation.batches import BatchStatus
from core.generation.projects import ProjectCreate
from core.generation.planning import TryOne
from core.schemas import CamelModel, Page, file_url

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
    identity_score: float | None = Field(None, description="how much the face looks like the avatar's: cosine of "
                                                         "CLIP image embeddings, -1..1; null when not measured")
    identity_checked: bool = Field(False, description="whether identity_score was measured")
    identity_note: str | None = Field(None, description="what was measured, or why it was not (English)")
    product_mode: str | None = Field(None, description="how the product got into the image: inpaint (generated "
                                                     "around it), paste, worn (warped onto the body, redrawn) or "
                                                     "prompt (not drawn); null without a product")
    product_fidelity: dict | None = Field(None, description="what of the product reached the image, measured: "
                                                            "exact (share of its opaque pixels exact), expansion, "
                                                            "colour, clip, each null when not checked, with reasons")
    product_note: str | None = Field(None, description="the product record in words (English)")
    attempts: int
    rating: int | None
    round: int
    error: str | None = Field(None, description="why it failed or was cancelled, in English")
    error_code: str | None = Field(None, description="the same as a message code (see the error body's `code`)")
    error_params: dict | None = Field(None, description="the message's parameters, for a client's own wording")
    failure_kind: str | None = Field(None, description="failed poses: pose (the render missed the pose) or "
                                                      "infrastructure (a model missing, the engine broke)")
    provider: str | None = Field(None, description="who rendered it: local (this server's engine) or a hosted "
                                                 "provider: fal, replicate, hf")
    provider_job_id: str | None = Field(None, description="the provider's job (request / prediction) id")
    model_id: str | None = Field(None, description="the model that rendered it at the provider")
    provider_fallback: list[dict] | None = Field(None, description="engines that failed it first (ENGINE_FALLBACK): "
                                                                   "[{provider, error}]")
    exported: bool = Field(False, description="whether it was ever exported (a ZIP or a download)")
    export_count: int = Field(0, description="how many exports it was part of")
    used_in_posters: bool = Field(False, description="whether a poster of yours is made from it")
    poster_count: int = Field(0, description="how many of your posters are made from it")
    image_url: str | None
    output_url: str | None = Field(None, description="the seed's name for image_url (the same URL)")
    thumbnail_url: str | None
    control_url: str | None
    render_seconds: float | None
    finished_at: datetime | None

    @classmethod
    def of(cls, p) -> "GeneratedPosePublic":
        return cls(id=p.id, position=p.position, template_id=p.template_id, status=p.status, seed=p.seed,
                   prompt=p.prompt, negative_prompt=p.negative_prompt, quality_score=p.quality_score,
                   quality_checked=p.quality_checked, attempts=p.attempts,
                   identity_score=p.identity_score, identity_checked=bool((p.identity or {}).get("checked")),
                   identity_note=(note.english if (note := identity.note_of(p)) else None), rating=p.rating,
                   product_mode=p.product_mode, product_fidelity=p.product_fidelity,
                   product_note=product.fidelity_english(p),
                   round=p.round, error=p.error, error_code=p.error_code, error_params=p.error_params,
                   failure_kind=p.failure_kind, provider=p.provider, provider_job_id=p.provider_job_id,
                   model_id=p.provider_model, provider_fallback=p.provider_fallback,
                   exported=p.exported, export_count=p.export_count, used_in_posters=p.poster_count > 0,
                   poster_count=p.poster_count,
                   image_url=file_url(p.image_path), output_url=file_url(p.image_path), thumbnail_url=file_url(p.thumbnail_path),
                   control_url=file_url(p.control_path), render_seconds=p.render_seconds,
                   finished_at=p.finished_at)


class GenerationStarted(CamelModel):
    id: int
    status: str
    total_poses: int
    credits_reserved: int


class GenerationSummary(CamelModel):
    id: int
    project_id: int | None
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
    provider: str | None = Field(None, description="who renders it: local (this server) or fal, replicate, hf")
    model_id: str | None = Field(None, description="the base model that rendered it (set when rendering starts)")
    base_prompt: str | None = Field(None, description="the prompt its poses share, before each pose's own words")
    created_at: datetime
    completed_at: datetime | None

    @classmethod
    def fields_of(cls, g) -> dict:
        return {name: getattr(g, name) for name in GenerationSummary.model_fields}

    @classmethod
    def of(cls, g) -> "GenerationSummary":
        return cls(**cls.fields_of(g))


class GenerationPublic(GenerationSummary):
    options: dict | None
    error: str | None
    started_at: datetime | None
    poses: list[GeneratedPosePublic]

    @classmethod
    def of(cls, g, poses) -> "GenerationPublic":
        return cls(**cls.fields_of(g), options=g.options, error=g.error, started_at=g.started_at,
                   poses=[GeneratedPosePublic.of(p) for p in poses])


@router.post("/generate/try", response_model=GenerationStarted, response_model_by_alias=True, status_code=202,
             responses=responses(402))
def try_one_pose(body: TryOne, session: SessionDep, user: UserDep, services: Services):
    """Render one pose (10 credits, refunded if it fails): poll GET /generations/{id} until status is
    completed or failed."""
    g = planning.start_single(session, user=user, request=body, settings=services.settings,
                                runner=services.runner)
    return GenerationStarted(id=g.id, status=g.status, total_poses=g.total_poses,
                             credits_reserved=g.credits_reserved)


@router.get("/generations/{generation_id}", response_model=GenerationPublic, response_model_by_alias=True)
def get_generation(generation_id: Id, session: SessionDep, user: UserDep):
    g = state.get(session, user=user, generation_id=generation_id)
    return GenerationPublic.of(g, state.poses_of(session, user=user, generation_id=generation_id))


# --- batches ---------------------------------------------------------------------------------------------

@router.post("/generate", response_model=GenerationStarted, response_model_by_alias=True, status_code=202,
             responses=responses(402))
def start_batch(body: BatchRequest, session: SessionDep, user: UserDep, services: Services):
    """Plan a batch (poseDistribution by category, or templateIds), reserve its credits (10 per pose; 5 per
    pose from 100 poses) and queue it. Poll GET /generate/{id}; failed and cancelled poses are refunded."""
    g = planning.start_batch(session, user=user, request=body, settings=services.settings, runner=services.runner)
    return GenerationStarted(id=g.id, status=g.status, total_poses=g.total_poses, credits_reserved=g.credits_reserved)


@router.get("/generate/{generation_id}", response_model=BatchStatus, response_model_by_alias=True)
def batch_status(generation_id: Id, session: SessionDep, user: UserDep, services: Services):
    """Status, progress 0-100, done/failed/total, ETA (seconds) and credits; of done, accepted (pose check passed)
    and notChecked; of failed, infrastructureFailed (not the pose's fault) with its reason; checks: what runs
    (likeness, pose check: on, or off with the reason); and, while the batch waits for its first image,
    downloads: the models arriving for it (role, model, done and total bytes, text)."""
    return batches.status(session, user=user, generation_id=generation_id, settings=services.settings)


@router.post("/generate/{generation_id}/cancel", response_model=BatchStatus, response_model_by_alias=True,
             responses=responses(409))
def cancel_batch(generation_id: Id, session: SessionDep, user: UserDep):
    """Stop the poses that have not finished (refunded); finished images stay."""
    batches.cancel(session, user=user, generation_id=generation_id)
    return batches.status(session, user=user, generation_id=generation_id)


class Retried(CamelModel):
    retried: int
    status: BatchStatus


@router.post("/generate/{generation_id}/retry", response_model=Retried, response_model_by_alias=True,
             responses=responses(402, 409))
def retry_batch(generation_id: Id, session: SessionDep, user: UserDep, services: Services):
    """Queue only the failed poses again, with new seeds (retryFailedPose, 5 credits each). Poses that failed
    because a model is missing are left out while it is still missing (409 with the reason when none is left)."""
    n = planning.retry_failed(session, user=user, generation_id=generation_id, settings=services.settings,
                             runner=services.runner)
    return Retried(retried=n, status=batches.status(session, user=user, generation_id=generation_id))


@router.get("/generations", response_model=Page[GenerationSummary], response_model_by_alias=True)
def list_generations(session: SessionDep, user: UserDep, limit: Limit = 50, offset: Offset = 0,
                     project_id: Annotated[int | None, id_query("projectId", "only this project's")] = None):
    rows, total = batches.list_generations(session, user=user, project_id=project_id, limit=limit, offset=offset)
    return Page(items=[GenerationSummary.of(g) for g in rows], total=total, limit=limit, offset=offset)


# --- results ----------------------------------------------------------------------------------------------

class Results(CamelModel):
    status: BatchStatus
    items: list[GeneratedPosePublic]
    total: int
    limit: int
    offset: int


@router.get("/results/{generation_id}", response_model=Results, response_model_by_alias=True)
def list_results(generation_id: Id, session: SessionDep, user: UserDep,
                 show: str = Query("all", description="all | accepted | notChecked | failed | pending | cancelled"),
                 limit: int = Query(100, ge=1, le=500), offset: Offset = 0):
    rows, total = batches.results(session, user=user, generation_id=generation_id, show=show, limit=limit,
                                  offset=offset)
    return Results(status=batches.status(session, user=user, generation_id=generation_id),
                   items=[GeneratedPosePublic.of(p) for p in rows], total=total, limit=limit, offset=offset)


class Rating(CamelModel):
    rating: int | None = Field(None, description="1-5, or null to clear")


@router.post("/results/{result_id}/rate", response_model=GeneratedPosePublic, response_model_by_alias=True,
             responses=responses(409))
def rate_result(result_id: Id, body: Rating, session: SessionDep, user: UserDep):
    return GeneratedPosePublic.of(batches.rate(session, user=user, pose_id=result_id, rating=body.rating))


@router.get("/results/{result_id}/download", response_class=Response,
            responses=file_answer("The full-size image.", "image/png", "image/jpeg", "image/webp"))
def download_result(result_id: Id, session: WriteSessionDep, user: UserDep, services: Services):
    """The full-size image, named by position, template and seed."""
    path, media_type, name = export.download_one(session, user=user, pose_id=result_id, store=services.store)
    return FileResponse(path, media_type=media_type, filename=name)


class Rerender(CamelModel):
    seed: int | None = Field(None, ge=0, le=state.SEED_LIMIT)


@router.post("/results/{result_id}/rerender", response_model=GeneratedPosePublic, response_model_by_alias=True,
             status_code=202, responses=responses(402, 409))
def rerender_result(result_id: Id, session: SessionDep, user: UserDep, services: Services,
                    body: Rerender | None = None):
    """The same template and prompt with a new seed, as a new image in the same batch (10 credits)."""
    pose = planning.rerender(session, user=user, pose_id=result_id, settings=services.settings,
                            runner=services.runner, seed=body.seed if body else None)
    return GeneratedPosePublic.of(pose)


@router.get("/results/{generation_id}/export", response_class=Response,
            responses=file_answer("A ZIP of the images with manifest.json.", "application/zip"))
def export_results(generation_id: Id, session: WriteSessionDep, user: UserDep, services: Services,
                   ids: str | None = Query(None, description="comma-separated result ids; all finished when omitted")):
    """A ZIP of the images with manifest.json (template + keypoints, seed, prompts, model ids, engine settings)."""
    example = "12,13,14 (leave it out to export every finished image)"
    wanted = parse_ids(ids, field="ids", what="result ids", example=example) if ids is not None else None
    path, name = export.export_zip(session, user=user, generation_id=generation_id, store=services.store,
                                         pose_ids=wanted)
    return FileResponse(path, media_type="application/zip", filename=name,
                        background=BackgroundTask(path.unlink, missing_ok=True))


# --- projects (GET /stats is served by api/analytics.py) -----------------------------------------------------

class ProjectPublic(CamelModel):
    id: int
    name: str
    description: str | None
    brand_kit_id: int | None
    created_at: datetime
    generations: list[GenerationSummary] | None = None


def _project_out(p, generations=None) -> ProjectPublic:
    return ProjectPublic(id=p.id, name=p.name, description=p.description, brand_kit_id=p.brand_kit_id,
                         created_at=p.created_at,
                         generations=[GenerationSummary.of(g) for g in generations] if generations is not None else None)


@router.post("/projects", response_model=ProjectPublic, response_model_by_alias=True, status_code=201)
def create_project(body: ProjectCreate, session: SessionDep, user: UserDep):
    return _project_out(projects.create_project(session, user=user, data=body))


@router.get("/projects", response_model=Page[ProjectPublic], response_model_by_alias=True)
def list_projects(session: SessionDep, user: UserDep, limit: Limit = 50, offset: Offset = 0):
    rows, total = projects.list_projects(session, user=user, limit=limit, offset=offset)
    return Page(items=[_project_out(p) for p in rows], total=total, limit=limit, offset=offset)


@router.get("/projects/{project_id}", response_model=ProjectPublic, response_model_by_alias=True)
def get_project(project_id: Id, session: SessionDep, user: UserDep):
    project = projects.get_project(session, user=user, project_id=project_id)
    gens, _ = batches.list_generations(session, user=user, project_id=project.id, limit=200, offset=0)
    return _project_out(project, gens)

