"""Monitoring YAML files as the pane writes them, and the words it uses about imports.

An export holds one section (``monitors:`` or ``rules:``) with the stored documents as
given, so importing it again — here or with ``opsconductor monitors import`` — reports
every item ``unchanged``.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Sequence
from typing import Any

import yaml

from opsconductor_desktop.domain.monitors import MonitorKind, ProbeMethod, SnmpMetric
from opsconductor_desktop.domain.timeutil import to_local, utcnow
from opsconductor_desktop.gui.monitoring.common import plain
from opsconductor_desktop.services.monitoring import MonitorInfo, RuleInfo


def export_text(section: str, items: Sequence[MonitorInfo | RuleInfo]) -> str:
    """A YAML file of the items' documents under ``section`` (monitors or rules)."""
    docs = []
    for item in items:
        source = item.monitor.source if isinstance(item, MonitorInfo) else item.rule.source
        doc = plain(source)
        doc.setdefault("name", item.name)
        docs.append(doc)
    stamp = to_local(utcnow()).strftime("%Y-%m-%d %H:%M")
    head = f"# OpsConductor {section}, exported {stamp} (local time)\n"
    body = yaml.safe_dump({section: docs}, sort_keys=False, allow_unicode=True, width=100)
    return head + body


def metric_names(monitors: Iterable[MonitorInfo]) -> list[str]:
    """Series names the monitors produce (walked columns as ``NAME.*``), for completion."""
    names: set[str] = set()
    for info in monitors:
        monitor = info.monitor
        if monitor.kind is MonitorKind.REACHABILITY:
            tcp = monitor.method is ProbeMethod.TCP
            names.add("tcp_connect_ms" if tcp else "rtt_ms")
        for metric in monitor.metrics:
            walked = isinstance(metric, SnmpMetric) and metric.walk
            names.add(f"{metric.name}.*" if walked else metric.name)
    return sorted(names, key=str.lower)


def import_summary(report: Iterable[tuple[str, str, Any]]) -> str:
    """``Imported: 2 monitor(s) created, 1 rule(s) unchanged, 1 silence(s) added``."""
    counts = Counter((what, outcome) for what, _name, outcome in report)
    if not counts:
        return "Nothing imported"
    parts = [f"{n} {what}(s) {outcome}" for (what, outcome), n in sorted(counts.items())]
    return "Imported: " + ", ".join(parts)
