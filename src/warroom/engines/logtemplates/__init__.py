"""Log template mining: messages in, templates with typed ``<*>`` variables out.

See :mod:`.tokens` (typed variable recognition), :mod:`.groups` (grouping by masked shape),
:mod:`.batch` (``mine_templates``) and :mod:`.miner` (the streaming ``TemplateMiner``).
"""

from .batch import mine_templates
from .limits import MAX_LINE_CHARS

__all__ = ["MAX_LINE_CHARS", "mine_templates"]
