"""The identity score per image (issue 13): the face region of each output (from the fitted template's head
keypoints) against the avatar's face crop, as the cosine of the IP-Adapter's own image-encoder embeddings; stored per
result, in REST, the manifest and the pages, averaged per batch; IDENTITY_THRESHOLD retries and then fails faces
below it (failure kind "identity", not held against the template); every "not checked" says why.

Tiny random-weight models (engine.tiny): the UNet/ControlNet/VAE/CLIP of the tiny engine plus a tiny IP-Adapter
with its CLIPVisionModelWithProjection, loaded through the real from_pretrained path. On SQLite and Postgres."""
from __future__ import annotations

import io
import json
import zipfile

import pytest
from PIL import Image
from sqlmodel import select

from core.generation import batches
from core.generation.identity import face_box, identity_scores, note_of
from core.messages import Message
from db.models import PoseTemplate
from engine.tiny import TINY_IP_WEIGHTS, write_tiny_ip_adapter
from tests.batch_support import balance, poses, render, services_factory
from tests.test_batches_api import Shop
from ui.i18n import message_text
from ui.results_view import detail_html, progress_html

pytestmark = pytest.mark.filterwarnings("ignore:__array__ implementation doesn't accept a copy:DeprecationWarning")
W, H = 64, 96
INDONESIAN = type("Visitor", (), {"cookies": {"apg_lang": "id"}, "headers": {}})()


@pytest.fixture(scope="module")
def ip_folder(tiny_root):
    return write_tiny_ip_adapter(tiny_root / "ip-adapter", tiny_dir=tiny_root / "tiny", family="sd15") \
        and tiny_root / "ip-adapter"


def likeness(ip_folder) -> dict:
    face_w, garment_w = TINY_IP_WEIGHTS["sd15"]
    return dict(ip_adapter="true", ip_adapter_model=str(ip_folder), ip_adapter_weight=face_w,
                garment_ip_adapter="false")


@pytest.fixture
def make_svc(make_settings, db_url, tiny_engine_values):
    make, close_all = services_factory(make_settings, db_url, tiny_engine_values, runner_default=False,
                                       auth="password", output_sizes="portrait=64x96")
    yield make
    close_all()


def standing(dx: float = 0.0) -> list:
    """OpenPose-18 keypoints (0..1) of a person facing us: a head near the top of the frame."""
    pts = {0: (0.5, 0.16), 1: (0.5, 0.28), 2: (0.4, 0.28), 5: (0.6, 0.28), 8: (0.44, 0.55), 11: (0.56, 0.55),
           14: (0.46, 0.14), 15: (0.54, 0.14), 16: (0.42, 0.15), 17: (0.58, 0.15)}
    return [[x + dx, y, 1.0] if (i in pts and (x := pts[i][0]) is not None and (y := pts[i][1]) is not None) else None
            for i in range(18)]


def a_face(seed: int, side: int) -> Image.Image:
    from tests.engine.engine_kit import face

    return face(seed).resize((side, side))


def engine_of(make_settings, tiny_engine_values, **values):
    from engine.pipeline import get_engine

    return get_engine(make_settings(**tiny_engine_values, engine_steps=2, **values))


def test_the_face_box_comes_from_the_templates_head_and_scores_rank_faces(make_settings, tiny_engine_values,
                                                                           ip_folder):
    engine = engine_of(make_settings, tiny_engine_values, **likeness(ip_folder))
    kp = standing()
    box = face_box(kp, W, H)
    assert box is not None and box[0] < 0.46 * W and box[2] > 0.54 * W and box[1] < 0.14 * H < box[3]
    side = box[2] - box[0]
    ranked = []
    for seed in range(4):
        mine, other = a_face(2 * seed, side), a_face(2 * seed + 1, side)
        backgrounds = [Image.new("RGB", (W, H), c) for c in ((200, 180, 160), (90, 120, 150), (140, 140, 90))]
        for image, who in zip(backgrounds, (mine, mine, other)):
            image.paste(who, box[:2])
        got = identity_scores(engine=engine, images=backgrounds, keypoints=[kp] * 3, reference=mine)
        assert all(g.checked and g.box == box and g.reason.code == "identity.score" for g in got)
        assert all(-1.0 <= g.score <= 1.0 for g in got)
        ranked.append(got[0].score > got[2].score and got[1].score > got[2].score)   # the avatar's face wins
    assert all(ranked), ranked
    # a pose whose template has no head: measured nothing, says so
    headless = [None] * 18
    (none,) = identity_scores(engine=engine, images=[Image.new("RGB", (W, H))], keypoints=[headless],
                              reference=a_face(0, 24))
    assert (none.score, none.checked, none.reason.code) == (None, False, "identity.no_face")


def test_not_checked_says_why(make_settings, tiny_engine_values):
    tiny_engine = engine_of(make_settings, tiny_engine_values, ip_adapter="false")
    image = Image.new("RGB", (W, H), (120, 110, 100))
    (no_ref,) = identity_scores(engine=tiny_engine, images=[image], keypoints=[standing()], reference=None)
    assert (no_ref.checked, no_ref.reason.code) == (False, "identity.no_reference")
    (no_encoder,) = identity_scores(engine=tiny_engine, images=[image], keypoints=[standing()],
                                    reference=a_face(1, 24))
    assert (no_encoder.score, no_encoder.checked, no_encoder.reason.code) == (None, False, "identity.not_checked")
    assert "IP_ADAPTER=false" in no_encoder.reason.english
    assert message_text(no_encoder.reason, "id").startswith("kemiripan wajah belum dicek: ")


def test_every_finished_image_carries_its_identity_score(make_svc, ip_folder):
    svc = make_svc(**likeness(ip_folder))
    a = Shop(svc, "siti")
    gid = a.start(poseDistribution={"product-holding": 3})
    render(svc, gid)   # no pose detector given: images are "not checked" for the pose, their faces are measured
    rows = poses(svc, gid)
    assert all(p.status == "done" for p in rows)
    measured = [p for p in rows if p.identity_score is not None]
    assert measured, [p.identity for p in rows]
    for p in rows:
        assert p.identity["checked"] == (p.identity_score is not None)
        assert note_of(p).code in ("identity.score", "identity.no_face")
    for p in measured:
        assert -1.0 <= p.identity_score <= 1.0 and len(p.identity["box"]) == 4

    items = {i["id"]: i for i in a.get(f"/results/{gid}").json()["items"]}
    for p in rows:
        item = items[p.id]
        assert (item["identityScore"], item["identityChecked"]) == (p.identity_score, p.identity["checked"])
        assert item["identityNote"] == note_of(p).english
    st = a.get(f"/generate/{gid}").json()
    mean = sum(p.identity_score for p in measured) / len(measured)
    assert st["identityMeasured"] == len(measured) and st["identityMean"] == pytest.approx(mean, abs=1e-4)

    # the manifest and the pages show it
    with zipfile.ZipFile(io.BytesIO(a.get(f"/results/{gid}/export").content)) as zf:
        manifest = json.loads(zf.read("manifest.json"))
    by_id = {e["resultId"]: e for e in manifest["images"]}
    for p in rows:
        assert by_id[p.id]["identityScore"] == p.identity_score and by_id[p.id]["identityChecked"] == p.identity["checked"]
    with svc.session() as s:
        shown = progress_html(batches.status(s, user=a.user, generation_id=gid), False, INDONESIAN)
    assert "id='res-identity'" in shown and f"({len(measured)} diukur)" in shown
    detail = detail_html(measured[0], "pose", {}, None)
    assert "id='res-detail-identity' data-checked='1'" in detail and f"{measured[0].identity_score:.2f}" in detail


def test_identity_threshold_retries_then_fails_as_identity_not_against_the_template(make_svc, ip_folder):
    svc = make_svc(**likeness(ip_folder), identity_threshold=1.0)   # no rendered face is the avatar's crop itself
    a = Shop(svc, "siti")
    before = balance(svc, a.user)
    gid = a.start(poseDistribution={"product-holding": 2})
    ids = {p.template_id for p in poses(svc, gid)}
    with svc.session() as s:
        stats = {t.id: (t.usage_count, t.success_count) for t in s.exec(select(PoseTemplate)
                                                                      .where(PoseTemplate.id.in_(ids)))}
    render(svc, gid)
    rows = poses(svc, gid)
    faced = [p for p in rows if p.identity_score is not None]
    assert faced, "the tiny templates show a face"
    for p in faced:
        assert (p.status, p.failure_kind, p.error_code, p.attempts) == ("failed", "identity",
                                                                         "render.identity_failed", 2)
        assert p.error_params["reason"]["code"] == "identity.below_threshold"
        assert "Identity check failed after 2 attempts: identity" in p.error
        assert message_text(Message(p.error_code, **p.error_params), "id").startswith(
            "Cek kemiripan wajah gagal setelah 2 kali coba: kemiripan wajah")
    with svc.session() as s:
        after = {t.id: (t.usage_count, t.success_count) for t in s.exec(select(PoseTemplate)
                                                                      .where(PoseTemplate.id.in_(ids)))}
    assert after == stats                                                   # the pose was fine: not held against it
    refunded = sum(p.cost for p in faced)
    assert balance(svc, a.user) == before - sum(p.cost for p in rows) + refunded   # failed faces are refunded
