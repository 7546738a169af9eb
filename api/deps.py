"""Dependencies shared by the routers: the services, a session per request, the acting user."""
from __future__ import annotations

from collections.abc import Iterator
from typing import Annotated, Any

from fastapi import Depends, Request

from api.params import Limit, Offset  # noqa: F401 - the bounded paging types, kept importable from here

from api.login import token_from_request
from core import users
from core.errors import Forbidden


def get_services(request: Request):
    return request.app.state.services


def get_session(services=Depends(get_services)) -> Iterator[Any]:
    with services.session() as session:
        yield session


def current_user(request: Request, session=Depends(get_session), services=Depends(get_services)):
    """AUTH=none: the local admin. AUTH=password: the owner of the bearer token (or of the browser's
    session cookie, so pages can load the user's own files), or 401."""
    if services.settings.auth == "none":
        return users.local_admin(session, settings=services.settings)
    return users.user_for_token(session, token_from_request(request))


def admin_user(user=Depends(current_user)):
    if not user.is_admin:
        raise Forbidden("Only admins can do this.")
    return user


Services = Annotated[Any, Depends(get_services)]
SessionDep = Annotated[Any, Depends(get_session)]
UserDep = Annotated[Any, Depends(current_user)]
AdminDep = Annotated[Any, Depends(admin_user)]
