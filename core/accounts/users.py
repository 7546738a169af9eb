"""Users, passwords and API tokens.

Passwords are hashed with pwdlib (Argon2id; the maintained successor to passlib). API tokens are random
strings shown once; only their SHA-256 is stored. AUTH=none acts as one local admin, created on demand.
"""
from __future__ import annotations

import hashlib
import re
import secrets
from datetime import timedelta
from functools import lru_cache

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, select

from core.accounts import credits
from core.errors import Conflict, NotFound, Unauthorized, ValidationFailed
from core.settings import Settings
from db.models import ApiToken, User, utcnow

USERNAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{2,63}$")   # 3-64 characters
USERNAME_MIN, USERNAME_MAX = 3, 64
PASSWORD_MIN, PASSWORD_MAX = 8, 256
ROLES = ("user", "admin")


@lru_cache(maxsize=1)
def _hasher():
    from pwdlib import PasswordHash

    return PasswordHash.recommended()


def _check_username(username: str) -> str:
    if not USERNAME.match(username or ""):
        raise ValidationFailed("users.username_invalid", field="username", least=USERNAME_MIN, most=USERNAME_MAX)
    return username


def create_user(session: Session, *, username: str, password: str | None, settings: Settings,
                role: str = "user") -> User:
    _check_username(username)
    if role not in ROLES:
        raise ValidationFailed("users.role_invalid", field="role", roles=list(ROLES))
    if password is not None and not PASSWORD_MIN <= len(password) <= PASSWORD_MAX:
        raise ValidationFailed("users.password_length", field="password", least=PASSWORD_MIN, most=PASSWORD_MAX)
    user = User(username=username, role=role, password_hash=_hasher().hash(password) if password else None)
    session.add(user)
    try:
        session.flush()
    except IntegrityError:
        session.rollback()
        raise Conflict("users.username_taken", field="username", username=username) from None
    credits.starting_grant(session, user_id=user.id, amount=settings.starting_credits)
    session.commit()
    session.refresh(user)
    return user


def set_password(session: Session, *, username: str, password: str) -> User:
    """Give an account a (new) password: how the passwordless local admin of AUTH=none keeps its brand kits,
    avatars and results when the server switches to AUTH=password (sign in as that name). Its sign-in
    tokens are revoked, so an old session does not outlive the change."""
    if not PASSWORD_MIN <= len(password) <= PASSWORD_MAX:
        raise ValidationFailed("users.password_length", field="password", least=PASSWORD_MIN, most=PASSWORD_MAX)
    user = get_by_username(session, username)
    if user is None:
        raise NotFound("users.no_such_account", username=username)
    user.password_hash = _hasher().hash(password)
    session.add(user)
    session.execute(sa.delete(ApiToken).where(ApiToken.user_id == user.id))
    session.commit()
    session.refresh(user)
    return user


def get_by_username(session: Session, username: str) -> User | None:
    return session.exec(select(User).where(User.username == username)).first()


def get(session: Session, user_id: int) -> User | None:
    return session.get(User, user_id)


def list_users(session: Session) -> list[User]:
    return list(session.exec(select(User).order_by(User.username)))


def authenticate(session: Session, *, username: str, password: str) -> User:
    """The user whose password this is, or Unauthorized (the same message for every failure)."""
    user = get_by_username(session, username or "")
    hasher = _hasher()
    if user is None or not user.password_hash or not user.is_active:
        hasher.hash(password or "")  # spend the same time, so unknown names are not revealed by timing
        raise Unauthorized("auth.wrong_password")
    ok, new_hash = hasher.verify_and_update(password or "", user.password_hash)
    if not ok:
        raise Unauthorized("auth.wrong_password")
    if new_hash:
        user.password_hash = new_hash
        session.add(user)
        session.commit()
    return user


def sign_in(session: Session, *, username: str, password: str, address: str | None, limiter) -> User:
    """authenticate(), after counting the attempt against the sign-in limits (core.accounts.login_limits.LoginLimiter):
    TooManyAttempts (429) once this account or this client address has used up its window."""
    limiter.count_attempt(username=username or "", address=address)
    return authenticate(session, username=username, password=password)


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def issue_token(session: Session, *, user: User, settings: Settings, name: str = "login") -> str:
    raw = secrets.token_urlsafe(32)
    session.add(ApiToken(user_id=user.id, token_hash=_digest(raw), name=name,
                         expires_at=utcnow() + timedelta(hours=settings.token_ttl_hours)))
    session.commit()
    return raw


def user_for_token(session: Session, token: str | None) -> User:
    """The active user this API token (or browser session cookie) belongs to, or Unauthorized. Runs on every
    signed-in request: one indexed read, no write (token use is not recorded), so it fits a read-only session."""
    if not token:
        raise Unauthorized("auth.token_missing")
    user = session.exec(select(User).join(ApiToken, ApiToken.user_id == User.id)
                        .where(ApiToken.token_hash == _digest(token), ApiToken.expires_at > utcnow(),
                               User.is_active.is_(True))).first()
    if user is None:
        raise Unauthorized("auth.token_invalid")
    return user


def revoke_token(session: Session, token: str) -> None:
    row = session.exec(select(ApiToken).where(ApiToken.token_hash == _digest(token))).first()
    if row is not None:
        session.delete(row)
        session.commit()


def local_admin(session: Session, *, settings: Settings) -> User:
    """The single user of AUTH=none, created the first time it is needed."""
    user = get_by_username(session, settings.local_admin_username)
    if user is None:
        try:
            user = create_user(session, username=settings.local_admin_username, password=None,
                               settings=settings, role="admin")
        except Conflict:  # created by a concurrent request
            user = get_by_username(session, settings.local_admin_username)
    return user


def acting_user(session: Session, *, settings: Settings, username: str | None) -> User:
    """The user a UI request acts as: the signed-in name with AUTH=password, else the local admin."""
    if settings.auth == "none":
        return local_admin(session, settings=settings)
    user = get_by_username(session, username or "")
    if user is None or not user.is_active:
        raise Unauthorized("auth.sign_in_first")
    return user
