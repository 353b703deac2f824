"""The built site renders in a real browser: math typeset, figures loaded, nothing missing.

Needs the site built (``make book``; ``make test`` builds it first) and Debian's Chromium
(``make test`` installs it where it can). The browser runs offline: any request that leaves
the machine, or any local file that is missing, fails the test.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from .book_toc import toc_entries
from .local_server import LocalServer

ROOT = Path(__file__).resolve().parents[1]
SITE = ROOT / "_build" / "html"
CHROMIUM = Path("/usr/bin/chromium")
ARGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
]


CHAPTERS = [p for p in toc_entries() if p.startswith("notebooks/")]

pytestmark = pytest.mark.skipif(not (SITE / "index.html").exists(), reason="the site is not built: run `make book`")


@pytest.fixture(scope="module")
def server():
    with LocalServer(SITE) as local:
        yield local.url.rstrip("/")


@pytest.fixture(scope="module")
def browser():
    if not CHROMIUM.exists():
        pytest.skip("Chromium is not installed (apt-get install -y chromium); the site test cannot run here")
    sync_api = pytest.importorskip("playwright.sync_api")
    with sync_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=ARGS)
        yield browser
        browser.close()


def _open(browser, url):
    """Load a page; return it with the console errors and failed or off-machine requests seen."""
    page = browser.new_page()
    problems = []
    page.on("console", lambda m: problems.append(f"console {m.type}: {m.text}") if m.type == "error" else None)
    page.on("pageerror", lambda e: problems.append(f"page error: {e}"))
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
    # inline math that MyST did not recognise (e.g. broken by a line starting with "+ ") stays as $...\cmd
    raw += re.findall(r"\$[^$\n]{0,80}\\[A-Za-z]+", text)[:3]
    assert not raw, f"untypeset TeX left on the page: {raw}"
    assert page.locator("mjx-merror").count() == 0, "MathJax reported a TeX error"


@pytest.mark.parametrize("page_name", ["book/preface", "book/notation"])
def test_book_pages_render(server, browser, page_name):
    page, problems = _open(browser, f"{server}/{page_name}.html")
    assert not problems, problems
    if page_name == "book/notation":
        _check_math(page)
        # the labels the chapters cite ({eq}`kd-loss`, ...) exist, and their equations are numbered
        for label in ("temperature-softmax", "kl-divergence", "kd-loss"):
            equation = page.locator(f"#equation-{label}")
            assert equation.count() == 1, f"no equation labelled {label}"
            number = equation.locator("span.eqno").inner_text()  # "(2)" and a "#" permalink
            assert re.match(r"\(\d+\)", number.strip()), f"equation {label} has no number: {number!r}"
            assert equation.locator("mjx-container").count() == 1, f"equation {label} is not typeset"
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
        text = html.read_text(errors="replace")
        for match in external.finditer(text):
            tag = text[match.start(): match.start() + 160]
            if "<link" in tag and "stylesheet" not in tag and "preload" not in tag:
                continue  # plain links (a canonical URL, an icon elsewhere) load nothing on page view
            offenders.append(f"{html.relative_to(SITE)}: {tag[:120]}")
    assert not offenders, offenders[:10]


# Hosts that serve scripts, styles or fonts. No built page may name one, even in an inline script
# that would load it later (sphinx-thebe does so; book/_ext/kdbook_offline.py removes it).
CDN_HOSTS = re.compile(
    r"https?://[^\s\"'<>]*(?:unpkg\.com|jsdelivr\.net|cdnjs\.cloudflare\.com|googleapis\.com|gstatic\.com"
    r"|cdn\.[a-z0-9.-]+|require(?:js)?\.org|polyfill\.io)",
    re.I,
)


def test_no_page_names_a_cdn():
    offenders = []
    for html in SITE.rglob("*.html"):
        for match in CDN_HOSTS.finditer(html.read_text(errors="replace")):
            offenders.append(f"{html.relative_to(SITE)}: {match.group(0)[:120]}")
    assert not offenders, offenders[:10]


def test_claims_ledger_page(server, browser):
    """The ledger page lists every registered claim, counts them right, and every link on it resolves."""
    import json
    from urllib.parse import urlsplit

    from kdmath import ledger

    page, problems = _open(browser, f"{server}/book/claims.html")
    assert not problems, problems
    _check_math(page)
    text = page.locator("article").inner_text()
    missing = [claim.id for claim in ledger.CLAIMS if claim.id not in text]
    assert not missing, f"claims missing from the ledger page: {missing}"
    rows = page.locator("#ledger-counts tbody tr").all_inner_texts()
    shown = {row.split("\t")[0].strip(): int(row.split("\t")[-1]) for row in rows}
    assert shown == ledger.verdict_counts()
    hrefs = page.locator("article a.reference.internal").evaluate_all("els => els.map(e => e.href)")
    assert len(hrefs) >= len(ledger.CLAIMS), "the rows do not link to the book"
    broken = []
    for href in set(hrefs):
        parts = urlsplit(href)
        target = SITE / parts.path.lstrip("/")
        if not target.exists():
            broken.append(href)
        elif parts.fragment and f'id="{parts.fragment}"' not in target.read_text(errors="replace"):
            broken.append(href)
    assert not broken, broken[:10]
    page.close()
    exported = json.loads((SITE / "claims.json").read_text())
    assert [row["id"] for row in exported["claims"]] == [claim.id for claim in ledger.CLAIMS]
    for row in exported["claims"]:
        assert row["found"] in (None, row["verdict"]), row
    # the empirical claims an experiment tests show their outcome on the committed run, on the page and in the export
    from kdmath.ledger import empirical

    outcomes = empirical.assess_all()
    for row in exported["claims"]:
        outcome = outcomes.get(row["id"])
        if outcome is None:
            assert row["experiment_outcome"] is None, row
        else:
            assert row["experiment_outcome"] == {"experiment": outcome.experiment, "config": outcome.config,
                                                 "status": outcome.status, "evidence": outcome.evidence}, row
            assert f"Experiment {outcome.experiment}, its {outcome.config} run: {outcome.status}" in text
