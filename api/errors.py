"""Every error leaves as JSON {"detail", "code", "kind", "params", "field"?, "errors"?} (ErrorOut): domain errors with their
status, request validation as 422 naming the field, anything unexpected as a 500 without a stack trace
(api/security.py's ErrorBoundary). The OpenAPI schema says so: every operation documents ErrorOut for the
errors it can answer (422 instead of FastAPI's HTTPValidationError, which we never send)."""
from __future__ import annotations

import logging

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from fastapi.routing import APIRoute
from pydantic import BaseModel, Field, ValidationError
from pydantic.alias_generators import to_camel
from starlette.exceptions import HTTPException as StarletteHTTPException

from core.errors import DomainError

log = logging.getLogger(__name__)


class FieldError(BaseModel):
    field: str | None = Field(None, description="The field, as the client spells it (`templateIds.0`).")
    message: str


class ErrorOut(BaseModel):
    """The body of every error answer."""

    detail: str = Field(description="What went wrong, for a person: names the field and the limit.")
    code: str = Field(description="The exact message, stable and machine-readable: `records.not_found`, "
                                  "`intake.too_large`, ... (a client translates by it, with `params`).")
    kind: str = Field(description="The family of the error: validation_error, not_found, unauthorized, "
                                  "image_rejected, ...")
    params: dict = Field(default_factory=dict, description="The values the message names (limits, ids, counts).")
    field: str | None = Field(None, description="The field at fault, when there is one.")
    errors: list[FieldError] | None = Field(None, description="Validation errors: every field at fault.")


DESCRIPTIONS = {
    400: "The upload is empty or not readable.",
    401: "Not signed in: no, an expired or a revoked token.",
    402: "Not enough credits for this action.",
    403: "Not allowed: admins only, or a cookie-signed change sent from another site.",
    404: "No such record among yours.",
    409: "Conflicts with the current state (a name in use, a batch already finished, ...).",
    413: "The request body or an uploaded file is larger than the limit named in `detail`.",
    415: "The upload is not an image type we accept.",
    422: "A parameter or field is invalid; `field` and `errors` name it.",
    429: "Too many attempts; wait as long as Retry-After says.",
    503: "A model or service this action needs is not available on this server.",
}
_REF = {"$ref": "#/components/schemas/ErrorOut"}


def responses(*codes: int) -> dict:
    """`responses=` for a route decorator: the ErrorOut answers it gives besides the automatic ones
    (document_errors adds 401/403/404/413/415/422 from the route's shape)."""
    return {code: {"model": ErrorOut, "description": DESCRIPTIONS[code]} for code in codes}


def file_answer(description: str, *media_types: str, json_schema: dict | None = None) -> dict:
    """`responses=` for a route that answers a file (use with response_class=Response): its media types,
    bytes, except JSON (json_schema, else any JSON)."""
    def schema(media_type: str) -> dict:
        if media_type == "application/json":
            return {"schema": json_schema or {}}
        return {"schema": {"type": "string", "format": "binary"}}
    return {200: {"description": description, "content": {t: schema(t) for t in media_types}}}


def _field(loc) -> str | None:
    parts = [str(p) for p in loc if p not in ("body", "query", "path", "form", "header", "cookie")]
    return ".".join(parts) or None


def _clean(msg: str) -> str:
    return msg.removeprefix("Value error, ")


def validation_body(errors: list[dict]) -> dict:
    """ErrorOut for a list of {"field", "message"}: detail names the first field."""
    first = errors[0] if errors else {"field": None, "message": "invalid request"}
    detail = f"{first['field']}: {first['message']}" if first["field"] else first["message"]
    return {"detail": detail, "code": "validation_error", "kind": "validation_error", "params": {},
            "field": first["field"], "errors": errors}


def install_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(DomainError)
    async def domain_error(_request: Request, exc: DomainError):
        headers = {"WWW-Authenticate": "Bearer"} if exc.status == 401 else None
        return JSONResponse(exc.to_dict(), status_code=exc.status, headers=headers)

    @app.exception_handler(RequestValidationError)
    async def validation_error(_request: Request, exc: RequestValidationError):
        errors = [{"field": _field(e.get("loc", ())), "message": _clean(e.get("msg", ""))} for e in exc.errors()]
        return JSONResponse(validation_body(errors), status_code=422)

    @app.exception_handler(ValidationError)
    async def model_validation_error(request: Request, exc: ValidationError):
        """A request model built inside a route from form fields (multipart uploads): 422 like the rest,
        naming the field as the client spells it (camelCase)."""
        return await validation_error(request, RequestValidationError(
            [{**e, "loc": tuple(to_camel(p) if isinstance(p, str) else p for p in e.get("loc", ()))}
             for e in exc.errors()]))

    @app.exception_handler(StarletteHTTPException)
    async def http_error(_request: Request, exc: StarletteHTTPException):
        code = getattr(exc, "code", "http_error")
        return JSONResponse({"detail": str(exc.detail), "code": code, "kind": code, "params": {}},
                            status_code=exc.status_code, headers=getattr(exc, "headers", None))


# --- the OpenAPI schema tells the truth ------------------------------------------------------------------

def _calls(dependant) -> set:
    out, stack = set(), [dependant]
    while stack:
        d = stack.pop()
        if d.call is not None:
            out.add(d.call)
        stack.extend(d.dependencies)
    return out


def _uploads(route: APIRoute) -> bool:
    from fastapi import params

    return any(isinstance(p.field_info, params.File) for p in route.dependant.body_params)


def automatic_codes(route: APIRoute, method: str) -> list[int]:
    """The errors a route can answer by its shape alone: who may call it, what it takes."""
    from api.deps import admin_user, current_user

    calls = _calls(route.dependant)
    takes_input = bool(route.dependant.path_params or route.dependant.query_params or route.body_field)
    codes = []
    if current_user in calls:
        codes.append(401)
    if admin_user in calls or method not in ("GET", "HEAD", "OPTIONS"):
        codes.append(403)  # admins only; cookie-signed changes from another site (api/security.py)
    names_records = any(p.alias.endswith(("Id", "_id")) for p in route.dependant.query_params)
    if route.dependant.path_params or route.body_field is not None or names_records:
        codes.append(404)  # an id in the path, a query filter or the body that names none of yours
    if route.body_field is not None:
        codes.append(413)
    if _uploads(route):
        codes += [400, 415]
    if takes_input:
        codes.append(422)
    return codes


def _strip_null(schema: dict) -> dict:
    """A query parameter is absent or a string: `null` is not a value it can take (FastAPI writes
    Optional[X] as anyOf [X, null]; ?to=null is the text "null" and answers 422 like any bad month)."""
    options = schema.get("anyOf")
    if not options or not any(o.get("type") == "null" for o in options):
        return schema
    rest = [o for o in options if o.get("type") != "null"]
    out = {k: v for k, v in schema.items() if k != "anyOf" and not (k == "default" and v is None)}
    out.update(rest[0] if len(rest) == 1 else {"anyOf": rest})
    return out


def document_errors(app: FastAPI) -> None:
    """Wrap app.openapi: every operation documents ErrorOut for every error it answers."""
    from fastapi.routing import iter_route_contexts

    original = app.openapi
    done: dict = {}

    def openapi() -> dict:
        schema = original()  # FastAPI's, cached by FastAPI until the routes change (Gradio mounts later)
        if done.get("schema") is schema:
            return schema
        components = schema.setdefault("components", {}).setdefault("schemas", {})
        for model in (FieldError, ErrorOut):
            body = model.model_json_schema(ref_template="#/components/schemas/{model}")
            body.pop("$defs", None)
            components[model.__name__] = body
        for name in ("HTTPValidationError", "ValidationError"):
            components.pop(name, None)
        for context in iter_route_contexts(app.routes):
            route = context.original_route
            if not isinstance(route, APIRoute) or not route.include_in_schema:
                continue
            for method in context.methods or ():
                op = schema["paths"].get(context.path_format, {}).get(method.lower())
                if op is None:
                    continue
                answers = op.setdefault("responses", {})
                for code in automatic_codes(route, method):
                    known = answers.get(str(code))
                    if known is None or known.get("description") == "Validation Error":  # FastAPI's own 422
                        answers[str(code)] = {"description": DESCRIPTIONS[code],
                                              "content": {"application/json": {"schema": dict(_REF)}}}
                for param in op.get("parameters", []):
                    if param.get("in") == "query" and "schema" in param:
                        param["schema"] = _strip_null(param["schema"])
        done["schema"] = schema
        return schema

    app.openapi = openapi
