"""Service addresses and the skip-or-fail rule shared by every test module (import from here, not
from a conftest: several conftest modules exist and their names clash)."""
from __future__ import annotations

import os

import pytest

PG_ADMIN_URL = os.environ.get("PG_ADMIN_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test")
TEST_REDIS_URL = os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379")
REQUIRE_SERVICES = os.environ.get("REQUIRE_SERVICES") == "1"


def service_missing(what: str, exc: Exception):
    """Skip the test, or fail it when REQUIRE_SERVICES=1 (CI): a missing service is never silent there."""
    message = f"{what} is not reachable ({type(exc).__name__}: {exc})"
    if REQUIRE_SERVICES:
        pytest.fail(message + " and REQUIRE_SERVICES=1", pytrace=False)
    pytest.skip(message)
