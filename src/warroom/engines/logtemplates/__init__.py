"""Log template mining: messages in, templates with typed ``<*>`` variables out.

The pipeline is typed variable masking (:mod:`.tokens`), exact grouping by masked shape with
weak slots that turn variable once they vary (:mod:`.groups`), and a Drain-like one-word merge
of groups (:mod:`.merging`), held in one store (:mod:`.store`).  ``mine_templates`` is the batch
entry point (:mod:`.batch`); ``TemplateMiner`` is the streaming API (:mod:`.miner`).
"""

from .batch import mine_templates
from .limits import MAX_LINE_CHARS
from .miner import LineMatch, MinerConfig, Parameter, TemplateInfo, TemplateMiner

__all__ = [
    "MAX_LINE_CHARS",
    "LineMatch",
    "MinerConfig",
    "Parameter",
    "TemplateInfo",
    "TemplateMiner",
    "mine_templates",
]
