"""The "New dataset from folder" dialog: the folder, a name, and what to keep of each file."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QDoubleSpinBox,
    QFileDialog,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QMessageBox,
    QPushButton,
    QWidget,
)

from studio.data import dataset_names
from studio.data.builtin import BUILTIN
from studio.data.piece_content import ImportOptions

TRACK_CHOICES = (("All tracks", "all"), ("Melody only (one line)", "melody"),
                 ("Four voices (SATB, like the chorales)", "satb"))


class NewDatasetDialog(QDialog):
    def __init__(self, parent=None, folder: str = "") -> None:
        super().__init__(parent)
        self.setWindowTitle("New dataset from folder")
        form = QFormLayout(self)
        row = QWidget()
        h = QHBoxLayout(row)
        h.setContentsMargins(0, 0, 0, 0)
        self.folder_edit = QLineEdit(folder)
        self.folder_edit.setPlaceholderText("a folder with MIDI files (sub-folders included)")
        browse = QPushButton("Browse…")
        browse.clicked.connect(self.browse)
        h.addWidget(self.folder_edit)
        h.addWidget(browse)
        form.addRow("Folder", row)
        self.name_edit = QLineEdit()
        self.name_edit.setPlaceholderText("e.g. My piano pieces")
        form.addRow("Name", self.name_edit)
        self.tracks_combo = QComboBox()
        for text, value in TRACK_CHOICES:
            self.tracks_combo.addItem(text, value)
        form.addRow("Keep", self.tracks_combo)
        self.drums_check = QCheckBox("Leave out drum tracks")
        self.drums_check.setChecked(True)
        form.addRow("", self.drums_check)
        self.min_seconds = QDoubleSpinBox()
        self.min_seconds.setRange(0, 3600)
        self.min_seconds.setSuffix(" s")
        self.min_seconds.setToolTip("Pieces shorter than this are left out")
        form.addRow("Shortest piece", self.min_seconds)
        self.meters_edit = QLineEdit()
        self.meters_edit.setPlaceholderText("any meter (or e.g. 4/4, 3/4)")
        form.addRow("Meter", self.meters_edit)
        self.error = QLabel("")
        self.error.setStyleSheet("color: #b00020")
        self.error.setWordWrap(True)
        form.addRow(self.error)
        self.buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok
                                        | QDialogButtonBox.StandardButton.Cancel)
        self.buttons.button(QDialogButtonBox.StandardButton.Ok).setText("Import")
        self.buttons.accepted.connect(self.try_accept)
        self.buttons.rejected.connect(self.reject)
        form.addRow(self.buttons)
        self.folder_edit.textChanged.connect(self._folder_changed)
        self.name_edit.textChanged.connect(self._validate)
        self._folder_changed(folder)

    def browse(self) -> None:
        folder = QFileDialog.getExistingDirectory(self, "Folder with MIDI files",
                                                  self.folder_edit.text())
        if folder:
            self.folder_edit.setText(folder)

    def _folder_changed(self, text: str) -> None:
        if text and not self.name_edit.isModified():
            self.name_edit.setText(Path(text).name)
        self._validate()

    def _validate(self) -> bool:
        ok_button = self.buttons.button(QDialogButtonBox.StandardButton.Ok)
        folder = self.folder_edit.text().strip()
        problem = ""
        if folder and not Path(folder).expanduser().is_dir():
            problem = "This folder does not exist."
        elif not self.name_edit.text().strip():
            problem = "Give the dataset a name."
        self.error.setText(problem if folder else "")
        ok_button.setEnabled(bool(folder) and not problem)
        return bool(folder) and not problem

    def options(self) -> ImportOptions:
        """Raises ValueError with a message for a badly written meter."""
        meters = tuple(m.strip() for m in self.meters_edit.text().replace(";", ",").split(",")
                       if m.strip())
        return ImportOptions(tracks=self.tracks_combo.currentData(),
                             exclude_drums=self.drums_check.isChecked(),
                             min_seconds=self.min_seconds.value(), meters=meters)

    def try_accept(self) -> None:
        if not self._validate():
            return
        try:
            self.options()
        except ValueError as e:
            self.error.setText(str(e))
            return
        if not self.confirm_replace():
            return
        self.accept()

    def confirm_replace(self) -> bool:
        """A name already taken: importing replaces that dataset, so ask first (No keeps the
        dialog open to choose another name). A built-in corpus cannot be replaced."""
        name = self.name_edit.text().strip()
        if name in BUILTIN:
            self.error.setText(f"{name} is a built-in dataset; choose another name.")
            return False
        if name not in dataset_names():
            return True
        box = QMessageBox(QMessageBox.Icon.Question, "Replace dataset",
                          f"There is already a dataset called {name}. Replace it with the "
                          "pieces of this folder?",
                          QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.No, self)
        box.setObjectName("replace_dataset_box")
        box.setDefaultButton(QMessageBox.StandardButton.No)
        box.button(QMessageBox.StandardButton.Yes).setText("Replace")
        self.replace_box = box
        if box.exec() == QMessageBox.StandardButton.Yes:
            return True
        self.error.setText("Choose another name, or Import again to replace it.")
        self.name_edit.setFocus()
        self.name_edit.selectAll()
        return False

    def values(self) -> tuple[str, str, ImportOptions]:
        return self.folder_edit.text().strip(), self.name_edit.text().strip(), self.options()
