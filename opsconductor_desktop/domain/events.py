"""What changed: the typed events services publish after a commit.

Panes subscribe and refresh only when an event concerns them (Anki's ``OpChanges`` idea).
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from uuid import UUID


class Entity(StrEnum):
    """The kinds of stored object an event can be about."""

    TARGET = "target"
    GROUP = "group"
    CREDENTIAL = "credential"
    JOB = "job"
    JOB_RUN = "job_run"
    ALERT = "alert"
    SILENCE = "silence"
    MONITOR = "monitor"
    ALERT_RULE = "alert_rule"
    CONNECTOR = "connector"
    METRIC = "metric"  # samples written (graphs refresh); no audit entries


class Action(StrEnum):
    """What happened to them."""

    CREATED = "created"
    UPDATED = "updated"
    DELETED = "deleted"


@dataclass(frozen=True, slots=True)
class Changed:
    """Objects of one entity were created, updated or deleted.

    ``ids`` is empty when the change came from another process and only the entity is known.
    ``external`` is true for changes noticed in the database rather than made here.
    """

    entity: Entity
    action: Action
    ids: tuple[UUID, ...] = ()
    external: bool = False
