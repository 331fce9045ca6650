"""Table models of the Groups pane: groups, targets and a group's effective members."""

from __future__ import annotations

from dataclasses import dataclass
from uuid import UUID

from PySide6.QtCore import QModelIndex, QPersistentModelIndex
from PySide6.QtWidgets import QWidget

from opsconductor_desktop.domain import rules
from opsconductor_desktop.domain.errors import ValidationError
from opsconductor_desktop.domain.groups import Group
from opsconductor_desktop.domain.rules import Rule
from opsconductor_desktop.domain.targets import Target
from opsconductor_desktop.gui.keyed_model import ITEM_ROLE, Column, FilterProxy, KeyedTableModel


def _rule_text(group: Group) -> str:
    return str(group.rule) if group.rule is not None else ""


GROUP_COLUMNS: list[Column[Group]] = [
    Column("Name", lambda g: g.name),
    Column(
        "Members", lambda g: str(g.member_count), sort=lambda g: g.member_count, align_right=True
    ),
    Column(
        "Static", lambda g: str(g.static_count), sort=lambda g: g.static_count, align_right=True
    ),
    Column("Rule", _rule_text, tooltip=lambda g: _rule_text(g) or "no rule: static members only"),
    Column("Description", lambda g: g.description, tooltip=lambda g: g.description),
]


class GroupsModel(KeyedTableModel[Group]):
    """Groups by id; columns name, members, static, rule, description."""

    NAME, MEMBERS, STATIC, RULE, DESCRIPTION = range(5)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(GROUP_COLUMNS, lambda g: g.id, parent)


def _target_summary(target: Target) -> str:
    parts = [str(target.kind), target.vendor, target.site, ", ".join(target.tags)]
    return f"{target.name} ({target.address}): " + " · ".join(p for p in parts if p)


TARGET_COLUMNS: list[Column[Target]] = [
    Column("Name", lambda t: t.name, tooltip=_target_summary),
    Column("Address", lambda t: t.address),
    Column("Kind", lambda t: str(t.kind)),
    Column("Vendor", lambda t: t.vendor),
    Column("Site", lambda t: t.site),
    Column("Tags", lambda t: ", ".join(t.tags)),
]


class TargetsModel(KeyedTableModel[Target]):
    """Targets by id with the columns a rule can test."""

    def __init__(
        self, parent: QWidget | None = None, *, columns: int = len(TARGET_COLUMNS)
    ) -> None:
        super().__init__(TARGET_COLUMNS[:columns], lambda t: t.id, parent)


@dataclass(frozen=True, slots=True)
class Member:
    """An effective member of a group and how it got there."""

    target: Target
    static: bool
    by_rule: bool

    @property
    def via(self) -> str:
        if self.static and self.by_rule:
            return "static + rule"
        return "static" if self.static else "rule"


MEMBER_COLUMNS: list[Column[Member]] = [
    Column("Name", lambda m: m.target.name),
    Column("Address", lambda m: m.target.address),
    Column("Kind", lambda m: str(m.target.kind)),
    Column("Site", lambda m: m.target.site),
    Column(
        "Via",
        lambda m: m.via,
        tooltip=lambda m: {
            "static": "added by hand",
            "rule": "matched by the group's rule",
            "static + rule": "added by hand and matched by the rule",
        }[m.via],
    ),
]


class MembersModel(KeyedTableModel[Member]):
    """A group's effective members: static ∪ rule matches, with where each came from."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(MEMBER_COLUMNS, lambda m: m.target.id, parent)


def effective_members(group: Group, targets: list[Target], static_ids: set[UUID]) -> list[Member]:
    """Static members plus the targets the group's rule matches (same as the service)."""
    out: list[Member] = []
    for target in targets:
        static = target.id in static_ids
        by_rule = group.rule is not None and group.rule.matches(target)
        if static or by_rule:
            out.append(Member(target, static, by_rule))
    return out


class TargetFilterProxy(FilterProxy):
    """Filters targets by text (name, address, kind, vendor, site, tags) or by a rule.

    Text with a ``field:`` in it that parses as a rule (``site:ams1 and kind:switch``)
    filters by that rule; anything else is a case-insensitive substring.
    """

    def __init__(self, source: KeyedTableModel[Target], parent: QWidget | None = None) -> None:
        super().__init__(source, parent)
        self._needle = ""
        self._rule: Rule | None = None
        self.rule_error: str | None = None

    def set_query(self, text: str) -> None:
        changing = hasattr(self, "beginFilterChange")  # Qt 6.10+; invalidateFilter before
        if changing:
            self.beginFilterChange()
        self._needle = text.strip().lower()
        self._rule, self.rule_error = None, None
        if ":" in self._needle:
            try:
                self._rule = rules.parse(text)
            except ValidationError as exc:
                self.rule_error = str(exc)
        if changing:
            self.endFilterChange()
        else:
            self.invalidateFilter()

    def filterAcceptsRow(
        self, source_row: int, source_parent: QModelIndex | QPersistentModelIndex
    ) -> bool:
        if not self._needle:
            return True
        target = self.sourceModel().index(source_row, 0, source_parent).data(ITEM_ROLE)
        if not isinstance(target, Target):
            return False
        if self._rule is not None:
            return self._rule.matches(target)
        hay = (
            target.name,
            target.address,
            str(target.kind),
            target.vendor,
            target.site,
            *target.tags,
        )
        return any(self._needle in part.lower() for part in hay)
