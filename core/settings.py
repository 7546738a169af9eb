"""The ONLY module that reads the environment. One frozen Settings object, read once at start-up.

Defaults make `python app.py` work on a laptop with nothing else installed: a SQLite file and a
local storage directory under ./data, no Redis (in-process runner), no login (AUTH=none).
Tests build Settings(...) directly with the values they need.
"""
from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Literal

from pydantic import AliasChoices, Field, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

ROOT = Path(__file__).resolve().parent.parent
ASSETS_DIR = ROOT / "assets"


class Settings(BaseSettings):
    model_config = SettingsConfigDict(frozen=True, extra="ignore", case_sensitive=False)

    # --- serving ---------------------------------------------------------------------------
    host: str = Field(
        "127.0.0.1", validation_alias=AliasChoices("host", "gradio_server_name"),
        description="Address the web server binds to (the Docker image uses 0.0.0.0; a Gradio Space sets "
                    "GRADIO_SERVER_NAME, which is read too).")
    port: int = Field(7860, ge=1, le=65535, validation_alias=AliasChoices("port", "gradio_server_port"),
                      description="Port of the web server (GRADIO_SERVER_PORT is read too).")

    # --- data ------------------------------------------------------------------------------
    database_url: str = Field(
        f"sqlite:///{ROOT / 'data' / 'app.db'}",
        description="SQLAlchemy URL. SQLite file by default; postgresql+psycopg://user@host/db for Postgres.",
    )
    redis_url: str | None = Field(None, description="Redis URL. Unset: work runs in the app process; set: rq workers.")
    storage_dir: Path = Field(ROOT / "data" / "files", description="Directory for uploaded and generated files.")

    # --- users -----------------------------------------------------------------------------
    auth: Literal["none", "password"] = Field(
        "none", description="`none`: one local admin, no login. `password`: real accounts with login."
    )
    local_admin_username: str = Field("admin", description="Name of the single user when AUTH=none.")
    token_ttl_hours: int = Field(24 * 30, ge=1, description="Lifetime of REST API tokens.")
    starting_credits: int = Field(1000, ge=0, description="Credits a new account starts with.")

    # --- upload limits ---------------------------------------------------------------------
    max_avatar_size_mb: float = Field(10, gt=0, description="Largest avatar upload.")
    max_product_size_mb: float = Field(20, gt=0, description="Largest product photo upload.")
    max_logo_size_mb: float = Field(5, gt=0, description="Largest brand-kit logo upload.")
    max_pose_file_size_mb: float = Field(10, gt=0, description="Largest pose file to import (skeleton image, photo or JSON).")
    max_image_side: int = Field(8000, ge=64, description="Longest side (px) an uploaded image may have.")
    max_image_pixels: int = Field(50_000_000, ge=4096, description="Most pixels an uploaded image may decode to.")

    # --- background removal (products) -------------------------------------------------------
    rembg_model: str = Field(
        "isnet-general-use",
        description="rembg model for product cut-outs: a rembg name (isnet-general-use, u2net, u2netp, "
                    "birefnet-general, ...) or custom:<file>.onnx for your own U2Net-shaped net in REMBG_HOME.",
    )
    rembg_home: Path | None = Field(
        None, description="Folder holding rembg's .onnx weights (<name>.onnx or models/<name>/<name>.onnx). "
                          "Unset: rembg's own folders (~/.u2net, ~/.rembg/models). When the file is in none of "
                          "them, it is looked for in MODEL_DIR/<REMBG_REPO> and the Hub cache, then downloaded "
                          "from REMBG_REPO (MODEL_DOWNLOADS)."
    )
    rembg_repo: str = Field(
        "tomjackson2023/rembg", description="Hub repository holding rembg's <name>.onnx files at its root (the "
                                            "same files rembg's own releases publish); where a missing rembg "
                                            "model is downloaded from.")
    rembg_revision: str | None = Field(None, description="Revision (commit, tag, branch) of REMBG_REPO.")
    u2net_home: str | None = Field(
        None, description="rembg's own variable, read here for the weights check: with REMBG_HOME unset, rembg's "
                          "folders are U2NET_HOME (models and the legacy flat layout).")
    xdg_data_home: str | None = Field(
        None, description="With REMBG_HOME and U2NET_HOME unset, rembg's folders are $XDG_DATA_HOME/rembg and "
                          "$XDG_DATA_HOME/.u2net instead of ~/.rembg and ~/.u2net.")

    # --- pose library ------------------------------------------------------------------------
    pose_flag_below: float = Field(
        0.5, ge=0, le=1, description="Templates whose success rate falls below this are flagged and picked less."
    )
    pose_flag_min_uses: int = Field(10, ge=1, description="Uses a template needs before its success rate can flag it.")

    # --- generation ------------------------------------------------------------------------
    max_poses_per_generation: int = Field(500, ge=1, description="Largest batch one generation may ask for.")
    quality_threshold: float = Field(
        0.6, ge=0, le=1, description="Pose check: share of the template's joints the image must reproduce to pass.")
    max_attempts: int = Field(3, ge=1, le=10, description="Renders per pose (a new seed each time) before it fails.")
    product_mode: Literal["inpaint", "paste"] = Field(
        "inpaint", description="How the product gets into the photo: inpaint (the cut-out is placed first and the "
                               "person and scene are generated around it, its opaque pixels kept exactly; worn "
                               "garments are warped onto the body and redrawn) or paste (rendered first, the "
                               "cut-out pasted on top; worn products from the prompt only).")
    worn_strength: float = Field(
        0.6, gt=0, le=1, description="How much of a worn garment warped onto the body is redrawn (0-1]: lower keeps "
                                     "more of its colours and pattern, higher more of the model's folds and light.")
    identity_threshold: float | None = Field(
        None, ge=-1, le=1, description="Identity gate: an image whose face scores below this (cosine of CLIP image "
                                       "embeddings against the avatar's face, -1..1) is retried like a failed pose "
                                       "check. Unset: the score is recorded only.")
    job_chunk_size: int = Field(8, ge=1, le=100, description="Poses per queue job (a worker claims them together).")
    heartbeat_seconds: float = Field(10, gt=0, description="How often a worker marks the poses it renders as alive.")
    stale_after_seconds: float = Field(
        90, gt=0, description="A running pose with no heartbeat for this long is handed out again (dead worker).")
    reaper_seconds: float = Field(
        30, gt=0, description="How often the app and each worker look for stale poses and lost queue jobs.")

    # --- analytics: what the work saved (core/analytics/metrics.py; README "Analytics" explains each) -------
    shoot_cost_idr: int = Field(
        6_500_000, ge=0, description="Low-end price (Rupiah) of one product photoshoot with a model; savings use it.")
    shoot_cost_high_idr: int = Field(
        19_000_000, ge=0, description="High-end price (Rupiah) of one photoshoot; shown as the upper estimate.")
    shoot_images: int = Field(40, ge=1, description="Edited photos one photoshoot delivers.")
    subscription_idr_per_month: int = Field(
        299_000, ge=0, description="Subscription price (Rupiah a month), taken off the savings for the net saving.")
    minutes_saved_per_image: float = Field(
        20, ge=0, description="Minutes one accepted image saves against a shoot plus retouching.")
    minutes_saved_per_poster: float = Field(15, ge=0, description="Minutes one poster saves against laying it out by hand.")
    gpu_cost_per_hour_idr: int = Field(
        48_000, ge=0, description="Price of one GPU hour (Rupiah; an on-demand H100) for the cost per accepted image.")
    analytics_utc_offset_hours: float = Field(
        7, ge=-12, le=14, description="UTC offset the months of analytics are counted in (7 = WIB, Jakarta).")

    # --- generation engine (engine/pipeline.py; README "Settings" lists each) ------------------
    engine: Literal["sd15", "sdxl", "tiny", "tiny-sdxl", "fal", "replicate", "hf"] = Field(
        "sd15", description="Model family: sd15 (SD 1.5 + OpenPose ControlNet), sdxl, or tiny / tiny-sdxl "
                            "(random-weight toy models built locally: tests and smoke runs, 64x64); or a hosted "
                            "provider that renders remotely (engine/providers): fal, replicate, hf.")
    engine_fallback: str = Field(
        "", pattern=r"^\s*((sd15|sdxl|tiny|tiny-sdxl|fal|replicate|hf)\s*(,\s*(sd15|sdxl|tiny|tiny-sdxl|fal|replicate|hf)\s*)*)?$",
        description="Engines tried in order when ENGINE fails a pose (provider down, timed out, key refused), "
                    "e.g. fal,replicate; empty: none. Each fallback that rendered an image is recorded on it.")
    # --- hosted providers (engine/providers; keys are never logged, never in manifests) --------------------
    fal_key: str | None = Field(None, repr=False, description="fal.ai API key (FAL_KEY).")
    fal_base_url: str = Field("https://queue.fal.run", description="fal's queue API (a proxy or a test server).")
    fal_model: str = Field("fal-ai/sdxl-controlnet-union",
                           description="fal endpoint rendering a prompt + OpenPose skeleton (openpose_image_url).")
    fal_inpaint_model: str | None = Field(
        "fal-ai/sdxl-controlnet-union/inpainting",
        description="fal endpoint for product-first inpainting (image_url + mask_url + the skeleton); empty: the "
                    "product is pasted instead, said before the user pays.")
    replicate_api_token: str | None = Field(None, repr=False, description="Replicate API token (REPLICATE_API_TOKEN).")
    replicate_base_url: str = Field("https://api.replicate.com", description="Replicate's HTTP API.")
    replicate_model: str = Field(
        "lucataco/sdxl-controlnet-openpose",
        description="Replicate model owner/name[:version] taking a prompt and a pose image; without a version its "
                    "latest version is looked up once and recorded.")
    replicate_inputs: str = Field(
        "{}", description="JSON object renaming the inputs sent to REPLICATE_MODEL (ours: prompt, negative_prompt, "
                          "image, mask, seed, width, height, num_inference_steps, guidance_scale, condition_scale, "
                          "prompt_strength), e.g. {\"image\": \"controlnet_1_image\"}; null drops one.")
    replicate_inpaint: bool = Field(
        False, description="REPLICATE_MODEL also inpaints (takes image + mask): product-first renders there.")
    hf_token: str | None = Field(None, repr=False, description="Hugging Face token for Inference Providers (HF_TOKEN).")
    hf_inference_base_url: str | None = Field(
        None, description="An Inference Endpoint (or gateway) serving image-to-image with a pose ControlNet. Unset: "
                          "Hugging Face's router for HF_INFERENCE_PROVIDER.")
    hf_inference_provider: str = Field("hf-inference", description="Inference Provider behind the router.")
    hf_model: str | None = Field(
        None, description="Model id for image_to_image (the pose skeleton in, the photo out). Needed unless "
                          "HF_INFERENCE_BASE_URL names an endpoint that serves one model.")
    provider_timeout_seconds: float = Field(
        300, ge=1, le=3600, description="Most seconds one hosted render may take (queue included); then it is "
                                        "cancelled at the provider and the pose refunded.")
    provider_concurrency: int = Field(4, ge=1, le=64, description="Hosted renders of one micro-batch in flight at once.")
    provider_retries: int = Field(3, ge=0, le=10, description="Retries of a transient provider error (5xx, 429, network).")
    provider_poll_seconds: float = Field(
        1.0, gt=0, le=60, description="First wait between status polls; it grows 1.5x per poll up to 10 s.")
    fal_price_idr: int = Field(400, ge=0, description="What one fal image costs (Rupiah), for analytics.")
    replicate_price_idr: int = Field(600, ge=0, description="What one Replicate image costs (Rupiah), for analytics.")
    hf_price_idr: int = Field(400, ge=0, description="What one Hugging Face Inference image costs (Rupiah).")
    sd15_base_model: str = Field("stable-diffusion-v1-5/stable-diffusion-v1-5",
                                 description="SD 1.5 base pipeline: Hub id or local folder.")
    sd15_base_revision: str | None = Field(None, description="Hub revision (branch, tag, commit) of the SD 1.5 base.")
    sd15_controlnet_model: str = Field("lllyasviel/control_v11p_sd15_openpose",
                                       description="SD 1.5 OpenPose ControlNet: Hub id or local folder.")
    sd15_controlnet_revision: str | None = Field(None, description="Hub revision of the SD 1.5 ControlNet.")
    sdxl_base_model: str = Field("stabilityai/stable-diffusion-xl-base-1.0",
                                 description="SDXL base pipeline: Hub id or local folder.")
    sdxl_base_revision: str | None = Field(None, description="Hub revision of the SDXL base.")
    sdxl_controlnet_model: str = Field("xinsir/controlnet-openpose-sdxl-1.0",
                                       description="SDXL OpenPose ControlNet: Hub id or local folder.")
    sdxl_controlnet_revision: str | None = Field(None, description="Hub revision of the SDXL ControlNet.")
    model_dir: Path | None = Field(
        None, description="Folder of local models laid out as <model_dir>/<owner>/<name> (what "
                          "`hf download <id> --local-dir <model_dir>/<id>` writes); used before the Hub cache.")
    hf_cache_dir: Path | None = Field(
        None, description="Hugging Face cache folder. Unset: huggingface_hub's default (HF_HOME/hub).")
    hf_endpoint: str | None = Field(
        None, description="The Hugging Face Hub's base URL (HF_ENDPOINT): a mirror, a proxy or a test server. "
                          "Unset: https://huggingface.co.")
    model_downloads: bool = Field(
        True, description="Download missing weights from the Hub when it is reachable. false (or HF_HUB_OFFLINE=1): "
                          "local files only.")
    engine_device: Literal["auto", "cuda", "mps", "cpu"] = Field("auto", description="Where the engine runs.")
    engine_dtype: Literal["auto", "fp16", "bf16", "fp32"] = Field(
        "auto", description="Weights precision. auto: fp16 on CUDA and MPS, fp32 on CPU.")
    engine_scheduler: Literal["unipc", "dpm++2m", "euler_a", "ddim", "lcm"] = Field(
        "unipc", description="Sampler (dpm++2m uses Karras sigmas).")
    engine_steps: int = Field(25, ge=1, le=150, description="Denoising steps per image.")
    engine_guidance: float = Field(7.0, ge=0, le=30, description="Classifier-free guidance scale (<= 1: off).")
    controlnet_scale: float = Field(1.0, ge=0, le=2, description="How strongly the pose skeleton steers the image.")
    engine_compile: bool = Field(False, description="torch.compile the UNet (GPU; slow first batch).")
    engine_channels_last: bool = Field(False, description="channels_last memory format for UNet, ControlNet, VAE.")
    engine_exact_batches: bool = Field(
        True, description="CPU only: image i of a micro-batch is bit-identical to its seed rendered alone.")
    engine_batch_size: int = Field(4, ge=1, le=32, description="Most poses rendered in one pipeline call.")
    spaces_zero_gpu: bool = Field(
        False, description="Set by Hugging Face on a ZeroGPU Space (SPACES_ZERO_GPU): the GPU is lent to the app's "
                           "own process, so RENDER_PROCESS=auto renders there.")
    render_process: Literal["auto", "child", "thread"] = Field(
        "auto", description="Without REDIS_URL, where jobs run: child = one render process of the app, started on "
                            "first use (the web process never loads torch or the models); thread = threads of the "
                            "web process; auto = child, except on a ZeroGPU Space (thread: the GPU is lent to the "
                            "app's own process).")
    engine_threads: int = Field(
        0, ge=0, le=256, description="CPU threads torch uses (on the one render thread that owns torch, set before "
                                     "its first operation). 0: the CPU cores this process may use.")
    fast_lora: str | None = Field(
        None, description="Few-step LoRA (LCM / Hyper-SD; Hub id or folder), fused at load; switches to the LCM "
                          "scheduler with fast_lora_steps / fast_lora_guidance. Needs the peft package.")
    fast_lora_weight_name: str | None = Field(None, description="File inside the few-step LoRA repository.")
    fast_lora_steps: int = Field(6, ge=1, le=50, description="Steps in few-step mode.")
    fast_lora_guidance: float = Field(1.5, ge=0, le=30, description="Guidance scale in few-step mode.")
    ip_adapter: Literal["auto", "true", "false"] = Field(
        "auto", description="Avatar likeness (IP-Adapter): auto = on when its weights and image encoder are here or "
                            "can be downloaded (MODEL_DOWNLOADS), otherwise off with the reason shown; true = required "
                            "(missing weights are a 503 naming file and folder); false = off.")
    garment_ip_adapter: Literal["auto", "true", "false"] | None = Field(
        None, description="Second, general IP-Adapter conditioned on the garment cut-out. Unset: auto unless "
                          "IP_ADAPTER=false.")
    garment_ip_adapter_weight: str | None = Field(
        None, description="<subfolder>/<file> in IP_ADAPTER_MODEL. Unset: models/ip-adapter-plus_sd15.safetensors "
                          "(sd15), sdxl_models/ip-adapter-plus_sdxl_vit-h.safetensors (sdxl).")
    garment_ip_adapter_scale: float = Field(0.5, ge=0, le=2, description="Garment IP-Adapter strength.")
    ip_adapter_model: str = Field("h94/IP-Adapter", description="IP-Adapter repository (Hub id or local folder).")
    ip_adapter_weight: str | None = Field(
        None, description="<subfolder>/<file> inside it. Unset: models/ip-adapter-plus-face_sd15.safetensors (sd15), "
                          "sdxl_models/ip-adapter-plus-face_sdxl_vit-h.safetensors (sdxl).")
    ip_adapter_scale: float = Field(0.6, ge=0, le=2, description="IP-Adapter strength.")
    output_sizes: str = Field(
        "auto", pattern=r"^(auto|[a-z][a-z0-9_-]*=\d+x\d+(,[a-z][a-z0-9_-]*=\d+x\d+)*)$",
        description="Output size presets name=WxH,...; auto: 512 px presets (sd15), 1024 px (sdxl), 64 px (tiny).")
    pose_detector: str = Field("lllyasviel/Annotators",
                               description="OpenPose detector weights (body_pose_model.pth): Hub id or local folder.")
    pose_detector_resolution: int = Field(512, ge=64, le=2048, description="Longest side the pose detector sees.")
    tiny_model_dir: Path | None = Field(
        None, description="Where ENGINE=tiny writes its toy models. Unset: <storage_dir>/cache/tiny-engine.")


    # --- workers and sign-in (jobs/worker.py, core/accounts/login_limits.py, api/login.py) ------------------
    worker_name_lease_seconds: float = Field(
        15, ge=1, le=600, description="How long a worker's --name stays claimed after the worker dies without "
                                      "stopping (SIGKILL, power loss); a live worker renews its claim every third of it.")
    login_attempts_per_account: int = Field(
        10, ge=1, description="Sign-in attempts one account accepts per LOGIN_WINDOW_SECONDS (REST and the form); "
                              "then 429 with Retry-After.")
    login_attempts_per_address: int = Field(
        30, ge=1, description="Sign-in attempts one client address may make per LOGIN_WINDOW_SECONDS, over all "
                              "accounts (an office or a proxy can share one address).")
    login_window_seconds: int = Field(60, ge=1, le=86400, description="The moving window the sign-in limits count in.")
    login_limit_storage: str | None = Field(
        None, description="Where sign-in attempts are counted: a `limits` storage URI (memory://, redis://...). "
                          "Unset: REDIS_URL when set (shared by every app process), else memory:// (this process).")
    forwarded_allow_ips: str = Field(
        "127.0.0.1", description="Proxies trusted to set X-Forwarded-For / X-Forwarded-Proto (comma-separated "
                                 "IPs or networks, * for any): the client address and https come from them.")
    # --- Gradio's upload cache (ui/upload_guard.py) ------------------------------------------
    upload_cache_seconds: int = Field(
        3600, ge=1, description="How long an upload that no action used stays in Gradio's upload cache; "
                                "uploads that were saved or refused leave it at once.")

    @field_validator("sd15_base_revision", "sd15_controlnet_revision", "sdxl_base_revision",
                     "sdxl_controlnet_revision", "model_dir", "hf_cache_dir", "hf_endpoint", "rembg_revision", "fast_lora", "fast_lora_weight_name",
                     "ip_adapter_weight", "garment_ip_adapter_weight", "tiny_model_dir", mode="before")
    @classmethod
    def _engine_empty_is_none(cls, v):
        return v or None

    @property
    def size_presets(self) -> dict[str, tuple[int, int]]:
        """The output size presets (core.sizes): {"square": (w, h), ...}."""
        from core.sizes import size_presets

        return size_presets(self)

    @field_validator("ip_adapter", "garment_ip_adapter", mode="before")
    @classmethod
    def _switch(cls, v):
        """true/false/auto in any case; booleans (and 1/0, yes/no, on/off) as true/false."""
        if v is None or v == "":
            return None
        if isinstance(v, bool):
            return "true" if v else "false"
        text = str(v).strip().lower()
        return {"1": "true", "yes": "true", "on": "true", "0": "false", "no": "false", "off": "false"}.get(text, text)

    @field_validator("redis_url", "login_limit_storage", "identity_threshold", mode="before")
    @classmethod
    def _empty_is_none(cls, v):
        return v or None

    @property
    def is_sqlite(self) -> bool:
        return self.database_url.startswith("sqlite")

    def limit_bytes(self, kind: str) -> int:
        """Upload limit in bytes for an image kind: avatar, product, logo, pose."""
        mb = {"avatar": self.max_avatar_size_mb, "product": self.max_product_size_mb, "logo": self.max_logo_size_mb,
              "pose": self.max_pose_file_size_mb}[kind]
        return int(mb * 1024 * 1024)

    # --- capacity: database pool, threads, requests in flight (README "Performance") ----------
    db_pool_size: int = Field(10, ge=1, description="Database connections each process keeps open.")
    db_max_overflow: int = Field(
        20, ge=0, description="Extra connections a process may open under load, above DB_POOL_SIZE.")
    db_pool_timeout: float = Field(30, gt=0, description="Seconds a thread waits for a free database connection.")
    web_threads: int = Field(
        40, ge=1, description="Threads running REST routes and their dependencies (AnyIO's default thread limiter).")
    ui_threads: int = Field(
        8, ge=1, description="Threads running Gradio event handlers (a limiter of their own, apart from WEB_THREADS).")
    max_concurrent_requests: int = Field(
        16, ge=1, description="HTTP requests served at once; more wait in line, first come first served. Must be at "
                              "most WEB_THREADS and below DB_POOL_SIZE + DB_MAX_OVERFLOW.")
    request_queue_seconds: float = Field(
        30, gt=0, description="Longest wait in that line; then a 503 with Retry-After.")

    @model_validator(mode="after")
    def _capacity_cannot_deadlock(self):
        # A request in flight holds at most one connection and needs at most one thread at a time. With no more
        # requests in flight than threads, none waits for a thread for long; with fewer than connections, one
        # connection is always free or held by a thread that is running, so every wait for one ends.
        pool = self.db_pool_size + self.db_max_overflow
        if self.max_concurrent_requests > self.web_threads or self.max_concurrent_requests >= pool:
            raise ValueError(
                f"MAX_CONCURRENT_REQUESTS ({self.max_concurrent_requests}) must be at most WEB_THREADS "
                f"({self.web_threads}) and below DB_POOL_SIZE + DB_MAX_OVERFLOW ({pool}); otherwise requests "
                "holding a database connection can wait for a thread while every thread waits for a connection.")
        return self
    # --- request safety (api/security.py; README "Settings" lists each) --------------------------
    max_json_body_mb: float = Field(
        2, gt=0, description="Largest request body that is not a file upload (JSON, forms); larger ones are refused "
                             "with 413 before they are read. File uploads may carry 50 files of the largest upload "
                             "limit.")
    frame_ancestors: str = Field(
        "'self' https://huggingface.co https://*.hf.space", pattern=r"^[^;,\r\n]+$",
        description="Sites that may show the app in a frame (the CSP frame-ancestors list). The default lets a "
                    "Hugging Face Space embed it; 'self' or 'none' also send X-Frame-Options.")
    trusted_origins: str | None = Field(
        None, description="Other sites, as comma-separated origins (https://shop.example), whose pages may send "
                        "cookie-signed changes; the app's own address is always allowed.")


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """Settings from the process environment, read once."""
    return Settings()
