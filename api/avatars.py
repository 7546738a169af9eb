"""/api/apps/avatar-manager: avatars upload/list/get/update/delete, crop, stats (the seed's paths), and AI
avatars: generate candidates, choose one (core/catalog/avatar_ai.py)."""
from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, File, Form, UploadFile
from pydantic import Field

from api.deps import Services, SessionDep, UserDep
from api.errors import responses
from api.params import Id, IdempotencyKey, Limit, NoNul, Offset, Upload, id_form, id_query
from core.catalog import avatar_ai, avatars
from core.catalog.avatar_ai import CandidateSet, ChooseCandidate, GenerateAvatar
from core.catalog.avatars import (AgeRange, AvatarCreate, AvatarPublic, AvatarUpdate, CropRequest, Ethnicity, Gender, Style)
from core.schemas import CamelModel, Page

router = APIRouter(prefix="/api/apps/avatar-manager", tags=["avatar-manager"])


@router.post("/avatars", response_model=AvatarPublic, response_model_by_alias=True, status_code=201,
             responses=responses(402))
def upload_avatar(session: SessionDep, user: UserDep, services: Services,
                  file: Annotated[UploadFile, File(description="JPEG, PNG, WebP, HEIC or AVIF photo of the model"), Upload],
                  brandKitId: Annotated[int, id_form()],
                  name: Annotated[str, Form(min_length=1, max_length=100), NoNul],
                  gender: Annotated[Gender | None, Form()] = None, ageRange: Annotated[AgeRange | None, Form()] = None,
                  style: Annotated[Style | None, Form()] = None, ethnicity: Annotated[Ethnicity | None, Form()] = None,
                  idempotency_key: IdempotencyKey = None):
    data = AvatarCreate(brand_kit_id=brandKitId, name=name, gender=gender, age_range=ageRange, style=style,
                        ethnicity=ethnicity)
    avatar = avatars.upload(session, user=user, data=data, source=file.file, filename=file.filename,
                            store=services.store, settings=services.settings, request_key=idempotency_key)
    return AvatarPublic.of(avatar)


@router.post("/avatars/generate", response_model=CandidateSet, response_model_by_alias=True,
             responses=responses(402, 503))
def generate_avatar(body: GenerateAvatar, session: SessionDep, user: UserDep, services: Services):
    """Up to 4 candidate portraits from a description and traits (generateAvatarAI, once per set). Their
    images are served by /api/files; POST /avatars/generate/choose keeps one as an avatar."""
    return avatar_ai.generate(session, user=user, request=body, store=services.store, settings=services.settings)


@router.post("/avatars/generate/choose", response_model=AvatarPublic, response_model_by_alias=True,
             status_code=201)
def choose_generated_avatar(body: ChooseCandidate, session: SessionDep, user: UserDep, services: Services):
    """Keep one candidate as an avatar (sourceType ai_generated, with its prompt); the set's files go. Free."""
    avatar = avatar_ai.choose(session, user=user, request=body, store=services.store, settings=services.settings)
    return AvatarPublic.of(avatar)


class DiscardCandidates(CamelModel):
    candidate_key: str


@router.post("/avatars/generate/discard", status_code=204)
def discard_generated_avatars(body: DiscardCandidates, user: UserDep, services: Services):
    """Delete a set of candidates (any one of its keys) without keeping one. No refund: they were made."""
    avatar_ai.discard(services.store, user=user, key=body.candidate_key)


@router.get("/avatars", response_model=Page[AvatarPublic], response_model_by_alias=True)
def list_avatars(session: SessionDep, user: UserDep, limit: Limit = 50, offset: Offset = 0,
                 brandKitId: Annotated[int | None, id_query("brandKitId", "only this brand kit's")] = None,
                 gender: Gender | None = None, ageRange: AgeRange | None = None,
                 style: Style | None = None, ethnicity: Ethnicity | None = None):
    rows, total = avatars.list_avatars(session, user=user, limit=limit, offset=offset, brand_kit_id=brandKitId,
                                       gender=gender, age_range=ageRange, style=style, ethnicity=ethnicity)
    return Page(items=[AvatarPublic.of(a) for a in rows], total=total, limit=limit, offset=offset)


@router.get("/avatars/{avatar_id}", response_model=AvatarPublic, response_model_by_alias=True)
def get_avatar(avatar_id: Id, session: SessionDep, user: UserDep):
    return AvatarPublic.of(avatars.get(session, user=user, avatar_id=avatar_id))


@router.patch("/avatars/{avatar_id}", response_model=AvatarPublic, response_model_by_alias=True,
              responses=responses(402))
def update_avatar(avatar_id: Id, body: AvatarUpdate, session: SessionDep, user: UserDep):
    """Only the fields you send change (null clears the ones that may be empty); an empty body changes
    nothing and costs nothing; a change costs 2 credits."""
    return AvatarPublic.of(avatars.update(session, user=user, avatar_id=avatar_id, data=body))


@router.post("/avatars/{avatar_id}/crop", response_model=AvatarPublic, response_model_by_alias=True,
             responses=responses(402))
def crop_avatar(avatar_id: Id, body: CropRequest, session: SessionDep, user: UserDep, services: Services):
    return AvatarPublic.of(avatars.crop(session, user=user, avatar_id=avatar_id, request=body, store=services.store))


class FaceBox(CamelModel):
    box: list[Annotated[int, Field(ge=0, le=65535)]] = Field(
        min_length=4, max_length=4, description="left, top, right, bottom in photo pixels")


@router.put("/avatars/{avatar_id}/face", response_model=AvatarPublic, response_model_by_alias=True)
def set_avatar_face(avatar_id: Id, body: FaceBox, session: SessionDep, user: UserDep, services: Services):
    """Where the face is that likeness is taken from (the box is kept until the photo changes). Free."""
    return AvatarPublic.of(avatars.set_face(session, user=user, avatar_id=avatar_id, box=body.box,
                                            store=services.store))


@router.delete("/avatars/{avatar_id}", status_code=204, responses=responses(402))
def delete_avatar(avatar_id: Id, session: SessionDep, user: UserDep, services: Services):
    avatars.delete(session, user=user, avatar_id=avatar_id, store=services.store)
