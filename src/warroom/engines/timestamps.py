"""Timestamp recognition for logs of unknown format, with every inference made explicit.

Why this exists: log files from different systems write time in a dozen layouts, and many leave
out the year (BSD syslog, RFC 3164), the zone, or the day/month order.  A timeline built from
them is only trustworthy if each such guess is *recorded* with the number of lines it touched,
so this module never guesses silently: :class:`TimestampParser` counts its assumptions.

Layouts recognised (each a compiled regular expression plus an integer-only converter):

* ISO 8601 / RFC 3339 (``2024-05-01T12:00:00.123456789+02:00``, space or ``T``, ``,`` or ``.``
  fraction, also the ``2005-06-03-15.42.50.675872`` and ``2016/9/27:20:30:31.455`` variants);
* numeric ``dd/mm/yyyy`` or ``mm/dd/yyyy`` and log4j ``yy/MM/dd HH:mm:ss`` (order assumed,
  recorded);
* BSD syslog ``Nov 26 21:32:40`` and ctime ``Wed Oct 11 14:32:52 2000``;
* Common Log Format ``10/Oct/2000:13:55:36 -0700``;
* compact ``yymmdd HHMMSS`` (Hadoop HDFS) and ISO basic ``20240501T120000Z``;
* epoch seconds, milliseconds, microseconds and nanoseconds (by digit count).

Times are integer nanoseconds since the Unix epoch, UTC; the civil-to-days conversion is
Howard Hinnant's ``days_from_civil`` so no float ever touches a timestamp.
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Final

NS: Final = 1_000_000_000
_DAY_NS: Final = 86_400 * NS
MONTHS: Final = {
    m: i + 1
    for i, m in enumerate(
        ("jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec")
    )
}
# Only unambiguous abbreviations: IST, CST (China) and friends are left out on purpose.
ZONES: Final = {
    "Z": 0, "UTC": 0, "GMT": 0, "UT": 0, "WET": 0, "WEST": 60, "BST": 60, "CET": 60,
    "CEST": 120, "EET": 120, "EEST": 180, "MSK": 180, "JST": 540, "KST": 540, "SGT": 480,
    "AEST": 600, "AEDT": 660, "HST": -600, "AKST": -540, "AKDT": -480, "PST": -480,
    "PDT": -420, "MST": -420, "MDT": -360, "CST": -360, "CDT": -300, "EST": -300, "EDT": -240,
}  # fmt: skip
_ZONE_NAMES = "|".join(sorted((z for z in ZONES if z != "Z"), key=len, reverse=True))
_ZONE = rf"(?:\s?(?P<z>Z|[+-](?:0\d|1[0-4])(?::?[0-5]\d)?(?!\d)|(?:{_ZONE_NAMES})\b))?"
_FRAC = r"(?:[.,:](?P<f>\d{1,9}))?"
_MON = r"(?P<mon>[JFMASOND][a-z]{2})"
_TIME = r"(?P<h>[01]?\d|2[0-3])[:.](?P<mi>[0-5]\d)[:.](?P<s>[0-5]\d|60)"

ASSUME_UTC: Final = "no time zone in the timestamp: UTC assumed"
ASSUME_MONTH_FIRST: Final = "numeric date with day and month both <= 12: read as month/day (US)"
ASSUME_DAY_FIRST: Final = "numeric date: read as day/month (first field > 12)"
_NO_YEAR: Final = "no year in the timestamp"
ASSUME_YY_FIRST: Final = "two-digit-year date read as yy/MM/dd (log4j %d{yy/MM/dd})"


def days_from_civil(year: int, month: int, day: int) -> int:
    """Days since 1970-01-01 of a proleptic Gregorian date (Hinnant's algorithm)."""
    year -= month <= 2
    era = (year if year >= 0 else year - 399) // 400
    yoe = year - era * 400
    doy = (153 * (month + (-3 if month > 2 else 9)) + 2) // 5 + day - 1
    doe = yoe * 365 + yoe // 4 - yoe // 100 + doy
    return era * 146097 + doe - 719468


def civil_ns(year: int, month: int, day: int, hour: int, minute: int, second: int) -> int:
    """UTC nanoseconds of a civil date and time; raises ValueError when out of range."""
    if not (1 <= month <= 12 and 1 <= day <= 31 and hour < 24 and minute < 60 and second <= 60):
        raise ValueError("date out of range")
    return (days_from_civil(year, month, day) * 86_400 + hour * 3600 + minute * 60 + second) * NS


_FRACTION_SCALE: Final = tuple(10 ** (9 - n) if n <= 9 else 0 for n in range(10))


def fraction_ns(digits: str | None) -> int:
    """Nanoseconds of a fractional-second digit string (``"5"`` is 0.5 s)."""
    if not digits:
        return 0
    if len(digits) > 9:
        digits = digits[:9]
    return int(digits) * _FRACTION_SCALE[len(digits)]


def resolution_of(digits: str | None) -> int:
    """Resolution in ns implied by the number of fraction digits."""
    return 10 ** (9 - min(len(digits), 9)) if digits else NS


def zone_offset_ns(zone: str | None) -> int | None:
    """Offset east of UTC in ns, or None when the timestamp carries no zone."""
    if not zone:
        return None
    if zone in ZONES:
        return ZONES[zone] * 60 * NS
    sign = -1 if zone[0] == "-" else 1
    digits = zone[1:].replace(":", "")
    minutes = int(digits[:2]) * 60 + (int(digits[2:4]) if len(digits) >= 4 else 0)
    return sign * minutes * 60 * NS


def format_ns(ns: int, digits: int = 6) -> str:
    """ISO 8601 UTC text of ``ns`` with ``digits`` fraction digits (3, 6 or 9)."""
    seconds, rest = divmod(ns, NS)
    base = datetime.fromtimestamp(seconds, UTC).strftime("%Y-%m-%dT%H:%M:%S")
    return f"{base}.{str(rest).zfill(9)[:digits]}Z"


@dataclass(frozen=True, slots=True)
class Timestamp:
    """One timestamp found in a line: when, where in the text, and how precise."""

    ns: int
    start: int
    end: int
    kind: str
    resolution_ns: int
    assumptions: tuple[str, ...] = ()


Groups = dict[str, str | None]
_Known = tuple[int, tuple[str, ...]]
"""A cached conversion: ns of the timestamp without its fraction, and its assumptions."""
_UNKNOWN: Final[_Known] = (0, ())
_SEEN_MAX: Final = 16_384


@dataclass(frozen=True, slots=True)
class _Layout:
    kind: str
    regex: re.Pattern[str]
    quality: int


def _compile(body: str) -> re.Pattern[str]:
    return re.compile(body)


LAYOUTS: Final = (
    _Layout(
        "iso8601",
        _compile(
            r"(?<!\d)(?P<Y>(?:19|20)\d\d)(?P<sep>[-/.])(?P<M>[01]?\d)(?P=sep)(?P<D>[0-3]?\d)"
            rf"(?:[T _-]|, ?|:){_TIME}{_FRAC}{_ZONE}"
        ),
        5,
    ),
    _Layout(
        "iso8601-basic",
        _compile(
            r"(?<!\d)(?P<Y>(?:19|20)\d\d)(?P<M>[01]\d)(?P<D>[0-3]\d)T(?P<h>[0-2]\d)(?P<mi>[0-5]\d)"
            rf"(?P<s>[0-5]\d){_FRAC}{_ZONE}"
        ),
        5,
    ),
    _Layout(
        "clf",
        _compile(
            rf"(?<!\d)(?P<D>[0-3]?\d)/{_MON}/(?P<Y>\d{{4}}):{_TIME}{_FRAC}"
            r"(?:\s?(?P<z>[+-]\d{4}))?"
        ),
        5,
    ),
    _Layout(
        "ctime",
        _compile(
            rf"(?:Mon|Tue|Wed|Thu|Fri|Sat|Sun)\s+{_MON}\s+(?P<D>[0-3]?\d)\s+{_TIME}{_FRAC}"
            rf"\s+(?P<Y>\d{{4}}){_ZONE}"
        ),
        5,
    ),
    _Layout(
        "numeric-date",
        _compile(
            r"(?<![\d/])(?P<A>[0-3]?\d)/(?P<B>[0-3]?\d)/(?P<Y>(?:19|20)\d\d)[ T:,]+"
            rf"{_TIME}{_FRAC}{_ZONE}"
        ),
        4,
    ),
    _Layout(
        "yy/MM/dd",
        _compile(rf"(?<![\d/])(?P<Y>\d\d)/(?P<M>[01]\d)/(?P<D>[0-3]\d)[ T]{_TIME}{_FRAC}{_ZONE}"),
        4,
    ),
    _Layout(
        "yymmdd-hhmmss",
        _compile(
            r"(?<![\d.])(?P<Y>\d\d)(?P<M>[01]\d)(?P<D>[0-3]\d)[ -](?P<h>[0-2]\d)(?P<mi>[0-5]\d)"
            r"(?P<s>[0-5]\d)(?![\d.])"
        ),
        3,
    ),
    _Layout(
        "syslog",
        _compile(
            rf"(?<![\w]){_MON}\s+(?P<D>[0-3]?\d)\s+(?:(?P<Y>\d{{4}})\s+)?{_TIME}{_FRAC}"
            rf"{_ZONE}"
        ),
        3,
    ),
    _Layout(
        "epoch",
        _compile(r"(?<![\w.:/-])(?P<e>1\d{9}(?:\d{3}){0,3})(?:\.(?P<f>\d{1,9}))?(?![\w.:/-])"),
        1,
    ),
)
LAYOUT_BY_KIND: Final = {layout.kind: layout for layout in LAYOUTS}
_FRACTIONAL: Final = frozenset(x.kind for x in LAYOUTS if "f" in x.regex.groupindex)


@dataclass
class TimestampParser:
    """Parses the timestamps of one source and counts the assumptions it had to make.

    Args:
        year_hint: year used for layouts without one (syslog); default the current year.
        ceiling_ns: the latest plausible time (for example the file's modification time); a
            year-less date that would fall more than a day after it is placed a year earlier.
    """

    year_hint: int | None = None
    ceiling_ns: int | None = None
    assumptions: Counter[str] = field(default_factory=Counter)
    _cache: dict[tuple[int, int, int], int] = field(default_factory=dict, repr=False)
    _seen: dict[tuple[str, str, str | None], _Known | None] = field(
        default_factory=dict, repr=False
    )
    _last_kind: str | None = field(default=None, repr=False)

    def clear_cache(self) -> None:
        """Drop the conversion caches (the assumption counts stay): for a parser kept after its
        source was read."""
        self._seen.clear()
        self._cache.clear()

    def parse_value(self, text: str) -> Timestamp | None:
        """A field holding just a timestamp (a JSON value): tries the last layout seen first."""
        if self._last_kind is not None:
            found = self.match(text, self._last_kind)
            if found is not None:
                return found
        found = self.search(text)
        if found is not None:
            self._last_kind = found.kind
        return found

    def search(self, text: str, endpos: int = 400) -> Timestamp | None:
        """The best timestamp anywhere in the first ``endpos`` characters of ``text``."""
        best: tuple[int, int, Timestamp] | None = None
        for layout in LAYOUTS:
            found = self._find(layout, text, endpos)
            if found is None:
                continue
            # A year-less date ranks below an epoch number that says the same thing exactly.
            score = layout.quality * 10 + (5 if found.resolution_ns < NS else 0)
            score -= 25 if any(a.startswith(_NO_YEAR) for a in found.assumptions) else 0
            if best is None or (score, -found.start) > best[:2]:
                best = (score, -found.start, found)
        return self._noted(best[2]) if best else None

    def find(self, text: str, kind: str, pos: int = 0, endpos: int = 400) -> Timestamp | None:
        """The first timestamp of layout ``kind`` at or after ``pos``."""
        return self._noted(self._find(LAYOUT_BY_KIND[kind], text, endpos, pos))

    def match(self, text: str, kind: str, pos: int = 0) -> Timestamp | None:
        """A timestamp of layout ``kind`` starting exactly at ``pos``."""
        layout = LAYOUT_BY_KIND[kind]
        m = layout.regex.match(text, pos)
        return self._noted(self._convert(layout.kind, m)) if m else None

    def match_span(self, text: str, kind: str, pos: int = 0) -> tuple[int, int, int] | None:
        """Like :meth:`match`, as ``(ns, start, end)``: the per-line path builds no object."""
        m = LAYOUT_BY_KIND[kind].regex.match(text, pos)
        if m is None:
            return None
        known = self._known(kind, m)
        if known is None:
            return None
        for note in known[1]:
            self.assumptions[note] += 1
        return known[0], m.start(), m.end()

    def value_ns(self, text: str) -> int | None:
        """Like ``parse_value(text).ns`` (None when there is no timestamp), without the object."""
        kind = self._last_kind
        if kind is not None:
            m = LAYOUT_BY_KIND[kind].regex.match(text)
            known = self._known(kind, m) if m is not None else None
            if known is not None:
                for note in known[1]:
                    self.assumptions[note] += 1
                return known[0]
        found = self.search(text)
        if found is None:
            return None
        self._last_kind = found.kind
        return found.ns

    def _noted(self, found: Timestamp | None) -> Timestamp | None:
        if found is not None:
            for note in found.assumptions:
                self.assumptions[note] += 1
        return found

    def _find(self, layout: _Layout, text: str, endpos: int, pos: int = 0) -> Timestamp | None:
        for m in layout.regex.finditer(text, pos, endpos):
            converted = self._convert(layout.kind, m)
            if converted is not None:
                return converted
        return None

    def _convert(self, kind: str, m: re.Match[str]) -> Timestamp | None:
        known = self._resolve(kind, m)
        if known is None:
            return None
        return Timestamp(known[0], m.start(), m.end(), kind, known[1], known[2])

    def _resolve(self, kind: str, m: re.Match[str]) -> tuple[int, int, tuple[str, ...]] | None:
        """(ns, resolution, assumptions) of a match, or None when it is not a valid time."""
        if kind == "epoch":
            try:
                ns, resolution = self._epoch(m.groupdict())
            except ValueError:
                return None
            return ns, resolution, ()
        known = self._known(kind, m)
        if known is None:
            return None
        fs, fe = m.span("f") if kind in _FRACTIONAL else (-1, -1)
        return known[0], resolution_of(m.string[fs:fe] if fs >= 0 else None), known[1]

    def _known(self, kind: str, m: re.Match[str]) -> _Known | None:
        """(ns, assumptions) of a match, or None when it is not a valid time.

        Consecutive lines mostly share their timestamp up to the fraction (the same second), so
        the conversion of everything but the fraction is cached by the text around it.
        """
        if kind == "epoch":
            try:
                return self._epoch(m.groupdict())[0], ()
            except ValueError:
                return None
        text = m.string
        start, end = m.span()
        if kind in _FRACTIONAL:
            fs, fe = m.span("f")
            if fs >= 0:
                known = self._seen.get((kind, text[start:fs], text[fe:end]), _UNKNOWN)
                if known is _UNKNOWN:
                    return self._known_new(kind, m, (kind, text[start:fs], text[fe:end]))
                if known is None:
                    return None
                digits = text[fs:fe]  # at most 9 digits (the layouts say so)
                return known[0] + int(digits) * _FRACTION_SCALE[len(digits)], known[1]
        key = (kind, text[start:end], None)
        known = self._seen.get(key, _UNKNOWN)
        return self._known_new(kind, m, key) if known is _UNKNOWN else known

    def _known_new(
        self, kind: str, m: re.Match[str], key: tuple[str, str, str | None]
    ) -> _Known | None:
        if len(self._seen) >= _SEEN_MAX:
            self._seen.clear()
        groups = m.groupdict()
        notes: list[str] = []
        try:
            ns, _ = self._civil(kind, groups, notes)
        except ValueError:
            self._seen[key] = None
            return None
        fraction = fraction_ns(groups.get("f"))
        whole = ns - fraction
        shareable = True
        if kind == "syslog" and not groups.get("Y"):
            ceiling = None if self.ceiling_ns is None else self.ceiling_ns + _DAY_NS
            # Only cache when the year placement cannot depend on the fraction.
            shareable = ceiling is None or whole > ceiling or whole + NS - 1 <= ceiling
            ns = self._place_year(ns, notes)
            whole = ns - fraction
        if shareable:
            self._seen[key] = (whole, tuple(notes))
        return ns, tuple(notes)

    def _epoch(self, groups: Groups) -> tuple[int, int]:
        digits = groups["e"] or ""
        scale = {10: NS, 13: 1_000_000, 16: 1000, 19: 1}[len(digits)]
        frac = groups.get("f")
        ns = int(digits) * scale + (fraction_ns(frac) * scale // NS if frac else 0)
        resolution = resolution_of(frac) * scale // NS if frac else scale
        return ns, max(resolution, 1)

    def _civil(self, kind: str, groups: Groups, notes: list[str]) -> tuple[int, int]:
        year, month, day = self._date(kind, groups, notes)
        hour, minute, second = int(groups["h"] or 0), int(groups["mi"] or 0), int(groups["s"] or 0)
        key = (year, month, day)
        base = self._cache.get(key)
        if base is None:
            base = civil_ns(year, month, day, 0, 0, 0)
            self._cache[key] = base
        if not (hour < 24 and minute < 60 and second <= 60):
            raise ValueError("time out of range")
        ns = base + (hour * 3600 + minute * 60 + second) * NS + fraction_ns(groups.get("f"))
        offset = zone_offset_ns(groups.get("z"))
        if offset is None:
            notes.append(ASSUME_UTC)
            offset = 0
        return ns - offset, resolution_of(groups.get("f"))

    def _date(self, kind: str, groups: Groups, notes: list[str]) -> tuple[int, int, int]:
        if kind == "numeric-date":
            return self._numeric_date(groups, notes)
        if groups.get("mon") is not None:
            month = MONTHS.get(str(groups["mon"]).lower())
            if month is None:
                raise ValueError("not a month")
        else:
            month = int(groups["M"] or 0)
        year_text = groups.get("Y")
        if year_text is None:
            year = self._hint_year()
        elif len(year_text) == 2:
            year = 2000 + int(year_text)
            if kind == "yy/MM/dd":
                notes.append(ASSUME_YY_FIRST)
        else:
            year = int(year_text)
        day = int(groups["D"] or 0)
        if not (1 <= month <= 12 and 1 <= day <= 31):
            raise ValueError("date out of range")
        return year, month, day

    def _numeric_date(self, groups: Groups, notes: list[str]) -> tuple[int, int, int]:
        first, second, year = int(groups["A"] or 0), int(groups["B"] or 0), int(groups["Y"] or 0)
        if first > 12:
            notes.append(ASSUME_DAY_FIRST)
            return year, second, first
        if second <= 12:
            notes.append(ASSUME_MONTH_FIRST)
        return year, first, second

    def _hint_year(self) -> int:
        if self.year_hint is None:
            self.year_hint = datetime.now(UTC).year
        return self.year_hint

    def _place_year(self, ns: int, notes: list[str]) -> int:
        year = self._hint_year()
        if self.ceiling_ns is not None and ns > self.ceiling_ns + _DAY_NS:
            # A log cannot be written after its file was last modified: the date belongs to
            # the previous year (this also handles a December-to-January rollover).
            year -= 1
            ns = _shift_year(ns, -1)
        notes.append(f"{_NO_YEAR}: {year} inferred")
        return ns


def _shift_year(ns: int, years: int) -> int:
    moment = datetime.fromtimestamp(ns // NS, UTC)
    try:
        shifted = moment.replace(year=moment.year + years)
    except ValueError:  # 29 February
        shifted = moment.replace(year=moment.year + years, day=28)
    return int(shifted.timestamp()) * NS + ns % NS
