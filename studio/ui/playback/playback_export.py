"""File > Export Audio (WAV): render the open song with the built-in synth on a worker thread.

The render itself is `studio.midi.render.render_song` (Qt-free, progress and cancel); `RenderJob`
runs it on a QThread and reports progress at most ten times a second. The song is copied first, so
editing during the export changes nothing in the file. Muted tracks stay silent in the export, as
they are in playback. Closing the window cancels and waits.
"""

from __future__ import annotations

import time
from pathlib import Path

from PySide6.QtCore import QObject, Qt, Signal
from PySide6.QtWidgets import QFileDialog, QProgressDialog, QWidget

from studio.midi.render import RenderCancelled, RenderResult, render_song
from studio.music.song import Song
from studio.ui.worker_thread import WorkerThread


class RenderJob(WorkerThread):
    progress = Signal(float)
    done = Signal(object)  # RenderResult
    failed = Signal(str)
    cancelled = Signal()

    def __init__(self, song: Song, path: Path, audible=None, soundfont: str | None = None,
                 parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.song, self.path, self.audible, self.soundfont = song, path, audible, soundfont
        self._cancel = False
        self._last = 0.0

    def cancel(self) -> None:
        self._cancel = True

    def _progress(self, fraction: float) -> None:
        now = time.monotonic()
        if now - self._last >= 0.1 or fraction >= 1.0:
            self._last = now
            self.progress.emit(fraction)

    def run(self) -> None:
        try:
            result = render_song(self.song, self.path, soundfont=self.soundfont,
                                 audible=self.audible, progress=self._progress,
                                 cancel=lambda: self._cancel)
        except RenderCancelled:
            self.cancelled.emit()
        except Exception as e:  # shown to the user; the file is left untouched
            self.failed.emit(str(e))
        else:
            self.done.emit(result)


class AudioExport(QObject):
    """Asks for a file name, renders with a progress dialog, reports the result."""

    finished = Signal(str)  # the written path, or "" when cancelled or failed

    def __init__(self, window: QWidget, playback) -> None:
        super().__init__(window)
        self.window = window
        self.playback = playback
        self.job: RenderJob | None = None
        self.dialog: QProgressDialog | None = None

    def ask_and_export(self) -> None:
        doc = self.playback.document
        if doc is None or doc.song.note_count == 0:
            self.window.show_status("Nothing to export: the song has no notes.")
            return
        stem = doc.path.stem if getattr(doc, "path", None) else (doc.song.title or "song")
        folder = doc.path.parent if getattr(doc, "path", None) else Path.home()
        path, _ = QFileDialog.getSaveFileName(self.window, "Export Audio", str(folder / f"{stem}.wav"),
                                              "WAV audio (*.wav)")
        if path:
            self.export(Path(path) if path.lower().endswith(".wav") else Path(path + ".wav"))

    def export(self, path: Path) -> RenderJob | None:
        """Render the open song to `path` in the background."""
        if self.job is not None:
            self.window.show_status("An export is already running.")
            return None
        doc = self.playback.document
        self.job = RenderJob(doc.song.copy(), Path(path), doc.audible_track_ids(),
                             self.playback._setting("soundfont", "") or None, self)
        self.dialog = QProgressDialog(f"Rendering {Path(path).name}…", "Cancel", 0, 1000,
                                      self.window)
        self.dialog.setWindowTitle("Export Audio")
        self.dialog.setWindowModality(Qt.WindowModality.WindowModal)
        self.dialog.setMinimumDuration(300)
        self.dialog.canceled.connect(self.job.cancel)
        self.job.progress.connect(lambda f: self.dialog and self.dialog.setValue(int(f * 1000)))
        self.job.done.connect(self._done)
        self.job.failed.connect(self._failed)
        self.job.cancelled.connect(self._cancelled)
        self.job.finished.connect(self._cleanup)
        self.job.start()
        return self.job

    def _done(self, result: RenderResult) -> None:
        minutes, seconds = divmod(result.seconds, 60)
        clipped = " (the mix was clipped: lower velocities to avoid it)" if result.peak > 1 else ""
        self.window.show_status(f"Exported {result.path.name}: {int(minutes)}:{seconds:04.1f} "
                                f"of audio{clipped}.", 10000)
        self.finished.emit(str(result.path))

    def _failed(self, text: str) -> None:
        self.window.show_error("Export Audio", f"The audio file was not written.\n\n{text}")
        self.finished.emit("")

    def _cancelled(self) -> None:
        self.window.show_status("Export cancelled; no file was written.")
        self.finished.emit("")

    def _cleanup(self) -> None:
        if self.dialog is not None:
            self.dialog.reset()
            self.dialog.deleteLater()
            self.dialog = None
        if self.job is not None:
            self.job.deleteLater()
            self.job = None

    def shutdown(self) -> None:
        """Cancel a running export and wait for its thread (on window close)."""
        if self.job is not None:
            self.job.cancel()
            self.job.wait()
