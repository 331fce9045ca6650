"""Groups of targets: static members, an optional dynamic rule, and group variables."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any
from uuid import UUID

from opsconductor_desktop.domain.rules import Rule


@dataclass(frozen=True, slots=True)
class GroupSpec:
    """The operator-editable fields of a group."""

    name: str
    description: str = ""
    rule: Rule | None = None
    vars: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class Group:
    """A stored group as the services return it.

    ``static_count`` counts explicit members; ``member_count`` counts the effective
    members (static ∪ rule matches).
    """

    id: UUID
    name: str
    description: str
    rule: Rule | None
    vars: Mapping[str, Any]
    static_count: int
    member_count: int
    version: int
    created_at: datetime
    updated_at: datetime

    @property
    def dynamic(self) -> bool:
        return self.rule is not None
