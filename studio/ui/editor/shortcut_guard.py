"""Keeping the editor's window-wide shortcuts out of the way of typing.

The piano roll's commands (Q, Ctrl+D, Ctrl+L, Delete, the arrows, D/S/G, ...) are window
shortcuts: they work wherever the keyboard focus is in the window (the roll, a button, a
checkbox, a panel, a floating dock), not only in the note canvas. Some widgets keep keys for
themselves, by accepting Qt's ShortcutOverride event for the widget that has the focus (Qt then
delivers the key to that widget and does not fire the shortcut):

- text and number fields (line edits, text edits, spin boxes such as the tempo box, editable
  combo boxes): every key of an editor shortcut, so typing "q" in a name, Up in the tempo box or
  Ctrl+D in a text never edits notes;
- lists, tables, sliders, scroll bars and plain combo boxes: the keys they move with (arrows,
  Page Up/Down, Home/End) and, for lists and tables, Select All and Copy.

Everything else (the roll, buttons, checkboxes, labels, the window) lets the shortcut fire. The
guard watches only the widget that has the focus (it follows `QApplication.focusChanged`), so it
costs nothing for the other events of the application.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable

from PySide6.QtCore import QEvent, QObject, Qt
from PySide6.QtGui import QKeyEvent, QKeySequence
from PySide6.QtWidgets import (
    QAbstractItemView,
    QAbstractSlider,
    QAbstractSpinBox,
    QApplication,
    QComboBox,
    QLineEdit,
    QPlainTextEdit,
    QTextEdit,
    QWidget,
)

NAVIGATION_KEYS = {Qt.Key.Key_Left, Qt.Key.Key_Right, Qt.Key.Key_Up, Qt.Key.Key_Down,
                   Qt.Key.Key_PageUp, Qt.Key.Key_PageDown, Qt.Key.Key_Home, Qt.Key.Key_End}
LIST_KEYS = (QKeySequence.StandardKey.SelectAll, QKeySequence.StandardKey.Copy)


def is_text_input(widget: QWidget | None) -> bool:
    """Does `widget` take typed text (or sit inside a spin box or editable combo box that does)?"""
    while widget is not None:
        if isinstance(widget, (QLineEdit, QTextEdit, QPlainTextEdit, QAbstractSpinBox)):
            return not (isinstance(widget, (QTextEdit, QPlainTextEdit)) and widget.isReadOnly())
        if isinstance(widget, QComboBox):
            return widget.isEditable()
        if widget.isWindow():
            return False
        widget = widget.parentWidget()
    return False


def moves_with_keys(widget: QWidget | None) -> bool:
    """Lists, tables, sliders, scroll bars and combo boxes: the arrows move them."""
    return isinstance(widget, (QAbstractItemView, QAbstractSlider, QComboBox)) or (
        widget is not None and isinstance(widget.parentWidget(), QAbstractItemView))


def keeps_key(widget: QWidget, event: QKeyEvent) -> bool:
    """Should `widget` (with the focus) have this key rather than an editor shortcut?"""
    if is_text_input(widget):
        return True
    if moves_with_keys(widget):
        if event.key() in NAVIGATION_KEYS:
            return True
        item_view = isinstance(widget, QAbstractItemView) or isinstance(
            widget.parentWidget(), QAbstractItemView)
        return item_view and any(event.matches(k) for k in LIST_KEYS)
    return False


class ShortcutGuard(QObject):
    """Watches the focus widget's ShortcutOverride events; `sequences()` gives the shortcuts it
    guards (the editor's), so other window shortcuts are left alone."""

    def __init__(self, sequences: Callable[[], Iterable[QKeySequence]],
                 parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._sequences = sequences
        self._watched: QWidget | None = None
        app = QApplication.instance()
        app.focusChanged.connect(self._focus_changed)
        self._focus_changed(None, QApplication.focusWidget())

    def _focus_changed(self, old: QWidget | None, new: QWidget | None) -> None:
        if self._watched is not None:
            try:
                self._watched.removeEventFilter(self)
            except RuntimeError:   # already deleted
                pass
        self._watched = new
        if new is not None:
            new.installEventFilter(self)

    def _is_editor_key(self, event: QKeyEvent) -> bool:
        pressed = QKeySequence(event.keyCombination())
        return any(s.matches(pressed) == QKeySequence.SequenceMatch.ExactMatch
                   for s in self._sequences())

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:  # noqa: N802 (Qt name)
        if (event.type() == QEvent.Type.ShortcutOverride and isinstance(watched, QWidget)
                and self._is_editor_key(event) and keeps_key(watched, event)):
            event.accept()     # the widget wants the key: no shortcut, a key press instead
            return True
        return False
