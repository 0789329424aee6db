"""The Preferences dialog: a tab per page. Features add pages by appending
`(title, factory)` to `window.preferences_pages`; `factory(parent) -> QWidget` is called each time
the dialog opens, and a page applies its changes as they are made (to `window.settings`).
Studio's own page, "Editor", sets the autosave interval and whether the view follows playback."""

from __future__ import annotations

from typing import TYPE_CHECKING

from PySide6.QtWidgets import (
    QCheckBox,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QLabel,
    QSpinBox,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

if TYPE_CHECKING:
    from studio.ui.main_window import MainWindow


class PreferencesDialog(QDialog):
    def __init__(self, window: MainWindow) -> None:
        super().__init__(window)
        self.setObjectName("preferences_dialog")
        self.setWindowTitle("Preferences")
        self.resize(560, 420)
        self.tabs = QTabWidget(self)
        for title, factory in window.preferences_pages:
            try:
                page = factory(self.tabs)
            except Exception as e:  # one broken page must not take the dialog down
                page = QLabel(f"This page could not be shown: {e}")
            self.tabs.addTab(page, title.replace("&", "&&"))  # a title, not a mnemonic
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close, self)
        buttons.rejected.connect(self.accept)
        layout = QVBoxLayout(self)
        layout.addWidget(self.tabs)
        layout.addWidget(buttons)


def editor_page(window: MainWindow):
    """The factory of the "Editor" page."""

    def build(parent: QWidget) -> QWidget:
        page = QWidget(parent)
        form = QFormLayout(page)
        minutes = QSpinBox(page)
        minutes.setObjectName("autosave_minutes")
        minutes.setRange(1, 60)
        minutes.setSuffix(" min")
        minutes.setValue(window.autosave_minutes())
        minutes.setToolTip("How often unsaved work is copied to the recovery folder")
        minutes.valueChanged.connect(window.set_autosave_minutes)
        form.addRow("Autosave every", minutes)
        follow = QCheckBox("Scroll the piano roll with the playhead during playback", page)
        follow.setChecked(window.piano_roll.follow_playhead)
        follow.toggled.connect(window.piano_roll.follow_box.setChecked)
        form.addRow("Playback", follow)
        return page

    return build
