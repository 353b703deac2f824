"""The book's figure style: sizes for the column and a deterministic SVG output."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import pytest  # noqa: E402

from kdmath import plotting  # noqa: E402


def test_figsize_is_one_column_wide_with_a_height_per_row():
    assert plotting.figsize() == (plotting.COLUMN_WIDTH, 3.0)
    assert plotting.figsize(2, 2, row_height=2.5) == (plotting.COLUMN_WIDTH, 5.0)


@pytest.mark.parametrize(
    "kwargs, error",
    [({"rows": 0}, ValueError), ({"cols": 3}, ValueError), ({"rows": 1.5}, TypeError), ({"row_height": -1}, ValueError)],
)
def test_figsize_rejects_bad_input_naming_the_argument(kwargs, error):
    with pytest.raises(error, match=next(iter(kwargs))):
        plotting.figsize(**kwargs)


def test_book_style_sets_legible_text_and_reproducible_svg(tmp_path):
    with matplotlib.rc_context():
        plotting.use_book_style()  # outside IPython: parameters only
        assert matplotlib.rcParams["legend.fontsize"] >= 9
        assert matplotlib.rcParams["font.size"] >= 10
        outputs = []
        for name in ("a.svg", "b.svg"):
            fig, ax = plt.subplots(figsize=plotting.figsize())
            ax.plot([0, 1], [1, 0], label="line")
            ax.legend()
            fig.savefig(tmp_path / name, metadata={"Date": None})
            plt.close(fig)
            outputs.append((tmp_path / name).read_text())
        assert outputs[0] == outputs[1], "the same figure must give the same SVG"
    with pytest.raises(TypeError, match="svg"):
        plotting.use_book_style(svg="yes")
