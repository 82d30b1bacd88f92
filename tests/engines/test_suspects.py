from __future__ import annotations

from warroom.engines.suspects import NS, Change, normalise_kind, rank_suspects

ONSET = 10_000 * NS


def test_a_recent_deploy_of_the_failing_service_ranks_first_with_reasons() -> None:
    changes = [
        Change("c1", "feature-flag", "frontend", ONSET - 3600 * NS),
        Change("c2", "deploy", "backend", ONSET - 120 * NS),
        Change("c3", "config", "backend", ONSET + 60 * NS),
    ]
    ranked = rank_suspects(changes, [("backend.log", ONSET), ("frontend.log", ONSET + NS)])
    assert [s.change.id for s in ranked] == ["c2", "c1", "c3"]
    assert ranked[0].reasons[0] == "precedes the onset by 2 min"
    assert "same service as the first source to fail" in ranked[0].reasons[1]
    assert "cannot have caused it" in ranked[-1].reasons[0]


def test_dependencies_count_as_locality() -> None:
    change = Change("c", "scaling", "postgres", ONSET - 60 * NS)
    ranked = rank_suspects([change], [("api.log", ONSET)], dependencies={"api": ["postgres"]})
    assert ranked[0].kind == "infrastructure"
    assert "postgres is a dependency of api.log" in ranked[0].reasons


def test_kinds_are_normalised() -> None:
    assert [normalise_kind(k) for k in ("Deploy", "config-change", "flag", "dns", "?")] == [
        "code", "config", "flag", "infrastructure", "other",
    ]  # fmt: skip
