"""Shared pytest set-up.

nbval (0.10 and 0.11) runs each notebook cell with ``store_history=False``. IPython then decides
whether a trailing ``;`` silences a cell's value by looking at the *last stored* input, which is
not the cell being run, so under nbval ``ax.legend();`` still shows ``<matplotlib.legend.Legend
at 0x...>`` although Jupyter (and the book build) shows nothing. The notebooks' stored outputs
are made by Jupyter, so every such cell would "differ". (nbval issue #194, IPython issue #14162.)

The fix: run the cells with ``store_history=True``, as Jupyter itself does. nbval compares
neither execution counts nor history, so nothing else changes. This file sits at the top of the
repository so that it is loaded however pytest is pointed at the notebooks.
"""

from __future__ import annotations

try:
    from nbval.kernel import RunningKernel
except ImportError:  # nbval not installed: nothing to patch
    RunningKernel = None


def _execute_cell_input_with_history(self, cell_input, allow_stdin=None):
    return self.kc.execute(cell_input, store_history=True, allow_stdin=allow_stdin, stop_on_error=False)


if RunningKernel is not None and hasattr(RunningKernel, "execute_cell_input"):
    RunningKernel.execute_cell_input = _execute_cell_input_with_history


# Property-based tests draw the same examples on every run, so that CI is reproducible: a
# failure seen once is seen again, and a green run cannot turn red by the luck of the draw.
try:
    from hypothesis import settings as _hypothesis_settings
except ImportError:  # hypothesis not installed: nothing to configure
    _hypothesis_settings = None

if _hypothesis_settings is not None:
    _hypothesis_settings.register_profile("kdbook", derandomize=True, deadline=None, print_blob=True)
    _hypothesis_settings.load_profile("kdbook")
