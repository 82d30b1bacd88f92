"""Input and output shapes for the learning domain, and the vocabularies they use."""

from __future__ import annotations

from datetime import UTC, date, datetime
from enum import StrEnum
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, field_validator

Text = Field(default="", max_length=50_000)


class PostmortemStatus(StrEnum):
    DRAFT = "draft"
    IN_REVIEW = "in_review"
    PUBLISHED = "published"


SECTIONS: tuple[tuple[str, str], ...] = (
    ("summary", "Summary"),
    ("impact", "Impact"),
    ("timeline", "Timeline"),
    ("response", "Response record"),
    ("factors_notes", "Contributing factors"),
    ("went_well", "What went well"),
    ("went_badly", "What went badly"),
    ("lucky", "Where we got lucky"),
    ("lessons", "Lessons"),
)
SECTION_KEYS = tuple(key for key, _ in SECTIONS)


class ActionStatus(StrEnum):
    OPEN = "open"
    IN_PROGRESS = "in_progress"
    DONE = "done"
    WONT_DO = "wont_do"


class ActionKind(StrEnum):
    MITIGATE = "mitigate"
    PREVENT = "prevent"
    DETECT = "detect"
    PROCESS = "process"


class Priority(StrEnum):
    P1 = "P1"
    P2 = "P2"
    P3 = "P3"
    P4 = "P4"


class ProposalStatus(StrEnum):
    PROPOSED = "proposed"
    APPROVED = "approved"
    REJECTED = "rejected"


class AdrStatus(StrEnum):
    PROPOSED = "proposed"
    ACCEPTED = "accepted"
    DEPRECATED = "deprecated"
    SUPERSEDED = "superseded"


class DocKind(StrEnum):
    INCIDENT = "incident"
    POSTMORTEM = "postmortem"
    RUNBOOK = "runbook"
    DECISION = "decision"
    ACTION = "action"


# --- postmortems ---------------------------------------------------------------------------


class PostmortemCreate(BaseModel):
    """A postmortem written from scratch (not from an incident), e.g. for a past outage."""

    model_config = ConfigDict(extra="forbid")

    title: str = Field(min_length=1, max_length=300)
    severity: str = Field(default="", max_length=10)
    services: list[str] = Field(default_factory=list, max_length=100)
    factors: list[str] = Field(default_factory=list, max_length=30)
    occurred_at: datetime | None = None
    sections: dict[str, str] = Field(default_factory=dict)

    @field_validator("occurred_at")
    @classmethod
    def _aware(cls, value: datetime | None) -> datetime | None:
        """Imported records often carry naive times; they are read as UTC."""
        if value is not None and value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value


class PostmortemUpdate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    title: str | None = Field(default=None, min_length=1, max_length=300)
    services: list[str] | None = Field(default=None, max_length=100)
    factors: list[str] | None = Field(default=None, max_length=30)
    sections: dict[str, str] | None = None


class LanguageFinding(BaseModel):
    section: str
    start: int
    end: int
    phrase: str
    category: str
    explanation: str
    suggestion: str


class ReviewerOut(BaseModel):
    email: str
    approved_at: datetime | None


class CommentOut(BaseModel):
    id: int
    section: str
    body: str
    author: str
    created_at: datetime


class PostmortemSummary(BaseModel):
    id: int
    incident_id: int | None
    title: str
    status: PostmortemStatus
    severity: str
    services: list[str]
    factors: list[str]
    occurred_at: datetime
    due_at: datetime | None
    overdue: bool
    source: str


class PostmortemOut(PostmortemSummary):
    sections: dict[str, str]
    published_at: datetime | None
    external_url: str
    created_by: str
    reviewers: list[ReviewerOut]
    comments: list[CommentOut]
    actions: list[ActionOut]
    findings: list[LanguageFinding]


class PublishResult(BaseModel):
    """Publishing warns about blame language rather than refusing: the warnings come back."""

    postmortem: PostmortemOut
    warnings: list[LanguageFinding]


class FactorIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    key: str = Field(pattern=r"^[a-z][a-z0-9_]*$", max_length=60)
    name: str = Field(min_length=1, max_length=200)
    description: str = Field(default="", max_length=5000)
    keywords: list[str] = Field(default_factory=list, max_length=100)


class FactorOut(BaseModel):
    key: str
    name: str
    description: str
    keywords: list[str]
    custom: bool


# --- action items ------------------------------------------------------------------------


class ActionCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    title: str = Field(min_length=1, max_length=300)
    description: str = Field(default="", max_length=10_000)
    owner: str = Field(default="", max_length=320)
    due_on: date | None = None
    priority: Priority = Priority.P3
    kind: ActionKind = ActionKind.PREVENT
    success_metric: str = Field(default="", max_length=5000)
    postmortem_id: int | None = None
    incident_id: int | None = None


class ActionUpdate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    title: str | None = Field(default=None, min_length=1, max_length=300)
    description: str | None = Field(default=None, max_length=10_000)
    owner: str | None = Field(default=None, max_length=320)
    due_on: date | None = None
    priority: Priority | None = None
    kind: ActionKind | None = None
    status: ActionStatus | None = None
    success_metric: str | None = Field(default=None, max_length=5000)
    external_key: str | None = Field(default=None, max_length=200)


class ActionOut(BaseModel):
    id: int
    title: str
    description: str
    owner: str
    due_on: date | None
    priority: Priority
    kind: ActionKind
    status: ActionStatus
    success_metric: str
    external_key: str
    postmortem_id: int | None
    incident_id: int | None
    overdue: bool


class SyncReport(BaseModel):
    updated: list[int]
    unchanged: list[int]
    problems: list[str]


# --- runbooks ----------------------------------------------------------------------------


class RunbookWrite(BaseModel):
    model_config = ConfigDict(extra="forbid")

    title: str = Field(default="", max_length=300)
    body: str = Field(min_length=1, max_length=200_000)
    note: str = Field(default="", max_length=2000)


class RunbookVersionOut(BaseModel):
    version: int
    body: str
    note: str
    author: str
    created_at: datetime


class ProposalCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    body: str = Field(min_length=1, max_length=200_000)
    rationale: str = Field(default="", max_length=5000)
    postmortem_id: int | None = None


class ProposalOut(BaseModel):
    id: int
    service: str
    postmortem_id: int | None
    base_version: int
    diff: str
    rationale: str
    status: ProposalStatus
    proposed_by: str
    decided_by: str
    decided_at: datetime | None


class RunbookOut(BaseModel):
    id: int
    service: str
    title: str
    current_version: int
    body: str
    history: list[RunbookVersionOut]
    proposals: list[ProposalOut]


# --- decision records --------------------------------------------------------------------


class AdrCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    title: str = Field(min_length=1, max_length=300)
    status: AdrStatus = AdrStatus.PROPOSED
    decided_on: date | None = None
    deciders: list[str] = Field(default_factory=list, max_length=50)
    context: str = Text
    options: list[str] = Field(default_factory=list, max_length=30)
    outcome: str = Text
    consequences: str = Text
    services: list[str] = Field(default_factory=list, max_length=100)
    supersedes: int | None = Field(default=None, description="number of the superseded ADR")
    postmortem_id: int | None = None


class AdrStatusChange(BaseModel):
    model_config = ConfigDict(extra="forbid")

    status: AdrStatus


class AdrOut(BaseModel):
    id: int
    number: int
    title: str
    status: AdrStatus
    decided_on: date
    deciders: list[str]
    context: str
    options: list[str]
    outcome: str
    consequences: str
    services: list[str]
    supersedes: int | None
    superseded_by: int | None
    postmortem_id: int | None


# --- knowledge base ----------------------------------------------------------------------


class SearchFilters(BaseModel):
    model_config = ConfigDict(extra="forbid")

    kind: DocKind | None = None
    service: str | None = None
    team: str | None = None
    factor: str | None = None
    severity: str | None = None
    since: date | None = None
    until: date | None = None


class SearchHit(BaseModel):
    kind: DocKind
    ref_id: int
    title: str
    snippet: str
    url: str
    services: list[str]
    factors: list[str]
    severity: str
    occurred_at: datetime
    rank: float


class SearchResult(BaseModel):
    query: str
    total: int
    hits: list[SearchHit]
    facets: dict[str, dict[str, int]]


class ImportReport(BaseModel):
    created: int
    updated: int
    unchanged: int
    errors: list[str]


class SimilarIncident(BaseModel):
    kind: DocKind
    ref_id: int
    title: str
    url: str
    score: float
    reasons: list[str]


class ClassMember(BaseModel):
    kind: DocKind
    ref_id: int
    title: str
    url: str
    services: list[str]
    occurred_at: datetime


class ProblemClassOut(BaseModel):
    id: str
    title: str
    cohesion: float
    members: list[ClassMember]
    services: list[str]
    factors: list[str]
    terms: list[str]
    trend: dict[str, int]


class ClassMatchOut(BaseModel):
    problem_class: ProblemClassOut
    similarity: float
    evidence: list[str]


class SimilarPanel(BaseModel):
    similar: list[SimilarIncident]
    known_class: ClassMatchOut | None


JsonDict = dict[str, Any]

PostmortemOut.model_rebuild()
