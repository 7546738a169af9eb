"""AI avatars (the seed's Phase 2): a description and traits -> up to 4 candidate portraits from the
generation engine (text to image, same weights as the poses) -> the one the user picks becomes an avatar
with sourceType "ai_generated" and the prompt that made it.

    result = avatar_ai.generate(session, user=user, request=GenerateAvatar(text="...", gender="female"), ...)
    avatar = avatar_ai.choose(session, user=user, request=ChooseCandidate(candidate_key=result.candidates[0].key,
                              brand_kit_id=kit.id, name="Sari"), store=store, settings=settings)

Credits: generateAvatarAI (20) once per set of candidates, taken in the transaction that follows a
successful render (a render that fails, e.g. missing weights -> ModelUnavailable 503, takes nothing).
Choosing is free: the avatar row is made here from the stored candidate, through the same image intake
as an upload (so core.catalog.avatars.upload, which would charge generateAvatarAI again, is not used).

Candidates are the user's own files: `u<id>/avatar-candidate/<set>-<i>.png`, where <set> is random and
shared by the candidates of one generation, so choosing one deletes its siblings without any listing. Each
PNG carries its prompt, negative prompt and seed as text chunks written by us (a user cannot store a file
of this kind), so choosing needs nothing but the key. The avatar's own image is re-encoded by the intake
without that metadata. Unchosen sets older than CANDIDATE_TTL are pruned on the user's next generation.
"""
from __future__ import annotations

import io
import re
import secrets
import time
from dataclasses import dataclass

from PIL import Image, PngImagePlugin
from pydantic import Field
from sqlmodel import Session

from core.analytics import metrics
from core.catalog import brand_kits
from core.accounts import credits
from core.catalog.avatars import APP, AvatarCreate, AvatarTraits
from core.errors import InsufficientCredits, NotFound, ValidationFailed
from core.prompts import avatar_prompt
from core.schemas import CamelModel, file_url
from core.settings import Settings
from core.storage import KEY, LocalFileStore, owner_of
from db.models import Avatar, User

KIND = "avatar-candidate"
ACTION = "generateAvatarAI"
MAX_CANDIDATES = 4
SEED_LIMIT = 2**31 - 1
CANDIDATE_TTL = 24 * 3600          # seconds an unchosen candidate is kept
_TOKEN = re.compile(r"^([0-9a-f]{24})-([0-9])\Z")


class GenerateAvatar(AvatarTraits):
    """What to generate: a free-text description plus the usual traits (all optional, but say something)."""

    text: str | None = Field(default=None, max_length=500)
    count: int = Field(default=MAX_CANDIDATES, ge=1, le=MAX_CANDIDATES)
    seed: int | None = Field(default=None, ge=0, le=SEED_LIMIT)
    size: str = "portrait"


class ChooseCandidate(AvatarTraits):
    candidate_key: str = Field(min_length=1, max_length=200)
    brand_kit_id: int
    name: str = Field(min_length=1, max_length=100)


class CandidatePublic(CamelModel):
    key: str
    url: str
    seed: int


class CandidateSet(CamelModel):
    candidates: list[CandidatePublic]
    prompt: str
    negative_prompt: str
    width: int
    height: int
    credits_charged: int


@dataclass(frozen=True)
class _Parts:
    user_id: int
    set_id: str
    index: int


def _parse(key: str) -> _Parts | None:
    m = KEY.match(key or "")
    if not m or m.group(2) != KIND or m.group(4) != "png":
        return None
    t = _TOKEN.match(m.group(3))
    return _Parts(int(m.group(1)), t.group(1), int(t.group(2))) if t else None


def _key(user_id: int, set_id: str, index: int) -> str:
    return f"u{int(user_id)}/{KIND}/{set_id}-{index}.png"


def _png(image: Image.Image, *, prompt: str, negative: str, seed: int) -> bytes:
    info = PngImagePlugin.PngInfo()
    info.add_itxt("prompt", prompt)
    info.add_itxt("negative", negative)
    info.add_text("seed", str(seed))
    buf = io.BytesIO()
    image.convert("RGB").save(buf, "PNG", pnginfo=info)
    return buf.getvalue()


def generate(session: Session, *, user: User, request: GenerateAvatar, store: LocalFileStore, settings: Settings,
             engine=None) -> CandidateSet:
    """Render request.count candidates (seeds seed, seed+1, ...; a random seed when none is given), store
    them as the user's files and charge generateAvatarAI once. Nothing is charged or kept on failure."""
    from core.sizes import output_size

    traits = request.model_dump(include={"gender", "age_range", "style", "ethnicity"})
    if not (request.text or "").strip() and not any(traits.values()):
        raise ValidationFailed("avatar_ai.describe_first", field="text")
    width, height = output_size(settings, request.size)
    price = credits.cost(APP, ACTION)
    have = credits.balance(session, user_id=user.id)
    if have < price:  # before minutes of rendering; the charge below is still the conditional one
        raise InsufficientCredits("credits.not_enough", need=price, have=have)
    prompt = avatar_prompt(text=request.text, traits=traits)
    first = request.seed if request.seed is not None else secrets.randbelow(SEED_LIMIT)
    seeds = [(first + i) % (SEED_LIMIT + 1) for i in range(request.count)]
    if engine is None:
        from engine.engines import get_engine

        engine = get_engine(settings)  # ModelUnavailable (503) when the weights are not here
    session.rollback()  # no transaction held open while rendering (SQLite would lock writers out)
    results = engine.text_to_image(prompt.positive, seeds=seeds, width=width, height=height,
                                   negative_prompt=prompt.negative)
    _prune(store, user_id=user.id)
    set_id = secrets.token_hex(12)
    written: list[str] = []
    try:
        out = []
        for i, r in enumerate(results):
            key = _key(user.id, set_id, i)
            store.write(key, _png(r.image, prompt=prompt.positive, negative=prompt.negative, seed=r.seed))
            written.append(key)
            out.append(CandidatePublic(key=key, url=file_url(key), seed=r.seed))
        credits.charge(session, user_id=user.id, app_id=APP, action=ACTION, ref_type="avatar-candidates",
                       idempotency_key=f"avatarai:{user.id}:{set_id}")
        session.commit()
    except BaseException:
        session.rollback()
        for key in written:
            store.delete(key)
        raise
    return CandidateSet(candidates=out, prompt=prompt.positive, negative_prompt=prompt.negative, width=width,
                        height=height, credits_charged=price)


def _candidate(store: LocalFileStore, *, user: User, key: str) -> tuple[_Parts, bytes, str]:
    parts = _parse(key)
    if parts is None or owner_of(key) != user.id or parts.user_id != user.id or not store.exists(key):
        raise NotFound("avatar_ai.candidate_gone", field="candidateKey")
    data = store.read(key)
    with Image.open(io.BytesIO(data)) as im:
        prompt = getattr(im, "text", {}).get("prompt") or ""
    return parts, data, prompt


def choose(session: Session, *, user: User, request: ChooseCandidate, store: LocalFileStore,
           settings: Settings) -> Avatar:
    """Keep one candidate as an avatar (ai_generated, with its prompt); the whole set's files go. Free:
    the set was paid for when it was generated."""
    from core.images import ingest_image

    parts, data, prompt = _candidate(store, user=user, key=request.candidate_key)
    fields = AvatarCreate(**request.model_dump(exclude={"candidate_key"}))
    brand_kits.get(session, user=user, kit_id=fields.brand_kit_id)  # must be the user's own kit
    image = ingest_image(data, kind="avatar", settings=settings, filename="candidate.png")
    with store.staged() as staged:
        key, thumb = staged.save_image(image, user_id=user.id, kind="avatar")
        avatar = Avatar(user_id=user.id, **fields.model_dump(), source_type="ai_generated",
                        generation_prompt=prompt or None, image_path=key, thumbnail_path=thumb,
                        width=image.width, height=image.height)
        session.add(avatar)
        session.flush()
        metrics.record_created(session, user_id=user.id, brand_kit_id=avatar.brand_kit_id, design_type="avatar",
                                 seconds=None, at=avatar.created_at, settings=settings)
        session.commit()
    discard(store, user=user, key=request.candidate_key)
    return avatar


def discard(store: LocalFileStore, *, user: User, key: str) -> int:
    """Delete the set a candidate key belongs to (only the user's own). Returns how many files went."""
    parts = _parse(key)
    if parts is None or parts.user_id != user.id:
        raise NotFound("avatar_ai.candidate_not_found", field="candidateKey")
    gone = 0
    for i in range(MAX_CANDIDATES):
        k = _key(user.id, parts.set_id, i)
        if store.exists(k):
            store.delete(k)
            gone += 1
    return gone


def _prune(store: LocalFileStore, *, user_id: int, max_age: float = CANDIDATE_TTL) -> None:
    """Forget the user's candidates nobody chose within max_age seconds."""
    folder = store.root / f"u{int(user_id)}" / KIND
    if not folder.is_dir():
        return
    limit = time.time() - max_age
    for path in folder.glob("*.png"):
        try:
            if path.stat().st_mtime < limit:
                path.unlink(missing_ok=True)
        except OSError:
            pass
