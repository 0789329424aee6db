"""The style critic's results, side by side: one row per (representation, classifier) with the
cross-validated accuracy and precision / recall per class, and the confusion matrix of the
selected row (rows: the true dataset, columns: what the critic said; shaded by share of the row).
"""

from __future__ import annotations

from collections.abc import Sequence

from PySide6.QtCore import Qt
from PySide6.QtGui import QColor
from PySide6.QtWidgets import (
    QAbstractItemView,
    QHeaderView,
    QLabel,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from studio.ml.analysis.critic import CLASSIFIERS, CriticResult


def _cell(text: str, tip: str = "", align_right: bool = True) -> QTableWidgetItem:
    item = QTableWidgetItem(text)
    item.setFlags(Qt.ItemFlag.ItemIsSelectable | Qt.ItemFlag.ItemIsEnabled)
    if align_right:
        item.setTextAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
    if tip:
        item.setToolTip(tip)
    return item


def _centred(text: str, tip: str = "") -> QTableWidgetItem:
    item = _cell(text, tip)
    item.setTextAlignment(Qt.AlignmentFlag.AlignCenter)
    return item


def _shade(share: float) -> QColor:
    """White for 0, a clear green for 1."""
    share = max(0.0, min(1.0, share))
    return QColor(int(255 - 120 * share), int(255 - 40 * share), int(255 - 120 * share))


class CriticView(QWidget):
    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.results: list[CriticResult] = []
        self.summary = QLabel("Press Run critic to see how well each representation tells the "
                              "datasets apart.")
        self.summary.setWordWrap(True)
        self.table = QTableWidget(0, 3)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.table.verticalHeader().setVisible(False)
        self.table.itemSelectionChanged.connect(self._show_confusion)
        self.confusion_title = QLabel("")
        self.confusion = QTableWidget(0, 0)
        self.confusion.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.confusion.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.Stretch)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.summary)
        layout.addWidget(self.table, 3)
        layout.addWidget(self.confusion_title)
        layout.addWidget(self.confusion, 2)

    def set_results(self, results: Sequence[CriticResult]) -> None:
        self.results = list(results)
        t = self.table
        t.clearSelection()
        if not self.results:
            t.setRowCount(0)
            self.confusion.setRowCount(0)
            self.confusion.setColumnCount(0)
            self.confusion_title.setText("")
            return
        classes = self.results[0].classes
        headers = ["Representation", "Classifier", "Accuracy"] + [f"{c}\nprecision / recall"
                                                                  for c in classes]
        t.setColumnCount(len(headers))
        t.setHorizontalHeaderLabels(headers)
        t.setRowCount(len(self.results))
        chance = self.results[0].chance
        for i, r in enumerate(self.results):
            t.setItem(i, 0, _cell(r.representation, align_right=False))
            t.setItem(i, 1, _cell(CLASSIFIERS.get(r.classifier, r.classifier), align_right=False))
            acc = _cell(f"{r.accuracy:.1%} ± {r.accuracy_std:.0%}",
                        "share of segments whose dataset the critic named right, on pieces it "
                        "had not seen (cross-validated); ± is the spread over the folds")
            acc.setBackground(_shade((r.accuracy - chance) / max(1e-9, 1 - chance)))
            t.setItem(i, 2, acc)
            for j, c in enumerate(classes):
                t.setItem(i, 3 + j, _centred(
                    f"{r.precision[j]:.2f} / {r.recall[j]:.2f}",
                    f"precision: of the segments called '{c}', the share that were; recall: of "
                    f"the '{c}' segments, the share found"))
        t.resizeColumnsToContents()
        t.horizontalHeader().setStretchLastSection(True)
        best = max(self.results, key=lambda r: r.accuracy)
        self.summary.setText(
            f"{self.results[0].n_samples} segments, {len(self.results[0].fold_accuracy)}-fold "
            f"cross-validation by piece. Guessing the biggest dataset would score {chance:.0%}; "
            f"best: {best.title} with {best.accuracy:.1%}.")
        t.selectRow(self.results.index(best))

    def _show_confusion(self) -> None:
        rows = self.table.selectionModel().selectedRows() if self.table.selectionModel() else []
        if not rows or not self.results:
            return
        r = self.results[rows[0].row()]
        n = len(r.classes)
        c = self.confusion
        c.setRowCount(n)
        c.setColumnCount(n)
        c.setHorizontalHeaderLabels([f"said {x}" for x in r.classes])
        c.setVerticalHeaderLabels([f"is {x}" for x in r.classes])
        totals = r.confusion.sum(axis=1)
        for i in range(n):
            for j in range(n):
                item = _centred(str(int(r.confusion[i, j])))
                share = r.confusion[i, j] / totals[i] if totals[i] else 0.0
                item.setBackground(_shade(share) if i == j else
                                   QColor(255, int(255 - 90 * share), int(255 - 90 * share)))
                c.setItem(i, j, item)
        self.confusion_title.setText(f"Confusion matrix: {r.title}")
