"""Tables for integrations, alerts, their deliveries, groups, dead letters and silences.

The identity guarantee lives here: `alerts.open_key` holds the dedup key while the alert is
open and NULL once it resolves, and (integration, open_key) is unique, so two deliveries of
one key can never create two open alerts, whatever the process (NULLs never collide, which
lets a resolved key open a fresh alert, as PagerDuty does).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from warroom.db.base import Base, UTCDateTime

BigId = BigInteger().with_variant(Integer(), "sqlite")


class Integration(Base):
    """A source of alerts with its own credential (only its SHA-256 is stored)."""

    __tablename__ = "integrations"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    kind: Mapped[str] = mapped_column(String(20))
    name: Mapped[str] = mapped_column(String(100), unique=True)
    credential_hash: Mapped[str] = mapped_column(String(64), unique=True)
    credential_prefix: Mapped[str] = mapped_column(String(16))
    default_service: Mapped[str] = mapped_column(String(100), default="")
    mapping: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    max_body_bytes: Mapped[int | None] = mapped_column(Integer)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    disabled_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class AlertGroup(Base):
    """A correlation group: pending until its opening rule is met, then tied to an incident."""

    __tablename__ = "alert_groups"
    # Every repeat updates a group's count and last time: with free room on each page, and no
    # index on either column, PostgreSQL updates the row in place (a HOT update) instead of
    # adding an entry to every index of the table.
    __table_args__ = ({"postgresql_with": {"fillfactor": 50}},)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    rule: Mapped[str] = mapped_column(String(100))
    group_key: Mapped[str] = mapped_column(String(500), index=True)
    services: Mapped[list[Any]] = mapped_column(JSON, default=list)
    status: Mapped[str] = mapped_column(String(20), index=True)
    first_at: Mapped[datetime] = mapped_column(UTCDateTime)
    # Not indexed (see above): the groups that correlation reads by time are the live ones,
    # which the status index finds.
    last_at: Mapped[datetime] = mapped_column(UTCDateTime)
    occurrences: Mapped[int] = mapped_column(Integer, default=0)
    firing: Mapped[int] = mapped_column(Integer, default=0)
    not_before: Mapped[datetime | None] = mapped_column(UTCDateTime)
    reason: Mapped[str] = mapped_column(Text, default="")
    incident_id: Mapped[int | None] = mapped_column(Integer, index=True)
    previous_incident_id: Mapped[int | None] = mapped_column(Integer)
    opened_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class MaintenanceWindow(Base):
    """Alerts matching it while it runs are recorded as silenced and open nothing."""

    __tablename__ = "maintenance_windows"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    starts_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
    ends_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
    services: Mapped[list[Any]] = mapped_column(JSON, default=list)
    labels: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    created_by: Mapped[str] = mapped_column(String(320))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)


class Alert(Base):
    """One alert: a dedup key while it fires, with its repeat count and its group."""

    __tablename__ = "alerts"
    __table_args__ = (
        UniqueConstraint("integration_id", "open_key"),
        Index("ix_alerts_integration_id_dedup_key", "integration_id", "dedup_key"),
        # Room for in-place (HOT) updates of the repeat count and last time, as for groups.
        {"postgresql_with": {"fillfactor": 80}},
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    integration_id: Mapped[int] = mapped_column(ForeignKey("integrations.id"))
    dedup_key: Mapped[str] = mapped_column(String(255))
    open_key: Mapped[str | None] = mapped_column(String(255))
    title: Mapped[str] = mapped_column(String(500))
    severity: Mapped[str] = mapped_column(String(10))
    service: Mapped[str] = mapped_column(String(100), index=True)
    source: Mapped[str] = mapped_column(String(200), default="")
    labels: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    details: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    links: Mapped[list[Any]] = mapped_column(JSON, default=list)
    status: Mapped[str] = mapped_column(String(20))
    started_at: Mapped[datetime] = mapped_column(UTCDateTime)
    first_seen_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
    last_seen_at: Mapped[datetime] = mapped_column(UTCDateTime)
    resolved_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    occurrences: Mapped[int] = mapped_column(Integer, default=1)
    suppressed: Mapped[str] = mapped_column(String(40), default="")
    silenced_by: Mapped[int | None] = mapped_column(ForeignKey("maintenance_windows.id"))
    group_id: Mapped[int | None] = mapped_column(ForeignKey("alert_groups.id"), index=True)
    incident_id: Mapped[int | None] = mapped_column(Integer, index=True)


class AlertEvent(Base):
    """One accepted delivery for an alert: the record replay re-runs the rules over."""

    __tablename__ = "alert_events"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    alert_id: Mapped[int] = mapped_column(ForeignKey("alerts.id"), index=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
    action: Mapped[str] = mapped_column(String(20))


class DeadLetter(Base):
    """A delivery that could not be accepted, kept byte for byte for inspection and replay."""

    __tablename__ = "dead_letters"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    integration_id: Mapped[int | None] = mapped_column(ForeignKey("integrations.id"), index=True)
    endpoint: Mapped[str] = mapped_column(String(40))
    received_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
    reason: Mapped[str] = mapped_column(Text)
    errors: Mapped[list[Any]] = mapped_column(JSON, default=list)
    content_type: Mapped[str] = mapped_column(String(200), default="")
    body: Mapped[bytes] = mapped_column(LargeBinary)
    status: Mapped[str] = mapped_column(String(20), default="kept")
    replayed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    replay_note: Mapped[str] = mapped_column(Text, default="")


class GroupingRuleSet(Base):
    """The live grouping rules (one row), as the YAML an admin set and its parsed form."""

    __tablename__ = "grouping_rules"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    source: Mapped[str] = mapped_column(Text)
    document: Mapped[dict[str, Any]] = mapped_column(JSON)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)
    updated_by: Mapped[str] = mapped_column(String(320))
