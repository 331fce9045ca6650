"""Exporting a run: JSON with every target and step, or CSV with one row per target × step.

Output is decoded as UTF-8 with replacement; JSON also keeps binary output exactly (as
base64) so nothing is lost. Timestamps are ISO 8601 in UTC.
"""

from __future__ import annotations

import asyncio
import base64
import csv
import io
import json
from datetime import datetime
from pathlib import Path
from typing import Any

from opsconductor_desktop.domain.errors import ValidationError
from opsconductor_desktop.gui.jobs.common import looks_binary
from opsconductor_desktop.services.jobs import RunInfo, RunTargetInfo, StepInfo

CSV_FIELDS = (
    "target",
    "address",
    "step",
    "status",
    "exit",
    "duration_ms",
    "error",
    "output",
)
CSV_OUTPUT_CHARS = 200


def _iso(moment: datetime | None) -> str | None:
    return moment.isoformat() if moment is not None else None


def _stream(step: StepInfo, name: str) -> dict[str, Any]:
    data: bytes = getattr(step, name)
    out: dict[str, Any] = {
        name: data.decode("utf-8", "replace"),
        f"{name}_truncated": getattr(step, f"{name}_truncated"),
    }
    if looks_binary(data):
        out[f"{name}_base64"] = base64.b64encode(data).decode("ascii")
    return out


def _step_json(step: StepInfo) -> dict[str, Any]:
    return {
        "index": step.index,
        "name": step.name,
        "type": step.type,
        "status": step.status.value,
        "exit_status": step.exit_status,
        "duration_ms": step.duration_ms,
        "error": step.error,
        **_stream(step, "stdout"),
        **_stream(step, "stderr"),
        "data": dict(step.data),
    }


def run_document(run: RunInfo, targets: list[RunTargetInfo]) -> dict[str, Any]:
    """The whole run as plain JSON-able data."""
    return {
        "run": {
            "id": str(run.id),
            "job": run.job_name,
            "status": run.status.value,
            "by": run.actor,
            "created_at": _iso(run.created_at),
            "started_at": _iso(run.started_at),
            "finished_at": _iso(run.finished_at),
            "total": run.total,
            "succeeded": run.succeeded,
            "failed": run.failed,
            "cancelled": run.cancelled,
            "selection": dict(run.selection),
            "rerun_of": str(run.rerun_of) if run.rerun_of else None,
        },
        "targets": [
            {
                "name": t.name,
                "address": t.address,
                "status": t.status.value,
                "started_at": _iso(t.started_at),
                "finished_at": _iso(t.finished_at),
                "error": t.error,
                "steps": [_step_json(s) for s in t.steps],
            }
            for t in targets
        ],
    }


def _output_head(step: StepInfo) -> str:
    data = step.stdout or step.stderr
    if looks_binary(data):
        return f"[binary output, {len(data)} bytes]"
    return data.decode("utf-8", "replace")[:CSV_OUTPUT_CHARS]


def run_csv(targets: list[RunTargetInfo]) -> str:
    """One row per target and step (a target no step ran on gets one row of its own)."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(CSV_FIELDS)
    for target in targets:
        if not target.steps:
            writer.writerow(
                [
                    target.name,
                    target.address,
                    "",
                    target.status.value,
                    "",
                    "",
                    target.error or "",
                    "",
                ]
            )
        for step in target.steps:
            writer.writerow(
                [
                    target.name,
                    target.address,
                    step.name,
                    step.status.value,
                    "" if step.exit_status is None else step.exit_status,
                    "" if step.duration_ms is None else round(step.duration_ms, 1),
                    step.error or "",
                    _output_head(step),
                ]
            )
    return buffer.getvalue()


def export_text(path: str, run: RunInfo, targets: list[RunTargetInfo]) -> str:
    """The file's content, by its suffix (.json or .csv)."""
    suffix = Path(path).suffix.lower()
    if suffix == ".json":
        return json.dumps(run_document(run, targets), indent=2, ensure_ascii=False) + "\n"
    if suffix == ".csv":
        return run_csv(targets)
    raise ValidationError(f"{path}: export as .json or .csv", field="path")


async def export_run(path: str, run: RunInfo, targets: list[RunTargetInfo]) -> int:
    """Write the run to ``path`` (off the loop's thread); returns the number of targets."""
    text = export_text(path, run, targets)

    def write() -> None:
        Path(path).write_text(text, encoding="utf-8", newline="")

    try:
        await asyncio.to_thread(write)
    except OSError as exc:
        raise ValidationError(f"cannot write {path}: {exc.strerror or exc}", field="path") from None
    return len(targets)
