from __future__ import annotations

import numpy as np

from warroom.engines.onset import NS, SourceEvents, detect_onsets


def _source(n: int, failure_at: int | None, template_at_failure: int = 9) -> SourceEvents:
    times = np.arange(n, dtype=np.int64) * NS
    templates = np.array([i % 3 for i in range(n)], dtype=np.int64)
    severity = np.ones(n, dtype=np.int8)
    if failure_at is not None:
        templates[failure_at:] = template_at_failure
        severity[failure_at:] = 3
    return SourceEvents(times, templates, severity)


def test_the_first_anomaly_per_source_and_the_propagation_order() -> None:
    report = detect_onsets(
        {"db": _source(600, 400), "api": _source(600, 430), "cdn": _source(600, None)}
    )  # noqa: E501
    assert report.order == ("db", "api")
    first = report.onsets[0]
    assert first.ns == 400 * NS and first.kind == "new template"
    assert report.quiet["cdn"] == "no change against its own baseline"


def test_an_error_rate_spike_of_a_known_template_is_an_onset() -> None:
    events = _source(600, None)
    severity = events.severity.copy()
    severity[500::1] = 3
    report = detect_onsets({"svc": SourceEvents(events.times, events.templates, severity)})
    assert report.onsets[0].kind == "error-rate spike"
    assert report.onsets[0].ns >= 500 * NS


def test_too_few_events_are_reported_not_guessed() -> None:
    report = detect_onsets({"tiny": _source(5, None)})
    assert report.onsets == () and "only 5" in report.quiet["tiny"]
