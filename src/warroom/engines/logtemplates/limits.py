"""Input limits shared by the miners (kept apart so every entry point applies the same cut)."""

from __future__ import annotations

from typing import Final

MAX_LINE_CHARS: Final = 4096
"""Longest message considered; longer lines are cut here and flagged ``truncated``."""


def truncate(message: str, limit: int = MAX_LINE_CHARS) -> tuple[str, bool]:
    """Cut ``message`` to ``limit`` characters; say whether it was cut."""
    if len(message) <= limit:
        return message, False
    return message[:limit], True
