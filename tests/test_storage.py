"""core.storage.LocalFileStore: server-side keys that embed the owner, no way out of the root, atomic
writes, and staged saves that clean up after a failed action."""
from __future__ import annotations

import os

import pytest

from core import files
from core.errors import NotFound
from core.storage import LocalFileStore, content_type, owner_of
from db.models import User

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


@pytest.fixture
def store(tmp_path) -> LocalFileStore:
    return LocalFileStore(tmp_path / "files")


def test_saved_key_embeds_owner_and_kind_and_the_file_is_there(store):
    key = store.save(PNG_MAGIC + b"data", user_id=7, kind="logo", ext=".PNG")
    assert key.startswith("u7/logo/") and key.endswith(".png")
    assert owner_of(key) == 7
    assert (store.root / key).read_bytes() == PNG_MAGIC + b"data"
    assert store.read(key) == PNG_MAGIC + b"data"
    assert store.exists(key)
    assert store.all_keys() == [key]
    assert content_type(key) == "image/png"
    assert content_type("u1/x/abcdefgh.jpg") == "image/jpeg"
    assert content_type("u1/x/abcdefgh.webp") == "image/webp"


def test_keys_are_never_reused(store):
    keys = {store.save(b"x", user_id=1, kind="logo", ext="png") for _ in range(50)}
    assert len(keys) == 50
    assert len(store.all_keys()) == 50


@pytest.mark.parametrize("key", [
    "", "../secret.png", "u1/logo/../../../etc/passwd", "u1/logo/../abcdefghij.png", "/etc/passwd",
    "u1/logo/abc.png",  # random part too short to be one of ours
    "uX/logo/abcdefghij.png", "u1/LOGO/abcdefghij.png", "u1/logo/abcdefghij", "u1/logo/abcdefghij.png/..",
    "u1//abcdefghij.png", "u1/logo/abc.defghij.png", "u1\\logo\\abcdefghij.png", "u1/logo/abcdefghij.png\x00",
    "u1/logo/abcdefghij.png\n",  # a regex `$` would accept the trailing newline
])
def test_malformed_keys_are_not_found(store, tmp_path, key):
    (tmp_path / "secret.png").write_bytes(b"not yours")
    assert owner_of(key) is None
    with pytest.raises(NotFound):
        store.path(key)
    with pytest.raises(NotFound):
        store.read(key)
    assert store.exists(key) is False
    store.delete(key)  # a no-op, never an error or a deletion outside the root
    assert (tmp_path / "secret.png").exists()


def test_bad_key_parts_are_refused_when_saving(store):
    with pytest.raises(ValueError):
        store.save(b"x", user_id=1, kind="../up", ext="png")
    with pytest.raises(ValueError):
        store.save(b"x", user_id=1, kind="logo", ext="p/ng")
    assert store.all_keys() == []


def test_missing_file_with_a_wellformed_key_is_not_found(store):
    key = store.new_key(user_id=3, kind="logo", ext="png")
    assert not store.exists(key)
    with pytest.raises(NotFound):
        store.read(key)
    store.delete(key)
    store.delete(None)


def test_delete_removes_the_file(store):
    key = store.save(b"x", user_id=1, kind="logo", ext="png")
    store.delete(key)
    assert not store.exists(key)
    assert store.all_keys() == []


def test_write_is_atomic_and_leaves_no_temp_files(store):
    key = store.save(b"first version", user_id=2, kind="avatar", ext="jpg")
    store.write(key, b"second version")
    assert store.read(key) == b"second version"
    # A write that fails half-way (here: a str is not bytes) leaves the old content and no temp file.
    with pytest.raises(TypeError):
        store.write(key, "not bytes")  # type: ignore[arg-type]
    assert store.read(key) == b"second version"
    leftovers = [p for p in store.root.rglob("*") if p.is_file() and p.name.startswith(".tmp-")]
    assert leftovers == []
    assert store.all_keys() == [key]


def test_failed_first_write_creates_nothing(store):
    key = store.new_key(user_id=2, kind="avatar", ext="jpg")
    with pytest.raises(TypeError):
        store.write(key, 12345)  # type: ignore[arg-type]
    assert not store.exists(key)
    assert store.all_keys() == []
    assert not any(name.startswith(".tmp-") for _, _, names in os.walk(store.root) for name in names)


def test_staged_keeps_files_when_the_block_succeeds(store):
    with store.staged() as staged:
        a = staged.save(b"a", user_id=1, kind="product", ext="png")
        b = staged.save(b"b", user_id=1, kind="thumb", ext="jpg")
    assert store.all_keys() == sorted([a, b])


def test_staged_deletes_its_files_when_the_block_raises(store):
    kept = store.save(b"kept", user_id=1, kind="logo", ext="png")
    with pytest.raises(RuntimeError, match="database said no"):
        with store.staged() as staged:
            staged.save(b"a", user_id=1, kind="product", ext="png")
            staged.save(b"b", user_id=1, kind="thumb", ext="jpg")
            assert len(store.all_keys()) == 3
            raise RuntimeError("database said no")
    assert store.all_keys() == [kept]  # only the files of the failed action are gone


def test_files_are_only_opened_for_their_owner(store):
    key = store.save(PNG_MAGIC, user_id=5, kind="logo", ext="png")
    owner, other = User(id=5, username="owner"), User(id=6, username="other")
    path, media_type = files.open_for(user=owner, key=key, store=store)
    assert path.read_bytes() == PNG_MAGIC and media_type == "image/png"
    with pytest.raises(NotFound):
        files.open_for(user=other, key=key, store=store)
    with pytest.raises(NotFound):
        files.open_for(user=owner, key="../" + key, store=store)
    store.delete(key)
    with pytest.raises(NotFound):
        files.open_for(user=owner, key=key, store=store)
