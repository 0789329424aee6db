"""Work is never lost: autosave to the recovery folder, and recovery after a crash.

Each window is a session: `recovery_dir()/session-<uuid>.studio` (its autosave) and
`session-<uuid>.lock` (a QLockFile the session holds while it runs). Every `interval_ms` (2
minutes by default, the `autosave_minutes` setting), if the song changed since the last autosave,
the project is written there atomically. A clean exit, or saving the project, removes the
autosave. At launch, an autosave whose lock can be taken (its process died: a crash, a kill, a
power cut) is offered back by `RecoveryDialog`; a session that is still running keeps its lock,
so a second Studio window never steals it.
"""

from __future__ import annotations

import time
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from PySide6.QtCore import QLockFile, QObject, QTimer
from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QLabel,
    QListWidget,
    QListWidgetItem,
    QPushButton,
    QVBoxLayout,
)

from studio.music.project import Project, ProjectError, load_project, save_project
from studio.paths import recovery_dir

if TYPE_CHECKING:
    from studio.ui.main_window import MainWindow

DEFAULT_INTERVAL_MS = 2 * 60 * 1000


class Autosave(QObject):
    """The autosave of one window: a lock held while it lives, a timer, one recovery file."""

    def __init__(self, window: MainWindow, interval_ms: int = DEFAULT_INTERVAL_MS) -> None:
        super().__init__(window)
        self.window = window
        name = f"session-{uuid.uuid4().hex}"
        folder = recovery_dir()
        self.path = folder / f"{name}.studio"
        self.lock = QLockFile(str(folder / f"{name}.lock"))
        self.lock.setStaleLockTime(0)
        self.lock.tryLock(0)
        self.saves = 0                      # autosaves written (for tests and the status bar)
        self.dirty = False
        self.timer = QTimer(self)
        self.timer.setInterval(max(10, int(interval_ms)))
        self.timer.timeout.connect(self.save_if_changed)
        self.timer.start()
        doc = window.document
        doc.changed.connect(self._mark_dirty)
        doc.song_replaced.connect(lambda: setattr(self, "dirty", doc.is_modified))
        doc.undo_stack.cleanChanged.connect(self._clean_changed)

    def set_interval(self, interval_ms: int) -> None:
        self.timer.setInterval(max(10, int(interval_ms)))

    def _mark_dirty(self) -> None:
        self.dirty = True

    def _clean_changed(self, clean: bool) -> None:
        if clean:  # saved: the project file is newer than any autosave
            self.discard()

    def save_if_changed(self) -> bool:
        if not self.dirty:
            return False
        return self.save_now()

    def save_now(self, path: Path | None = None) -> bool:
        """Write the recovery file now (or a copy to `path`); False when the disk refuses."""
        try:
            save_project(path or self.path, self.window.project_snapshot(recovery=True),
                         keep_backup=False)
        except ProjectError as e:
            self.window.show_status(f"Autosave failed: {e.reason}")
            return False
        if path is None:
            self.dirty = False
            self.saves += 1
        return True

    def keep_copy(self) -> Path | None:
        """Keep the current song as an orphan recovery file (offered at the next launch)."""
        path = recovery_dir() / f"session-{uuid.uuid4().hex}.studio"
        return path if self.save_now(path) else None

    def discard(self) -> None:
        self.dirty = False
        self.path.unlink(missing_ok=True)

    def close(self) -> None:
        """A clean exit: nothing to recover."""
        self.timer.stop()
        self.discard()
        self.lock.unlock()


@dataclass
class Recoverable:
    """An autosave left by a session that did not exit cleanly."""

    path: Path
    lock: QLockFile
    saved_at: float
    project: Project | None = None
    error: str = ""

    @property
    def title(self) -> str:
        if self.project is None:
            return self.path.name
        info = self.project.settings.get("recovery", {})
        source = info.get("source_path")
        name = self.project.song.title or (Path(source).stem if source else "Untitled")
        return f"{name} ({self.project.song.note_count} notes)"

    def describe(self) -> str:
        when = time.strftime("%Y-%m-%d %H:%M", time.localtime(self.saved_at))
        if self.error:
            return f"{self.path.name}, {when}: damaged ({self.error})"
        return f"{self.title}, autosaved {when}"

    def release(self) -> None:
        self.lock.unlock()

    def remove(self) -> None:
        self.path.unlink(missing_ok=True)
        self.lock.unlock()
        Path(self.path.with_suffix(".lock")).unlink(missing_ok=True)


def find_recoverable(folder: Path | None = None) -> list[Recoverable]:
    """Autosaves whose session is gone (its lock is free), newest first. Their locks are taken,
    so no other window offers them at the same time; call release() or remove() on each."""
    folder = folder or recovery_dir()
    out = []
    for path in folder.glob("session-*.studio"):
        lock = QLockFile(str(path.with_suffix(".lock")))
        lock.setStaleLockTime(0)
        if not lock.tryLock(0):
            continue  # a running session
        item = Recoverable(path, lock, path.stat().st_mtime)
        try:
            item.project = load_project(path)
        except ProjectError as e:
            item.error = e.reason
        out.append(item)
    out.sort(key=lambda r: r.saved_at, reverse=True)
    return out


class RecoveryDialog(QDialog):
    """Offers autosaves of sessions that ended without saving: Recover / Discard / Not Now."""

    def __init__(self, window: MainWindow, items: list[Recoverable]) -> None:
        super().__init__(window)
        self.setObjectName("recovery_dialog")
        self.setWindowTitle("Recover unsaved work")
        self.window_ = window
        self.items = items
        text = QLabel("Studio did not close properly last time. This unsaved work was kept:")
        text.setWordWrap(True)
        self.list = QListWidget(self)
        for item in items:
            row = QListWidgetItem(item.describe())
            self.list.addItem(row)
        self.list.setCurrentRow(0)
        buttons = QDialogButtonBox(self)
        self.recover_button = QPushButton("Recover")
        self.recover_button.setDefault(True)
        self.discard_button = QPushButton("Discard All")
        self.later_button = QPushButton("Not Now")
        buttons.addButton(self.recover_button, QDialogButtonBox.ButtonRole.AcceptRole)
        buttons.addButton(self.discard_button, QDialogButtonBox.ButtonRole.DestructiveRole)
        buttons.addButton(self.later_button, QDialogButtonBox.ButtonRole.RejectRole)
        self.recover_button.clicked.connect(self.recover)
        self.discard_button.clicked.connect(self.discard_all)
        self.later_button.clicked.connect(self.later)
        layout = QVBoxLayout(self)
        layout.addWidget(text)
        layout.addWidget(self.list)
        layout.addWidget(buttons)

    def recover(self) -> None:
        row = max(0, self.list.currentRow())
        item = self.items[row]
        if item.project is None:
            self.window_.show_error("Cannot recover", f"{item.path.name} is damaged: {item.error}")
            return
        if self.window_.recover_project(item.project):
            item.remove()
            for other in self.items:
                if other is not item:
                    other.release()
            self.accept()

    def discard_all(self) -> None:
        for item in self.items:
            item.remove()
        self.accept()

    def later(self) -> None:
        self.reject()

    def reject(self) -> None:
        """Not now (or the dialog closed): the autosaves stay for the next launch."""
        for item in self.items:
            item.release()
        super().reject()
