"""Importing under a name that is taken asks before replacing; the style map offers a dataset as
soon as its import ends; a file without a single note is reported as having no notes (not as
'no notes once drums are excluded')."""

from PySide6.QtCore import Qt, QTimer
from PySide6.QtWidgets import QApplication, QMessageBox

from studio.midi import write_song
from studio.music.song import Song, Track
from studio.ui.datasets.dataset_import_dialog import NewDatasetDialog
from studio.ui.main_window import MainWindow
from tests.data.folders import write_generated


def answer_box(button: QMessageBox.StandardButton, seen: list) -> None:
    """Press `button` of the question box once it is up (it runs its own event loop)."""
    def press():
        box = QApplication.activeModalWidget()
        if not isinstance(box, QMessageBox):
            QTimer.singleShot(20, press)
            return
        seen.append(box.text())
        box.button(button).click()
    QTimer.singleShot(0, press)


def import_and_wait(qtbot, panel, folder, name):
    with qtbot.waitSignal(panel.import_finished, timeout=30000) as blocker:
        assert panel.start_import(str(folder), name, NewDatasetDialog().options())
    qtbot.waitUntil(lambda: panel.import_thread is None, timeout=10000)
    return blocker.args[0]


def test_reimport_under_a_taken_name_asks_and_the_style_map_follows(qtbot, tmp_path):
    write_generated(tmp_path / "a", 2, notes=40)
    write_song(Song([Track("Empty", program=0)], title="silence"), tmp_path / "a" / "empty.mid")
    w = MainWindow()
    qtbot.addWidget(w)
    panel, style_map = w.dataset_panel, w.style_map
    listed = lambda: [style_map.sources.item(i).data(Qt.ItemDataRole.UserRole)  # noqa: E731
                      for i in range(style_map.sources.count())]
    assert "Mine" not in listed()
    report = import_and_wait(qtbot, panel, tmp_path / "a", "Mine")
    assert report.pieces == 2
    assert "Mine" in listed()      # no restart needed
    qtbot.waitUntil(lambda: bool(panel.problems_view.model.rows), timeout=10000)
    rows = panel.problems_view.model.rows
    assert [r[0] for r in rows] == ["empty.mid"] and "this file has no notes" in rows[0][2]
    assert "drums" not in rows[0][2]

    d = NewDatasetDialog(panel)
    qtbot.addWidget(d)
    d.folder_edit.setText(str(tmp_path / "a"))
    d.name_edit.setText("Mine")
    seen: list[str] = []
    answer_box(QMessageBox.StandardButton.No, seen)
    qtbot.mouseClick(d.buttons.button(d.buttons.StandardButton.Ok), Qt.MouseButton.LeftButton)
    assert seen and "already a dataset called Mine" in seen[0]
    assert d.result() == 0 and "another name" in d.error.text()
    answer_box(QMessageBox.StandardButton.Yes, seen)
    qtbot.mouseClick(d.buttons.button(d.buttons.StandardButton.Ok), Qt.MouseButton.LeftButton)
    assert len(seen) == 2 and d.result() == NewDatasetDialog.DialogCode.Accepted

    d2 = NewDatasetDialog(panel)
    qtbot.addWidget(d2)
    d2.folder_edit.setText(str(tmp_path / "a"))
    d2.name_edit.setText("Fresh")    # a new name is not asked about
    qtbot.mouseClick(d2.buttons.button(d2.buttons.StandardButton.Ok), Qt.MouseButton.LeftButton)
    assert d2.result() == NewDatasetDialog.DialogCode.Accepted and len(seen) == 2
    w.close()
