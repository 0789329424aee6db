"""The Dataset panel in the real main window (offscreen): list, table, statistics, open, play,
remove, split, the problems report, and a folder import with progress, cancel and resume."""

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QLabel

from studio.data import BUILTIN, load_dataset
from studio.data.piece_content import ImportOptions
from studio.data.store import DatasetStore
from studio.ui.datasets.dataset_import_dialog import NewDatasetDialog
from studio.ui.main_window import MainWindow
from tests.data.folders import copy_shared, write_generated


def make_window(qtbot):
    w = MainWindow()
    qtbot.addWidget(w)
    panel = w.dataset_panel
    return w, panel


def wait_loaded(qtbot, panel, name):
    qtbot.waitUntil(lambda: panel.dataset is not None and panel.dataset.name == name,
                    timeout=10000)


def test_builtin_chorales_are_listed_first_and_shown(qtbot):
    w, panel = make_window(qtbot)
    assert w.docks["Dataset"].widget() is panel
    assert panel.dataset_list.item(0).data(Qt.ItemDataRole.UserRole) == "jsb"
    wait_loaded(qtbot, panel, "jsb")
    assert panel.proxy.rowCount() == 382
    assert panel.stats_view.statistics.pieces == 382
    assert "382 pieces" in panel.stats_view.summary.text()
    header = [panel.model.headerData(i, Qt.Orientation.Horizontal) for i in range(6)]
    assert header == ["Name", "Duration", "Tracks", "Notes", "Key", "Split"]
    row = [panel.proxy.index(0, c).data() for c in range(6)]
    assert row[0].startswith("jsb-") and row[2] == 4 and row[5] in ("train", "valid", "test")
    # Built-in: read-only.
    panel.table.selectRow(0)
    assert not panel.remove_button.isEnabled() and not panel.delete_button.isEnabled()
    # Double-click opens the piece in the editor.
    index = panel.proxy.index(3, 0)
    piece = panel._piece_at(index)
    panel.table.doubleClicked.emit(index)
    assert w.document.song is piece.song()
    assert [t.name for t in w.document.song.tracks] == ["Soprano", "Alto", "Tenor", "Bass"]
    # Sorting by notes puts the busiest chorale last.
    panel.table.sortByColumn(3, Qt.SortOrder.AscendingOrder)
    last = panel._piece_at(panel.proxy.index(381, 0))
    assert last.metadata["notes"] == max(p.metadata["notes"] for p in panel.model.pieces)
    panel.filter_edit.setText("jsb-test-00")
    assert panel.proxy.rowCount() == 10


def test_play_uses_the_playback_feature(qtbot):
    w, panel = make_window(qtbot)
    wait_loaded(qtbot, panel, "jsb")
    assert w.playback is not None  # the real playback feature (built-in synth, no ports here)
    panel.table.selectRow(1)
    assert panel.play_button.isEnabled() and panel.play_button.text() == "Play"
    with qtbot.waitSignal(w.playback.playing_changed, timeout=5000) as started:
        panel.play_button.click()
    assert started.args == [True]
    assert w.playback.player._song is panel.selected_pieces()[0].song()
    w.playback.stop()
    panel.table.selectRow(0)
    delattr(w, "playback")  # without a playback feature the button says so
    panel.table.selectRow(2)
    assert not panel.play_button.isEnabled() and "unavailable" in panel.play_button.text()


def test_import_a_folder_then_edit_it(qtbot, tmp_path):
    copy_shared(tmp_path / "m")
    (tmp_path / "m" / "broken.mid").write_text("not midi")
    w, panel = make_window(qtbot)
    wait_loaded(qtbot, panel, "jsb")
    progress = []
    with qtbot.waitSignal(panel.import_finished, timeout=30000) as blocker:
        assert panel.start_import(str(tmp_path / "m"), "Piano", ImportOptions())
        panel.import_thread.progress.connect(progress.append)
        assert panel.import_row.isVisibleTo(panel) and not panel.new_button.isEnabled()
    report = blocker.args[0]
    assert report.pieces == 20 and progress
    wait_loaded(qtbot, panel, "Piano")
    assert not panel.import_row.isVisibleTo(panel) and panel.import_thread is None
    assert panel.proxy.rowCount() == 20
    assert panel.tabs.tabText(2) == "Problems (2)"
    rows = panel.problems_view.model.rows
    assert {(r[0], r[1]) for r in rows} == {("broken.mid", "unreadable"),
                                            ("beat.mid", "filtered out")}
    names = [panel.dataset_list.item(i).data(Qt.ItemDataRole.UserRole)
             for i in range(panel.dataset_list.count())]
    assert names == [*BUILTIN, "Piano"]

    panel.select_piece("debussy/menuet")
    panel.set_selected_split("test")
    assert next(p for p in load_dataset("Piano").pieces if p.name == "debussy/menuet"
                ).split == "test"
    panel.select_piece("debussy/menuet")
    assert panel.remove_button.isEnabled()
    panel.remove_button.click()
    qtbot.waitUntil(lambda: panel.dataset is not None and len(panel.dataset) == 19,
                    timeout=10000)
    assert "debussy/menuet" not in {p.name for p in load_dataset("Piano").pieces}

    panel.add_tab(QLabel("style map"), "Style map")
    assert panel.tabs.tabText(panel.tabs.count() - 1) == "Style map"

    panel.delete_button.click()
    assert "Piano" not in DatasetStore().names()
    wait_loaded(qtbot, panel, "jsb")


def test_cancel_then_resume_and_close_during_import(qtbot, tmp_path):
    write_generated(tmp_path / "many", 120, tracks=2, notes=300)
    w, panel = make_window(qtbot)
    wait_loaded(qtbot, panel, "jsb")
    with qtbot.waitSignal(panel.import_finished, timeout=30000) as blocker:
        panel.start_import(str(tmp_path / "many"), "Many", ImportOptions())
        # Cancel as soon as the first file is in (the progress signal is queued to this thread).
        panel.import_thread.progress.connect(
            lambda p: panel.cancel_button.click() if p.done >= 1 else None)
    first = blocker.args[0]
    assert first.cancelled and first.pieces < 120
    wait_loaded(qtbot, panel, "Many")
    # (a load started while the import ran may land first; the one after it shows the state)
    qtbot.waitUntil(lambda: panel.resume_button.isVisibleTo(panel), timeout=10000)
    assert "interrupted" in panel.problems_view.heading.text()
    with qtbot.waitSignal(panel.import_finished, timeout=30000) as blocker:
        panel.resume_button.click()
    assert blocker.args[0].pieces == 120 and not blocker.args[0].cancelled
    assert blocker.args[0].parsed == 120 - first.pieces  # only the rest was parsed
    qtbot.waitUntil(lambda: panel.proxy.rowCount() == 120, timeout=10000)
    assert not panel.resume_button.isVisibleTo(panel)

    # Closing the window mid-import cancels it and waits for the thread.
    DatasetStore().delete("Many")
    panel.start_import(str(tmp_path / "many"), "Many", ImportOptions())
    thread = panel.import_thread
    started = []
    thread.progress.connect(lambda p: started.append(p.done))
    qtbot.waitUntil(lambda: bool(started), timeout=20000)
    w.close()
    assert thread.isFinished()
    assert not DatasetStore().read("Many").complete


def test_new_dataset_dialog(qtbot, tmp_path):
    d = NewDatasetDialog()
    qtbot.addWidget(d)
    ok = d.buttons.buttons()[0]
    d.folder_edit.setText(str(tmp_path / "missing"))
    assert not ok.isEnabled() and "does not exist" in d.error.text()
    d.folder_edit.setText(str(tmp_path))
    assert d.name_edit.text() == tmp_path.name and ok.isEnabled()
    d.tracks_combo.setCurrentIndex(2)
    d.drums_check.setChecked(False)
    d.min_seconds.setValue(12)
    d.meters_edit.setText("4/4, 3/4")
    folder, name, options = d.values()
    assert options == ImportOptions("satb", False, 12.0, ("4/4", "3/4"))
    d.meters_edit.setText("four four")
    d.try_accept()
    assert "4/4" in d.error.text() and d.result() == 0


def test_builtin_pop909_is_listed_and_opens_with_its_bars(qtbot):
    w, panel = make_window(qtbot)
    wait_loaded(qtbot, panel, "jsb")
    names = [panel.dataset_list.item(i).data(Qt.ItemDataRole.UserRole)
             for i in range(panel.dataset_list.count())]
    row = names.index("pop909")
    assert "built-in" in panel.dataset_list.item(row).text()
    panel.dataset_list.setCurrentRow(row)
    wait_loaded(qtbot, panel, "pop909")
    assert panel.proxy.rowCount() == 861 and panel.stats_view.statistics.pieces == 861
    panel.filter_edit.setText("pop909-001")
    index = panel.proxy.index(0, 0)
    panel.table.doubleClicked.emit(index)
    song = w.document.song
    assert [t.name for t in song.tracks] == ["MELODY", "BRIDGE", "PIANO"]
    assert [(ts.numerator, ts.denominator) for ts in song.time_signatures[:2]] == [(1, 4), (4, 4)]
