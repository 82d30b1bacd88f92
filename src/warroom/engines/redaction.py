"""Redaction of secrets and personal data in log text before it is stored or printed.

Why this exists: log bundles handed over during an incident routinely contain bearer tokens,
passwords in connection URLs, API keys, e-mail addresses and sometimes card numbers; Warroom
must not copy them into reports (GDPR data minimisation, PCI DSS requirement 3.4: render the
primary account number unreadable).

One combined regular expression (one pass per line) finds candidates; card numbers must also
pass the Luhn checksum (ISO/IEC 7812) and have a known issuer prefix, so long numeric ids and
epoch timestamps are left alone.  IP addresses are optional because they are often the very
evidence a responder needs.  Counts per category are kept for the report.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Final

CATEGORIES: Final = ("bearer", "url-password", "api-key", "email", "card", "ip")
_PATTERNS: Final = {
    "bearer": r"(?i:\bbearer\s+)[A-Za-z0-9\-._~+/]{8,}=*",
    "url-password": r"(?<=://)[^\s:/@]+:[^\s@/]+(?=@)",
    "api-key": (
        r"\b(?:AKIA[0-9A-Z]{16}|gh[pousr]_[A-Za-z0-9]{36}|xox[abprs]-[A-Za-z0-9-]{10,}"
        r"|sk_(?:live|test)_[A-Za-z0-9]{16,}|eyJ[\w-]{8,}\.eyJ[\w-]{8,}\.[\w-]{8,})"
        r"|(?i:(?:api[_-]?key|apikey|access[_-]?key|secret|token|password|passwd|pwd)"
        r"[\"']?\s*[:=]\s*[\"']?)(?!\*\*\*)[^\s\"'&,;]{4,}"
    ),
    "email": r"\b[A-Za-z0-9._%+-]+@[A-Za-z0-9.-]+\.[A-Za-z]{2,}\b",
    # Starts with the digit class so the scan skips in C to candidate digits (the lookbehind
    # then checks the character before it): same matches as (?<![\w-])[2-6]\d{3}...
    "card": r"[2-6](?<![\w-][2-6])\d{3}(?:[ -]?\d){9,15}(?![\w-])",
    "ip": (
        r"(?<![\w.])(?:(?:25[0-5]|2[0-4]\d|1?\d?\d)\.){3}(?:25[0-5]|2[0-4]\d|1?\d?\d)(?![\w.])"
        r"|(?<![\w:])(?:[0-9A-Fa-f]{1,4}:){7}[0-9A-Fa-f]{1,4}(?![\w:])"
    ),
}
_TRIGGERS: Final[dict[str, tuple[str, ...] | None]] = {
    "bearer": ("bearer",),
    "url-password": ("://",),
    "api-key": ("key", "secret", "token", "pass", "pwd", "akia", "gh", "xox", "sk_", "eyj"),
    "email": ("@",),
    "card": None,
    "ip": None,
}
_KEEP_PREFIX = re.compile(
    r"(?i)^(bearer\s+|(?:api[_-]?key|apikey|access[_-]?key|secret|token|password|passwd|pwd)"
    r"[\"']?\s*[:=]\s*[\"']?)"
)
_CARD_PREFIXES: Final = ("4", "51", "52", "53", "54", "55", "34", "37", "6011", "65", "35", "2")


def _trigger(words: tuple[str, ...] | None) -> Callable[[str], object] | None:
    """A test "does the lower-cased text contain one of ``words``" (None: always run)."""
    if words is None:
        return None
    return re.compile("|".join(re.escape(word) for word in words)).search


def luhn_valid(digits: str) -> bool:
    """The Luhn (mod 10) checksum of a digit string."""
    total = 0
    for i, char in enumerate(reversed(digits)):
        value = int(char)
        if i % 2:
            value = value * 2 - 9 if value > 4 else value * 2
        total += value
    return total % 10 == 0


def _is_card(text: str) -> bool:
    digits = re.sub(r"[ -]", "", text)
    return 13 <= len(digits) <= 19 and digits.startswith(_CARD_PREFIXES) and luhn_valid(digits)


@dataclass
class Redactor:
    """Redacts the enabled categories and counts what it replaced.

    Args:
        categories: which of :data:`CATEGORIES` to redact; by default all but ``ip``.
    """

    categories: Iterable[str] = ("bearer", "url-password", "api-key", "email", "card")
    counts: Counter[str] = field(default_factory=Counter)

    def __post_init__(self) -> None:
        chosen = [c for c in CATEGORIES if c in set(self.categories)]
        unknown = set(self.categories) - set(CATEGORIES)
        if unknown:
            raise ValueError(f"unknown redaction categories: {sorted(unknown)}")
        self._passes = [
            (_trigger(_TRIGGERS[c]), re.compile(f"(?P<{c.replace('-', '_')}>{_PATTERNS[c]})"))
            for c in chosen
        ]

    def redact(self, text: str) -> str:
        """``text`` with every enabled secret replaced by ``[REDACTED:<category>]``."""
        lowered = text.lower()
        for trigger, regex in self._passes:
            # A literal search in C is far cheaper than a regex scan that will find nothing.
            if trigger is None or trigger(lowered):
                text = regex.sub(self._replace, text)
        return text

    def _replace(self, match: re.Match[str]) -> str:
        category = str(match.lastgroup).replace("_", "-")
        found = match.group(0)
        if category == "card" and not _is_card(found):
            return found
        self.counts[category] += 1
        keep = _KEEP_PREFIX.match(found)
        prefix = keep.group(1) if keep else ""
        return f"{prefix}[REDACTED:{category}]"
