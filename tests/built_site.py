"""Where the built site is, and how the browser tests start Chromium (shared by the site tests)."""

from __future__ import annotations

import os
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
# The built site; KDBOOK_SITE points the tests at another build (one made with --path-output).
SITE = Path(os.environ.get("KDBOOK_SITE") or ROOT / "_build" / "html")
CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
]


def check_math(page):
    """The page's math is typeset: formulas present, no TeX left as text in the prose, no MathJax error."""
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
