"""What the batch tests share (tests/test_batches.py, tests/test_batches_api.py): services with the tiny
engine on the test's database, and small readers of real rows, ledger rows and files."""
from __future__ import annotations

from sqlmodel import select

from core.accounts import credits
from core.generation import state, render as generation_render
from core.library import templates as lib
from services import Services
from db.models import CreditLedger, GeneratedPose

WAIT = 180  # seconds: an upper bound for the runner, never an assertion on speed
POSE_KINDS = ("pose", "pose-thumb", "pose-control")


def services_factory(make_settings, db_url, tiny_engine_values, *, runner_default: bool, **base):
    """make(runner=..., **settings): Services with the tiny engine (tests/conftest.py's tiny_engine_values);
    the first one loads the pose library. Returns (make, close_all)."""
    built = []

    def make(*, runner: bool = runner_default, **over) -> Services:
        values = {"database_url": db_url, **tiny_engine_values, "engine_steps": 2, "engine_batch_size": 2,
                  "max_attempts": 2, "job_chunk_size": 2, **base}
        values.update(over)
        s = Services.build(make_settings(**values), migrate=False, runner=None if runner else False)
        if not built:
            with s.session() as session:
                lib.load_library(session)
        built.append(s)
        return s

    def close_all():
        for s in reversed(built):
            s.close()

    return make, close_all


def poses(svc, gid) -> list[GeneratedPose]:
    with svc.session() as s:
        return list(s.exec(select(GeneratedPose).where(GeneratedPose.generation_id == gid)
                           .order_by(GeneratedPose.position)))


def balance(svc, user) -> int:
    with svc.session() as s:
        return credits.balance(s, user_id=user.id)


def ledger(svc, user, gid=None) -> list[CreditLedger]:
    with svc.session() as s:
        q = select(CreditLedger).where(CreditLedger.user_id == user.id, CreditLedger.app_id == state.APP)
        if gid is not None:
            q = q.where(CreditLedger.ref_type == "generation", CreditLedger.ref_id == gid)
        return list(s.exec(q.order_by(CreditLedger.id)))


def pose_files(svc, user) -> set[str]:
    """Every file under the user's pose folders (images, thumbnails, control skeletons)."""
    return {k for k in svc.store.all_keys() if k.split("/")[0] == f"u{user.id}" and k.split("/")[1] in POSE_KINDS}


def row_files(rows) -> set[str]:
    return {k for p in rows for k in (p.image_path, p.thumbnail_path, p.control_path) if k}


def render(svc, gid, positions=None, *, detector=None, worker=None, engine=None, settings=None):
    """Render planned poses the way a job does, choosing the pose detector (a real function)."""
    with svc.session() as s:
        return generation_render.render_poses(s, generation_id=gid, positions=positions, store=svc.store,
                                       settings=settings or svc.settings, worker=worker, engine=engine,
                                       detector=detector)


def nobody_there(image):  # a detector that finds no person: every render fails the pose check
    return []
