"""The book's figure style: one column wide, text legible at 100% zoom, sharp on every screen.

:func:`use_book_style` is the one call a chapter's set-up cell makes. It sets matplotlib's
parameters (font sizes, grid) and, in a notebook, draws figures as SVG: vector graphics stay sharp
on a high-density phone screen and in print, and their text is real text at the size set here.

Sizes: a figure is at most :data:`COLUMN_WIDTH` inches wide, the width at which the site shows it
without shrinking (about 620 CSS pixels). :func:`figsize` gives that width and a height per row of
panels, so that a two-panel figure keeps its legends at the size of the text around it.
"""

from __future__ import annotations

import matplotlib as mpl

#: The width of the text column, in inches: a figure this wide is shown at its natural size.
COLUMN_WIDTH = 6.4

BOOK_STYLE = {
    "font.size": 10,
    "axes.titlesize": 10,
    "axes.labelsize": 10,
    "legend.fontsize": 9,
    "xtick.labelsize": 9,
    "ytick.labelsize": 9,
    "figure.titlesize": 11,
    "axes.grid": True,
    "grid.alpha": 0.3,
    "figure.dpi": 100,
    "savefig.dpi": 200,
    "figure.constrained_layout.use": True,
    # Deterministic SVG: the same figure gives the same file on every run.
    "svg.hashsalt": "kdbook",
    "svg.fonttype": "path",
}


def figsize(rows: int = 1, cols: int = 1, *, row_height: float = 3.0) -> tuple[float, float]:
    """(width, height) in inches for ``rows`` x ``cols`` panels: the column's width, ``row_height`` per row.

    Panels side by side share the column; more than two in a row would make each too narrow
    to read, so stack them instead.
    """
    for name, value in (("rows", rows), ("cols", cols)):
        if not isinstance(value, int) or isinstance(value, bool):
            raise TypeError(f"{name} must be an int, got {type(value).__name__}")
        if value < 1:
            raise ValueError(f"{name} must be at least 1, got {value}")
    if cols > 2:
        raise ValueError(f"cols must be 1 or 2 (panels narrower than half the column are unreadable), got {cols}")
    if not isinstance(row_height, (int, float)) or isinstance(row_height, bool) or row_height <= 0:
        raise ValueError(f"row_height must be a positive number of inches, got {row_height!r}")
    return (COLUMN_WIDTH, row_height * rows)


def use_book_style(*, svg: bool = True) -> None:
    """Apply :data:`BOOK_STYLE`; in an IPython kernel, also show figures as SVG (``svg=True``).

    Outside IPython (a script, a test) only the parameters change.
    """
    if not isinstance(svg, bool):
        raise TypeError(f"svg must be True or False, got {type(svg).__name__}")
    mpl.rcParams.update(BOOK_STYLE)
    try:
        from IPython import get_ipython
    except ImportError:
        return
    shell = get_ipython()
    if shell is None or not svg:
        return
    from matplotlib_inline.backend_inline import set_matplotlib_formats

    # No date in the file, so a re-run that draws the same figure stores the same output.
    set_matplotlib_formats("svg", metadata={"Date": None})
