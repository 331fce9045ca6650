"""job runs

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-22 19:57:37.838702
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

import opsconductor_desktop.store.types

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "jobs",
        sa.Column("name", sa.String(length=255), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column(
            "definition",
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
        sa.PrimaryKeyConstraint("id", name=op.f("pk_jobs")),
        sa.UniqueConstraint("name", name=op.f("uq_jobs_name")),
    )
    op.create_table(
        "job_runs",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("job_id", sa.Uuid(), nullable=True),
        sa.Column("job_name", sa.String(length=255), nullable=False),
        sa.Column(
            "definition",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=False,
        ),
        sa.Column(
            "selection",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=False,
        ),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("actor", sa.String(length=255), nullable=False),
        sa.Column("owner", sa.String(length=128), nullable=True),
        sa.Column("rerun_of", sa.Uuid(), nullable=True),
        sa.Column(
            "created_at",
            opsconductor_desktop.store.types.UTCDateTime(timezone=True),
            nullable=False,
        ),
        sa.Column(
            "started_at", opsconductor_desktop.store.types.UTCDateTime(timezone=True), nullable=True
        ),
        sa.Column(
            "finished_at",
            opsconductor_desktop.store.types.UTCDateTime(timezone=True),
            nullable=True,
        ),
        sa.Column("total", sa.Integer(), nullable=False),
        sa.Column("succeeded", sa.Integer(), nullable=False),
        sa.Column("failed", sa.Integer(), nullable=False),
        sa.Column("cancelled", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["job_id"], ["jobs.id"], name=op.f("fk_job_runs_job_id_jobs"), ondelete="SET NULL"
        ),
        sa.ForeignKeyConstraint(
            ["rerun_of"],
            ["job_runs.id"],
            name=op.f("fk_job_runs_rerun_of_job_runs"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_job_runs")),
    )
    with op.batch_alter_table("job_runs", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_job_runs_created_at"), ["created_at"], unique=False)
        batch_op.create_index(batch_op.f("ix_job_runs_job_id"), ["job_id"], unique=False)
        batch_op.create_index(
            "ix_job_runs_status_started_at", ["status", "started_at"], unique=False
        )

    op.create_table(
        "job_run_targets",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("run_id", sa.Uuid(), nullable=False),
        sa.Column("target_id", sa.Uuid(), nullable=True),
        sa.Column("target_name", sa.String(length=255), nullable=False),
        sa.Column("address", sa.String(length=255), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("current_step", sa.Integer(), nullable=True),
        sa.Column(
            "started_at", opsconductor_desktop.store.types.UTCDateTime(timezone=True), nullable=True
        ),
        sa.Column(
            "finished_at",
            opsconductor_desktop.store.types.UTCDateTime(timezone=True),
            nullable=True,
        ),
        sa.Column("error", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(
            ["run_id"],
            ["job_runs.id"],
            name=op.f("fk_job_run_targets_run_id_job_runs"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["target_id"],
            ["targets.id"],
            name=op.f("fk_job_run_targets_target_id_targets"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_job_run_targets")),
        sa.UniqueConstraint(
            "run_id", "target_name", name=op.f("uq_job_run_targets_run_id_target_name")
        ),
    )
    with op.batch_alter_table("job_run_targets", schema=None) as batch_op:
        batch_op.create_index(
            "ix_job_run_targets_run_id_status", ["run_id", "status"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_job_run_targets_target_id"), ["target_id"], unique=False
        )

    op.create_table(
        "step_results",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("run_target_id", sa.Uuid(), nullable=False),
        sa.Column("step_index", sa.Integer(), nullable=False),
        sa.Column("step_name", sa.String(length=255), nullable=False),
        sa.Column("step_type", sa.String(length=32), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("exit_status", sa.Integer(), nullable=True),
        sa.Column("stdout", sa.LargeBinary(), nullable=False),
        sa.Column("stderr", sa.LargeBinary(), nullable=False),
        sa.Column("stdout_truncated", sa.Boolean(), nullable=False),
        sa.Column("stderr_truncated", sa.Boolean(), nullable=False),
        sa.Column(
            "data",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=True,
        ),
        sa.Column("error", sa.Text(), nullable=True),
        sa.Column("duration_ms", sa.Float(), nullable=True),
        sa.Column(
            "started_at",
            opsconductor_desktop.store.types.UTCDateTime(timezone=True),
            nullable=False,
        ),
        sa.Column(
            "finished_at",
            opsconductor_desktop.store.types.UTCDateTime(timezone=True),
            nullable=True,
        ),
        sa.ForeignKeyConstraint(
            ["run_target_id"],
            ["job_run_targets.id"],
            name=op.f("fk_step_results_run_target_id_job_run_targets"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_step_results")),
        sa.UniqueConstraint(
            "run_target_id", "step_index", name=op.f("uq_step_results_run_target_id_step_index")
        ),
    )


def downgrade() -> None:
    op.drop_table("step_results")
    with op.batch_alter_table("job_run_targets", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_job_run_targets_target_id"))
        batch_op.drop_index("ix_job_run_targets_run_id_status")

    op.drop_table("job_run_targets")
    with op.batch_alter_table("job_runs", schema=None) as batch_op:
        batch_op.drop_index("ix_job_runs_status_started_at")
        batch_op.drop_index(batch_op.f("ix_job_runs_job_id"))
        batch_op.drop_index(batch_op.f("ix_job_runs_created_at"))

    op.drop_table("job_runs")
    op.drop_table("jobs")
