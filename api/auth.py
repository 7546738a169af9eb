"""POST /api/auth/login -> {"token"}; GET /api/auth/me; POST /api/auth/logout."""
from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field

from api.deps import Services, SessionDep, UserDep
from api.errors import responses
from api.login import client_address, login_limiter, token_from_request
from core.accounts import users
from core.errors import ValidationFailed
from core.accounts.login_limits import TooManyAttempts

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


@router.post("/login", response_model=TokenOut, responses={
    **responses(401),
    429: {**responses(401)[401], "description": "Too many sign-in attempts for this account or from this address "
                                 "(LOGIN_ATTEMPTS_PER_ACCOUNT / _PER_ADDRESS per LOGIN_WINDOW_SECONDS); "
                                 "the Retry-After header says how many seconds to wait.",
          "headers": {"Retry-After": {"description": "Seconds until the next attempt is counted.",
                                      "schema": {"type": "integer"}}}}})
def login(body: LoginIn, request: Request, session: SessionDep, services: Services):
    if services.settings.auth == "none":
        raise ValidationFailed("auth.no_accounts")
    try:
        user = users.sign_in(session, username=body.username, password=body.password,
                             address=client_address(request), limiter=login_limiter(request))
    except TooManyAttempts as exc:
        return JSONResponse(exc.to_dict(), status_code=exc.status, headers=exc.headers)
    return TokenOut(token=users.issue_token(session, user=user, settings=services.settings))


@router.post("/logout", status_code=204)
def logout(request: Request, session: SessionDep, user: UserDep):
    token = token_from_request(request)
    if token:
        users.revoke_token(session, token)


@router.get("/me", response_model=MeOut)
def me(user: UserDep):
    return MeOut(id=user.id, username=user.username, role=user.role, credits=user.credits)
