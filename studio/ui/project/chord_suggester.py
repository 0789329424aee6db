"""Song > Suggest Chords: the pop accompanist's chords for the current track's melody, put in the
chord lane of the selected bars (the ruler's range or the selected notes), or of the whole
melody when nothing is selected.

The suggestion runs on a worker thread (`studio.ui.jobs`) over a copy of the song; the result is
applied as one undoable edit (one Ctrl+Z takes it back) if the same song is still open. A drum
track or a track of chords gets the accompany mode's own message.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from PySide6.QtCore import QObject
from PySide6.QtGui import QAction

from studio.ml.errors import GenerationError
from studio.ml.generation.chord_suggestion import suggest_chords, suggestion_edit
from studio.ui.jobs import JobRunner

if TYPE_CHECKING:
    from studio.ui.main_window import MainWindow


class ChordSuggestionRunner(JobRunner):
    unexpected = "Chord suggestion failed unexpectedly"
    cancel_errors = ()
    shutdown_wait_ms = 30_000


class ChordSuggester(QObject):
    def __init__(self, window: MainWindow) -> None:
        super().__init__(window)
        self.window_ = window
        self.runner = ChordSuggestionRunner(self)
        self.runner.finished.connect(self._finished)
        self.runner.failed.connect(self._failed)
        self.action = QAction("Suggest &Chords", window)
        self.action.setObjectName("action_suggest_chords")
        self.action.setStatusTip("Fill the chord lane of the selected bars (or the whole melody) "
                                 "with chords that suit the current track's melody")
        self.action.setToolTip(self.action.statusTip())
        self.action.triggered.connect(self.start)
        self.runner.running_changed.connect(lambda busy: self.action.setEnabled(not busy))
        self._song = None
        self.last_message = ""

    def start(self) -> None:
        window = self.window_
        document = window.document
        track = document.current_track()
        if track is None or not track.notes:
            self._failed("Choose the track that holds the melody first (it has no notes)")
            return
        span = window.piano_roll.selection_range()
        song = document.song
        copy = song.copy()
        self._song = song
        track_id = track.id
        start, end = span if span is not None else (None, None)
        window.show_status(f"Suggesting chords for {track.name or 'the melody'}…", 0)

        def job(thread):
            return suggest_chords(copy, track_id, start, end,
                                  cancel=thread.stop_requested)

        self.runner.start_job(job)

    def _finished(self, suggestion) -> None:
        document = self.window_.document
        if document.song is not self._song:   # another song was opened meanwhile
            self.window_.show_status("Chord suggestion dropped: another song is open now")
            return
        try:
            document.apply(suggestion_edit(document.song, suggestion))
        except (GenerationError, ValueError, KeyError) as e:
            self._failed(str(e))
            return
        self.window_.piano_roll.show_chord_lane(True)
        self.last_message = suggestion.describe(document.song)
        self.window_.show_status(self.last_message)

    def _failed(self, message: str) -> None:
        self.last_message = f"Cannot suggest chords: {message}"
        self.window_.show_error("Suggest Chords", self.last_message)

    def shutdown(self) -> None:
        self.runner.shutdown()
