"""Fixtures for browser tests: the real app on a free port, Debian's Chromium driven by Playwright.

    start_tiny_app(**over) the app with ENGINE=tiny (toy models written once per session)
    live_app            AUTH=none app with a fresh migrated SQLite DB + empty storage dir -> LiveApp
                        (.base_url, .url(path), .services for DB assertions, .settings)
    start_app(**over)   factory: the app for other Settings overrides (auth="password", ...), fresh state
    app_pool            (session) one server per distinct settings, reset per test (see AppPool)
    browser             one headless Chromium for the session
    page                a fresh context + page per test (viewport 1400x1000)
    ui                  GradioPage(page, live_app): helpers that drive Gradio widgets by elem_id
    password_app        AUTH=password app
    signed_in           (GradioPage, user, password): a user created in password_app and signed in at /login

Helpers (tests/browser/browser_harness.py; import it by name, `from browser_harness import ...`, since
tests/ is not a package): GradioPage methods goto/wait_loaded/wait_idle/fill/value/wait_value/pick/
pick_many/tokens/set_color/set_slider/upload/click/message/wait_message/credits/navbar_names/screenshot,
LiveApp.acting(username) -> (session, user) for seeding and DB assertions, sign_in(page, app, name, pw).

Every test here is marked `browser`. Without Chromium or Playwright they skip, unless REQUIRE_SERVICES=1
(CI), where they fail. CHROMIUM=/path picks another binary. A failing test leaves a screenshot in
$BROWSER_ARTIFACTS (default /tmp/apg-browser).
"""
from __future__ import annotations

import os
import re
from pathlib import Path

import pytest
from browser_harness import CHROMIUM_ARGS, AppPool, GradioPage, LiveApp, find_chromium, sign_in

from core.settings import Settings

ARTIFACTS = Path(os.environ.get("BROWSER_ARTIFACTS", "/tmp/apg-browser"))
REQUIRE_SERVICES = os.environ.get("REQUIRE_SERVICES") == "1"
TEST_PASSWORD = "correct horse battery"


def pytest_collection_modifyitems(config, items):
    here = Path(__file__).parent
    for item in items:
        if here in Path(item.fspath).parents:
            item.add_marker(pytest.mark.browser)


@pytest.hookimpl(wrapper=True, tryfirst=True)
def pytest_runtest_makereport(item, call):
    report = yield
    if report.when == "call" and report.failed and "ui" in item.funcargs:
        ARTIFACTS.mkdir(parents=True, exist_ok=True)
        name = re.sub(r"[^A-Za-z0-9_.-]+", "_", item.nodeid)[-120:]
        try:
            item.funcargs["ui"].screenshot(ARTIFACTS / f"{name}.png")
        except Exception:  # noqa: BLE001 - a screenshot must not hide the real failure
            pass
    return report


@pytest.fixture(scope="session")
def chromium_path() -> str:
    def missing(what: str, exc: Exception):
        message = f"{what} is not available ({type(exc).__name__}: {exc})"
        if REQUIRE_SERVICES:
            pytest.fail(message + " and REQUIRE_SERVICES=1", pytrace=False)
        pytest.skip(message)

    try:
        import playwright.sync_api  # noqa: F401
    except ImportError as exc:
        missing("Python Playwright", exc)
    path = find_chromium(os.environ.get("CHROMIUM"))
    if path is None:
        missing("Chromium", FileNotFoundError("apt-get install chromium (or set CHROMIUM=/path)"))
    return path


@pytest.fixture(scope="package")
def browser(chromium_path):
    """One Chromium for tests/browser, closed when the package ends: Playwright's sync API keeps its asyncio
    loop marked as running on this thread while it is open, so a session-wide browser would break every later
    test that calls asyncio.run() (tests/test_load.py did, in CI's order)."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=chromium_path, args=CHROMIUM_ARGS)
        yield b
        b.close()


@pytest.fixture(scope="session")
def gradio_imported():
    """Import gradio once, before any server starts (its first import takes seconds)."""
    import gradio  # noqa: F401

    import app  # noqa: F401


@pytest.fixture(scope="session")
def app_pool(chromium_path, tmp_path_factory, sqlite_template, gradio_imported):
    import app as app_module

    def settings(**values) -> Settings:  # the same defaults as tests/conftest.py's make_settings
        return Settings(**{"starting_credits": 1000, "auth": "none", **values})

    pool = AppPool(tmp_path_factory.mktemp("browser-apps"), sqlite_template, app_module.create_app, settings)
    yield pool
    pool.close()


@pytest.fixture
def start_app(app_pool):
    """Factory: start_app(**settings_overrides) -> LiveApp with a fresh, empty, migrated SQLite database and
    an empty storage dir. The server for those settings is started once per session and reset per call."""
    return app_pool.get


@pytest.fixture
def live_app(start_app) -> LiveApp:
    return start_app()


@pytest.fixture(scope="session")
def tiny_root(tmp_path_factory):
    """One folder for the tiny engine's toy models, written once per session."""
    return tmp_path_factory.mktemp("browser-tiny-engine")


@pytest.fixture
def start_tiny_app(start_app, tiny_root):
    """Factory: start_tiny_app(**settings_overrides) -> LiveApp rendering with ENGINE=tiny (2 steps, 1 attempt)."""
    def start(**over) -> LiveApp:
        values = dict(engine="tiny", tiny_model_dir=str(tiny_root / "tiny"), hf_cache_dir=str(tiny_root / "hf"),
                      model_downloads=False, engine_steps=2, max_attempts=1)
        values.update(over)
        return start_app(**values)

    return start


@pytest.fixture
def page(browser):
    context = browser.new_context(viewport={"width": 1400, "height": 1000}, locale="en-US")
    pg = context.new_page()
    yield pg
    context.close()


@pytest.fixture
def ui(page, live_app) -> GradioPage:
    return GradioPage(page, live_app)


@pytest.fixture
def password_app(start_app) -> LiveApp:
    return start_app(auth="password")


@pytest.fixture
def signed_in(page, password_app):
    """A user made in the AUTH=password app and signed in through /login: (GradioPage, user, password)."""
    from core.accounts import users

    with password_app.services.session() as s:
        user = users.create_user(s, username="shopowner", password=TEST_PASSWORD, settings=password_app.settings)
    sign_in(page, password_app, "shopowner", TEST_PASSWORD)
    gp = GradioPage(page, password_app)
    gp.wait_loaded()
    return gp, user, TEST_PASSWORD
