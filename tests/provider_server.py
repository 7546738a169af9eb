"""A real HTTP server on 127.0.0.1 that speaks the parts of three hosted providers' documented HTTP protocols our
engines use, so the providers' own client libraries (fal-client, replicate, huggingface_hub) run unchanged
against it. Written from the public API docs:

fal queue (docs.fal.ai/model-apis/model-endpoints/queue), `Authorization: Key <FAL_KEY>`:
    POST /<owner>/<alias>[/<path>]                  {"request_id", "response_url", "status_url", "cancel_url",
                                                     "queue_position"}; the URLs are fal's own
                                                     (https://queue.fal.run/...), as the real queue answers
    GET  /<owner>/<alias>/requests/<id>/status       {"status": "IN_QUEUE" | "IN_PROGRESS" | "COMPLETED", ...}
    GET  /<owner>/<alias>/requests/<id>              the result: {"images": [{"url", "width", "height",
                                                     "content_type"}], "seed", ...}
    PUT  /<owner>/<alias>/requests/<id>/cancel       202 {"status": "CANCELLATION_REQUESTED"}
Replicate HTTP API (replicate.com/docs/reference/http), `Authorization: Bearer <token>`:
    GET  /v1/models/<owner>/<name>                   the model with its latest_version
    POST /v1/predictions {"version", "input"}        201, a prediction {"id", "status": "starting", "urls", ...}
    GET  /v1/predictions/<id>                        "processing", then "succeeded" with output [url]
    POST /v1/predictions/<id>/cancel                 the prediction, "canceled"
    errors: RFC 7807 {"title", "detail", "status"}
Hugging Face Inference (an Inference Endpoint's task API), `Authorization: Bearer <HF_TOKEN>`:
    POST /hf[/...] {"inputs": base64 image, "parameters": {...}}    the image's bytes (image/png)
Files: GET /files/<name>.png (the result images the answers link to).

A render is the control image scaled to the asked size, blended with a colour made from the seed: a real image
of the asked size that differs by seed, so tests can tell results apart and see the pose was sent.

Scripted behaviour (set before or during a test): `polls` status answers in progress before done;
`fail_submits` HTTP statuses answered to the next submits (popped one per submit); `never_finish`; `job_error`
(the job completes with this error); `hf_delay` seconds an HF request is held. Recorded: `requests`
((provider, method, path)), `submitted` ((provider, job id, body)), `cancelled` ((provider, job id)).
"""
from __future__ import annotations

import base64
import io
import itertools
import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import urlparse

from PIL import Image

FAL_QUEUE = "https://queue.fal.run"


def seed_colour(seed: int) -> tuple[int, int, int]:
    return (seed * 67 % 256, seed * 131 % 256, seed * 197 % 256)


def render(control_png: bytes, width: int, height: int, seed: int) -> bytes:
    """What the stand-in 'renders': the pose drawing at the asked size, half-blended with the seed's colour."""
    control = Image.open(io.BytesIO(control_png)).convert("RGB").resize((width, height))
    out = io.BytesIO()
    Image.blend(control, Image.new("RGB", (width, height), seed_colour(seed)), 0.5).save(out, "PNG")
    return out.getvalue()


def _data(uri: str) -> bytes:
    return base64.b64decode(uri.split(",", 1)[1] if uri.startswith("data:") else uri)


class ProviderServer:
    def __init__(self, *, fal_key="fal-test-key", replicate_token="r8-test-token", hf_token="hf-test-token"):
        self.keys = {"fal": f"Key {fal_key}", "replicate": f"Bearer {replicate_token}",
                     "hf": f"Bearer {hf_token}"}
        self.polls = 0
        self.fail_submits: list[int] = []
        self.never_finish = False
        self.job_error: str | None = None
        self.hf_delay = 0.0
        self.requests: list[tuple[str, str, str]] = []
        self.submitted: list[tuple[str, str, dict]] = []
        self.cancelled: list[tuple[str, str]] = []
        self.jobs: dict[str, dict] = {}
        self.files: dict[str, bytes] = {}
        self._ids = itertools.count(1)
        self._lock = threading.Lock()
        self._httpd = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self._httpd.daemon_threads = True
        self._thread = threading.Thread(target=self._httpd.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self._httpd.server_address[1]}"

    @property
    def hf_url(self) -> str:
        return self.url + "/hf"

    def __enter__(self):
        self._thread.start()
        return self

    def __exit__(self, *exc):
        self._httpd.shutdown()
        self._httpd.server_close()

    def calls(self, provider: str, method: str | None = None, contains: str = "") -> list[str]:
        return [p for who, m, p in self.requests if who == provider and (method is None or m == method)
                and contains in p]

    # --- jobs ---------------------------------------------------------------------------------------------
    def _new_job(self, provider: str, body: dict, control: bytes, width: int, height: int, seed: int) -> str:
        with self._lock:
            job_id = f"{provider}-{next(self._ids):04d}"
            self.jobs[job_id] = {"polls": 0, "state": "queued", "control": control, "width": width,
                                 "height": height, "seed": seed, "provider": provider}
            self.submitted.append((provider, job_id, body))
        return job_id

    def _advance(self, job_id: str) -> dict:
        """One status poll: queued -> running (self.polls polls) -> done | failed; cancelled stays cancelled."""
        with self._lock:
            job = self.jobs[job_id]
            if job["state"] in ("cancelled", "done", "failed"):
                return job
            job["polls"] += 1
            if self.never_finish or job["polls"] <= self.polls:
                job["state"] = "running" if job["polls"] > 1 or self.polls == 0 else "queued"
                return job
            if self.job_error:
                job["state"], job["error"] = "failed", self.job_error
                return job
            job["state"] = "done"
            name = f"{job_id}.png"
            self.files[name] = render(job["control"], job["width"], job["height"], job["seed"])
            job["url"] = f"{self.url}/files/{name}"
            return job

    def _cancel(self, provider: str, job_id: str) -> dict:
        with self._lock:
            job = self.jobs[job_id]
            self.cancelled.append((provider, job_id))
            if job["state"] not in ("done", "failed"):
                job["state"] = "cancelled"
            return job

    # --- HTTP ---------------------------------------------------------------------------------------------
    def _handler(self):
        server = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args):
                pass

            def _send(self, status: int, body, content_type="application/json"):
                data = body if isinstance(body, bytes) else json.dumps(body).encode()
                self.send_response(status)
                self.send_header("Content-Type", content_type)
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def _body(self) -> dict:
                length = int(self.headers.get("Content-Length") or 0)
                raw = self.rfile.read(length) if length else b""
                return json.loads(raw) if raw else {}

            def _provider(self, path: str) -> str:
                if path.startswith("/v1/"):
                    return "replicate"
                if path.startswith("/hf"):
                    return "hf"
                if path.startswith("/files/"):
                    return "files"
                return "fal"

            def _route(self, method: str):
                path = urlparse(self.path).path
                who = self._provider(path)
                server.requests.append((who, method, path))
                body = self._body() if method in ("POST", "PUT") else {}
                if who == "files":
                    data = server.files.get(path.rsplit("/", 1)[1])
                    return self._send(200, data, "image/png") if data else self._send(404, {"detail": "no file"})
                if self.headers.get("Authorization") != server.keys[who]:
                    return self._unauthorized(who)
                return getattr(self, f"_{who}")(method, path, body)

            def do_GET(self):
                self._route("GET")

            def do_POST(self):
                self._route("POST")

            def do_PUT(self):
                self._route("PUT")

            def _unauthorized(self, who: str):
                if who == "replicate":
                    return self._send(401, {"title": "Unauthenticated", "status": 401,
                                            "detail": "You did not pass a valid authentication token"},
                                      "application/problem+json")
                if who == "hf":
                    return self._send(401, {"error": "Invalid credentials in Authorization header"})
                return self._send(401, {"detail": "No user found for Key ID and Secret"})

            def _failing_submit(self, who: str):
                with server._lock:
                    status = server.fail_submits.pop(0) if server.fail_submits else None
                if status is None:
                    return False
                if who == "replicate":
                    self._send(status, {"title": "Service Unavailable", "status": status,
                                        "detail": "the service is overloaded"}, "application/problem+json")
                elif who == "hf":
                    self._send(status, {"error": "Model is currently loading", "estimated_time": 0.1})
                else:
                    self._send(status, {"detail": "upstream is overloaded"})
                return True

            # fal's queue ------------------------------------------------------------------------------
            def _fal(self, method: str, path: str, body: dict):
                parts = path.strip("/").split("/")
                if "requests" in parts:
                    at = parts.index("requests")
                    app, job_id, rest = "/".join(parts[:at]), parts[at + 1], parts[at + 2:]
                    if job_id not in server.jobs:
                        return self._send(404, {"detail": f"Request {job_id} not found"})
                    base = f"{FAL_QUEUE}/{app}/requests/{job_id}"
                    if method == "GET" and rest == ["status"]:
                        job = server._advance(job_id)
                        state = job["state"]
                        if state == "queued":
                            return self._send(202, {"status": "IN_QUEUE", "queue_position": 0,
                                                    "response_url": base})
                        if state == "running":
                            return self._send(202, {"status": "IN_PROGRESS", "logs": [], "response_url": base})
                        answer = {"status": "COMPLETED", "logs": [], "response_url": base,
                                  "metrics": {"inference_time": 0.01}}
                        if state == "failed":
                            answer.update(error=job["error"], error_type="runner_error")
                        if state == "cancelled":
                            answer.update(error="Request was cancelled", error_type="request_cancelled")
                        return self._send(200, answer)
                    if method == "GET" and not rest:
                        job = server.jobs[job_id]
                        if job["state"] != "done":
                            return self._send(400, {"detail": "Request is still in progress"})
                        return self._send(200, {"images": [{"url": job["url"], "width": job["width"],
                                                            "height": job["height"],
                                                            "content_type": "image/png"}],
                                                "seed": job["seed"], "has_nsfw_concepts": [False],
                                                "prompt": "", "timings": {"inference": 0.01}})
                    if method == "PUT" and rest == ["cancel"]:
                        job = server._cancel("fal", job_id)
                        if job["state"] in ("done", "failed"):
                            return self._send(400, {"status": "ALREADY_COMPLETED"})
                        return self._send(202, {"status": "CANCELLATION_REQUESTED"})
                    return self._send(405, {"detail": "Method not allowed"})
                if method != "POST" or len(parts) < 2:
                    return self._send(404, {"detail": "Application not found"})
                if self._failing_submit("fal"):
                    return
                size = body.get("image_size") or {}
                try:
                    control = _data(body["openpose_image_url"])
                    width, height, seed = int(size["width"]), int(size["height"]), int(body["seed"])
                except (KeyError, TypeError, ValueError) as exc:
                    return self._send(422, {"detail": [{"loc": ["body", str(exc)], "msg": "field required",
                                                        "type": "value_error.missing"}]})
                job_id = server._new_job("fal", body, control, width, height, seed)
                app = "/".join(parts[:2])
                base = f"{FAL_QUEUE}/{app}/requests/{job_id}"
                return self._send(200, {"status": "IN_QUEUE", "request_id": job_id, "response_url": base,
                                        "status_url": base + "/status", "cancel_url": base + "/cancel",
                                        "queue_position": 0})

            # Replicate's predictions ------------------------------------------------------------------
            def _prediction(self, job_id: str) -> dict:
                job = server.jobs[job_id]
                status = {"queued": "starting", "running": "processing", "done": "succeeded",
                          "failed": "failed", "cancelled": "canceled"}[job["state"]]
                base = f"{server.url}/v1/predictions/{job_id}"
                return {"id": job_id, "model": "lucataco/sdxl-controlnet-openpose", "version": job.get("version"),
                        "input": {}, "logs": "", "error": job.get("error"), "status": status,
                        "output": [job["url"]] if job["state"] == "done" else None, "metrics": {},
                        "created_at": "2026-12-05T00:00:00Z", "started_at": None, "completed_at": None,
                        "urls": {"get": base, "cancel": base + "/cancel"}}

            def _replicate(self, method: str, path: str, body: dict):
                parts = path.strip("/").split("/")[1:]
                if method == "GET" and parts[:1] == ["models"] and len(parts) == 3:
                    owner, name = parts[1], parts[2]
                    return self._send(200, {
                        "url": f"https://replicate.com/{owner}/{name}", "owner": owner, "name": name,
                        "description": "SDXL ControlNet OpenPose", "visibility": "public", "github_url": None,
                        "paper_url": None, "license_url": None, "run_count": 1, "cover_image_url": None,
                        "default_example": None,
                        "latest_version": {"id": "v" + "0" * 63, "created_at": "2026-01-01T00:00:00Z",
                                           "cog_version": "0.9.0", "openapi_schema": {}}})
                if parts == ["predictions"] and method == "POST":
                    if self._failing_submit("replicate"):
                        return
                    inputs = body.get("input") or {}
                    try:
                        control = _data(inputs["image"])
                        width, height, seed = int(inputs["width"]), int(inputs["height"]), int(inputs["seed"])
                    except (KeyError, TypeError, ValueError) as exc:
                        return self._send(422, {"title": "Invalid input", "status": 422,
                                                "detail": f"input: {exc} is required"},
                                          "application/problem+json")
                    job_id = server._new_job("replicate", body, control, width, height, seed)
                    server.jobs[job_id]["version"] = body.get("version")
                    return self._send(201, self._prediction(job_id))
                if len(parts) >= 2 and parts[0] == "predictions":
                    job_id = parts[1]
                    if job_id not in server.jobs:
                        return self._send(404, {"title": "Not found", "status": 404, "detail": "Not found."},
                                          "application/problem+json")
                    if method == "GET" and len(parts) == 2:
                        server._advance(job_id)
                        return self._send(200, self._prediction(job_id))
                    if method == "POST" and parts[2:] == ["cancel"]:
                        server._cancel("replicate", job_id)
                        return self._send(200, self._prediction(job_id))
                return self._send(404, {"title": "Not found", "status": 404, "detail": "Not found."},
                                  "application/problem+json")

            # Hugging Face Inference -------------------------------------------------------------------
            def _hf(self, method: str, path: str, body: dict):
                if method != "POST":
                    return self._send(405, {"error": "Method not allowed"})
                if self._failing_submit("hf"):
                    return
                params = body.get("parameters") or {}
                try:
                    control = _data(body["inputs"])
                    size = params["target_size"]
                    width, height, seed = int(size["width"]), int(size["height"]), int(params.get("seed", 0))
                except (KeyError, TypeError, ValueError) as exc:
                    return self._send(400, {"error": f"bad request: {exc}"})
                job_id = server._new_job("hf", body, control, width, height, seed)
                if server.hf_delay:
                    time.sleep(server.hf_delay)
                return self._send(200, render(control, width, height, seed), "image/png")

        return Handler
