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
from PySide6.QtWidgets import QCheckBox, QFileDialog, QGridLayout, QProgressDialog, QWidget

from studio.midi.render import RenderCancelled, RenderResult, render_song
from studio.music.song import Song
from studio.ui.worker_thread import WorkerThread

NORMALIZE_DBFS = -1.0   # the peak of a normalized export


class RenderJob(WorkerThread):
    progress = Signal(float)
    done = Signal(object)  # RenderResult
    failed = Signal(str)
    cancelled = Signal()

    def __init__(self, song: Song, path: Path, audible=None, soundfont: str | None = None,
                 parent: QObject | None = None, normalize_dbfs: float | None = None) -> None:
        super().__init__(parent)
        self.song, self.path, self.audible, self.soundfont = song, path, audible, soundfont
        self.normalize_dbfs = normalize_dbfs
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
                                 cancel=lambda: self._cancel,
                                 normalize_dbfs=self.normalize_dbfs)
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

    def ask_and_export(self) -> QFileDialog | None:
        """The save dialog, with a "Normalize to -1 dBFS" box (remembered); opened window-modal,
        the export starts when a file is chosen."""
        doc = self.playback.document
        if doc is None or doc.song.note_count == 0:
            self.window.show_status("Nothing to export: the song has no notes.")
            return None
        stem = doc.path.stem if getattr(doc, "path", None) else (doc.song.title or "song")
        folder = doc.path.parent if getattr(doc, "path", None) else Path.home()
        dialog = QFileDialog(self.window, "Export Audio", str(folder / f"{stem}.wav"),
                             "WAV audio (*.wav)")
        dialog.setObjectName("export_audio_dialog")
        dialog.setAcceptMode(QFileDialog.AcceptMode.AcceptSave)
        dialog.setDefaultSuffix("wav")
        dialog.setOption(QFileDialog.Option.DontUseNativeDialog)   # to hold the box below
        normalize = QCheckBox(f"Normalize: bring the loudest moment to {NORMALIZE_DBFS:g} dBFS")
        normalize.setObjectName("normalize_box")
        normalize.setToolTip("The synth leaves headroom (a full song peaks near -14 dBFS); "
                             "normalizing makes the file as loud as it can be without clipping")
        normalize.setChecked(self._normalize_setting())
        grid = dialog.layout()
        if isinstance(grid, QGridLayout):
            grid.addWidget(normalize, grid.rowCount(), 0, 1, grid.columnCount())
        dialog.normalize_box = normalize

        def chosen(path: str) -> None:
            settings = getattr(self.playback, "settings", None)
            if settings is not None:
                settings.setValue("export/normalize", normalize.isChecked())
            path_ = Path(path) if path.lower().endswith(".wav") else Path(path + ".wav")
            self.export(path_, NORMALIZE_DBFS if normalize.isChecked() else None)

        dialog.fileSelected.connect(chosen)
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        dialog.open()
        return dialog

    def _normalize_setting(self) -> bool:
        settings = getattr(self.playback, "settings", None)
        value = settings.value("export/normalize", True) if settings is not None else True
        return value not in (False, "false", "0", 0)

    def export(self, path: Path, normalize_dbfs: float | None = None) -> RenderJob | None:
        """Render the open song to `path` in the background (normalized to `normalize_dbfs`
        when given)."""
        if self.job is not None:
            self.window.show_status("An export is already running.")
            return None
        doc = self.playback.document
        self.job = RenderJob(doc.song.copy(), Path(path), doc.audible_track_ids(),
                             self.playback._setting("soundfont", "") or None, self,
                             normalize_dbfs)
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
        clipped = " (the mix was clipped: lower velocities or normalize to avoid it)" \
            if result.peak > 1.0001 else ""
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
