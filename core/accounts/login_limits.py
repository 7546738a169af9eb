"""Sign-in attempt limits, per account and per client address, in moving windows (the `limits` library).

Every attempt, right or wrong, takes one slot of its client address's window and then one of its account's
window before the password is checked (so a burst of parallel guesses cannot slip past the count). An
attempt that a limit refuses takes nothing, so an attacker who keeps trying while refused does not extend
the lock: an account locked by someone else's failures opens again at most one window after them.

Where attempts are counted (Settings.login_limit_storage): Redis when REDIS_URL is set, shared by every app
process; otherwise this process's memory (the app then runs as a single process). If the shared storage
cannot be reached, this process counts by itself meanwhile, so sign-in keeps working and stays limited.
"""
from __future__ import annotations

import hashlib
import logging
import math
import time

from core.errors import DomainError
from core.messages import Message
from core.settings import Settings

log = logging.getLogger(__name__)
KEY_PREFIX = "apg-login"


class TooManyAttempts(DomainError):
    """429: a sign-in limit is used up. retry_after: whole seconds until the next attempt is counted."""

    status = 429
    kind = "too_many_attempts"

    def __init__(self, code: str, /, *, retry_after: int, **params):
        super().__init__(code, **params)
        self.retry_after = retry_after

    @property
    def headers(self) -> dict[str, str]:
        return {"Retry-After": str(self.retry_after)}


def _seconds(n: int) -> Message:
    return Message("login.second" if n == 1 else "login.seconds", n=n)


class LoginLimiter:
    def __init__(self, *, per_account: int, per_address: int, window_seconds: int, storage_uri: str):
        from limits import RateLimitItemPerSecond
        from limits.storage import MemoryStorage, storage_from_string
        from limits.strategies import MovingWindowRateLimiter

        self.window_seconds = window_seconds
        self.account_limit = RateLimitItemPerSecond(per_account, window_seconds)
        self.address_limit = RateLimitItemPerSecond(per_address, window_seconds)
        options: dict = {"wrap_exceptions": True}
        if storage_uri.startswith(("redis", "rediss")):  # never let a sign-in hang on an unreachable Redis
            options.update(key_prefix=KEY_PREFIX, socket_timeout=2, socket_connect_timeout=2)
        self.storage_uri = storage_uri
        self._shared = MovingWindowRateLimiter(storage_from_string(storage_uri, **options))
        self._local = self._shared if storage_uri.startswith("memory") else MovingWindowRateLimiter(MemoryStorage())

    @classmethod
    def from_settings(cls, settings: Settings) -> "LoginLimiter":
        uri = settings.login_limit_storage or settings.redis_url or "memory://"
        return cls(per_account=settings.login_attempts_per_account, per_address=settings.login_attempts_per_address,
                   window_seconds=settings.login_window_seconds, storage_uri=uri)

    def count_attempt(self, *, username: str, address: str | None) -> None:
        """Take this attempt's slots, or raise TooManyAttempts (429) naming the limit and the wait."""
        account = hashlib.sha256((username or "").encode("utf-8", "surrogatepass")).hexdigest()[:32]
        checks = ((self.address_limit, ("address", address or "unknown"), "login.too_many_from_address"),
                  (self.account_limit, ("account", account), "login.too_many_for_account"))
        for limit, key, code in checks:
            if not self._hit(limit, key):
                wait = self._retry_after(limit, key)
                raise TooManyAttempts(code, retry_after=wait, most=limit.amount,
                                      window=_seconds(self.window_seconds), wait=_seconds(wait))

    def _hit(self, limit, key: tuple[str, str]) -> bool:
        from limits.errors import StorageError

        try:
            return self._shared.hit(limit, *key)
        except StorageError as exc:
            log.warning("sign-in limits: %s is not reachable (%s); counting in this process meanwhile",
                        self.storage_uri.split("@")[-1], exc)
            return self._local.hit(limit, *key)

    def _retry_after(self, limit, key: tuple[str, str]) -> int:
        from limits.errors import StorageError

        for limiter in (self._shared, self._local):
            try:
                reset = limiter.get_window_stats(limit, *key).reset_time
                return max(1, math.ceil(reset - time.time()))
            except StorageError:
                continue
        return self.window_seconds
