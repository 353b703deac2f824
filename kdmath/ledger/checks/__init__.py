"""The checks behind the claims ledger: one function per claim that code can decide.

Each function recomputes what a source note states, by an independent route where one exists,
and returns a :class:`~kdmath.ledger.Finding` whose verdict comes from the computation alone:
a check of a correct claim returns ``verified`` only because the numbers agree, a check of a
wrong one returns ``corrected`` or ``false`` only because they do not (or because a
counterexample was found). The registry states the verdict each check is expected to reach,
and the test suite fails when the two part ways.
"""

from types import ModuleType

from . import (
    source_000,
    source_001,
    source_002,
    source_003,
    source_003_exercises,
    source_004,
)

SOURCE_MODULES: tuple[ModuleType, ...] = (source_000, source_001, source_002, source_003, source_003_exercises, source_004)


def _exported(module: ModuleType) -> dict:
    """The checks a source's module defines (its public functions), and its public constants."""
    return {
        name: value
        for name, value in vars(module).items()
        if not name.startswith("_")
        and ((callable(value) and getattr(value, "__module__", None) == module.__name__) or name.isupper())
    }


# ``checks.<name>`` for every check, whichever note's module defines it (the registry cites them so).
for _module in SOURCE_MODULES:
    _clash = {name for name, value in _exported(_module).items() if name in globals() and globals()[name] is not value}
    if _clash:
        raise ImportError(f"{_module.__name__} redefines {sorted(_clash)}")
    globals().update(_exported(_module))
