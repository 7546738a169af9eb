"""One family of domain errors. Each carries an HTTP-like status and a message a shop owner understands.

api/ turns them into JSON responses ({"detail": message, "field": ..., "code": ...}); ui/ shows the
message inline. Nothing else should escape to a user.
"""
from __future__ import annotations


class DomainError(Exception):
    status = 400
    code = "bad_request"

    def __init__(self, message: str, *, field: str | None = None, status: int | None = None):
        super().__init__(message)
        self.message = message
        self.field = field
        if status is not None:
            self.status = status

    def to_dict(self) -> dict:
        out = {"detail": self.message, "code": self.code}
        if self.field:
            out["field"] = self.field
        return out


class Unauthorized(DomainError):
    status = 401
    code = "unauthorized"


class InsufficientCredits(DomainError):
    status = 402
    code = "insufficient_credits"


class Forbidden(DomainError):
    status = 403
    code = "forbidden"


class NotFound(DomainError):
    """Also used for records owned by someone else: their existence is not revealed."""

    status = 404
    code = "not_found"


class Conflict(DomainError):
    status = 409
    code = "conflict"


class ValidationFailed(DomainError):
    status = 422
    code = "validation_error"


class ImageRejected(DomainError):
    """An upload that is not an acceptable image. status: 400 empty/corrupt, 413 too big, 415 wrong type,
    422 decodes but breaks a rule (too many pixels, side too long)."""

    code = "image_rejected"


class ModelUnavailable(DomainError):
    """A model's weights are not on this machine (they are never downloaded at run time), or cannot be
    loaded. The message says which file to put in which folder."""

    status = 503
    code = "model_unavailable"
