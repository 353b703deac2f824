"""More claims of source 003, from its worked examples, quiz and practice problems (its lines 137 on).

The claims of those parts that were registered first stay in :mod:`.source_003`; this module holds
the ones the coverage map found after.
"""

from __future__ import annotations

from .._claim import Claim

C = Claim  # the table reads better with a short name

CLAIMS: tuple[Claim, ...] = ()
