"""Serving stored files: only to their owner; anyone else is told it does not exist."""
from __future__ import annotations

from pathlib import Path

from core.errors import NotFound
from core.storage import LocalFileStore, content_type, owner_of
from db.models import User


def open_for(*, user: User, key: str, store: LocalFileStore) -> tuple[Path, str]:
    if owner_of(key) != user.id or not store.exists(key):
        raise NotFound("files.not_found")
    return store.path(key), content_type(key)
