"""Composition root: settings -> services -> FastAPI (REST) + Gradio (UI at "/").

    python app.py                                   serve on HOST:PORT (default 127.0.0.1:7860)
    python app.py create-user NAME --password PW [--admin]
    python app.py set-password NAME --password PW   e.g. the AUTH=none admin, before switching to AUTH=password
    python app.py grant-credits NAME AMOUNT
    python app.py rebuild-metrics [--user NAME] [--dry-run]   recompute analytics totals from the records

No domain logic here; the web process never imports torch or diffusers.
"""
from __future__ import annotations

import argparse
import logging
import sys

from services import Services
from core.settings import Settings, get_settings


def create_app(settings: Settings | None = None, services: Services | None = None):
    """The ASGI app: REST routers under /api, the Gradio UI mounted at "/"."""
    import gradio as gr

    from api import create_api
    from api.gate import RequestGate
    from api.login import username_from_cookie
    from ui import build_ui, css, upload_guard
    from ui.i18n import I18N, LangMiddleware
    from ui.login_page import LoginPages

    settings = settings or get_settings()
    services = services or Services.build(settings)
    if services.runner is not None and services.reaper is None:
        from jobs.reaper import Reaper

        services.reaper = Reaper(services).start()   # resumes unfinished batches now, then every REAPER_SECONDS
    api = create_api(services)
    api.state.login_pages = LoginPages()   # /login and /logout in the app's look and the visitor's language
    demo = build_ui(services)
    auth_dependency = username_from_cookie(services) if settings.auth == "password" else None
    # Uploads larger than our biggest limit are refused by Gradio before they reach its cache.
    biggest = max(settings.limit_bytes(kind) for kind in ("avatar", "product", "logo", "pose"))
    api.add_middleware(LangMiddleware)   # the EN/ID switch: pages start in the language of the apg_lang cookie
    # Every file input reads only what this user uploaded; Gradio's cache is served to a file's owner only.
    upload_guard.install(api, demo, who=auth_dependency or (lambda request: ""),
                         max_age_seconds=settings.upload_cache_seconds)
    own_ui_threads(demo, settings.ui_threads)
    # show_error=False: an unexpected exception reaches the browser as a bare "Error", never its text (paths,
    # object addresses); our own messages are inline or gr.Error, which Gradio always shows.
    app = gr.mount_gradio_app(api, demo, path="/", auth_dependency=auth_dependency, css=css(), i18n=I18N,
                              allowed_paths=[], footer_links=["api"], ssr_mode=False, max_file_size=biggest,
                              show_error=False)
    # Outermost: every request but Gradio's long-lived event streams waits here for one of
    # MAX_CONCURRENT_REQUESTS slots (README "Performance").
    app.add_middleware(RequestGate, limit=settings.max_concurrent_requests, threads=settings.web_threads,
                       wait_seconds=settings.request_queue_seconds)
    return app


def own_ui_threads(demo, threads: int) -> None:
    """Gradio runs event handlers on AnyIO's default limiter, the REST routes' threads, whenever its
    max_threads is 40; give it a limiter of its own of `threads` whatever the number (Gradio calls
    create_limiter at every start-up)."""
    import anyio

    def create_limiter():
        demo.limiter = anyio.CapacityLimiter(threads)

    demo.max_threads = threads
    demo.create_limiter = create_limiter


def serve(settings: Settings) -> None:
    import uvicorn

    app = create_app(settings)
    print(f"Avatar & Pose Generator on http://{settings.host}:{settings.port}  (AUTH={settings.auth}, "
          f"database={'SQLite' if settings.is_sqlite else 'Postgres'}, "
          f"runner={'rq' if settings.redis_url else 'in-process'})", flush=True)
    # Proxy headers are read inside the app, trusting FORWARDED_ALLOW_IPS only (api.login.install_proxy_headers).
    uvicorn.run(app, host=settings.host, port=settings.port, log_level="info", proxy_headers=False)


def rebuild_metrics(session, *, settings: Settings, username: str | None, dry_run: bool) -> int:
    from core.analytics import metrics
    from core.accounts import users

    user_id = None
    if username is not None:
        target = users.get_by_username(session, username)
        if target is None:
            print(f"error: no user named {username!r}", file=sys.stderr)
            return 1
        user_id = target.id
    report = metrics.rebuild(session, user_id=user_id, settings=settings, dry_run=dry_run)
    print(report["summary"])
    for kind in ("added", "changed", "removed"):
        for row in report[kind]:
            where = f"user {row['userId']} kit {row['brandKitId']} {row['designType']} {row['period']}"
            detail = ", ".join(f"{k}: {old} -> {new}" for k, (old, new) in row["fields"].items()) \
                if kind == "changed" else f"created {row['times_created']}, exported {row['times_exported']}"
            print(f"  {kind:8} {where}: {detail}")
    return 0


def download_models(settings: Settings, *, engine: str | None, only: list[str] | None) -> int:
    """`python app.py download-models`: engine.prefetch, one line per model; 1 when any is missing."""
    from engine.prefetch import NAMES, prefetch

    unknown = sorted(set(only or ()) - set(NAMES))
    if unknown:
        print(f"error: unknown model name(s) {', '.join(unknown)}; use {', '.join(NAMES)}", file=sys.stderr)
        return 2
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    if engine:
        settings = settings.model_copy(update={"engine": engine})
    print(f"models for ENGINE={settings.engine} (MODEL_DOWNLOADS={'true' if settings.model_downloads else 'false'})")
    results = prefetch(settings, only=only)
    missing = [r for r in results if r.state == "missing"]
    if missing:
        print(f"{len(missing)} model(s) missing: {', '.join(r.name for r in missing)}", file=sys.stderr)
        return 1
    return 0


def main(argv: list[str] | None = None) -> int:
    from core.accounts import credits, users
    from core.errors import DomainError

    parser = argparse.ArgumentParser(prog="python app.py", description="Avatar & Pose Generator")
    sub = parser.add_subparsers(dest="command")
    cu = sub.add_parser("create-user", help="create an account (for AUTH=password)")
    cu.add_argument("username")
    cu.add_argument("--password", required=True)
    cu.add_argument("--admin", action="store_true", help="give the account the admin role")
    sp = sub.add_parser("set-password", help="give an account a new password (e.g. AUTH=none's local admin, "
                                              "to keep its data when switching to AUTH=password)")
    sp.add_argument("username")
    sp.add_argument("--password", required=True)
    gc = sub.add_parser("grant-credits", help="add credits to an account")
    gc.add_argument("username")
    gc.add_argument("amount", type=int)
    rm = sub.add_parser("rebuild-metrics", help="recompute the analytics running totals from the records")
    rm.add_argument("--user", metavar="NAME", help="only this account (default: everyone)")
    rm.add_argument("--dry-run", action="store_true", help="only show what would change")
    dm = sub.add_parser("download-models", help="fetch every model the current settings need now (a no-op when "
                                                "all are here; offline it lists what is missing)")
    dm.add_argument("--engine", choices=("sd15", "sdxl"), help="the models of this engine instead of ENGINE's")
    dm.add_argument("--only", nargs="+", metavar="NAME",
                    help="only these models (base, controlnet, pose-detector, ...; an unknown name lists them all)")
    args = parser.parse_args(argv)

    settings = get_settings()
    if args.command == "download-models":
        return download_models(settings, engine=args.engine, only=args.only)
    if args.command is None:
        logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
        serve(settings)
        return 0
    # a command prints its own result; the migrations' INFO lines stay out of the way (warnings still show)
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    services = Services.build(settings, runner=False)
    try:
        with services.session() as session:
            if args.command == "create-user":
                user = users.create_user(session, username=args.username, password=args.password,
                                         settings=settings, role="admin" if args.admin else "user")
                print(f"created {user.role} {user.username!r} with {user.credits} credits")
            elif args.command == "set-password":
                user = users.set_password(session, username=args.username, password=args.password)
                print(f"{user.role} {user.username!r} can now sign in with that password (AUTH=password)")
            elif args.command == "grant-credits":
                target = users.get_by_username(session, args.username)
                if target is None:
                    print(f"error: no user named {args.username!r}", file=sys.stderr)
                    return 1
                admin = users.local_admin(session, settings=settings)
                row = credits.grant(session, admin=admin, user_id=target.id, amount=args.amount,
                                    note="granted from the command line")
                print(f"{target.username!r} now has {row.balance_after} credits")
            elif args.command == "rebuild-metrics":
                return rebuild_metrics(session, settings=settings, username=args.user, dry_run=args.dry_run)
    except DomainError as exc:
        print(f"error: {exc.message}", file=sys.stderr)
        return 1
    finally:
        services.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
