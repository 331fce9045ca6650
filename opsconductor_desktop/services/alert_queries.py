"""How the Alerts pane's filters and sort orders become SQL, with the indexes in mind.

The pane never loads every alert: it asks for a page at a time, filtered and sorted by the
database (a NOC database keeps hundreds of thousands of resolved alerts). The statements
are shaped for the indexes on ``alerts``:

* "open" is written ``status != 'resolved'`` with a literal, not a bound parameter, so
  that the partial indexes on open alerts (``last_seen``; ``severity, last_seen``) can
  serve the default view, the worst-first order and the status bar's counts;
* one status has ``(status, last_seen)``; a source ``(source, status)``; a target or a
  group's members ``(target_name, status)``;
* every order ends with ``last_seen DESC, id`` so pages are stable and never overlap.

Free text is a substring match (``LIKE``/``ILIKE``) on summary, key and target: a scan,
which is why the pane applies it after a short pause in typing. SQLite's planner would
rather walk the ``last_seen`` index and look up every row than scan and sort the few that
match (six times slower on 100,000 alerts); with text, the order is written ``+column``
there, which it cannot take from an index.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import ColumnElement, case, literal_column, or_

from opsconductor_desktop.domain.alerts import AlertStatus, Severity
from opsconductor_desktop.domain.errors import ValidationError
from opsconductor_desktop.store.models import AlertRow

#: the status filters the pane offers: "open" is every status but resolved
STATUS_FILTERS = ("open", "active", "acknowledged", "suppressed", "resolved", "all")
#: the orders the pane can ask for (its sortable columns)
SORT_KEYS = (
    "severity",
    "status",
    "target",
    "source",
    "summary",
    "count",
    "first_seen",
    "last_seen",
    "ack_by",
)
#: at most this many target names in one query (a larger group is refused, not truncated)
MAX_TARGETS = 20_000

OPEN = AlertRow.status != literal_column("'resolved'")
_STATUS_RANK = case(
    {
        AlertStatus.ACTIVE.value: 0,
        AlertStatus.ACKNOWLEDGED.value: 1,
        AlertStatus.SUPPRESSED.value: 2,
        AlertStatus.RESOLVED.value: 3,
    },
    value=AlertRow.status,
    else_=4,
)
_SORT_COLUMNS: dict[str, Any] = {
    "severity": AlertRow.severity,
    "status": _STATUS_RANK,
    "target": AlertRow.target_name,
    "source": AlertRow.source,
    "summary": AlertRow.summary,
    "count": AlertRow.count,
    "first_seen": AlertRow.first_seen,
    "last_seen": AlertRow.last_seen,
    "ack_by": AlertRow.ack_by,
}


@dataclass(frozen=True, slots=True)
class AlertQuery:
    """Which alerts, in which order: what the Alerts pane's filter bar and header say.

    ``status`` is one of ``STATUS_FILTERS``; ``min_severity`` keeps that level and above;
    ``targets`` is None for any target, else the names to keep (a group's members — an
    empty tuple matches nothing); ``text`` is a case-insensitive substring of the summary,
    key or target; ``sort`` is one of ``SORT_KEYS``.
    """

    status: str = "open"
    min_severity: Severity | None = None
    source: str | None = None
    targets: tuple[str, ...] | None = None
    text: str = ""
    sort: str = "last_seen"
    descending: bool = True

    def __post_init__(self) -> None:
        if self.status not in STATUS_FILTERS:
            raise ValidationError(
                f"unknown status filter {self.status!r}; one of {', '.join(STATUS_FILTERS)}"
            )
        if self.sort not in SORT_KEYS:
            raise ValidationError(f"cannot sort alerts by {self.sort!r}")
        if self.targets is not None and len(self.targets) > MAX_TARGETS:
            raise ValidationError(
                f"{len(self.targets):,} targets are too many for one filter "
                f"(at most {MAX_TARGETS:,}); choose a smaller group"
            )


def where(query: AlertQuery, dialect: str) -> list[ColumnElement[bool]]:
    """The WHERE terms of ``query`` (``dialect`` picks the case-insensitive match)."""
    terms = status_terms(query.status)
    if query.min_severity is not None:
        terms.append(AlertRow.severity >= int(query.min_severity))
    if query.source:
        terms.append(AlertRow.source == query.source)
    if query.targets is not None:
        terms.append(AlertRow.target_name.in_(list(query.targets)))
    if query.text.strip():
        terms.append(text_term(query.text.strip(), dialect))
    return terms


def status_terms(status: str | AlertStatus | Sequence[str | AlertStatus] | None) -> list[Any]:
    """``open``, ``all`` (or None), one status or several."""
    if status is None:
        return []
    values = [status] if isinstance(status, str) else list(status)
    lowered = [str(v).lower() for v in values]
    if "all" in lowered:
        return []
    if "open" in lowered:
        return [OPEN]
    try:
        statuses = [AlertStatus(v).value for v in lowered]
    except ValueError:
        names = ", ".join(s.value for s in AlertStatus)
        raise ValidationError(f"unknown status {status!r}; one of open, {names}") from None
    if len(statuses) == 1:
        return [AlertRow.status == statuses[0]]
    return [AlertRow.status.in_(statuses)]


def text_term(text: str, dialect: str) -> ColumnElement[bool]:
    """A substring of summary, key or target, ignoring case.

    SQLite's ``LIKE`` already ignores ASCII case (``ILIKE`` would wrap every value in
    ``lower()``, a third slower over a big table); PostgreSQL needs ``ILIKE``.
    """
    escaped = text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    pattern = f"%{escaped}%"
    columns = (AlertRow.summary, AlertRow.key, AlertRow.target_name)
    if dialect == "sqlite":
        return or_(*(c.like(pattern, escape="\\") for c in columns))
    return or_(*(c.ilike(pattern, escape="\\") for c in columns))


def order(query: AlertQuery, dialect: str = "") -> list[Any]:
    """ORDER BY terms: the chosen column, then newest first, then id (stable pages)."""
    scan = dialect == "sqlite" and bool(query.text.strip())
    column = _SORT_COLUMNS[query.sort]
    if scan and query.sort != "status":
        column = _unindexed(column)
    first = column.desc() if query.descending else column.asc()
    if query.sort == "last_seen":
        return [first, AlertRow.id]
    last_seen = _unindexed(AlertRow.last_seen) if scan else AlertRow.last_seen
    return [first, last_seen.desc(), AlertRow.id]


def _unindexed(column: Any) -> Any:
    """``+alerts.column``: the same value, but SQLite will not walk an index for it."""
    return literal_column(f"+{AlertRow.__tablename__}.{column.key}")


def total_from_counts(query: AlertQuery, counts: dict[Severity, int]) -> int | None:
    """How many match, from the open counts per severity, when the query is "open alerts
    (of this severity and above)" — the default view, refreshed on every change."""
    if query.status != "open" or query.source or query.targets is not None or query.text:
        return None
    floor = query.min_severity or Severity.CLEAR
    return sum(n for severity, n in counts.items() if severity >= floor)
