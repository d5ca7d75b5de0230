"""The tiny world: a generated corpus with known ground truth, and the simulated annotator.

    from collapselab.world import load_world, build_world, ground_truth, Annotator, parse_persona
    from collapselab.world.prompts import PERSONA_PROMPT, PERSONA_INSTRUCTION, BIO_PROMPT, STEVE_PROMPT

See ``build`` for the dataset contract and docs/world.md for the generative process.
"""

from collapselab.world import prompts
from collapselab.world.annotator import Annotator
from collapselab.world.bio import fact_accuracy
from collapselab.world.build import alignment_messages, build_world, load_truth, load_world, world_dir
from collapselab.world.documents import document_stats
from collapselab.world.persona import format_persona, parse_persona
from collapselab.world.truth import ground_truth

__all__ = [
    "Annotator",
    "alignment_messages",
    "build_world",
    "document_stats",
    "fact_accuracy",
    "format_persona",
    "ground_truth",
    "load_truth",
    "load_world",
    "parse_persona",
    "prompts",
    "world_dir",
]
