"""Dependencies shared by the routers: the services, a session per request, the acting user.

Capacity (README "Performance"): a request never holds a database connection while it waits for a thread
to come free, nor while its response travels to the client. The request's session takes its connection at
its first query, which runs in the route's thread, and is closed once the response is built, before it is
sent (scope="function"); the sign-in check runs in a short read-only session of its own that is closed
before it returns; the dependencies that do no I/O are async, so they take no thread at all.
"""
from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Annotated, Any

import anyio
from fastapi import Depends, Request

from api.params import Limit, Offset  # noqa: F401 - the bounded paging types, kept importable from here

from api.login import token_from_request
from core.accounts import users
from core.errors import Forbidden

READ_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


async def get_services(request: Request):
    return request.app.state.services


async def get_session(request: Request, services=Depends(get_services)) -> AsyncIterator[Any]:
    """The request's session. GET, HEAD and OPTIONS read only (SQLite: no write lock; a write is refused);
    a GET route that records something asks for WriteSessionDep instead. Closed after the route: at once
    when it holds no connection, else (a rollback) in a thread that needs no free slot of the route threads."""
    session = services.session(write=request.method not in READ_METHODS)
    try:
        yield session
    finally:
        if services.holds_connection(session):
            await anyio.to_thread.run_sync(session.close, limiter=anyio.CapacityLimiter(1))
        else:
            session.close()


# Closed when the route's response is built, before it is sent: a slow client never holds a connection.
RequestSession = Depends(get_session, scope="function")


async def get_write_session(session=RequestSession, services=Depends(get_services)):
    """The request's session, allowed to write whatever the method (for GET routes that record an event)."""
    return services.writable(session)


def signed_in_user(services, request: Request):
    """AUTH=none: the local admin (created on the first request). AUTH=password: the owner of the bearer
    token or of the browser's session cookie, or Unauthorized. Looked up in a read-only session of its
    own, closed before this returns (the user comes back detached)."""
    settings = services.settings
    if settings.auth != "password":
        return services.local_admin()
    with services.session(write=False) as session:
        return users.user_for_token(session, token_from_request(request))


def current_user(request: Request, session=RequestSession, services=Depends(get_services)):
    """The acting user, attached to the request's session without a query (so the route sees one user
    object, which credit charges keep up to date)."""
    return session.merge(signed_in_user(services, request), load=False)


async def admin_user(user=Depends(current_user)):
    if not user.is_admin:
        raise Forbidden("auth.admins_only")
    return user


Services = Annotated[Any, Depends(get_services)]
SessionDep = Annotated[Any, RequestSession]
WriteSessionDep = Annotated[Any, Depends(get_write_session)]
UserDep = Annotated[Any, Depends(current_user)]
AdminDep = Annotated[Any, Depends(admin_user)]
