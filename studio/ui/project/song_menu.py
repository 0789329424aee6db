"""The Song menu: Time Signature… and Key Signature… at the playhead's bar, Chord at Playhead…
(Ctrl+K: the chord lane's editor at the playhead's beat) and Suggest Chords (`chord_suggester`);
View > Chord Lane shows or hides the chord lane.

Each dialog shows what is in force at that bar and sets it from there on, as one undoable edit
(`studio.music.mix_and_meter`): at bar 1 it changes the song's meter or key, at a later bar it
adds a change there (or replaces the one there; choosing what the bars before have removes it).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from PySide6.QtGui import QKeySequence
from PySide6.QtWidgets import (
    QApplication,
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QLabel,
    QSpinBox,
)

from studio.music.edits import EditError
from studio.music.keys import key_name, sharps_for
from studio.music.mix_and_meter import DENOMINATORS, key_signature_edit, time_signature_edit
from studio.music.timing import bar_beat, bar_lines

if TYPE_CHECKING:
    from studio.ui.main_window import MainWindow


def playhead_bar(window: MainWindow) -> tuple[int, int]:
    """(tick of the bar line at or before the playhead, bar number)."""
    song = window.document.song
    tick = max(0, int(getattr(window.piano_roll, "playhead", None) or 0))
    start = max((t for t in bar_lines(tick, song.time_signatures) if t <= tick), default=0)
    return start, bar_beat(start, song.time_signatures)[0]


class SignatureDialog(QDialog):
    """A small form for one change at one bar; `edit()` is the edit it makes."""

    def __init__(self, window: MainWindow, title: str) -> None:
        super().__init__(window)
        self.window_ = window
        self.setWindowTitle(title)
        self.tick, self.bar = playhead_bar(window)
        self.form = QFormLayout(self)
        where = "from bar 1 (the whole song, until a change)" if self.bar == 1 else \
            f"from bar {self.bar} (the playhead's bar) on"
        self.form.addRow(QLabel(where))
        self.buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok
                                        | QDialogButtonBox.StandardButton.Cancel)
        self.buttons.accepted.connect(self.accept)
        self.buttons.rejected.connect(self.reject)
        self.error = QLabel()
        self.error.setStyleSheet("color: #d9534f;")

    def finish(self) -> None:
        self.form.addRow(self.error)
        self.form.addRow(self.buttons)

    def accept(self) -> None:
        try:
            self.window_.document.apply(self.edit())
        except EditError as e:
            self.error.setText(str(e))
            return
        super().accept()


class TimeSignatureDialog(SignatureDialog):
    def __init__(self, window: MainWindow) -> None:
        super().__init__(window, "Time Signature")
        now = window.document.song.time_signature_at(self.tick)
        self.numerator = QSpinBox()
        self.numerator.setObjectName("numerator")
        self.numerator.setRange(1, 32)
        self.numerator.setValue(now.numerator)
        self.denominator = QComboBox()
        self.denominator.setObjectName("denominator")
        for d in DENOMINATORS:
            self.denominator.addItem(str(d), d)
        self.denominator.setCurrentIndex(max(0, self.denominator.findData(now.denominator)))
        self.form.addRow("Beats in a bar", self.numerator)
        self.form.addRow("Beat value", self.denominator)
        self.finish()

    def edit(self):
        return time_signature_edit(self.window_.document.song, self.tick,
                                   self.numerator.value(), int(self.denominator.currentData()))


class KeySignatureDialog(SignatureDialog):
    def __init__(self, window: MainWindow) -> None:
        super().__init__(window, "Key Signature")
        song = window.document.song
        before = [k for k in song.key_signatures if k.tick <= self.tick]
        now = max(before, key=lambda k: k.tick) if before else None
        self.key = QComboBox()
        self.key.setObjectName("key")
        for minor in (False, True):
            for tonic in range(12):
                self.key.addItem(key_name(tonic, minor), (sharps_for(tonic, minor), minor))
        if now is not None:
            self.key.setCurrentIndex(max(0, self.key.findData((now.sharps, now.minor))))
        self.form.addRow("Key", self.key)
        self.finish()

    def edit(self):
        sharps, minor = self.key.currentData()
        return key_signature_edit(self.window_.document.song, self.tick, int(sharps), bool(minor))


def install(window: MainWindow) -> None:
    """The Song menu, between View and the features' menus."""
    menu = window.menuBar().addMenu("&Song")
    help_menu = window.menus.get("Help")
    if help_menu is not None:
        window.menuBar().insertMenu(help_menu.menuAction(), menu)
    window.menus["Song"] = menu
    for text, cls, name in (("&Time Signature…", TimeSignatureDialog, "time_signature"),
                            ("&Key Signature…", KeySignatureDialog, "key_signature")):
        action = menu.addAction(text)
        action.setObjectName(f"action_{name}")
        action.setToolTip(f"{text.replace('&', '').rstrip('…')} from the playhead's bar on")
        action.triggered.connect(lambda _=False, c=cls: c(window).open())
    menu.addSeparator()
    chord = menu.addAction("&Chord at Playhead…")
    chord.setObjectName("action_chord_at_playhead")
    chord.setShortcut(QKeySequence("Ctrl+K"))
    chord.setToolTip("Type a chord symbol at the playhead's beat (or change the one there)")
    chord.triggered.connect(window.piano_roll.chord_lane.edit_at_playhead)
    from studio.ui.project.chord_suggester import ChordSuggester

    window.chord_suggester = suggester = ChordSuggester(window)
    menu.addAction(suggester.action)
    window.piano_roll.chord_lane.suggest_requested.connect(suggester.start)
    window.about_to_close.connect(suggester.shutdown)
    app = QApplication.instance()
    if app is not None:
        app.aboutToQuit.connect(suggester.shutdown)
    _add_to_view_menu(window)


def _add_to_view_menu(window: MainWindow) -> None:
    """View > Chord Lane, after Ghost Notes."""
    view = window.menus["View"]
    toggle = window.piano_roll.chord_lane_action
    actions = view.actions()
    ghost = window.piano_roll.edit_actions["ghost_notes"]
    after = actions.index(ghost) + 1 if ghost in actions else len(actions)
    if after < len(actions):
        view.insertAction(actions[after], toggle)
    else:
        view.addAction(toggle)

