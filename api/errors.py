"""Every error leaves as JSON {"detail", "code", "field"?}: domain errors with their status, request
validation as 422 naming the field, anything unexpected as a 500 without a stack trace."""
from __future__ import annotations

import logging

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import ValidationError
from pydantic.alias_generators import to_camel
from starlette.exceptions import HTTPException as StarletteHTTPException

from core.errors import DomainError

log = logging.getLogger(__name__)


def _field(loc) -> str | None:
    parts = [str(p) for p in loc if p not in ("body", "query", "path", "form", "header")]
    return ".".join(parts) or None


def _clean(msg: str) -> str:
    return msg.removeprefix("Value error, ")


def install_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(DomainError)
    async def domain_error(_request: Request, exc: DomainError):
        headers = {"WWW-Authenticate": "Bearer"} if exc.status == 401 else None
        return JSONResponse(exc.to_dict(), status_code=exc.status, headers=headers)

    @app.exception_handler(RequestValidationError)
    async def validation_error(_request: Request, exc: RequestValidationError):
        errors = [{"field": _field(e.get("loc", ())), "message": _clean(e.get("msg", ""))} for e in exc.errors()]
        first = errors[0] if errors else {"field": None, "message": "invalid request"}
        detail = f"{first['field']}: {first['message']}" if first["field"] else first["message"]
        return JSONResponse({"detail": detail, "code": "validation_error", "field": first["field"],
                             "errors": errors}, status_code=422)

    @app.exception_handler(ValidationError)
    async def model_validation_error(request: Request, exc: ValidationError):
        """A request model built inside a route from form fields (multipart uploads): 422 like the rest,
        naming the field as the client spells it (camelCase)."""
        return await validation_error(request, RequestValidationError(
            [{**e, "loc": tuple(to_camel(p) if isinstance(p, str) else p for p in e.get("loc", ()))}
             for e in exc.errors()]))

    @app.exception_handler(StarletteHTTPException)
    async def http_error(_request: Request, exc: StarletteHTTPException):
        return JSONResponse({"detail": exc.detail, "code": "http_error"}, status_code=exc.status_code,
                            headers=getattr(exc, "headers", None))

    @app.exception_handler(Exception)
    async def unexpected(request: Request, exc: Exception):
        log.exception("unhandled error on %s %s", request.method, request.url.path)
        return JSONResponse({"detail": "Something went wrong on our side; please try again.",
                             "code": "internal_error"}, status_code=500)
