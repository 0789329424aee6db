"""The Dataset panel: the list of datasets (built-in chorales first), a table of the chosen
dataset's pieces, its statistics, the report of files that were not imported, and the
"New dataset from folder" flow with progress and cancel.

Loading and importing run on QThreads (`dataset_import_worker`); the GUI thread only swaps
models. Other features add tabs with `add_tab(widget, title)` and follow the chosen dataset
through the `dataset_loaded(Dataset)` signal or `current_dataset()`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from PySide6.QtCore import QEvent, QObject, Qt, Signal
from PySide6.QtWidgets import (
    QAbstractItemView,
    QComboBox,
    QGridLayout,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QListWidget,
    QListWidgetItem,
    QProgressBar,
    QPushButton,
    QSizePolicy,
    QStackedWidget,
    QTableView,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from studio.data import BUILTIN, SPLITS, DatasetError, dataset_names
from studio.data.dataset import Dataset, Piece
from studio.data.store import DatasetStore
from studio.ui.datasets.dataset_import_flow import ImportFlow
from studio.ui.datasets.dataset_import_worker import ImportThread, LoadThread
from studio.ui.datasets.dataset_report_view import ProblemsView
from studio.ui.datasets.dataset_stats_view import StatisticsView
from studio.ui.datasets.dataset_table import PiecesModel, PiecesProxy

if TYPE_CHECKING:
    from studio.ui.main_window import MainWindow


class DatasetPanel(ImportFlow, QWidget):
    dataset_loaded = Signal(object)  # Dataset
    import_finished = Signal(object)  # ImportReport

    def __init__(self, window: MainWindow | None = None, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.window_ = window
        self.store = DatasetStore()
        self.dataset: Dataset | None = None
        self.manifest = None  # the loaded dataset's Manifest (None for built-in ones)
        self.import_thread: ImportThread | None = None
        self._loads: list[LoadThread] = []
        self._build()
        self.refresh_datasets(select="jsb")

    # ---- layout -------------------------------------------------------------------------------
    def _build(self) -> None:
        layout = QVBoxLayout(self)
        self.dataset_list = QListWidget()
        self.dataset_list.setMaximumHeight(110)
        self.dataset_list.currentItemChanged.connect(self._dataset_chosen)
        layout.addWidget(self.dataset_list)
        # The buttons and the import progress share one place (a stack), so starting or ending
        # an import changes no layout: no relayout and full repaint of the dock at those times.
        self.top_stack = QStackedWidget()
        buttons = QWidget()
        row = QHBoxLayout(buttons)
        row.setContentsMargins(0, 0, 0, 0)
        self.new_button = QPushButton("New dataset from folder…")
        self.new_button.clicked.connect(self.new_dataset)
        self.resume_button = QPushButton("Resume import")
        self.resume_button.clicked.connect(self.resume_import)
        self.delete_button = QPushButton("Delete")
        self.delete_button.setToolTip("Delete this dataset (your MIDI files are not touched)")
        self.delete_button.clicked.connect(self.delete_dataset)
        for b in (self.new_button, self.resume_button, self.delete_button):
            row.addWidget(b)
        self.import_row = QWidget()
        irow = QHBoxLayout(self.import_row)
        irow.setContentsMargins(0, 0, 0, 0)
        self.progress_bar = QProgressBar()
        self.progress_label = QLabel("")
        self.cancel_button = QPushButton("Cancel")
        self.cancel_button.clicked.connect(self.cancel_import)
        irow.addWidget(self.progress_bar, 2)
        irow.addWidget(self.progress_label, 3)
        irow.addWidget(self.cancel_button)
        self.top_stack.addWidget(buttons)
        self.top_stack.addWidget(self.import_row)
        self.top_stack.setSizePolicy(QSizePolicy.Policy.Preferred, QSizePolicy.Policy.Fixed)
        layout.addWidget(self.top_stack)

        self.tabs = QTabWidget()
        layout.addWidget(self.tabs, 1)
        pieces_tab = QWidget()
        pl = QVBoxLayout(pieces_tab)
        self.filter_edit = QLineEdit()
        self.filter_edit.setPlaceholderText("Filter pieces by name")
        pl.addWidget(self.filter_edit)
        self.model = PiecesModel(self)
        self.proxy = PiecesProxy(self)
        self.proxy.setSourceModel(self.model)
        self.filter_edit.textChanged.connect(self.proxy.setFilterFixedString)
        self.table = QTableView()
        self.table.setModel(self.proxy)
        self.table.setSortingEnabled(True)
        self.table.sortByColumn(0, Qt.SortOrder.AscendingOrder)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.verticalHeader().hide()
        self.table.verticalHeader().setDefaultSectionSize(self.fontMetrics().height() + 6)
        self.table.verticalHeader().setSectionResizeMode(QHeaderView.ResizeMode.Fixed)
        header = self.table.horizontalHeader()
        header.setResizeContentsPrecision(40)  # measure a few rows, not thousands
        header.setSectionResizeMode(QHeaderView.ResizeMode.Interactive)   # see fit_columns
        header.setSectionResizeMode(0, QHeaderView.ResizeMode.Stretch)  # the name gets the rest
        header.setMinimumSectionSize(24)
        self.table.doubleClicked.connect(lambda index: self.open_piece(self._piece_at(index)))
        self.table.selectionModel().selectionChanged.connect(self._update_buttons)
        pl.addWidget(self.table, 1)
        brow = QGridLayout()
        self.open_button = QPushButton("Open")
        self.open_button.setToolTip("Open the piece in the piano roll (or double-click it)")
        self.open_button.clicked.connect(lambda: self.open_piece(self._first_selected()))
        self.play_button = QPushButton("Play")
        self.play_button.clicked.connect(lambda: self.play_piece(self._first_selected()))
        self.remove_button = QPushButton("Remove")
        self.remove_button.setToolTip("Take the selected pieces out of this dataset")
        self.remove_button.clicked.connect(self.remove_selected)
        self.split_combo = QComboBox()
        self.split_combo.addItem("Move to split…", None)
        for s in SPLITS:
            self.split_combo.addItem(s, s)
        self.split_combo.activated.connect(self._split_chosen)
        # Two rows of two, so the panel fits a narrow dock beside the piano roll.
        for i, w in enumerate((self.open_button, self.play_button, self.remove_button,
                               self.split_combo)):
            brow.addWidget(w, i // 2, i % 2)
        pl.addLayout(brow)
        # The buttons may be narrower than their text when the window is squeezed (the dock
        # can then be as narrow as the others, so the window still fits an 800-pixel screen).
        for button in (self.new_button, self.resume_button, self.delete_button,
                       self.cancel_button, self.open_button, self.play_button,
                       self.remove_button, self.split_combo):
            button.setMinimumWidth(48)
        self.tabs.addTab(pieces_tab, "Pieces")
        self.stats_view = StatisticsView()
        self.tabs.addTab(self.stats_view, "Statistics")
        self.problems_view = ProblemsView()
        self.tabs.addTab(self.problems_view, "Problems")
        self._update_buttons()

    def add_tab(self, widget: QWidget, title: str) -> int:
        """Add a tab (e.g. the analysis feature's style map); returns its index."""
        return self.tabs.addTab(widget, title)

    # ---- datasets -----------------------------------------------------------------------------
    def refresh_datasets(self, select: str | None = None) -> None:
        current = select or (self.dataset.name if self.dataset else None)
        self.dataset_list.blockSignals(True)
        self.dataset_list.clear()
        summaries = {info["name"]: info for info in self.store.summaries()}
        for name in dataset_names():
            builtin = name in BUILTIN
            label = f"{name} (built-in)" if builtin else name
            info = summaries.get(name)
            if info is not None:
                label += f"  ·  {info.get('pieces', 0)} pieces"
                if not info.get("complete", True):
                    label += "  ·  import interrupted"
            item = QListWidgetItem(label)
            item.setData(Qt.ItemDataRole.UserRole, name)
            self.dataset_list.addItem(item)
        self.dataset_list.blockSignals(False)
        names = [self.dataset_list.item(i).data(Qt.ItemDataRole.UserRole)
                 for i in range(self.dataset_list.count())]
        if current in names:
            self.dataset_list.setCurrentRow(names.index(current))

    def current_name(self) -> str | None:
        item = self.dataset_list.currentItem()
        return item.data(Qt.ItemDataRole.UserRole) if item else None

    def current_dataset(self) -> Dataset | None:
        return self.dataset

    def _dataset_chosen(self, item, _previous=None) -> None:
        if item is not None:
            self.load(item.data(Qt.ItemDataRole.UserRole))

    def load(self, name: str) -> None:
        """Load a dataset off the GUI thread; `dataset_loaded` follows."""
        thread = LoadThread(name, self)
        thread.loaded.connect(self._loaded)
        thread.failed.connect(lambda text: self._show_error("Cannot load the dataset", text))
        thread.finished.connect(lambda t=thread: self._forget_load(t))
        self._loads.append(thread)
        self.stats_view.summary.setText(f"Loading {name}…")
        thread.start()

    def fit_columns(self) -> None:
        """Each column but the name as wide as its values and its title (not the title plus
        room for a sort arrow, which left the names a few pixels in a narrow dock)."""
        metrics = self.table.horizontalHeader().fontMetrics()
        for column in range(1, self.model.columnCount()):
            title = str(self.model.headerData(column, Qt.Orientation.Horizontal))
            width = max(self.table.sizeHintForColumn(column), metrics.horizontalAdvance(title))
            self.table.setColumnWidth(column, width + 10)

    def _forget_load(self, thread: LoadThread) -> None:
        if thread in self._loads:
            self._loads.remove(thread)
        thread.deleteLater()

    def _loaded(self, dataset: Dataset, stats, manifest) -> None:
        if dataset.name != self.current_name():
            return  # the user has chosen another dataset meanwhile
        self.dataset, self.manifest = dataset, manifest
        self.model.set_pieces(dataset.pieces)
        self.fit_columns()
        self.stats_view.show_statistics(stats)
        self.problems_view.show_manifest(manifest)
        n = len(manifest.problems()) if manifest else 0
        self.tabs.setTabText(2, f"Problems ({n})" if n else "Problems")
        self._update_buttons()
        self.dataset_loaded.emit(dataset)

    def _manifest(self, name: str):
        if self.manifest is not None and self.manifest.name == name:
            return self.manifest
        try:
            return self.store.read(name)
        except DatasetError:
            return None

    # ---- pieces -------------------------------------------------------------------------------
    def _piece_at(self, index) -> Piece | None:
        if not index.isValid():
            return None
        return self.model.pieces[self.proxy.mapToSource(index).row()]

    def selected_pieces(self) -> list[Piece]:
        rows = self.table.selectionModel().selectedRows()
        return [p for p in (self._piece_at(i) for i in rows) if p is not None]

    def _first_selected(self) -> Piece | None:
        chosen = self.selected_pieces()
        return chosen[0] if chosen else None

    def select_piece(self, name: str) -> None:
        for row, p in enumerate(self.model.pieces):
            if p.name == name:
                index = self.proxy.mapFromSource(self.model.index(row, 0))
                self.table.selectRow(index.row())
                return

    def _playback(self):
        return self.window_.playback if self.window_ is not None else None

    def _update_buttons(self, *args) -> None:
        editable = self.dataset is not None and not self.dataset.builtin
        chosen = bool(self.table.selectionModel().selectedRows())
        importing = self.import_thread is not None
        self.open_button.setEnabled(chosen)
        playable = self._playback() is not None
        self.play_button.setEnabled(chosen and playable)
        self.play_button.setText("Play" if playable else "Play (playback unavailable)")
        self.remove_button.setEnabled(chosen and editable and not importing)
        self.split_combo.setEnabled(chosen and editable and not importing)
        tip = "" if editable else "Built-in datasets cannot be changed"
        self.remove_button.setToolTip(tip or "Take the selected pieces out of this dataset")
        self.split_combo.setToolTip(tip or "Move the selected pieces to another split")
        self.delete_button.setEnabled(editable and not importing)
        m = self.manifest if editable else None
        self.resume_button.setVisible(bool(m and not m.complete))
        self.resume_button.setEnabled(not importing)
        self.new_button.setEnabled(not importing)

    def open_piece(self, piece: Piece | None) -> None:
        if piece is None or self.window_ is None:
            return
        try:
            song = piece.song()
        except DatasetError as e:
            self._show_error("Cannot open the piece", str(e))
            return
        self.window_.open_song(song, None)
        self._status(f"Opened {piece.name} from {self.dataset.name if self.dataset else ''}")

    def play_piece(self, piece: Piece | None) -> None:
        playback = self._playback()
        if piece is None:
            return
        if playback is None:
            self._status("Playback is unavailable")
            return
        try:
            playback.play_song(piece.song())
        except DatasetError as e:
            self._show_error("Cannot play the piece", str(e))

    def remove_selected(self) -> None:
        chosen = self.selected_pieces()
        if not chosen or self.dataset is None or self.dataset.builtin:
            return
        try:
            n = self.store.remove_pieces(self.dataset.name, [p.name for p in chosen])
        except DatasetError as e:
            self._show_error("Cannot remove pieces", str(e))
            return
        self._status(f"Removed {n} pieces from {self.dataset.name} (your files are untouched)")
        self.refresh_datasets()
        self.load(self.dataset.name)

    def _split_chosen(self, index: int) -> None:
        split = self.split_combo.itemData(index)
        self.split_combo.setCurrentIndex(0)
        if split:
            self.set_selected_split(split)

    def set_selected_split(self, split: str) -> None:
        chosen = self.selected_pieces()
        if not chosen or self.dataset is None or self.dataset.builtin:
            return
        try:
            self.store.set_splits(self.dataset.name, {p.name: split for p in chosen})
        except DatasetError as e:
            self._show_error("Cannot change the split", str(e))
            return
        for p in chosen:
            p.split = split
        self.model.set_pieces(self.model.pieces)
        self._status(f"Moved {len(chosen)} pieces to {split}")

    def delete_dataset(self) -> None:
        if self.dataset is None or self.dataset.builtin or self.import_thread is not None:
            return
        name = self.dataset.name
        try:
            self.store.delete(name)
        except (DatasetError, OSError) as e:
            self._show_error("Cannot delete the dataset", str(e))
            return
        self.dataset = self.manifest = None
        self._status(f"Deleted the dataset {name} (your MIDI files are untouched)")
        self.refresh_datasets(select="jsb")

    def shutdown(self) -> None:
        """Cancel an import and wait for every thread (called when the window closes)."""
        if self.import_thread is not None:
            self.import_thread.stop_and_wait()
        for t in list(self._loads):
            t.stop_and_wait()

    # ---- messages -----------------------------------------------------------------------------
    def _status(self, text: str, timeout_ms: int = 5000) -> None:
        if self.window_ is not None:
            self.window_.show_status(text, timeout_ms)

    def _show_error(self, title: str, text: str) -> None:
        if self.window_ is not None:
            self.window_.show_error(title, text)
        else:
            self.progress_label.setText(text)


class CloseWatcher(QObject):
    """Calls `panel.shutdown()` when the window closes, so no thread outlives it."""

    def __init__(self, panel: DatasetPanel) -> None:
        super().__init__(panel)
        self.panel = panel

    def eventFilter(self, obj, event) -> bool:  # noqa: N802 (Qt name)
        if event.type() == QEvent.Type.Close:
            self.panel.shutdown()
        return False
