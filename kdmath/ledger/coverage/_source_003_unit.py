"""Part of source 003's map (see :mod:`.source_003`)."""

from . import DEFINITION, DUPLICATE, HEADING, QUESTION, REFERENCE, RHETORIC, claim, not_a_claim  # noqa: F401

MAP = ()
