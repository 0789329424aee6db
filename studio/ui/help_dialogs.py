"""The Help menu's dialogs: About Studio, and the table of keyboard and mouse shortcuts."""

from __future__ import annotations

from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QHeaderView,
    QMessageBox,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from studio import __version__

SHORTCUTS: tuple[tuple[str, str], ...] = (
    ("Piano roll (anywhere in the window, except while typing)", ""),
    ("D / S", "Draw tool / Select tool"),
    ("Click (draw tool)", "Add a note of the last length; drag right to set its length"),
    ("Click a note", "Select it (Shift+click adds or removes it)"),
    ("Drag on empty space (select tool)", "Rubber band: select the notes inside"),
    ("Drag a note", "Move the selected notes (Alt: off the grid, Ctrl: copy them)"),
    ("Drag a note's right edge", "Make the selected notes longer or shorter"),
    ("Right-click a note (draw tool)", "Delete it"),
    ("Left / Right", "Move the selection by one grid step"),
    ("Shift+Left / Shift+Right", "Shorten / lengthen the selection by one grid step"),
    ("Up / Down", "Transpose the selection by a semitone"),
    ("Ctrl+Up / Ctrl+Down", "Transpose the selection by an octave"),
    ("Delete", "Delete the selected notes"),
    ("Q", "Quantize the selection (or the current track) to the grid"),
    ("Ctrl+D", "Duplicate the selection (to the next bar line, or the next grid line)"),
    ("G", "Show / hide the ghost notes of the variation under audition"),
    ("Ctrl+A", "Select every note of the visible tracks"),
    ("Ctrl+X / Ctrl+C / Ctrl+V", "Cut / copy / paste (paste goes to the playhead)"),
    ("Esc", "Cancel the drag, or clear the selection"),
    ("Wheel / Shift+wheel", "Scroll up and down / left and right"),
    ("Ctrl+wheel / Ctrl+Shift+wheel", "Zoom in time / zoom the keyboard"),
    ("Ctrl+0", "Zoom to show the whole song"),
    ("Ruler: click / drag", "Move the playhead to the grid (Alt: anywhere) / select a range"),
    ("Ruler top strip: drag / double-click", "Set / clear the loop region"),
    ("Ctrl+L", "Loop the selected time range"),
    ("Ctrl+K", "Type a chord symbol at the playhead (or change the one there)"),
    ("Velocity lane: drag a bar", "Change its velocity (all selected notes together)"),
    ("Keyboard: click a key", "Hear that pitch"),
    ("Everywhere", ""),
    ("Ctrl+Z / Ctrl+Shift+Z", "Undo / redo"),
    ("Ctrl+N / Ctrl+O / Ctrl+Shift+O", "New song / open a project / open a MIDI file"),
    ("Ctrl+S / Ctrl+Shift+S / Ctrl+E", "Save / save as / export MIDI"),
    ("Space", "Play / stop, from anywhere but a text field (number boxes included)"),
    ("Enter / Esc in the tempo box", "Set the tempo / keep it; the keys go back to the roll"),
    ("Ctrl+Shift+R", "Reset the layout: every panel back in its place"),
)


def show_about(parent: QWidget) -> None:
    QMessageBox.about(
        parent, "About Studio",
        f"<h3>Studio {__version__}</h3>"
        "<p>Compose in a piano roll, train deep-learning models on MIDI files and let them "
        "continue, harmonize or fill in your music.</p>"
        "<p>Projects are saved as <i>.studio</i> files; work in progress is autosaved every two "
        "minutes and offered back after a crash.</p>")


class ShortcutsDialog(QDialog):
    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("shortcuts_dialog")
        self.setWindowTitle("Keyboard and mouse shortcuts")
        self.resize(640, 620)
        table = QTableWidget(len(SHORTCUTS), 2, self)
        table.setHorizontalHeaderLabels(("Keys / mouse", "What it does"))
        table.verticalHeader().setVisible(False)
        table.horizontalHeader().setSectionResizeMode(1, QHeaderView.ResizeMode.Stretch)
        table.setColumnWidth(0, 250)
        for row, (keys, what) in enumerate(SHORTCUTS):
            key_item = QTableWidgetItem(keys)
            if not what:
                font = key_item.font()
                font.setBold(True)
                key_item.setFont(font)
            table.setItem(row, 0, key_item)
            table.setItem(row, 1, QTableWidgetItem(what))
        table.setEditTriggers(QTableWidget.EditTrigger.NoEditTriggers)
        table.setSelectionMode(QTableWidget.SelectionMode.NoSelection)
        table.setWordWrap(True)
        table.resizeRowsToContents()
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close, self)
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addWidget(table)
        layout.addWidget(buttons)
        self.table = table
