"""The OpenAPI schema tells the truth, and no input makes the API answer 5xx: schemathesis (pinned in
requirements-dev.txt) generates requests for every operation of /openapi.json and sends them to the real
REST app in process (AUTH=password, a bearer token, SQLite), with a shop already set up: a brand kit, an
avatar, a product with its cut-out, the pose library and one planned batch (ids 1), so generated ids
often name real records. Every operation starts from that same state again.

Checks: no 5xx, every status code documented, the documented content type, and the body valid against
the documented schema (errors included: ErrorOut). Bounded: deterministic examples, a fixed number per
operation (FUZZ_EXAMPLES), no shrinking, and a time cap (FUZZ_SECONDS) past which the remaining
operations are skipped, saying so. Not a benchmark: nothing here asserts on time.
"""
from __future__ import annotations

import os
import shutil
import time
from pathlib import Path

import pytest
import schemathesis
import sqlalchemy as sa
from hypothesis import HealthCheck, Phase, settings
from schemathesis.specs.openapi.checks import (content_type_conformance, response_schema_conformance,
                                               status_code_conformance)

from api import create_api
from core.generation import planning
from core.accounts import users
from core.library import templates as lib
from core.generation.planning import BatchRequest
from services import Services
from core.settings import Settings
from db.models import User
from tests.factories import ready_shop

EXAMPLES = int(os.environ.get("FUZZ_EXAMPLES", "50"))
CAP_SECONDS = float(os.environ.get("FUZZ_SECONDS", "150"))


def no_server_error(ctx, response, case):
    """Like schemathesis' not_a_server_error, but a 503 (a model this server does not have: documented
    on the routes that need one) is an answer; status_code_conformance checks that it is documented."""
    if response.status_code >= 500 and response.status_code != 503:
        raise AssertionError(f"{response.status_code} from {case.operation.label}: {response.text[:300]}")


CHECKS = [no_server_error, status_code_conformance, content_type_conformance, response_schema_conformance]


def _settings(folder: Path) -> Settings:
    return Settings(database_url=f"sqlite:///{folder / 'app.db'}", storage_dir=folder / "files", auth="password",
                    starting_credits=1000, engine="sd15", model_downloads=False, hf_cache_dir=folder / "hf",
                    model_dir=folder / "models", rembg_home=folder / "rembg")


class Fuzzed:
    """The app under test and the seeded state it is reset to whenever a new operation starts."""

    def __init__(self, root: Path, template_db: Path):
        self.seed, self.live = root / "seed", root / "live"
        self.seed.mkdir()
        shutil.copy(template_db, self.seed / "app.db")
        seed = Services.build(_settings(self.seed), migrate=False, runner=False)
        with seed.session() as s:
            lib.load_library(s)
        shop = ready_shop(seed, "fuzzer")
        with seed.session() as s:
            s.execute(sa.update(User).where(User.id == shop.user.id).values(role="admin", credits=10**6))
            s.commit()
            user = s.get(User, shop.user.id)
            self.token = users.issue_token(s, user=user, settings=seed.settings)
            planning.start_batch(s, user=user, settings=seed.settings, runner=None, request=BatchRequest(
                brand_kit_id=shop.kit.id, avatar_id=shop.avatar.id, product_id=shop.product.id,
                template_ids=[t.id for t in shop.templates[:2]]))
        seed.close()
        self.live.mkdir()
        self._copy()
        self.services = Services.build(_settings(self.live), migrate=False, runner=False)
        self.app = create_api(self.services)
        self.operation: str | None = None
        self.started = time.monotonic()
        self.skipped: list[str] = []

    def _copy(self) -> None:
        for suffix in ("-wal", "-shm", ""):
            (self.live / f"app.db{suffix}").unlink(missing_ok=True)
        shutil.copy(self.seed / "app.db", self.live / "app.db")
        shutil.rmtree(self.live / "files", ignore_errors=True)
        shutil.copytree(self.seed / "files", self.live / "files")

    def start(self, operation: str) -> None:
        if operation != self.operation:
            self.operation = operation
            self.services.db.engine.dispose()  # no open connection while the file is swapped
            self._copy()

    def close(self) -> None:
        self.services.close()


@pytest.fixture(scope="module")
def fuzzed(tmp_path_factory, sqlite_template):
    f = Fuzzed(tmp_path_factory.mktemp("fuzz"), sqlite_template)
    yield f
    f.close()


@pytest.fixture
def api_schema(fuzzed):
    schema = schemathesis.openapi.from_asgi("/openapi.json", fuzzed.app)
    schema.config.generation.update(max_examples=EXAMPLES, deterministic=True, no_shrink=True, database="none")
    return schema


schema = schemathesis.pytest.from_fixture("api_schema")


@schema.parametrize()
@settings(max_examples=EXAMPLES, deadline=None, derandomize=True, database=None,
          phases=[Phase.explicit, Phase.generate], suppress_health_check=list(HealthCheck))
def test_every_operation_answers_as_documented(case, fuzzed):
    fuzzed.start(case.operation.label)
    if time.monotonic() - fuzzed.started > CAP_SECONDS:
        pytest.skip(f"time cap of {CAP_SECONDS:g} s reached before {case.operation.label} (FUZZ_SECONDS)")
    case.call_and_validate(headers={"Authorization": f"Bearer {fuzzed.token}"}, checks=CHECKS)
