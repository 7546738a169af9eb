"""The security headers in a real Chromium (issue 11): every page works under the Content-Security-Policy
(no violation reported while signing in, saving a brand kit, switching the language, which runs a js=
handler, and opening every page), and a page on another origin of the same site cannot use the visitor's
session cookie to create a product, while the app's own page can with the very same request."""
from __future__ import annotations

import threading
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from browser_harness import free_port
from sqlmodel import select

from db.models import BrandKit, Product
from ui import PAGES

WATCH = """window.__csp = [];
document.addEventListener('securitypolicyviolation',
  e => window.__csp.push(`${e.violatedDirective} ${e.blockedURI} ${e.sourceFile}:${e.lineNumber}`));"""

# A product upload with the visitor's cookie, as a page would send it: FormData with a PNG drawn on a canvas.
UPLOAD = """async (target) => {
  const canvas = document.createElement('canvas'); canvas.width = canvas.height = 32;
  const g = canvas.getContext('2d'); g.fillStyle = '#1478c8'; g.fillRect(0, 0, 32, 32);
  const blob = await new Promise(done => canvas.toBlob(done, 'image/png'));
  const form = new FormData(); form.append('file', blob, 'serum.png'); form.append('name', 'Planted');
  const sameOrigin = target.startsWith(location.origin);
  try {
    const r = await fetch(target, {method: 'POST', body: form, credentials: 'include',
                                   mode: sameOrigin ? 'same-origin' : 'no-cors'});
    return sameOrigin ? r.status : 'sent';
  } catch (e) { return 'error ' + e; }
}"""


@contextmanager
def other_site():
    """A plain page served on another port of 127.0.0.1: http://127.0.0.1:<port>."""
    class Page(BaseHTTPRequestHandler):
        def do_GET(self):  # noqa: N802 - http.server's name
            body = b"<!doctype html><title>Free gift</title><p>Hello</p>"
            self.send_response(200)
            self.send_header("Content-Type", "text/html")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", free_port()), Page)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


def violations(ui) -> list[str]:
    return ui.page.evaluate("window.__csp || ['the watcher did not run']")


def test_every_page_works_under_the_content_security_policy(signed_in):
    ui, user, _password = signed_in  # signed in through the /login form: a same-site POST passes the Origin check
    console = []
    ui.page.on("console", lambda m: console.append(m.text) if "Content Security Policy" in m.text else None)
    ui.page.context.add_init_script(WATCH)

    response = ui.page.goto(ui.app.url("/"))
    csp = response.headers["content-security-policy"]
    assert "frame-ancestors 'self' https://huggingface.co https://*.hf.space" in csp
    assert response.headers["x-content-type-options"] == "nosniff"
    ui.wait_loaded(ready="kit-name")
    ui.fill("kit-name", "Toko Aman")
    ui.click("kit-save")  # a Gradio event: POST /gradio_api/queue/join from the app's own page
    assert "Toko Aman" in ui.wait_message("kit-message", "Created")
    with ui.app.services.session() as s:
        assert [k.brand_name for k in s.exec(select(BrandKit).where(BrandKit.user_id == user.id))] == ["Toko Aman"]
    assert violations(ui) == []

    with ui.page.expect_navigation():  # the language buttons run a js= handler (Function(), 'unsafe-eval')
        ui.click("apg-lang-id")
    ui.wait_loaded(ready="kit-name")
    ui.page.wait_for_function("() => document.querySelector('#apg-nav a')?.innerText.trim() === 'Kit Merek'")
    assert violations(ui) == []

    for _key, path, _build in PAGES:
        ui.goto(f"/{path}")
        assert violations(ui) == [], path
    assert console == [] and ui.page_errors == []


def test_another_origin_cannot_use_the_session_cookie(signed_in):
    """127.0.0.1 on another port is another origin of the same site: the browser sends the SameSite=Lax
    cookie with its POST, so only the Origin check stands between that page and the account."""
    ui, user, _password = signed_in
    target = ui.app.url("/api/apps/product-manager/products")
    with other_site() as elsewhere:
        ui.page.goto(f"{elsewhere}/gift.html")
        assert ui.page.evaluate(UPLOAD, target) == "sent"
    ui.page.goto(ui.app.url("/api/auth/me"))  # after the other page: the POST has been answered by now
    with ui.app.services.session() as s:
        assert s.exec(select(Product).where(Product.user_id == user.id)).all() == []

    ui.goto("/products")  # the same request from the app's own page is the user's own
    assert ui.page.evaluate(UPLOAD, target) == 201
    with ui.app.services.session() as s:
        assert [p.name for p in s.exec(select(Product).where(Product.user_id == user.id))] == ["Planted"]
