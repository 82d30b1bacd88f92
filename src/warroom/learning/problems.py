"""Recurring problems: similar incidents, problem classes, failure-mode catalogs and chaos
experiments, all computed from the knowledge base with the similarity engine.

An "event" is one past incident or postmortem; an incident that has a postmortem is represented
by the postmortem alone (it is the richer text, and counting both would make every reviewed
incident look like a recurrence of itself). Classes are computed on demand from the current
events, so they follow what the organisation knows today; a class is named after its earliest
member (`c<document id>`), which keeps its id stable while members are added.
"""

from __future__ import annotations

import json
import logging
import re
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import numpy as np
from sqlalchemy import select

from warroom.actors import Actor, require_staff
from warroom.db.engine import Database
from warroom.engines import problemclasses, similarity
from warroom.engines.chaos import RecurringProblem, ServiceIndicators, build_experiment
from warroom.engines.taxonomy import suggest_factors
from warroom.errors import InvalidInput, NotFound
from warroom.incidents import queries as incident_queries
from warroom.learning import embedcache, live
from warroom.learning.documents import facet_values
from warroom.learning.knowledge import url_of
from warroom.learning.models import Postmortem, SearchDocument
from warroom.learning.queries import list_actions
from warroom.learning.schemas import (
    ClassMatchOut,
    ClassMember,
    DocKind,
    ProblemClassOut,
    SimilarIncident,
    SimilarPanel,
)
from warroom.learning.search_backends import backend_for

_log = logging.getLogger("warroom.learning")
MAX_EVENTS = 3000
CANDIDATES = 100
_WORD = re.compile(r"[a-z][a-z0-9-]+")
MIN_SCORE = 0.15


@dataclass(frozen=True)
class Event:
    doc_id: int
    kind: DocKind
    ref_id: int
    title: str
    text: str
    services: tuple[str, ...]
    factors: tuple[str, ...]
    occurred_at: datetime

    @property
    def url(self) -> str:
        return url_of(self.kind, self.ref_id)


def load_events(db: Database) -> list[Event]:
    with db.read_session() as session:
        reviewed = set(
            session.scalars(
                select(Postmortem.incident_id).where(Postmortem.incident_id.is_not(None))
            )
        )
        rows = session.scalars(
            select(SearchDocument)
            .where(SearchDocument.kind.in_([DocKind.INCIDENT.value, DocKind.POSTMORTEM.value]))
            .order_by(SearchDocument.id)
            .limit(MAX_EVENTS)
        ).all()
    return [
        Event(
            doc_id=row.id,
            kind=DocKind(row.kind),
            ref_id=row.ref_id,
            title=row.title,
            text=row.narrative,
            services=tuple(facet_values(row.services)),
            factors=tuple(facet_values(row.factors)),
            occurred_at=row.occurred_at,
        )
        for row in rows
        if not (row.kind == DocKind.INCIDENT.value and row.ref_id in reviewed)
    ]


# --- classes -------------------------------------------------------------------------------


@dataclass(frozen=True)
class Model:
    """The embeddings of a set of events and the problem classes found in it."""

    vectors: np.ndarray
    clusters: list[problemclasses.ProblemClass]
    classes: list[ProblemClassOut]


def _fingerprint(events: Sequence[Event]) -> str:
    return embedcache.fingerprint(
        (e.doc_id, e.kind.value, e.ref_id, e.title, e.text, e.services, e.factors, e.occurred_at)
        for e in events
    )


def _compute(events: Sequence[Event]) -> embedcache.Computed:
    vectors = similarity.embed_texts([e.text for e in events])
    found = problemclasses.cluster_problem_classes(vectors)
    data: dict[str, Any] = {
        "clusters": [list(c.members) for c in found],
        "classes": [
            _class_out([events[i] for i in c.members], c.cohesion).model_dump(mode="json")
            for c in found
        ],
    }
    return vectors, data


def event_model(db: Database, events: Sequence[Event]) -> Model:
    """Embeddings and classes of `events`, from the database cache when the set is unchanged."""
    vectors, data = embedcache.cached(db, _fingerprint(events), lambda: _compute(events))
    return Model(
        vectors=vectors,
        clusters=[_cluster(i, members, vectors) for i, members in enumerate(data["clusters"])],
        classes=[ProblemClassOut.model_validate(c) for c in data["classes"]],
    )


def _cluster(
    class_id: int, members: Sequence[int], vectors: np.ndarray
) -> problemclasses.ProblemClass:
    mean = vectors[list(members)].mean(axis=0)
    centroid = mean / (np.linalg.norm(mean) or 1.0)
    cohesion = float((vectors[list(members)] @ centroid).mean())
    return problemclasses.ProblemClass(class_id, tuple(members), centroid, cohesion)


def warm(db: Database) -> bool:
    """Bring the index and the cached model up to date (the periodic tick); True if refitted."""
    live.catch_up(db)
    events = load_events(db)
    if len(events) < 2 or embedcache.is_current(db, _fingerprint(events)):
        return False
    event_model(db, events)
    _log.info("learning model refitted on %s events", len(events))
    return True


def _class_out(members: Sequence[Event], cohesion: float) -> ProblemClassOut:
    ordered = sorted(members, key=lambda e: (e.occurred_at, e.doc_id))
    factors = Counter(f for e in members for f in e.factors)
    services = Counter(s for e in members for s in e.services)
    terms = _shared_terms(members)
    label = ", ".join(terms[:3]) or (factors.most_common(1)[0][0] if factors else "problem")
    return ProblemClassOut(
        id=f"c{min(e.doc_id for e in members)}",
        title=f"Recurring: {label}",
        cohesion=round(cohesion, 3),
        members=[
            ClassMember(
                kind=e.kind,
                ref_id=e.ref_id,
                title=e.title,
                url=e.url,
                services=list(e.services),
                occurred_at=e.occurred_at,
            )
            for e in ordered
        ],
        services=[s for s, _ in services.most_common()],
        factors=[f for f, _ in factors.most_common()],
        terms=terms,
        trend=dict(sorted(Counter(f"{e.occurred_at:%Y-%m}" for e in members).items())),
    )


def _shared_terms(members: Sequence[Event]) -> list[str]:
    """Words that at least half the members use (minimum two), most shared first, as written."""
    counts: Counter[str] = Counter()
    surface: dict[str, str] = {}
    for event in members:
        counts.update(set(similarity.analyse(event.text)))
        for word in _WORD.findall(event.text.lower()):
            surface.setdefault(similarity.stem(word), word)
    needed = max(2, len(members) // 2)
    shared = [w for w, n in counts.most_common(12) if n >= needed and len(w) > 2]
    return [surface.get(w, w) for w in shared][:6]


def list_classes(db: Database, actor: Actor) -> list[ProblemClassOut]:
    """Problem classes across all past incidents and postmortems, largest first."""
    require_staff(actor, action="reading problem classes")
    live.catch_up(db)
    events = load_events(db)
    if len(events) < 2:
        return []
    return event_model(db, events).classes


def get_class(db: Database, actor: Actor, *, class_id: str) -> ProblemClassOut:
    for problem in list_classes(db, actor):
        if problem.id == class_id:
            return problem
    raise NotFound(f"problem class {class_id}")


# --- similar incidents ---------------------------------------------------------------------


def similar_to_incident(
    db: Database, actor: Actor, *, incident_id: int, limit: int = 5, catch_up: bool = True
) -> SimilarPanel:
    """Past events most like this incident, each with its reasons, and a matching known class.

    The incident is indexed live, so its own document (or its postmortem's) is one of the
    events and its vector comes from the cached model; only an incident missing from the index
    falls back to fitting the embedding on the spot. `catch_up=False` (the panel on the incident
    page, which must read a fixed number of rows) leaves the catch-up to the periodic tick.
    """
    detail = incident_queries.get_incident(db, actor, incident_id=incident_id)
    require_staff(actor, action="reading similar incidents")
    if catch_up:
        live.catch_up(db)
    with db.read_session() as session:
        pm = session.scalars(
            select(Postmortem).where(Postmortem.incident_id == incident_id)
        ).first()
        own_pm = pm.id if pm else None
        own_factors = tuple(pm.factors or ()) if pm else ()
    target = "\n".join([detail.title, detail.summary, detail.customer_impact])
    target += "\n" + "\n".join(e.text for e in detail.timeline)
    factors = own_factors or tuple(s.key for s in suggest_factors(target)[:3])
    about = Target(target, tuple(detail.services), factors)
    everything = load_events(db)
    own = [
        i
        for i, e in enumerate(everything)
        if (e.kind is DocKind.INCIDENT and e.ref_id == incident_id)
        or (e.kind is DocKind.POSTMORTEM and e.ref_id == own_pm)
    ]
    if own and len(everything) > len(own):
        return _similar_cached(db, everything, own, about, limit)
    events = [e for i, e in enumerate(everything) if i not in own]
    return _similar_fitted(db, events, about, limit)


@dataclass(frozen=True)
class Target:
    text: str
    services: tuple[str, ...]
    factors: tuple[str, ...]


def _similar_cached(
    db: Database, everything: Sequence[Event], own: Sequence[int], about: Target, limit: int
) -> SimilarPanel:
    model = event_model(db, everything)
    query = model.vectors[own[0]]
    others = [i for i in range(len(everything)) if i not in own]
    similar = [
        _similar(everything[others[i]], score, about)
        for i, score in similarity.most_similar(model.vectors[others], query, k=limit)
        if score >= MIN_SCORE
    ]
    found: list[problemclasses.ProblemClass] = []
    for cluster in model.clusters:
        members = [m for m in cluster.members if m not in own]
        if len(members) >= 2:
            found.append(_cluster(len(found), members, model.vectors))
    return SimilarPanel(similar=similar, known_class=_known_class(everything, found, query, about))


def _similar_fitted(
    db: Database, events: Sequence[Event], about: Target, limit: int
) -> SimilarPanel:
    if len(events) > CANDIDATES:
        events = _candidates(db, events, about.text, about.services)
    if not events:
        return SimilarPanel(similar=[], known_class=None)
    vectors = similarity.embed_texts([about.text, *(e.text for e in events)])
    similar = [
        _similar(events[i], score, about)
        for i, score in similarity.most_similar(vectors[1:], vectors[0], k=limit)
        if score >= MIN_SCORE
    ]
    found = problemclasses.cluster_problem_classes(vectors[1:])
    return SimilarPanel(similar=similar, known_class=_known_class(events, found, vectors[0], about))


def _candidates(
    db: Database, events: Sequence[Event], target: str, services: Sequence[str]
) -> list[Event]:
    """The events worth embedding: the best full-text matches of the incident's words, and the
    latest events on its services. Embedding is fitted per call, so fewer texts, faster page."""
    words = [w for w in dict.fromkeys(_WORD.findall(target.lower())) if len(w) > 3][:24]
    keep: set[int] = set()
    ranked = backend_for(db.dialect).ranked(" or ".join(words)) if words else None
    if ranked is not None:
        query = select(ranked.c.id).order_by(ranked.c.rank.desc()).limit(CANDIDATES)
        with db.read_session() as session:
            keep.update(session.scalars(query))
    shared = [e.doc_id for e in events if set(e.services) & set(services)]
    keep.update(shared[-CANDIDATES // 2 :])
    return [e for e in events if e.doc_id in keep]


def _similar(event: Event, score: float, about: Target) -> SimilarIncident:
    reasons = [f"shared service: {s}" for s in sorted(set(about.services) & set(event.services))]
    reasons += [
        f"shared contributing factor: {f}" for f in sorted(set(about.factors) & set(event.factors))
    ]
    reasons += similarity.explain_similarity(about.text, event.text, limit=4)
    return SimilarIncident(
        kind=event.kind,
        ref_id=event.ref_id,
        title=event.title,
        url=event.url,
        score=round(score, 3),
        reasons=reasons or [f"text similarity {score:.2f}"],
    )


def _known_class(
    events: Sequence[Event],
    found: Sequence[problemclasses.ProblemClass],
    query: np.ndarray,
    about: Target,
) -> ClassMatchOut | None:
    match = problemclasses.match_class(query, found)
    if match is None:
        return None
    chosen = next(c for c in found if c.class_id == match.class_id)
    members = [events[i] for i in chosen.members]
    evidence = list(match.reasons)
    joined = "\n".join(e.text for e in members)
    evidence += similarity.explain_similarity(about.text, joined, limit=4)
    return ClassMatchOut(
        problem_class=_class_out(members, chosen.cohesion),
        similarity=round(match.similarity, 3),
        evidence=evidence,
    )


# --- learning outputs ----------------------------------------------------------------------


def failure_mode_catalog(db: Database, actor: Actor, *, service: str) -> str:
    """Markdown for onboarding: how `service` has failed, grouped by recurring class."""
    classes = [c for c in list_classes(db, actor) if service in c.services]
    with db.read_session() as session:
        postmortems = [
            row
            for row in session.scalars(select(Postmortem).order_by(Postmortem.occurred_at.desc()))
            if service in (row.services or [])
        ]
    open_items = [
        a
        for a in list_actions(db, actor)
        if a.status.value in ("open", "in_progress")
        and any(a.postmortem_id == pm.id for pm in postmortems)
    ]
    lines = [
        f"# Failure modes of {service}",
        "",
        f"Generated by Warroom from {len(postmortems)} postmortems and {len(classes)} recurring "
        "problem classes. Read it before your first on-call shift.",
        "",
        "## Recurring problem classes",
        "",
    ]
    for problem in classes:
        lines += [f"### {problem.title} ({len(problem.members)} events)", ""]
        lines.append(f"- Contributing factors: {', '.join(problem.factors) or 'not recorded'}")
        lines.append(f"- Also affects: {', '.join(s for s in problem.services if s != service)}")
        lines += [f"- {m.occurred_at:%Y-%m-%d} [{m.title}]({m.url})" for m in problem.members]
        lines.append("")
    if not classes:
        lines += ["None yet.", ""]
    lines += ["## Postmortems", ""]
    for pm in postmortems:
        summary = str((pm.sections or {}).get("summary", "")).strip().split("\n")[0]
        lessons = str((pm.sections or {}).get("lessons", "")).strip()
        lines += [f"### {pm.title} ({pm.occurred_at:%Y-%m-%d}, {pm.severity or 'unrated'})", ""]
        lines.append(f"- Contributing factors: {', '.join(pm.factors or []) or 'not recorded'}")
        lines.append(f"- What happened: {summary or 'see the postmortem'}")
        if lessons:
            lines.append(f"- Lessons: {' '.join(lessons.split())}")
        lines.append("")
    lines += ["## Open action items", ""]
    lines += [f"- [{a.status.value}] {a.title} (owner: {a.owner or 'unowned'})" for a in open_items]
    if not open_items:
        lines.append("None.")
    return "\n".join(lines).rstrip() + "\n"


def chaos_experiment(
    db: Database,
    actor: Actor,
    *,
    class_id: str,
    service: str | None = None,
    health_url: str | None = None,
) -> str:
    """A Chaos Toolkit experiment (JSON text) that rehearses a recurring class on a service."""
    problem = get_class(db, actor, class_id=class_id)
    target = service or (problem.services[0] if problem.services else "")
    if not target:
        raise InvalidInput("the class names no service: pass one explicitly")
    indicators = ServiceIndicators(
        service=target, health_url=health_url or f"http://{target}.internal/health"
    )
    recurring = RecurringProblem(
        title=problem.title.removeprefix("Recurring: ").capitalize(),
        summary=f"{len(problem.members)} incidents share this failure mode: "
        + "; ".join(m.title for m in problem.members[:5])
        + ".",
        factors=tuple(problem.factors),
        incidents=tuple(m.url for m in problem.members),
    )
    return json.dumps(build_experiment(recurring, indicators), indent=2) + "\n"
