"""The Groups pane: create, rename, delete, static members, rule editing with live preview."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
import qasync
from g2_fixtures import gcore, run, screenshot, settle, small_estate, wait_until
from PySide6.QtCore import QSettings, Qt
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QApplication, QMessageBox

from opsconductor_desktop.domain.groups import GroupSpec
from opsconductor_desktop.gui.groups.model import GroupsModel
from opsconductor_desktop.gui.groups.pane import GroupsPane
from opsconductor_desktop.gui.keyed_model import KEY_ROLE
from opsconductor_desktop.services.app import Core

__all__ = ["gcore"]  # fixtures used by name


@pytest.fixture
def pane(qtbot: object, qloop: qasync.QEventLoop, gcore: Core) -> Iterator[GroupsPane]:
    run(qloop, small_estate(gcore))
    widget = GroupsPane(gcore)
    qtbot.addWidget(widget)  # type: ignore[attr-defined]
    widget.resize(1200, 640)
    widget.show()
    run(qloop, widget.reload())
    yield widget
    widget.shutdown()


def _names(pane: GroupsPane) -> list[str]:
    return [pane.proxy.index(r, 0).data() for r in range(pane.proxy.rowCount())]


def _confirm(qloop: qasync.QEventLoop, pane: GroupsPane) -> None:
    wait_until(qloop, lambda: pane.findChild(QMessageBox, "confirmBox") is not None)
    box = pane.findChild(QMessageBox, "confirmBox")
    assert isinstance(box, QMessageBox)
    yes = next(b for b in box.buttons() if box.buttonRole(b) == QMessageBox.ButtonRole.AcceptRole)
    yes.click()


def test_models_pass_modeltester(
    pane: GroupsPane, qloop: qasync.QEventLoop, qtmodeltester: object
) -> None:
    assert pane.select_group("core-routers")
    settle(qloop)
    pane.rule_editor.rule_edit.setText("kind:server")
    pane.rule_editor.update_preview()
    pane.member_editor.available_filter.setText("site:ams1")
    models = (
        pane.model,
        pane.proxy,
        pane.members_model,
        pane.member_editor.available_model,
        pane.member_editor.available_proxy,
        pane.rule_editor.preview_model,
    )
    for model in models:
        assert model.rowCount() > 0
        qtmodeltester.check(model)  # type: ignore[attr-defined]
    # updates in place (rows removed, changed, added) keep the models consistent
    pane.rule_editor.rule_edit.setText("kind:server or tag:core")
    pane.rule_editor.update_preview()
    pane.rule_editor.rule_edit.setText("site:lab")
    pane.rule_editor.update_preview()
    assert pane.rule_editor.preview_model.rowCount() == 6


def test_lists_groups_with_counts_and_filter(pane: GroupsPane) -> None:
    assert _names(pane) == ["core-routers", "maintenance-window-a"]
    core_row = pane.model.row_of(pane.model.items()[0].id)
    assert core_row is not None
    by_name = {g.name: g for g in pane.model.items()}
    assert by_name["core-routers"].member_count == 6  # two routers in each of ams1, fra2, lon1
    assert by_name["maintenance-window-a"].static_count == 2
    pane.filter_edit.setText("MAINT")
    assert _names(pane) == ["maintenance-window-a"]
    pane.filter_edit.clear()
    assert len(_names(pane)) == 2


def test_create_rename_delete_group(
    pane: GroupsPane, qloop: qasync.QEventLoop, gcore: Core
) -> None:
    pane.add_action.trigger()
    dialog = pane.dialog
    assert dialog is not None
    assert dialog.isVisible()
    dialog.name_edit.setText("firewalls")
    dialog.description_edit.setText("All perimeter firewalls")
    dialog.accept()
    wait_until(qloop, lambda: not dialog.isVisible())
    assert "firewalls" in _names(pane)
    assert pane.selected_group() is not None
    assert pane.selected_group().name == "firewalls"

    # a duplicate name keeps the dialog open with the error shown
    pane.add_action.trigger()
    dup = pane.dialog
    assert dup is not None
    dup.name_edit.setText("core-routers")
    dup.accept()
    wait_until(qloop, lambda: dup.message.isVisibleTo(dup))
    assert "core-routers" in dup.message.label.text()
    assert dup.isVisible()
    dup.reject()

    pane.select_group("firewalls")
    pane.rename_action.trigger()
    rename = pane.dialog
    assert rename is not None
    assert rename.name_edit.text() == "firewalls"
    rename.name_edit.setText("perimeter-firewalls")
    rename.accept()
    wait_until(qloop, lambda: "perimeter-firewalls" in _names(pane))
    assert pane.selected_group() is not None
    assert pane.selected_group().name == "perimeter-firewalls"  # selection kept across reload

    pane.delete_action.trigger()
    _confirm(qloop, pane)
    wait_until(qloop, lambda: "perimeter-firewalls" not in _names(pane))
    groups = run(qloop, gcore.inventory.list_groups())
    assert [g.name for g in groups] == ["core-routers", "maintenance-window-a"]


def test_static_member_add_and_remove(
    pane: GroupsPane, qloop: qasync.QEventLoop, gcore: Core
) -> None:
    assert pane.select_group("maintenance-window-a")
    settle(qloop)
    editor = pane.member_editor
    assert editor.members_model.rowCount() == 2
    total = editor.available_model.rowCount() + editor.members_model.rowCount()
    assert total == 24

    editor.available_filter.setText("kind:switch and not site:lab")  # a rule filters too
    assert editor.available_proxy.rowCount() == 6
    editor.available_filter.setText("lon1-ser")
    assert editor.available_proxy.rowCount() == 1
    editor.available_view.selectAll()
    assert editor.add_button.isEnabled()
    editor.add_button.click()
    wait_until(qloop, lambda: editor.members_model.rowCount() == 3)
    static = run(qloop, gcore.inventory.static_members("maintenance-window-a"))
    assert sorted(t.name for t in static) == ["ams1-ser-04", "fra2-ser-04", "lon1-ser-04"]

    # double-click on a member removes it
    editor.members_filter.setText("ams1")
    index = editor.members_proxy.index(0, 0)
    assert index.data() == "ams1-ser-04"
    editor.members_view.doubleClicked.emit(index)
    wait_until(qloop, lambda: editor.members_model.rowCount() == 2)
    static = run(qloop, gcore.inventory.static_members("maintenance-window-a"))
    assert sorted(t.name for t in static) == ["fra2-ser-04", "lon1-ser-04"]
    # the pane's counts follow after the change event
    wait_until(qloop, lambda: _group(pane, "maintenance-window-a").static_count == 2)
    wait_until(qloop, lambda: pane.members_model.rowCount() == 2)
    editor.members_filter.clear()
    editor.available_filter.clear()
    screenshot(pane, "groups-static-members")


def _group(pane: GroupsPane, name: str) -> object:
    return next(g for g in pane.model.items() if g.name == name)


def test_rule_editor_live_preview_invalid_rule_and_save(
    pane: GroupsPane, qloop: qasync.QEventLoop, gcore: Core
) -> None:
    assert pane.select_group("maintenance-window-a")
    settle(qloop)
    pane.tabs.setCurrentWidget(pane.rule_editor)
    editor = pane.rule_editor
    assert editor.rule_edit.text() == ""
    assert not editor.save_button.isEnabled()

    editor.rule_edit.setText("vendor:arista and site:")  # incomplete: error shown at once
    assert editor.error is not None
    assert "✖" in editor.status.text()
    assert "border" in editor.rule_edit.styleSheet()
    assert not editor.save_button.isEnabled()

    counts: list[int] = []
    editor.preview_updated.connect(counts.append)
    editor.rule_edit.setText("vendor:arista and site:ams1")
    assert editor.error is None
    assert editor.rule_edit.styleSheet() == ""
    wait_until(qloop, lambda: counts)  # debounced preview
    assert counts == [1 + 5 // 4]  # arista switches at ams1: rows 2 and 6 of six
    names = sorted(
        editor.preview_model.item(r).name for r in range(editor.preview_model.rowCount())
    )
    assert names == ["ams1-swi-02", "ams1-swi-06"]
    screenshot(pane, "groups-rule-editor")
    assert editor.save_button.isEnabled()
    editor.save_button.click()
    wait_until(qloop, lambda: not editor.dirty and not editor.busy)
    group = run(qloop, gcore.inventory.get_group("maintenance-window-a"))
    assert str(group.rule) == "vendor:arista and site:ams1"
    wait_until(qloop, lambda: _group(pane, "maintenance-window-a").member_count == 4)
    wait_until(qloop, lambda: pane.members_model.rowCount() == 4)
    via = {m.target.name: m.via for m in pane.members_model.items()}
    assert via == {
        "ams1-ser-04": "static",
        "fra2-ser-04": "static",
        "ams1-swi-02": "rule",
        "ams1-swi-06": "rule",
    }

    # Clear rule asks first, then stores no rule
    editor.clear_button.click()
    _confirm(qloop, pane)
    wait_until(qloop, lambda: editor.rule_edit.text() == "" and not editor.busy)
    assert run(qloop, gcore.inventory.get_group("maintenance-window-a")).rule is None


def test_reload_keeps_selection_and_unsaved_rule_text(
    pane: GroupsPane, qloop: qasync.QEventLoop, gcore: Core
) -> None:
    assert pane.select_group("core-routers")
    settle(qloop)
    pane.rule_editor.rule_edit.setText("tag:core")
    run(qloop, gcore.inventory.create_group(GroupSpec("aaa-first")))
    run(qloop, pane.reload())
    assert pane.selected_group() is not None
    assert pane.selected_group().name == "core-routers"
    assert pane.rule_editor.rule_edit.text() == "tag:core"
    assert pane.rule_editor.dirty
    key = pane.view.selectionModel().selectedRows()[0].data(KEY_ROLE)
    assert key == pane.selected_group().id
    assert pane.view.selectionModel().selectedRows()[0].column() == GroupsModel.NAME


def test_screenshots_with_the_demo_estate(
    qtbot: object, qloop: qasync.QEventLoop, gcore: Core
) -> None:
    from opsconductor_desktop.gui.theme import apply_theme
    from opsconductor_desktop.services.demo import populate

    run(qloop, populate(gcore, targets=240, seed=7))
    pane = GroupsPane(gcore)
    qtbot.addWidget(pane)  # type: ignore[attr-defined]
    pane.resize(1280, 720)
    pane.show()
    run(qloop, pane.reload())
    assert pane.model.rowCount() == 25
    assert pane.select_group("core-network")
    wait_until(qloop, lambda: pane.members_model.rowCount() == 20)
    screenshot(pane, "groups-demo-members")

    pane.tabs.setCurrentWidget(pane.rule_editor)
    pane.rule_editor.rule_edit.setText("tag:core and (vendor:cisco or vendor:juniper")
    assert pane.rule_editor.error == "missing ')' in rule"
    screenshot(pane, "groups-demo-rule-invalid")
    pane.rule_editor.rule_edit.setText("tag:core and (vendor:cisco or vendor:juniper)")
    wait_until(qloop, lambda: pane.rule_editor.preview_model.rowCount() > 0)
    screenshot(pane, "groups-demo-rule-preview")
    pane.rule_editor.revert()

    assert pane.select_group("noc-watchlist")
    wait_until(qloop, lambda: pane.member_editor.members_model.rowCount() == 15)
    pane.tabs.setCurrentWidget(pane.member_editor)
    pane.member_editor.available_filter.setText("site:ams1 and kind:ups")
    screenshot(pane, "groups-demo-static-members")

    app = QApplication.instance()
    assert isinstance(app, QApplication)
    apply_theme(app, "dark")
    try:
        pane.tabs.setCurrentWidget(pane.members_view)
        screenshot(pane, "groups-demo-dark")
    finally:
        apply_theme(app, "system")
    pane.shutdown()


def test_keyboard_insert_f2_delete(pane: GroupsPane, qloop: qasync.QEventLoop) -> None:
    pane.activateWindow()
    wait_until(qloop, pane.isActiveWindow)  # shortcuts need the window active and focus
    assert pane.select_group("core-routers")
    pane.view.setFocus()
    QTest.keyClick(pane.view, Qt.Key.Key_F2)
    assert pane.dialog is not None
    assert pane.dialog.windowTitle() == "Rename group"
    assert pane.dialog.name_edit.text() == "core-routers"
    pane.dialog.reject()

    QTest.keyClick(pane.view, Qt.Key.Key_Insert)
    assert pane.dialog.windowTitle() == "New group"
    pane.dialog.reject()

    QTest.keyClick(pane.view, Qt.Key.Key_Delete)
    box = pane.findChild(QMessageBox, "confirmBox")
    assert box is not None
    assert "core-routers" in box.text()
    box.reject()

    # Delete in the filter box edits the text and never deletes a group
    pane.filter_edit.setFocus()
    pane.filter_edit.setText("core")
    pane.filter_edit.setCursorPosition(0)
    QTest.keyClick(pane.filter_edit, Qt.Key.Key_Delete)
    assert pane.filter_edit.text() == "ore"
    settle(qloop)
    assert (
        pane.findChild(QMessageBox, "confirmBox") is None
        or not pane.findChild(QMessageBox, "confirmBox").isVisible()
    )


def test_state_round_trip(pane: GroupsPane, tmp_path: Path) -> None:
    settings = QSettings(str(tmp_path / "state.ini"), QSettings.Format.IniFormat)
    pane.view.setColumnWidth(GroupsModel.RULE, 333)
    pane.save_state(settings)
    other = GroupsPane(pane.core)
    other.restore_state(settings)
    assert other.view.columnWidth(GroupsModel.RULE) == 333
    other.shutdown()
    other.deleteLater()
