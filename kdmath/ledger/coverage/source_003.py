"""Source 003's statements, each mapped to the claims it makes or to why it makes none.

The study unit is long; its map is kept in two parts: the unit itself (lines 1-136: objectives,
sections 1-5, pitfalls, key terms) and its exercises (lines 137 on: worked examples, quiz,
practice problems).
"""

from ._source_003_exercises import MAP as _EXERCISES
from ._source_003_unit import MAP as _UNIT

MAP = _UNIT + _EXERCISES
