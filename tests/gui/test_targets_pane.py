"""The Targets pane, driven through its widgets: load, filter, sort, add, edit (and a
conflict), delete, bulk edit, import preview and write, export, details, live updates."""

from __future__ import annotations

import csv
import gc
import json
import threading
from collections.abc import Callable, Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
from PySide6.QtCore import QSettings, Qt
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QDialog, QMessageBox, QWidget

from opsconductor_desktop import cli
from opsconductor_desktop.domain.targets import TargetSpec
from opsconductor_desktop.gui.main_window import MainWindow
from opsconductor_desktop.gui.targets.bulk_edit import BulkEditDialog
from opsconductor_desktop.gui.targets.conflict import ConflictDialog
from opsconductor_desktop.gui.targets.import_dialog import ImportDialog, RowState
from opsconductor_desktop.gui.targets.model import Column
from opsconductor_desktop.gui.targets.pane import TargetsPane
from opsconductor_desktop.gui.targets.query import Haystack, address_key, compile_query, natural_key
from opsconductor_desktop.gui.targets.target_dialog import TargetDialog
from opsconductor_desktop.secrets import SecretStore
from opsconductor_desktop.services.app import Core, open_core

Shot = Callable[[QWidget, str], Path]


@pytest.fixture
def pane(qtbot: Any, drive: Any, demo_core: Core) -> Iterator[TargetsPane]:
    widget = TargetsPane(demo_core)
    widget.resize(1400, 800)
    widget.show()
    drive.run(widget.reload())
    yield widget
    drive.run(widget.stopped())
    drive.settle()
    widget.close()
    widget.deleteLater()


def names(pane: TargetsPane) -> list[str]:
    return [pane.proxy.index(r, Column.NAME).data() for r in range(pane.proxy.rowCount())]


def column(pane: TargetsPane, col: Column) -> list[str]:
    return [pane.proxy.index(r, col).data() for r in range(pane.proxy.rowCount())]


def row_of(pane: TargetsPane, name: str) -> int:
    return names(pane).index(name)


def focus_table(pane: TargetsPane, drive: Any) -> None:
    """Give the table the keyboard focus (window activation is asynchronous offscreen)."""
    pane.activateWindow()
    pane.view.setFocus()
    drive.until(lambda: pane.view.hasFocus())


def select_names(pane: TargetsPane, wanted: list[str], drive: Any | None = None) -> None:
    pane.select_ids([t.id for t in pane.model.targets() if t.name in wanted])
    if drive is not None:
        focus_table(pane, drive)


# ---- the quick-filter language and sort keys (pure) ----


def hay(**fields: Any) -> Haystack:
    base: dict[str, Any] = {
        "name": "ams1-core-rtr-01",
        "address": "10.0.0.1",
        "kind": "router",
        "vendor": "cisco",
        "site": "ams1",
        "model": "asr1001",
        "tags": ("core", "prod"),
        "groups": ("core-network", "site-ams1"),
        "enabled": True,
    }
    base.update(fields)
    base["text"] = "\n".join(str(v) for v in base.values())
    return Haystack(**base)


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("", True),
        ("core", True),
        ("CORE RTR", True),
        ("juniper", False),
        ("tag:core", True),
        ("tag:cor", True),
        ("tag:lab", False),
        ("-tag:lab", True),
        ("not tag:core", False),
        ("kind:router vendor:cisco", True),
        ("kind:switch", False),
        ("site:ams*", True),
        ("site:a?s1", True),
        ("site:ams", True),
        ("site:*2", False),
        ("group:site-ams1", True),
        ("group:edge", False),
        ("enabled:no", False),
        ("enabled:yes", True),
        ("tag:", True),  # still typing: no constraint yet
        ('"core rtr"', False),  # one quoted word must appear as is
        ("juniper or vendor:cisco", True),
        ("juniper or arista", False),
        ("foo:bar", False),  # unknown field: free text
        ('name:"ams1-core', True),  # unclosed quote while typing
    ],
)
def test_quick_filter_language(query: str, expected: bool) -> None:
    predicate = compile_query(query)
    assert (predicate is None or predicate(hay())) is expected


def test_sort_keys_are_natural_and_numeric() -> None:
    assert sorted(["sw10", "sw2", "SW1"], key=natural_key) == ["SW1", "sw2", "sw10"]
    ips = ["10.0.0.10", "10.0.0.9", "2001:db8::1", "host.example", "9.255.255.255"]
    assert sorted(ips, key=address_key) == [
        "9.255.255.255",
        "10.0.0.9",
        "10.0.0.10",
        "2001:db8::1",
        "host.example",
    ]


# ---- models ----


def test_models_pass_the_model_tester(pane: TargetsPane, qtmodeltester: Any) -> None:
    assert pane.model.rowCount() >= 200
    qtmodeltester.check(pane.model)
    qtmodeltester.check(pane.proxy)
    pane.filter_edit.setText("tag:core")
    qtmodeltester.check(pane.proxy)


def test_import_preview_model_passes_the_model_tester(
    drive: Any, gui_core: Core, tmp_path: Path, qtmodeltester: Any, qtbot: Any
) -> None:
    dialog = ImportDialog(gui_core)
    qtbot.addWidget(dialog)
    path = tmp_path / "in.csv"
    path.write_text("name,address\nok-1,10.0.0.1\nbad,10.0.0.300\n", encoding="utf-8")
    drive.run(dialog.load_file(str(path)))
    assert dialog.model.rowCount() == 2
    qtmodeltester.check(dialog.model)


# ---- loading, sorting, filtering ----


def test_pane_shows_every_target_sorted_naturally(
    pane: TargetsPane, demo_core: Core, drive: Any
) -> None:
    stored = drive.run(demo_core.inventory.list_targets())
    assert sorted(names(pane)) == sorted(t.name for t in stored)
    # Streamed in chunks (iter_targets), the same values as list_targets: groups included.
    assert sorted(pane.model.targets(), key=lambda t: t.name) == sorted(
        stored, key=lambda t: t.name
    )
    assert names(pane) == sorted(names(pane), key=natural_key)
    assert pane.count_label.text() == f"{len(stored):,} targets"
    first = next(t for t in stored if t.groups)
    row = row_of(pane, first.name)
    assert pane.proxy.index(row, Column.GROUPS).data() == ", ".join(first.groups)
    assert pane.proxy.index(row, Column.ADDRESS).data() == first.address


def test_every_column_sorts(pane: TargetsPane) -> None:
    header = pane.view.horizontalHeader()
    for col in Column:
        header.setSortIndicator(col, Qt.SortOrder.AscendingOrder)
        entries = [
            pane.model.entry(pane.proxy.mapToSource(pane.proxy.index(r, 0)).row())
            for r in range(pane.proxy.rowCount())
        ]
        keys = [e.key(col) for e in entries]
        assert keys == sorted(keys), col
    header.setSortIndicator(Column.ADDRESS, Qt.SortOrder.DescendingOrder)
    addresses = column(pane, Column.ADDRESS)
    assert addresses == sorted(addresses, key=address_key, reverse=True)


def test_quick_filter_narrows_the_table(pane: TargetsPane, qtbot: Any) -> None:
    total = pane.model.rowCount()
    QTest.keyClick(pane, Qt.Key.Key_F, Qt.KeyboardModifier.ControlModifier)
    assert pane.filter_edit.hasFocus()
    qtbot.keyClicks(pane.filter_edit, "kind:switch")
    assert set(column(pane, Column.KIND)) == {"switch"}
    assert pane.count_label.text() == f"{pane.proxy.rowCount():,} of {total:,} targets"
    pane.filter_edit.setText("kind:switch -site:AMS1")
    assert set(column(pane, Column.KIND)) == {"switch"}
    assert "AMS1" not in column(pane, Column.SITE)
    pane.filter_edit.setText("group:vendor-cisco")
    assert pane.proxy.rowCount() > 0
    assert all("vendor-cisco" in g for g in column(pane, Column.GROUPS))
    pane.filter_edit.setText("tag:prod vendor:cisco")
    assert set(v.lower() for v in column(pane, Column.VENDOR)) == {"cisco"}
    pane.filter_edit.setText("no-such-target-anywhere")
    assert pane.proxy.rowCount() == 0
    assert pane.empty_label.isVisible()
    pane.filter_edit.clear()
    assert pane.proxy.rowCount() == total


# ---- add / edit / conflict ----


def open_dialog(drive: Any, pane: TargetsPane, kind: type[QDialog]) -> Any:
    drive.until(lambda: isinstance(pane.dialog, kind) and pane.dialog.isVisible())
    return pane.dialog


def test_add_target_validates_as_you_type(
    pane: TargetsPane, drive: Any, demo_core: Core, qtbot: Any, screenshot: Shot
) -> None:
    existing = names(pane)[0]
    focus_table(pane, drive)
    QTest.keyClick(pane.view, Qt.Key.Key_Insert)
    dialog: TargetDialog = open_dialog(drive, pane, TargetDialog)
    assert not dialog.save_button.isEnabled()
    qtbot.keyClicks(dialog.name_edit.edit, existing)
    assert "already exists" in dialog.name_edit.error()
    dialog.name_edit.edit.clear()
    qtbot.keyClicks(dialog.name_edit.edit, "lab-new-sw-99")
    assert dialog.name_edit.error() == ""
    qtbot.keyClicks(dialog.address_edit.edit, "10.99.0.300")
    assert "not a valid IPv4" in dialog.address_edit.error()
    assert not dialog.save_button.isEnabled()
    screenshot(dialog, "targets-add-dialog-invalid")
    dialog.address_edit.edit.clear()
    qtbot.keyClicks(dialog.address_edit.edit, "10.99.0.99")
    dialog.kind_combo.setCurrentIndex(dialog.kind_combo.findText("switch"))
    dialog.site_combo.setCurrentText("LAB")
    qtbot.keyClicks(dialog.tags_edit.edit, "lab, access")
    dialog.snmp_box.setChecked(True)
    dialog.snmp_version.setCurrentIndex(dialog.snmp_version.findText("v2c"))
    community = dialog.snmp_credential.findData("demo-snmp-v2c")
    assert community > 0, "SNMP credentials of the demo are offered"
    dialog.snmp_credential.setCurrentIndex(community)
    assert dialog.ssh_credential.findData("demo-snmp-v2c") < 0, "SSH picker shows SSH kinds"
    assert dialog.save_button.isEnabled()
    qtbot.mouseClick(dialog.save_button, Qt.MouseButton.LeftButton)
    drive.until(lambda: pane.dialog is None)
    stored = drive.run(demo_core.inventory.get_target("lab-new-sw-99"))
    assert stored.spec.snmp.credential == "demo-snmp-v2c"
    assert stored.spec.tags == ("access", "lab")
    assert "lab-new-sw-99" in names(pane)
    assert [t.name for t in pane.selected_targets()] == ["lab-new-sw-99"]


def test_edit_target_with_enter(pane: TargetsPane, drive: Any, demo_core: Core, qtbot: Any) -> None:
    name = names(pane)[5]
    select_names(pane, [name], drive)
    QTest.keyClick(pane.view, Qt.Key.Key_Return)
    dialog: TargetDialog = open_dialog(drive, pane, TargetDialog)
    assert dialog.name_edit.text() == name
    assert dialog.save_button.isEnabled()
    dialog.model_edit.setText("Model-X 9000")
    qtbot.mouseClick(dialog.save_button, Qt.MouseButton.LeftButton)
    drive.until(lambda: pane.dialog is None)
    stored = drive.run(demo_core.inventory.get_target(name))
    assert stored.spec.model == "Model-X 9000"
    assert stored.version == 2
    assert pane.current_target() is not None
    assert pane.current_target().spec.model == "Model-X 9000"  # type: ignore[union-attr]


def _other_console(drive: Any, core: Core) -> Core:
    """A second core on the same database: "somebody else" changing things."""
    url = f"sqlite:///{core.database.url.split(':///', 1)[1]}"
    return drive.run(
        open_core(
            home=core.paths.config_dir.parent,
            db_url=url,
            secrets=SecretStore(),
            actor="someone-else",
        )
    )


@pytest.mark.parametrize("choice", ["overwrite", "reload"])
def test_edit_conflict_shows_both_versions(
    pane: TargetsPane, drive: Any, demo_core: Core, qtbot: Any, choice: str, screenshot: Shot
) -> None:
    name = names(pane)[7]
    select_names(pane, [name])
    pane.edit_current()
    dialog: TargetDialog = open_dialog(drive, pane, TargetDialog)
    other = _other_console(drive, demo_core)
    try:
        theirs = drive.run(other.inventory.get_target(name))
        drive.run(
            other.inventory.update_target(
                theirs.id,
                replace(theirs.spec, vendor="TheirVendor"),
                expected_version=theirs.version,
            )
        )
    finally:
        drive.run(other.close())
    dialog.description_edit.setText("my description")
    qtbot.mouseClick(dialog.save_button, Qt.MouseButton.LeftButton)
    conflict: ConflictDialog = drive.find(dialog, ConflictDialog, "conflictDialog")
    assert set(conflict.differences) == {"vendor", "description"}
    table = conflict.table
    rows = {
        table.item(r, 0).text(): (table.item(r, 1).text(), table.item(r, 2).text())
        for r in range(table.rowCount())
    }
    assert rows["Vendor"][1] == "TheirVendor"
    assert rows["Description"][0] == "my description"
    screenshot(conflict, "targets-conflict-dialog")
    button = conflict.overwrite_button if choice == "overwrite" else conflict.reload_button
    qtbot.mouseClick(button, Qt.MouseButton.LeftButton)
    if choice == "overwrite":
        drive.until(lambda: pane.dialog is None)
        stored = drive.run(demo_core.inventory.get_target(name))
        assert stored.spec.description == "my description"
        assert stored.spec.vendor != "TheirVendor"  # mine, as shown in "Your version"
        assert stored.version == 3
    else:
        drive.until(lambda: dialog.vendor_combo.currentText() == "TheirVendor")
        assert dialog.description_edit.text() != "my description"
        assert "discarded" in dialog.banner.text()
        dialog.model_edit.setText("after reload")
        qtbot.mouseClick(dialog.save_button, Qt.MouseButton.LeftButton)
        drive.until(lambda: pane.dialog is None)
        stored = drive.run(demo_core.inventory.get_target(name))
        assert (stored.spec.vendor, stored.spec.model) == ("TheirVendor", "after reload")


# ---- delete / bulk edit ----


def confirm_box(drive: Any, pane: TargetsPane) -> QMessageBox:
    box = drive.find(pane, QMessageBox, "confirmBox")
    assert isinstance(box, QMessageBox)
    return box


def test_delete_asks_first(pane: TargetsPane, drive: Any, demo_core: Core) -> None:
    victims = names(pane)[10:12]
    total = pane.model.rowCount()
    select_names(pane, victims, drive)
    QTest.keyClick(pane.view, Qt.Key.Key_Delete)
    box = confirm_box(drive, pane)
    assert "2 target" in box.text()
    box.button(QMessageBox.StandardButton.Cancel).click()
    drive.settle()
    assert pane.model.rowCount() == total
    focus_table(pane, drive)
    QTest.keyClick(pane.view, Qt.Key.Key_Delete)
    box = confirm_box(drive, pane)
    delete = next(
        b for b in box.buttons() if box.buttonRole(b) == QMessageBox.ButtonRole.AcceptRole
    )
    delete.click()
    drive.until(lambda: pane.model.rowCount() == total - 2)
    assert not set(victims) & set(names(pane))
    left = {t.name for t in drive.run(demo_core.inventory.list_targets())}
    assert not set(victims) & left


def test_delete_key_in_the_filter_box_deletes_text_not_targets(
    pane: TargetsPane, drive: Any, qtbot: Any
) -> None:
    select_names(pane, names(pane)[:1])
    qtbot.keyClicks(pane.filter_edit, "ab")
    pane.filter_edit.setCursorPosition(0)
    QTest.keyClick(pane.filter_edit, Qt.Key.Key_Delete)
    drive.settle()
    assert pane.filter_edit.text() == "b"
    assert pane.dialog is None
    assert pane.findChild(QMessageBox, "confirmBox") is None


def test_bulk_edit_tags_and_enabled(
    pane: TargetsPane, drive: Any, demo_core: Core, qtbot: Any, screenshot: Shot
) -> None:
    chosen = names(pane)[20:23]
    select_names(pane, chosen, drive)
    QTest.keyClick(pane, Qt.Key.Key_B, Qt.KeyboardModifier.ControlModifier)
    dialog: BulkEditDialog = open_dialog(drive, pane, BulkEditDialog)
    assert not dialog.apply_button.isEnabled()
    qtbot.keyClicks(dialog.add_tags.edit, "bad tag!")
    assert dialog.add_tags.error()
    assert not dialog.apply_button.isEnabled()
    dialog.add_tags.edit.clear()
    qtbot.keyClicks(dialog.add_tags.edit, "maint-2026")
    dialog.enabled.setCurrentIndex(dialog.enabled.findData("disable"))
    screenshot(dialog, "targets-bulk-edit-dialog")
    qtbot.mouseClick(dialog.apply_button, Qt.MouseButton.LeftButton)

    def updated() -> bool:
        rows = [row_of(pane, n) for n in chosen]
        return all(
            "maint-2026" in pane.proxy.index(r, Column.TAGS).data()
            and pane.proxy.index(r, Column.ENABLED).data() == "no"
            for r in rows
        )

    drive.until(updated)
    stored = {t.name: t for t in drive.run(demo_core.inventory.list_targets())}
    assert all("maint-2026" in stored[n].tags and not stored[n].spec.enabled for n in chosen)
    assert sorted(t.name for t in pane.selected_targets()) == sorted(chosen)


# ---- import / export ----


CSV_IN = """name,address,kind,site,tags,groups
imp-sw-01,10.77.0.1,switch,LAB,lab,
imp-sw-02,10.77.0.2,switch,LAB,lab,
imp-sw-03,10.77.0.300,switch,LAB,lab,
imp-sw-04,10.77.0.4,switch,LAB,lab,no-such-group
"""


def test_import_previews_errors_then_writes_good_rows(
    pane: TargetsPane, drive: Any, demo_core: Core, tmp_path: Path, qtbot: Any, screenshot: Shot
) -> None:
    path = tmp_path / "devices.csv"
    path.write_text(CSV_IN, encoding="utf-8")
    before = pane.model.rowCount()
    pane.import_targets()
    dialog: ImportDialog = open_dialog(drive, pane, ImportDialog)
    qtbot.keyClicks(dialog.file_edit, str(path))
    QTest.keyClick(dialog.file_edit, Qt.Key.Key_Return)
    drive.until(lambda: dialog.report is not None)
    results = {r.name: r for r in dialog.model.rows}
    assert results["imp-sw-01"].state is RowState.NEW
    assert results["imp-sw-03"].state is RowState.ERROR  # bad address: from the parser
    assert "IPv4" in results["imp-sw-03"].message
    assert results["imp-sw-04"].state is RowState.ERROR  # unknown group: from the dry run
    assert "unknown group" in results["imp-sw-04"].message
    assert not dialog.import_button.isEnabled(), "errors block the import"
    assert drive.run(demo_core.inventory.list_targets()).__len__() == before, "nothing written"
    screenshot(dialog, "targets-import-preview")
    dialog.skip_check.setChecked(True)
    drive.until(lambda: dialog.import_button.isEnabled())
    assert dialog.import_button.text() == "Import 2, skip 2 invalid"
    qtbot.mouseClick(dialog.import_button, Qt.MouseButton.LeftButton)
    drive.until(lambda: pane.dialog is None)
    drive.until(lambda: pane.model.rowCount() == before + 2)
    assert {"imp-sw-01", "imp-sw-02"} <= set(names(pane))


def test_export_writes_the_shown_targets(pane: TargetsPane, drive: Any, tmp_path: Path) -> None:
    all_csv = tmp_path / "all.csv"
    assert drive.run(pane._export(str(all_csv))) == pane.model.rowCount()
    with all_csv.open(newline="", encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    assert {r["name"] for r in rows} == set(names(pane))
    pane.filter_edit.setText("kind:router")
    routers = tmp_path / "routers.json"
    count = drive.run(pane._export(str(routers)))
    document = json.loads(routers.read_text(encoding="utf-8"))
    assert count == pane.proxy.rowCount() == len(document["targets"])
    assert {t["kind"] for t in document["targets"]} == {"router"}


# ---- details ----


def test_details_show_effective_values_and_groups(
    pane: TargetsPane, drive: Any, demo_core: Core
) -> None:
    target = next(t for t in pane.model.targets() if t.spec.vars and t.groups)
    pane.select_ids([target.id])
    details = pane.details
    assert target.name in details.heading.text()
    assert details.groups_label.text() == ", ".join(target.groups)
    drive.until(lambda: details.vars_table.rowCount() > 0)
    expected = drive.run(demo_core.inventory.effective_vars(target.id))
    shown = {
        details.vars_table.item(r, 0).text(): details.vars_table.item(r, 2).text()
        for r in range(details.vars_table.rowCount())
    }
    assert set(shown) == {v.key for v in expected}
    assert all(shown[v.key].startswith(v.source) for v in expected)
    select_names(pane, names(pane)[:3])
    assert "3 targets selected" in details.placeholder.text()


# ---- changes from elsewhere ----


def test_cli_changes_show_up_in_place_keeping_selection_and_scroll(
    qtbot: Any, drive: Any, demo_core: Core, console_settings: QSettings
) -> None:
    window = MainWindow(demo_core, settings=console_settings)
    qtbot.addWidget(window)
    window.resize(1200, 600)
    window.show()
    window.start()
    targets = window.targets_pane()
    assert targets is not None
    drive.until(lambda: targets.loaded and not targets.is_reloading())
    drive.sleep(1.2)  # the change watcher has taken its baseline
    resets: list[int] = []
    targets.proxy.modelReset.connect(lambda: resets.append(1))
    targets.view.scrollToBottom()
    chosen = names(targets)[-4:-2]
    select_names(targets, chosen)
    scroll = targets.view.verticalScrollBar().value()
    assert scroll > 0
    db = demo_core.database.url
    edited = chosen[0]

    def run_cli(*argv: str) -> None:
        """The real command line, in a thread of its own as if in another process."""
        codes: list[int] = []
        gc.collect()  # garbage Qt objects must not be collected in the CLI's thread
        worker = threading.Thread(target=lambda: codes.append(cli.main(["--db", db, *argv])))
        worker.start()
        worker.join()
        assert codes == [0]

    run_cli("targets", "edit", edited, "--vendor", "VendorFromCli")
    run_cli("targets", "add", "aaa-new-from-cli", "10.123.0.1", "--kind", "server")
    vendor_col = Column.VENDOR

    def shown() -> bool:
        return (
            "aaa-new-from-cli" in names(targets)
            and targets.proxy.index(row_of(targets, edited), vendor_col).data() == "VendorFromCli"
        )

    drive.until(shown, timeout=2.0)
    assert sorted(t.name for t in targets.selected_targets()) == sorted(chosen)
    assert targets.view.verticalScrollBar().value() == scroll
    assert resets == [], "rows were updated in place, never reset"
    drive.run(window.shutdown())
    window.close()


def test_pane_state_persists(
    pane: TargetsPane, tmp_path: Path, demo_core: Core, qtbot: Any, drive: Any
) -> None:
    settings = QSettings(str(tmp_path / "pane.ini"), QSettings.Format.IniFormat)
    pane.view.setColumnWidth(Column.SITE, 211)
    pane.view.horizontalHeader().setSortIndicator(Column.ADDRESS, Qt.SortOrder.DescendingOrder)
    pane.filter_edit.setText("kind:switch")
    pane.save_state(settings)
    settings.sync()
    again = TargetsPane(demo_core)
    qtbot.addWidget(again)
    again.restore_state(QSettings(str(tmp_path / "pane.ini"), QSettings.Format.IniFormat))
    drive.run(again.reload())
    assert again.view.columnWidth(Column.SITE) == 211
    assert again.filter_edit.text() == "kind:switch"
    assert set(column(again, Column.KIND)) == {"switch"}
    addresses = column(again, Column.ADDRESS)
    assert addresses == sorted(addresses, key=address_key, reverse=True)
    again.shutdown()


def test_an_empty_database_says_how_to_begin(qtbot: Any, drive: Any, gui_core: Core) -> None:
    widget = TargetsPane(gui_core)
    qtbot.addWidget(widget)
    widget.show()
    drive.run(widget.reload())
    assert widget.proxy.rowCount() == 0
    assert "No targets yet" in widget.empty_label.text()
    drive.run(gui_core.inventory.create_target(TargetSpec("first", "192.0.2.1")))
    drive.until(lambda: names(widget) == ["first"])
    widget.shutdown()
