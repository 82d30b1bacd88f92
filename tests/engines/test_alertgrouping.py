"""The pure grouping engine: rules, correlation, opening, flapping, silences, replay."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from warroom.engines.alertgrouping import (
    DEFAULT_RULE,
    AlertFacts,
    GroupView,
    MaintenanceWindow,
    Observation,
    Rule,
    RulesError,
    SimulatedIncident,
    Verdict,
    choose_group,
    diff_incidents,
    group_key,
    incident_severity,
    is_flapping,
    maintenance_window_for,
    opening_decision,
    parse_duration,
    parse_rules,
    simulate,
)

T0 = datetime(2026, 11, 26, 22, 0, tzinfo=UTC)
EITHER = Rule(name="r", open_after_occurrences=9, open_after=timedelta(minutes=5))


def minutes(n: float) -> datetime:
    return T0 + timedelta(minutes=n)


def facts(
    service: str = "payments", name: str = "HighLatency", severity: str = "SEV2"
) -> AlertFacts:
    return AlertFacts(service, {"alertname": name, "team": "payments"}, severity, name)


def test_durations_read_seconds_minutes_hours_days() -> None:
    assert parse_duration("30s") == timedelta(seconds=30)
    assert parse_duration("5m") == timedelta(minutes=5)
    assert parse_duration("7d") == timedelta(days=7)
    assert parse_duration(90) == timedelta(seconds=90)
    with pytest.raises(ValueError, match="not a duration"):
        parse_duration("soon")


def test_rules_parse_with_defaults_and_first_match_wins() -> None:
    rules = parse_rules(
        {
            "rules": [
                {"name": "db", "match": {"service": ["ledger-db"]}, "severity": "sev1"},
                {"name": "team", "match": {"labels": {"team": "payments"}}, "group_wait": "30s"},
            ]
        }
    )
    assert rules.rule_for("ledger-db", {"team": "payments"}).name == "db"
    assert rules.rule_for("payments", {"team": "payments"}).group_wait == timedelta(seconds=30)
    assert rules.rule_for("search", {}) is DEFAULT_RULE
    assert rules.by_name("db").severity == "SEV1"


def test_invalid_rules_name_every_offending_field() -> None:
    with pytest.raises(RulesError) as caught:
        parse_rules(
            {
                "rules": [
                    {"name": "a", "window": "soon", "colour": "red"},
                    {"name": "b", "open_after": {"occurrences": 0}},
                ]
            }
        )
    fields = [where for where, _ in caught.value.problems]
    assert fields == ["rules[0].colour", "rules[0].window", "rules[1].open_after"]
    with pytest.raises(RulesError, match="duplicate rule name"):
        parse_rules({"rules": [{"name": "a"}, {"name": "a"}]})


def test_the_group_key_is_the_rule_and_its_group_by_values() -> None:
    rule = Rule(name="r", group_by=("service", "labels.team", "alertname"))
    assert (
        group_key(rule, facts()) == "r|service=payments|labels.team=payments|alertname=HighLatency"
    )


def group(ref: int, key: str, services: set[str], last: float, firing: int = 1) -> GroupView:
    return GroupView(ref, "default", key, frozenset(services), minutes(0), minutes(last), firing)


def test_correlation_prefers_the_same_key_then_a_dependency_neighbour() -> None:
    rule = DEFAULT_RULE
    key = group_key(rule, facts())
    same = group(1, key, {"payments"}, last=1)
    neighbour = group(2, "default|service=checkout", {"checkout"}, last=2)
    unrelated = group(3, "default|service=search", {"search"}, last=2)
    groups = [same, neighbour, unrelated]
    chosen = choose_group(rule, key, "payments", minutes(3), groups, frozenset({"checkout"}))
    assert chosen == same
    chosen = choose_group(rule, key, "payments", minutes(3), groups[1:], frozenset({"checkout"}))
    assert chosen == neighbour
    assert choose_group(rule, key, "payments", minutes(3), [unrelated], frozenset()) is None


def test_a_quiet_group_past_its_window_or_one_that_no_longer_accepts_is_not_joined() -> None:
    key = group_key(DEFAULT_RULE, facts())
    quiet = group(1, key, {"payments"}, last=0, firing=0)
    assert choose_group(DEFAULT_RULE, key, "payments", minutes(31), [quiet], frozenset()) is None
    ended = GroupView(2, "default", key, frozenset({"payments"}), T0, T0, 1, accepts=False)
    assert choose_group(DEFAULT_RULE, key, "payments", minutes(1), [ended], frozenset()) is None


@pytest.mark.parametrize(
    ("rule", "occurrences", "now", "verdict"),
    [
        (Rule(name="r"), 1, 0, Verdict.OPEN),
        (Rule(name="r", open_after_occurrences=3), 2, 1, Verdict.WAIT),
        (Rule(name="r", open_after_occurrences=3), 3, 1, Verdict.OPEN),
        (Rule(name="r", open_after=timedelta(minutes=5)), 1, 4, Verdict.WAIT),
        (Rule(name="r", open_after=timedelta(minutes=5)), 1, 5, Verdict.OPEN),
        (
            Rule(name="r", open_after_occurrences=9, open_after=timedelta(minutes=5)),
            1,
            6,
            Verdict.OPEN,
        ),
        (Rule(name="r", group_wait=timedelta(minutes=1)), 5, 0.5, Verdict.WAIT),
        (Rule(name="r", group_wait=timedelta(minutes=1)), 5, 1, Verdict.OPEN),
    ],
)
def test_opening_decisions(rule: Rule, occurrences: int, now: float, verdict: Verdict) -> None:
    decision = opening_decision(
        rule, first_at=T0, occurrences=occurrences, firing=1, now=minutes(now)
    )
    assert decision.verdict is verdict


def test_a_waiting_group_says_when_to_look_again_and_expires_when_all_resolve() -> None:
    rule = Rule(name="r", open_after=timedelta(minutes=5), group_wait=timedelta(minutes=1))
    decision = opening_decision(rule, first_at=T0, occurrences=1, firing=1, now=minutes(2))
    assert decision.not_before == minutes(5)
    expired = opening_decision(rule, first_at=T0, occurrences=1, firing=0, now=minutes(2))
    assert expired.verdict is Verdict.EXPIRE


def test_flapping_counts_fresh_starts_within_the_window() -> None:
    rule = Rule(name="r", flap_starts=3, flap_window=timedelta(hours=1))
    assert not is_flapping([minutes(0), minutes(10)], rule, minutes(20))
    assert is_flapping([minutes(0), minutes(10), minutes(20)], rule, minutes(20))
    assert not is_flapping([minutes(0), minutes(10), minutes(20)], rule, minutes(65))


def test_maintenance_windows_match_service_labels_and_time() -> None:
    window = MaintenanceWindow(1, minutes(0), minutes(60), ("payments",), {"team": "payments"})
    assert maintenance_window_for(facts(), minutes(30), [window]) == window
    assert maintenance_window_for(facts(), minutes(60), [window]) is None
    assert maintenance_window_for(facts("search"), minutes(30), [window]) is None


def test_the_incident_takes_the_most_severe_alert_unless_the_rule_says_otherwise() -> None:
    assert incident_severity(["SEV3", "SEV2", "SEV4"], DEFAULT_RULE) == "SEV2"
    assert incident_severity(["SEV3"], Rule(name="r", severity="SEV1")) == "SEV1"


def obs(
    alert: int, at: float, service: str, status: str = "firing", starts: bool = True
) -> Observation:
    return Observation(alert, f"k{alert}", minutes(at), status, facts(service, f"A{alert}"), starts)


def test_simulation_groups_by_service_and_joins_dependencies() -> None:
    observations = [obs(1, 0, "checkout"), obs(2, 1, "payments"), obs(3, 2, "search")]
    neighbours = {"checkout": frozenset({"payments"}), "payments": frozenset({"checkout"})}
    incidents = simulate(observations, parse_rules(None), neighbours, [], minutes(10))
    assert [sorted(i.alerts) for i in incidents] == [[1, 2], [3]]


def test_simulation_opens_time_based_groups_when_due() -> None:
    rules = parse_rules({"rules": [{"name": "slow", "open_after": {"duration": "5m"}}]})
    incidents = simulate([obs(1, 0, "payments")], rules, {}, [], minutes(10))
    assert [i.opened_at for i in incidents] == [minutes(5)]
    assert simulate([obs(1, 0, "payments")], rules, {}, [], minutes(4)) == []


def test_the_diff_classifies_same_changed_new_and_gone() -> None:
    def sim(ref: int, alerts: set[int]) -> SimulatedIncident:
        return SimulatedIncident(ref, "r", "k", T0, "SEV3", "t", set(), alerts)

    lines = diff_incidents(
        [sim(1, {1, 2}), sim(2, {3}), sim(3, {9})],
        {10: frozenset({1, 2}), 11: frozenset({3, 4}), 12: frozenset({5})},
    )
    assert [(line.change, line.actual) for line in lines] == [
        ("same", 10),
        ("changed", 11),
        ("new", None),
        ("gone", 12),
    ]
