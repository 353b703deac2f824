"""The built site renders in a real browser: math typeset, figures loaded, nothing missing.

Needs the site built (``make book``; ``make test`` builds it first) and Debian's Chromium
(``make test`` installs it where it can). The browser runs offline: any request that leaves
the machine, or any local file that is missing, fails the test.
"""

from __future__ import annotations

import functools
import http.server
import re
import threading
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[1]
SITE = ROOT / "_build" / "html"
CHROMIUM = Path("/usr/bin/chromium")
ARGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
]


def _toc_pages():
    toc = yaml.safe_load((ROOT / "_toc.yml").read_text())
    pages = [toc["root"]]
    for part in toc.get("parts", []):
        pages += [chapter["file"] for chapter in part["chapters"]]
    return pages


CHAPTERS = [p for p in _toc_pages() if p.startswith("notebooks/")]

pytestmark = pytest.mark.skipif(not (SITE / "index.html").exists(), reason="the site is not built: run `make book`")


@pytest.fixture(scope="module")
def server():
    handler = functools.partial(_QuietHandler, directory=str(SITE))
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}"
    httpd.shutdown()


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args):
        pass


@pytest.fixture(scope="module")
def browser():
    if not CHROMIUM.exists():
        pytest.skip("Chromium is not installed (apt-get install -y chromium); the site test cannot run here")
    sync_api = pytest.importorskip("playwright.sync_api")
    with sync_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=ARGS)
        yield browser
        browser.close()


# Two messages the themes print on every page, whatever the book contains; neither is about
# a missing file. sphinx-thebe (pulled in by jupyter-book) declares the same constant twice;
# pydata-sphinx-theme complains that a fresh browser profile has no saved light/dark mode.
KNOWN_THEME_NOISE = (
    "Identifier 'THEBE_JS_URL' has already been declared",
    "Got invalid theme mode",
)


def _open(browser, url):
    """Load a page; return it with the console errors and failed or off-machine requests seen."""
    page = browser.new_page()
    problems = []
    def note(message):
        if not any(noise in message for noise in KNOWN_THEME_NOISE):
            problems.append(message)

    page.on("console", lambda m: note(f"console {m.type}: {m.text}") if m.type == "error" else None)
    page.on("pageerror", lambda e: note(f"page error: {e}"))
    page.on("requestfailed", lambda r: problems.append(f"request failed: {r.url}"))
    page.on("response", lambda r: problems.append(f"HTTP {r.status}: {r.url}") if r.status >= 400 else None)
    page.on("request", lambda r: None if r.url.startswith(("http://127.0.0.1", "data:", "blob:", "about:"))
            else problems.append(f"request off the machine: {r.url}"))
    page.goto(url, wait_until="networkidle")
    page.wait_for_function("() => window.MathJax && MathJax.startup && MathJax.startup.promise", timeout=30_000)
    page.evaluate("() => MathJax.startup.promise")
    return page, problems


def _check_math(page):
    assert page.locator("mjx-container").count() > 0, "no typeset math on the page"
    # prose only: code cells may legitimately contain TeX in strings
    text = page.evaluate(
        """() => { const a = document.querySelector('article').cloneNode(true);
                   a.querySelectorAll('pre, code, .highlight, mjx-container').forEach(e => e.remove());
                   return a.innerText; }"""
    )
    raw = [t for t in (r"\frac", r"\sum", "$$", r"\begin{") if t in text]
    assert not raw, f"untypeset TeX left on the page: {raw}"
    assert page.locator("mjx-merror").count() == 0, "MathJax reported a TeX error"


@pytest.mark.parametrize("page_name", ["book/preface", "book/notation"])
def test_book_pages_render(server, browser, page_name):
    page, problems = _open(browser, f"{server}/{page_name}.html")
    assert not problems, problems
    if page_name == "book/notation":
        _check_math(page)
        # labelled equations are numbered
        assert page.locator("span.eqno").count() >= 3
    page.close()


@pytest.mark.parametrize("chapter", CHAPTERS)
def test_chapter_renders_with_math_and_figures(server, browser, chapter):
    if not (SITE / f"{chapter}.html").exists():
        pytest.fail(f"{chapter} is in the TOC but was not built")
    page, problems = _open(browser, f"{server}/{chapter}.html")
    assert not problems, problems
    _check_math(page)
    images = page.locator("article img")
    assert images.count() >= 1, "no figure on the chapter page"
    widths = images.evaluate_all("els => els.map(e => e.complete ? e.naturalWidth : 0)")
    assert all(w > 0 for w in widths), f"a figure did not load: {widths}"
    assert page.locator(".proof, .theorem, div[class*='prf']").count() >= 1, "no theorem block"
    page.close()


def test_no_page_loads_scripts_or_styles_from_the_network():
    external = re.compile(r"""<(?:script[^>]*\ssrc|link[^>]*\shref)=["'](?:https?:)?//""", re.I)
    offenders = []
    for html in SITE.rglob("*.html"):
        for match in external.finditer(html.read_text(errors="replace")):
            tag = html.read_text(errors="replace")[match.start(): match.start() + 160]
            if "<link" in tag and "stylesheet" not in tag and "preload" not in tag:
                continue  # plain links (a canonical URL, an icon elsewhere) load nothing on page view
            offenders.append(f"{html.relative_to(SITE)}: {tag[:120]}")
    assert not offenders, offenders[:10]
