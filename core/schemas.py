"""Shared pieces of the request/response models: camelCase JSON (the seed's field names), lists."""
from __future__ import annotations

from typing import Generic, TypeVar

from pydantic import BaseModel, ConfigDict
from pydantic.alias_generators import to_camel

T = TypeVar("T")


class CamelModel(BaseModel):
    """snake_case in Python, camelCase on the wire. Unknown fields are refused, not silently dropped."""

    model_config = ConfigDict(alias_generator=to_camel, populate_by_name=True, extra="forbid",
                              str_strip_whitespace=True)


class Page(CamelModel, Generic[T]):
    items: list[T]
    total: int
    limit: int
    offset: int


def file_url(key: str | None) -> str | None:
    """The URL of a stored file, served by our own owner-checking route."""
    return f"/api/files/{key}" if key else None
