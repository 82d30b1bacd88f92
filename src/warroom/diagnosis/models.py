"""Log bundles uploaded to an incident, stored in the database so any server can analyse them.

Why the bytes live in the database: several `warroom serve` machines share one PostgreSQL and
none of them has a disk the others can read, so an upload accepted by one must be processable
by all. The bytes are split into rows of at most 1 MiB (`log_bundle_chunks`) so no single
value approaches a driver's or the database's limits and reading streams chunk by chunk.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    ForeignKey,
    Integer,
    LargeBinary,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from warroom.db.base import Base, UTCDateTime


class LogBundle(Base):
    """One uploaded bundle and its analysis job (status queued, running, done or failed)."""

    __tablename__ = "log_bundles"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    incident_id: Mapped[int] = mapped_column(
        ForeignKey("incidents.id", ondelete="CASCADE"), index=True
    )
    filename: Mapped[str] = mapped_column(String(255))
    size_bytes: Mapped[int] = mapped_column(BigInteger)
    status: Mapped[str] = mapped_column(String(10), index=True)
    uploaded_by_id: Mapped[int | None] = mapped_column(Integer)
    uploaded_by: Mapped[str] = mapped_column(String(320))
    uploaded_at: Mapped[datetime] = mapped_column(UTCDateTime)
    claimed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    claim_token: Mapped[str | None] = mapped_column(String(64))
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    error: Mapped[str] = mapped_column(Text, default="")
    result: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    report_json: Mapped[str | None] = mapped_column(Text)
    report_html: Mapped[str | None] = mapped_column(Text)


class LogBundleChunk(Base):
    """At most 1 MiB of a bundle's bytes; `seq` orders the chunks from 0."""

    __tablename__ = "log_bundle_chunks"
    __table_args__ = (UniqueConstraint("bundle_id", "seq"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    bundle_id: Mapped[int] = mapped_column(ForeignKey("log_bundles.id", ondelete="CASCADE"))
    seq: Mapped[int] = mapped_column(Integer)
    data: Mapped[bytes] = mapped_column(LargeBinary)
