"""The blameless language check, measured on a labelled set of sentences written for Warroom.

The sentences in data/blameless_sentences.jsonl paraphrase the patterns that public guidance on
blameless reviews warns about (the Google SRE book's postmortem chapter, Etsy's Debriefing
Facilitation Guide, Sidney Dekker's work on hindsight and human error) next to neutral, factual
sentences of the kind a good postmortem contains, including hard cases such as "the job failed to
start" or "just after midnight". Rows marked batch "after-rules" were written after the rules were
frozen, as a fresher check.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from warroom.engines.blameless import (
    BLAME,
    COUNTERFACTUAL,
    HINDSIGHT,
    JUDGEMENT,
    MINIMISING,
    check_text,
    is_blameless,
)

DATA = Path(__file__).parent / "data" / "blameless_sentences.jsonl"


def _labelled() -> list[dict[str, str]]:
    with DATA.open(encoding="utf-8") as fh:
        return [json.loads(line) for line in fh if line.strip()]


def _precision_recall(rows: list[dict[str, str]]) -> tuple[float, float]:
    tp = fp = fn = 0
    for row in rows:
        flagged = bool(check_text(row["text"]))
        positive = row["label"] != "neutral"
        tp += flagged and positive
        fp += flagged and not positive
        fn += positive and not flagged
    return tp / (tp + fp), tp / (tp + fn)


def test_labelled_set_is_balanced_and_large_enough() -> None:
    rows = _labelled()
    labels = [row["label"] for row in rows]
    assert len(rows) >= 150
    assert set(labels) == {"blame", "hindsight", "neutral"}
    assert 0.4 <= labels.count("neutral") / len(labels) <= 0.6


def test_check_has_high_precision_and_recall_on_the_labelled_set() -> None:
    # measured: precision 0.989, recall 0.959 on all 194 sentences
    precision, recall = _precision_recall(_labelled())
    assert precision >= 0.95
    assert recall >= 0.92


def test_check_holds_up_on_sentences_written_after_the_rules() -> None:
    # measured: precision 1.00, recall 0.91 on the 44 sentences of the later batch
    rows = [row for row in _labelled() if row.get("batch") == "after-rules"]
    precision, recall = _precision_recall(rows)
    assert precision >= 0.9
    assert recall >= 0.85


def test_findings_carry_exact_spans_reasons_and_rewordings() -> None:
    text = "At 10:02 the alert fired. Obviously Dana should have rolled back sooner."
    findings = check_text(text)
    assert [f.category for f in findings] == [HINDSIGHT, HINDSIGHT]
    for finding in findings:
        assert text[finding.start : finding.end] == finding.phrase
        assert finding.explanation
        assert finding.suggestion
    assert findings[0].phrase == "Obviously"
    assert findings[1].phrase == "should have rolled"


@pytest.mark.parametrize(
    ("sentence", "category"),
    [
        ("Priya failed to check the replica before promoting it.", BLAME),
        ("The outage was caused by human error.", BLAME),
        ("The on-call engineer forgot to renew the certificate.", BLAME),
        ("The change was careless.", JUDGEMENT),
        ("If Omar had run the tests, this would not have happened.", COUNTERFACTUAL),
        ("Why didn't anyone notice the queue growing?", HINDSIGHT),
        ("They simply had to restart the pod.", MINIMISING),
        ("It was Mark's fault.", BLAME),
    ],
)
def test_each_family_of_blame_phrasing_is_flagged(sentence: str, category: str) -> None:
    assert category in {f.category for f in check_text(sentence)}


@pytest.mark.parametrize(
    "sentence",
    [
        "The job failed to start because the image was missing.",
        "Just after midnight the disk on the primary filled up.",
        "The deploy failed to complete on half of the hosts.",
        "Alice noticed the latency spike and opened the incident.",
        "What made restarting the service the sensible choice at that moment?",
        "The runbook did not describe how to fail over the database.",
    ],
)
def test_factual_sentences_pass(sentence: str) -> None:
    assert check_text(sentence) == []
    assert is_blameless(sentence)


def test_overlapping_matches_are_reported_once() -> None:
    findings = check_text("He should have known better.")
    assert len(findings) == 1
