"""Where the built site is, and how the browser tests start Chromium (shared by the site tests)."""

from __future__ import annotations

import os
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
# The built site; KDBOOK_SITE points the tests at another build (one made with --path-output).
SITE = Path(os.environ.get("KDBOOK_SITE") or ROOT / "_build" / "html")
CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
]
