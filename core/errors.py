"""One family of domain errors. Each carries a message code, its parameters and an HTTP-like status.

`raise NotFound("records.not_found", record="Avatar", id=7)`: the code names the message (English templates in
core/messages/, Indonesian in ui/locales/errors_*.py), the keyword arguments fill it in. api/ turns an error into
JSON ({"detail": English text, "code", "kind", "params", "field"}); ui/ shows it in the visitor's language.
Nothing else should escape to a user. This module (with core.messages behind it) is the one part of core that
engine/ may import.
"""
from __future__ import annotations

from core.messages import Message


class DomainError(Exception):
    status = 400
    kind = "bad_request"   # the family, for clients that branch on it; `code` is the exact message

    def __init__(self, code: str, /, *, field: str | None = None, status: int | None = None, **params):
        self.msg = Message(code, **params)
        self.code = code
        self.params = params
        self.field = field
        if status is not None:
            self.status = status
        super().__init__(self.message)

    @property
    def message(self) -> str:
        """The English text (REST `detail`, logs)."""
        return self.msg.english

    def to_dict(self) -> dict:
        out = {"detail": self.message, "code": self.code, "kind": self.kind,
               "params": self.msg.to_dict()["params"]}
        if self.field:
            out["field"] = self.field
        return out


class Unauthorized(DomainError):
    status = 401
    kind = "unauthorized"


class InsufficientCredits(DomainError):
    status = 402
    kind = "insufficient_credits"


class Forbidden(DomainError):
    status = 403
    kind = "forbidden"


class NotFound(DomainError):
    """Also used for records owned by someone else: their existence is not revealed."""

    status = 404
    kind = "not_found"


class Conflict(DomainError):
    status = 409
    kind = "conflict"


class ValidationFailed(DomainError):
    status = 422
    kind = "validation_error"


class ImageRejected(DomainError):
    """An upload that is not an acceptable image. status: 400 empty/corrupt, 413 too big, 415 wrong type,
    422 decodes but breaks a rule (too many pixels, side too long)."""

    kind = "image_rejected"


class ModelUnavailable(DomainError):
    """A model's weights are not on this machine (they are never downloaded at run time), or cannot be
    loaded. The message says which file to put in which folder."""

    status = 503
    kind = "model_unavailable"
