"""monitoring

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-22 21:47:10.803429
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

import opsconductor_desktop.store.types

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("alerts", schema=None) as batch_op:
        batch_op.create_index(
            "ix_alerts_open_last_seen",
            ["last_seen"],
            unique=False,
            sqlite_where=sa.text("status != 'resolved'"),
            postgresql_where=sa.text("status != 'resolved'"),
        )
        batch_op.create_index(
            "ix_alerts_open_severity_last_seen",
            ["severity", "last_seen"],
            unique=False,
            sqlite_where=sa.text("status != 'resolved'"),
            postgresql_where=sa.text("status != 'resolved'"),
        )
        batch_op.create_index("ix_alerts_status_last_seen", ["status", "last_seen"], unique=False)
        batch_op.create_index(
            "ix_alerts_target_name_status", ["target_name", "status"], unique=False
        )
        batch_op.create_index("ix_alerts_source_status", ["source", "status"], unique=False)
    with op.batch_alter_table("schedules", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column(
                "last_run_at",
                opsconductor_desktop.store.types.UTCDateTime(timezone=True),
                nullable=True,
            )
        )
        batch_op.add_column(sa.Column("last_status", sa.String(length=16), nullable=True))
        batch_op.add_column(sa.Column("last_error", sa.Text(), nullable=False, server_default=""))
    op.create_table(
        "alert_rules",
        sa.Column("name", sa.String(length=255), nullable=False),
        sa.Column("enabled", sa.Boolean(), nullable=False),
        sa.Column(
            "document",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=False,
        ),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column(
            "created_at",
            opsconductor_desktop.store.types.UTCDateTime(timezone=True),
            nullable=False,
        ),
        sa.Column(
            "updated_at",
            opsconductor_desktop.store.types.UTCDateTime(timezone=True),
            nullable=False,
        ),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_alert_rules")),
        sa.UniqueConstraint("name", name=op.f("uq_alert_rules_name")),
    )
    op.create_table(
        "monitors",
        sa.Column("name", sa.String(length=255), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("enabled", sa.Boolean(), nullable=False),
        sa.Column(
            "document",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=False,
        ),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column(
            "created_at",
            opsconductor_desktop.store.types.UTCDateTime(timezone=True),
            nullable=False,
        ),
        sa.Column(
            "updated_at",
            opsconductor_desktop.store.types.UTCDateTime(timezone=True),
            nullable=False,
        ),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_monitors")),
        sa.UniqueConstraint("name", name=op.f("uq_monitors_name")),
    )
    op.create_table(
        "check_states",
        sa.Column("monitor_id", sa.Uuid(), nullable=False),
        sa.Column("target_id", sa.Uuid(), nullable=False),
        sa.Column("ok", sa.Boolean(), nullable=False),
        sa.Column(
            "last_at", opsconductor_desktop.store.types.UTCDateTime(timezone=True), nullable=False
        ),
        sa.Column(
            "last_ok_at", opsconductor_desktop.store.types.UTCDateTime(timezone=True), nullable=True
        ),
        sa.Column("failures", sa.Integer(), nullable=False),
        sa.Column("duration_ms", sa.Float(), nullable=False),
        sa.Column("error", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(
            ["monitor_id"],
            ["monitors.id"],
            name=op.f("fk_check_states_monitor_id_monitors"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["target_id"],
            ["targets.id"],
            name=op.f("fk_check_states_target_id_targets"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("monitor_id", "target_id", name=op.f("pk_check_states")),
    )
    with op.batch_alter_table("check_states", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_check_states_target_id"), ["target_id"], unique=False)

    op.create_table(
        "metric_series",
        sa.Column("target_id", sa.Uuid(), nullable=False),
        sa.Column("series", sa.String(length=255), nullable=False),
        sa.Column("monitor", sa.String(length=255), nullable=False),
        sa.Column(
            "last_at", opsconductor_desktop.store.types.UTCDateTime(timezone=True), nullable=False
        ),
        sa.Column("last_value", sa.Float(), nullable=False),
        sa.ForeignKeyConstraint(
            ["target_id"],
            ["targets.id"],
            name=op.f("fk_metric_series_target_id_targets"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("target_id", "series", name=op.f("pk_metric_series")),
    )
    op.create_table(
        "sample_rollups",
        sa.Column("target_id", sa.Uuid(), nullable=False),
        sa.Column("series", sa.String(length=255), nullable=False),
        sa.Column(
            "bucket", opsconductor_desktop.store.types.UTCDateTime(timezone=True), nullable=False
        ),
        sa.Column("count", sa.Integer(), nullable=False),
        sa.Column("minimum", sa.Float(), nullable=False),
        sa.Column("average", sa.Float(), nullable=False),
        sa.Column("maximum", sa.Float(), nullable=False),
        sa.ForeignKeyConstraint(
            ["target_id"],
            ["targets.id"],
            name=op.f("fk_sample_rollups_target_id_targets"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("target_id", "series", "bucket", name=op.f("pk_sample_rollups")),
    )
    with op.batch_alter_table("sample_rollups", schema=None) as batch_op:
        batch_op.create_index("ix_sample_rollups_bucket", ["bucket"], unique=False)

    op.create_table(
        "samples",
        sa.Column("target_id", sa.Uuid(), nullable=False),
        sa.Column("series", sa.String(length=255), nullable=False),
        sa.Column(
            "ts", opsconductor_desktop.store.types.UTCDateTime(timezone=True), nullable=False
        ),
        sa.Column("value", sa.Float(), nullable=False),
        sa.ForeignKeyConstraint(
            ["target_id"],
            ["targets.id"],
            name=op.f("fk_samples_target_id_targets"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("target_id", "series", "ts", name=op.f("pk_samples")),
    )
    with op.batch_alter_table("samples", schema=None) as batch_op:
        batch_op.create_index("ix_samples_ts", ["ts"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("alerts", schema=None) as batch_op:
        for name in (
            "ix_alerts_source_status",
            "ix_alerts_target_name_status",
            "ix_alerts_status_last_seen",
            "ix_alerts_open_severity_last_seen",
            "ix_alerts_open_last_seen",
        ):
            batch_op.drop_index(name)
    with op.batch_alter_table("schedules", schema=None) as batch_op:
        batch_op.drop_column("last_error")
        batch_op.drop_column("last_status")
        batch_op.drop_column("last_run_at")
    with op.batch_alter_table("samples", schema=None) as batch_op:
        batch_op.drop_index("ix_samples_ts")

    op.drop_table("samples")
    with op.batch_alter_table("sample_rollups", schema=None) as batch_op:
        batch_op.drop_index("ix_sample_rollups_bucket")

    op.drop_table("sample_rollups")
    op.drop_table("metric_series")
    with op.batch_alter_table("check_states", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_check_states_target_id"))

    op.drop_table("check_states")
    op.drop_table("monitors")
    op.drop_table("alert_rules")
