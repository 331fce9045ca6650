"""The Monitoring pane's commands on monitors and rules: the operator's verbs.

New, edit, duplicate (an editor on a copy under a free name), enable/disable, delete
(after confirming), test a monitor on one target, import a YAML file (with a preview) and
export the selected (else the shown) definitions. Each command works on the pane's
current tab and selection; after a change it reloads the pane in turn with reloads
already under way and reports in the status bar.
"""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import TYPE_CHECKING, Any

from PySide6.QtWidgets import QDialog

from opsconductor_desktop.domain.errors import ValidationError
from opsconductor_desktop.gui.keyed_model import ITEM_ROLE
from opsconductor_desktop.gui.monitoring import files
from opsconductor_desktop.gui.monitoring.check_dialog import CheckDialog
from opsconductor_desktop.gui.monitoring.common import plain, unique_name
from opsconductor_desktop.gui.monitoring.import_dialog import ImportDialog
from opsconductor_desktop.gui.monitoring.monitor_editor import MonitorEditorDialog
from opsconductor_desktop.gui.monitoring.rule_editor import RuleEditorDialog
from opsconductor_desktop.gui.tasks import spawn
from opsconductor_desktop.gui.widgets import alive, ask, ask_file, confirm, dispose
from opsconductor_desktop.services.monitoring import MonitorInfo, RuleInfo

if TYPE_CHECKING:
    from opsconductor_desktop.gui.monitoring.pane import MonitoringPane

MONITORS, RULES, STATUS = range(3)  # the pane's tabs


class Commands:
    """See the module docstring."""

    def __init__(self, pane: MonitoringPane) -> None:
        self.pane = pane

    def _tell(self, text: str, timeout_ms: int) -> None:
        """A status bar message, unless the pane went away meanwhile."""
        if not self.pane.closed and alive(self.pane):
            self.pane.status_message.emit(text, timeout_ms)

    def new_item(self) -> None:
        if self.pane.current_tab() == RULES:
            spawn(self.edit_rule(None), on_error=self.pane.show_error, name="new rule")
        elif self.pane.current_tab() == MONITORS:
            spawn(self.edit_monitor(None), on_error=self.pane.show_error, name="new monitor")

    def edit_item(self) -> None:
        if self.pane.current_tab() == RULES:
            rules = self.pane.selected_rules()
            if rules:
                spawn(self.edit_rule(rules[0]), on_error=self.pane.show_error, name="edit rule")
            return
        monitors = self.pane.selected_monitors()
        if monitors:
            spawn(
                self.edit_monitor(monitors[0]), on_error=self.pane.show_error, name="edit monitor"
            )

    def duplicate_item(self) -> None:
        if self.pane.current_tab() == RULES and self.pane.selected_rules():
            rule = self.pane.selected_rules()[0]
            doc = plain(rule.rule.source)
            doc["name"] = unique_name(rule.name, self.pane.rules_model.names())
            spawn(self.edit_rule(None, doc), on_error=self.pane.show_error, name="duplicate rule")
        elif self.pane.current_tab() == MONITORS and self.pane.selected_monitors():
            info = self.pane.selected_monitors()[0]
            doc = plain(info.monitor.source)
            doc["name"] = unique_name(info.name, self.pane.monitors_model.names())
            spawn(self.edit_monitor(None, doc), on_error=self.pane.show_error, name="duplicate")

    async def _run_dialog(self, dialog: QDialog) -> tuple[int, Any, str]:
        self.pane.dialog = dialog
        try:
            code = await ask(dialog)
            saved, outcome = getattr(dialog, "result_info", None), getattr(dialog, "outcome", "")
        finally:
            self.pane.dialog = None
            dispose(dialog)
        return code, saved, outcome

    async def edit_monitor(
        self, info: MonitorInfo | None, doc: dict[str, Any] | None = None
    ) -> MonitorInfo | None:
        targets = await self.pane.core.inventory.list_targets()
        groups = await self.pane.core.inventory.list_groups()
        dialog = MonitorEditorDialog(
            self.pane.core,
            info,
            taken=self.pane.monitors_model.names(),
            targets=targets,
            groups=groups,
            doc=doc,
            parent=self.pane,
        )
        code, saved, outcome = await self._run_dialog(dialog)
        if code != QDialog.DialogCode.Accepted or saved is None:
            return None
        await self._after_save(MONITORS, saved.name, f"Monitor {saved.name} {outcome}")
        return saved if isinstance(saved, MonitorInfo) else None

    async def edit_rule(
        self, info: RuleInfo | None, doc: dict[str, Any] | None = None
    ) -> RuleInfo | None:
        targets = await self.pane.core.inventory.list_targets()
        groups = await self.pane.core.inventory.list_groups()
        dialog = RuleEditorDialog(
            self.pane.core,
            info,
            taken=self.pane.rules_model.names(),
            targets=targets,
            groups=groups,
            metrics=files.metric_names(self.pane.monitor_infos()),
            doc=doc,
            parent=self.pane,
        )
        code, saved, outcome = await self._run_dialog(dialog)
        if code != QDialog.DialogCode.Accepted or saved is None:
            return None
        await self._after_save(RULES, saved.name, f"Rule {saved.name} {outcome}")
        return saved if isinstance(saved, RuleInfo) else None

    async def _after_save(self, tab: int, name: str, message: str) -> None:
        self.pane.messages.clear()
        await self.pane.reloaded()
        if not self.pane.closed:
            self.pane.select_name(tab, name)
            self._tell(message, 5000)

    def delete_items(self) -> None:
        if self.pane.current_tab() in (MONITORS, RULES):
            spawn(
                self._delete(self.pane.current_tab()), on_error=self.pane.show_error, name="delete"
            )

    async def _delete(self, tab: int) -> bool:
        items: list[Any] = (
            self.pane.selected_rules() if tab == RULES else self.pane.selected_monitors()
        )
        if not items:
            return False
        noun = "rule" if tab == RULES else "monitor"
        names = [i.name for i in items]
        shown = ", ".join(names[:5]) + (f" and {len(names) - 5} more" if len(names) > 5 else "")
        question = (
            f"Delete {noun} {shown}?"
            if len(names) == 1
            else f"Delete {len(names)} {noun}s: {shown}?"
        )
        detail = (
            "Its stored samples stay; its check states go."
            if noun == "monitor"
            else "Alerts it raised stay open until resolved by hand."
        )
        if not await confirm(self.pane, f"Delete {noun}", question, action="Delete", detail=detail):
            return False
        for name in names:
            if tab == RULES:
                await self.pane.core.monitoring.remove_rule(name)
            else:
                await self.pane.core.monitoring.remove_monitor(name)
        await self.pane.reloaded()
        self._tell(f"Deleted {len(names)} {noun}(s)", 5000)
        return True

    def toggle_enabled(self) -> None:
        if self.pane.current_tab() in (MONITORS, RULES):
            spawn(
                self._toggle(self.pane.current_tab()), on_error=self.pane.show_error, name="toggle"
            )

    async def _toggle(self, tab: int) -> None:
        items: list[Any] = (
            self.pane.selected_rules() if tab == RULES else self.pane.selected_monitors()
        )
        if not items:
            return
        enable = not enabled_of(items[0])
        for item in items:
            doc = plain(item.rule.source if tab == RULES else item.monitor.source)
            doc["enabled"] = enable
            if tab == RULES:
                await self.pane.core.monitoring.save_rule(doc)
            else:
                await self.pane.core.monitoring.save_monitor(doc)
        await self.pane.reloaded()
        verb = "Enabled" if enable else "Disabled"
        self._tell(f"{verb} {len(items)} item(s)", 5000)

    def test_item(self) -> None:
        monitors = self.pane.selected_monitors()
        if not monitors or self.pane.current_tab() == RULES:
            return
        state = (
            self.pane.status_view.selected_state() if self.pane.current_tab() == STATUS else None
        )
        spawn(
            self.test_monitor(monitors[0], state.target if state else None),
            on_error=self.pane.show_error,
            name="test monitor",
        )

    async def test_monitor(self, info: MonitorInfo, target: str | None = None) -> None:
        names = [t.name for t in await self.pane.core.inventory.list_targets()]
        dialog = CheckDialog(self.pane.core, info.monitor, names, target=target, parent=self.pane)
        await self._run_dialog(dialog)

    # ---- files ----------------------------------------------------------------------------

    def import_file(self) -> None:
        if self.pane.current_tab() in (MONITORS, RULES):
            spawn(self.import_from(None), on_error=self.pane.show_error, name="import monitoring")

    async def import_from(self, path: str | None) -> list[tuple[str, str, str]]:
        """The import dialog (on ``path``, or empty to browse); the items it applied."""
        dialog = ImportDialog(
            self.pane.core,
            bare="rules" if self.pane.current_tab() == RULES else "monitors",
            parent=self.pane,
        )
        if path:
            dialog.file_edit.setText(path)
            dialog.open_file(path)
        self.pane.dialog = dialog
        try:
            code = await ask(dialog)
            report = dialog.report
        finally:
            self.pane.dialog = None
            dispose(dialog)
        if code != QDialog.DialogCode.Accepted:
            return []
        await self.pane.reloaded()
        self._tell(files.import_summary(report), 8000)
        return report

    def export_items(self) -> list[Any]:
        tab = self.pane.current_tab()
        if tab not in (MONITORS, RULES):
            return []
        view, proxy = (
            (self.pane.rules_view, self.pane.rules_proxy)
            if tab == RULES
            else (self.pane.monitors_view, self.pane.monitors_proxy)
        )
        chosen = self.pane.selected_items(view)
        if not chosen:  # nothing selected: every row shown
            chosen = [proxy.index(r, 0).data(ITEM_ROLE) for r in range(proxy.rowCount())]
        return chosen

    def export_selected(self) -> None:
        spawn(self.export_to(None), on_error=self.pane.show_error, name="export monitoring")

    async def export_to(self, path: str | None) -> Path | None:
        """Write the selected (else shown) monitors or rules as a YAML file."""
        items = self.export_items()
        if not items:
            return None
        section = "rules" if self.pane.current_tab() == RULES else "monitors"
        if path is None:
            path = await ask_file(
                self.pane,
                f"Export {section}",
                save=True,
                name_filters=("YAML files (*.yaml *.yml)",),
                directory=f"{section}.yaml",
                default_suffix="yaml",
            )
        if not path:
            return None
        text = files.export_text(section, items)
        try:
            await asyncio.to_thread(Path(path).write_text, text, encoding="utf-8")
        except OSError as exc:
            raise ValidationError(
                f"{path}: cannot write the file ({exc.strerror or exc})"
            ) from None
        self._tell(f"Exported {len(items)} {section} to {path}", 8000)
        return Path(path)


def enabled_of(item: Any) -> bool:
    """Whether a monitor or rule is enabled."""
    if isinstance(item, RuleInfo):
        return item.rule.enabled
    if isinstance(item, MonitorInfo):
        return item.monitor.enabled
    return True
