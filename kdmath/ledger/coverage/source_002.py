"""Source 002's statements, each mapped to the claims it makes or to why it makes none.

The explainer says what distillation is and why it is used, gives the recipe in three steps, and
then the loss: temperature scaling (step 1) and the hard, soft and total losses (step 2). A
numbered item's number ("1.") is cut as a statement of its own; it is mapped with its item.
"""

from . import DEFINITION, DUPLICATE, HEADING, claim, not_a_claim

MAP = (
    not_a_claim("L1-L3", "## Knowledge Distillation", HEADING, "the note's title and the heading of its first section"),
    not_a_claim("L5.1", "Knowledge distillation is a machine learning", DEFINITION,
                "defines distillation, the student and the teacher"),
    claim("L5.2", "The goal is to compress knowledge", "002-goal"),
    not_a_claim("L7", "#### Core Idea", HEADING, "a section heading"),
    not_a_claim("L9", "Instead of just training the student", DEFINITION,
                "defines hard labels and soft labels (the teacher's output probabilities) as the student's targets"),
    not_a_claim("L11", "#### Why Use Knowledge Distillation?", HEADING, "a section heading"),
    claim("L13.1-L14.2", "1.", "002-compression"),
    claim("L15.1-L15.2", "3.", "002-generalization"),
    not_a_claim("L17", "#### How It Works", HEADING, "a section heading"),
    not_a_claim("L19.1-L21.2", "1.", DEFINITION,
                "the recipe's steps: train the teacher on the data, pass the data through it for soft targets, train the student"),
    claim("L22-L23", "- Use both the soft targets", "002-use-both"),
    not_a_claim("L25", "#### Knowldege Distillation Loss Function", HEADING, "a section heading"),
    not_a_claim("L27-L31", "In knowledge distillation, we want", DUPLICATE,
                "the student learns from both the hard labels and the teacher's soft predictions: L22 again (002-use-both)"),
    not_a_claim("L33", "##### Step 1: Temperature Scaling", HEADING, "a section heading"),
    not_a_claim("L35-L39", "Let:", DEFINITION, "names the teacher's logits z_t and the student's logits z_s"),
    claim("L41", "- `T` = temperature (a scalar > 1", "002-T-softens"),
    not_a_claim("L43-L45", "The **softened probabilities** are:", DEFINITION,
                "defines p_t and p_s as the softmaxes of z_t/T and z_s/T"),
    not_a_claim("L49", "##### Step 2: Loss Components", HEADING, "a section heading"),
    not_a_claim("L51", "We define the total loss as a weighted", DEFINITION,
                "announces the total loss of L79 as a weighted sum of the two losses"),
    not_a_claim("L53.1-L53.2", "1.", HEADING, "the first item's title: the distillation loss"),
    claim("L55", "- This measures how well the student", "002-kd-measures"),
    claim("L57-L65", "- Use **KL divergence** or **cross-entropy**", "002-kl-or-ce"),
    claim("L69", "The $T^2$ term ensures the gradient", "002-t2-balance"),
    not_a_claim("L71.1-L71.2", "2.", HEADING, "the second item's title: the classification loss"),
    not_a_claim("L73", "$$ L_{\\mathrm{CE}} = \\mathrm{CrossEntropy}(y", DEFINITION,
                "defines the hard loss, the cross-entropy of the labels to the student's softmax at T = 1"),
    not_a_claim("L77.1-L77.2", "3.", HEADING, "the third item's title: the total loss"),
    claim("L79-L83", "$$ L_{\\text{total}} = \\alpha", "002-combined-loss"),
)
