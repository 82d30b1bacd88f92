"""Input and output shapes for the catalog."""

from __future__ import annotations

from enum import StrEnum

from pydantic import BaseModel, ConfigDict, Field

NAME_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$"
Name = Field(pattern=NAME_PATTERN, max_length=100)


class Lifecycle(StrEnum):
    EXPERIMENTAL = "experimental"
    PRODUCTION = "production"
    DEPRECATED = "deprecated"


class ServiceKind(StrEnum):
    COMPONENT = "component"
    API = "api"
    RESOURCE = "resource"


class TeamCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str = Field(pattern=NAME_PATTERN, max_length=100)
    description: str = Field(default="", max_length=5000)
    escalation_contact: str = Field(default="", max_length=320)
    members: list[str] = Field(default_factory=list, description="e-mail addresses of users")


class TeamUpdate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    description: str | None = Field(default=None, max_length=5000)
    escalation_contact: str | None = Field(default=None, max_length=320)
    members: list[str] | None = None


class TeamOut(BaseModel):
    id: int
    name: str
    description: str
    escalation_contact: str
    members: list[str]
    services: list[str]


class ServiceCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str = Field(pattern=NAME_PATTERN, max_length=100)
    kind: ServiceKind = ServiceKind.COMPONENT
    description: str = Field(default="", max_length=5000)
    tier: int = Field(default=3, ge=1, le=4, description="1 = most critical")
    owner_team: str | None = None
    system: str = Field(default="", max_length=100)
    runbook_url: str = Field(default="", max_length=2000)
    repository_url: str = Field(default="", max_length=2000)
    tags: list[str] = Field(default_factory=list, max_length=50)
    lifecycle: Lifecycle = Lifecycle.PRODUCTION
    depends_on: list[str] = Field(default_factory=list)


class ServiceUpdate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    kind: ServiceKind | None = None
    description: str | None = Field(default=None, max_length=5000)
    tier: int | None = Field(default=None, ge=1, le=4)
    owner_team: str | None = None
    system: str | None = Field(default=None, max_length=100)
    runbook_url: str | None = Field(default=None, max_length=2000)
    repository_url: str | None = Field(default=None, max_length=2000)
    tags: list[str] | None = Field(default=None, max_length=50)
    lifecycle: Lifecycle | None = None
    depends_on: list[str] | None = None


class ServiceOut(BaseModel):
    id: int
    name: str
    kind: ServiceKind
    description: str
    tier: int
    owner_team: str | None
    system: str
    runbook_url: str
    repository_url: str
    tags: list[str]
    lifecycle: Lifecycle
    depends_on: list[str]
    dependants: list[str]


class DependencyCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    depends_on: str = Field(pattern=NAME_PATTERN, max_length=100)


class Impact(BaseModel):
    """One service reached in a graph walk, with its distance in hops."""

    service: str
    distance: int
    tier: int


class GraphEdge(BaseModel):
    source: str
    target: str


class CatalogSnapshot(BaseModel):
    """A whole catalog: what import takes and export gives (Warroom's own format)."""

    model_config = ConfigDict(extra="forbid")

    teams: list[TeamCreate] = Field(default_factory=list)
    services: list[ServiceCreate] = Field(default_factory=list)


class ImportReport(BaseModel):
    created: int
    updated: int
    unchanged: int
