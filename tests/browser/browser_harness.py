"""Browser-test harness: the real app served by uvicorn on a free loopback port, and small helpers that
drive Gradio 6 widgets by elem_id with Playwright. Fixtures built on these live in conftest.py.

Helpers take the widget's elem_id (without "#") and wait for what they change, never for fixed sleeps.
"""
from __future__ import annotations

import re
import shutil
import socket
import threading
import time
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

CHROMIUM_CANDIDATES = ("/usr/bin/chromium", "/usr/bin/chromium-browser", "/usr/bin/google-chrome")
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--disable-dev-shm-usage"]
TIMEOUT_MS = 15_000


def find_chromium(explicit: str | None = None) -> str | None:
    """The Chromium binary: `explicit` (the CHROMIUM variable) if given, else the Debian package's."""
    if explicit:
        return explicit if Path(explicit).is_file() else None
    for candidate in CHROMIUM_CANDIDATES:
        if Path(candidate).is_file():
            return candidate
    return shutil.which("chromium") or shutil.which("chromium-browser")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@dataclass
class LiveApp:
    """The real ASGI app (app.create_app) served by uvicorn in a background thread."""

    base_url: str
    services: Any
    settings: Any
    server: Any = field(repr=False)
    thread: threading.Thread = field(repr=False)

    def url(self, path: str = "/") -> str:
        return self.base_url + (path if path.startswith("/") else "/" + path)

    @contextmanager
    def acting(self, username: str | None = None):
        """(session, user) for seeding or checking data the way the UI acts: the local admin with AUTH=none,
        else the named user. E.g. `with live_app.acting() as (s, user): brand_kits.create(s, user=user, ...)`."""
        from core.accounts import users

        with self.services.session() as session:
            yield session, users.acting_user(session, settings=self.settings, username=username)

    def stop(self) -> None:
        self.server.should_exit = True
        self.thread.join(timeout=10)


class AppPool:
    """One running server per distinct Settings (e.g. AUTH=none, AUTH=password), started on first use and
    reused by later tests; `get()` first resets it to a fresh state: the database file is replaced by a
    copy of the migrated template and the storage directory is emptied. Building and mounting the Gradio
    app takes seconds, a reset milliseconds."""

    def __init__(self, root: Path, template_db: Path, make_app, make_settings):
        self.root, self.template_db = Path(root), Path(template_db)
        self.make_app, self.make_settings = make_app, make_settings
        self.apps: dict[tuple, LiveApp] = {}

    def get(self, **overrides) -> LiveApp:
        key = tuple(sorted(overrides.items()))
        live = self.apps.get(key)
        if live is None:
            folder = self.root / f"app{len(self.apps)}"
            folder.mkdir(parents=True)
            settings = self.make_settings(database_url=f"sqlite:///{folder / 'app.db'}",
                                          storage_dir=folder / "files", **overrides)
            self._fresh_files(settings)
            from services import Services

            services = Services.build(settings, migrate=False)
            live = serve(self.make_app(settings, services), services=services, settings=settings)
            self.apps[key] = live
        else:
            live.services.db.engine.dispose()  # no open connections while the file is swapped
            self._fresh_files(live.settings)
        return live

    def _fresh_files(self, settings) -> None:
        db_path = Path(settings.database_url.removeprefix("sqlite:///"))
        for suffix in ("-wal", "-shm", ""):
            Path(f"{db_path}{suffix}").unlink(missing_ok=True)
        shutil.copy(self.template_db, db_path)
        shutil.rmtree(settings.storage_dir, ignore_errors=True)
        Path(settings.storage_dir).mkdir(parents=True)

    def close(self) -> None:
        for live in self.apps.values():
            live.stop()
            live.services.close()
        self.apps.clear()


def serve(asgi_app, *, services, settings, startup_timeout: float = 30) -> LiveApp:
    import uvicorn

    port = free_port()
    config = uvicorn.Config(asgi_app, host="127.0.0.1", port=port, log_level="warning", lifespan="on",
                            ws="none")
    server = uvicorn.Server(config)
    server.install_signal_handlers = lambda: None  # not the main thread
    thread = threading.Thread(target=server.run, name=f"uvicorn-{port}", daemon=True)
    thread.start()
    deadline = time.monotonic() + startup_timeout
    while not server.started:
        if not thread.is_alive():
            raise RuntimeError("the test server stopped while starting (see the log above)")
        if time.monotonic() > deadline:
            server.should_exit = True
            raise RuntimeError(f"the test server did not start within {startup_timeout}s")
        time.sleep(0.02)
    return LiveApp(base_url=f"http://127.0.0.1:{port}", services=services, settings=settings, server=server,
                   thread=thread)


# --------------------------------------------------------------------------------------------------------
# Gradio page helpers


def _id(elem_id: str) -> str:
    return "#" + elem_id.lstrip("#")


class GradioPage:
    """A Playwright page showing one of our Gradio pages, with helpers that address widgets by elem_id.

    Gradio 6 notes baked in here:
    - a Textbox is a <textarea> (lines>1 or default) or an <input>; fill() sends the input event Gradio reads.
    - a Dropdown is an <input role=combobox>; its options are <li role=option aria-label=VALUE> rendered
      inside the widget only while open. Multiselect shows the picked values as .token chips.
    - a ColorPicker is a swatch <button class=dialog-button>; clicking opens a panel whose text input takes
      "#rrggbb" (applied on change, i.e. Enter/blur). Its value is then lower-case hex.
    - every component has a status tracker ([data-testid=status-tracker]) that loses the class "hide"
      while an event that outputs to it is pending.
    """

    def __init__(self, page, app: LiveApp):
        self.page = page
        self.app = app
        self.console_errors: list[str] = []
        self.page_errors: list[str] = []
        page.on("console", lambda m: self.console_errors.append(m.text) if m.type == "error" else None)
        page.on("pageerror", lambda e: self.page_errors.append(str(e)))
        page.set_default_timeout(TIMEOUT_MS)

    # -- navigation ---------------------------------------------------------------------------------------
    def goto(self, path: str = "/", *, ready: str | None = None) -> "GradioPage":
        """Open a page and wait until Gradio has mounted it and its load events have finished.
        `ready`: an extra elem_id (or CSS selector) that must be visible."""
        self.page.goto(self.app.url(path))
        self.wait_loaded(ready=ready)
        return self

    def wait_loaded(self, *, ready: str | None = None) -> None:
        self.page.wait_for_selector(".gradio-container", state="attached")
        self.page.wait_for_selector("[data-testid=status-tracker]", state="attached")
        if ready:
            self.page.wait_for_selector(ready if ready[0] in "#.[" else _id(ready), state="visible")
        # every page's header fills the credit badge from a load event: once it has text, loads have run
        self.page.wait_for_function(
            "() => { const b = document.querySelector('#apg-credits');"
            " return !b || b.innerText.trim().length > 0; }")
        self.wait_idle()

    def wait_idle(self, timeout_ms: int = TIMEOUT_MS) -> None:
        """Wait until no event is pending or running (every status tracker hidden) twice in a row, so an
        event chained after another one (.then, .change after an output update) is waited for too."""
        self.page.wait_for_function(
            """() => {
                const busy = [...document.querySelectorAll('[data-testid=status-tracker]')]
                    .some(e => !e.classList.contains('hide') && e.offsetParent !== null
                               && !e.querySelector('.error'));
                window.__apgIdle = busy ? 0 : (window.__apgIdle || 0) + 1;
                return window.__apgIdle >= 3;
            }""", polling=50, timeout=timeout_ms)

    # -- widgets ------------------------------------------------------------------------------------------
    def locator(self, elem_id: str, inner: str = ""):
        """The widget with this elem_id, or the elements matching `inner` (any CSS, commas allowed) inside it."""
        outer = self.page.locator(_id(elem_id))
        return outer.locator(inner) if inner else outer

    def fill(self, elem_id: str, text: str) -> None:
        """Type into a Textbox (or Number) by elem_id, replacing its value."""
        box = self.locator(elem_id, "textarea, input").first
        box.fill(text)
        box.blur()

    def value(self, elem_id: str) -> str:
        """The current text of a Textbox / Dropdown (single) input."""
        return self.locator(elem_id, "textarea, input").first.input_value()

    def wait_value(self, elem_id: str, expected: str) -> None:
        """Wait until a Textbox / Dropdown shows `expected` (after a handler filled it)."""
        self.page.wait_for_function(
            "([sel, v]) => { const e = document.querySelector(sel); return !!e && e.value === v; }",
            arg=[f"{_id(elem_id)} textarea, {_id(elem_id)} input", expected])

    def click(self, elem_id: str) -> None:
        self.locator(elem_id).click()

    def pick(self, elem_id: str, option: str) -> None:
        """Choose one option of a single-select Dropdown."""
        box = self.locator(elem_id, "input[role=combobox]")
        box.click()
        self.locator(elem_id, f"li[role=option][aria-label={_css_str(option)}]").click()
        self.page.wait_for_function(
            "([sel, v]) => document.querySelector(sel)?.value === v",
            arg=[f"{_id(elem_id)} input[role=combobox]", option])
        box.blur()

    def tokens(self, elem_id: str) -> list[str]:
        """The values shown as chips in a multiselect Dropdown."""
        return [t.strip() for t in self.locator(elem_id, ".token").all_inner_texts()]

    def pick_many(self, elem_id: str, options: list[str]) -> None:
        """Make a multiselect Dropdown hold exactly `options`, in this order."""
        clear = self.locator(elem_id, ".remove-all")
        if clear.count():
            clear.click()
            self.page.wait_for_function("s => !document.querySelector(s)", arg=f"{_id(elem_id)} .token")
        box = self.locator(elem_id, "input[role=combobox]")
        for option in options:
            box.click()
            self.locator(elem_id, f"li[role=option][aria-label={_css_str(option)}]").click()
        self.page.keyboard.press("Escape")
        box.blur()
        assert self.tokens(elem_id) == options, self.tokens(elem_id)

    def set_color(self, elem_id: str, hex_color: str) -> None:
        """Set a ColorPicker through its own panel: open it, type the hex value, press Enter, close it."""
        button = self.locator(elem_id, "button.dialog-button")
        button.click()
        field = self.locator(elem_id, ".color-picker input[type=text]")
        field.fill(hex_color)
        field.press("Enter")
        field.dispatch_event("change")
        self.page.mouse.click(2, 2)  # a click outside closes the panel
        self.locator(elem_id, ".color-picker").wait_for(state="detached")
        self.page.wait_for_function(
            "([sel, v]) => { const b = document.querySelector(sel); const c = document.createElement('i');"
            " c.style.color = v; document.body.appendChild(c); const want = getComputedStyle(c).color;"
            " c.remove(); return b && getComputedStyle(b).backgroundColor === want; }",
            arg=[f"{_id(elem_id)} button.dialog-button", hex_color])

    def set_slider(self, elem_id: str, value: float) -> None:
        """Set a Slider through its number box."""
        box = self.locator(elem_id, "input[type=number]")
        box.fill(str(value))
        box.press("Enter")
        box.blur()

    def upload(self, elem_id: str, path: str | Path | list[str | Path] | tuple[str | Path, ...]) -> None:
        """Give a file (or, to a `file_count="multiple"` File widget, several files at once: a list) to an
        Image/File upload widget and wait until Gradio has uploaded it (for several: until it lists them all)."""
        paths = [str(p) for p in path] if isinstance(path, (list, tuple)) else [str(path)]
        self.locator(elem_id, "input[type=file]").set_input_files(paths if len(paths) > 1 else paths[0])
        self.locator(elem_id, "img, .file-preview, [data-testid=file]").first.wait_for(state="visible")
        if len(paths) > 1:
            self.page.wait_for_function(
                "([sel, n]) => document.querySelectorAll(sel).length >= n",
                arg=[f"{_id(elem_id)} .file-preview tbody tr, {_id(elem_id)} .file-preview tr.file", len(paths)])
        self.wait_idle()

    def table_rows(self, elem_id: str) -> list[list[str]]:
        """The body rows of a gr.Dataframe by elem_id, as cell texts, in row order. Gradio 6 draws the body as
        a virtual list (div[role=row] of div[role=gridcell]) that renders only the rows in view: fine for the
        short reports our pages show."""
        return self.locator(elem_id).evaluate(
            """e => [...e.querySelectorAll('[role=row][data-index]')]
                    .sort((a, b) => a.dataset.index - b.dataset.index)
                    .map(r => [...r.querySelectorAll('[role=gridcell]')].map(c => c.innerText.trim()))""")

    def open_tab(self, name: str) -> None:
        """Show the gr.Tab with this label (tab buttons are role=tab)."""
        tab = self.page.get_by_role("tab", name=name, exact=True)
        tab.click()
        self.page.wait_for_function("e => e.getAttribute('aria-selected') === 'true'", arg=tab.element_handle())

    def wait_img(self, img) -> int:
        """Wait until an <img> locator (first match) has loaded; returns its natural width (> 0)."""
        img = img.first
        img.wait_for()
        self.page.wait_for_function("e => e.complete && e.naturalWidth > 0", arg=img.element_handle())
        return img.evaluate("e => e.naturalWidth")

    def message(self, elem_id: str) -> str:
        """The text of an inline message (a gr.HTML / gr.Markdown output) by elem_id."""
        return self.locator(elem_id).inner_text().strip()

    def wait_message(self, elem_id: str, pattern: str | re.Pattern, *, timeout_ms: int = TIMEOUT_MS) -> str:
        """Wait until the inline message matches `pattern` (a regex, searched); returns its text."""
        rx = re.compile(pattern) if isinstance(pattern, str) else pattern
        deadline = time.monotonic() + timeout_ms / 1000
        text = ""
        while time.monotonic() < deadline:
            text = self.message(elem_id)
            if rx.search(text):
                return text
            self.page.wait_for_timeout(50)
        raise AssertionError(f"#{elem_id} never matched {rx.pattern!r}; last text: {text!r}")

    def credits(self, elem_id: str = "apg-credits") -> int:
        """The credit balance shown in the page header."""
        text = self.wait_message(elem_id, r"\d+\s*credits")
        return int(re.search(r"(\d+)\s*credits", text).group(1))

    def navbar_names(self) -> list[str]:
        """The page names the navigation shows (filled on page load: waited for)."""
        self.page.wait_for_function("() => document.querySelectorAll('#apg-nav a').length > 0")
        return [t.strip() for t in self.page.locator("nav a, .nav-holder a").all_inner_texts() if t.strip()]

    def screenshot(self, path: str | Path, *, full_page: bool = True) -> Path:
        self.page.screenshot(path=str(path), full_page=full_page)
        return Path(path)


def _css_str(value: str) -> str:
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'


def sign_in(page, app: LiveApp, username: str, password: str, *, next_path: str = "/") -> None:
    """Sign in through the real /login form (AUTH=password) and land on `next_path`."""
    page.goto(app.url(f"/login?next={next_path}"))
    page.fill("#username", username)
    page.fill("#password", password)
    with page.expect_navigation():
        page.click("#login-submit")
    if "/login" in page.url:
        error = page.locator(".err").inner_text() if page.locator(".err").count() else page.url
        raise AssertionError(f"sign-in as {username!r} failed: {error}")


# --------------------------------------------------------------------------------------------------------
# Seeding


@dataclass
class ShopLabels:
    """What the Generate page's pickers show for a seeded shop ("<id> · <name>"), and the rows' ids."""

    kit: str
    avatar: str
    product: str
    kit_id: int
    avatar_id: int
    product_id: int


def seed_ready_shop(app: LiveApp, username: str | None = None, *, load_library: bool = True) -> ShopLabels:
    """The pose library plus a brand kit, an avatar and a hand-held product whose cut-out is ready (made from
    a real mask: no rembg weights), for the user the UI acts as (the local admin with AUTH=none)."""
    import numpy as np

    from core.catalog import avatars, brand_kits, products
    from core.library import templates as lib
    from core.catalog.avatars import AvatarCreate
    from core.catalog.background import cut_out_with_mask
    from core.catalog.brand_kits import BrandKitCreate
    from core.catalog.products import ProductCreate
    from tests.factories import photo

    store = app.services.store
    with app.acting(username) as (s, user):
        if load_library:
            lib.load_library(s)
        kit = brand_kits.create(s, user=user, data=BrandKitCreate(brand_name="Toko Sari", colors=["#AA3355"],
                                                                  fonts=["Poppins"]))
        avatar = avatars.upload(s, user=user, data=AvatarCreate(brand_kit_id=kit.id, name="Sari", gender="female"),
                                source=photo((200, 170, 150)), filename="sari.png", store=store,
                                settings=app.settings)
        product = products.upload(s, user=user, data=ProductCreate(name="Serum", placement="hand-right",
                                                                   product_type="bottle", brand_kit_id=kit.id),
                                  source=photo((30, 120, 200)), filename="serum.png", store=store,
                                  settings=app.settings, runner=None)
        pixels = np.zeros((96, 64, 4), np.uint8)
        pixels[..., :3], pixels[..., 3] = (30, 120, 200), 255
        mask = np.zeros((96, 64), np.uint8)
        mask[20:80, 20:44] = 255
        product.cutout_path = store.save(cut_out_with_mask(pixels, mask).png, user_id=user.id, kind="cutout",
                                         ext="png")
        product.bg_status = "done"
        s.add(product)
        s.commit()
        return ShopLabels(f"{kit.id} · {kit.brand_name}", f"{avatar.id} · {avatar.name}",
                          f"{product.id} · {product.name}", kit.id, avatar.id, product.id)
