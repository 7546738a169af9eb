"""Hosted providers (ENGINE=fal | replicate | hf, ENGINE_FALLBACK) through their own client libraries — fal-client,
replicate, huggingface_hub — pointed by their base-URL settings at a real HTTP server on 127.0.0.1 that speaks
each provider's documented protocol (tests/provider_server.py). No network, no mocks of our code.

Engine level: success at the asked size with provider, model and job id recorded; slow then success; 5xx then
success; a timeout cancels the job at the provider; a refused key names its setting; a provider that is down
hands its poses to the fallback engine, which records who failed them first; a cancel mid-flight calls the
provider's cancel. Batch level, on SQLite and Postgres: rows, files, credits and the manifest of a batch rendered
at fal; a timeout refunds; a user's cancel cancels at fal; the Generate page says who renders and what is off
before the user pays. Across processes: an rq worker with ENGINE=fal on Postgres + Redis.
"""
from __future__ import annotations

import base64
import io
import json
import threading
import time

import numpy as np
import pytest
from PIL import Image

from engine.engines import capabilities, clear_engines, get_engine, models_state
from engine.requests import RenderRequest
from tests.provider_server import ProviderServer, render as server_render, seed_colour
from tests.support import free_port

FAST = dict(provider_poll_seconds=0.05, provider_retries=3, provider_timeout_seconds=30)
KEYS = {"fal": "FAL_KEY", "replicate": "REPLICATE_API_TOKEN", "hf": "HF_TOKEN"}


@pytest.fixture
def server():
    with ProviderServer() as srv:
        yield srv


@pytest.fixture(autouse=True)
def hub_online(monkeypatch):
    """The suite sets HF_HUB_OFFLINE=1 so nothing downloads; huggingface_hub then sends no request at all, to the
    Inference API either. These tests reach only the stand-in server on 127.0.0.1 (and this machine has no
    internet besides), so its offline switch is turned off here; one test turns it back on."""
    from huggingface_hub import constants

    monkeypatch.setattr(constants, "HF_HUB_OFFLINE", False)


@pytest.fixture(autouse=True)
def fresh_engines():
    """Provider engines are cached per settings (their clients keep connections): none leaks between tests."""
    clear_engines()
    yield
    clear_engines()


def provider_values(server, name: str, **over) -> dict:
    values = {"fal": dict(fal_key="fal-test-key", fal_base_url=server.url),
              "replicate": dict(replicate_api_token="r8-test-token", replicate_base_url=server.url),
              "hf": dict(hf_token="hf-test-token", hf_inference_base_url=server.hf_url)}[name]
    return {"engine": name, **FAST, **values, **over}


def pose_drawing(width=64, height=96) -> Image.Image:
    """A control image with something in it (a bar of colour), so what the provider got can be compared."""
    image = Image.new("RGB", (width, height), (0, 0, 0))
    image.paste((255, 0, 85), (width // 4, height // 8, width // 2, height - height // 8))
    return image


def request(seed=7, width=64, height=96) -> RenderRequest:
    return RenderRequest("a woman holding a bottle of jamu", pose_drawing(width, height), seed=seed,
                         negative_prompt="blurry", width=width, height=height)


def png(image: Image.Image) -> bytes:
    out = io.BytesIO()
    image.save(out, "PNG")
    return out.getvalue()


def sent_control(provider: str, body: dict) -> Image.Image:
    uri = {"fal": lambda b: b["openpose_image_url"], "replicate": lambda b: b["input"]["image"],
           "hf": lambda b: b["inputs"]}[provider](body)
    data = base64.b64decode(uri.split(",", 1)[1] if uri.startswith("data:") else uri)
    return Image.open(io.BytesIO(data)).convert("RGB")


# --- one provider at a time ---------------------------------------------------------------------------------------

@pytest.mark.parametrize("provider", ["fal", "replicate", "hf"])
def test_each_provider_renders_the_pose_at_the_asked_size_and_records_who_made_it(server, make_settings, provider):
    settings = make_settings(**provider_values(server, provider))
    engine = get_engine(settings)
    results = engine.render([request(seed=7), request(seed=8)])
    assert [r.failure for r in results] == [None, None]
    for r, seed in zip(results, (7, 8)):
        assert r.image.size == (64, 96) and (r.width, r.height, r.seed) == (64, 96, seed)
        # the pixels are what the provider made of OUR pose drawing at this seed
        expected = Image.open(io.BytesIO(server_render(png(pose_drawing()), 64, 96, seed))).convert("RGB")
        assert np.array_equal(np.asarray(r.image), np.asarray(expected))
        assert r.provider == provider and r.mode == "controlnet" and not r.likeness
    assert results[0].image.getpixel((2, 2)) != results[1].image.getpixel((2, 2))   # seeds differ
    submitted = [s for s in server.submitted if s[0] == provider]
    assert len(submitted) == 2
    for _, _, body in submitted:
        assert np.array_equal(np.asarray(sent_control(provider, body)), np.asarray(pose_drawing()))
    bodies = {json.dumps(b, sort_keys=True) for _, _, b in submitted}
    assert all("a woman holding a bottle of jamu" in b and "blurry" in b for b in bodies)
    if provider == "fal":
        body = submitted[0][2]
        assert body["image_size"] == {"width": 64, "height": 96} and body["openpose_preprocess"] is False
        assert {r.provider_job_id for r in results} == {s[1] for s in submitted}
        assert {r.model_id for r in results} == {"fal-ai/sdxl-controlnet-union"}
        assert server.calls("fal", "POST") == ["/fal-ai/sdxl-controlnet-union"] * 2
        # the follow-up URLs fal's answer names (https://queue.fal.run/...) reached this server too
        assert len(server.calls("fal", "GET", "/status")) >= 2 and len(server.calls("files")) == 2
    if provider == "replicate":
        body = submitted[0][2]
        assert body["version"] == "v" + "0" * 63 and body["input"]["width"] == 64
        assert {r.provider_job_id for r in results} == {s[1] for s in submitted}
        assert {r.model_id for r in results} == {"lucataco/sdxl-controlnet-openpose:v" + "0" * 63}
        assert server.calls("replicate", "GET", "/v1/models/") == ["/v1/models/lucataco/sdxl-controlnet-openpose"]
    if provider == "hf":
        params = submitted[0][2]["parameters"]
        assert params["target_size"] == {"width": 64, "height": 96} and params["seed"] in (7, 8)
        assert {r.provider_job_id for r in results} == {None}      # no queue, no job id: said, not made up
    described = json.dumps(engine.describe())
    key = provider_values(server, provider)[{"fal": "fal_key", "replicate": "replicate_api_token",
                                             "hf": "hf_token"}[provider]]
    assert key not in described and key not in repr(settings)                # keys never in manifests or logs


@pytest.mark.parametrize("provider", ["fal", "replicate"])
def test_a_slow_job_is_polled_until_it_is_done(server, make_settings, provider):
    server.polls = 4
    engine = get_engine(make_settings(**provider_values(server, provider)))
    (result,) = engine.render([request()])
    assert result.failure is None and result.image.size == (64, 96)
    status_path = "/status" if provider == "fal" else "/v1/predictions/"
    assert len(server.calls(provider, "GET", status_path)) >= 5


def test_a_slow_hf_answer_is_waited_for(server, make_settings):
    server.hf_delay = 0.5
    (result,) = get_engine(make_settings(**provider_values(server, "hf"))).render([request()])
    assert result.failure is None and result.image.size == (64, 96)


@pytest.mark.parametrize("provider", ["fal", "replicate", "hf"])
def test_server_errors_are_retried_then_the_image_comes(server, make_settings, provider):
    server.fail_submits = [503, 500]
    (result,) = get_engine(make_settings(**provider_values(server, provider))).render([request()])
    assert result.failure is None and result.image.size == (64, 96)
    submits = {"fal": ("POST", ""), "replicate": ("POST", "/v1/predictions"), "hf": ("POST", "/hf")}[provider]
    assert len(server.calls(provider, *submits)) == 3                       # two refused, the third taken
    assert server.fail_submits == []


@pytest.mark.parametrize("provider", ["fal", "replicate"])
def test_a_job_past_the_time_limit_is_cancelled_at_the_provider(server, make_settings, provider):
    server.never_finish = True
    engine = get_engine(make_settings(**provider_values(server, provider, provider_timeout_seconds=1)))
    (result,) = engine.render([request()])
    assert result.image is None and result.failure.code == "provider.timeout"
    assert "did not finish within 1 s" in result.failure.message and "PROVIDER_TIMEOUT_SECONDS" in result.failure.message
    assert result.provider_job_id is not None
    assert server.cancelled == [(provider, result.provider_job_id)]


def test_an_hf_answer_past_the_time_limit_is_a_timeout(server, make_settings):
    server.hf_delay = 3
    engine = get_engine(make_settings(**provider_values(server, "hf", provider_timeout_seconds=1)))
    (result,) = engine.render([request()])
    assert result.image is None and result.failure.code == "provider.timeout"


@pytest.mark.parametrize("provider", ["fal", "replicate", "hf"])
def test_a_refused_key_says_which_setting_to_fix_and_is_not_retried(server, make_settings, provider):
    wrong = {"fal": dict(fal_key="wrong"), "replicate": dict(replicate_api_token="wrong"),
             "hf": dict(hf_token="wrong")}[provider]
    engine = get_engine(make_settings(**{**provider_values(server, provider), **wrong}))
    (result,) = engine.render([request()])
    failure = result.failure
    assert result.image is None and failure.code == "provider.auth" and not failure.transient
    assert KEYS[provider] in failure.message and "401" in failure.message, failure.message
    assert "wrong" not in failure.message
    assert len(server.calls(provider)) == 1          # one request (Replicate's: the model lookup), not retried


@pytest.mark.parametrize("provider", ["fal", "replicate", "hf"])
def test_a_provider_without_a_key_is_off_before_anything_is_sent(server, make_settings, provider):
    values = provider_values(server, provider)
    values.pop({"fal": "fal_key", "replicate": "replicate_api_token", "hf": "hf_token"}[provider])
    settings = make_settings(**values)
    state = models_state(settings)
    assert state["on"] is False and KEYS[provider] in state["reason"] and f"ENGINE={provider}" in state["reason"]
    (result,) = get_engine(settings).render([request()])
    assert result.failure.code == "provider.no_key" and server.requests == []


def test_hf_with_the_hub_offline_says_so_before_anything_is_sent(server, make_settings, monkeypatch):
    from huggingface_hub import constants

    monkeypatch.setattr(constants, "HF_HUB_OFFLINE", True)
    settings = make_settings(**provider_values(server, "hf"))
    state = models_state(settings)
    assert state["on"] is False and "HF_HUB_OFFLINE is set" in state["reason"]
    (result,) = get_engine(settings).render([request()])
    assert result.failure.code == "provider.hf_offline" and server.requests == []


def test_what_a_provider_cannot_do_is_said_before_it_renders(server, make_settings):
    caps = capabilities(make_settings(**provider_values(server, "fal")))
    assert caps["likeness"]["on"] is False and "no IP-Adapter" in caps["likeness"]["reason"]
    assert caps["garment"]["on"] is False
    assert caps["inpaint"]["on"] is True and caps["inpaint"]["model"] == "fal-ai/sdxl-controlnet-union/inpainting"
    assert caps["provider"] == {"name": "fal", "label": "fal", "model": "fal-ai/sdxl-controlnet-union"}
    pasting = capabilities(make_settings(**provider_values(server, "fal", fal_inpaint_model="")))
    assert pasting["inpaint"]["on"] is False and "FAL_INPAINT_MODEL" in pasting["inpaint"]["reason"]
    replicate = capabilities(make_settings(**provider_values(server, "replicate")))
    assert replicate["inpaint"]["on"] is False and "REPLICATE_INPAINT" in replicate["inpaint"]["reason"]
    assert server.requests == []                                              # asking costs nothing


def test_fal_down_hands_the_pose_to_the_fallback_which_records_it(server, make_settings):
    down = f"http://127.0.0.1:{free_port()}"                                  # nothing listens there
    settings = make_settings(**provider_values(server, "fal", fal_base_url=down, provider_retries=1,
                                               engine_fallback="replicate", replicate_api_token="r8-test-token",
                                               replicate_base_url=server.url))
    results = get_engine(settings).render([request(seed=3), request(seed=4)])
    assert [r.failure for r in results] == [None, None]
    for r in results:
        assert r.provider == "replicate" and r.image.size == (64, 96) and r.provider_job_id
        (failed,) = r.fallback
        assert failed["provider"] == "fal" and "could not be reached" in failed["error"]
        assert "after 2 tries" in failed["error"]
    assert [s[0] for s in server.submitted] == ["replicate", "replicate"]


def test_when_every_engine_fails_the_pose_fails_with_every_answer(server, make_settings):
    settings = make_settings(**provider_values(server, "fal", fal_key="wrong", engine_fallback="replicate",
                                               replicate_api_token="also-wrong", replicate_base_url=server.url))
    (result,) = get_engine(settings).render([request()])
    assert result.image is None and result.failure.code == "provider.all_failed"
    assert "FAL_KEY" in result.failure.message and "REPLICATE_API_TOKEN" in result.failure.message


@pytest.mark.parametrize("provider", ["fal", "replicate"])
def test_a_cancel_mid_flight_cancels_the_job_at_the_provider(server, make_settings, provider):
    server.never_finish = True
    engine = get_engine(make_settings(**provider_values(server, provider)))
    status_path = "/status" if provider == "fal" else "/v1/predictions/"

    def cancelled(i: int) -> bool:               # the user cancels once the job is running at the provider
        return len(server.calls(provider, "GET", status_path)) >= 2

    results = engine.render([request(seed=1), request(seed=2)], cancelled=cancelled)
    assert all(r.cancelled and r.image is None for r in results)
    assert sorted(server.cancelled) == sorted((provider, r.provider_job_id) for r in results)


# --- a whole batch --------------------------------------------------------------------------------------------------

from tests.batch_support import WAIT, balance, ledger, pose_files, poses, render, row_files, services_factory  # noqa: E402
from tests.factories import ready_shop  # noqa: E402

SIZES = "square=64x64,portrait=64x96,landscape=96x64"


@pytest.fixture
def make_svc(make_settings, db_url, tiny_engine_values, server):
    make, close_all = services_factory(make_settings, db_url, tiny_engine_values, runner_default=False,
                                       **provider_values(server, "fal"), output_sizes=SIZES)
    yield make
    close_all()


def plan(svc, shop, **fields) -> int:
    from core.generation import planning
    from core.generation.planning import BatchRequest

    request = BatchRequest(brand_kit_id=shop.kit.id, avatar_id=shop.avatar.id, product_id=shop.product.id, **fields)
    with svc.session() as s:
        return planning.start_batch(s, user=shop.user, request=request, settings=svc.settings,
                                    runner=svc.runner).id


def generation(svc, gid):
    from db.models import PoseGeneration

    with svc.session() as s:
        return s.get(PoseGeneration, gid)


def test_a_batch_rendered_at_fal_is_stored_like_a_local_one(make_svc, server):
    from core.generation.export import manifest_entry
    from core.library.poses.transforms import fit_to_aspect
    from db.models import PoseTemplate

    svc = make_svc()
    shop = ready_shop(svc)
    before = balance(svc, shop.user)
    gid = plan(svc, shop, template_ids=[shop.template.id], seed=5)
    g = generation(svc, gid)
    assert g.options["checks"]["renderer"]["name"] == "fal"                  # said when it was planned
    assert "inpaint" not in g.options["checks"]                              # fal inpaints: nothing is off
    fitted = fit_to_aspect(shop.template.keypoints, g.options["width"] / g.options["height"],
                           source_aspect=shop.template.aspect).to_json()
    looked_at = []

    def detector(image):                          # the pose check runs on the provider's image
        looked_at.append(image.copy())
        return [fitted]

    done = render(svc, gid, detector=detector)
    (pose,) = poses(svc, gid)
    assert done.status == "completed" and pose.status == "done" and pose.quality_checked
    (_, job_id, body) = server.submitted[0]
    model = "fal-ai/sdxl-controlnet-union/inpainting"
    assert (pose.provider, pose.provider_model, pose.provider_job_id) == ("fal", model, job_id)
    assert pose.provider_fallback is None and body["seed"] == pose.seed
    # product-first: fal got the canvas with the product on it and the mask around it; the product's opaque
    # pixels in the stored photo are the cut-out's exactly, whatever fal painted there
    assert server.calls("fal", "POST") == ["/" + model]
    assert body["image_url"].startswith("data:image/png") and body["mask_url"].startswith("data:image/png")
    assert pose.product_mode == "inpaint" and pose.product_fidelity["exact"] == 1.0
    assert pose_files(svc, shop.user) == row_files([pose]) and len(row_files([pose])) == 3
    # the stored control image is the one fal was sent; the stored photo is fal's (blended with the seed's colour)
    control = Image.open(io.BytesIO(svc.store.read(pose.control_path))).convert("RGB")
    assert np.array_equal(np.asarray(sent_control("fal", body)), np.asarray(control))
    assert len(looked_at) == 1 and looked_at[0].size == control.size
    photo = np.asarray(Image.open(io.BytesIO(svc.store.read(pose.image_path))).convert("RGB")).astype(int)
    assert photo.shape[:2] == (control.size[1], control.size[0])
    corner = photo[1, 1]
    expected = (np.asarray(control)[1, 1].astype(int) + np.asarray(seed_colour(pose.seed))) / 2
    assert np.abs(corner - expected).max() <= 2
    assert balance(svc, shop.user) == before - pose.cost
    with svc.session() as s:
        entry = manifest_entry(pose, s.get(PoseTemplate, pose.template_id), g.options, name="pose-1.png")
    assert (entry["provider"], entry["modelId"], entry["providerJobId"]) == ("fal", model, job_id)
    assert "fal-test-key" not in json.dumps(entry, default=str) and "fal-test-key" not in json.dumps(g.options)


def test_a_fal_timeout_refunds_the_pose_and_says_why(make_svc, server):
    svc = make_svc(provider_timeout_seconds=1, max_attempts=1)
    shop = ready_shop(svc)
    before = balance(svc, shop.user)
    server.never_finish = True
    gid = plan(svc, shop, pose_distribution={"product-holding": 2})
    g = render(svc, gid, detector=None)
    rows = poses(svc, gid)
    assert g.status == "failed" and [p.status for p in rows] == ["failed", "failed"]
    assert all("fal did not finish within 1 s" in p.error for p in rows), [p.error for p in rows]
    assert all(p.provider == "fal" and p.provider_job_id for p in rows)
    assert sorted(j for _, j in server.cancelled) == sorted(p.provider_job_id for p in rows)
    assert balance(svc, shop.user) == before and g.credits_refunded == g.credits_reserved
    assert sorted(r.delta for r in ledger(svc, shop.user, gid)) == [-g.credits_reserved, 10, 10]
    assert pose_files(svc, shop.user) == set()


def test_a_fallback_that_rendered_is_recorded_on_the_row_and_in_rest(make_svc, server):
    from api import create_api
    from core.accounts import users
    from fastapi.testclient import TestClient

    down = f"http://127.0.0.1:{free_port()}"
    svc = make_svc(fal_base_url=down, provider_retries=0, engine_fallback="replicate",
                   replicate_api_token="r8-test-token", replicate_base_url=server.url, auth="password")
    shop = ready_shop(svc)
    gid = plan(svc, shop, pose_distribution={"product-holding": 2})
    render(svc, gid, detector=None)
    rows = poses(svc, gid)
    assert [p.status for p in rows] == ["done", "done"]
    assert all(p.provider == "replicate" and p.provider_fallback[0]["provider"] == "fal" for p in rows)
    with svc.session() as s:
        token = users.issue_token(s, user=shop.user, settings=svc.settings)
    client = TestClient(create_api(svc))
    client.headers["Authorization"] = f"Bearer {token}"
    items = client.get(f"/api/apps/pose-generator/results/{gid}", params={"show": "all"}).json()["items"]
    assert {(i["provider"], i["providerJobId"] is not None) for i in items} == {("replicate", True)}
    assert all(i["providerFallback"][0]["provider"] == "fal" and "could not be reached" in
               i["providerFallback"][0]["error"] for i in items)
    assert all(not p.quality_checked for p in rows)                        # no detector here: not checked, said
    # analytics bill the two images at Replicate's price per image (fal rendered nothing), not as GPU hours
    headline = client.get("/api/analytics/dashboard").json()["headline"]
    price = svc.settings.replicate_price_idr
    assert headline["providerImages"] == {"replicate": 2} and headline["providerCostIdr"] == 2 * price
    assert headline["gpuSeconds"] == 0 and headline["gpuCostIdr"] == 2 * price


def test_a_user_cancel_cancels_the_jobs_at_fal_and_refunds(make_svc, server):
    from core.generation import batches

    svc = make_svc()
    shop = ready_shop(svc)
    before = balance(svc, shop.user)
    server.never_finish = True
    gid = plan(svc, shop, pose_distribution={"product-holding": 2})

    def user_cancels():                     # once both jobs are running at fal, the user presses Cancel
        deadline = time.monotonic() + WAIT
        while len(server.calls("fal", "GET", "/status")) < 2 and time.monotonic() < deadline:
            time.sleep(0.05)
        with svc.session() as s:
            batches.cancel(s, user=shop.user, generation_id=gid)

    canceller = threading.Thread(target=user_cancels)
    canceller.start()
    render(svc, gid, detector=None)
    canceller.join()
    rows = poses(svc, gid)
    assert [p.status for p in rows] == ["cancelled", "cancelled"]
    assert sorted(j for _, j in server.cancelled) == sorted(j for _, j, _ in server.submitted)
    assert len(server.cancelled) == 2
    assert balance(svc, shop.user) == before and pose_files(svc, shop.user) == set()


def test_without_an_inpainting_model_the_page_says_the_product_is_pasted_and_it_is(make_svc, server):
    from core.generation import checks
    from ui.results_view import checks_html

    svc = make_svc(fal_inpaint_model="")
    planned = checks.planned(svc.settings)
    html = checks_html(planned, None, elem_id="apg-checks")
    assert "rendered by fal (fal-ai/sdxl-controlnet-union), on its servers" in html
    assert "product pasted, not generated around" in html and "FAL_INPAINT_MODEL" in html
    assert "Avatar likeness is off: fal (fal-ai/sdxl-controlnet-union) takes no face image" in html
    shop = ready_shop(svc)
    gid = plan(svc, shop, pose_distribution={"product-holding": 1})
    assert generation(svc, gid).options["checks"]["inpaint"]["on"] is False    # recorded with the batch
    render(svc, gid, detector=None)
    (pose,) = poses(svc, gid)
    assert pose.status == "done" and pose.product_mode == "paste" and pose.provider_model == "fal-ai/sdxl-controlnet-union"
    assert server.calls("fal", "POST") == ["/fal-ai/sdxl-controlnet-union"] and "mask_url" not in server.submitted[0][2]


# --- an rq worker process ----------------------------------------------------------------------------------------------

@pytest.mark.postgres
@pytest.mark.redis
@pytest.mark.slow
def test_an_rq_worker_renders_a_batch_at_fal(request, tmp_path, tiny_engine_values, redis_url, server):
    """Workers share a Postgres database (the SQLite case is the in-process flow above)."""
    from tests.conftest import make_database
    from tests.support import WorkerProcess
    from tests.test_batch_workers import assert_consistent, build_services, snapshot, start, wait_for, finished

    db_url = make_database("postgres", request, tmp_path)
    values = {**tiny_engine_values, **dict(database_url=db_url, storage_dir=tmp_path / "files", auth="password",
                                           starting_credits=1000, engine_steps=2, engine_batch_size=2,
                                           job_chunk_size=2, max_attempts=2, redis_url=redis_url,
                                           output_sizes=SIZES), **provider_values(server, "fal")}
    svc = build_services(values)
    worker = None
    try:
        shop = ready_shop(svc, "siti")
        balance_before, usage_before = snapshot(svc, shop.user.id)
        gid = start(svc, shop, 4)
        worker = WorkerProcess(values, tmp_path, "fal")
        wait_for(svc, gid, [worker], "the batch at fal", lambda: finished(svc, gid))
        rows = assert_consistent(svc, gid, user_id=shop.user.id, total=4, balance_before=balance_before,
                                 usage_before=usage_before)
        assert [r.status for r in rows] == ["done"] * 4
        assert all(r.provider == "fal" and str(worker.pid) in r.worker_id for r in rows)
        assert sorted(r.provider_job_id for r in rows) == sorted(j for _, j, _ in server.submitted)
        assert "fal-test-key" not in worker.tail()
    finally:
        if worker is not None:
            worker.terminate()
            worker.stop()
        svc.close()
