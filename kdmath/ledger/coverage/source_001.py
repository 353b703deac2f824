"""Source 001's statements, each mapped to the claims it makes or to why it makes none.

The note is a page of a personal web notebook: YAML front matter (lines 1-19, with two links to
the site), two opening paragraphs of remarks, then equations (1) and (2) and a footnote with the
two high-temperature approximations (3) and (4).
"""

from . import DEFINITION, HEADING, REFERENCE, claim, not_a_claim

MAP = (
    not_a_claim("L1-L12", "---", HEADING,
                "the page's front matter: dates, a one-line description, id, tags, title, layout and slug"),
    not_a_claim("L13", "permalink: https://aarnphm.xyz", REFERENCE, "the address of the page on the web"),
    not_a_claim("L14-L17", "generator:", HEADING, "front matter: the site generator and its host"),
    not_a_claim("L18", "full: https://aarnphm.xyz", REFERENCE, "the address of the whole site as one text file"),
    not_a_claim("L19", "---", HEADING, "the end of the front matter"),
    not_a_claim("L20.1", "_a transfer [[thoughts/Machine learning", DEFINITION,
                "defines knowledge distillation as a transfer-learning method, citing Hinton et al. (2015)"),
    claim("L20.2", "Even more popular now", "001-r1-popular"),
    claim("L22.1", "Unlike Mixture of Expert", "001-specialist-activations"),
    claim("L22.2", "Conceptually, most of parameters", "001-unused-parameters"),
    not_a_claim("L24", "## conceptually", HEADING, "a section heading"),
    not_a_claim("L26", "usually NN produces a class", DEFINITION,
                "introduces the softmax layer, the logits z_i and the probabilities q_i of eq. (1)"),
    claim("L28", "$$ q_i = \\frac{\\text{exp}(z_i/T)}", "001-eq1"),
    claim("L32", "where temperature $T$ is often set to 1", "001-T-one"),
    not_a_claim("L34", "We “distill” the knowledge", DEFINITION,
                "says what distilling is: training the specialist on the soft targets of the transfer set"),
    not_a_claim("L36-L38", "Each case in a transfer sets", DEFINITION,
                "sets up the cross-entropy gradient dC/dz_i, the temperature T and the soft targets p_i of eq. (2)"),
    claim("L40", "$$ \\frac{\\partial C}{\\partial z_i} = \\frac{1}{T} (q_i - p_i)", "001-eq2"),
    claim("L44-L46", "[^temperature-approx]: If the temperature is high", "001-eq3"),
    claim("L50-L52", "We further simplified Eq.3", "001-eq4-from-eq3", "001-eq4"),
)
