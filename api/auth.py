"""POST /api/auth/login -> {"token"}; GET /api/auth/me; POST /api/auth/logout."""
from __future__ import annotations

from fastapi import APIRouter, Request
from pydantic import BaseModel, Field

from api.deps import Services, SessionDep, UserDep
from api.errors import responses
from api.login import token_from_request
from core import users
from core.errors import ValidationFailed

router = APIRouter(prefix="/api/auth", tags=["auth"])


class LoginIn(BaseModel):
    username: str = Field(min_length=1, max_length=64)
    password: str = Field(min_length=1, max_length=256)


class TokenOut(BaseModel):
    token: str
    token_type: str = "bearer"


class MeOut(BaseModel):
    id: int
    username: str
    role: str
    credits: int


@router.post("/login", response_model=TokenOut, responses=responses(401))
def login(body: LoginIn, session: SessionDep, services: Services):
    if services.settings.auth == "none":
        raise ValidationFailed("This server runs without accounts (AUTH=none); no token is needed.")
    user = users.authenticate(session, username=body.username, password=body.password)
    return TokenOut(token=users.issue_token(session, user=user, settings=services.settings))


@router.post("/logout", status_code=204)
def logout(request: Request, session: SessionDep, user: UserDep):
    token = token_from_request(request)
    if token:
        users.revoke_token(session, token)


@router.get("/me", response_model=MeOut)
def me(user: UserDep):
    return MeOut(id=user.id, username=user.username, role=user.role, credits=user.credits)
