"""Fixtures of the browser tests of the built site (tests/test_site.py, tests/test_site_reader.py)."""

from __future__ import annotations

import pytest

from .built_site import CHROMIUM, CHROMIUM_ARGS, SITE
from .local_server import LocalServer


@pytest.fixture(scope="module")
def server():
    """The built site on a local HTTP server; its address without a trailing slash."""
    with LocalServer(SITE) as local:
        yield local.url.rstrip("/")


@pytest.fixture(scope="module")
def browser():
    """Debian's headless Chromium through playwright; skips where either is missing."""
    if not CHROMIUM.exists():
        pytest.skip("Chromium is not installed (apt-get install -y chromium); the site test cannot run here")
    sync_api = pytest.importorskip("playwright.sync_api")
    with sync_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield browser
        browser.close()
