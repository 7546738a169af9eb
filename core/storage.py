"""FileStore: where uploaded and generated files live.

Keys are generated here, never from a user's filename: `u<user_id>/<kind>/<random>.<ext>`. The owner is
part of the key, so the file route can check ownership without a database lookup and a key of one user
can never name another user's file. LocalFileStore writes atomically (temp file + rename) under one root;
object storage can implement the same interface later.
"""
from __future__ import annotations

import os
import re
import secrets
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Protocol

from core.errors import NotFound

KEY = re.compile(r"^u(\d+)/([a-z0-9_-]{1,32})/([A-Za-z0-9_-]{8,64})\.([a-z0-9]{2,5})\Z")
CONTENT_TYPES = {"png": "image/png", "jpg": "image/jpeg", "webp": "image/webp", "json": "application/json",
                 "zip": "application/zip", "onnx": "application/octet-stream"}


def owner_of(key: str) -> int | None:
    """The user id a key belongs to, or None for a malformed key."""
    m = KEY.match(key or "")
    return int(m.group(1)) if m else None


def content_type(key: str) -> str:
    return CONTENT_TYPES.get(key.rsplit(".", 1)[-1], "application/octet-stream")


class FileStore(Protocol):
    def save(self, data: bytes, *, user_id: int, kind: str, ext: str) -> str: ...
    def read(self, key: str) -> bytes: ...
    def fixed_key(self, *, user_id: int, kind: str, name: str, ext: str) -> str: ...
    def path(self, key: str) -> Path: ...
    def exists(self, key: str) -> bool: ...
    def delete(self, key: str | None) -> None: ...


class LocalFileStore:
    def __init__(self, root: Path | str):
        self.root = Path(root).resolve()
        self.root.mkdir(parents=True, exist_ok=True)

    def new_key(self, *, user_id: int, kind: str, ext: str) -> str:
        key = f"u{int(user_id)}/{kind}/{secrets.token_urlsafe(16)}.{ext.lower().lstrip('.')}"
        if not KEY.match(key):
            raise ValueError(f"bad storage key parts: {kind!r} {ext!r}")
        return key

    def fixed_key(self, *, user_id: int, kind: str, name: str, ext: str) -> str:
        """A key named by the caller (e.g. one per pose and round), so work that runs twice writes the same
        file again instead of a second one."""
        key = f"u{int(user_id)}/{kind}/{name}.{ext.lower().lstrip('.')}"
        if not KEY.match(key):
            raise ValueError(f"bad storage key parts: {kind!r} {name!r} {ext!r}")
        return key

    def path(self, key: str) -> Path:
        if not KEY.match(key or ""):
            raise NotFound("files.not_found")
        return self.root / key

    def save(self, data: bytes, *, user_id: int, kind: str, ext: str) -> str:
        key = self.new_key(user_id=user_id, kind=kind, ext=ext)
        self.write(key, data)
        return key

    def write(self, key: str, data: bytes) -> None:
        target = self.path(key)
        target.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=".tmp-")
        try:
            with os.fdopen(fd, "wb") as f:
                f.write(data)
            os.replace(tmp, target)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise

    def read(self, key: str) -> bytes:
        try:
            return self.path(key).read_bytes()
        except FileNotFoundError:
            raise NotFound("files.not_found") from None

    def exists(self, key: str) -> bool:
        try:
            return self.path(key).is_file()
        except NotFound:
            return False

    def delete(self, key: str | None) -> None:
        if key:
            try:
                self.path(key).unlink(missing_ok=True)
            except NotFound:
                pass

    def all_keys(self) -> list[str]:
        """Every stored key (tests use it to prove nothing was left behind)."""
        return sorted(str(p.relative_to(self.root)) for p in self.root.rglob("*") if p.is_file())

    @contextmanager
    def staged(self) -> Iterator["Staged"]:
        """Files saved through the yielded object are deleted again if the block raises, so a failed
        action leaves no file behind. Use it around "save files, then commit the rows"."""
        staged = Staged(self)
        try:
            yield staged
        except BaseException:
            for key in staged.keys:
                self.delete(key)
            raise


class Staged:
    def __init__(self, store: LocalFileStore):
        self.store = store
        self.keys: list[str] = []

    def save(self, data: bytes, *, user_id: int, kind: str, ext: str) -> str:
        key = self.store.save(data, user_id=user_id, kind=kind, ext=ext)
        self.keys.append(key)
        return key

    def put(self, key: str, data: bytes) -> str:
        """Write `data` at a fixed key (see LocalFileStore.fixed_key), removed again if the block raises."""
        self.store.write(key, data)
        self.keys.append(key)
        return key

    def save_image(self, image, *, user_id: int, kind: str) -> tuple[str, str]:
        """Store an ingested image (core.images.IngestedImage) and its thumbnail: (key, thumbnail key)."""
        key = self.save(image.data, user_id=user_id, kind=kind, ext=image.ext)
        thumb = self.save(image.thumbnail, user_id=user_id, kind=f"{kind}-thumb", ext=image.thumbnail_ext)
        return key, thumb
