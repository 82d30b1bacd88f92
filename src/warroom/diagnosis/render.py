"""Renderers of an analysis :class:`~warroom.diagnosis.analyze.Report`: text, JSON, Markdown, HTML.

Why this exists: the same report goes to a terminal, to a machine (JSON, schema in
``docs/analyze.md``), to a postmortem (Markdown) and to people without Warroom (one
self-contained HTML file, its timeline drawn as inline SVG lanes, no script, no external
asset).  Writers stream to a text file object so a million events never become one string.
"""

from __future__ import annotations

import html
import json
from collections.abc import Iterable, Iterator
from typing import Any, Final, TextIO

from warroom.diagnosis.analyze import Report, SourceReport
from warroom.diagnosis.timeline import Event
from warroom.engines.timestamps import format_ns

_string: Final = json.encoder.encode_basestring  # what json.dumps(ensure_ascii=False) uses
SCHEMA: Final = "warroom.analyze/1"
FORMATS: Final = ("text", "json", "markdown", "html")
HTML_EVENTS: Final = 5000
LANE_WIDTH: Final = 960
LANE_HEIGHT: Final = 26
LABEL_WIDTH: Final = 180


def iso(ns: int | None) -> str | None:
    """ISO 8601 UTC with microseconds, or None."""
    return format_ns(ns, 6) if ns is not None else None


def _num(value: float | None, digits: int = 6) -> float | None:
    return round(float(value), digits) if value is not None else None


def source_json(source: SourceReport) -> dict[str, Any]:
    """The ``sources[]`` object of the JSON schema."""
    clock = source.clock
    return {
        "name": source.name,
        "path": source.path,
        "format": source.detection.format,
        "format_confidence": source.detection.confidence,
        "format_reason": source.detection.reason,
        "lines": source.lines,
        "records": source.records,
        "timed_records": source.timed,
        "templates": source.templates,
        "reference": source.reference,
        "clock_status": clock.status if clock else "unknown",
        "offset_s": _num(clock.offset_s) if clock else None,
        "offset_interval_s": [_num(v) for v in clock.interval_s] if clock else [None, None],
        "drift_ppm": _num(clock.drift_ppm, 3) if clock else None,
        "links": clock.links if clock else 0,
        "evidence": {
            "kinds": list(clock.kinds) if clock else [],
            "via": list(clock.via) if clock else [],
            "reason": clock.reason if clock else "no timestamps",
            "error_bound_s": _num(clock.error_bound_s) if clock and clock.error_bound_s else None,
        },
    }


def event_json(event: Event) -> dict[str, Any]:
    """The ``events[]`` object of the JSON schema."""
    return {
        "source": event.source,
        "line": event.line,
        "time_observed": iso(event.observed_ns),
        "time_corrected": iso(event.corrected_ns),
        "template_id": event.template_id,
        "level": event.level,
        "message": event.message,
    }


def summary_json(report: Report) -> dict[str, Any]:
    """Everything but the events, as JSON-ready data."""
    alignment = report.alignment
    return {
        "schema": SCHEMA,
        "reference": alignment.reference,
        "alignment_epoch": iso(alignment.epoch_ns),
        "sources": [source_json(s) for s in report.sources],
        "pairs": [
            {
                "a": p.source_a,
                "b": p.source_b,
                "relation": p.relation,
                "reason": p.reason,
                "links": p.links,
                "kinds": list(p.kinds),
                "offset_s": _num(p.offset_s),
                "offset_interval_s": [_num(v) for v in p.interval_s],
                "drift_ppm": _num(p.drift_ppm, 3),
                "rejected_links": p.rejected,
            }
            for p in alignment.pairs
        ],  # fmt: skip
        "assumptions": [
            {"source": a.source, "assumption": a.text, "lines": a.lines} for a in report.assumptions
        ],
        "onsets": [
            {
                "order": i + 1,
                "source": o.source,
                "time": iso(o.ns),
                "kind": o.kind,
                "detail": o.detail,
            }
            for i, o in enumerate(report.onsets)
        ],  # fmt: skip
        "propagation": [o.source for o in report.onsets],
        "quiet_sources": dict(report.quiet),
        "suspects": [
            {
                "rank": i + 1,
                "id": s.change.id,
                "kind": s.kind,
                "service": s.change.service,
                "time": iso(s.change.ns),
                "description": s.change.description,
                "score": s.score,
                "reasons": list(s.reasons),
            }
            for i, s in enumerate(report.suspects)
        ],  # fmt: skip
        "issues": [
            {"source": i.source, "kind": i.kind, "count": i.count, "reason": i.reason}
            for i in report.issues
        ],
        "redactions": dict(report.redactions),
        "events_total": report.events_total,
        "events_included": len(report.events),
    }


def write_json(report: Report, out: TextIO) -> None:
    """Stream the JSON document (events written in batches, never one big string).

    Each event line is exactly ``json.dumps(event_json(event), ensure_ascii=False)``, built
    directly: the same C string encoder, sources, template ids and levels encoded once each,
    and ISO times formatted once per second.
    """
    head = json.dumps(summary_json(report), indent=2, ensure_ascii=False)
    out.write(head[:-2] + ',\n  "events": [')
    separator = "\n    "
    quoted = _Quoted()
    batch: list[str] = []
    for source, line, observed, corrected, template, level, message in report.events.rows():
        batch.append(
            f'{separator}{{"source": {quoted[source]}, "line": {line}, '
            f'"time_observed": {_iso_text(observed)}, "time_corrected": {_iso_text(corrected)}, '
            f'"template_id": {quoted[template]}, "level": {quoted[level]}, '
            f'"message": {_string(message)}}}'
        )
        separator = ",\n    "
        if len(batch) >= 4096:
            out.write("".join(batch))
            batch.clear()
    out.write("".join(batch))
    out.write("\n  ]\n}\n")


class _Quoted(dict[str | None, str]):
    """JSON text of the few distinct short strings of events (sources, template ids, levels)."""

    def __missing__(self, key: str | None) -> str:
        text = self[key] = "null" if key is None else _string(key)
        return text


_ISO_SECONDS: dict[int, str] = {}


def _iso_text(ns: int | None) -> str:
    """``json.dumps(iso(ns))``: the whole-second part is formatted once per second."""
    if ns is None:
        return "null"
    seconds, rest = divmod(ns, 1_000_000_000)
    head = _ISO_SECONDS.get(seconds)
    if head is None:
        if len(_ISO_SECONDS) >= 4096:
            _ISO_SECONDS.clear()
        head = _ISO_SECONDS[seconds] = '"' + format_ns(seconds * 1_000_000_000, 6)[:-8]
    return f'{head}.{rest // 1000:06d}Z"'


# --- text and Markdown ------------------------------------------------------------------------


def _interval(source: SourceReport) -> str:
    clock = source.clock
    if clock is None or clock.status == "unknown":
        return "unknown"
    lo, hi = clock.interval_s
    left = f"{lo:+.3f}" if lo is not None else "-inf"
    right = f"{hi:+.3f}" if hi is not None else "+inf"
    return f"[{left}, {right}]"


def _clock_line(source: SourceReport) -> list[str]:
    clock = source.clock
    if clock is None or clock.status == "unknown":
        reason = clock.reason if clock else "no timestamps"
        return [source.name, source.detection.format, f"{source.detection.confidence:.2f}",
                str(source.lines), "unknown", "-", "-", "0", reason]  # fmt: skip
    offset = "reference" if source.reference else f"{clock.offset_s:+.3f}"
    drift = f"{clock.drift_ppm:+.1f}" if clock.drift_ppm is not None else "-"
    evidence = ", ".join(clock.kinds) + (f" via {' > '.join(clock.via)}" if clock.via else "")
    head = [source.name, source.detection.format, f"{source.detection.confidence:.2f}"]
    return [*head, str(source.lines), offset, _interval(source), drift, str(clock.links), evidence]


_SOURCE_HEAD: Final = ["source", "format", "conf", "lines", "offset s", "interval s", "drift ppm",
                       "links", "evidence"]  # fmt: skip


def _sections(report: Report) -> Iterator[tuple[str, list[str], list[list[str]]]]:
    yield "Sources and clocks", _SOURCE_HEAD, [_clock_line(s) for s in report.sources]
    yield (
        "Assumptions",
        ["source", "assumption", "lines"],
        [[a.source, a.text, str(a.lines)] for a in report.assumptions],
    )
    yield (
        "Onsets (propagation order)",
        ["#", "source", "time (corrected)", "kind", "detail"],
        [
            [str(i + 1), o.source, iso(o.ns) or "", o.kind, o.detail]
            for i, o in enumerate(report.onsets)
        ],
    )
    yield "Suspects", ["#", "change", "kind", "service", "time", "score", "reasons"], [
        [str(i + 1), s.change.id, s.kind, s.change.service, iso(s.change.ns) or "",
         f"{s.score:.3f}", "; ".join(s.reasons)]
        for i, s in enumerate(report.suspects)
    ]  # fmt: skip
    yield (
        "Input issues",
        ["source", "kind", "count", "reason"],
        [[i.source, i.kind, str(i.count), i.reason] for i in report.issues],
    )


def _event_cells(event: Event) -> list[str]:
    shown = event.corrected_ns if event.corrected_ns is not None else event.observed_ns
    note = "" if event.corrected_ns is not None or event.observed_ns is None else " (uncorrected)"
    return [
        (iso(shown) or "no time") + note,
        event.source,
        str(event.line),
        event.level or "",
        event.message.split("\n", 1)[0][:300],
    ]


def write_text(report: Report, out: TextIO) -> None:
    """Plain text: sections as aligned columns, then the corrected timeline."""
    for title, head, rows in _sections(report):
        out.write(f"\n== {title} ==\n")
        if not rows:
            out.write("(none)\n")
            continue
        widths = [min(48, max(len(r[i]) for r in [head, *rows])) for i in range(len(head) - 1)]
        for row in [head, *rows]:
            cells = [c.ljust(w) for c, w in zip(row, widths, strict=False)]
            out.write("  ".join([*cells, row[-1]]) + "\n")
    out.write(f"\n== Timeline ({len(report.events)} of {report.events_total} records) ==\n")
    for event in report.events:
        time, source, line, level, message = _event_cells(event)
        out.write(f"{time}  {source}:{line}  {level:<5}  {message}\n")


def _md(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def write_markdown(report: Report, out: TextIO) -> None:
    """GitHub-flavoured Markdown tables."""
    out.write("# Cross-system diagnosis\n")
    for title, head, rows in _sections(report):
        out.write(f"\n## {title}\n\n")
        if not rows:
            out.write("_none_\n")
            continue
        out.write("| " + " | ".join(head) + " |\n|" + "---|" * len(head) + "\n")
        for row in rows:
            out.write("| " + " | ".join(_md(c) for c in row) + " |\n")
    out.write(f"\n## Timeline ({len(report.events)} of {report.events_total} records)\n\n")
    out.write("| time (corrected) | source | line | level | message |\n|---|---|---|---|---|\n")
    for event in report.events:
        out.write("| " + " | ".join(_md(c) for c in _event_cells(event)) + " |\n")


# --- HTML ------------------------------------------------------------------------------------

_CSS: Final = (
    "body{font:14px system-ui,sans-serif;margin:2em;color:#222}table{border-collapse:collapse;"
    "margin:.5em 0 1.5em}td,th{border:1px solid #ccc;padding:2px 6px;text-align:left;"
    "vertical-align:top}th{background:#f3f3f3}code{font-size:12px}.err{color:#b00}"
    "svg text{font:11px system-ui,sans-serif}"
)


def _span(report: Report) -> tuple[int, int]:
    times = [e.corrected_ns or e.observed_ns for e in report.events]
    known = [t for t in times if t is not None]
    if not known:
        return 0, 1
    return min(known), max(max(known), min(known) + 1)


def _lane(events: Iterable[Event], y: int, start: int, width: int) -> Iterator[str]:
    columns: dict[int, tuple[int, bool]] = {}
    for event in events:
        t = event.corrected_ns if event.corrected_ns is not None else event.observed_ns
        if t is None:
            continue
        x = (t - start) * (LANE_WIDTH - 1) // width
        count, error = columns.get(x, (0, False))
        columns[x] = (count + 1, error or event.level in ("ERROR", "FATAL"))
    for x, (count, error) in sorted(columns.items()):
        opacity = min(1.0, 0.25 + count / 20)
        colour = "#c0392b" if error else "#2e6da4"
        yield (f'<rect x="{LABEL_WIDTH + x}" y="{y + 4}" width="1.5" height="{LANE_HEIGHT - 8}" '
               f'fill="{colour}" fill-opacity="{opacity:.2f}"/>')  # fmt: skip


def _marker(x: float, y0: int, y1: int, colour: str, title: str, dashed: bool = False) -> str:
    dash = ' stroke-dasharray="4 3"' if dashed else ""
    return (
        f'<line x1="{x:.1f}" y1="{y0}" x2="{x:.1f}" y2="{y1}" stroke="{colour}" stroke-width="2"'
        f"{dash}><title>{html.escape(title)}</title></line>"
    )


def timeline_svg(report: Report) -> str:
    """The timeline as SVG: one lane per source, onsets in orange, changes dashed in purple."""
    start, end = _span(report)
    width = end - start
    names = [s.name for s in report.sources]
    height = LANE_HEIGHT * len(names) + 30
    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{LABEL_WIDTH + LANE_WIDTH + 10}" '
             f'height="{height}" role="img" aria-label="timeline">']  # fmt: skip
    by_source: dict[str, list[Event]] = {n: [] for n in names}
    for event in report.events:
        by_source.setdefault(event.source, []).append(event)
    for i, name in enumerate(names):
        y = i * LANE_HEIGHT
        parts.append(f'<rect x="{LABEL_WIDTH}" y="{y + 2}" width="{LANE_WIDTH}" '
                     f'height="{LANE_HEIGHT - 4}" fill="#f7f7f7"/>')  # fmt: skip
        parts.append(f'<text x="4" y="{y + 17}">{html.escape(name[:28])}</text>')
        parts.extend(_lane(by_source[name], y, start, width))
    scale = (LANE_WIDTH - 1) / width
    for onset in report.onsets:
        if onset.source in names and start <= onset.ns <= end:
            y = names.index(onset.source) * LANE_HEIGHT
            x = LABEL_WIDTH + (onset.ns - start) * scale
            parts.append(_marker(x, y, y + LANE_HEIGHT, "#e67e22", f"onset: {onset.detail}"))
    for suspect in report.suspects:
        if start <= suspect.change.ns <= end:
            x = LABEL_WIDTH + (suspect.change.ns - start) * scale
            title = f"{suspect.change.id} ({suspect.kind}): {suspect.change.description}"
            parts.append(_marker(x, 0, height - 30, "#8e44ad", title, dashed=True))
    parts.append(f'<text x="{LABEL_WIDTH}" y="{height - 10}">{iso(start)}</text>')
    parts.append(f'<text x="{LABEL_WIDTH + LANE_WIDTH - 200}" y="{height - 10}">{iso(end)}</text>')
    parts.append("</svg>")
    return "\n".join(parts)


def _html_table(head: list[str], rows: list[list[str]]) -> str:
    if not rows:
        return "<p><em>none</em></p>"
    header = "".join(f"<th>{html.escape(h)}</th>" for h in head)
    body = "".join(
        "<tr>" + "".join(f"<td>{html.escape(c)}</td>" for c in row) + "</tr>" for row in rows
    )
    return f"<table><thead><tr>{header}</tr></thead><tbody>{body}</tbody></table>"


def write_html(report: Report, out: TextIO) -> None:
    """One self-contained HTML page: no script, no external resource."""
    out.write("<!doctype html><html lang=en><head><meta charset=utf-8>"
              f"<title>Warroom diagnosis</title><style>{_CSS}</style></head><body>"
              "<h1>Cross-system diagnosis</h1><h2>Timeline (corrected time)</h2>")  # fmt: skip
    out.write(timeline_svg(report))
    for title, head, rows in _sections(report):
        out.write(f"<h2>{html.escape(title)}</h2>{_html_table(head, rows)}")
    shown = report.events[:HTML_EVENTS]
    out.write(f"<h2>Events (first {len(shown)} of {report.events_total})</h2>")
    rows = [_event_cells(e) for e in shown]
    out.write(_html_table(["time (corrected)", "source", "line", "level", "message"], rows))
    out.write("</body></html>\n")


def write_report(report: Report, fmt: str, out: TextIO) -> None:
    """Write ``report`` in ``fmt`` (one of :data:`FORMATS`)."""
    writers = {
        "text": write_text,
        "json": write_json,
        "markdown": write_markdown,
        "html": write_html,
    }
    if fmt not in writers:
        raise ValueError(f"unknown format {fmt!r}; choose one of {', '.join(FORMATS)}")
    writers[fmt](report, out)
