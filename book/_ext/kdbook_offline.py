"""Keep every built page free of references to script hosts on the network.

Jupyter Book always loads sphinx-thebe, even with ``launch_buttons.thebe: false``. sphinx-thebe
then writes, on every page, an inline script holding the address of thebe on a public CDN, and a
loader script; both are useless when thebe is off, and the inline script is even added twice
(a console error: ``THEBE_JS_URL`` declared twice). This extension removes both from each page,
and drops inline scripts that appear twice, so that the pages name no CDN at all.
"""

from __future__ import annotations

THEBE_MARKERS = ("THEBE_JS_URL", "sphinx-thebe.js")


def _is_thebe(js) -> bool:
    body = getattr(js, "attributes", {}).get("body", "") or ""
    filename = str(getattr(js, "filename", "") or "")
    return any(marker in body or marker in filename for marker in THEBE_MARKERS)


def _strip_thebe(app, pagename, templatename, context, doctree):
    if app.config.kdbook_keep_thebe or "script_files" not in context:
        return None
    kept, seen = [], set()
    for js in context["script_files"]:
        if _is_thebe(js):
            continue
        key = (str(getattr(js, "filename", js)), tuple(sorted(getattr(js, "attributes", {}).items())))
        if key in seen:
            continue
        seen.add(key)
        kept.append(js)
    context["script_files"] = kept
    return None


def setup(app):
    # Set `kdbook_keep_thebe: true` in _config.yml's sphinx config if thebe is ever switched on.
    app.add_config_value("kdbook_keep_thebe", False, "html")
    app.connect("html-page-context", _strip_thebe, priority=900)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
