"""Shared parameter types of the routers, with the bounds the databases can hold.

SQLite and PostgreSQL store whole numbers in 64 bits: an id, an offset or a filter beyond that is a
422 naming the limit here, not an overflow inside the database (which was a 500). Form text cannot
carry NUL characters, which PostgreSQL text cannot store. JSON bodies and query strings get the same
two checks in one place for every route, api/security.py's InputGuard.
"""
from __future__ import annotations

from typing import Annotated

from fastapi import Form, Header, Path, Query, UploadFile
from pydantic import AfterValidator

from core.errors import ValidationFailed
from core.messages import invalid

INT64_MAX = 2**63 - 1
NUL = "\x00"


def no_nul(value: str | None) -> str | None:
    if value is not None and NUL in value:
        raise invalid("api.nul_character")
    return value


def _upload_name(file: UploadFile) -> UploadFile:
    if NUL in (file.filename or ""):
        raise invalid("api.nul_in_file_name")
    return file


def _upload_names(files: list[UploadFile]) -> list[UploadFile]:
    for f in files:
        _upload_name(f)
    return files


Id = Annotated[int, Path(ge=1, le=INT64_MAX, description="The record's id.")]
Limit = Annotated[int, Query(ge=1, le=200, description="Page size (1-200).")]
Offset = Annotated[int, Query(ge=0, le=INT64_MAX, description="How many items to skip.")]
IdempotencyKey = Annotated[str | None, Header(
    alias="Idempotency-Key", max_length=100,
    description="Any unique string per submit (a UUID). A repeat of the request with the same key — a retry "
                "after a lost answer, a double click — answers with the first result and charges nothing.")]
Upload = AfterValidator(_upload_name)
Uploads = AfterValidator(_upload_names)
NoNul = AfterValidator(no_nul)


def id_query(alias: str, description: str):
    """An optional id filter in the query string: ?brandKitId=3."""
    return Query(alias=alias, ge=1, le=INT64_MAX, description=description)


def id_form(description: str | None = None):
    return Form(ge=1, le=INT64_MAX, description=description)


def parse_ids(text: str, *, field: str, what: str, example: str) -> list[int]:
    """ids written 12,13,14 (query strings of the export routes): at least one, each a whole number
    from 1 to 2^63-1."""
    parts = [p.strip() for p in text.split(",") if p.strip()]
    for part in parts or [text]:
        if not part.isascii() or not part.isdigit() or len(part) > 19 or not 1 <= int(part) <= INT64_MAX:
            raise ValidationFailed("api.ids_invalid", field=field, param=field, id_kind=what, id_example=example,
                                   most=INT64_MAX, got=part[:40])
    return [int(p) for p in parts]
