"""The built site as a reader meets it, on a phone (400 px) and a desktop (1400 px).

Needs the site built (``make book``; ``make test`` builds it first; ``KDBOOK_SITE`` points the
test at another build) and, for the tests that open pages, Debian's Chromium. The browser runs
offline: the pages come from a local server and any request that leaves the machine is refused
and fails the test.

What is checked:

* Navigation (book/_static/kdbook-nav.js, book/_static/kdbook.css). On a phone the visible
  toggle opens the table of contents, a tap beside it closes it, and a chapter link in it goes
  to that chapter. At desktop width (and in the 960-992 px gap between the two themes) the
  toggle hides the sidebar and shows it again. Exactly one search control is in view.
* Solutions. Every exercise's solution is a dropdown whose content, code cells and outputs
  included, is hidden until its title is clicked and visible afterwards. The rule that keeps
  the answer's code inside: no code cell (input or output) comes right after a solution on the
  page; a solution's code, rendered outside its dropdown, would be exactly that, since the
  solution's prose introduces it ("the cell below checks it"). At least one solution in the book
  holds code, so the hiding is checked on code and not only on prose.
* Figures. Every image in a chapter's article is a numbered figure ("Fig. 3.1") with a caption
  and an alt text that describes it (not a file name or a hash); on a phone every figure loads
  and fits the column, neither cut off nor shrunk below half its natural width.
* Code. At most 2% of the code lines shown in the chapters are longer than 100 characters, and
  at 1400 px no code input or printed output (every solution open) scrolls sideways.
* Formulas. On a phone no formula runs past the column unless it scrolls in a box of its own
  (book/_static/kdbook-math.js).
* The claims ledger fits a phone and a desktop without scrolling sideways.

Screenshots for the reader's eye go to ``_build/screenshots/`` beside the site (a chapter on a
phone with the navigation open, a solution closed and open, a two-panel figure, the ledger at
both widths). They are taken while the checks above run.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from .book_toc import toc_entries
from .built_site import SITE, check_math

SHOTS = SITE.parent / "screenshots"
PHONE = {"width": 400, "height": 860}
DESKTOP = {"width": 1400, "height": 900}

CHAPTERS = [p for p in toc_entries() if p.startswith("notebooks/")]

pytestmark = pytest.mark.skipif(not (SITE / "index.html").exists(),
                                reason=f"the site is not built at {SITE}: run `make book`")


# ---------------------------------------------------------------------------------------------
# Static checks on the built HTML (no browser)

def _soup(page: str):
    bs4 = pytest.importorskip("bs4")
    path = SITE / f"{page}.html"
    if not path.exists():
        pytest.fail(f"{page} is in the TOC but was not built")
    return bs4.BeautifulSoup(path.read_text(), "html.parser")


def _article(soup):
    article = soup.select_one("article.bd-article") or soup.select_one("article")
    assert article is not None, "no <article> on the page"
    return article


def _looks_like_a_file_name(text: str) -> bool:
    return bool(re.search(r"\.(png|svg|jpe?g|gif|pdf)\b|_images/|[0-9a-f]{16,}", text, re.IGNORECASE))


@pytest.mark.parametrize("chapter", CHAPTERS)
def test_every_figure_is_numbered_captioned_and_described(chapter):
    article = _article(_soup(chapter))
    problems = []
    for img in article.find_all("img"):
        src = img.get("src", "")
        figure = img.find_parent("figure")
        caption = figure.find("figcaption") if figure else None
        number = caption.select_one("span.caption-number") if caption else None
        text = caption.select_one("span.caption-text") if caption else None
        if number is None or not re.fullmatch(r"Fig\.\s*\d+(\.\d+)*\s*", number.get_text()):
            problems.append(f"{src}: not a numbered figure ('Fig. N.M')")
        elif text is None or not text.get_text(strip=True):
            problems.append(f"{src}: the figure has no caption text")
        alt = (img.get("alt") or "").strip()
        if len(alt.split()) < 3 or _looks_like_a_file_name(alt):
            problems.append(f"{src}: alt text missing or a file name: {alt[:60]!r}")
    assert not problems, problems


def test_code_lines_shown_in_the_chapters_fit():
    lines = []
    for chapter in CHAPTERS:
        for pre in _article(_soup(chapter)).select("div.cell_input pre"):
            lines += [(chapter, line) for line in pre.get_text().splitlines()]
    assert len(lines) > 100, f"only {len(lines)} code lines found: is the selector still right?"
    long_lines = [(chapter, len(line)) for chapter, line in lines if len(line) > 100]
    by_chapter = {}
    for chapter, _ in long_lines:
        by_chapter[chapter] = by_chapter.get(chapter, 0) + 1
    assert len(long_lines) <= 0.02 * len(lines), (
        f"{len(long_lines)} of {len(lines)} shown code lines are over 100 characters (at most 2%): {by_chapter}")


def test_some_solution_holds_code():
    """Keeps the solution checks honest: at least one solution's dropdown contains a code cell."""
    with_code = [chapter for chapter in CHAPTERS
                 if any(s.select_one("div.cell_input") for s in _article(_soup(chapter)).select("div.solution"))]
    assert with_code, "no solution contains a code cell: gated solutions are not rendered as expected"


# ---------------------------------------------------------------------------------------------
# In the browser

class Page:
    """A page at one viewport size; records failed, missing and off-machine requests."""

    def __init__(self, browser, url, viewport):
        self.context = browser.new_context(viewport=viewport)
        self.page = self.context.new_page()
        self.problems = []
        self.context.route("**/*", self._route)
        self.page.on("pageerror", lambda e: self.problems.append(f"page error: {e}"))
        self.page.on("response", lambda r: self.problems.append(f"HTTP {r.status}: {r.url}")
                     if r.status >= 400 else None)
        self.goto(url)

    def _route(self, route):
        url = route.request.url
        if url.startswith(("http://127.0.0.1", "data:", "blob:", "about:")):
            route.continue_()
        else:
            self.problems.append(f"request off the machine: {url}")
            route.abort()

    def goto(self, url):
        self.page.goto(url, wait_until="load")
        self.page.wait_for_function("() => !window.MathJax || (MathJax.startup && MathJax.startup.promise)",
                                    timeout=30_000)
        self.page.evaluate("() => window.MathJax && MathJax.startup.promise")

    def close(self):
        self.context.close()


@pytest.fixture
def open_page(server, browser):
    SHOTS.mkdir(parents=True, exist_ok=True)
    pages = []

    def _open(path, viewport):
        page = Page(browser, f"{server}/{path}", viewport)
        pages.append(page)
        return page

    yield _open
    for page in pages:
        page.close()


# True when an element is rendered, not hidden by visibility or opacity (its own or an
# ancestor's), has an area and lies at least partly on the screen horizontally (a link far down
# an open table of contents is in view once the reader scrolls the panel; one pushed off to the
# left, as the closed panel is, is not).
IN_VIEW = """el => {
  const r = el.getBoundingClientRect();
  return r.width > 0 && r.height > 0 && r.right > 0 && r.left < window.innerWidth
      && el.checkVisibility({opacityProperty: true, visibilityProperty: true});
}"""

SEARCH = ".search-button__button, .search-button-field, form.bd-search"


def _in_view(locator) -> bool:
    return locator.count() > 0 and locator.first.evaluate(IN_VIEW)


def _visible_count(page, selector) -> int:
    return page.locator(selector).evaluate_all(f"els => els.filter({IN_VIEW}).length")


def _wait(page, predicate, what, timeout_ms=3000):
    step = 100
    for _ in range(timeout_ms // step):
        if predicate():
            return
        page.wait_for_timeout(step)
    assert predicate(), what


def _toggle(page):
    """The one primary-sidebar toggle a reader can see."""
    toggles = page.locator(".primary-toggle")
    visible = [i for i in range(toggles.count()) if toggles.nth(i).evaluate(IN_VIEW)]
    assert len(visible) == 1, f"{len(visible)} visible sidebar toggles"
    return toggles.nth(visible[0])


def test_phone_navigation_opens_follows_a_link_and_closes(open_page):
    start, target = CHAPTERS[1], CHAPTERS[-1]
    view = open_page(f"{start}.html", PHONE)
    page = view.page
    link = page.locator(f'nav.bd-docs-nav a.reference.internal[href$="{Path(target).name}.html"]')
    assert link.count() == 1, f"no link to {target} in the navigation"
    assert not _in_view(link), "the table of contents is in view before the toggle is tapped"
    assert _visible_count(page, SEARCH) == 1, "not exactly one search control in view on a phone"

    toggle = _toggle(page)
    toggle.click()
    _wait(page, lambda: _in_view(link), "tapping the toggle did not show the table of contents")
    box = page.locator("nav.bd-docs-nav").bounding_box()
    assert box["x"] >= 0 and box["x"] + box["width"] <= PHONE["width"], f"the navigation is off the screen: {box}"
    page.screenshot(path=str(SHOTS / "chapter-400px-navigation-open.png"))

    # a tap beside the panel closes it, and the page stays where it was
    page.mouse.click(PHONE["width"] - 8, PHONE["height"] // 2)
    _wait(page, lambda: not _in_view(link), "tapping beside the navigation did not close it")
    assert page.url.endswith(f"{start}.html")

    toggle.click()
    _wait(page, lambda: _in_view(link), "the toggle did not open the navigation a second time")
    with page.expect_navigation():
        link.click()
    assert page.url.endswith(f"{target}.html"), page.url
    assert not view.problems, view.problems


@pytest.mark.parametrize("width", [975, 1400], ids=["975px", "1400px"])
def test_desktop_toggle_hides_and_shows_the_sidebar(open_page, width):
    view = open_page(f"{CHAPTERS[0]}.html", {"width": width, "height": 900})
    page = view.page
    sidebar = page.locator("#pst-primary-sidebar")
    article = page.locator("article.bd-article")
    assert _in_view(sidebar), "the sidebar is not shown at desktop width"
    assert _visible_count(page, SEARCH) == 1, "not exactly one search control in view"
    width_before = article.bounding_box()["width"]

    toggle = _toggle(page)
    toggle.click()
    _wait(page, lambda: not _in_view(sidebar), "the toggle did not hide the sidebar")
    page.wait_for_timeout(400)  # the theme animates the article's width
    assert article.bounding_box()["width"] > width_before, "the article did not take the sidebar's room"
    assert page.locator("dialog[open]").count() == 0, "the toggle opened a modal instead of collapsing"
    assert _visible_count(page, SEARCH) == 1, "not exactly one search control in view with the sidebar hidden"

    toggle.click()
    _wait(page, lambda: _in_view(sidebar), "the toggle did not show the sidebar again")
    assert not view.problems, view.problems


# For one solution: every element of its content (all but the title) that a reader could see.
SHOWN_IN_SOLUTION = f"""sol => {{
  const inView = {IN_VIEW};
  const title = sol.querySelector(':scope > .admonition-title, :scope > summary');
  return Array.from(sol.querySelectorAll('*'))
    .filter(el => !(title && (el === title || title.contains(el))))
    .filter(el => {{ const r = el.getBoundingClientRect(); return r.width > 0 && r.height > 0
                     && el.checkVisibility({{opacityProperty: true, visibilityProperty: true}}); }})
    .map(el => el.tagName.toLowerCase() + '.' + Array.from(el.classList).join('.'));
}}"""

# After opening: the code cells and outputs inside the solution that are not shown.
UNSHOWN_CODE = """sol => Array.from(sol.querySelectorAll('div.cell_input, div.cell_output'))
  .filter(el => !el.closest('details:not([open])'))
  .filter(el => { const r = el.getBoundingClientRect(); return !(r.width > 0 && r.height > 0
                  && el.checkVisibility({opacityProperty: true, visibilityProperty: true})); })
  .map(el => el.className)"""

_solution_shots_taken = []


@pytest.mark.parametrize("chapter", CHAPTERS)
def test_solutions_stay_hidden_until_opened(open_page, chapter):
    from playwright.sync_api import TimeoutError as PlaywrightTimeout

    if not (SITE / f"{chapter}.html").exists():
        pytest.fail(f"{chapter} is in the TOC but was not built")
    view = open_page(f"{chapter}.html", DESKTOP)
    page = view.page
    solutions = page.locator("article div.solution, article details.solution")
    problems = []
    for i in range(solutions.count()):
        solution = solutions.nth(i)
        name = solution.get_attribute("id") or f"solution {i + 1}"
        after = solution.evaluate("s => { const n = s.nextElementSibling; return n ? n.className : ''; }")
        if re.search(r"\bcell\b", after):
            problems.append(f"{name}: a code cell follows the solution outside its dropdown")
        solution.scroll_into_view_if_needed()
        shown = solution.evaluate(SHOWN_IN_SOLUTION)
        if shown:
            problems.append(f"{name}: visible before it is opened: {sorted(set(shown))[:5]}")
            continue
        has_code = solution.locator("div.cell_input").count() > 0
        take_shots = has_code and not _solution_shots_taken
        if take_shots:  # the exercise above it too, so the picture shows what is being hidden
            page.screenshot(path=str(SHOTS / "solution-closed.png"), full_page=True,
                            clip=solution.evaluate(WITH_ITS_EXERCISE))
        title = solution.locator(":scope > .admonition-title, :scope > summary").first
        title.click()
        try:
            page.wait_for_function(f"s => ({SHOWN_IN_SOLUTION})(s).length > 0", arg=solution.element_handle(),
                                   timeout=3000)
        except PlaywrightTimeout:
            problems.append(f"{name}: clicking its title did not show it")
            continue
        page.wait_for_timeout(350)  # togglebutton fades the content in
        unshown = solution.evaluate(UNSHOWN_CODE)
        if unshown:
            problems.append(f"{name}: opened, but its code is still hidden: {unshown[:3]}")
        if take_shots:
            solution.screenshot(path=str(SHOTS / "solution-open.png"))
            _solution_shots_taken.append(name)
    scrolling = page.evaluate(SCROLLING_CODE)
    assert not scrolling, f"{len(scrolling)} code or output blocks scroll sideways at 1400 px: {scrolling[:3]}"
    assert not problems, problems
    assert not view.problems, view.problems


# Page coordinates of a solution and the exercise just before it, for a screenshot.
WITH_ITS_EXERCISE = """s => {
  const top = (s.previousElementSibling || s).getBoundingClientRect().top, r = s.getBoundingClientRect();
  return {x: r.left - 8, y: top + window.scrollY - 8, width: r.width + 16, height: r.bottom - top + 16};
}"""

# Code inputs and printed outputs (every solution open) that scroll sideways: their ends would
# be out of sight on screen and lost in print.
SCROLLING_CODE = """() => Array.from(document.querySelectorAll(
    'article div.cell_input pre, article div.cell_output pre'))
  .filter(e => e.getBoundingClientRect().width > 0 && e.scrollWidth > e.clientWidth + 1)
  .map(e => e.innerText.split('\\n').reduce((a, b) => (b.length > a.length ? b : a), '').slice(0, 60))"""


def _two_panel_figure():
    """(chapter, figure id) of the first figure whose alt text describes two panels (else one with
    panels, else the first figure of the book)."""
    figures = []
    for chapter in CHAPTERS:
        if (SITE / f"{chapter}.html").exists():
            for figure in _article(_soup(chapter)).find_all("figure"):
                img = figure.find("img")
                if img and figure.get("id"):
                    figures.append((chapter, figure["id"], img.get("alt", "")))
    for pattern in (r"\btwo\b[^.]*\bpanels\b", r"\bpanels\b", r""):
        for chapter, figure_id, alt in figures:
            if re.search(pattern, alt, re.IGNORECASE):
                return chapter, figure_id
    return None


# Figures that overflow the article column, or did not load, on the page as laid out.
BAD_FIGURES = """article => {
  const a = article.getBoundingClientRect();
  return Array.from(article.querySelectorAll('figure img')).map(img => {
    const r = img.getBoundingClientRect();
    if (!img.complete || img.naturalWidth === 0) return 'not loaded: ' + img.src;
    if (r.width < 0.5 * Math.min(a.width, img.naturalWidth)) return 'shrunk to ' + Math.round(r.width) + ' px: ' + img.src;
    if (r.left < a.left - 1 || r.right > a.right + 1) return 'outside the column: ' + img.src;
    return null;
  }).filter(x => x);
}"""


def test_two_panel_figure_at_desktop_size(open_page):
    found = _two_panel_figure()
    if found is None:
        pytest.fail("no figure in the chapters")
    chapter, figure_id = found
    view = open_page(f"{chapter}.html", DESKTOP)
    figure = view.page.locator(f'figure[id="{figure_id}"]')
    bad = view.page.locator("article.bd-article").evaluate(BAD_FIGURES)
    assert not bad, bad
    box = figure.locator("img").bounding_box()
    column = view.page.locator("article.bd-article").bounding_box()
    assert box["width"] >= 0.6 * column["width"], f"the two-panel figure is shown {box['width']:.0f} px wide"
    figure.scroll_into_view_if_needed()
    figure.screenshot(path=str(SHOTS / "figure-two-panels-1400px.png"))


# Elements of the article that reach outside its column, other than those inside a box of their
# own that scrolls or clips (a wide equation, a code block).
STICKING_OUT = """() => {
  const article = document.querySelector('article.bd-article');
  const a = article.getBoundingClientRect();
  const out = [];
  for (const el of article.querySelectorAll('*')) {
    const r = el.getBoundingClientRect();
    if (r.width === 0 || r.height === 0 || (r.left >= a.left - 1 && r.right <= a.right + 1)) continue;
    let box = el.parentElement, contained = false;
    while (box && box !== article) {
      if (getComputedStyle(box).overflowX !== 'visible') { contained = true; break; }
      box = box.parentElement;
    }
    if (!contained) out.push(el.tagName.toLowerCase() + '.' + Array.from(el.classList).join('.'));
  }
  return out;
}"""


@pytest.mark.parametrize("viewport", [DESKTOP, PHONE], ids=["1400px", "400px"])
def test_claims_ledger_fits_the_screen(open_page, viewport):
    view = open_page("book/claims.html", viewport)
    page = view.page
    text = page.locator("article.bd-article").inner_text()
    assert len(text) > 2000, "the ledger page is nearly empty"
    height = page.evaluate("() => document.documentElement.scrollHeight")
    page.screenshot(path=str(SHOTS / f"claims-{viewport['width']}px.png"), full_page=True,
                    clip={"x": 0, "y": 0, "width": viewport["width"], "height": min(height, 8000)})
    outside = page.evaluate(STICKING_OUT)
    assert not outside, f"{len(outside)} elements reach outside the article column: {sorted(set(outside))[:6]}"
    width = page.evaluate("() => document.documentElement.scrollWidth")
    assert width <= viewport["width"], f"the ledger page scrolls sideways: {width} px wide"
    assert not view.problems, view.problems


# Formulas that run past the article's column with no box of their own that scrolls: on a phone
# their ends are cut off (MathJax 3 does not break inline math; book/_static/kdbook-math.js wraps
# a formula wider than its block in a scrolling span). A clipping ancestor ("hidden") does not
# count as a scrolling box: that is exactly how the ends were lost.
CUT_OFF_FORMULAS = """() => {
  const article = document.querySelector('article.bd-article');
  const a = article.getBoundingClientRect();
  const fits = r => r.left >= a.left - 1 && r.right <= a.right + 1;
  const out = [];
  for (const math of article.querySelectorAll('mjx-container')) {
    const r = math.getBoundingClientRect();
    if (r.width === 0 || fits(r)) continue;
    let box = math.parentElement, scrolls = false;
    while (box && box !== article) {
      const overflow = getComputedStyle(box).overflowX;
      if (overflow === 'auto' || overflow === 'scroll') { scrolls = fits(box.getBoundingClientRect()); break; }
      box = box.parentElement;
    }
    if (!scrolls) out.push(Math.round(r.right - a.right) + ' px: ' + math.textContent.slice(0, 40));
  }
  return out;
}"""


@pytest.mark.parametrize("chapter", CHAPTERS)
def test_chapter_renders_on_a_phone(open_page, chapter):
    """One load of each chapter at 400 px: the math is typeset, a theorem block is there, every
    figure loads and fits, and no formula is cut off."""
    if not (SITE / f"{chapter}.html").exists():
        pytest.fail(f"{chapter} is in the TOC but was not built")
    view = open_page(f"{chapter}.html", PHONE)
    check_math(view.page)
    assert view.page.locator(".proof, .theorem, div[class*='prf']").count() >= 1, "no theorem block"
    assert view.page.locator("article img").count() >= 1, "no figure on the chapter page"
    bad = view.page.locator("article.bd-article").evaluate(BAD_FIGURES)
    assert not bad, bad
    view.page.wait_for_timeout(300)  # kdbook-math.js runs once MathJax has typeset the page
    assert view.page.locator("article mjx-container").count() > 0, "no formulas on the page"
    cut_off = view.page.evaluate(CUT_OFF_FORMULAS)
    assert not cut_off, f"{len(cut_off)} formulas run past the column on a phone: {cut_off[:5]}"
    assert not view.problems, view.problems
