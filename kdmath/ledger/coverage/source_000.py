"""Source 000's statements, each mapped to the claims it makes or to why it makes none.

The note is one derivation written out twice, word for word (lines 1-37 and 38-74); the second
copy is mapped as duplicates of the first.
"""

from . import DEFINITION, DUPLICATE, HEADING, RHETORIC, claim, not_a_claim

MAP = (
    not_a_claim("L1", "## Derivation", HEADING, "the note's title"),
    not_a_claim("L3.1-L3.2", "Each case in the transfer set", DEFINITION,
                "sets up the cross-entropy gradient, the teacher's logits v and the temperature T"),
    claim("L5", r"\[ \frac{\partial C}{\partial z_i} = \frac{1}{T}", "000-gradient"),
    not_a_claim("L9-L11", "where:", DEFINITION, "defines p and q as the temperature softmaxes of v and z"),
    not_a_claim("L13", "Using the **Taylor expansion**", RHETORIC, "announces the approximation that follows"),
    claim("L15", r"\[ e^{z_i/T} \approx 1", "000-taylor-exponential"),
    not_a_claim("L19", "So, for large", RHETORIC, "connects the steps"),
    claim("L21", r"\[ p_i \approx \frac{1}{n}", "000-expansion"),
    not_a_claim("L25", "Thus,", RHETORIC, "connects the steps"),
    claim("L27", r"\[ q_i - p_i \approx", "000-difference"),
    not_a_claim("L31", "Finally,", RHETORIC, "connects the steps"),
    claim("L33", r"\[ \frac{\partial C}{\partial z_i} \approx \frac{1}{T^2}", "000-gradient-limit"),
    claim("L37", "This shows that, for high", "000-smoother"),
    not_a_claim("L38-L74", "## Derivation", DUPLICATE,
                "the second copy of lines L1-L37, word for word (checked by the test suite)"),
)
