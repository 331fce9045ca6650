"""Screenshots of the Jobs pane's dialogs and live view (``opsconductor gui --screenshot``).

Nothing is written to the database and nothing runs: the job shown is the first stored
one or an unsaved example, dialogs are closed without being accepted, and the live view
shows an example run built from the estate's target names.
"""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable, Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from PySide6.QtWidgets import QDialog, QWidget

from opsconductor_desktop.domain.jobs import RunStatus, StepType, parse_job
from opsconductor_desktop.domain.targets import Target
from opsconductor_desktop.gui.jobs.editor import JobEditorDialog
from opsconductor_desktop.gui.jobs.live import LiveRow
from opsconductor_desktop.gui.jobs.pane import JobsPane
from opsconductor_desktop.gui.jobs.run_dialog import RunDialog
from opsconductor_desktop.services.jobs import JobInfo

Shoot = Callable[[QWidget, Path, str], Awaitable[Path]]
VERSION_LINE = "Cisco IOS XE Software, Version 17.09.04a"


def example_document(targets: Sequence[Target]) -> dict[str, Any]:
    """A realistic job over the first targets of the estate."""
    return {
        "name": "show-version",
        "description": "Collect software versions and uptime",
        "select": {"targets": [t.name for t in targets[:3]]} if targets else {},
        "concurrency": 20,
        "failure_policy": "stop",
        "steps": [
            {
                "type": "ssh.command",
                "name": "version",
                "command": "show version | include Version",
                "timeout": 30,
                "expect": {"regex": r"Version \S+"},
                "capture": r"Version (?P<version>[^,\s]+)",
            },
            {"type": "snmp.get", "name": "uptime", "oids": ["1.3.6.1.2.1.1.3.0"]},
            {"type": "tcp.check", "name": "ssh-port", "port": 22},
        ],
    }


def example_job(pane: JobsPane, targets: Sequence[Target]) -> JobInfo:
    """The first stored job, or an unsaved example."""
    stored = pane.jobs_model.items()
    if stored:
        return min(stored, key=lambda j: j.name)
    definition = parse_job(example_document(targets))
    now = datetime.now(UTC)
    return JobInfo(uuid.uuid4(), definition.name, definition.description, definition, 1, now)


def example_rows(targets: Sequence[Target], count: int = 14) -> list[LiveRow]:
    """A run in progress: most targets done, two failed, some running, some waiting."""
    now = datetime.now(UTC)
    chosen = [(t.name, t.address) for t in targets[:count]] or [
        (f"ams1-edge-{n:02d}", f"10.20.0.{n}") for n in range(1, count + 1)
    ]
    failures = {
        3: (
            "% Invalid input detected at '^' marker.",
            r"version: output does not match /Version \S+/",
        ),
        9: ("", "version: timed out after 30 s (channel closed)"),
    }
    rows: list[LiveRow] = []
    for n, (name, address) in enumerate(chosen):
        started = now - timedelta(seconds=40 - n * 2.5)
        if n in failures:
            line, error = failures[n]
            finished = started + timedelta(seconds=30 if n == 9 else 0.8)
            rows.append(LiveRow(name, address, RunStatus.FAILED, 0, started, finished, line, error))
        elif n < len(chosen) - 5:
            done = started + timedelta(seconds=1.2 + n % 3)
            line = f"{address}:22 open, {1.1 + n % 4 * 0.7:.2f} ms"
            rows.append(LiveRow(name, address, RunStatus.SUCCEEDED, 2, started, done, line))
        elif n < len(chosen) - 2:
            began = now - timedelta(seconds=3 + n % 4)
            rows.append(LiveRow(name, address, RunStatus.RUNNING, 0, began, None, VERSION_LINE))
        else:
            rows.append(LiveRow(name, address))
    return rows


async def render_job_shots(pane: JobsPane, window: QWidget, out: Path, shoot: Shoot) -> list[Path]:
    """The job editor (valid and invalid), the run dialog and an example live run."""
    core = pane.core
    targets = await core.inventory.list_targets()
    groups = await core.inventory.list_groups()
    job = example_job(pane, targets)
    shots: list[Path] = []

    editor = JobEditorDialog(
        core, job, names=pane.jobs_model.names(), targets=targets, groups=groups, parent=window
    )
    shots.append(await shoot(editor, out, "dialog-job-editor"))
    editor.add_step(StepType.SNMP_GET)
    editor.step_form.oids_edit.setPlainText("1.3.6.1.2.1.1.5.0\nsysName.0")
    editor.validate()
    shots.append(await shoot(editor, out, "dialog-job-editor-invalid"))
    _dispose(editor)

    run = RunDialog(core, job.definition, targets, groups, window)
    await run.preview_now()
    shots.append(await shoot(run, out, "dialog-job-run"))
    _dispose(run)

    shown = pane.run_view.run_id is not None
    if not shown:
        steps = [s.name for s in job.definition.steps]
        pane.run_view.show_rows(job.name, steps, example_rows(targets), RunStatus.RUNNING)
    shots.append(await shoot(window, out, "pane-jobs-live-run"))
    if not shown:
        pane.run_view.show_run(None)
    return shots


def _dispose(dialog: QDialog) -> None:
    dialog.hide()
    dialog.deleteLater()
