"""The window's global keys wherever the focus is, except while typing text.

Qt gives a key to the focused widget first when that widget claims it (a ShortcutOverride it
accepts), so a spin box swallows Space (it might be typed) and Play does nothing while the
focus sits in, say, the Temperature box. Numbers have no spaces: this filter lets Space through
to the window's Play shortcut from every spin box of the window. Text fields (QLineEdit,
QTextEdit, an editable combo box) keep their keys: there a Space is a space.
"""

from __future__ import annotations

from PySide6.QtCore import QEvent, QObject, Qt
from PySide6.QtGui import QKeyEvent
from PySide6.QtWidgets import QAbstractSpinBox, QApplication, QWidget

PASSED_THROUGH = {(Qt.Key.Key_Space, Qt.KeyboardModifier.NoModifier)}


def number_box(widget: QWidget | None) -> bool:
    """A spin box, or the line edit inside one: a field of numbers, not of text."""
    while widget is not None:
        if isinstance(widget, QAbstractSpinBox):
            return True
        if widget.isWindow():
            return False
        widget = widget.parentWidget()
    return False


class WindowKeys(QObject):
    """Lets Space through to the window's Play from every number box of `window`.

    The filter sits only on the number box that has the focus (followed through the
    application's focusChanged), not on the application: a Python filter on every event of the
    application would cost each paint and mouse move a call into Python."""

    def __init__(self, window: QWidget) -> None:
        super().__init__(window)
        self.window_ = window
        self._watched: QWidget | None = None
        app = QApplication.instance()
        if app is not None:
            app.focusChanged.connect(self._focus_changed)

    def _focus_changed(self, _old: QWidget | None, new: QWidget | None) -> None:
        watched, self._watched = self._watched, None
        if watched is not None:
            try:
                watched.removeEventFilter(self)
            except RuntimeError:   # already deleted
                pass
        if new is not None and new.window() is self.window_ and number_box(new):
            new.installEventFilter(self)
            self._watched = new

    def eventFilter(self, obj: QObject, event: QEvent) -> bool:  # noqa: N802 (Qt name)
        if event.type() != QEvent.Type.ShortcutOverride:
            return False
        assert isinstance(event, QKeyEvent)
        modifiers = event.modifiers() & ~Qt.KeyboardModifier.KeypadModifier
        if (Qt.Key(event.key()), modifiers) not in PASSED_THROUGH:
            return False
        return True   # not delivered, so not accepted: the window's shortcut runs
