"""Typed variable recognition: split one log message into literal text and typed variables.

Why this exists: the template conventions of the corrected Loghub ground truth (Khan et al.,
ICSE'22; Loghub-2.0) keep punctuation as separators and replace every *value* (number, id,
IP with port, path, hex, duration, size, host, user@host ...) by ``<*>``.  Drain-style parsers
only mask whole whitespace tokens, so ``10.0.0.1:50010`` and ``key=42`` become one ``<*>`` and
the template text no longer matches.  This module does the masking in two strengths:

* **strong** variables are recognised from the token alone (numbers, hex, IPs, paths, URLs,
  UUIDs, ids with long digit runs ...) and are always ``<*>``;
* **weak** tokens contain a digit but could be a constant name (``eth1``, ``L3``,
  ``hadoop-metrics2.properties``): the grouping stage keeps them as text while they never vary
  across the messages of a template and turns them into ``<*>`` once they do;
* **units** after a number (``93.0 KB``) are weak in the same way, and join the number's
  ``<*>`` when they vary.

Everything else is literal text.  The algorithm is a hand-written scanner over
whitespace-separated words, each cut at separator punctuation (``= : , ; ( ) [ ] { } < > @``
...), with whole-word patterns (URL, MAC, IPv6, path) tried before the cut.
"""

from __future__ import annotations

import re
from typing import Final

LITERAL: Final = ""
WEAK: Final = "word"
UNIT: Final = "unit"

Segment = tuple[str, str]
"""``(kind, text)``: kind is ``LITERAL``, ``WEAK`` or a strong variable kind such as ``"ip"``."""

_SEPARATORS: Final = re.compile(r"(\.{2,}|[=:,;()\[\]{}<>\"'@|#*+!?&^`]+)")
_URL: Final = re.compile(r"(?<![\w+.-])[A-Za-z][\w+.-]*://|(?<![\w])[A-Za-z]:\\")
_EMAIL: Final = re.compile(r"(?<![\w.+-])[\w.+-]{1,64}@[A-Za-z][\w-]*(?:\.[\w-]+)*")
_DATE: Final = re.compile(
    r"\b(?:(?:Mon|Tue|Wed|Thu|Fri|Sat|Sun)[a-z]*,? +)?"
    r"(?:Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec)[a-z]* +\d{1,2},? +"
    r"(?:\d{4} +)?\d{1,2}:\d{2}:\d{2}(?:\.\d+)?(?: +[A-Z]{3,4})?(?: +\d{4})?\b"
    r"|\b\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}:\d{2}(?:[.,]\d+)?(?:Z|[+-]\d{2}:?\d{2})?"
)
_USER_WORDS: Final = frozenset({"user", "User", "USER"})
# Words that follow "user" in prose rather than naming an account ("user unknown").
_NOT_USER_NAMES: Final = frozenset(
    {"unknown", "is", "not", "from", "for", "to", "by", "in", "on", "with", "and", "or", "the"}
    | {"a", "an", "name", "id", "logged", "login", "session", "request", "authentication"}
    | {"account", "data", "level", "mode", "process", "time", "has", "was"}
)
_DNS_NAME: Final = re.compile(r"^[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?(?:\.[A-Za-z0-9-]+)+$")
_KNOWN_DOMAIN: Final = re.compile(
    r"\.(?:com|net|org|edu|gov|mil|int|io|info|biz|local|lan|internal|localdomain|"
    r"[a-z]{2}\.[a-z]{2}|hk|cn|uk|de|jp|fr|ru|us|in|br|au|ca|nl|kr|tw)$"
)
_DIGIT: Final = re.compile(r"\d")
# A unit written after its number ("93.0 B", "took 12 ms") is kept as text while it is the
# same across a template's messages and joins the number's variable once it varies, which
# is how the corrected ground truth treats "estimated size <*>" versus "capacity <*> GB".
_UNITS: Final = frozenset(
    {"B", "KB", "MB", "GB", "TB", "PB", "KiB", "MiB", "GiB", "TiB", "kB", "bytes", "Bytes"}
    | {"ns", "us", "ms", "s", "sec", "secs", "seconds", "min", "mins", "minutes", "hours"}
)
_MEASURED: Final = frozenset({"number", "duration", "size", "id"})
# Words repeat across messages far more than messages do; their segments are cached.
_WORD_CACHE: dict[str, tuple[Segment, ...]] = {}
_SHAPE_CACHE: dict[str, tuple[tuple[str, int], ...]] = {}
# Digits 1-9 all become 1 in a word's shape; 0 is kept because "0x" starts a hex number.
_DIGIT_SHAPE: Final = str.maketrans("123456789", "111111111")
_WORD_CACHE_SIZE: Final = 50_000
_MAC: Final = re.compile(r"^(?:[0-9A-Fa-f]{2}[:-]){5}[0-9A-Fa-f]{2}$")
_IPV6: Final = re.compile(r"^(?=.*::|(?:[^:]*:){7})[0-9A-Fa-f:]{2,39}(?:%\w+)?$")
_UUID: Final = re.compile(
    r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$"
)
_IPV4: Final = re.compile(r"^/?(?:\d{1,3}\.){3}\d{1,3}$")
_HEX: Final = re.compile(r"^(?:0[xX])?[0-9a-fA-F]+$")
_LETTER_HEX: Final = re.compile(r"[a-fA-F]")
_DURATION: Final = re.compile(
    r"^[-+]?\d+(?:\.\d+)?(?:ns|us|µs|ms|s|sec|secs|m|min|mins|h|hr|hrs|d)$"
)
_SIZE: Final = re.compile(r"^\d+(?:\.\d+)?(?:[KMGTP]i?[Bb]?|[kKMGTP]bytes|bytes|B|b|kb)$")
_NUMBER: Final = re.compile(r"^[-+]?\d+(?:[.,]\d+)*(?:[eE][-+]?\d+)?%?$")
_LONG_DIGITS: Final = re.compile(r"\d{3,}")
_DOTTED_PREFIX: Final = re.compile(r"^([A-Za-z]{2,})(-(?=.*\d)|\.(?=\d+$))(.+)$")
_NAME_WITH_DIGIT: Final = re.compile(r"^[A-Za-z]{1,4}\d$")
_MULTI_HYPHEN_HOST: Final = re.compile(r"^[A-Za-z][A-Za-z0-9]*(?:-[A-Za-z0-9]+){2,}$")
_PATH_START: Final = ("/", "~/", "./", "../")
# Values that are plain words: booleans and null in any case, and the superuser's account name
# (lower case only: "ROOT LOGIN" is a fixed phrase, "(root) CMD" names an account).
_VALUE_WORDS: Final = {
    **dict.fromkeys(("true", "false", "null", "True", "False", "Null", "TRUE", "FALSE"), "bool"),
    "NULL": "bool",
    "root": "user",
}


def split_message(message: str) -> list[Segment]:
    """Cut ``message`` into literal and variable segments; words are joined by one space."""
    segments: list[Segment] = []
    position = 0
    if ":" in message and _DIGIT.search(message):
        for date in _DATE.finditer(message):
            _scan_words(message[position : date.start()], segments)
            if segments:
                segments.append((LITERAL, " "))
            segments.append(("time", date.group()))
            position = date.end()
    _scan_words(message[position:], segments)
    return segments


def _scan_words(text: str, out: list[Segment]) -> None:
    previous = ""
    cache = _WORD_CACHE
    for word in text.split():
        if out:
            out.append((LITERAL, " "))
        if previous in _USER_WORDS and word.isalnum() and word.lower() not in _NOT_USER_NAMES:
            out.append(("user", word))
        elif word.isdigit():
            out.append(("number", word))
        elif len(out) >= 2 and out[-2][0] in _MEASURED and _strip_tail(word)[0] in _UNITS:
            unit, tail = _strip_tail(word)
            out.append((UNIT, unit))
            if tail:
                out.append((LITERAL, tail))
        else:
            segments = cache.get(word)
            out.extend(_word_segments(word) if segments is None else segments)
        previous = word


def _word_segments(word: str) -> tuple[Segment, ...]:
    """Segments of one word, via a cache keyed on the word's *shape* (digits 1-9 -> 1).

    No rule looks at digit values, only at where digits are, so words of one shape (every
    ``blk_<19 digits>``, every dotted quad of the same widths) cut at the same offsets.
    """
    shape = word.translate(_DIGIT_SHAPE)
    spans = _SHAPE_CACHE.get(shape)
    if spans is None:
        found: list[Segment] = []
        _scan_word(shape, found)
        spans = tuple((kind, len(text)) for kind, text in found)
        if len(_SHAPE_CACHE) >= _WORD_CACHE_SIZE:
            _SHAPE_CACHE.clear()
        _SHAPE_CACHE[shape] = spans
    segments = _slice(word, spans)
    if shape == word:
        # Digit-free words (the fixed text of templates) are cached as finished segments.
        if len(_WORD_CACHE) >= _WORD_CACHE_SIZE:
            _WORD_CACHE.clear()
        _WORD_CACHE[word] = segments
    return segments


def _slice(word: str, spans: tuple[tuple[str, int], ...]) -> tuple[Segment, ...]:
    out = []
    start = 0
    for kind, length in spans:
        out.append((kind, word[start : start + length]))
        start += length
    return tuple(out)


def _scan_word(word: str, out: list[Segment]) -> None:
    if word.isalpha():
        out.append((LITERAL, word))
        return
    url = _URL.search(word) if ":" in word else None
    if url is None and "@" in word:
        url = _EMAIL.search(word)
        if url is not None and not _has_digit(url.group().split("@")[0]):
            url = None
    if url is not None:
        _scan_pieces(word[: url.start()], out)
        if url.group().endswith("\\") or "@" in url.group():
            _scan_opaque(word[url.start() :], url.end() - url.start(), out)
        else:
            _scan_url(word[url.start() :], url.end() - url.start(), out)
        return
    core, tail = _strip_tail(word)
    whole = _whole_word_kind(core)
    if whole is not None:
        out.append((whole, core))
        if tail:
            out.append((LITERAL, tail))
        return
    _scan_pieces(word, out)


def _scan_opaque(text: str, match_len: int, out: list[Segment]) -> None:
    """A Windows path or an e-mail address: one variable up to the end of the match/word."""
    if "@" in text[:match_len]:
        out.append(("email", text[:match_len]))
        _scan_pieces(text[match_len:], out)
        return
    core, tail = _strip_tail(text)
    out.append(("path", core))
    if tail:
        out.append((LITERAL, tail))


def _strip_tail(word: str) -> tuple[str, str]:
    end = len(word)
    while end > 1 and word[end - 1] in ".,;:)]}'\"":
        end -= 1
    return word[:end], word[end:]


def _whole_word_kind(core: str) -> str | None:
    if ":" not in core and "-" not in core:
        return None
    if _MAC.match(core):
        return "mac"
    if _UUID.match(core):
        return "uuid"
    if core.count(":") >= 2 and _IPV6.match(core) and any(c.isdigit() for c in core):
        return "ip"
    return None


def _scan_url(text: str, scheme_len: int, out: list[Segment]) -> None:
    core, tail = _strip_tail(text)
    scheme, rest = core[:scheme_len], core[scheme_len:]
    out.append((LITERAL, scheme))
    if not any(c.isdigit() for c in rest):
        out.append((LITERAL, rest))
    elif "/" not in rest and "@" not in rest and rest.count(":") == 1:
        host, port = rest.split(":")
        out.extend((("host", host), (LITERAL, ":"), (_classify(port), port)))
    else:
        out.append(("url", rest))
    if tail:
        out.append((LITERAL, tail))


def _scan_pieces(text: str, out: list[Segment]) -> None:
    parts = _SEPARATORS.split(text)
    for index, part in enumerate(parts):
        if not part:
            continue
        if index % 2:
            out.append((LITERAL, part))
            continue
        follows_key = index + 1 < len(parts) and parts[index + 1].startswith("=")
        if _is_named_host(part, parts, index):
            out.append(("host", part))
        else:
            _scan_piece(part, out, is_key=follows_key)


def _is_named_host(part: str, parts: list[str], index: int) -> bool:
    """``www.example.com`` or ``proxy.lab:5070``: a DNS name, even without digits."""
    if "." not in part or part.endswith(".") or not _DNS_NAME.match(part):
        return False
    if _IPV4.match(part):
        return False
    if _KNOWN_DOMAIN.search(part):
        return True
    return (
        index + 2 < len(parts)
        and parts[index + 1] == ":"
        and parts[index + 2].isdigit()
        and part.count(".") >= 1
    )


def _scan_piece(piece: str, out: list[Segment], *, is_key: bool) -> None:
    trailing = ""
    if len(piece) > 1 and piece.endswith(".") and not piece.endswith(".."):
        piece, trailing = piece[:-1], "."
    if is_key and not piece[:1].isdigit():
        out.append((WEAK if _has_digit(piece) else LITERAL, piece))
    elif _IPV4.match(piece):
        out.append(("ip", piece))
    elif piece.startswith(_PATH_START) and len(piece) > 1 or _is_backslash_path(piece):
        out.append(("path", piece))
    elif "/" in piece and not _IPV4.match(piece):
        _scan_slashed(piece, out)
    else:
        _scan_atom(piece, out)
    if trailing:
        out.append((LITERAL, trailing))


def _scan_slashed(piece: str, out: list[Segment]) -> None:
    if piece.count("/") >= 2 and not piece.replace("/", "").isdigit():
        out.append(("path", piece))
        return
    for index, sub in enumerate(piece.split("/")):
        if index:
            out.append((LITERAL, "/"))
        if sub:
            _scan_atom(sub, out)


def _scan_atom(atom: str, out: list[Segment]) -> None:
    if not _has_digit(atom):
        out.append((_VALUE_WORDS.get(atom, LITERAL), atom))
        return
    if _NAME_WITH_DIGIT.match(atom):
        # eth1, alt0, L3, PSR0: device and register names are fixed words in the ground truth.
        out.append((LITERAL, atom))
        return
    if _MULTI_HYPHEN_HOST.match(atom) or _is_host(atom):
        out.append(("host", atom))
        return
    prefixed = _DOTTED_PREFIX.match(atom)
    if prefixed is not None:
        out.append((LITERAL, prefixed.group(1) + prefixed.group(2)))
        rest = prefixed.group(3)
        kind = _classify(rest)
        out.append(("id" if kind == WEAK and "." not in rest else kind, rest))
        return
    out.append((_classify(atom), atom))


def _is_backslash_path(piece: str) -> bool:
    return piece.count("\\") >= 2 and not piece.endswith("\\")


def _has_digit(text: str) -> bool:
    return _DIGIT.search(text) is not None


def _is_host(atom: str) -> bool:
    labels = atom.split(".")
    return len(labels) >= 3 and _has_digit(labels[0]) and all(labels)


def _classify(atom: str) -> str:
    """Kind of one separator-free token that may hold a variable."""
    if not _has_digit(atom):
        return _VALUE_WORDS.get(atom, LITERAL)
    if atom[0].isdigit() or atom[0] in "-+" and len(atom) > 1:
        return _numeric_kind(atom)
    if _is_host(atom):
        return "host"
    if _HEX.match(atom) and (len(atom) >= 8 or atom.startswith(("0x", "0X"))):
        return "hex"
    if _LONG_DIGITS.search(atom):
        return "id"
    digits = sum(c.isdigit() for c in atom)
    if len(atom) >= 4 and digits * 2 >= len(atom):
        return "id"
    return WEAK


def _numeric_kind(atom: str) -> str:
    if _NUMBER.match(atom):
        return "number"
    if _IPV4.match(atom):
        return "ip"
    if _DURATION.match(atom):
        return "duration"
    if _SIZE.match(atom):
        return "size"
    if _HEX.match(atom) and _LETTER_HEX.search(atom):
        return "hex"
    if atom.count(".") >= 2 and _is_host(atom) and not atom.replace(".", "").isdigit():
        return "host"
    return "id"
