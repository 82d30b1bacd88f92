"""What an analysed log bundle adds to its incident: timeline entries, a summary, the reports.

Why this exists: the worker turns a :class:`~warroom.diagnosis.analyze.Report` into facts a
responder reads on the incident timeline, placed at the times they happened (corrected time):
one entry per onset, one per top suspect (the change's own time), the first error-level events
of each source, and one summary of the clocks. Pure: no database, so it is tested directly.
"""

from __future__ import annotations

import io
import json
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any, Final

from warroom.diagnosis.analyze import Report
from warroom.diagnosis.render import HTML_EVENTS, event_json, iso, summary_json, write_html
from warroom.diagnosis.timeline import Event

MAX_SUSPECTS: Final = 5
MAX_KEY_EVENTS: Final = 20
_EPOCH: Final = datetime(1970, 1, 1, tzinfo=UTC)
_ERROR_LEVELS: Final = frozenset({"ERROR", "FATAL"})


@dataclass(frozen=True)
class Entry:
    """One timeline entry to add: kind, text, data and when it happened (None: now)."""

    kind: str
    text: str
    data: dict[str, Any]
    at: datetime | None


@dataclass(frozen=True)
class Findings:
    """Everything the worker stores when a bundle is done."""

    entries: list[Entry]
    result: dict[str, Any]
    report_json: str
    report_html: str = field(repr=False)


def when(ns: int) -> datetime:
    """An aware UTC datetime from nanoseconds (exact to the microsecond)."""
    return _EPOCH + timedelta(microseconds=ns // 1000)


def _short(ns: int | None) -> str:
    return (iso(ns) or "unknown time").replace("T", " ")[:23] + " UTC"


def _onsets(report: Report, bundle_id: int) -> list[Entry]:
    return [
        Entry(
            "log-onset",
            f"Onset in {o.source} at {_short(o.ns)}: {o.detail}",
            {"bundle_id": bundle_id, "source": o.source, "kind": o.kind, "order": i + 1},
            when(o.ns),
        )
        for i, o in enumerate(report.onsets)
    ]


def _suspects(report: Report, bundle_id: int) -> list[Entry]:
    entries = []
    for rank, s in enumerate(report.suspects[:MAX_SUSPECTS], start=1):
        change = s.change
        where = f", {change.service}" if change.service else ""
        text = (
            f"Suspect #{rank}: {change.id} ({s.kind}{where}) score {s.score:.2f}"
            f" — {'; '.join(s.reasons)}"
        )
        if change.description:
            text += f". {change.description}"
        data = {"bundle_id": bundle_id, "rank": rank, "change": change.id, "score": s.score}
        entries.append(Entry("log-suspect", text, data, when(change.ns)))
    return entries


def _time(event: Event) -> int | None:
    return event.corrected_ns if event.corrected_ns is not None else event.observed_ns


def key_events(report: Report) -> list[Event]:
    """The first error-level event of each template, shared fairly among the sources."""
    per_source: dict[str, list[Event]] = {}
    seen: set[tuple[str, str | None]] = set()
    errors = [e for e in report.events if e.level in _ERROR_LEVELS and _time(e) is not None]
    for event in sorted(errors, key=lambda e: _time(e) or 0):
        key = (event.source, event.template_id)
        if key not in seen:
            seen.add(key)
            per_source.setdefault(event.source, []).append(event)
    share = max(1, MAX_KEY_EVENTS // max(1, len(per_source)))
    chosen = [e for events in per_source.values() for e in events[:share]]
    return sorted(chosen, key=lambda e: _time(e) or 0)[:MAX_KEY_EVENTS]


def _events(report: Report, bundle_id: int) -> list[Entry]:
    entries = []
    for event in key_events(report):
        ns = _time(event) or 0
        message = event.message.split("\n", 1)[0][:300]
        data = {"bundle_id": bundle_id, "source": event.source, "line": event.line}
        text = f"{event.source}:{event.line} {event.level}: {message}"
        entries.append(Entry("log-event", text, data, when(ns)))
    return entries


def _clock(source: dict[str, Any]) -> str:
    if source["reference"]:
        return f"{source['name']}: reference clock"
    if source["clock_status"] != "estimated":
        return f"{source['name']}: clock unknown ({source['evidence']['reason']})"
    lo, hi = source["offset_interval_s"]
    interval = (
        f"[{'-inf' if lo is None else f'{lo:+.3f}'}, {'+inf' if hi is None else f'{hi:+.3f}'}]"
    )
    return f"{source['name']}: offset {source['offset_s']:+.3f} s, interval {interval} s"


def _summary(summary: dict[str, Any], filename: str, bundle_id: int) -> Entry:
    clocks = "; ".join(_clock(s) for s in summary["sources"]) or "no readable source"
    text = (
        f"Log bundle {filename} analysed: {len(summary['sources'])} sources, "
        f"{summary['events_total']} records, {len(summary['onsets'])} onsets, "
        f"{len(summary['suspects'])} suspects, {len(summary['issues'])} input issues. "
        f"Clocks — {clocks}."
    )
    sources = [
        {k: s[k] for k in ("name", "clock_status", "offset_s", "offset_interval_s", "reference")}
        for s in summary["sources"]
    ]
    return Entry("log-analysis", text, {"bundle_id": bundle_id, "sources": sources}, None)


def findings(report: Report, *, bundle_id: int, filename: str) -> Findings:
    """Timeline entries, the result summary and both stored reports of one analysis."""
    summary = summary_json(report)
    shown = report.events[:HTML_EVENTS]
    document = {**summary, "events_included": len(shown), "events": [event_json(e) for e in shown]}
    entries = [
        *_onsets(report, bundle_id),
        *_suspects(report, bundle_id),
        *_events(report, bundle_id),
        _summary(summary, filename, bundle_id),
    ]
    result = {
        "sources": len(summary["sources"]),
        "records": summary["events_total"],
        "reference": summary["reference"],
        "propagation": summary["propagation"],
        "onsets": len(summary["onsets"]),
        "suspects": len(summary["suspects"]),
        "key_events": sum(1 for e in entries if e.kind == "log-event"),
        "issues": len(summary["issues"]),
    }
    html = io.StringIO()
    write_html(report, html)
    return Findings(entries, result, json.dumps(document, ensure_ascii=False), html.getvalue())
