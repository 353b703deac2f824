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
from .built_site import ROOT, SITE, check_math



CHAPTERS = [p for p in toc_entries() if p.startswith("notebooks/")]

pytestmark = pytest.mark.skipif(not (SITE / "index.html").exists(), reason="the site is not built: run `make book`")


def _open(browser, url, math=True):
    """Load a page; return it with the console errors and failed or off-machine requests seen.

    With ``math``, wait until MathJax has typeset the page (a page with no formula loads no MathJax)."""
    page = browser.new_page()
    problems = []
    page.on("console", lambda m: problems.append(f"console {m.type}: {m.text}") if m.type == "error" else None)
    page.on("pageerror", lambda e: problems.append(f"page error: {e}"))
    page.on("requestfailed", lambda r: problems.append(f"request failed: {r.url}"))
    page.on("response", lambda r: problems.append(f"HTTP {r.status}: {r.url}") if r.status >= 400 else None)
    page.on("request", lambda r: None if r.url.startswith(("http://127.0.0.1", "data:", "blob:", "about:"))
            else problems.append(f"request off the machine: {r.url}"))
    page.goto(url, wait_until="networkidle")
    if not math:
        return page, problems
    page.wait_for_function("() => window.MathJax && MathJax.startup && MathJax.startup.promise", timeout=30_000)
    page.evaluate("() => MathJax.startup.promise")
    return page, problems


@pytest.mark.parametrize("page_name", ["book/preface", "book/notation"])
def test_book_pages_render(server, browser, page_name):
    page, problems = _open(browser, f"{server}/{page_name}.html")
    assert not problems, problems
    if page_name == "book/notation":
        check_math(page)
        # the labels the chapters cite ({eq}`kd-loss`, ...) exist, and their equations are numbered
        for label in ("temperature-softmax", "kl-divergence", "kd-loss"):
            equation = page.locator(f"#equation-{label}")
            assert equation.count() == 1, f"no equation labelled {label}"
            number = equation.locator("span.eqno").inner_text()  # "(2)" and a "#" permalink
            assert re.match(r"\(\d+\)", number.strip()), f"equation {label} has no number: {number!r}"
            assert equation.locator("mjx-container").count() == 1, f"equation {label} is not typeset"
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


def _ledger_cards(page) -> dict[str, dict]:
    """Each claim card of the ledger page, by claim id: the number of typeset formulas and the text
    (formulas left out) of each of its parts, and its check link."""
    return page.evaluate(
        """() => {
            const cards = {};
            for (const card of document.querySelectorAll('article .ledger-claim')) {
                const id = card.querySelector('.ledger-claim-id').innerText.trim();
                const parts = {};
                for (const part of ['ledger-place', 'ledger-statement', 'ledger-correction', 'ledger-note',
                                    'ledger-evidence', 'ledger-outcome', 'ledger-check', 'ledger-claim-id']) {
                    const found = card.querySelectorAll('.' + part);
                    if (!found.length) continue;
                    let math = 0, text = '';
                    for (const element of found) {
                        math += element.querySelectorAll('mjx-container').length;
                        const copy = element.cloneNode(true);
                        copy.querySelectorAll('mjx-container').forEach(m => m.remove());
                        text += copy.textContent;
                    }
                    parts[part] = {math, text};
                }
                const link = card.querySelector('.ledger-check a');
                cards[id] = {parts, link: link ? link.href : null, badge: card.querySelector('.ledger-verdict').innerText.trim()};
            }
            return cards;
        }"""
    )


def _repository():
    """_config.yml's repository address and branch: the one place they are written."""
    import yaml

    repository = yaml.safe_load((ROOT / "_config.yml").read_text())["repository"]
    return repository["url"].rstrip("/"), repository.get("branch", "main")


def test_claims_ledger_page(server, browser):
    """The ledger page lists every registered claim, counts them right, and every link on it resolves."""
    import json
    import stat
    from urllib.parse import urlsplit

    from kdmath import ledger

    page, problems = _open(browser, f"{server}/book/claims.html")
    assert not problems, problems
    check_math(page)
    text = page.locator("article").inner_text()
    missing = [claim.id for claim in ledger.CLAIMS if claim.id not in text]
    assert not missing, f"claims missing from the ledger page: {missing}"
    rows = page.locator("#ledger-counts tbody tr").all_inner_texts()
    shown = {row.split("\t")[0].strip(): int(row.split("\t")[-1]) for row in rows}
    assert shown == ledger.verdict_counts()
    hrefs = page.locator("article a.reference.internal").evaluate_all("els => els.map(e => e.href)")
    assert len(hrefs) >= len(ledger.CLAIMS), "the claims do not link to the book"
    broken = []
    for href in set(hrefs):
        parts = urlsplit(href)
        target = SITE / parts.path.lstrip("/")
        if not target.exists():
            broken.append(href)
        elif parts.fragment and f'id="{parts.fragment}"' not in target.read_text(errors="replace"):
            broken.append(href)
    assert not broken, broken[:10]
    # the sources are named by their titles, never by their (unshipped) files
    for source in ledger.SOURCES.values():
        assert f"Note {source.id}: {source.title}" in text, source.title
        assert source.file not in text and Path(source.file).stem.split("_")[-1] not in text, source.file
        assert page.locator(f"section#ledger-source-{source.id}").count() == 1, source.id
    # every claim is a card with its verdict, and every check's name links to its code on the repository
    import inspect

    url, branch = _repository()
    cards = _ledger_cards(page)
    assert list(cards) == [claim.id for claim in ledger.CLAIMS]
    for claim in ledger.CLAIMS:
        card = cards[claim.id]
        assert card["badge"] == claim.verdict, claim.id
        if claim.check is None:
            assert card["link"] is None, claim.id
            continue
        path = Path(inspect.getsourcefile(claim.check)).resolve().relative_to(ROOT).as_posix()
        line = inspect.getsourcelines(claim.check)[1]
        assert card["link"] == f"{url}/blob/{branch}/{path}#L{line}", claim.id
        assert claim.check_name in card["parts"]["ledger-check"]["text"], claim.id
    # the page names the build its checks ran in, as claims.json does
    exported = json.loads((SITE / "claims.json").read_text())
    build = page.locator("article .ledger-build").inner_text()
    assert exported["build"]["commit_label"] and f"from commit {exported['build']['commit_label']}" in build, build
    assert exported["build"]["date_display"] in build, build
    page.close()
    # claims.json is readable by a web server running as another user
    assert stat.S_IMODE((SITE / "claims.json").stat().st_mode) == 0o644
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
            assert f"Experiment {outcome.experiment}, its {outcome.config} configuration: {outcome.status}" in text


def test_claims_ledger_sets_only_formulas_as_math(server, browser):
    """What the registry writes between dollars is typeset, and nothing else: no prose, no price.

    A claim's place, statement, correction and note are MyST with inline math; ``math_spans`` reads
    the formulas off the registry (an escaped dollar, ``\\$``, is a literal one), and the registry
    refuses a "formula" that reads as prose. Here the browser must typeset exactly that many formulas
    in each part of each card, show every literal dollar as text, and typeset nothing in the computed
    parts (evidence, outcome, check, id), which are plain text.
    """
    from kdmath import ledger

    page, problems = _open(browser, f"{server}/book/claims.html")
    assert not problems, problems
    cards = _ledger_cards(page)
    page.close()
    fields = {"ledger-place": "place", "ledger-statement": "statement", "ledger-correction": "correction", "ledger-note": "note"}
    wrong = []
    for claim in ledger.CLAIMS:
        parts = cards[claim.id]["parts"]
        for part, field in fields.items():
            source = getattr(claim, field)
            if not source:
                assert part not in parts, (claim.id, part)
                continue
            shown = parts[part]
            if shown["math"] != len(ledger.math_spans(source)):
                wrong.append(f"{claim.id} {field}: {shown['math']} formulas typeset, {len(ledger.math_spans(source))} written")
            if shown["text"].count("$") != source.count("\\$"):
                wrong.append(f"{claim.id} {field}: {shown['text'].count('$')} dollars shown, {source.count(chr(92) + '$')} written")
        for part in ("ledger-evidence", "ledger-outcome", "ledger-check", "ledger-claim-id"):
            if parts.get(part, {}).get("math"):
                wrong.append(f"{claim.id}: its {part} (plain text) is typeset as math")
    assert not wrong, wrong[:10]
    assert any("\\$" in claim.statement for claim in ledger.CLAIMS), "no claim quotes a price: the dollar check checks nothing"


_CLIPPED = """() => {
    // Every box of the ledger (each card, counts table cell, and everything inside them) keeps its
    // content: nothing scrolls or is cut inside it, and nothing sticks out of its card.
    const bad = [];
    const name = e => e.tagName.toLowerCase() + (e.className && typeof e.className === 'string' ? '.' + e.className.split(' ').join('.') : '');
    const boxes = document.querySelectorAll('article .ledger-claim, article #ledger-counts td, article #ledger-counts th');
    for (const box of boxes) {
        const outer = box.getBoundingClientRect();
        for (const e of [box, ...box.querySelectorAll('*')]) {
            // a formula: MathJax's container, or the theme's span.math around it (which clips, overflow hidden)
            const math = e.tagName === 'MJX-CONTAINER' || e.matches('span.math');
            if (!math && e.closest('mjx-container')) continue;  // MathJax's glyph boxes: the container stands for them
            const r = e.getBoundingClientRect();
            if (r.width === 0 && r.height === 0) continue;
            // a formula's size is its mjx-math's (scrollWidth counts MathJax's hidden copy for screen readers)
            const drawn = math && e.querySelector('mjx-math').getBoundingClientRect();
            const width = math ? drawn.width : e.scrollWidth;
            if (math && (drawn.top < r.top - 1 || drawn.bottom > r.bottom + 1))
                bad.push(`formula cut at the top or bottom: ${e.textContent.slice(0, 60)}`);
            // what can hide content: a box that clips or scrolls (overflow not visible), the card or
            // cell itself, a formula (it scrolls on a phone) and a badge (text past its pill)
            const clips = getComputedStyle(e).overflowX !== 'visible' || e === box || math || e.classList.contains('sd-badge');
            if (clips && width > e.clientWidth + 1)
                bad.push(`${math ? 'formula' : name(e)} does not fit its box: ${width} > ${e.clientWidth}: ${e.textContent.slice(0, 60)}`);
            if (r.left < outer.left - 1 || r.right > outer.right + 1)
                bad.push(`${name(e)} sticks out of its ${name(box)}: [${r.left}, ${r.right}] vs [${outer.left}, ${outer.right}]: ${e.textContent.slice(0, 60)}`);
        }
    }
    const article = document.querySelector('article').getBoundingClientRect();
    for (const box of boxes) {
        const r = box.getBoundingClientRect();
        if (r.right > article.right + 1) bad.push(`${name(box)} is wider than the article: ${box.textContent.slice(0, 60)}`);
    }
    if (document.scrollingElement.scrollWidth > window.innerWidth + 1)
        bad.push(`the page scrolls sideways: ${document.scrollingElement.scrollWidth} > ${window.innerWidth}`);
    return {bad, boxes: boxes.length, badges: document.querySelectorAll('article .ledger-claim .sd-badge').length};
}"""


@pytest.mark.parametrize("width", [1400, 400])
def test_claims_ledger_fits_the_page(server, browser, width):
    """At desktop and phone width every card, badge and check name stays inside its box, unclipped.

    At 400 px a formula wider than the card may scroll inside its own box (CSS gives it one there); nothing
    else may, and at 1400 px nothing at all."""
    from kdmath import ledger

    page = browser.new_page(viewport={"width": width, "height": 900})
    page.goto(f"{server}/book/claims.html", wait_until="networkidle")
    page.evaluate("() => MathJax.startup.promise")
    found = page.evaluate(_CLIPPED)
    page.close()
    assert found["badges"] == len(ledger.CLAIMS)
    assert found["boxes"] >= len(ledger.CLAIMS)
    bad = found["bad"]
    if width < 720:
        bad = [line for line in bad if not line.startswith("formula does not fit")]
    assert not bad, bad[:10]


def test_sources_page(server, browser):
    """The sources page: each note by title and summary, its claims counted from the registry, and a link to its ledger section."""
    from urllib.parse import urlsplit

    from kdmath import ledger

    page, problems = _open(browser, f"{server}/book/sources.html", math=False)
    assert not problems, problems
    for source in ledger.SOURCES.values():
        section = page.locator(f"section#source-note-{source.id}")
        assert section.count() == 1, source.id
        text = section.inner_text().replace("\u2019", "'")  # Sphinx sets apostrophes typographically
        assert f"Note {source.id}: {source.title}" in text and source.summary in text
        counts = ledger.verdict_counts(source.id)
        shown = {verdict: int(n) for n, verdict in re.findall(r"(\d+)\s+(verified|corrected|false|true but vacuous|empirical|unverifiable)", text)}
        assert shown == {verdict: n for verdict, n in counts.items() if n}, (source.id, shown)
        assert f"{sum(counts.values())} claims" in text
        assert source.file not in text
        links = section.locator("a.reference.internal").evaluate_all("els => els.map(e => e.href)")
        assert any(urlsplit(href).path.endswith("/book/claims.html") and urlsplit(href).fragment == f"ledger-source-{source.id}"
                   for href in links), links
    page.close()
