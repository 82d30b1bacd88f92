"""The contributing-factor taxonomy and its keyword suggestions."""

from __future__ import annotations

import pytest

from warroom.engines.taxonomy import (
    DEFAULT_TAXONOMY,
    Factor,
    Taxonomy,
    factor_from_mapping,
    merge_factors,
    suggest_factors,
)


def test_default_taxonomy_has_the_issue_families_each_described() -> None:
    assert DEFAULT_TAXONOMY.keys() == [
        "change",
        "capacity",
        "dependency",
        "hardware",
        "time",
        "data",
        "process",
        "detection",
        "human_factors",
    ]
    for factor in DEFAULT_TAXONOMY.factors:
        assert factor.description
        assert len(factor.keywords) >= 5


def test_a_write_up_gets_several_factors_with_evidence() -> None:
    text = (
        "A configuration push removed every backend from the pool. The alert fired twenty "
        "minutes late because no dashboard showed the error rate, and the certificate on the "
        "fallback host had expired at midnight."
    )
    suggestions = suggest_factors(text)
    keys = [s.key for s in suggestions]
    assert {"change", "detection", "time"} <= set(keys)
    assert "hardware" not in keys
    time_factor = next(s for s in suggestions if s.key == "time")
    assert {e.keyword for e in time_factor.evidence} >= {"certificate", "midnight"}
    for suggestion in suggestions:
        for evidence in suggestion.evidence:
            assert (
                text[evidence.start : evidence.end].lower().startswith(evidence.keyword.split()[0])
            )


def test_suggestions_are_ordered_by_score() -> None:
    text = "Traffic spike exhausted the connection pool; memory and cpu saturation. A deploy."
    suggestions = suggest_factors(text)
    assert suggestions[0].key == "capacity"
    scores = [s.score for s in suggestions]
    assert scores == sorted(scores, reverse=True)


def test_a_phrase_keyword_wins_over_its_first_word() -> None:
    suggestion = suggest_factors("A power outage in the data center.")[0]
    assert suggestion.key == "hardware"
    assert [e.keyword for e in suggestion.evidence] == ["power outage", "data center"]


def test_keywords_match_whole_words_only() -> None:
    assert suggest_factors("The weather was lovely.") == []


def test_an_organisation_extends_the_taxonomy() -> None:
    custom = [
        Factor("vendor_sla", "Vendor SLA", "Vendor missed its SLA.", ("sla breach",)),
        Factor("change", "Change", "Changes, including our flagging system.", ("launchdarkly",)),
    ]
    merged = merge_factors(DEFAULT_TAXONOMY, custom)
    assert merged.keys()[-1] == "vendor_sla"
    assert "launchdarkly" in merged.get("change").keywords
    assert "deploy" in merged.get("change").keywords
    assert merged.get("change").description == "Changes, including our flagging system."
    keys = [s.key for s in suggest_factors("An SLA breach after a LaunchDarkly toggle.", merged)]
    assert keys == ["vendor_sla", "change"]


def test_factors_are_validated() -> None:
    with pytest.raises(ValueError, match="factor key"):
        Factor("Bad Key", "x", "", ("a",))
    with pytest.raises(ValueError, match="duplicate"):
        Taxonomy((Factor("a", "A", "", ("x",)), Factor("a", "A", "", ("y",))))
    with pytest.raises(ValueError, match="keywords"):
        factor_from_mapping({"key": "k", "name": "K", "keywords": "not-a-list"})


def test_factor_from_mapping_reads_configuration() -> None:
    factor = factor_from_mapping({"key": "queueing", "name": "Queueing", "keywords": ["Kafka Lag"]})
    assert factor.keywords == ("kafka lag",)
    assert factor.description == ""
