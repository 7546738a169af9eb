"""Every page on a phone (390 x 844, touch) in both languages (issue 16): nothing is wider than the screen
(a wide table scrolls inside its own box), and no button's label overflows it (long Indonesian labels wrap).
Measured in a real Chromium on the live app: the layout a shop owner's phone gets."""
from __future__ import annotations

import pytest
from browser_harness import GradioPage

from ui import PAGES

READY = {"": "kit-name", "avatars": "avatar-file", "products": "product-files", "poses": "pose-grid-box",
         "generate": "gen-try", "results": "res-progress", "posters": "post-photos",
         "analytics": "analytics-tiles", "system": "sys-models-box"}
WIDTH = 390

MEASURE = """(width) => {
  const scrolls = (e) => { for (let a = e.parentElement; a; a = a.parentElement) {
      const o = getComputedStyle(a).overflowX; if (o === 'auto' || o === 'scroll' || o === 'hidden') return true; }
    return false; };
  const shown = (e) => e.offsetParent !== null && getComputedStyle(e).visibility !== 'hidden';
  return {
    page: document.documentElement.scrollWidth,
    // a label that runs past its button's edge (a rotated icon's few px of scrollWidth are not a label)
    overflowing: [...document.querySelectorAll('button')].filter(b => shown(b) && (() => {
        const edge = b.getBoundingClientRect(), walk = document.createTreeWalker(b, NodeFilter.SHOW_TEXT);
        for (let n = walk.nextNode(); n; n = walk.nextNode()) {
          if (!n.textContent.trim() || n.parentElement.closest('.icon')) continue;
          const range = document.createRange();
          range.selectNodeContents(n);
          if ([...range.getClientRects()].some(r => r.width > 0 && (r.right > edge.right + 2 ||
                                                                     r.left < edge.left - 2))) return true;
        }
        return false;
      })())
      .map(b => (b.id || b.className.toString().split(' ')[0]) + ': ' + b.innerText.trim().slice(0, 60)),
    wider: [...document.querySelectorAll('body *')].filter(e => shown(e) && getComputedStyle(e).position !== 'fixed'
      && e.getBoundingClientRect().right > width + 2 && !scrolls(e))
      .slice(0, 5).map(e => e.tagName + '#' + e.id + '.' + e.className.toString().slice(0, 40)),
  };
}"""


@pytest.mark.parametrize("locale", ["en-US", "id-ID"])
def test_every_page_fits_a_phone(browser, live_app, locale):
    context = browser.new_context(viewport={"width": WIDTH, "height": 844}, locale=locale, is_mobile=True,
                                  has_touch=True)
    ui = GradioPage(context.new_page(), live_app)
    problems = {}
    try:
        for _key, path, _build in PAGES:
            ui.goto("/" + path, ready=READY[path])
            ui.wait_idle()
            got = ui.page.evaluate(MEASURE, WIDTH)
            if got["page"] > WIDTH + 1 or got["overflowing"] or got["wider"]:
                problems[path or "/"] = got
            ui.screenshot(f"/tmp/apg-browser/phone-{locale}-{path or 'home'}.png", full_page=False)
    finally:
        context.close()
    assert not problems, problems
