"""SQLAlchemy 2 typed models: the one description of the schema (Alembic compares to it).

Every table has a UUID key; every mutable row has aware-UTC ``created_at``/``updated_at``
and a ``version`` used for optimistic locking (SQLAlchemy checks it on every UPDATE).
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any, cast

from sqlalchemy import (
    BigInteger,
    Boolean,
    Float,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Table,
    Text,
    UniqueConstraint,
    Uuid,
    text,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from opsconductor_desktop.domain.timeutil import utcnow
from opsconductor_desktop.store.types import JSONType, UTCDateTime

NAMING_CONVENTION = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


def table_of(model: type[Base]) -> Table:
    """The Core table of a model, for bulk statements that skip the ORM's per-row work."""
    return cast(Table, model.__table__)


class Base(DeclarativeBase):
    """Declarative base with the constraint naming convention Alembic relies on."""

    metadata = MetaData(naming_convention=NAMING_CONVENTION)


class Versioned:
    """Mixin: UUID key, timestamps, optimistic-locking version."""

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=uuid.uuid4)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)
    version: Mapped[int] = mapped_column(Integer, default=1)


class CredentialRow(Versioned, Base):
    """Credential metadata; the secret itself lives in the keyring under ``secret_ref``."""

    __tablename__ = "credentials"
    __mapper_args__ = {"version_id_col": Versioned.version}  # noqa: RUF012

    name: Mapped[str] = mapped_column(String(255), unique=True)
    kind: Mapped[str] = mapped_column(String(32))
    username: Mapped[str | None] = mapped_column(String(255))
    auth_protocol: Mapped[str | None] = mapped_column(String(16))
    priv_protocol: Mapped[str | None] = mapped_column(String(16))
    secret_ref: Mapped[str] = mapped_column(String(255))


class TargetRow(Versioned, Base):
    """A managed device."""

    __tablename__ = "targets"
    __mapper_args__ = {"version_id_col": Versioned.version}  # noqa: RUF012

    name: Mapped[str] = mapped_column(String(255), unique=True)
    address: Mapped[str] = mapped_column(String(255), index=True)
    kind: Mapped[str] = mapped_column(String(32), index=True)
    vendor: Mapped[str] = mapped_column(String(128), default="", index=True)
    model: Mapped[str] = mapped_column(String(128), default="")
    site: Mapped[str] = mapped_column(String(128), default="", index=True)
    description: Mapped[str] = mapped_column(Text, default="")
    tags: Mapped[list[str]] = mapped_column(JSONType, default=list)
    enabled: Mapped[bool] = mapped_column(Boolean, default=True)
    snmp_version: Mapped[str | None] = mapped_column(String(8))
    snmp_port: Mapped[int] = mapped_column(Integer, default=161)
    snmp_credential_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("credentials.id", ondelete="RESTRICT"), index=True
    )
    ssh_port: Mapped[int] = mapped_column(Integer, default=22)
    ssh_username: Mapped[str | None] = mapped_column(String(255))
    ssh_credential_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("credentials.id", ondelete="RESTRICT"), index=True
    )
    vars: Mapped[dict[str, Any]] = mapped_column(JSONType, default=dict)
    parent_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("targets.id", ondelete="SET NULL"), index=True
    )


class GroupRow(Versioned, Base):
    """A group of targets: static members plus an optional dynamic rule (JSON tree)."""

    __tablename__ = "groups"
    __mapper_args__ = {"version_id_col": Versioned.version}  # noqa: RUF012

    name: Mapped[str] = mapped_column(String(255), unique=True)
    description: Mapped[str] = mapped_column(Text, default="")
    rule: Mapped[dict[str, Any] | None] = mapped_column(JSONType)
    vars: Mapped[dict[str, Any]] = mapped_column(JSONType, default=dict)


class GroupMemberRow(Base):
    """Static membership (the junction the old system forgot to index)."""

    __tablename__ = "group_members"

    group_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("groups.id", ondelete="CASCADE"), primary_key=True
    )
    target_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("targets.id", ondelete="CASCADE"), primary_key=True, index=True
    )
    added_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class AuditRow(Base):
    """Append-only record of every change: who, what, when, before and after."""

    __tablename__ = "audit_log"
    __table_args__ = (Index("ix_audit_log_entity_entity_id", "entity", "entity_id"),)

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=uuid.uuid4)
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)
    actor: Mapped[str] = mapped_column(String(255))
    action: Mapped[str] = mapped_column(String(32))
    entity: Mapped[str] = mapped_column(String(32))
    entity_id: Mapped[uuid.UUID | None] = mapped_column(Uuid)
    summary: Mapped[str] = mapped_column(Text, default="")
    before: Mapped[dict[str, Any] | None] = mapped_column(JSONType)
    after: Mapped[dict[str, Any] | None] = mapped_column(JSONType)
    correlation_id: Mapped[str | None] = mapped_column(String(64))


class ScheduleRow(Versioned, Base):
    """The dispatcher's table: one row per unit of timed work, claimed with a lease."""

    __tablename__ = "schedules"
    __table_args__ = (UniqueConstraint("kind", "ref"),)
    __mapper_args__ = {"version_id_col": Versioned.version}  # noqa: RUF012

    kind: Mapped[str] = mapped_column(String(32))
    ref: Mapped[str] = mapped_column(String(255))
    interval_s: Mapped[int] = mapped_column(Integer, default=60)
    enabled: Mapped[bool] = mapped_column(Boolean, default=True)
    next_run_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
    lease_owner: Mapped[str | None] = mapped_column(String(128))
    lease_expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_run_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_status: Mapped[str | None] = mapped_column(String(16))
    last_error: Mapped[str] = mapped_column(Text, default="")


class ChangeCounterRow(Base):
    """A counter per topic, bumped atomically by every committed change.

    Another console (or the GUI watching changes made from the CLI) polls these few rows
    to learn cheaply that something changed, without scanning the audit log.
    """

    __tablename__ = "change_counters"

    topic: Mapped[str] = mapped_column(String(32), primary_key=True)
    counter: Mapped[int] = mapped_column(BigInteger, default=0)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class JobRow(Versioned, Base):
    """A stored job definition (the validated document, as JSON)."""

    __tablename__ = "jobs"
    __mapper_args__ = {"version_id_col": Versioned.version}  # noqa: RUF012

    name: Mapped[str] = mapped_column(String(255), unique=True)
    description: Mapped[str] = mapped_column(Text, default="")
    definition: Mapped[dict[str, Any]] = mapped_column(JSONType)


class JobRunRow(Base):
    """One run of a job (or of an ad-hoc command) over a selection of targets."""

    __tablename__ = "job_runs"
    __table_args__ = (Index("ix_job_runs_status_started_at", "status", "started_at"),)

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=uuid.uuid4)
    job_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("jobs.id", ondelete="SET NULL"), index=True
    )
    job_name: Mapped[str] = mapped_column(String(255))
    definition: Mapped[dict[str, Any]] = mapped_column(JSONType)
    selection: Mapped[dict[str, Any]] = mapped_column(JSONType)
    status: Mapped[str] = mapped_column(String(16))
    actor: Mapped[str] = mapped_column(String(255))
    owner: Mapped[str | None] = mapped_column(String(128))  # the process that runs it
    rerun_of: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("job_runs.id", ondelete="SET NULL")
    )
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)
    started_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    total: Mapped[int] = mapped_column(Integer, default=0)
    succeeded: Mapped[int] = mapped_column(Integer, default=0)
    failed: Mapped[int] = mapped_column(Integer, default=0)
    cancelled: Mapped[int] = mapped_column(Integer, default=0)


class JobRunTargetRow(Base):
    """One target's part in a run."""

    __tablename__ = "job_run_targets"
    __table_args__ = (
        Index("ix_job_run_targets_run_id_status", "run_id", "status"),
        UniqueConstraint("run_id", "target_name"),
    )

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=uuid.uuid4)
    run_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("job_runs.id", ondelete="CASCADE"))
    target_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("targets.id", ondelete="SET NULL"), index=True
    )
    target_name: Mapped[str] = mapped_column(String(255))
    address: Mapped[str] = mapped_column(String(255))
    status: Mapped[str] = mapped_column(String(16))
    current_step: Mapped[int | None] = mapped_column(Integer)
    started_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    error: Mapped[str | None] = mapped_column(Text)


class StepResultRow(Base):
    """The outcome of one step on one target; output capped, binary-safe."""

    __tablename__ = "step_results"
    __table_args__ = (UniqueConstraint("run_target_id", "step_index"),)

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=uuid.uuid4)
    run_target_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("job_run_targets.id", ondelete="CASCADE")
    )
    step_index: Mapped[int] = mapped_column(Integer)
    step_name: Mapped[str] = mapped_column(String(255))
    step_type: Mapped[str] = mapped_column(String(32))
    status: Mapped[str] = mapped_column(String(16))
    exit_status: Mapped[int | None] = mapped_column(Integer)
    stdout: Mapped[bytes] = mapped_column(LargeBinary, default=b"")
    stderr: Mapped[bytes] = mapped_column(LargeBinary, default=b"")
    stdout_truncated: Mapped[bool] = mapped_column(Boolean, default=False)
    stderr_truncated: Mapped[bool] = mapped_column(Boolean, default=False)
    data: Mapped[dict[str, Any] | None] = mapped_column(JSONType)
    error: Mapped[str | None] = mapped_column(Text)
    duration_ms: Mapped[float | None] = mapped_column(Float)
    started_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class AlertRow(Base):
    """An alert: one row per problem occurrence; at most one open row per fingerprint.

    Written only by the alert manager (``runtime/alert_manager.py``) with bulk statements;
    ``version`` is bumped by hand in those statements for optimistic locking.
    """

    __tablename__ = "alerts"
    __table_args__ = (
        Index(
            "ix_alerts_fingerprint_open",
            "fingerprint",
            unique=True,
            sqlite_where=text("status != 'resolved'"),
            postgresql_where=text("status != 'resolved'"),
        ),
        Index("ix_alerts_status_severity", "status", "severity"),
        # the manager's lookup of recently resolved alerts (flap history) per fingerprint
        Index("ix_alerts_fingerprint_resolved_at", "fingerprint", "resolved_at"),
        # the Alerts pane's query shapes (services/alert_queries.py writes the same literal
        # ``status != 'resolved'`` so that SQLite can use the partial indexes)
        Index(
            "ix_alerts_open_last_seen",
            "last_seen",
            sqlite_where=text("status != 'resolved'"),
            postgresql_where=text("status != 'resolved'"),
        ),
        Index(
            "ix_alerts_open_severity_last_seen",
            "severity",
            "last_seen",
            sqlite_where=text("status != 'resolved'"),
            postgresql_where=text("status != 'resolved'"),
        ),
        Index("ix_alerts_status_last_seen", "status", "last_seen"),
        Index("ix_alerts_target_name_status", "target_name", "status"),
        Index("ix_alerts_source_status", "source", "status"),
    )

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=uuid.uuid4)
    fingerprint: Mapped[str] = mapped_column(String(64))
    source: Mapped[str] = mapped_column(String(128))
    key: Mapped[str] = mapped_column(String(255))
    target_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("targets.id", ondelete="SET NULL"), index=True
    )
    target_name: Mapped[str | None] = mapped_column(String(255))
    severity: Mapped[int] = mapped_column(Integer)
    status: Mapped[str] = mapped_column(String(16))
    summary: Mapped[str] = mapped_column(Text, default="")
    details: Mapped[dict[str, Any]] = mapped_column(JSONType, default=dict)
    first_seen: Mapped[datetime] = mapped_column(UTCDateTime)
    last_seen: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
    count: Mapped[int] = mapped_column(Integer, default=1)
    ack_by: Mapped[str | None] = mapped_column(String(255))
    ack_comment: Mapped[str | None] = mapped_column(Text)
    ack_expires: Mapped[datetime | None] = mapped_column(UTCDateTime)
    suppressed_by: Mapped[str | None] = mapped_column(String(255))
    flapping: Mapped[bool] = mapped_column(Boolean, default=False)
    history: Mapped[list[bool]] = mapped_column(JSONType, default=list)
    resolved_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    reachability: Mapped[bool] = mapped_column(Boolean, default=False)
    version: Mapped[int] = mapped_column(Integer, default=1)


class AlertEventRow(Base):
    """One transition of an alert: who moved it from what to what, when and why."""

    __tablename__ = "alert_events"

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=uuid.uuid4)
    alert_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("alerts.id", ondelete="CASCADE"), index=True
    )
    at: Mapped[datetime] = mapped_column(UTCDateTime)
    actor: Mapped[str] = mapped_column(String(255))
    from_status: Mapped[str | None] = mapped_column(String(16))
    to_status: Mapped[str] = mapped_column(String(16))
    comment: Mapped[str] = mapped_column(Text, default="")


class SilenceRow(Base):
    """A silence (or recurring maintenance window) suppressing the alerts it matches."""

    __tablename__ = "silences"

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=uuid.uuid4)
    matchers: Mapped[dict[str, Any]] = mapped_column(JSONType)
    starts_at: Mapped[datetime] = mapped_column(UTCDateTime)
    ends_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
    weekly: Mapped[dict[str, Any] | None] = mapped_column(JSONType)
    author: Mapped[str] = mapped_column(String(255))
    comment: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    version: Mapped[int] = mapped_column(Integer, default=1)


# --- monitoring ------------------------------------------------------------------------


class MonitorRow(Versioned, Base):
    """A monitor definition; ``document`` is the validated YAML/JSON as given."""

    __tablename__ = "monitors"
    __mapper_args__ = {"version_id_col": Versioned.version}  # noqa: RUF012

    name: Mapped[str] = mapped_column(String(255), unique=True)
    kind: Mapped[str] = mapped_column(String(16))
    enabled: Mapped[bool] = mapped_column(Boolean, default=True)
    document: Mapped[dict[str, Any]] = mapped_column(JSONType)


class AlertRuleRow(Versioned, Base):
    """A threshold rule; ``document`` is the validated YAML/JSON as given."""

    __tablename__ = "alert_rules"
    __mapper_args__ = {"version_id_col": Versioned.version}  # noqa: RUF012

    name: Mapped[str] = mapped_column(String(255), unique=True)
    enabled: Mapped[bool] = mapped_column(Boolean, default=True)
    document: Mapped[dict[str, Any]] = mapped_column(JSONType)


class SampleRow(Base):
    """One stored value of a series; the key is the graphs' query shape."""

    __tablename__ = "samples"
    __table_args__ = (Index("ix_samples_ts", "ts"),)  # retention and rollup scans

    target_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("targets.id", ondelete="CASCADE"), primary_key=True
    )
    series: Mapped[str] = mapped_column(String(255), primary_key=True)
    ts: Mapped[datetime] = mapped_column(UTCDateTime, primary_key=True)
    value: Mapped[float] = mapped_column(Float)


class RollupRow(Base):
    """Five-minute min/avg/max of a series, kept longer than the raw samples."""

    __tablename__ = "sample_rollups"
    __table_args__ = (Index("ix_sample_rollups_bucket", "bucket"),)

    target_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("targets.id", ondelete="CASCADE"), primary_key=True
    )
    series: Mapped[str] = mapped_column(String(255), primary_key=True)
    bucket: Mapped[datetime] = mapped_column(UTCDateTime, primary_key=True)
    count: Mapped[int] = mapped_column(Integer)
    minimum: Mapped[float] = mapped_column(Float)
    average: Mapped[float] = mapped_column(Float)
    maximum: Mapped[float] = mapped_column(Float)


class SeriesRow(Base):
    """The catalogue of series per target, with the latest value (sparklines, pickers)."""

    __tablename__ = "metric_series"

    target_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("targets.id", ondelete="CASCADE"), primary_key=True
    )
    series: Mapped[str] = mapped_column(String(255), primary_key=True)
    monitor: Mapped[str] = mapped_column(String(255))
    last_at: Mapped[datetime] = mapped_column(UTCDateTime)
    last_value: Mapped[float] = mapped_column(Float)


class CheckStateRow(Base):
    """Where one monitor stands on one target: the per-target error state."""

    __tablename__ = "check_states"

    monitor_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("monitors.id", ondelete="CASCADE"), primary_key=True
    )
    target_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("targets.id", ondelete="CASCADE"), primary_key=True, index=True
    )
    ok: Mapped[bool] = mapped_column(Boolean)
    last_at: Mapped[datetime] = mapped_column(UTCDateTime)
    last_ok_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    failures: Mapped[int] = mapped_column(Integer, default=0)
    duration_ms: Mapped[float] = mapped_column(Float, default=0.0)
    error: Mapped[str] = mapped_column(Text, default="")


# --- connectors ------------------------------------------------------------------------


class ConnectorRow(Versioned, Base):
    """An alert source: a manifest (kept as given), its settings, and its health."""

    __tablename__ = "connectors"
    __mapper_args__ = {"version_id_col": Versioned.version}  # noqa: RUF012

    name: Mapped[str] = mapped_column(String(255), unique=True)
    manifest_id: Mapped[str] = mapped_column(String(128))
    manifest_version: Mapped[str] = mapped_column(String(32), default="")
    kind: Mapped[str] = mapped_column(String(16))
    enabled: Mapped[bool] = mapped_column(Boolean, default=True)
    manifest: Mapped[dict[str, Any]] = mapped_column(JSONType)
    settings: Mapped[dict[str, Any]] = mapped_column(JSONType, default=dict)
    state: Mapped[str] = mapped_column(String(16), default="unknown")
    last_poll_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_success_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_error: Mapped[str] = mapped_column(Text, default="")
    failures: Mapped[int] = mapped_column(Integer, default=0)
    counters: Mapped[dict[str, Any]] = mapped_column(JSONType, default=dict)
