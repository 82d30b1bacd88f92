"""Pure reasoning behind Warroom's suggestions: response mode, split along the dependency
graph, and stakeholder update drafts. No storage here, so every rule is testable with plain data
and every suggestion carries the reasons a responder needs to accept or reject it.

Response mode follows the usual incident-management rule of thumb: while customers are hurt,
stop the bleeding first (contain: roll back the suspicious change, fail over, shed load);
without ongoing impact, take the time to find the root cause (investigate).

The split uses the catalog's dependency graph: an impacted service whose own (transitive)
dependencies all look healthy is a likely origin; impacted services that depend on an origin
are probably symptoms of it, so each origin becomes a workstream together with its symptoms.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from datetime import datetime

from warroom.engines.graphs import reachable
from warroom.incidents import policy
from warroom.incidents.schemas import (
    Audience,
    ChangeOut,
    HypothesisStatus,
    IncidentDetail,
    ProposedWorkstream,
    Recommendation,
    ResponderRole,
    ResponseMode,
    Risk,
    SplitProposal,
    Status,
    UpdateDraft,
)

_IMPACT_OVER = frozenset({Status.MONITORING, Status.RESOLVED, Status.LEARNING, Status.CLOSED})


def recommend_mode(
    *,
    impact_ongoing: bool,
    status: Status,
    direct: Sequence[ChangeOut],
    upstream: Sequence[ChangeOut],
    chosen: ResponseMode | None,
) -> Recommendation:
    """Contain when customers are hurt now, investigate otherwise; always say why."""
    ongoing = impact_ongoing and status not in _IMPACT_OVER
    suspects = list(direct) or list(upstream)
    reasons = []
    if ongoing:
        reasons.append("Customers are affected right now: stopping the impact comes first.")
    else:
        reasons.append(
            "No ongoing customer impact is recorded: there is time to find the root cause."
        )
    reasons += [_change_reason(c, upstream=not direct) for c in suspects[:3]]
    if not suspects:
        reasons.append("No change to an impacted service or its dependencies was recorded.")
    mode = ResponseMode.CONTAIN if ongoing else ResponseMode.INVESTIGATE
    return Recommendation(
        mode=mode,
        reasons=reasons,
        suggested_action=_action(mode, suspects),
        changes=suspects,
        chosen=chosen,
    )


def _change_reason(change: ChangeOut, *, upstream: bool) -> str:
    where = "a dependency, " if upstream else ""
    return (
        f"Recent {change.kind.value} change to {where}{change.service_name} at "
        f"{change.happened_at:%H:%M} UTC: {change.summary}"
    )


def _action(mode: ResponseMode, suspects: Sequence[ChangeOut]) -> str:
    if mode is ResponseMode.CONTAIN and suspects:
        first = suspects[0]
        return f"Roll back or disable the change to {first.service_name}: {first.summary}"
    if mode is ResponseMode.CONTAIN:
        return "Contain: fail over, shed load or switch the failing feature off, then investigate."
    if suspects:
        return f"Investigate, starting with the change to {suspects[0].service_name}."
    return "Investigate: collect evidence, form hypotheses and test the cheapest first."


def propose_split(
    graph: Mapping[str, Sequence[str]], impacted: Sequence[str], unhealthy_elsewhere: set[str]
) -> SplitProposal:
    """One workstream per likely origin, with the impacted services that depend on it."""
    unhealthy = set(impacted) | unhealthy_elsewhere
    upstream = {name: reachable(graph, name) for name in impacted}
    origins = [n for n in impacted if not set(upstream[n]) & unhealthy]
    reasoning = []
    for name in origins:
        deps = sorted(upstream[name])
        healthy = (
            f"all its dependencies ({', '.join(deps)}) look healthy"
            if deps
            else ("it depends on nothing in the catalog")
        )
        reasoning.append(f"{name} is impacted and {healthy}: a likely origin.")
    workstreams = []
    for origin in origins:
        symptoms = sorted(n for n in impacted if origin in upstream[n])
        reason = f"{origin} looks like where the failure starts"
        if symptoms:
            reason += f"; {', '.join(symptoms)} depend on it and are probably symptoms"
        workstreams.append(
            ProposedWorkstream(
                title=f"Restore {origin}",
                origin=origin,
                services=[origin, *symptoms],
                reason=reason + ".",
            )
        )
    if len(workstreams) < 2:
        reasoning.append(
            "No split proposed: fewer than two independent likely origins, so one team "
            "working together is faster than several coordinating."
        )
        workstreams = []
    return SplitProposal(workstreams=workstreams, reasoning=reasoning)


# --- similar incidents ------------------------------------------------------------------------

# Words that say little about *what* broke; they never make two titles similar.
_STOPWORD_TEXT = (
    "a an and are at for from in into is of on or the to with after before during not no "
    "some all errors error failing failed failure down slow high low issue issues"
)
_STOPWORDS = frozenset(_STOPWORD_TEXT.split())


def _words(title: str) -> set[str]:
    return {
        word
        for word in re.findall(r"[a-z0-9][a-z0-9-]+", title.lower())
        if len(word) > 2 and word not in _STOPWORDS
    }


def similar_titles(
    title: str, candidates: Sequence[tuple[int, str]], *, min_shared: int = 2
) -> list[tuple[int, str, list[str]]]:
    """Candidates sharing at least `min_shared` meaningful words with `title`, most first.

    Words like "errors" or "slow" say little about *what* broke, so they do not count.
    """
    wanted = _words(title)
    found = []
    for candidate_id, candidate_title in candidates:
        shared = sorted(wanted & _words(candidate_title))
        if len(shared) >= min_shared:
            found.append((candidate_id, candidate_title, shared))
    return sorted(found, key=lambda item: (-len(item[2]), -item[0]))


# --- stakeholder update drafts ---------------------------------------------------------------


def decisions_needed(detail: IncidentDetail) -> list[str]:
    """What the people in charge must decide now, from the incident's current state."""
    needed = []
    if not any(r.role == ResponderRole.COMMANDER for r in detail.roles):
        needed.append("Name an incident commander.")
    if detail.response_mode is None and policy.is_active(detail.status):
        needed.append("Choose the response mode: contain first or investigate the root cause.")
    needed += [
        f"Approve testing in production (high risk): {h.statement}"
        for h in detail.hypotheses
        if h.production_risk is Risk.HIGH and h.status is HypothesisStatus.OPEN
    ]
    needed += [
        f"Re-check overdue assumption: {a.statement}" for a in detail.assumptions if a.overdue
    ]
    return needed


def draft_updates(detail: IncidentDetail, now: datetime) -> list[UpdateDraft]:
    due = detail.next_update_due
    next_line = f"Next update by {due:%H:%M} UTC." if due and due > now else "Next update soon."
    return [
        UpdateDraft(audience=Audience.EXECUTIVE, body=_executive(detail, next_line)),
        UpdateDraft(audience=Audience.CUSTOMER, body=_customer(detail, next_line)),
        UpdateDraft(audience=Audience.ENGINEERING, body=_engineering(detail, next_line)),
    ]


def _executive(detail: IncidentDetail, next_line: str) -> str:
    needed = decisions_needed(detail)
    lines = [
        f"{detail.severity.value} ({detail.severity_definition.name}): {detail.title}",
        f"Status: {detail.status.value}.",
        f"Impact: {detail.customer_impact or 'still being assessed.'}",
        f"ETA: {detail.eta or 'not known yet.'}",
        "Decisions needed: " + (" ".join(needed) if needed else "none right now."),
        next_line,
    ]
    return "\n".join(lines)


def _customer(detail: IncidentDetail, next_line: str) -> str:
    # Plain language only: no titles, service names, hypotheses or people, which are internal.
    impact = detail.customer_impact.strip()
    parts = [policy.STATUS_PHRASES[detail.status]]
    if impact:
        parts.append(f"What you may notice: {impact}")
    if detail.status in policy.ACTIVE:
        parts.append(next_line)
    else:
        parts.append("Thank you for your patience.")
    return " ".join(parts)


def _engineering(detail: IncidentDetail, next_line: str) -> str:
    commander = next((r.email for r in detail.roles if r.role == ResponderRole.COMMANDER), None)
    open_hypotheses = [
        h.statement
        for h in detail.hypotheses
        if h.status in (HypothesisStatus.OPEN, HypothesisStatus.TESTING)
    ]
    lines = [
        f"#{detail.id} {detail.severity.value} {detail.status.value}: {detail.title}",
        f"Services: {', '.join(detail.services) or 'none recorded'}",
        f"IC: {commander or 'nobody yet'}; mode: "
        f"{detail.response_mode.value if detail.response_mode else 'not chosen'}",
        "Open hypotheses: " + ("; ".join(open_hypotheses) or "none"),
        "Workstreams: "
        + ("; ".join(f"{w.title} ({w.status.value})" for w in detail.workstreams) or "none"),
        next_line,
    ]
    return "\n".join(lines)
